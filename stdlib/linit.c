/*
** linit.c -- building a goroutine's state: the standard library, lugo's
** modules as globals and as `require "lugo"`, and the few standard
** functions lugo replaces (print, os.exit, coroutine.*).
*/
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lugolib.h"
#include "scheduler.h"

lugo_G *lugo__checkG(lua_State *L) {
  lugo_G *g = lugo__G(L);
  if (g == NULL) luaL_error(L, "not running in a lugo goroutine");
  return g;
}

/* print: each call formats its whole line, then writes it holding stdout's
** lock and flushes, so lines from concurrent goroutines never mix */
static int l_print(lua_State *L) {
  int n = lua_gettop(L), i;
  size_t len;
  const char *s;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '\n');
  luaL_pushresult(&b);
  s = lua_tolstring(L, -1, &len);
  flockfile(stdout);
  fwrite(s, 1, len, stdout);
  fflush(stdout);
  funlockfile(stdout);
  return 0;
}

/* os.exit from any goroutine: flush and end the process now, without
** closing other goroutines' states (they may be running) */
static int l_exit(lua_State *L) {
  int status;
  if (lua_isboolean(L, 1)) status = lua_toboolean(L, 1) ? EXIT_SUCCESS : EXIT_FAILURE;
  else status = (int)luaL_optinteger(L, 1, EXIT_SUCCESS);
  fflush(stdout);
  fflush(stderr);
  _exit(status);
  return 0;
}

static int open_lugo(lua_State *L) {
  lua_newtable(L);
  lua_getglobal(L, "go");
  lua_setfield(L, -2, "go");
  lua_getglobal(L, "chan");
  lua_setfield(L, -2, "chan");
  lua_getglobal(L, "select");
  lua_setfield(L, -2, "select");
  lua_getglobal(L, "time");
  lua_setfield(L, -2, "time");
  lua_getglobal(L, "runtime");
  lua_setfield(L, -2, "runtime");
  return 1;
}

lua_State *lugo__newstate(lugo_runtime *rt, int full) {
  lua_State *L = luaL_newstate();
  (void)full;
  if (L == NULL) return NULL;
  lugo__G(L) = NULL;
  luaL_openlibs(L);
  lugo__open_coroutine(L);
  lua_pushcfunction(L, l_print);
  lua_setglobal(L, "print");
  lua_getglobal(L, "os");
  lua_pushcfunction(L, l_exit);
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);
  lugo__open_go(L);
  lua_setglobal(L, "go");
  lugo__open_chan(L);
  lua_setglobal(L, "chan");
  lugo__open_select(L);
  lua_setglobal(L, "select");
  luaL_requiref(L, "time", lugo__open_time, 1);
  lua_pop(L, 1);
  luaL_requiref(L, "runtime", lugo__open_runtime, 1);
  lua_pop(L, 1);
  luaL_requiref(L, "lugo", open_lugo, 0);
  lua_pop(L, 1);
  /* Lua seeds math.random from the time and the state's address, which a
  ** recycled allocation repeats: give each goroutine its own stream */
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "randomseed");
  lua_pushinteger(L, (lua_Integer)(((uint64_t)lugo__fastrand() << 32) ^ lugo__fastrand()));
  lua_pushinteger(L, (lua_Integer)lugo__nanotime());
  lua_call(L, 2, 0);
  lua_pop(L, 1);
  lugo__marshal_openstate(L);
  if (rt->opt.openlibs) rt->opt.openlibs(L, rt->opt.ud);
  return L;
}
