/*
** ltime.c -- the time module: Sleep, Now, Since, After, Tick, NewTimer,
** NewTicker, AfterFunc and the duration constants (seconds as floats:
** time.Millisecond == 0.001).
*/
#include <lauxlib.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"
#include "lugolib.h"
#include "race.h"
#include "timer.h"

static double wallnow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* [-0, +0, v] argument i as a number, the error naming fname (methods
** called through pcall have no name Lua could find) */
static lua_Number checkdur(lua_State *L, int i, const char *fname) {
  int isnum;
  lua_Number d = lua_tonumberx(L, i, &isnum);
  if (!isnum)
    luaL_error(L, "bad argument #%d to '%s' (number expected, got %s)", i,
               fname, luaL_typename(L, i));
  return d;
}

static int64_t deadline(lua_State *L, int i, const char *fname) {
  lua_Number d = checkdur(L, i, fname);
  if (d != d) luaL_error(L, "%s: duration is NaN", fname);
  if (d <= 0) return lugo__nanotime();
  if (d > 1e9) d = 1e9;  /* ~31 years: forever enough */
  return lugo__nanotime() + (int64_t)(d * 1e9);
}

/* a sleeping goroutine's timer fires: wake it if nothing else did */
static void sleep_fire(lugo_timer *t) {
  lugo_G *g = (lugo_G *)t->arg;
  if (lugo_cas(&g->parkwin, 0, 1)) {
    g->wonsg = NULL;
    lugo__ready(g);
  }
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  (void)status;
  (void)ctx;
  if (g->interrupted) {
    lugo__timer_del(g->rt->timers, g->timer);
    lugo__check_interrupt(L, g);
  }
  return 0;
}

/* time.Sleep(d)  [-0, +0, e] */
static int l_sleep(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  lua_Number d = luaL_checknumber(L, 1);
  int64_t when = deadline(L, 1, "time.Sleep");
  if (!(d > 0)) return lugo__gosched(L);
  if (g->timer == NULL) {
    g->timer = (lugo_timer *)malloc(sizeof(lugo_timer));
    if (g->timer == NULL) return luaL_error(L, "time.Sleep: not enough memory");
  }
  lugo__timer_init(g->timer);
  g->timer->fire = sleep_fire;
  g->timer->arg = g;
  lugo__park_prepare(L, g, "sleep");
  lugo__park_publish(g);
  lugo__timer_start(g->rt, g->timer, when);
  return lugo__park(L, g, sleep_k, 0);
}

/* the race detector: what a goroutine did before it armed a timer
** happens before the timer's fn runs, or a receive of its value (Go's
** edge from arming to firing) */
static void racearm(lua_State *L, lugo_obj *fnobj, lugo_chan *c) {
  lugo_G *g = lugo__G(L);
  if (g == NULL || !LUGO_RACE(g)) return;
  if (fnobj != NULL) lugo__race_release(g, fnobj, 0);
  if (c != NULL) lugo__race_timerarm(g, c);
}

/* time.After: a timer that owns a reference to its channel */
typedef struct after {
  lugo_timer t;
  lugo_chan *c;
} after;

static void after_fire(lugo_timer *t) {
  after *a = (after *)t;
  lugo_value v;
  v.t = LUGO_VFLT;
  v.u.n = wallnow();
  lugo__chan_send(a->c, &v, NULL);  /* capacity 1 and only we send */
  lugo__obj_release(&a->c->obj);
  free(a);
}

static void after_drop(lugo_timer *t) {
  after *a = (after *)t;
  lugo__obj_release(&a->c->obj);
  free(a);
}

/* time.After(d) -> channel  [-0, +1, e] */
static int l_after(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  int64_t when = deadline(L, 1, "time.After");
  after *a;
  lugo_chan *c = lugo__chan_new(g->rt, 1);
  if (c == NULL) return luaL_error(L, "time.After: not enough memory");
  lugo__obj_push(L, &c->obj);  /* the userdata's reference */
  a = (after *)malloc(sizeof(*a));
  if (a == NULL) {
    lugo__obj_release(&c->obj);
    return luaL_error(L, "time.After: not enough memory");
  }
  lugo__timer_init(&a->t);
  a->t.fire = after_fire;
  a->t.drop = after_drop;
  a->c = c;  /* takes over the creation reference */
  racearm(L, NULL, c);
  lugo__timer_start(g->rt, &a->t, when);
  return 1;
}

/* ---------------------------------------------------------------------
** Timer, Ticker and AfterFunc: an object owning a heap timer.  The heap
** holds a reference while the timer is pending, so an unreferenced timer
** still fires (an AfterFunc must) and a Ticker ticks until Stop.
**
** Go 1.23's channel semantics: the channel has room for one value and the
** timer never waits to send (a Ticker whose reader is slow drops ticks);
** Stop and Reset take back a value sent but not yet received, so no stale
** value is seen after them, and count it as "still pending" in their
** result, as Go's synchronous timer channels do.
** ------------------------------------------------------------------- */

typedef struct ltimer {
  lugo_obj obj;
  lugo_timer t;
  lugo_runtime *rt;
  pthread_mutex_t lk;  /* serialises Stop and Reset (never held by fire) */
  lugo_chan *c;        /* one reference; NULL for AfterFunc */
  int64_t period;      /* Ticker: ns between ticks; 0 for a Timer */
  lugo_blob *fn;       /* AfterFunc: go()'s blob of the function */
} ltimer;

#define totimer(tp) ((ltimer *)((char *)(tp) - offsetof(ltimer, t)))

static void timer_free(lugo_obj *o) {
  ltimer *tm = (ltimer *)o;  /* not pending: the heap would own a ref */
  if (tm->c) lugo__obj_release(&tm->c->obj);
  if (tm->fn) lugo__blob_free(tm->fn);
  pthread_mutex_destroy(&tm->lk);
  free(tm);
}

/* sysmon's thread, no lock held */
static void timer_fire(lugo_timer *t) {
  ltimer *tm = totimer(t);
  if (tm->fn != NULL) {  /* AfterFunc: fn runs in its own goroutine */
    lugo_G *g = lugo__spawn(tm->rt, tm->fn, NULL);
    if (g != NULL) {
      if (LUGO_RACE(g)) lugo__race_acquire(g, &tm->obj, 0);  /* armed it */
      lugo__obj_grab(&tm->obj);  /* the G copies fn from us */
      g->startref = &tm->obj;
      lugo__go(tm->rt, g);
    } else {
      lugo__report(tm->rt, LUGO_REPORT_PANIC, 0,
                   "time.AfterFunc: not enough memory to start fn", NULL, NULL);
    }
  } else {
    lugo_value v;
    v.t = LUGO_VFLT;
    v.u.n = wallnow();
    lugo__chan_send(tm->c, &v, NULL);  /* never waits: a full one drops it */
  }
  if (tm->period > 0) {  /* next tick on the same grid, skipping missed ones */
    int64_t now = lugo__nanotime(), next = t->when + tm->period;
    if (next <= now) next += ((now - next) / tm->period + 1) * tm->period;
    lugo__timer_add(tm->rt->timers, t, next);  /* the heap keeps its ref */
    return;
  }
  lugo__obj_release(&tm->obj);  /* the heap's */
}

static void timer_drop(lugo_timer *t) {  /* shutdown: still pending */
  lugo__obj_release(&totimer(t)->obj);
}

/* take back a value sent but not received; 1 if there was one */
static int drain(lugo_chan *c) {
  lugo_value v;
  int ok = 0;
  if (c == NULL || lugo__chan_recv(c, &v, &ok, NULL) != LUGO_CHAN_DONE) return 0;
  lugo__value_free(&v);
  return ok;
}

/* Stop: 1 if the timer was pending or its value unreceived */
static int timer_stop(ltimer *tm) {
  int was, drained;
  pthread_mutex_lock(&tm->lk);
  was = lugo__timer_del(tm->rt->timers, &tm->t);
  drained = drain(tm->c);
  pthread_mutex_unlock(&tm->lk);
  if (was) lugo__obj_release(&tm->obj);  /* the heap's (we hold one too) */
  return was || drained;
}

/* Reset: as Stop, then armed for when (a Ticker with a new period) */
static int timer_reset(ltimer *tm, int64_t when, int64_t period) {
  int was, drained;
  pthread_mutex_lock(&tm->lk);
  was = lugo__timer_del(tm->rt->timers, &tm->t);
  drained = drain(tm->c);
  if (!was) lugo__obj_grab(&tm->obj);  /* for the heap */
  if (period > 0) tm->period = period;
  lugo__timer_start(tm->rt, &tm->t, when);
  pthread_mutex_unlock(&tm->lk);
  return was || drained;
}



/* [-0, +1, e] a new timer object, pushed, not armed yet */
static ltimer *newtimer(lua_State *L, const lugo_objtype *type, int withchan,
                        const char *fname) {
  lugo_G *g = lugo__checkG(L);
  ltimer *tm = (ltimer *)calloc(1, sizeof(*tm));
  if (tm == NULL) luaL_error(L, "%s: not enough memory", fname);
  lugo__obj_init(&tm->obj, type);
  pthread_mutex_init(&tm->lk, NULL);
  tm->rt = g->rt;
  lugo__timer_init(&tm->t);
  tm->t.fire = timer_fire;
  tm->t.drop = timer_drop;
  if (withchan && (tm->c = lugo__chan_new(g->rt, 1)) == NULL) {
    lugo__obj_release(&tm->obj);
    luaL_error(L, "%s: not enough memory", fname);
  }
  lugo__obj_push(L, &tm->obj);  /* the userdata's reference */
  lugo__obj_release(&tm->obj);  /* (push grabbed one of its own) */
  return tm;
}

static int64_t interval(lua_State *L, int i, const char *fname) {
  lua_Number d = checkdur(L, i, fname);
  if (!(d > 0)) luaL_error(L, "%s: non-positive interval", fname);
  if (d > 1e9) d = 1e9;
  return (int64_t)(d * 1e9) > 0 ? (int64_t)(d * 1e9) : 1;
}

/* time.NewTimer(d) -> Timer  [-0, +1, e] */
static int l_newtimer(lua_State *L) {
  int64_t when = deadline(L, 1, "time.NewTimer");
  ltimer *tm = newtimer(L, &lugo__timer_type, 1, "time.NewTimer");
  racearm(L, NULL, tm->c);
  timer_reset(tm, when, 0);
  return 1;
}


/* time.AfterFunc(d, fn) -> Timer (its C is nil)  [-0, +1, e] */
static int l_afterfunc(lua_State *L) {
  int64_t when = deadline(L, 1, "time.AfterFunc");
  ltimer *tm;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  tm = newtimer(L, &lugo__timer_type, 0, "time.AfterFunc");
  tm->fn = lugo__marshal_go(L, 2, 1, "time.AfterFunc");  /* go()'s rules */
  racearm(L, &tm->obj, NULL);
  timer_reset(tm, when, 0);
  return 1;
}

/* time.NewTicker(d) -> Ticker  [-0, +1, e] */
static int l_newticker(lua_State *L) {
  int64_t p = interval(L, 1, "time.NewTicker");
  ltimer *tm = newtimer(L, &lugo__ticker_type, 1, "time.NewTicker");
  racearm(L, NULL, tm->c);
  timer_reset(tm, lugo__nanotime() + p, p);
  return 1;
}

/* time.Tick(d) -> a Ticker's channel, or nil if d <= 0 (as Go)
** [-0, +1, e] */
static int l_tick(lua_State *L) {
  lua_Number d = luaL_checknumber(L, 1);
  int64_t p;
  ltimer *tm;
  if (!(d > 0)) {
    lua_pushnil(L);
    return 1;
  }
  p = interval(L, 1, "time.Tick");
  tm = newtimer(L, &lugo__ticker_type, 1, "time.Tick");
  racearm(L, NULL, tm->c);
  timer_reset(tm, lugo__nanotime() + p, p);
  lugo__obj_push(L, &tm->c->obj);
  return 1;
}

static ltimer *checktimer(lua_State *L, const lugo_objtype *t, const char *fname) {
  return (ltimer *)lugo__obj_checkarg(L, 1, t, t->tname, fname);
}

static int t_stop(lua_State *L) {
  lua_pushboolean(L, timer_stop(checktimer(L, &lugo__timer_type, "Stop")));
  return 1;
}

static int t_reset(lua_State *L) {
  ltimer *tm = checktimer(L, &lugo__timer_type, "Reset");
  int64_t when = deadline(L, 2, "Reset");
  racearm(L, tm->fn != NULL ? &tm->obj : NULL, tm->c);
  lua_pushboolean(L, timer_reset(tm, when, 0));
  return 1;
}

static int k_stop(lua_State *L) {
  timer_stop(checktimer(L, &lugo__ticker_type, "Stop"));
  return 0;
}

static int k_reset(lua_State *L) {
  ltimer *tm = checktimer(L, &lugo__ticker_type, "Reset");
  int64_t p = interval(L, 2, "Ticker.Reset");
  racearm(L, NULL, tm->c);
  timer_reset(tm, lugo__nanotime() + p, p);
  return 0;
}

/* __index: the field C, else a method (upvalue 1) */
static int timer_index(lua_State *L) {
  ltimer *tm = (ltimer *)lugo__obj_test(L, 1, NULL);
  if (tm != NULL && lua_type(L, 2) == LUA_TSTRING &&
      strcmp(lua_tostring(L, 2), "C") == 0) {
    if (tm->c) lugo__obj_push(L, &tm->c->obj); else lua_pushnil(L);
    return 1;
  }
  lua_settop(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static void withindex(lua_State *L, const luaL_Reg *methods) {
  lugo__obj_methods(L, methods, NULL);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, timer_index, 1);
  lua_setfield(L, -2, "__index");
}

static void timer_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Stop", t_stop}, {"Reset", t_reset}, {NULL, NULL}
  };
  withindex(L, methods);
}

static void ticker_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Stop", k_stop}, {"Reset", k_reset}, {NULL, NULL}
  };
  withindex(L, methods);
}

const lugo_objtype lugo__timer_type = {13, "time.Timer", timer_free,
                                       timer_metatable, NULL};
const lugo_objtype lugo__ticker_type = {14, "time.Ticker", timer_free,
                                        ticker_metatable, NULL};

static int l_now(lua_State *L) {
  lua_pushnumber(L, wallnow());
  return 1;
}

static int l_since(lua_State *L) {
  lua_Number t = luaL_checknumber(L, 1);
  lua_pushnumber(L, wallnow() - t);
  return 1;
}

int lugo__open_time(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"Sleep", l_sleep}, {"After", l_after}, {"Now", l_now},
    {"Since", l_since}, {"NewTimer", l_newtimer}, {"AfterFunc", l_afterfunc},
    {"NewTicker", l_newticker}, {"Tick", l_tick}, {NULL, NULL}
  };
  static const struct { const char *name; double v; } units[] = {
    {"Nanosecond", 1e-9}, {"Microsecond", 1e-6}, {"Millisecond", 1e-3},
    {"Second", 1.0}, {"Minute", 60.0}, {"Hour", 3600.0}, {NULL, 0}
  };
  int i;
  luaL_newlib(L, fns);
  for (i = 0; units[i].name; i++) {
    lua_pushnumber(L, units[i].v);
    lua_setfield(L, -2, units[i].name);
  }
  return 1;
}
