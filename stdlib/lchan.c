/*
** lchan.c -- chan(n) and channel methods.  Arguments are checked and values
** copied before any channel lock is taken; no error is raised while a
** runtime lock is held or while this code owns memory the GC cannot see.
*/
#include <lauxlib.h>
#include <stdint.h>

#include "chan.h"
#include "lugolib.h"

#define MAXCAP ((lua_Integer)1 << 30)

/* the channel at i, or an error naming the method (pcall(c.send, 42)
** leaves Lua no name to report) */
static lugo_chan *checkchan(lua_State *L, int i, const char *fname) {
  return (lugo_chan *)lugo__obj_checkarg(L, i, &lugo__chan_type, "channel",
                                         fname);
}

/* chan([n]) -> channel  [-0, +1, e] */
static int l_chan(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  lua_Integer n = luaL_optinteger(L, 1, 0);
  lugo_chan *c;
  luaL_argcheck(L, n >= 0, 1, "negative capacity");
  luaL_argcheck(L, n <= MAXCAP, 1, "capacity too large");
  c = lugo__chan_new(g->rt, (size_t)n);
  if (c == NULL) return luaL_error(L, "chan: not enough memory");
  lugo__obj_push(L, &c->obj);
  lugo__obj_release(&c->obj);  /* the userdata holds it now */
  return 1;
}

static void checksendable(lua_State *L, int i) {
  if (lua_isnoneornil(L, i)) luaL_error(L, "cannot send nil on a channel");
}

static int send_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  (void)status;
  (void)ctx;
  if (g->interrupted) {
    lugo__chan_unpark(g);
    lugo__value_free(&g->sendv);
    lugo__check_interrupt(L, g);
  }
  g->nsg = 0;
  if (!g->wonsg->success) {
    lugo__value_free(&g->sendv);
    return luaL_error(L, "send on closed channel");
  }
  return 0;
}

/* ch:send(v)  [-0, +0, e] */
static int l_send(lua_State *L) {
  lugo_chan *c = checkchan(L, 1, "send");
  lugo_G *g = lugo__checkG(L);
  int r;
  checksendable(L, 2);
  lugo__value_free(&g->sendv);
  lugo__value_from(L, 2, &g->sendv, "send");
  r = lugo__chan_send(c, &g->sendv, NULL);
  if (r == LUGO_CHAN_BLOCK) {
    lugo__park_prepare(L, g, "chan send");
    r = lugo__chan_send(c, &g->sendv, g);
    if (r != LUGO_CHAN_PARKED) lugo__park_cancel(g);
  }
  LUGO_EVENT(g->rt, LUGO_EV_SEND, g->id, c, 0);
  switch (r) {
    case LUGO_CHAN_DONE: return 0;
    case LUGO_CHAN_CLOSED:
      lugo__value_free(&g->sendv);
      return luaL_error(L, "send on closed channel");
    default: return lugo__park(L, g, send_k, 0);
  }
}

/* push what a receive got: v, ok (or only v for the range iterator) */
static int pushrecv(lua_State *L, lugo_G *g, int ok, int iter) {
  lugo__value_push(L, &g->recvv);
  if (iter) return 1;
  lua_pushboolean(L, ok);
  return 2;
}

static int recv_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  (void)status;
  if (g->interrupted) {
    lugo__chan_unpark(g);
    lugo__value_free(&g->recvv);
    lugo__check_interrupt(L, g);
  }
  g->nsg = 0;
  LUGO_EVENT(g->rt, LUGO_EV_RECV, g->id, g->wonsg->c, g->wonsg->success);
  return pushrecv(L, g, g->wonsg->success, (int)ctx);
}

static int dorecv(lua_State *L, lugo_chan *c, int iter) {
  lugo_G *g = lugo__checkG(L);
  int ok, r;
  lugo__value_free(&g->recvv);
  r = lugo__chan_recv(c, &g->recvv, &ok, NULL);
  if (r == LUGO_CHAN_BLOCK) {
    lugo__park_prepare(L, g, "chan receive");
    r = lugo__chan_recv(c, &g->recvv, &ok, g);
    if (r != LUGO_CHAN_PARKED) lugo__park_cancel(g);
  }
  if (r == LUGO_CHAN_DONE) {
    LUGO_EVENT(g->rt, LUGO_EV_RECV, g->id, c, ok);
    return pushrecv(L, g, ok, iter);
  }
  return lugo__park(L, g, recv_k, iter);
}

/* ch:recv() -> v, ok  [-0, +2, e] */
static int l_recv(lua_State *L) {
  return dorecv(L, checkchan(L, 1, "recv"), 0);
}

/* ch:trysend(v) -> ok  [-0, +1, e] */
static int l_trysend(lua_State *L) {
  lugo_chan *c = checkchan(L, 1, "trysend");
  lugo_G *g = lugo__checkG(L);
  int r;
  checksendable(L, 2);
  lugo__value_free(&g->sendv);
  lugo__value_from(L, 2, &g->sendv, "trysend");
  r = lugo__chan_send(c, &g->sendv, NULL);
  if (r == LUGO_CHAN_CLOSED) {
    lugo__value_free(&g->sendv);
    return luaL_error(L, "send on closed channel");
  }
  if (r == LUGO_CHAN_BLOCK) lugo__value_free(&g->sendv);
  else LUGO_EVENT(g->rt, LUGO_EV_SEND, g->id, c, 0);
  lua_pushboolean(L, r == LUGO_CHAN_DONE);
  return 1;
}

/* ch:tryrecv() -> v, ok, ready  [-0, +3, e] */
static int l_tryrecv(lua_State *L) {
  lugo_chan *c = checkchan(L, 1, "tryrecv");
  lugo_G *g = lugo__checkG(L);
  int ok = 0, r;
  lugo__value_free(&g->recvv);
  r = lugo__chan_recv(c, &g->recvv, &ok, NULL);
  if (r == LUGO_CHAN_BLOCK) {
    lua_pushnil(L);
    lua_pushboolean(L, 0);
    lua_pushboolean(L, 0);
    return 3;
  }
  LUGO_EVENT(g->rt, LUGO_EV_RECV, g->id, c, ok);
  pushrecv(L, g, ok, 0);
  lua_pushboolean(L, 1);
  return 3;
}

static int l_close(lua_State *L) {
  lugo_chan *c = checkchan(L, 1, "close");
  lugo_G *g = lugo__G(L);
  if (lugo__chan_close(c, g ? g->id : 0) == LUGO_CHAN_CLOSED)
    return luaL_error(L, "close of closed channel");
  return 0;
}

static int l_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lugo__chan_len(checkchan(L, 1, "len")));
  return 1;
}

static int l_cap(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)checkchan(L, 1, "cap")->cap);
  return 1;
}

static int range_iter(lua_State *L) {
  return dorecv(L, checkchan(L, 1, "range"), 1);
}

/* for v in ch:range() do ... end */
static int l_range(lua_State *L) {
  checkchan(L, 1, "range");
  lua_pushcfunction(L, range_iter);
  lua_pushvalue(L, 1);
  return 2;
}

static int l_tostring(lua_State *L) {
  lugo_chan *c = checkchan(L, 1, "tostring");
  lua_pushfstring(L, "chan: %p", (void *)c);
  return 1;
}

static void chan_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"send", l_send}, {"recv", l_recv}, {"trysend", l_trysend},
    {"tryrecv", l_tryrecv}, {"close", l_close}, {"len", l_len},
    {"cap", l_cap}, {"range", l_range}, {NULL, NULL}
  };
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_len);
  lua_setfield(L, -2, "__len");
  lua_pushcfunction(L, l_tostring);
  lua_setfield(L, -2, "__tostring");
}

const lugo_objtype lugo__chan_type = {0, "lugo.chan", lugo__chan_free,
                                      chan_metatable, NULL};

int lugo__open_chan(lua_State *L) {
  lua_pushcfunction(L, l_chan);
  return 1;
}
