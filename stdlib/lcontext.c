/*
** lcontext.c -- package context (C core in vm/context.c): Background,
** TODO, WithCancel, WithTimeout, WithDeadline, WithValue; a context's
** Done, Err, Value and Deadline.
**
** A CancelFunc must cross goroutines like any function (Go code passes
** cancel around freely), and a C closure with an upvalue does not cross
** (DESIGN 2).  So it is a Lua closure over two values that do: a known C
** function (the metatable's __cancel) and the context itself.  Its maker
** is loaded once per state and kept in the metatable (__cancelfunc); it
** holds no upvalue, so a pooled state keeps it with nothing of any
** goroutine in it.
*/
#include <lauxlib.h>
#include <stdio.h>
#include <time.h>

#include "chan.h"
#include "context.h"
#include "lugolib.h"
#include "marshal.h"
#include "race.h"

#define CTX (&lugo__ctx_type)

static const char *const errs[] = {
  NULL, "context canceled", "context deadline exceeded"
};

static const char KEYS[] = "a string, number, boolean or runtime object";

#define checkctx(L, i, f) \
  ((lugo_ctx *)lugo__obj_checkarg(L, i, CTX, "context", f))

static long long goid(lua_State *L) {
  lugo_G *g = lugo__G(L);
  return g ? g->id : 0;
}

static double wallnow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* [-0, +0, v] a number (or a string convertible to one), not NaN */
static double checknum(lua_State *L, int i, const char *fname,
                       const char *what) {
  int ok;
  lua_Number n = lua_tonumberx(L, i, &ok);
  if (!ok)
    luaL_error(L, "bad argument #%d to '%s' (number expected, got %s)", i,
               fname, luaL_typename(L, i));
  if (n != n) luaL_error(L, "%s: %s is NaN", fname, what);
  return (double)n;
}

/* [-0, +0, v] the key at idx (borrowed: it must stay on the stack).
** Keys are what compares equal in every goroutine: strings, numbers (an
** integral float is the integer, as for table keys), booleans and
** runtime objects (by identity).  A table or function key would be a
** different copy in each goroutine and could never be found. */
static void tokey(lua_State *L, int idx, lugo_shkey *k, const char *fname) {
  switch (lugo__sh_tokey(L, idx, k)) {
    case LUGO_KEY_OK: return;
    case LUGO_KEY_NAN: luaL_error(L, "%s: key is NaN", fname); return;
    default: break;
  }
  if (lua_type(L, idx) == LUA_TTHREAD) lua_pushliteral(L, "coroutine");
  else if (luaL_getmetafield(L, idx, "__name") != LUA_TSTRING)  /* FILE* */
    lua_pushstring(L, luaL_typename(L, idx));
  luaL_error(L, "%s: key must be %s (got %s)", fname, KEYS,
             lua_tostring(L, -1));
}

/* ---------------------------------------------------------------------
** making contexts
** ------------------------------------------------------------------- */

static int ctx_cancel(lua_State *L);

/* [-0, +1, e] the CancelFunc of the context at idx */
static void pushcancel(lua_State *L, int idx) {
  static const char src[] =
      "local cancel, ctx = ...\nreturn function() cancel(ctx) end\n";
  idx = lua_absindex(L, idx);
  lugo__obj_metatable(L, CTX);
  lua_pushliteral(L, "__cancelfunc");
  if (lua_rawget(L, -2) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    if (luaL_loadbufferx(L, src, sizeof(src) - 1, "=(context)", "t") != LUA_OK)
      lua_error(L);
    lua_pushnil(L);  /* its _ENV: the maker reads no global */
    lua_setupvalue(L, -2, 1);
    lua_pushliteral(L, "__cancelfunc");
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
  }
  lua_remove(L, -2);
  lua_pushcfunction(L, ctx_cancel);
  lua_pushvalue(L, idx);
  lua_call(L, 2, 1);
}

/* [-0, +2, e] a new cancellable context (refs 1) and its CancelFunc */
static int pushchild(lua_State *L, lugo_cctx *c, const char *fname) {
  if (c == NULL) return luaL_error(L, "%s: not enough memory", fname);
  lugo__obj_push(L, &c->c.obj);
  lugo__obj_release(&c->c.obj);  /* the userdata holds it now */
  lugo__ctx_start(c, goid(L));
  pushcancel(L, -1);
  return 2;
}

static int pushroot(lua_State *L, int kind, const char *fname) {
  lugo_G *g = lugo__checkG(L);
  lugo_ctx *c = lugo__ctx_root(g->rt, kind);
  if (c == NULL) return luaL_error(L, "%s: not enough memory", fname);
  lugo__obj_push(L, &c->obj);
  lugo__obj_release(&c->obj);
  return 1;
}

/* context.Background() -> ctx  [-0, +1, e] */
static int l_background(lua_State *L) {
  return pushroot(L, LUGO_CTX_BACKGROUND, "context.Background");
}

/* context.TODO() -> ctx  [-0, +1, e] */
static int l_todo(lua_State *L) {
  return pushroot(L, LUGO_CTX_TODO, "context.TODO");
}

/* context.WithCancel(parent) -> ctx, cancel  [-0, +2, e] */
static int l_withcancel(lua_State *L) {
  lugo_ctx *p = checkctx(L, 1, "context.WithCancel");
  lugo__checkG(L);
  return pushchild(L, lugo__ctx_newcancel(p), "context.WithCancel");
}

/* the monotonic time d seconds from now (clamped as time.Sleep's) */
static int64_t monoafter(double d) {
  if (!(d > 0)) return lugo__nanotime();
  if (d > 1e9) d = 1e9;  /* ~31 years: forever enough */
  return lugo__nanotime() + (int64_t)(d * 1e9);
}

/* context.WithTimeout(parent, d) -> ctx, cancel  [-0, +2, e] */
static int l_withtimeout(lua_State *L) {
  static const char fname[] = "context.WithTimeout";
  lugo_ctx *p = checkctx(L, 1, fname);
  double d = checknum(L, 2, fname, "duration");
  lugo__checkG(L);
  return pushchild(L, lugo__ctx_newdeadline(p, wallnow() + d, monoafter(d)),
                   fname);
}

/* context.WithDeadline(parent, t) -> ctx, cancel  [-0, +2, e] */
static int l_withdeadline(lua_State *L) {
  static const char fname[] = "context.WithDeadline";
  lugo_ctx *p = checkctx(L, 1, fname);
  double t = checknum(L, 2, fname, "deadline");
  lugo__checkG(L);
  return pushchild(L, lugo__ctx_newdeadline(p, t, monoafter(t - wallnow())),
                   fname);
}

/* context.WithValue(parent, k, v) -> ctx  [-0, +1, e] */
static int l_withvalue(lua_State *L) {
  static const char fname[] = "context.WithValue";
  lugo_ctx *p = checkctx(L, 1, fname);
  lugo_shkey k;
  lugo_value v;
  lugo_vctx *c;
  lugo__checkG(L);
  tokey(L, 2, &k, fname);
  lua_settop(L, 3);  /* a missing value is nil (the key stays put) */
  lugo__value_from(L, 3, &v, fname);  /* raises before we own anything */
  c = lugo__ctx_newvalue(p, &k, &v);
  if (c == NULL) {
    lugo__value_free(&v);
    return luaL_error(L, "%s: not enough memory", fname);
  }
  lugo__obj_push(L, &c->c.obj);
  lugo__obj_release(&c->c.obj);
  return 1;
}

/* ---------------------------------------------------------------------
** methods
** ------------------------------------------------------------------- */

/* the race detector: a goroutine that sees c cancelled (Err, or a Done
** channel that may have been made closed) follows the cancel */
static void raceseen(lua_State *L, lugo_ctx *c, int err) {
  lugo_G *g = lugo__G(L);
  if (g != NULL && LUGO_RACE(g) && err != LUGO_CTX_LIVE)
    lugo__race_acquire(g, &c->dnode->c.obj, 0);  /* whose cancel it was */
}

/* ctx:Done() -> channel  [-0, +1, e] */
static int l_done(lua_State *L) {
  lugo_ctx *c = checkctx(L, 1, "Done");
  lugo_chan *d = lugo__ctx_done(c, goid(L));
  if (d == NULL) return luaL_error(L, "context.Done: not enough memory");
  raceseen(L, c, lugo__ctx_err(c));  /* it may have been made closed */
  lugo__obj_push(L, &d->obj);
  return 1;
}

/* ctx:Err() -> nil | "context canceled" | "context deadline exceeded" */
static int l_err(lua_State *L) {
  lugo_ctx *c = checkctx(L, 1, "Err");
  int err = lugo__ctx_err(c);
  const char *e = errs[err];
  raceseen(L, c, err);
  if (e) lua_pushstring(L, e); else lua_pushnil(L);
  return 1;
}

/* ctx:Value(k) -> v (a copy) or nil  [-0, +1, e] */
static int l_value(lua_State *L) {
  lugo_ctx *c = checkctx(L, 1, "Value");
  lugo_shkey k;
  const lugo_value *v;
  tokey(L, 2, &k, "context.Value");
  v = lugo__ctx_value(c, &k);
  if (v) lugo__value_pushcopy(L, v); else lua_pushnil(L);
  return 1;
}

/* ctx:Deadline() -> t, true | nil, false  [-0, +2, -] */
static int l_deadline(lua_State *L) {
  lugo_ctx *c = checkctx(L, 1, "Deadline");
  if (c->hasdl) lua_pushnumber(L, (lua_Number)c->dl); else lua_pushnil(L);
  lua_pushboolean(L, c->hasdl);
  return 2;
}

/* the CancelFunc's work (the metatable's __cancel): idempotent, any
** goroutine  [-0, +0, -] */
static int ctx_cancel(lua_State *L) {
  lugo_ctx *c = (lugo_ctx *)lugo__obj_test(L, 1, CTX);
  if (c != NULL && (c->kind == LUGO_CTX_CANCEL || c->kind == LUGO_CTX_DEADLINE))
    lugo__ctx_cancel((lugo_cctx *)c, goid(L));
  return 0;
}

/* [-0, +1, m] how a key reads in a context's name */
static void pushkey(lua_State *L, const lugo_shval *k) {
  switch (k->t) {
    case LUGO_SV_SSTR: lua_pushlstring(L, lugo_sv_str(k), k->len); break;
    case LUGO_SV_LSTR: lua_pushlstring(L, k->u.ls->s, k->u.ls->len); break;
    case LUGO_SV_INT: lua_pushfstring(L, "%I", (LUAI_UACINT)k->u.i); break;
    case LUGO_SV_FLT: lua_pushfstring(L, "%f", (LUAI_UACNUMBER)k->u.n); break;
    case LUGO_SV_TRUE: lua_pushliteral(L, "true"); break;
    case LUGO_SV_FALSE: lua_pushliteral(L, "false"); break;
    case LUGO_SV_OBJ: lua_pushstring(L, k->u.o->type->tname); break;
    default: lua_pushliteral(L, "?"); break;
  }
}

/* [-0, +1, e] how a value reads in a context's name: Go's stringify --
** strings as they are, scalars as tostring shows them, the rest by type */
static void pushval(lua_State *L, const lugo_value *v) {
  lugo__value_pushcopy(L, v);
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: return;
    case LUA_TNUMBER: case LUA_TBOOLEAN: case LUA_TNIL:
      luaL_tolstring(L, -1, NULL);
      break;
    default:
      if (lugo__obj_test(L, -1, NULL) == NULL ||
          luaL_getmetafield(L, -1, "__name") != LUA_TSTRING)
        lua_pushstring(L, luaL_typename(L, -1));
      break;
  }
  lua_remove(L, -2);
}

/* [-0, +1, e] one link of the name, as Go's String methods spell it */
static void pushlink(lua_State *L, lugo_ctx *c) {
  char b[96];
  switch (c->kind) {
    case LUGO_CTX_BACKGROUND: lua_pushliteral(L, "context.Background"); break;
    case LUGO_CTX_TODO: lua_pushliteral(L, "context.TODO"); break;
    case LUGO_CTX_CANCEL: lua_pushliteral(L, ".WithCancel"); break;
    case LUGO_CTX_DEADLINE:
      snprintf(b, sizeof(b), ".WithDeadline(%.3f [%.3fs])", c->dl,
               c->dl - wallnow());
      lua_pushstring(L, b);
      break;
    default: {
      lugo_vctx *v = (lugo_vctx *)c;
      lua_pushliteral(L, ".WithValue(");
      pushkey(L, &v->key);
      lua_pushliteral(L, ", ");
      pushval(L, &v->val);
      lua_pushliteral(L, ")");
      lua_concat(L, 5);
      break;
    }
  }
}

/* tostring(ctx): "context.Background.WithCancel.WithValue(k, v)" */
static int l_tostring(lua_State *L) {
  lugo_ctx *c = checkctx(L, 1, "tostring");
  luaL_Buffer B;
  int n = 0;
  lua_settop(L, 1);
  lua_newtable(L);  /* the links, innermost first (a chain may be long) */
  for (; c != NULL; c = c->parent) {
    pushlink(L, c);
    lua_rawseti(L, 2, ++n);
  }
  luaL_buffinit(L, &B);
  for (; n > 0; n--) {
    lua_rawgeti(L, 2, n);
    luaL_addvalue(&B);
  }
  luaL_pushresult(&B);
  return 1;
}

static void ctx_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Done", l_done}, {"Err", l_err}, {"Value", l_value},
    {"Deadline", l_deadline}, {NULL, NULL}
  };
  lugo__obj_methods(L, methods, l_tostring);
  lua_pushcfunction(L, ctx_cancel);  /* known, so CancelFuncs cross */
  lua_setfield(L, -2, "__cancel");
}

const lugo_objtype lugo__ctx_type = {12, "context.Context", lugo__ctx_free,
                                     ctx_metatable, NULL};

int lugo__open_context(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"Background", l_background}, {"TODO", l_todo},
    {"WithCancel", l_withcancel}, {"WithTimeout", l_withtimeout},
    {"WithDeadline", l_withdeadline}, {"WithValue", l_withvalue},
    {NULL, NULL}
  };
  luaL_newlib(L, fns);
  lua_pushstring(L, errs[LUGO_CTX_CANCELED]);
  lua_setfield(L, -2, "Canceled");
  lua_pushstring(L, errs[LUGO_CTX_EXCEEDED]);
  lua_setfield(L, -2, "DeadlineExceeded");
  return 1;
}
