/*
** lgo.c -- go() and the runtime module.
*/
#include <lauxlib.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lugolib.h"
#include "race.h"
#include "scheduler.h"
#include "timer.h"

/* go(fn, ...) -> id  [-0, +1, e] */
static int l_go(lua_State *L) {
  lugo_G *g = lugo__checkG(L), *ng;
  lugo_blob *b;
  lugo_goid id;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lugo__race_checkroom(L, g, "go");
  b = lugo__marshal_go(L, 1, lua_gettop(L), "go");
  ng = lugo__spawn(g->rt, b, &id);
  if (ng == NULL) {
    lugo__blob_free(b);
    return luaL_error(L, "go: not enough memory");
  }
  lugo__go(g->rt, ng);
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

int lugo__open_go(lua_State *L) {
  lua_pushcfunction(L, l_go);
  return 1;
}

/* runtime.GOMAXPROCS(n) -> previous; n < 1 (or none) only asks
** [-0, +1, e] */
static int l_gomaxprocs(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  lua_Integer n = luaL_optinteger(L, 1, 0);
  if (n >= 1) {
    if (n > LUGO_MAXPROCS) n = LUGO_MAXPROCS;
    lua_pushinteger(L, lugo__setprocs(g->rt, (int)n));
  } else {
    lua_pushinteger(L, lugo_load(&g->rt->nprocs));
  }
  return 1;
}

static int l_numgoroutine(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  lua_pushinteger(L, lugo_load(&g->rt->ngoroutines));
  return 1;
}

static int l_numcpu(lua_State *L) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  lua_pushinteger(L, n > 0 ? n : 1);
  return 1;
}

static int l_gosched(lua_State *L) {
  lugo__checkG(L);
  return lugo__gosched(L);
}

static int l_goid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lugo__checkG(L)->id);
  return 1;
}

/* runtime.LockOSThread(): this goroutine runs only on its current OS
** thread, and nothing else runs there, until as many UnlockOSThread
** calls (or its end)  [-0, +0, e] */
static int l_lockosthread(lua_State *L) {
  lugo__lockosthread(lugo__checkG(L));
  return 0;
}

static int l_unlockosthread(lua_State *L) {
  lugo__unlockosthread(lugo__checkG(L));  /* unlocked already: no-op, as Go */
  return 0;
}

/* runtime.Stack([all]) -> the dump of this goroutine, or of all of them
** (this one first) as text  [-0, +1, e] */
static int l_stack(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  int all = lua_toboolean(L, 1);
  char *d = lugo__dump(g->rt, g, L, all);
  if (d == NULL) return luaL_error(L, "runtime.Stack: not enough memory");
  lua_pushstring(L, d);
  free(d);
  return 1;
}

/* resident set size in bytes, 0 if unknown */
static lua_Integer rss(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return (lua_Integer)resident * sysconf(_SC_PAGESIZE);
}

/* runtime.Stats() -> a table of counters  [-0, +1, e] */
static int l_stats(lua_State *L) {
  lugo_runtime *rt = lugo__checkG(L)->rt;
  int nm;
  struct mallinfo2 mi = mallinfo2();
  pthread_mutex_lock(&rt->lock);
  nm = rt->nm;
  pthread_mutex_unlock(&rt->lock);
  lua_createtable(L, 0, 9);
  lua_pushinteger(L, lugo_load(&rt->ngoroutines));
  lua_setfield(L, -2, "goroutines");
  lua_pushinteger(L, nm);
  lua_setfield(L, -2, "Ms");
  lua_pushinteger(L, lugo_load(&rt->nprocs));
  lua_setfield(L, -2, "Ps");
  lua_pushinteger(L, lugo_load(&rt->nspawned));
  lua_setfield(L, -2, "spawned");
  lua_pushinteger(L, lugo_load(&rt->nsteal));
  lua_setfield(L, -2, "steals");
  lua_pushinteger(L, lugo_load(&rt->npreempt));
  lua_setfield(L, -2, "preemptions");
  lua_pushinteger(L, lugo_load(&rt->nswitch));
  lua_setfield(L, -2, "switches");
  lua_pushinteger(L, (lua_Integer)(mi.uordblks + mi.hblkhd));
  lua_setfield(L, -2, "memory");
  lua_pushinteger(L, rss());
  lua_setfield(L, -2, "rss");
  lua_pushinteger(L, lugo__timers_pending(rt));
  lua_setfield(L, -2, "timers");
  return 1;
}

int lugo__open_runtime(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"GOMAXPROCS", l_gomaxprocs}, {"NumGoroutine", l_numgoroutine},
    {"NumCPU", l_numcpu}, {"Gosched", l_gosched}, {"Goid", l_goid},
    {"Stack", l_stack}, {"Stats", l_stats}, {"LockOSThread", l_lockosthread},
    {"UnlockOSThread", l_unlockosthread}, {NULL, NULL}
  };
  luaL_newlib(L, fns);
  return 1;
}
