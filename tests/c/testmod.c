/* testmod.c -- a C module for the copy-contract tests: its functions
** cross goroutines by path (require "testmod" in the receiver).  Like any C
** module used from goroutines it keeps no static mutable data. */
#define _GNU_SOURCE
#include <lauxlib.h>
#include <lua.h>
#include <sys/syscall.h>
#include <unistd.h>

static int add(lua_State *L) {
  lua_pushinteger(L, luaL_checkinteger(L, 1) + luaL_checkinteger(L, 2));
  return 1;
}

/* a C closure: only a path can carry it to another goroutine */
static int tag(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  return 1;
}

/* the OS thread running the caller (runtime.LockOSThread tests) */
static int threadid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)syscall(SYS_gettid));
  return 1;
}

int luaopen_testmod(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, add);
  lua_setfield(L, -2, "add");
  lua_pushliteral(L, "tagged");
  lua_pushcclosure(L, tag, 1);
  lua_setfield(L, -2, "tag");
  lua_pushcfunction(L, threadid);
  lua_setfield(L, -2, "threadid");
  return 1;
}
