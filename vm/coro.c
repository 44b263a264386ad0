/*
** coro.c -- lugo's coroutine library: Lua's own, made goroutine-aware.
**
** A goroutine runs in a root coroutine that only the scheduler resumes.
** So: coroutine.yield at the root raises as in lua's main chunk, and
** isyieldable/running answer as they would there.  When a coroutine
** nested inside a goroutine parks or is preempted, it yields with
** g->yieldreason set; resume/wrap see the reason and yield outward in
** turn (forwarding), and resume the inner coroutine when the scheduler
** resumes them.  They also keep g->cur, g->chainok (is every enclosing
** resume yieldable?) and the M's signal coroutine up to date.
** Owner M of the goroutine only.
*/
#include <lauxlib.h>
#include <lualib.h>

#include "scheduler.h"

#define FORWARD (-2)

static lua_State *getco(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co, 1, "coroutine");
  return co;
}

static int doresume(lua_State *L, lua_State *co, int narg, int *nres) {
  lugo_G *g = lugo__G(L);
  int st;
  if (g == NULL) return lua_resume(co, L, narg, nres);
  {
    int savedok = g->chainok;
    lua_State *savedcur = g->cur;
    g->chainok = savedok && lua_isyieldable(L);
    g->cur = co;
    lugo__set_sigco(co);
    st = lua_resume(co, L, narg, nres);
    g->cur = savedcur;
    g->chainok = savedok;
    lugo__set_sigco(savedcur);
    if (st == LUA_YIELD && g->yieldreason != Y_NONE) return FORWARD;
  }
  return st;
}

/* lcorolib's auxresume, plus forwarding */
static int finish(lua_State *L, lua_State *co, int st, int nres) {
  if (st == FORWARD) return FORWARD;
  if (st == LUA_OK || st == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      lua_pushliteral(L, "too many results to resume");
      return -1;
    }
    lua_xmove(co, L, nres);
    return nres;
  }
  lua_xmove(co, L, 1);
  return -1;
}

static int auxresume(lua_State *L, lua_State *co, int narg) {
  int st, nres = 0;
  int s = lua_status(co);
  if (L == co) {
    lua_pushliteral(L, "cannot resume non-suspended coroutine");
    return -1;
  }
  if (s == LUA_OK) {
    lua_Debug ar;
    if (lua_getstack(co, 0, &ar)) {
      lua_pushliteral(L, "cannot resume non-suspended coroutine");
      return -1;
    }
    if (lua_gettop(co) == 0) {
      lua_pushliteral(L, "cannot resume dead coroutine");
      return -1;
    }
  } else if (s != LUA_YIELD) {
    lua_pushliteral(L, "cannot resume dead coroutine");
    return -1;
  }
  if (!lua_checkstack(co, narg)) {
    lua_pushliteral(L, "too many arguments to resume");
    return -1;
  }
  lua_xmove(L, co, narg);
  st = doresume(L, co, narg, &nres);
  return finish(L, co, st, nres);
}

static int resume_k(lua_State *L, int status, lua_KContext ctx);

static int resume_result(lua_State *L, int r) {
  if (r == FORWARD) return lua_yieldk(L, 0, 0, resume_k);
  if (r < 0) {
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_insert(L, -(r + 1));
  return r + 1;
}

static int resume_k(lua_State *L, int status, lua_KContext ctx) {
  lua_State *co = lua_tothread(L, 1);
  int nres = 0, st;
  (void)status;
  (void)ctx;
  st = doresume(L, co, 0, &nres);
  return resume_result(L, finish(L, co, st, nres));
}

static int l_resume(lua_State *L) {
  lua_State *co = getco(L);
  return resume_result(L, auxresume(L, co, lua_gettop(L) - 1));
}

static int wrap_k(lua_State *L, int status, lua_KContext ctx);

static int wrap_result(lua_State *L, lua_State *co, int r) {
  if (r == FORWARD) return lua_yieldk(L, 0, 0, wrap_k);
  if (r < 0) {
    int stat = lua_status(co);
    if (stat != LUA_OK && stat != LUA_YIELD) {
      stat = lua_resetthread(co);
      lua_xmove(co, L, 1);
    }
    if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
      luaL_where(L, 1);
      lua_insert(L, -2);
      lua_concat(L, 2);
    }
    return lua_error(L);
  }
  return r;
}

static int wrap_k(lua_State *L, int status, lua_KContext ctx) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  int nres = 0, st;
  (void)status;
  (void)ctx;
  st = doresume(L, co, 0, &nres);
  return wrap_result(L, co, finish(L, co, st, nres));
}

static int auxwrap(lua_State *L) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  return wrap_result(L, co, auxresume(L, co, lua_gettop(L)));
}

static int l_wrap(lua_State *L) {
  lua_State *NL;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  NL = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, NL, 1);
  lua_pushcclosure(L, auxwrap, 1);
  return 1;
}

static int isroot(lua_State *L, lua_State *co) {
  lugo_G *g = lugo__G(L);
  return g != NULL && co == g->co;
}

static int l_yield(lua_State *L) {
  if (isroot(L, L)) return luaL_error(L, "attempt to yield from outside a coroutine");
  return lua_yield(L, lua_gettop(L));
}

static int l_isyieldable(lua_State *L) {
  lua_State *co = lua_isnone(L, 1) ? L : getco(L);
  lua_pushboolean(L, lua_isyieldable(co) && !isroot(L, co));
  return 1;
}

static int l_running(lua_State *L) {
  int ismain = lua_pushthread(L);
  lua_pushboolean(L, ismain || isroot(L, L));
  return 2;
}

/* [-0, +0, e] replace the scheduler-sensitive functions of `coroutine` */
void lugo__open_coroutine(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"resume", l_resume}, {"wrap", l_wrap}, {"yield", l_yield},
    {"isyieldable", l_isyieldable}, {"running", l_running}, {NULL, NULL}
  };
  luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);
}
