/*
** ltime.c -- the time module: Sleep, Now, Since, After and the duration
** constants (seconds as floats: time.Millisecond == 0.001).
*/
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "chan.h"
#include "lugolib.h"
#include "timer.h"

static double wallnow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t deadline(lua_State *L, int i, const char *fname) {
  lua_Number d = luaL_checknumber(L, i);
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
  lugo__timer_start(g->rt, &a->t, when);
  return 1;
}

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
    {"Since", l_since}, {NULL, NULL}
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
