/*
** lselect.c -- the global select: Lua's select(n, ...) and select('#',
** ...) unchanged; select{...} with one table argument is Go's select.
** Every case is checked and every send value copied before any channel is
** locked.  Send values and receive slots live in the goroutine (g->vals),
** since the C stack does not survive a park.
*/
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "lugolib.h"

#define SMALL 16

/* Lua's own select */
static int luaselect(lua_State *L) {
  int n = lua_gettop(L);
  if (lua_type(L, 1) == LUA_TSTRING && *lua_tostring(L, 1) == '#') {
    lua_pushinteger(L, n - 1);
    return 1;
  } else {
    lua_Integer i = luaL_checkinteger(L, 1);
    if (i < 0) i = n + i;
    else if (i > n) i = (lua_Integer)n;
    luaL_argcheck(L, 1 <= i, 1, "index out of range");
    return n - (int)i;
  }
}

static int vals(lua_State *L, lugo_G *g, int n) {
  int i;
  for (i = 0; i < g->nvals; i++) lugo__value_free(&g->vals[i]);
  g->nvals = 0;
  if (n > g->capvals) {
    lugo_value *v = (lugo_value *)realloc(g->vals, (size_t)n * sizeof(*v));
    if (v == NULL) return luaL_error(L, "select: not enough memory");
    g->vals = v;
    g->capvals = n;
  }
  memset(g->vals, 0, (size_t)n * sizeof(*g->vals));
  g->nvals = n;
  if (!lugo__sudogs(g, n)) return luaL_error(L, "select: not enough memory");
  return 0;
}

static int finish_k(lua_State *L, int status, lua_KContext base) {
  (void)status;
  return lua_gettop(L) - (int)base;
}

/* The chosen case idx (0-based) completed with ok.  Case table at 1. */
static int finish(lua_State *L, lugo_G *g, int idx, int ok) {
  int isrecv, base, nargs;
  lua_rawgeti(L, 1, idx + 1);
  isrecv = lua_getfield(L, -1, "recv") != LUA_TNIL;
  lua_pop(L, 1);
  if (!isrecv && !ok) {
    int i;
    for (i = 0; i < g->nvals; i++) lugo__value_free(&g->vals[i]);
    return luaL_error(L, "send on closed channel");
  }
  lua_rawgeti(L, -1, 1);  /* the handler, or nil */
  lua_remove(L, -2);
  base = lua_gettop(L) - 1;
  if (isrecv) {
    lugo__value_push(L, &g->vals[idx]);
    lua_pushboolean(L, ok);
    nargs = 2;
  } else {
    nargs = 0;
  }
  {
    int i;  /* values of sends that did not happen go back */
    for (i = 0; i < g->nvals; i++) lugo__value_free(&g->vals[i]);
  }
  if (g->rt->evhook) {  /* the case's own event, then the select's */
    lugo_chan *c;
    lua_rawgeti(L, 1, idx + 1);
    lua_getfield(L, -1, isrecv ? "recv" : "send");
    c = (lugo_chan *)lugo__obj_test(L, -1, &lugo__chan_type);
    lua_pop(L, 2);
    if (isrecv) LUGO_EVENT(g->rt, LUGO_EV_RECV, g->id, c, ok);
    else LUGO_EVENT(g->rt, LUGO_EV_SEND, g->id, c, 0);
  }
  LUGO_EVENT(g->rt, LUGO_EV_SELECT, g->id, NULL, idx);
  if (lua_isnil(L, base + 1)) {  /* no handler: i[, v, ok] */
    lua_pushinteger(L, idx + 1);
    lua_replace(L, base + 1);
    return nargs + 1;
  }
  lua_callk(L, nargs, LUA_MULTRET, base, finish_k);
  return finish_k(L, LUA_OK, base);
}

static int select_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  int ok = 0, idx;
  (void)status;
  (void)ctx;
  if (g->interrupted) {
    lugo__chan_unpark(g);
    lugo__check_interrupt(L, g);
  }
  idx = lugo__select_done(g, &ok);
  return finish(L, g, idx, ok);
}

static int goselect(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  lugo_selcase small[SMALL], *cases = small;
  int n = (int)lua_rawlen(L, 1), i, idx, ok = 0, hasdefault, block;
  lua_settop(L, 1);
  hasdefault = lua_getfield(L, 1, "default") != LUA_TNIL;
  lua_pop(L, 1);
  block = !hasdefault;
  vals(L, g, n > 0 ? n : 1);
  if (n > SMALL) {
    /* kept alive in slot 2 while the cases are read */
    cases = (lugo_selcase *)lua_newuserdatauv(L, (size_t)n * sizeof(*cases), 0);
  } else {
    lua_pushnil(L);
  }
  for (i = 0; i < n; i++) {
    int tr, ts;
    if (lua_rawgeti(L, 1, i + 1) != LUA_TTABLE)
      return luaL_error(L, "select: case %d is not a table", i + 1);
    tr = lua_getfield(L, -1, "recv");
    ts = lua_getfield(L, -2, "send");
    if ((tr == LUA_TNIL) == (ts == LUA_TNIL))
      return luaL_error(L, "select: case %d must have exactly one of 'recv' or 'send'", i + 1);
    cases[i].isrecv = tr != LUA_TNIL;
    cases[i].val = &g->vals[i];
    {
      int at = cases[i].isrecv ? -2 : -1;
      if (lua_isboolean(L, at) && !lua_toboolean(L, at)) {
        cases[i].c = NULL;  /* Go's nil channel: never ready */
      } else {
        cases[i].c = (lugo_chan *)lugo__obj_test(L, at, &lugo__chan_type);
        if (cases[i].c == NULL)
          return luaL_error(L, "select: case %d: '%s' must be a channel or false",
                            i + 1, cases[i].isrecv ? "recv" : "send");
      }
    }
    lua_pop(L, 2);
    if (lua_rawgeti(L, -1, 1) != LUA_TNIL && !lua_isfunction(L, -1))
      return luaL_error(L, "select: case %d: handler must be a function", i + 1);
    lua_pop(L, 1);
    if (!cases[i].isrecv && cases[i].c != NULL) {
      if (lua_getfield(L, -1, "value") == LUA_TNIL)
        return luaL_error(L, "select: case %d: cannot send nil on a channel", i + 1);
      lugo__value_from(L, -1, &g->vals[i], "select");
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (block) lugo__park_prepare(L, g, n == 0 ? "select (no cases)" : "select");
  idx = n > 0 ? lugo__select(g, cases, n, block, &ok) : (block ? -2 : -1);
  if (n == 0 && block) lugo__park_publish(g);  /* no waiters: only an interrupt */
  if (idx >= 0) {
    if (block) lugo__park_cancel(g);
    lua_settop(L, 1);
    return finish(L, g, idx, ok);
  }
  if (idx == -1) {  /* nothing ready: default */
    for (i = 0; i < g->nvals; i++) lugo__value_free(&g->vals[i]);
    LUGO_EVENT(g->rt, LUGO_EV_SELECT, g->id, NULL, -1);
    lua_settop(L, 1);
    if (lua_getfield(L, 1, "default") == LUA_TFUNCTION) {
      lua_callk(L, 0, LUA_MULTRET, 1, finish_k);
      return finish_k(L, LUA_OK, 1);
    }
    lua_pushliteral(L, "default");
    return 1;
  }
  lua_settop(L, 1);
  return lugo__park(L, g, select_k, 0);
}

static int l_select(lua_State *L) {
  if (lua_gettop(L) == 1 && lua_istable(L, 1)) return goselect(L);
  return luaselect(L);
}

int lugo__open_select(lua_State *L) {
  lua_pushcfunction(L, l_select);
  return 1;
}
