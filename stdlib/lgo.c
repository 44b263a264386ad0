/*
** lgo.c -- go() and the runtime module.
*/
#include <lauxlib.h>
#include <unistd.h>

#include "lugolib.h"
#include "scheduler.h"

/* go(fn, ...) -> id  [-0, +1, e] */
static int l_go(lua_State *L) {
  lugo_G *g = lugo__checkG(L), *ng;
  lugo_blob *b;
  lugo_goid id;
  luaL_checktype(L, 1, LUA_TFUNCTION);
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

int lugo__open_runtime(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"GOMAXPROCS", l_gomaxprocs}, {"NumGoroutine", l_numgoroutine},
    {"NumCPU", l_numcpu}, {"Gosched", l_gosched}, {"Goid", l_goid},
    {NULL, NULL}
  };
  luaL_newlib(L, fns);
  return 1;
}
