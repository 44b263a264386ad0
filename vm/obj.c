/*
** obj.c -- reference counting and per-state interning of runtime objects.
** Reference counts are atomics touched by any thread; interning tables live
** in one lua_State and are touched by its goroutine only.
*/
#include "obj.h"
#include "scheduler.h"

#include <lauxlib.h>
#include <stdlib.h>

static const char INTERN_KEY = 'i';  /* registry key (address) */
static const char TYPE_FIELD[] = "__lugotype";

void lugo__obj_init(lugo_obj *o, const lugo_objtype *t) {
  lugo_store_relaxed(&o->refs, 1);
  o->type = t;
  lugo_store_relaxed(&o->race, NULL);
}

/* the object whose count o uses (itself, or a frozen graph) */
static inline lugo_obj *counted(lugo_obj *o) {
  return o->type->owner ? o->type->owner(o) : o;
}

void lugo__obj_grab(lugo_obj *o) {
  o = counted(o);
  /* relaxed: the grabber already holds a reference, nothing to order */
  atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
}

void lugo__obj_release(lugo_obj *o) {
  o = counted(o);
  /* acq_rel: all uses by other holders happen before the free */
  if (atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) == 1) {
    lugo__obj_racefree(o);
    o->type->free(o);
  }
}

static int obj_gc(lua_State *L) {
  lugo_obj **box = (lugo_obj **)lua_touserdata(L, 1);
  lugo_G *g = lugo__G(L);
  if (g != NULL && g->lastbox == (void *)box) g->lastbox = NULL;  /* see
                                                         lugo__obj_test */
  if (box && *box) {
    lugo__obj_release(*box);
    *box = NULL;
  }
  return 0;
}

/* "sync.Mutex: 0x..." for any object, by its metatable's __name */
static int obj_tostring(lua_State *L) {
  const char *name = "lugo object";
  if (luaL_getmetafield(L, 1, "__name") == LUA_TSTRING)
    name = lua_tostring(L, -1);
  lua_pushfstring(L, "%s: %p", name, (void *)lugo__obj_test(L, 1, NULL));
  return 1;
}

void lugo__obj_methods(lua_State *L, const luaL_Reg *methods,
                       lua_CFunction tostring) {
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, tostring ? tostring : obj_tostring);
  lua_setfield(L, -2, "__tostring");
}

void lugo__setmetafn(lua_State *L, const char *field, lua_CFunction f) {
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, field);
  lua_setmetatable(L, -2);
}

/* push the weak intern table */
static void pushintern(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &INTERN_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &INTERN_KEY);
  }
}

void lugo__obj_push(lua_State *L, lugo_obj *o) {
  lugo_obj **box;
  pushintern(L);
  if (lua_rawgetp(L, -1, o) == LUA_TUSERDATA) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  box = (lugo_obj **)lua_newuserdatauv(L, sizeof(*box), 0);
  *box = NULL;
  lugo__obj_metatable(L, o->type);
  lua_setmetatable(L, -2);
  lugo__obj_grab(o);
  *box = o;
  lua_pushvalue(L, -1);
  lua_rawsetp(L, -3, o);
  lua_remove(L, -2);
}

int lugo__obj_pushknown(lua_State *L, lugo_obj *o) {
  /* an entry of the weak table is never a finalized userdata: Lua clears
  ** those from weak values before their finalizers run (lgc.c, atomic).
  ** Nothing here allocates, so no finalizer can intern anything between
  ** the caller reading o and this probe. */
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &INTERN_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_rawgetp(L, -1, o) == LUA_TUSERDATA) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 2);
  return 0;
}

/* The goroutine remembers the last object it checked (g->lastbox, of
** type g->lasttype): a loop calling one object's methods checks its
** metatable once.  Safe because a box lives until its __gc (obj_gc),
** which forgets it, and its object never changes. */
lugo_obj *lugo__obj_test(lua_State *L, int idx, const lugo_objtype *t) {
  lugo_obj **box = (lugo_obj **)lua_touserdata(L, idx);
  const lugo_objtype *bt;
  if (box == NULL) return NULL;
  if (t != NULL) {  /* the fast path: compare with t's metatable */
    lugo_G *g = lugo__G(L);
    int same;
    /* a hit needs the same object in the box, not only the same address:
    ** a box freed without its __gc (debug.setmetatable(box, nil), or its
    ** metatable's __gc removed through debug.getmetatable) is not
    ** forgotten, and its address may come back as another userdata.  The
    ** object cached is alive either way (that box's reference was never
    ** released), and rawlen (0 for a light userdata) keeps *box in the
    ** userdata's memory. */
    if (g != NULL && g->lastbox == (void *)box && g->lasttype == t &&
        lua_rawlen(L, idx) == sizeof(*box) && *box == g->lastobj)
      return *box;
    if (!lua_getmetatable(L, idx)) return NULL;
    if (g != NULL && g->objmt[t->id] != NULL) {
      same = lua_topointer(L, -1) == g->objmt[t->id];
      lua_pop(L, 1);
    } else {
      lua_rawgetp(L, LUA_REGISTRYINDEX, t);
      same = lua_rawequal(L, -1, -2);
      /* a pooled state's metatable, new to this goroutine: note it */
      if (same && g != NULL) g->objmt[t->id] = lua_topointer(L, -1);
      lua_pop(L, 2);
    }
    if (same && g != NULL && *box != NULL) {
      g->lastbox = box;
      g->lastobj = *box;
      g->lasttype = t;
    }
    return same ? *box : NULL;
  }
  if (!lua_getmetatable(L, idx)) return NULL;
  lua_getfield(L, -1, TYPE_FIELD);
  bt = (const lugo_objtype *)lua_touserdata(L, -1);
  lua_pop(L, 2);
  if (bt == NULL || (t != NULL && bt != t)) return NULL;
  return *box;
}

lugo_obj *lugo__obj_check(lua_State *L, int idx, const lugo_objtype *t) {
  lugo_obj *o = lugo__obj_test(L, idx, t);
  if (o == NULL) luaL_typeerror(L, idx, t->tname);
  return o;
}

lugo_obj *lugo__obj_argerror(lua_State *L, int idx, const char *what,
                             const char *fname) {
  const char *got = luaL_typename(L, idx);
  if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
    got = lua_tostring(L, -1);  /* another lugo object: say which */
  luaL_error(L, "bad argument #%d to '%s' (%s expected, got %s)", idx, fname,
             what, got);
  return NULL;
}

int lugo__obj_keepkey(lua_State *L, int reg, void *k) {
  /* no table of its own: a key is ours if it is the intern table's, or an
  ** object metatable's (registry[t] is a table whose __lugotype is t) */
  int keep = 0;
  if (k == (void *)&INTERN_KEY) return 1;
  if (lua_rawgetp(L, reg, k) == LUA_TTABLE) {
    keep = lua_getfield(L, -1, TYPE_FIELD) == LUA_TLIGHTUSERDATA &&
           lua_touserdata(L, -1) == k;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return keep;
}

void lugo__obj_metatable(lua_State *L, const lugo_objtype *t) {
  lugo_G *g = lugo__G(L);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, t) == LUA_TTABLE) {
    if (g != NULL) g->objmt[t->id] = lua_topointer(L, -1);
    return;
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 8);
  lua_pushstring(L, t->tname);
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, obj_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushlightuserdata(L, (void *)t);
  lua_setfield(L, -2, TYPE_FIELD);
  if (t->metatable) t->metatable(L);
  /* shared by every goroutine a pooled state serves: not for changing */
  lua_pushstring(L, t->tname);
  lua_setfield(L, -2, "__metatable");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, t);  /* keeps it alive: the pointer */
  if (g != NULL) g->objmt[t->id] = lua_topointer(L, -1);  /* stays valid */
}
