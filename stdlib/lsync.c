/*
** lsync.c -- package sync: Mutex, RWMutex, WaitGroup, Once, Cond (C core
** in vm/sync.c).
** Blocking methods park the goroutine (or block its M inside non-yieldable
** code, the P moving on) and continue in a continuation function.
*/
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>

#include "lugolib.h"
#include "marshal.h"
#include "race.h"
#include "sync.h"

#define checkmu(L, i, f) \
  ((lugo_mutex *)lugo__obj_checkarg(L, i, &lugo__mutex_type, "sync.Mutex", f))
#define checkrw(L, i, f) \
  ((lugo_rwmutex *)lugo__obj_checkarg(L, i, &lugo__rwmutex_type, "sync.RWMutex", f))
#define checkonce(L, i, f) \
  ((lugo_once *)lugo__obj_checkarg(L, i, &lugo__once_type, "sync.Once", f))
#define checkcond(L, i, f) \
  ((lugo_cond *)lugo__obj_checkarg(L, i, &lugo__cond_type, "sync.Cond", f))
#define checkwg(L, i, f) \
  ((lugo_waitgroup *)lugo__obj_checkarg(L, i, &lugo__waitgroup_type, \
                                        "sync.WaitGroup", f))

static int pushnew(lua_State *L, lugo_obj *o, const char *what) {
  if (o == NULL) return luaL_error(L, "%s: not enough memory", what);
  lugo__obj_push(L, o);
  lugo__obj_release(o);  /* the userdata holds it now */
  return 1;
}

/* ---------------------------------------------------------------------
** Mutex
** ------------------------------------------------------------------- */

static int l_mutex(lua_State *L) {
  lugo__checkG(L);
  return pushnew(L, (lugo_obj *)lugo__mutex_new(), "sync.Mutex");
}

/* The continuation context of a Lock: the mutex, tagged in its low bits
** with what the lock is for (objects are malloc'd: 16-byte aligned) */
enum { FOR_LOCK, FOR_WITH, FOR_ONCE, FOR_RELOCK, FOR_RAISE };
/* FOR_RELOCK: Cond.Wait taking its mutex back; an interrupt meanwhile is
** raised once it holds it (Go's Wait always returns holding the lock, and
** mu:With's error path must unlock our lock, not another goroutine's).
** FOR_RAISE: the same after the interrupt came, its message on top. */
#define TAGS ((lua_KContext)7)  /* malloc'd objects: 8-byte aligned at least */
#define CTXMU(ctx) ((lugo_mutex *)((ctx) & ~TAGS))
#define CTXFOR(ctx) ((int)((ctx) & TAGS))

static int with_locked(lua_State *L, lua_KContext ctx);
static int once_locked(lua_State *L, lua_KContext ctx);

static int locked(lua_State *L, lugo_G *g, lua_KContext ctx) {
  if (g) {
    LUGO_EVENT(g->rt, LUGO_EV_LOCK, g->id, CTXMU(ctx), 0);
    if (LUGO_RACE(g)) lugo__race_acquire(g, &CTXMU(ctx)->obj, 0);
  }
  switch (CTXFOR(ctx)) {
    case FOR_WITH: return with_locked(L, ctx);
    case FOR_ONCE: return once_locked(L, ctx);
    case FOR_RAISE: return lua_error(L);
    default: return 0;
  }
}

static int lock_k(lua_State *L, int status, lua_KContext ctx);

/* the lock was taken: queue (again: at the front) and park */
static int lockslow(lua_State *L, lugo_G *g, lua_KContext ctx, int again) {
  int r;
  if (CTXFOR(ctx) == FOR_RELOCK || CTXFOR(ctx) == FOR_RAISE)
    lugo__park_prepare_nointr(L, g, "sync.Mutex.Lock");  /* lock first */
  else
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
    if (CTXFOR(ctx) == FOR_RELOCK) {  /* raise it once the lock is ours */
      lua_pushstring(L, g->intrmsg ? g->intrmsg : "interrupted");
      ctx = (lua_KContext)m | FOR_RAISE;
    } else if (CTXFOR(ctx) != FOR_RAISE) {
      lugo__check_interrupt(L, g);
    }
    g->interrupted = 0;  /* raising one already: keep taking the lock */
    free(g->intrmsg);
    g->intrmsg = NULL;
  } else if (lugo__mutex_woken(m, g)) {
    return locked(L, g, ctx);
  }
  if (lugo__mutex_lock(m, NULL, 0) == LUGO_SYNC_DONE) return locked(L, g, ctx);
  return lockslow(L, g, ctx, 1);
}

static int dolock(lua_State *L, lugo_mutex *m, lua_KContext ctx) {
  if (lugo__mutex_fastlock(m)) return locked(L, lugo__G(L), ctx);
  {
    lugo_G *g = lugo__checkG(L);  /* parking needs a goroutine */
    if (lugo__mutex_lock(m, NULL, 0) == LUGO_SYNC_DONE) return locked(L, g, ctx);
    return lockslow(L, g, ctx, 0);
  }
}

static int l_lock(lua_State *L) {
  lugo_mutex *m = checkmu(L, 1, "Lock");
  return dolock(L, m, (lua_KContext)m);
}

static int unlock(lua_State *L, lugo_mutex *m) {
  lugo_G *g = lugo__G(L);
  if (g && LUGO_RACE(g)) lugo__race_release(g, &m->obj, 0);  /* first */
  if (!lugo__mutex_fastunlock(m) && lugo__mutex_unlock(m) != LUGO_SYNC_DONE)
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
  if (ok) {
    LUGO_EVENT(g->rt, LUGO_EV_LOCK, g->id, m, 0);
    if (LUGO_RACE(g)) lugo__race_acquire(g, &m->obj, 0);
  }
  lua_pushboolean(L, ok);
  return 1;
}

/* mu:With(fn, ...): fn runs holding the lock, released even on error */
static int with_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_mutex *m = CTXMU(ctx);
  if (status != LUA_OK && status != LUA_YIELD) {  /* fn raised */
    lugo_G *g = lugo__G(L);
    if (g && LUGO_RACE(g)) lugo__race_release(g, &m->obj, 0);
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
  return dolock(L, m, (lua_KContext)m | FOR_WITH);
}

static void mutex_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Lock", l_lock}, {"Unlock", l_unlock}, {"TryLock", l_trylock},
    {"With", l_with}, {NULL, NULL}
  };
  lugo__obj_methods(L, methods, NULL);
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

/* the race detector's view of an Add, around it (Go's waitgroup.go): a
** Done releases before the counter moves; an Add from zero reads the
** WaitGroup, which the first Wait to block writes, so an Add that races
** a Wait (wg:Add inside the goroutine) is reported */
#define WGREAD "Add from zero to"
#define WGWRITE "Wait on"

static void racepre(lugo_G *g, lugo_waitgroup *wg, int64_t d) {
  if (g != NULL && LUGO_RACE(g) && d < 0) lugo__race_release(g, &wg->obj, 0);
}

static void racepost(lugo_G *g, lugo_waitgroup *wg, int64_t d, int64_t old) {
  if (g != NULL && LUGO_RACE(g) && d > 0 && old == 0)
    lugo__race_objaccess(g, &wg->obj, 0, WGREAD, WGWRITE);
}

static int wgadd(lua_State *L, lugo_waitgroup *wg, lua_Integer d) {
  lugo_G *g = lugo__G(L);
  int64_t old;
  racepre(g, wg, (int64_t)d);
  if (lugo__wg_add(wg, (int64_t)d, &old) != LUGO_SYNC_DONE)
    return luaL_error(L, "sync: negative WaitGroup counter");
  racepost(g, wg, (int64_t)d, old);
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
  if (LUGO_RACE(g)) lugo__race_acquire(g, &wg->obj, 0);
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
  int first = 0;
  int r = lugo__wg_wait(wg, NULL, NULL);
  if (r == LUGO_SYNC_BLOCK) {
    lugo__park_prepare(L, g, "sync.WaitGroup.Wait");
    r = lugo__wg_wait(wg, g, &first);
    if (r != LUGO_SYNC_PARKED) lugo__park_cancel(g);
    else if (first && LUGO_RACE(g))  /* before it parks: g->cur is ours */
      lugo__race_objaccess(g, &wg->obj, 1, WGREAD, WGWRITE);
  }
  if (r == LUGO_SYNC_DONE) return waited(g, wg);
  return lugo__park(L, g, wait_k, (lua_KContext)wg);
}

/* a goroutine started by wg:Go ends: Done */
static void go_done(lugo_G *g) {
  lugo_waitgroup *wg = (lugo_waitgroup *)g->ondoneud;
  racepre(g, wg, -1);
  lugo__wg_add(wg, -1, NULL);
  LUGO_EVENT(g->rt, LUGO_EV_WGADD, g->id, wg, -1);
  lugo__obj_release(&wg->obj);
}

/* wg:Go(fn, ...): Add(1), then go(fn, ...) with a Done when fn returns */
static int l_go(lua_State *L) {
  lugo_waitgroup *wg = checkwg(L, 1, "Go");
  lugo_G *g = lugo__checkG(L), *ng;
  lugo_blob *b;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lugo__race_checkroom(L, g, "Go");
  b = lugo__marshal_go(L, 2, lua_gettop(L) - 1, "go");  /* raises before Add */
  ng = lugo__spawn(g->rt, b, NULL);
  if (ng == NULL) {
    lugo__blob_free(b);
    return luaL_error(L, "Go: not enough memory");
  }
  {
    int64_t old;
    lugo__wg_add(wg, 1, &old);
    racepost(g, wg, 1, old);
  }
  LUGO_EVENT(g->rt, LUGO_EV_WGADD, g->id, wg, 1);
  lugo__obj_grab(&wg->obj);
  ng->ondone = go_done;
  ng->ondoneud = wg;
  lugo__go(g->rt, ng);
  return 0;
}

static void waitgroup_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Add", l_add}, {"Done", l_done}, {"Wait", l_wait}, {"Go", l_go},
    {NULL, NULL}
  };
  lugo__obj_methods(L, methods, NULL);
}

const lugo_objtype lugo__waitgroup_type = {2, "sync.WaitGroup", lugo__wg_free,
                                           waitgroup_metatable, NULL};

/* ---------------------------------------------------------------------
** RWMutex
** ------------------------------------------------------------------- */

static int l_rwmutex(lua_State *L) {
  lugo__checkG(L);
  return pushnew(L, (lugo_obj *)lugo__rw_new(), "sync.RWMutex");
}

/* ctx: the RWMutex, low bit set for a read lock */
/* the race detector's clocks of an RWMutex: 0 what Unlock releases (RLock
** and Lock acquire it), 1 what RUnlock releases (Lock acquires it) */
static int rwlocked(lugo_G *g, lugo_rwmutex *rw, int read) {
  LUGO_EVENT(g->rt, read ? LUGO_EV_RLOCK : LUGO_EV_LOCK, g->id, rw, 0);
  if (LUGO_RACE(g)) {
    lugo__race_acquire(g, &rw->obj, 0);
    if (!read) lugo__race_acquire(g, &rw->obj, 1);
  }
  return 0;
}

static int rwlock_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  lugo_rwmutex *rw = (lugo_rwmutex *)(ctx & ~(lua_KContext)1);
  (void)status;
  if (g->interrupted) {
    lugo__rw_cancel(rw, g);
    lugo__check_interrupt(L, g);
  }
  return rwlocked(g, rw, (int)(ctx & 1));  /* handed over */
}

static int rwlock(lua_State *L, lugo_rwmutex *rw, int read) {
  lugo_G *g = lugo__checkG(L);
  int r = read ? lugo__rw_rlock(rw, NULL) : lugo__rw_lock(rw, NULL);
  if (r == LUGO_SYNC_BLOCK) {
    lugo__park_prepare(L, g, read ? "sync.RWMutex.RLock" : "sync.RWMutex.Lock");
    r = read ? lugo__rw_rlock(rw, g) : lugo__rw_lock(rw, g);
    if (r != LUGO_SYNC_PARKED) lugo__park_cancel(g);
  }
  if (r == LUGO_SYNC_DONE) return rwlocked(g, rw, read);
  return lugo__park(L, g, rwlock_k, (lua_KContext)rw | read);
}

static int l_rwlock(lua_State *L) {
  return rwlock(L, checkrw(L, 1, "Lock"), 0);
}

static int l_rwrlock(lua_State *L) {
  return rwlock(L, checkrw(L, 1, "RLock"), 1);
}

static int rwtry(lua_State *L, int read) {
  lugo_rwmutex *rw = checkrw(L, 1, read ? "TryRLock" : "TryLock");
  lugo_G *g = lugo__checkG(L);
  int ok = (read ? lugo__rw_rlock(rw, NULL) : lugo__rw_lock(rw, NULL)) ==
           LUGO_SYNC_DONE;
  if (ok) rwlocked(g, rw, read);
  lua_pushboolean(L, ok);
  return 1;
}

static int l_rwtrylock(lua_State *L) {
  return rwtry(L, 0);
}

static int l_rwtryrlock(lua_State *L) {
  return rwtry(L, 1);
}

static int l_rwunlock(lua_State *L) {
  lugo_rwmutex *rw = checkrw(L, 1, "Unlock");
  lugo_G *g = lugo__G(L);
  if (g && LUGO_RACE(g)) lugo__race_release(g, &rw->obj, 0);
  if (lugo__rw_unlock(rw) != LUGO_SYNC_DONE)
    return luaL_error(L, "sync: Unlock of unlocked RWMutex");
  if (g) LUGO_EVENT(g->rt, LUGO_EV_UNLOCK, g->id, rw, 0);
  return 0;
}

static int l_rwrunlock(lua_State *L) {
  lugo_rwmutex *rw = checkrw(L, 1, "RUnlock");
  lugo_G *g = lugo__G(L);
  if (g && LUGO_RACE(g)) lugo__race_release(g, &rw->obj, 1);
  if (lugo__rw_runlock(rw) != LUGO_SYNC_DONE)
    return luaL_error(L, "sync: RUnlock of unlocked RWMutex");
  if (g) LUGO_EVENT(g->rt, LUGO_EV_RUNLOCK, g->id, rw, 0);
  return 0;
}

static void rwmutex_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Lock", l_rwlock}, {"Unlock", l_rwunlock}, {"RLock", l_rwrlock},
    {"RUnlock", l_rwrunlock}, {"TryLock", l_rwtrylock},
    {"TryRLock", l_rwtryrlock}, {NULL, NULL}
  };
  lugo__obj_methods(L, methods, NULL);
}

const lugo_objtype lugo__rwmutex_type = {5, "sync.RWMutex", lugo__rw_free,
                                         rwmutex_metatable, NULL};

/* ---------------------------------------------------------------------
** Once: Do(fn) runs fn holding the Once's mutex, so concurrent callers
** wait until it has returned; done is set even if fn raised (then only
** that caller sees the error, as in Go).
** ------------------------------------------------------------------- */

static int l_once(lua_State *L) {
  lugo__checkG(L);
  return pushnew(L, (lugo_obj *)lugo__once_new(), "sync.Once");
}

static int once_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_once *o = (lugo_once *)CTXMU(ctx);
  lugo_G *g = lugo__G(L);
  if (g && LUGO_RACE(g)) lugo__race_release(g, &o->mu.obj, 0);
  lugo_store(&o->done, 1);
  if (g) LUGO_EVENT(g->rt, LUGO_EV_ONCE, g->id, o, 1);
  lugo__mutex_unlock(&o->mu);
  if (status != LUA_OK && status != LUA_YIELD) return lua_error(L);
  return 0;
}

static int once_locked(lua_State *L, lua_KContext ctx) {
  lugo_once *o = (lugo_once *)CTXMU(ctx);
  if (lugo_load(&o->done)) {  /* another caller ran it while we waited */
    lugo__mutex_unlock(&o->mu);
    return 0;
  }
  lua_settop(L, 2);
  return once_k(L, lua_pcallk(L, 0, 0, 0, ctx, once_k), ctx);
}

static int l_do(lua_State *L) {
  lugo_once *o = checkonce(L, 1, "Do");
  lugo_G *g = lugo__checkG(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (lugo_load(&o->done)) {
    LUGO_EVENT(g->rt, LUGO_EV_ONCE, g->id, o, 0);
    if (LUGO_RACE(g)) lugo__race_acquire(g, &o->mu.obj, 0);
    return 0;
  }
  return dolock(L, &o->mu, (lua_KContext)o | FOR_ONCE);
}

static void once_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {{"Do", l_do}, {NULL, NULL}};
  lugo__obj_methods(L, methods, NULL);
}

const lugo_objtype lugo__once_type = {6, "sync.Once", lugo__once_free,
                                      once_metatable, NULL};

/* ---------------------------------------------------------------------
** Cond
** ------------------------------------------------------------------- */

static int l_cond(lua_State *L) {
  lugo_mutex *mu = checkmu(L, 1, "Cond");
  lugo__checkG(L);
  return pushnew(L, (lugo_obj *)lugo__cond_new(mu), "sync.Cond");
}

/* woken: take the mutex again before Wait returns.  Interrupted too, as
** Go's Wait always returns holding it: mu:With(function() c:Wait() end)
** unlocks in its error path, which must not release another goroutine's
** lock.  (A shutdown still raises without it.) */
static int cwait_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  lugo_cond *c = (lugo_cond *)ctx;
  (void)status;
  if (LUGO_RACE(g)) lugo__race_acquire(g, &c->obj, 0);  /* Signal's */
  if (g->interrupted) {
    lugo__cond_cancel(c, g);
    g->interrupted = 0;
    lua_settop(L, 1);
    lua_pushstring(L, g->intrmsg ? g->intrmsg : "interrupted");
    free(g->intrmsg);
    g->intrmsg = NULL;
    return dolock(L, c->mu, (lua_KContext)c->mu | FOR_RAISE);
  }
  return dolock(L, c->mu, (lua_KContext)c->mu | FOR_RELOCK);
}

static int l_cwait(lua_State *L) {
  lugo_cond *c = checkcond(L, 1, "Wait");
  lugo_G *g = lugo__checkG(L);
  lugo__park_prepare(L, g, "sync.Cond.Wait");
  if (LUGO_RACE(g)) lugo__race_release(g, &c->mu->obj, 0);  /* it unlocks */
  if (lugo__cond_wait(c, g) != LUGO_SYNC_PARKED) {
    lugo__park_cancel(g);
    return luaL_error(L, "sync: unlock of unlocked mutex");
  }
  LUGO_EVENT(g->rt, LUGO_EV_UNLOCK, g->id, c->mu, 0);
  return lugo__park(L, g, cwait_k, (lua_KContext)c);
}

static int condsignal(lua_State *L, const char *fname, int all) {
  lugo_cond *c = checkcond(L, 1, fname);
  lugo_G *g = lugo__G(L);
  if (g) {
    LUGO_EVENT(g->rt, LUGO_EV_SIGNAL, g->id, c, all);
    if (LUGO_RACE(g)) lugo__race_release(g, &c->obj, 0);
  }
  lugo__cond_signal(c, all);
  return 0;
}

static int l_signal(lua_State *L) {
  return condsignal(L, "Signal", 0);
}

static int l_broadcast(lua_State *L) {
  return condsignal(L, "Broadcast", 1);
}

static void cond_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Wait", l_cwait}, {"Signal", l_signal}, {"Broadcast", l_broadcast},
    {NULL, NULL}
  };
  lugo__obj_methods(L, methods, NULL);
}

const lugo_objtype lugo__cond_type = {7, "sync.Cond", lugo__cond_free,
                                      cond_metatable, NULL};

int lugo__open_sync(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"Mutex", l_mutex}, {"RWMutex", l_rwmutex}, {"WaitGroup", l_waitgroup},
    {"Once", l_once}, {"Cond", l_cond}, {"Map", lugo__syncmap_new},
    {NULL, NULL}
  };
  luaL_newlib(L, fns);
  return 1;
}
