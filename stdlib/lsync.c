/*
** lsync.c -- package sync: Mutex, WaitGroup (C core in vm/sync.c).
** Blocking methods park the goroutine (or block its M inside non-yieldable
** code, the P moving on) and continue in a continuation function.
*/
#include <lauxlib.h>
#include <stdint.h>

#include "lugolib.h"
#include "marshal.h"
#include "sync.h"

#define checkmu(L, i, f) \
  ((lugo_mutex *)lugo__obj_checkarg(L, i, &lugo__mutex_type, "sync.Mutex", f))
#define checkwg(L, i, f) \
  ((lugo_waitgroup *)lugo__obj_checkarg(L, i, &lugo__waitgroup_type, \
                                        "sync.WaitGroup", f))

static int pushnew(lua_State *L, lugo_obj *o, const char *what) {
  if (o == NULL) return luaL_error(L, "%s: not enough memory", what);
  lugo__obj_push(L, o);
  lugo__obj_release(o);  /* the userdata holds it now */
  return 1;
}

static int tostr(lua_State *L, const char *what) {
  lua_pushfstring(L, "%s: %p", what, lugo__obj_test(L, 1, NULL));
  return 1;
}

/* ---------------------------------------------------------------------
** Mutex
** ------------------------------------------------------------------- */

static int l_mutex(lua_State *L) {
  lugo__checkG(L);
  return pushnew(L, (lugo_obj *)lugo__mutex_new(), "sync.Mutex");
}

/* the continuation context: the mutex, low bit set for With */
#define WITHBIT ((lua_KContext)1)
#define CTXMU(ctx) ((lugo_mutex *)((ctx) & ~WITHBIT))

static int with_locked(lua_State *L, lua_KContext ctx);

static int locked(lua_State *L, lugo_G *g, lua_KContext ctx) {
  LUGO_EVENT(g->rt, LUGO_EV_LOCK, g->id, CTXMU(ctx), 0);
  return (ctx & WITHBIT) ? with_locked(L, ctx) : 0;
}

static int lock_k(lua_State *L, int status, lua_KContext ctx);

/* the lock was taken: queue (again: at the front) and park */
static int lockslow(lua_State *L, lugo_G *g, lua_KContext ctx, int again) {
  int r;
  lugo__park_prepare(L, g, "sync.Mutex.Lock");
  r = lugo__mutex_lock(CTXMU(ctx), g, again);
  if (r != LUGO_SYNC_PARKED) {
    lugo__park_cancel(g);
    return locked(L, g, ctx);
  }
  return lugo__park(L, g, lock_k, ctx);
}

static int lock_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  lugo_mutex *m = CTXMU(ctx);
  (void)status;
  if (g->interrupted) {
    lugo__mutex_cancel(m, g);
    lugo__check_interrupt(L, g);
  }
  if (lugo__mutex_woken(m, g) ||
      lugo__mutex_lock(m, NULL, 0) == LUGO_SYNC_DONE)
    return locked(L, g, ctx);
  return lockslow(L, g, ctx, 1);
}

static int dolock(lua_State *L, lugo_mutex *m, lua_KContext ctx) {
  lugo_G *g = lugo__checkG(L);
  if (lugo__mutex_lock(m, NULL, 0) == LUGO_SYNC_DONE) return locked(L, g, ctx);
  return lockslow(L, g, ctx, 0);
}

static int l_lock(lua_State *L) {
  lugo_mutex *m = checkmu(L, 1, "Lock");
  return dolock(L, m, (lua_KContext)m);
}

static int unlock(lua_State *L, lugo_mutex *m) {
  lugo_G *g = lugo__G(L);
  if (lugo__mutex_unlock(m) != LUGO_SYNC_DONE)
    return luaL_error(L, "sync: unlock of unlocked mutex");
  if (g) LUGO_EVENT(g->rt, LUGO_EV_UNLOCK, g->id, m, 0);
  return 0;
}

static int l_unlock(lua_State *L) {
  return unlock(L, checkmu(L, 1, "Unlock"));
}

static int l_trylock(lua_State *L) {
  lugo_mutex *m = checkmu(L, 1, "TryLock");
  lugo_G *g = lugo__checkG(L);
  int ok = lugo__mutex_lock(m, NULL, 0) == LUGO_SYNC_DONE;
  if (ok) LUGO_EVENT(g->rt, LUGO_EV_LOCK, g->id, m, 0);
  lua_pushboolean(L, ok);
  return 1;
}

/* mu:With(fn, ...): fn runs holding the lock, released even on error */
static int with_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_mutex *m = CTXMU(ctx);
  if (status != LUA_OK && status != LUA_YIELD) {  /* fn raised */
    lugo__mutex_unlock(m);  /* fn's error wins over a misuse inside it */
    return lua_error(L);
  }
  unlock(L, m);
  return lua_gettop(L) - 1;  /* fn's results, above the mutex */
}

static int with_locked(lua_State *L, lua_KContext ctx) {
  return with_k(L, lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, ctx, with_k),
                ctx);
}

static int l_with(lua_State *L) {
  lugo_mutex *m = checkmu(L, 1, "With");
  luaL_checktype(L, 2, LUA_TFUNCTION);
  return dolock(L, m, (lua_KContext)m | WITHBIT);
}

static int mu_tostring(lua_State *L) {
  return tostr(L, "sync.Mutex");
}

static void mutex_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Lock", l_lock}, {"Unlock", l_unlock}, {"TryLock", l_trylock},
    {"With", l_with}, {NULL, NULL}
  };
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, mu_tostring);
  lua_setfield(L, -2, "__tostring");
}

const lugo_objtype lugo__mutex_type = {1, "sync.Mutex", lugo__mutex_free,
                                       mutex_metatable, NULL};

/* ---------------------------------------------------------------------
** WaitGroup
** ------------------------------------------------------------------- */

static int l_waitgroup(lua_State *L) {
  lugo__checkG(L);
  return pushnew(L, (lugo_obj *)lugo__wg_new(), "sync.WaitGroup");
}

static int wgadd(lua_State *L, lugo_waitgroup *wg, lua_Integer d) {
  lugo_G *g = lugo__G(L);
  if (lugo__wg_add(wg, (int64_t)d) != LUGO_SYNC_DONE)
    return luaL_error(L, "sync: negative WaitGroup counter");
  if (g) LUGO_EVENT(g->rt, LUGO_EV_WGADD, g->id, wg, d);
  return 0;
}

static int l_add(lua_State *L) {
  lugo_waitgroup *wg = checkwg(L, 1, "Add");
  return wgadd(L, wg, luaL_checkinteger(L, 2));
}

static int l_done(lua_State *L) {
  return wgadd(L, checkwg(L, 1, "Done"), -1);
}

static int waited(lugo_G *g, lugo_waitgroup *wg) {
  LUGO_EVENT(g->rt, LUGO_EV_WGWAIT, g->id, wg, 0);
  return 0;
}

static int wait_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  lugo_waitgroup *wg = (lugo_waitgroup *)ctx;
  (void)status;
  if (g->interrupted) {
    lugo__wg_cancel(wg, g);
    lugo__check_interrupt(L, g);
  }
  return waited(g, wg);
}

static int l_wait(lua_State *L) {
  lugo_waitgroup *wg = checkwg(L, 1, "Wait");
  lugo_G *g = lugo__checkG(L);
  int r = lugo__wg_wait(wg, NULL);
  if (r == LUGO_SYNC_BLOCK) {
    lugo__park_prepare(L, g, "sync.WaitGroup.Wait");
    r = lugo__wg_wait(wg, g);
    if (r != LUGO_SYNC_PARKED) lugo__park_cancel(g);
  }
  if (r == LUGO_SYNC_DONE) return waited(g, wg);
  return lugo__park(L, g, wait_k, (lua_KContext)wg);
}

/* a goroutine started by wg:Go ends: Done */
static void go_done(lugo_G *g) {
  lugo_waitgroup *wg = (lugo_waitgroup *)g->ondoneud;
  lugo__wg_add(wg, -1);
  LUGO_EVENT(g->rt, LUGO_EV_WGADD, g->id, wg, -1);
  lugo__obj_release(&wg->obj);
}

/* wg:Go(fn, ...): Add(1), then go(fn, ...) with a Done when fn returns */
static int l_go(lua_State *L) {
  lugo_waitgroup *wg = checkwg(L, 1, "Go");
  lugo_G *g = lugo__checkG(L), *ng;
  lugo_blob *b;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  b = lugo__marshal_go(L, 2, lua_gettop(L) - 1);  /* raises before Add */
  ng = lugo__spawn(g->rt, b, NULL);
  if (ng == NULL) {
    lugo__blob_free(b);
    return luaL_error(L, "Go: not enough memory");
  }
  lugo__wg_add(wg, 1);
  LUGO_EVENT(g->rt, LUGO_EV_WGADD, g->id, wg, 1);
  lugo__obj_grab(&wg->obj);
  ng->ondone = go_done;
  ng->ondoneud = wg;
  lugo__go(g->rt, ng);
  return 0;
}

static int wg_tostring(lua_State *L) {
  return tostr(L, "sync.WaitGroup");
}

static void waitgroup_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Add", l_add}, {"Done", l_done}, {"Wait", l_wait}, {"Go", l_go},
    {NULL, NULL}
  };
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, wg_tostring);
  lua_setfield(L, -2, "__tostring");
}

const lugo_objtype lugo__waitgroup_type = {2, "sync.WaitGroup", lugo__wg_free,
                                           waitgroup_metatable, NULL};

int lugo__open_sync(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"Mutex", l_mutex}, {"WaitGroup", l_waitgroup}, {NULL, NULL}
  };
  luaL_newlib(L, fns);
  return 1;
}
