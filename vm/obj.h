/*
** obj.h -- runtime objects shared by reference between goroutines
** (channels, timers, and later sync primitives and shared tables).
**
** An object is reference-counted: every userdata that holds it, every
** marshalled value that carries it and every runtime structure that
** points at it owns one reference.  In a given lua_State an object is
** always the same userdata (interned in a weak registry table), so `==`
** and table keys work across transfers.
*/
#ifndef lugo_obj_h
#define lugo_obj_h

#include <lua.h>
#include <lauxlib.h>
#include "atomic.h"

typedef struct lugo_obj lugo_obj;

#define LUGO_NOBJTYPES 16

typedef struct lugo_objtype {
  int id;                       /* 0..LUGO_NOBJTYPES-1, unique per type */
  const char *tname;            /* metatable __name */
  void (*free)(lugo_obj *o);    /* called when the last reference goes */
  /* [-0, +0, m] add methods and metamethods to the metatable on top; run
  ** once per state, when the first object of the type enters it */
  void (*metatable)(lua_State *L);
  /* NULL for an object that counts its own references; else the object
  ** whose count it shares (a frozen table's nodes count on their graph,
  ** so cycles inside a frozen graph cost nothing: shared.c) */
  lugo_obj *(*owner)(lugo_obj *o);
} lugo_objtype;

struct lugo_obj {
  lugo_aint refs;               /* atomic */
  const lugo_objtype *type;     /* immutable */
  lugo_aptr race;               /* atomic: the race detector's record of
                                   it, made on first use (race.c) */
};

/* race.c: free an object's record */
void lugo__race_objfree(void *race);

/* The object is going: free its race record (once, whichever of its free
** paths gets here first). */
static inline void lugo__obj_racefree(lugo_obj *o) {
  void *race = lugo_xchg(&o->race, NULL);
  if (race != NULL) lugo__race_objfree(race);
}

void lugo__obj_init(lugo_obj *o, const lugo_objtype *t);  /* refs = 1 */
void lugo__obj_grab(lugo_obj *o);                         /* Any thread. */
void lugo__obj_release(lugo_obj *o);                      /* Any thread. */

/* [-0, +(0|1), m] Push o's userdata if o is interned in L already (then
** L holds a reference to it: o is alive and is the object that userdata
** was made for); returns 1 if it pushed. */
int lugo__obj_pushknown(lua_State *L, lugo_obj *o);

/* [-0, +1, m] Push the interned userdata of o (grabbing a reference for it
** if it is new in this state).  The type's metatable must be registered. */
void lugo__obj_push(lua_State *L, lugo_obj *o);

/* [-0, +0, -] The object held by the userdata at idx if it is a lugo object
** (of any type when t is NULL), else NULL. */
lugo_obj *lugo__obj_test(lua_State *L, int idx, const lugo_objtype *t);

/* [-0, +0, v] As lugo__obj_test, raising a type error naming t->tname. */
lugo_obj *lugo__obj_check(lua_State *L, int idx, const lugo_objtype *t);

/* [-0, +0, m] In a type's metatable (on top): __index = the methods,
** __tostring = tostring, or "<__name>: <address>" when NULL. */
void lugo__obj_methods(lua_State *L, const luaL_Reg *methods,
                       lua_CFunction tostring);

/* [-0, +0, v] As lugo__obj_test, raising "bad argument #idx to 'fname'
** (what expected, got ...)": methods name themselves, since a call
** through pcall leaves Lua no name to report. */
lugo_obj *lugo__obj_argerror(lua_State *L, int idx, const char *what,
                             const char *fname);
static inline lugo_obj *lugo__obj_checkarg(lua_State *L, int idx,
                                           const lugo_objtype *t,
                                           const char *what,
                                           const char *fname) {
  lugo_obj *o = lugo__obj_test(L, idx, t);
  return o ? o : lugo__obj_argerror(L, idx, what, fname);
}

/* [-0, +0, -] Is registry key k (a light userdata) one of lugo's own that
** a pooled state keeps (object metatables, the intern table)? */
int lugo__obj_keepkey(lua_State *L, int reg, void *k);

/* [-0, +0, m] Give the table on top a new metatable {field = f}. */
void lugo__setmetafn(lua_State *L, const char *field, lua_CFunction f);

/* [-0, +1, m] Push t's metatable in L, building it on first use: __gc
** releases, __name is set, __lugotype marks it, then t->metatable. */
void lugo__obj_metatable(lua_State *L, const lugo_objtype *t);

#endif
