/*
** latomic.c -- package atomic: Int64, Bool and Value (objects in
** vm/sync.h).  Each Int64/Bool operation is one C11 atomic (sequentially
** consistent, as Go's).
*/
#include <lauxlib.h>
#include <stdint.h>

#include "lugolib.h"
#include "marshal.h"
#include "race.h"
#include "sync.h"

static lugo_atomic *check(lua_State *L, const lugo_objtype *t, const char *fname) {
  return (lugo_atomic *)lugo__obj_checkarg(L, 1, t, t->tname, fname);
}

/* after the operation: tell the listener; the race detector takes what
** the operation read (an acquire: every operation reads) */
static void event(lua_State *L, const void *a, int write) {
  lugo_G *g = lugo__G(L);
  if (g == NULL) return;
  LUGO_EVENT(g->rt, LUGO_EV_ATOMIC, g->id, a, write);
  if (LUGO_RACE(g)) lugo__race_acquire(g, (lugo_obj *)a, 0);
}

/* before an operation that writes: the race detector's release, made
** before the value can be seen */
static void prewrite(lua_State *L, const void *a) {
  lugo_G *g = lugo__G(L);
  if (g != NULL && LUGO_RACE(g)) lugo__race_release(g, (lugo_obj *)a, 0);
}

static int pushnew(lua_State *L, const lugo_objtype *t, int64_t v) {
  lugo_atomic *a;
  lugo__checkG(L);
  a = lugo__atomic_new(t, v);
  if (a == NULL) return luaL_error(L, "%s: not enough memory", t->tname);
  lugo__obj_push(L, &a->obj);
  lugo__obj_release(&a->obj);
  return 1;
}

static int tostr(lua_State *L, const lugo_objtype *t) {
  lugo_atomic *a = check(L, t, "tostring");
  if (t == &lugo__bool_type)
    lua_pushfstring(L, "%s(%s)", t->tname, lugo_load(&a->v) ? "true" : "false");
  else
    lua_pushfstring(L, "%s(%I)", t->tname, (LUAI_UACINT)lugo_load(&a->v));
  return 1;
}

/* ---- Int64: wraps around on overflow, as Go's */

#define I64 (&lugo__int64_type)

static int i_new(lua_State *L) {
  return pushnew(L, I64, (int64_t)luaL_optinteger(L, 1, 0));
}

static int i_add(lua_State *L) {
  lugo_atomic *a = check(L, I64, "Add");
  int64_t d = (int64_t)luaL_checkinteger(L, 2);
  int64_t old;
  prewrite(L, a);
  old = atomic_fetch_add(&a->v, d);
  event(L, a, 1);
  lua_pushinteger(L, (lua_Integer)(int64_t)((uint64_t)old + (uint64_t)d));
  return 1;
}

static int i_load(lua_State *L) {
  lugo_atomic *a = check(L, I64, "Load");
  int64_t v = lugo_load(&a->v);
  event(L, a, 0);
  lua_pushinteger(L, (lua_Integer)v);
  return 1;
}

static int i_store(lua_State *L) {
  lugo_atomic *a = check(L, I64, "Store");
  int64_t v = (int64_t)luaL_checkinteger(L, 2);
  prewrite(L, a);
  lugo_store(&a->v, v);
  event(L, a, 1);
  return 0;
}

static int i_swap(lua_State *L) {
  lugo_atomic *a = check(L, I64, "Swap");
  int64_t v = (int64_t)luaL_checkinteger(L, 2), old;
  prewrite(L, a);
  old = lugo_xchg(&a->v, v);
  event(L, a, 1);
  lua_pushinteger(L, (lua_Integer)old);
  return 1;
}

static int i_cas(lua_State *L) {
  lugo_atomic *a = check(L, I64, "CompareAndSwap");
  int64_t old = (int64_t)luaL_checkinteger(L, 2);
  int64_t nw = (int64_t)luaL_checkinteger(L, 3);
  int ok;
  prewrite(L, a);
  ok = atomic_compare_exchange_strong(&a->v, &old, nw);
  event(L, a, 1);
  lua_pushboolean(L, ok);
  return 1;
}

static int i_tostring(lua_State *L) {
  return tostr(L, I64);
}

static void int64_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Add", i_add}, {"Load", i_load}, {"Store", i_store}, {"Swap", i_swap},
    {"CompareAndSwap", i_cas}, {NULL, NULL}
  };
  lugo__obj_methods(L, methods, i_tostring);
}

const lugo_objtype lugo__int64_type = {3, "atomic.Int64", lugo__atomic_free,
                                       int64_metatable, NULL};

/* ---- Bool */

#define BOOL (&lugo__bool_type)

static int checkbool(lua_State *L, int i) {
  luaL_checktype(L, i, LUA_TBOOLEAN);
  return lua_toboolean(L, i);
}

static int b_new(lua_State *L) {
  int v = lua_isnoneornil(L, 1) ? 0 : checkbool(L, 1);
  return pushnew(L, BOOL, v);
}

static int b_load(lua_State *L) {
  lugo_atomic *a = check(L, BOOL, "Load");
  int64_t v = lugo_load(&a->v);
  event(L, a, 0);
  lua_pushboolean(L, v != 0);
  return 1;
}

static int b_store(lua_State *L) {
  lugo_atomic *a = check(L, BOOL, "Store");
  int64_t v = checkbool(L, 2);
  prewrite(L, a);
  lugo_store(&a->v, v);
  event(L, a, 1);
  return 0;
}

static int b_swap(lua_State *L) {
  lugo_atomic *a = check(L, BOOL, "Swap");
  int64_t v = checkbool(L, 2), old;
  prewrite(L, a);
  old = lugo_xchg(&a->v, v);
  event(L, a, 1);
  lua_pushboolean(L, old != 0);
  return 1;
}

static int b_cas(lua_State *L) {
  lugo_atomic *a = check(L, BOOL, "CompareAndSwap");
  int64_t old = checkbool(L, 2);
  int64_t nw = checkbool(L, 3);
  int ok;
  prewrite(L, a);
  ok = atomic_compare_exchange_strong(&a->v, &old, nw);
  event(L, a, 1);
  lua_pushboolean(L, ok);
  return 1;
}

static int b_tostring(lua_State *L) {
  return tostr(L, BOOL);
}

static void bool_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Load", b_load}, {"Store", b_store}, {"Swap", b_swap},
    {"CompareAndSwap", b_cas}, {NULL, NULL}
  };
  lugo__obj_methods(L, methods, b_tostring);
}

const lugo_objtype lugo__bool_type = {4, "atomic.Bool", lugo__atomic_free,
                                      bool_metatable, NULL};

/* ---- Value: any copyable value, copied in by Store and out by each Load
** (the copy contract); the type of the first Store is the only one
** accepted afterwards, as in Go */

static lugo_avalue *checkvalue(lua_State *L, const char *fname) {
  return (lugo_avalue *)lugo__obj_checkarg(L, 1, &lugo__value_type,
                                           "atomic.Value", fname);
}

static int v_new(lua_State *L) {
  lugo_avalue *a;
  lugo__checkG(L);
  a = lugo__avalue_new();
  if (a == NULL) return luaL_error(L, "atomic.Value: not enough memory");
  lugo__obj_push(L, &a->obj);
  lugo__obj_release(&a->obj);
  return 1;
}

static int v_load(lua_State *L) {
  lugo_avalue *a = checkvalue(L, "Load");
  lugo_sval *sv = lugo__avalue_load(a);
  event(L, a, 0);
  if (sv == NULL) {
    lua_pushnil(L);
    return 1;
  }
  lugo__value_pushcopy(L, &sv->v);
  lugo__sval_release(sv);
  return 1;
}

static int v_store(lua_State *L) {
  lugo_avalue *a = checkvalue(L, "Store");
  lugo_value v;
  lugo_sval *sv;
  int t = lua_type(L, 2);
  if (t == LUA_TNIL || t == LUA_TNONE)
    return luaL_error(L, "atomic: store of nil value into Value");
  lugo__value_from(L, 2, &v, "Store");
  sv = lugo__sval_new();
  if (sv == NULL) {
    lugo__value_free(&v);
    return luaL_error(L, "atomic.Value: not enough memory");
  }
  sv->v = v;
  prewrite(L, a);
  if (!lugo__avalue_store(a, sv, t)) {
    lugo__sval_release(sv);
    return luaL_error(L, "atomic: store of inconsistently typed value into "
                         "Value (%s, after %s)", lua_typename(L, t),
                      lua_typename(L, a->ltype));
  }
  event(L, a, 1);
  return 0;
}

static void value_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Load", v_load}, {"Store", v_store}, {NULL, NULL}
  };
  lugo__obj_methods(L, methods, NULL);
}

const lugo_objtype lugo__value_type = {9, "atomic.Value", lugo__avalue_free,
                                       value_metatable, NULL};

int lugo__open_atomic(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"Int64", i_new}, {"Bool", b_new}, {"Value", v_new}, {NULL, NULL}
  };
  luaL_newlib(L, fns);
  return 1;
}
