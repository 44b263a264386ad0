/*
** marshal.h -- the copy contract: moving Lua values between goroutines.
**
** A value leaves its goroutine's state as a lugo_value (scalars inline,
** strings malloc'd, anything with references as a blob: one graph, so
** identity and cycles inside it are kept) and enters another state with
** lugo__value_push.  Neither side ever touches the other's lua_State.
*/
#ifndef lugo_marshal_h
#define lugo_marshal_h

#include <lua.h>
#include <stddef.h>

typedef struct lugo_blob lugo_blob;  /* defined in marshal.c */
struct lugo_runtime;                  /* defined in scheduler.h */

enum {
  LUGO_VNIL = 0, LUGO_VFALSE, LUGO_VTRUE, LUGO_VINT, LUGO_VFLT,
  LUGO_VSSTR,  /* short string inline */
  LUGO_VSTR,   /* malloc'd string */
  LUGO_VBLOB   /* graph */
};

#define LUGO_SSTR_MAX 22

typedef struct lugo_value {
  unsigned char t;
  unsigned char slen;  /* LUGO_VSSTR length */
  union {
    lua_Integer i;
    lua_Number n;
    char ss[LUGO_SSTR_MAX];
    struct { char *p; size_t len; } s;
    lugo_blob *b;
  } u;
} lugo_value;

/* [-0, +0, e] Copy the value at idx into *v (which the caller then owns and
** must pass to lugo__value_push or lugo__value_free).  Raises
** "<fname>: cannot copy <type> to another goroutine (at <path>)" for
** uncopyable values. */
void lugo__value_from(lua_State *L, int idx, lugo_value *v, const char *fname);

/* [-0, +1, e] Push v into L, consuming it. */
void lugo__value_push(lua_State *L, lugo_value *v);

/* [-0, +1, e] Push a copy of v into L, leaving v as it is: values kept
** for many readers (atomic.Value, shared tables).  Any number of threads
** may read one v at once. */
void lugo__value_pushcopy(lua_State *L, const lugo_value *v);

/* Any thread.  Free what v owns; v becomes nil. */
void lugo__value_free(lugo_value *v);

/* [-0, +0, e] Copy n values starting at first as one graph. */
lugo_blob *lugo__marshal(lua_State *L, int first, int n, const char *fname);

/* [-0, +0, e] One value, as lugo__marshal; an error path starts with
** prefix (where the value was found: "field 'f'"), if not NULL. */
lugo_blob *lugo__marshal_at(lua_State *L, int idx, const char *fname,
                            const char *prefix);

/* [-0, +0, m] Does the table at idx cross as the receiver's own (the
** globals, a standard library table, or a value reachable from
** package.loaded, which crosses by path) rather than as a copy? */
int lugo__marshal_byref(lua_State *L, int idx);

/* [-0, +0, e] As lugo__marshal for go(): also copies the spawner's globals
** that the crossing functions name (stored raw in the receiver's globals). */
lugo_blob *lugo__marshal_go(lua_State *L, int first, int n,
                            const char *fname);  /* "go" names it in errors */

/* [-0, +n, e] Push the values of b (consuming it); returns n. */
int lugo__unmarshal(lua_State *L, lugo_blob *b);

/* [-0, +n, e] Push the values of b, which stays the caller's (it must
** stay alive until this returns); returns n. */
int lugo__unmarshal_copy(lua_State *L, const lugo_blob *b);

/* loaded functions kept for the state's next goroutine (unmarshal.c):
** the registry key to keep, and the reset that clears their upvalues */
int lugo__fnpool_iskey(const void *k);
void lugo__fnpool_reset(lua_State *L);

/* Any thread. */
void lugo__blob_free(lugo_blob *b);

/* [-0, +0, m] Record the standard library's tables and C functions of L
** (a fully opened state) so they cross as the receiver's own. */
void lugo__marshal_learn(struct lugo_runtime *rt, lua_State *L);

void lugo__marshal_free_known(struct lugo_runtime *rt);

/* free a goroutine's marshalling leftovers (g is a struct lugo_G *) */
struct lugo_G;
void lugo__marshal_gfree(struct lugo_G *g);

/* the goroutine is entering Lua from the scheduler: no marshal or
** unmarshal of it is in progress (clears flags a raise may have left) */
void lugo__marshal_idle(struct lugo_G *g);

/* [-0, +0, m] Watch package.loaded for new modules (marshal.c keeps an
** index of values reachable from it). */
void lugo__marshal_watchloaded(lua_State *L);

/* [-0, +0, m] Record package.loaded[name] as a standard table of L. */
void lugo__marshal_addstd(lua_State *L, const char *name);

/* stdlib/linit.c: [-0, +1, e] open a lazily opened library, push it or nil */
int lugo__openlib(lua_State *L, const char *name);

/* stdlib/linit.c: [-1, +1, e] require the module named on top */
void lugo__require(lua_State *L);

#endif
