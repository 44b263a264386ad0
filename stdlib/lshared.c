/*
** lshared.c -- package shared: shared.table, shared.freeze, shared.type
** (C core in vm/shared.c).  Called by the goroutine owning the state.
**
** Ownership across raises.  Anything this file takes a reference to while
** it may still raise lives in a *holder* (a userdata whose __gc releases
** it), never in a C local: a holder made before the reference is taken,
** filled right after.  So a conversion that fails half way (an uncopyable
** value deep inside) leaves garbage for the collector, never a leak.
** References from the core without a holder are only taken right before
** the core call that consumes them.
**
** Reading without references.  A value read from a shared table is
** copied out under the table's lock; a long string into the goroutine's
** buffer, an object or a blob as a bare pointer.  Such a pointer is used
** only when this state already holds that very object: an object interned
** here (lugo__obj_pushknown), or a blob in this state's function cache,
** which holds a reference to it -- an object alive since then cannot share
** its address with another.  Otherwise the value is read again with
** references, into a holder.
*/
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "lugolib.h"
#include "marshal.h"
#include "scheduler.h"
#include "race.h"
#include "shared.h"

#define SHT (&lugo__shtable_type)
#define FZT (&lugo__frozen_type)
#define BIGBUF (64 * 1024)  /* a larger read buffer is not kept */

static const char HOLDMT = 'h';   /* registry: the holders' metatable */
static const char SNAPMT = 's';   /* registry: pairs snapshots' metatable */
static const char FNCACHE = 'f';  /* registry: blob -> holder whose user
                                     value 1 is the loaded value; [0] how
                                     many, [-1] when to prune */

/* ---------------------------------------------------------------------
** holders
** ------------------------------------------------------------------- */

typedef struct hold { lugo_shval v; } hold;

static int hold_gc(lua_State *L) {
  hold *h = (hold *)lua_touserdata(L, 1);
  if (h) lugo__shval_free(&h->v);
  return 0;
}

/* [-0, +1, m] a new empty holder (one user value) */
static hold *newhold(lua_State *L) {
  hold *h = (hold *)lua_newuserdatauv(L, sizeof(hold), 1);
  h->v.t = LUGO_SV_NIL;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &HOLDMT) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, hold_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &HOLDMT);
  }
  lua_setmetatable(L, -2);
  return h;
}

/* ---------------------------------------------------------------------
** functions (and other blobs) read: loaded once per state, cached
** ------------------------------------------------------------------- */

/* [-0, +(0|1), m] push the value loaded from b earlier in this state */
static int cache_get(lua_State *L, lugo_shblob *b) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &FNCACHE) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_rawgetp(L, -1, b) != LUA_TUSERDATA) {
    lua_pop(L, 2);
    return 0;
  }
  lua_getiuservalue(L, -1, 1);
  lua_replace(L, -3);
  lua_pop(L, 1);
  return 1;
}

static lua_Integer getn(lua_State *L, int t, lua_Integer k) {
  lua_Integer n;
  lua_rawgeti(L, t, k);
  n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return n;
}

/* [-0, +0, m] the holder at h (holding b), the loaded value on top:
** remember it.  Entries whose blob nobody else holds any more (no table
** can give it out again) are dropped now and then. */
static void cache_put(lua_State *L, int h, lugo_shblob *b) {
  lua_Integer n, limit;
  int c;
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, h, 1);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &FNCACHE) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &FNCACHE);
  }
  c = lua_gettop(L);
  lua_pushvalue(L, h);
  lua_rawsetp(L, c, b);
  n = getn(L, c, 0) + 1;
  limit = getn(L, c, -1);
  if (limit < 64) limit = 64;
  if (n > limit) {
    lua_pushnil(L);
    while (lua_next(L, c)) {
      hold *e = lua_type(L, -2) == LUA_TLIGHTUSERDATA ? (hold *)lua_touserdata(L, -1) : NULL;
      lua_pop(L, 1);
      /* acquire: the other holders' releases happened before */
      if (e && e->v.t == LUGO_SV_BLOB &&
          atomic_load_explicit(&e->v.u.b->refs, memory_order_acquire) == 1) {
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, c);  /* clearing a field while traversing is allowed */
        n--;
      }
    }
    lua_pushinteger(L, 2 * n);
    lua_rawseti(L, c, -1);
  }
  lua_pushinteger(L, n);
  lua_rawseti(L, c, 0);
  lua_pop(L, 1);
}

/* [-0, +1, e] push b's value (b held by someone for the duration) */
static void pushblob(lua_State *L, lugo_shblob *b) {
  hold *h;
  int hi;
  if (cache_get(L, b)) return;
  h = newhold(L);
  hi = lua_gettop(L);
  /* relaxed: the caller's holder keeps b alive */
  atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
  h->v.t = LUGO_SV_BLOB;
  h->v.u.b = b;
  lugo__unmarshal_copy(L, b->b);
  cache_put(L, hi, b);
  lua_remove(L, hi);
}

/* [-0, +1, e] push v, whose references somebody holds for the duration */
static void pushheld(lua_State *L, const lugo_shval *v) {
  switch (v->t) {
    case LUGO_SV_FALSE: lua_pushboolean(L, 0); break;
    case LUGO_SV_TRUE: lua_pushboolean(L, 1); break;
    case LUGO_SV_INT: lua_pushinteger(L, v->u.i); break;
    case LUGO_SV_FLT: lua_pushnumber(L, v->u.n); break;
    case LUGO_SV_SSTR: lua_pushlstring(L, lugo_sv_str(v), v->len); break;
    case LUGO_SV_LSTR: lua_pushlstring(L, v->u.ls->s, v->u.ls->len); break;
    case LUGO_SV_OBJ: lugo__obj_push(L, v->u.o); break;
    case LUGO_SV_BLOB: pushblob(L, v->u.b); break;
    default: lua_pushnil(L);
  }
}

/* ---------------------------------------------------------------------
** keys and paths
** ------------------------------------------------------------------- */

static const char *tname(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TTHREAD: return "coroutine";
    case LUA_TLIGHTUSERDATA: return "light userdata";
    default: return luaL_typename(L, idx);
  }
}

/* [-0, +0, v] "fname: what" plus " (at path)" when path is not empty */
static int raiseat(lua_State *L, const char *fname, const char *what,
                   const char *path) {
  if (path && *path) return luaL_error(L, "%s: %s (at %s)", fname, what, path);
  return luaL_error(L, "%s: %s", fname, what);
}

int lugo__sh_tokey(lua_State *L, int idx, lugo_shkey *k) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      lugo__shkey_str(k, s, len);
      return LUGO_KEY_OK;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        lugo__shkey_int(k, lua_tointeger(L, idx));
      } else {
        lua_Number n = lua_tonumber(L, idx);
        if (n != n) return LUGO_KEY_NAN;
        lugo__shkey_num(k, n);
      }
      return LUGO_KEY_OK;
    case LUA_TBOOLEAN: lugo__shkey_bool(k, lua_toboolean(L, idx)); return LUGO_KEY_OK;
    case LUA_TNIL: return LUGO_KEY_NIL;
    case LUA_TUSERDATA: {
      lugo_obj *o = lugo__obj_test(L, idx, NULL);
      if (o == NULL) break;
      lugo__shkey_obj(k, o);
      return LUGO_KEY_OK;
    }
    default: break;
  }
  return LUGO_KEY_TYPE;
}

/* [-0, +0, v] as lugo__sh_tokey, raising fname's error (at path) */
static void tokey_(lua_State *L, int idx, lugo_shkey *k, const char *fname,
                   const char *path) {
  switch (lugo__sh_tokey(L, idx, k)) {
    case LUGO_KEY_OK: return;
    case LUGO_KEY_NAN: raiseat(L, fname, "key is NaN", path); return;
    case LUGO_KEY_NIL: raiseat(L, fname, "key is nil", path); return;
    default:
      lua_pushfstring(L, "cannot use a %s as a key (keys are strings, numbers, "
                      "booleans or runtime objects)", tname(L, idx));
      raiseat(L, fname, lua_tostring(L, -1), path);
  }
}

#define tokey(L, idx, k, fname) do {                                     \
    if (lua_type(L, idx) == LUA_TSTRING) {  /* the usual case, inline */ \
      size_t len_;                                                       \
      const char *s_ = lua_tolstring(L, idx, &len_);                     \
      lugo__shkey_str(k, s_, len_);                                      \
    } else {                                                             \
      tokey_(L, idx, k, fname, NULL);                                    \
    }                                                                    \
  } while (0)

/* [-0, +1, m] how a key reads in a path */
static void pushstep(lua_State *L, int key) {
  switch (lua_type(L, key)) {
    case LUA_TSTRING: lua_pushfstring(L, "field '%s'", lua_tostring(L, key)); break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, key))
        lua_pushfstring(L, "index %I", (LUAI_UACINT)lua_tointeger(L, key));
      else
        lua_pushfstring(L, "key %f", (LUAI_UACNUMBER)lua_tonumber(L, key));
      break;
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, key) ? "key true" : "key false");
      break;
    default:
      if (luaL_getmetafield(L, key, "__name") != LUA_TSTRING)
        lua_pushstring(L, luaL_typename(L, key));
      lua_pushfstring(L, "key (%s)", lua_tostring(L, -1));
      lua_remove(L, -2);
  }
}

/* ---------------------------------------------------------------------
** conversion: a Lua value into a stored one.  Plain tables become shared
** tables (or nodes of the frozen graph being built), breadth first, one
** node per table met, so identity and cycles inside one stored graph are
** kept; anything else that is not a scalar, a string or a runtime object
** is carried by the copy contract (a blob).
** ------------------------------------------------------------------- */

typedef struct conv {
  lua_State *L;
  lugo_G *g;
  const char *fname;
  lugo_frozen *root;  /* freezing into root's graph; NULL: shared tables */
  int seen;     /* stack: table, function, userdata -> holder (or, freezing,
                   table -> its node as a light userdata) */
  int queue;    /* stack: [1..qn] tables whose entries are due */
  int parent;   /* stack: table -> the table it was met in (for paths) */
  int keyof;    /* stack: table -> its key there */
  int rootkey;  /* stack index of the key the value is stored under, or 0 */
  int qn;
} conv;

static void conv_init(conv *c, lua_State *L, lugo_G *g, const char *fname,
                      lugo_frozen *root, int rootkey) {
  c->L = L;
  c->g = g;
  c->fname = fname;
  c->root = root;
  c->rootkey = rootkey;
  c->qn = 0;
  luaL_checkstack(L, 24, NULL);
  lua_newtable(L);
  c->seen = lua_gettop(L);
  lua_newtable(L);
  c->queue = lua_gettop(L);
  lua_newtable(L);
  c->parent = lua_gettop(L);
  lua_newtable(L);
  c->keyof = lua_gettop(L);
}

#define PATHSTEPS 16  /* steps shown in an error path, innermost */

/* [-0, +1, m] the path of the value under key (stack index, or 0) in the
** table tbl (stack index, or 0: the value stored itself) */
static void pushpath(conv *c, int tbl, int key) {
  lua_State *L = c->L;
  luaL_Buffer B;
  int n = 0, i, steps, more = 0;
  luaL_checkstack(L, 10, NULL);
  lua_newtable(L);
  steps = lua_gettop(L);
  if (key) {
    pushstep(L, key);
    lua_rawseti(L, steps, ++n);
  }
  if (tbl) {
    lua_pushvalue(L, tbl);
    for (;;) {  /* the table on top, replaced by its parent */
      lua_pushvalue(L, -1);
      if (lua_rawget(L, c->keyof) == LUA_TNIL) {  /* the value stored */
        lua_pop(L, 2);
        break;
      }
      if (n == PATHSTEPS) {
        lua_pop(L, 2);
        more = 1;
        break;
      }
      pushstep(L, lua_gettop(L));
      lua_remove(L, -2);
      lua_rawseti(L, steps, ++n);
      lua_rawget(L, c->parent);
    }
  }
  if (c->rootkey && !more) {
    pushstep(L, c->rootkey);
    lua_rawseti(L, steps, ++n);
  }
  luaL_buffinit(L, &B);
  if (more) luaL_addstring(&B, "...");
  for (i = n; i >= 1; i--) {  /* outermost first */
    if (luaL_bufflen(&B) > 0) luaL_addchar(&B, ' ');  /* before the push:
                                                         the buffer is on top */
    lua_rawgeti(L, steps, i);
    luaL_addvalue(&B);
  }
  luaL_pushresult(&B);
  lua_remove(L, steps);
}

static void conv_key(conv *c, int idx, lugo_shkey *k, int tbl) {
  lua_State *L = c->L;
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN ||
      (t == LUA_TUSERDATA && lugo__obj_test(L, idx, NULL) != NULL)) {
    tokey_(L, idx, k, c->fname, NULL);
    return;
  }
  pushpath(c, tbl, 0);
  tokey_(L, idx, k, c->fname, lua_tostring(L, -1));
}

/* [-0, +0, e] a value the copy contract carries (one holder per function
** or userdata met, so one stored graph holds one copy of each) */
static void conv_blob(conv *c, int idx, int tbl, int key, lugo_shval *out) {
  lua_State *L = c->L;
  int t = lua_type(L, idx);
  int keyed = t == LUA_TFUNCTION || t == LUA_TUSERDATA || t == LUA_TTABLE;
  hold *h;
  lugo_blob *b;
  lugo_shblob *sb;
  if (keyed) {
    lua_pushvalue(L, idx);
    if (lua_rawget(L, c->seen) == LUA_TUSERDATA) {
      *out = ((hold *)lua_touserdata(L, -1))->v;
      lua_pop(L, 1);
      return;
    }
    lua_pop(L, 1);
  }
  pushpath(c, tbl, key);
  h = newhold(L);
  b = lugo__marshal_at(L, idx, c->fname, lua_tostring(L, -2));
  sb = lugo__shblob_new(b);
  if (sb == NULL) {
    lugo__blob_free(b);
    luaL_error(L, "%s: not enough memory", c->fname);
  }
  h->v.t = LUGO_SV_BLOB;
  h->v.u.b = sb;
  *out = h->v;
  if (keyed) {
    lua_pushvalue(L, idx);
    lua_pushvalue(L, -2);
    lua_rawset(L, c->seen);
  }
  lua_pop(L, 2);  /* a holder not in seen is garbage: the GC releases */
}

/* [-0, +0, e] a plain table: its node (made and queued if new) */
static void conv_table(conv *c, int idx, int tbl, int key, lugo_shval *out) {
  lua_State *L = c->L;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, c->seen) != LUA_TNIL) {
    out->t = LUGO_SV_OBJ;
    out->u.o = c->root ? &((lugo_frozen *)lua_touserdata(L, -1))->obj
                       : ((hold *)lua_touserdata(L, -1))->v.u.o;
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  out->t = LUGO_SV_OBJ;
  if (c->root) {
    lugo_frozen *f = lugo__fz_node(c->root);
    if (f == NULL) luaL_error(L, "%s: not enough memory", c->fname);
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, f);
    out->u.o = &f->obj;
  } else {
    hold *h = newhold(L);
    lugo_shtable *t = lugo__sh_new(c->g->rt->shreg);
    if (t == NULL) luaL_error(L, "%s: not enough memory", c->fname);
    h->v.t = LUGO_SV_OBJ;
    h->v.u.o = &t->obj;
    out->u.o = &t->obj;
    lua_pushvalue(L, idx);
    lua_insert(L, -2);
  }
  lua_rawset(L, c->seen);
  lua_pushvalue(L, idx);
  lua_rawseti(L, c->queue, ++c->qn);
  if (tbl) {
    lua_pushvalue(L, idx);
    lua_pushvalue(L, tbl);
    lua_rawset(L, c->parent);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, key);
    lua_rawset(L, c->keyof);
  }
}

/* [-0, +0, e] the value at idx (found under key in tbl, for paths) as a
** stored value.  *out borrows what it points to (a holder, or the stack,
** keeps it alive) except a long string, which it owns: conv_own makes it
** own the rest right before it is stored. */
static void conv_value(conv *c, int idx, int tbl, int key, lugo_shval *out) {
  lua_State *L = c->L;
  out->t = LUGO_SV_NIL;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return;
    case LUA_TBOOLEAN:
      out->t = lua_toboolean(L, idx) ? LUGO_SV_TRUE : LUGO_SV_FALSE;
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        out->t = LUGO_SV_INT;
        out->u.i = lua_tointeger(L, idx);
      } else {
        out->t = LUGO_SV_FLT;
        out->u.n = lua_tonumber(L, idx);
      }
      return;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      if (len <= LUGO_SV_SHORT) {
        out->t = LUGO_SV_SSTR;
        out->len = (unsigned char)len;
        memcpy(lugo_sv_str(out), s, len);
      } else {
        out->u.ls = lugo__shstr_new(s, len);
        if (out->u.ls == NULL) luaL_error(L, "%s: not enough memory", c->fname);
        out->t = LUGO_SV_LSTR;
      }
      return;
    }
    case LUA_TTABLE:
      if (lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        pushpath(c, tbl, key);
        raiseat(L, c->fname, c->root ? "cannot freeze a table with a metatable"
                                     : "cannot store a table with a metatable",
                lua_tostring(L, -1));
      }
      if (!lugo__marshal_byref(L, idx)) {
        conv_table(c, idx, tbl, key, out);
        return;
      }
      break;  /* the globals, a library, a module: the receiver's own */
    case LUA_TUSERDATA: {
      lugo_obj *o = lugo__obj_test(L, idx, NULL);
      if (o == NULL) break;
      if (c->root && o->type == SHT) {  /* freezing: a snapshot of it */
        lugo_frozen *f = lugo__fz_shared(c->root, (lugo_shtable *)o, 0,
                                         c->g->rt, c->g->id);
        if (f == NULL) luaL_error(L, "%s: not enough memory", c->fname);
        o = &f->obj;
      }
      out->t = LUGO_SV_OBJ;
      out->u.o = o;
      return;
    }
    default: break;
  }
  conv_blob(c, idx, tbl, key, out);
}

/* take the references *v borrows (nodes of the graph being frozen hold
** none); nothing between this and the store may raise */
static void conv_own(conv *c, lugo_shval *v) {
  if (v->t == LUGO_SV_OBJ && c->root && lugo__fz_same(c->root, v->u.o)) return;
  if (v->t == LUGO_SV_OBJ || v->t == LUGO_SV_BLOB) lugo__shval_grab(v);
}

/* [-0, +0, e] fill the queued tables' nodes, and those they queue */
static void conv_drain(conv *c) {
  lua_State *L = c->L;
  int qi;
  for (qi = 1; qi <= c->qn; qi++) {
    void *node;
    int s;
    luaL_checkstack(L, 16, NULL);
    lua_rawgeti(L, c->queue, qi);
    s = lua_gettop(L);
    lua_pushvalue(L, s);
    lua_rawget(L, c->seen);
    node = c->root ? lua_touserdata(L, -1)
                   : (void *)((hold *)lua_touserdata(L, -1))->v.u.o;
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, s)) {
      lugo_shkey k;
      lugo_shval v;
      int r;
      conv_key(c, s + 1, &k, s);
      conv_value(c, s + 2, s, s + 1, &v);
      conv_own(c, &v);
      r = c->root ? lugo__fz_put((lugo_frozen *)node, &k, &v)
                  : lugo__sh_set((lugo_shtable *)node, &k, &v, NULL);
      if (r != LUGO_OK) luaL_error(L, "%s: not enough memory", c->fname);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  c->qn = 0;
}

/* the conversion is over: its holders let go now (their tables are held
** by the tables they were stored in), not when the GC gets to them */
static void conv_end(conv *c) {
  lua_State *L = c->L;
  lua_pushnil(L);
  while (lua_next(L, c->seen)) {
    if (lua_type(L, -1) == LUA_TUSERDATA)
      lugo__shval_free(&((hold *)lua_touserdata(L, -1))->v);
    lua_pop(L, 1);
  }
  lua_settop(L, c->seen - 1);
}

/* ---------------------------------------------------------------------
** shared.table
** ------------------------------------------------------------------- */

static lugo_shtable *checksh(lua_State *L, const char *fname) {
  return (lugo_shtable *)lugo__obj_checkarg(L, 1, SHT, "shared.table", fname);
}

/* [-0, +1, e] the slow read: t[k] again, holding what it finds */
static void getslow(lua_State *L, lugo_G *g, lugo_shtable *t,
                    const lugo_shkey *k) {
  hold *h = newhold(L);
  if (lugo__sh_get(t, k, &h->v, 1, &g->shbuf, &g->shcap) != LUGO_OK)
    luaL_error(L, "shared.table: not enough memory");
  pushheld(L, &h->v);
  lugo__shval_free(&h->v);
  lua_remove(L, -2);
}

/* t[k]  [-0, +1, e] */
static int sh_index(lua_State *L) {
  lugo_G *g = lugo__G(L);
  lugo_shtable *t = (lugo_shtable *)lugo__obj_test(L, 1, SHT);
  lugo_shkey k;
  lugo_shval v;
  if (t == NULL || g == NULL) {
    checksh(L, "__index");
    lugo__checkG(L);
  }
  tokey(L, 2, &k, "shared.table");
  if (lugo__sh_get(t, &k, &v, 0, &g->shbuf, &g->shcap) != LUGO_OK)
    return luaL_error(L, "shared.table: not enough memory");
  LUGO_EVENT(g->rt, LUGO_EV_SHREAD, g->id, t, (long long)k.hash);
  if (LUGO_RACE(g)) lugo__race_shaccess(g, L, t, &k, LUGO_ACC_READ);
  switch (v.t) {
    case LUGO_SV_BUF:
      lua_pushlstring(L, g->shbuf, (size_t)v.u.i);  /* copies before any
                                                       finalizer can run */
      if (g->shcap > BIGBUF) {
        free(g->shbuf);
        g->shbuf = NULL;
        g->shcap = 0;
      }
      return 1;
    case LUGO_SV_OBJ:
      if (!lugo__obj_pushknown(L, v.u.o)) getslow(L, g, t, &k);
      return 1;
    case LUGO_SV_BLOB:
      if (!cache_get(L, v.u.b)) getslow(L, g, t, &k);
      return 1;
    default:  /* scalars and short strings: nothing held */
      pushheld(L, &v);
      return 1;
  }
}

/* t[k] = v  [-0, +0, e] */
static int sh_newindex(lua_State *L) {
  lugo_G *g = lugo__G(L);
  lugo_shtable *t = (lugo_shtable *)lugo__obj_test(L, 1, SHT);
  lugo_shkey k;
  lugo_shval v;
  int moved, r;
  if (t == NULL || g == NULL) {
    checksh(L, "__newindex");
    lugo__checkG(L);
  }
  tokey(L, 2, &k, "shared.table");
  switch (lua_type(L, 3)) {
    case LUA_TNIL: v.t = LUGO_SV_NIL; break;
    case LUA_TBOOLEAN: v.t = lua_toboolean(L, 3) ? LUGO_SV_TRUE : LUGO_SV_FALSE; break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, 3)) { v.t = LUGO_SV_INT; v.u.i = lua_tointeger(L, 3); }
      else { v.t = LUGO_SV_FLT; v.u.n = lua_tonumber(L, 3); }
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, 3, &len);
      if (len <= LUGO_SV_SHORT) {
        v.t = LUGO_SV_SSTR;
        v.len = (unsigned char)len;
        memcpy(lugo_sv_str(&v), s, len);
      } else {  /* owned from here to the store, which raises nothing */
        v.u.ls = lugo__shstr_new(s, len);
        if (v.u.ls == NULL) return luaL_error(L, "shared.table: not enough memory");
        v.t = LUGO_SV_LSTR;
      }
      break;
    }
    case LUA_TUSERDATA:
      if ((v.u.o = lugo__obj_test(L, 3, NULL)) != NULL) {  /* by reference */
        v.t = LUGO_SV_OBJ;
        lugo__obj_grab(v.u.o);
        break;
      }
      /* other userdata cross by path, or raise */
      /* fallthrough */
    default: {  /* tables, functions... */
      conv c;
      lua_settop(L, 3);
      conv_init(&c, L, g, "shared.table", NULL, 2);
      conv_value(&c, 3, 0, 0, &v);
      conv_drain(&c);
      conv_own(&c, &v);
      r = lugo__sh_set(t, &k, &v, &moved);
      conv_end(&c);
      goto stored;
    }
  }
  r = lugo__sh_set(t, &k, &v, &moved);
stored:
  if (r != LUGO_OK) return luaL_error(L, "shared.table: not enough memory");
  LUGO_EVENT(g->rt, LUGO_EV_SHWRITE, g->id, t, (long long)k.hash);
  if (moved) LUGO_EVENT(g->rt, LUGO_EV_SHWRITE, g->id, t, LUGO_SH_BORDER);
  if (LUGO_RACE(g)) {
    lugo__race_shaccess(g, L, t, &k, LUGO_ACC_WRITE);
    if (moved) lugo__race_shaccess(g, L, t, NULL, LUGO_ACC_MOVE);
  }
  return 0;
}

/* #t  [-0, +1, e] */
static int sh_len(lua_State *L) {
  lugo_shtable *t = checksh(L, "__len");
  lugo_G *g = lugo__checkG(L);
  lua_Integer n = lugo__sh_len(t);
  LUGO_EVENT(g->rt, LUGO_EV_SHREAD, g->id, t, LUGO_SH_BORDER);
  if (LUGO_RACE(g)) lugo__race_shaccess(g, L, t, NULL, LUGO_ACC_READ);
  lua_pushinteger(L, n);
  return 1;
}

/* pairs: a snapshot of the entries, taken when the loop starts */
typedef struct snap {
  lugo_shslot *e;
  size_t n, i;
  lugo_shtable *t;  /* with a reference, when the race detector is on:
                       each key visited is a read */
} snap;

static int snap_gc(lua_State *L) {
  snap *s = (snap *)lua_touserdata(L, 1);
  if (s) {
    lugo__sh_snapfree(s->e, s->n);
    s->e = NULL;
    s->n = s->i = 0;
    if (s->t != NULL) lugo__obj_release(&s->t->obj);
    s->t = NULL;
  }
  return 0;
}

static int snap_next(lua_State *L) {
  snap *s = (snap *)lua_touserdata(L, lua_upvalueindex(1));
  lugo_shslot *e;
  if (s->i >= s->n) {  /* done: let the snapshot go now */
    lugo__sh_snapfree(s->e, s->n);
    s->e = NULL;
    s->n = s->i = 0;
    return 0;
  }
  e = &s->e[s->i++];
  if (s->t != NULL) {
    lugo_G *g = lugo__G(L);
    if (g != NULL && LUGO_RACE(g)) lugo__race_shslot(g, L, s->t, e);
  }
  pushheld(L, &e->k);
  pushheld(L, &e->v);
  return 2;
}

/* [-0, +1, e] a snapshot of t's entries, in a userdata that frees it */
static snap *newsnap(lua_State *L, lugo_shtable *t, const char *what) {
  snap *s = (snap *)lua_newuserdatauv(L, sizeof(snap), 0);
  lugo_G *g = lugo__G(L);
  s->e = NULL;
  s->n = s->i = 0;
  s->t = NULL;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &SNAPMT) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, snap_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &SNAPMT);
  }
  lua_setmetatable(L, -2);
  s->e = lugo__sh_snapshot(t, &s->n);
  if (s->e == NULL && s->n != 0) {
    s->n = 0;
    luaL_error(L, "%s: not enough memory", what);
  }
  if (g != NULL && LUGO_RACE(g) && t->obj.type == &lugo__shtable_type) {
    lugo__obj_grab(&t->obj);
    s->t = t;
  }
  return s;
}

/* pairs(t) -> iterator, t, nil  [-0, +3, e] */
static int sh_pairs(lua_State *L) {
  lugo_shtable *t = checksh(L, "__pairs");
  lugo_G *g = lugo__checkG(L);
  newsnap(L, t, "shared.table");
  LUGO_EVENT(g->rt, LUGO_EV_SHREAD, g->id, t, LUGO_SH_ALLKEYS);
  lua_pushcclosure(L, snap_next, 1);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int sh_tostring(lua_State *L) {
  lua_pushfstring(L, "shared.table: %p", (void *)checksh(L, "__tostring"));
  return 1;
}

static void shtable_metatable(lua_State *L) {
  static const luaL_Reg mm[] = {
    {"__index", sh_index}, {"__newindex", sh_newindex}, {"__len", sh_len},
    {"__pairs", sh_pairs}, {"__tostring", sh_tostring}, {NULL, NULL}
  };
  luaL_setfuncs(L, mm, 0);
}

const lugo_objtype lugo__shtable_type = {10, "shared.table", lugo__sh_free,
                                         shtable_metatable, NULL};

/* shared.table([init]) -> a shared table  [-0, +1, e] */
static int l_table(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  conv c;
  lugo_shval v;
  lugo_obj *o;
  if (lua_isnoneornil(L, 1)) {
    lugo_shtable *t = lugo__sh_new(g->rt->shreg);
    if (t == NULL) return luaL_error(L, "shared.table: not enough memory");
    lugo__obj_push(L, &t->obj);
    lugo__obj_release(&t->obj);  /* the userdata holds it now */
    return 1;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (lua_getmetatable(L, 1) == 0 && lugo__marshal_byref(L, 1))
    return luaL_error(L, "shared.table: cannot share the globals, a standard "
                      "library table or a module (each goroutine has its own)");
  lua_settop(L, 1);
  conv_init(&c, L, g, "shared.table", NULL, 0);
  conv_value(&c, 1, 0, 0, &v);  /* the root's holder keeps it */
  conv_drain(&c);
  o = v.u.o;
  lugo__obj_push(L, o);
  lua_replace(L, 1);
  conv_end(&c);
  return 1;
}

/* ---------------------------------------------------------------------
** frozen tables
** ------------------------------------------------------------------- */

static lugo_frozen *checkfz(lua_State *L, const char *fname) {
  return (lugo_frozen *)lugo__obj_checkarg(L, 1, FZT, "frozen", fname);
}

/* f[k]  [-0, +1, e] */
static int fz_index(lua_State *L) {
  lugo_frozen *f = (lugo_frozen *)lugo__obj_test(L, 1, FZT);
  lugo_shkey k;
  const lugo_shslot *s;
  if (f == NULL) f = checkfz(L, "__index");
  tokey(L, 2, &k, "frozen");
  s = lugo__fz_get(f, &k);
  if (s == NULL) lua_pushnil(L);
  else pushheld(L, &s->v);  /* the graph holds it; our argument holds the graph */
  return 1;
}

static int fz_newindex(lua_State *L) {
  checkfz(L, "__newindex");
  return luaL_error(L, "attempt to modify a frozen table");
}

static int fz_len(lua_State *L) {
  lua_pushinteger(L, checkfz(L, "__len")->m.border);
  return 1;
}

/* next for a frozen table: stateless, like Lua's  [-0, +2, e] */
static int fz_next(lua_State *L) {
  lugo_frozen *f = checkfz(L, "next");
  uint32_t i = 0;
  const lugo_shslot *s;
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) {
    lugo_shkey k;
    tokey_(L, 2, &k, "next", NULL);
    s = lugo__fz_get(f, &k);
    if (s == NULL) return luaL_error(L, "invalid key to 'next'");
    i = (uint32_t)(s - f->m.slots) + 1;
  }
  s = lugo__fz_next(f, &i);
  if (s == NULL) return 0;
  pushheld(L, &s->k);
  pushheld(L, &s->v);
  return 2;
}

static int fz_pairs(lua_State *L) {
  checkfz(L, "__pairs");
  lua_pushcfunction(L, fz_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int fz_tostring(lua_State *L) {
  lua_pushfstring(L, "frozen: %p", (void *)checkfz(L, "__tostring"));
  return 1;
}

static void frozen_metatable(lua_State *L) {
  static const luaL_Reg mm[] = {
    {"__index", fz_index}, {"__newindex", fz_newindex}, {"__len", fz_len},
    {"__pairs", fz_pairs}, {"__tostring", fz_tostring}, {NULL, NULL}
  };
  luaL_setfuncs(L, mm, 0);
}

const lugo_objtype lugo__frozen_type = {11, "frozen", lugo__fz_nofree,
                                        frozen_metatable, lugo__fz_owner};

/* shared.freeze(t) -> a frozen table  [-0, +1, e] */
static int l_freeze(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  lugo_obj *o = lugo__obj_test(L, 1, NULL);
  lugo_frozen *root;
  hold *h;
  if (o != NULL && o->type == FZT) {  /* frozen already */
    lua_settop(L, 1);
    return 1;
  }
  if (o == NULL || o->type != SHT) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getmetatable(L, 1))
      return luaL_error(L, "shared.freeze: cannot freeze a table with a metatable");
    if (lugo__marshal_byref(L, 1))
      return luaL_error(L, "shared.freeze: cannot freeze the globals, a "
                        "standard library table or a module (each goroutine "
                        "has its own)");
  }
  lua_settop(L, 1);
  h = newhold(L);  /* at 2: owns the graph while it is built */
  root = lugo__fz_new();
  if (root == NULL) return luaL_error(L, "shared.freeze: not enough memory");
  h->v.t = LUGO_SV_OBJ;
  h->v.u.o = &root->obj;
  if (o != NULL) {  /* a shared table: a snapshot of each table in turn */
    if (lugo__fz_shared(root, (lugo_shtable *)o, 1, g->rt, g->id) == NULL)
      return luaL_error(L, "shared.freeze: not enough memory");
  } else {
    conv c;
    conv_init(&c, L, g, "shared.freeze", root, 0);
    lua_pushvalue(L, 1);
    lua_pushlightuserdata(L, root);
    lua_rawset(L, c.seen);
    lua_pushvalue(L, 1);
    lua_rawseti(L, c.queue, ++c.qn);
    conv_drain(&c);
    conv_end(&c);
  }
  lugo__fz_done(root);
  lugo__obj_push(L, &root->obj);
  lugo__shval_free(&h->v);
  return 1;
}

/* shared.type(v) -> "shared.table", "frozen" or nil  [-0, +1, -] */
static int l_type(lua_State *L) {
  lugo_obj *o = lugo__obj_test(L, 1, NULL);
  luaL_checkany(L, 1);
  if (o != NULL && o->type == SHT) lua_pushliteral(L, "shared.table");
  else if (o != NULL && o->type == FZT) lua_pushliteral(L, "frozen");
  else lua_pushnil(L);
  return 1;
}

int lugo__open_shared(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"table", l_table}, {"freeze", l_freeze}, {"type", l_type}, {NULL, NULL}
  };
  luaL_newlib(L, fns);
  return 1;
}

/* ---------------------------------------------------------------------
** sync.Map (Go's): the shared table's map under its own type, but values
** are copies (the copy contract, as a channel send: a stored table is
** copied in, and each Load gets a fresh copy of it), never shared tables.
** Runtime objects are stored by reference, as everywhere.
** ------------------------------------------------------------------- */

#define SMT (&lugo__syncmap_type)
#define MAPNAME "sync.Map"

static lugo_shtable *checkmap(lua_State *L, const char *fname) {
  return (lugo_shtable *)lugo__obj_checkarg(L, 1, SMT, MAPNAME, fname);
}

/* [-0, +0, e] the Lua value at idx as a stored value, owning its
** references (blobs are made by the copy contract); nil raises */
static void map_value(lua_State *L, int idx, const char *fname,
                      lugo_shval *v) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: case LUA_TNONE:
      luaL_error(L, "%s: nil value (use Delete)", fname);
      return;
    case LUA_TBOOLEAN: v->t = lua_toboolean(L, idx) ? LUGO_SV_TRUE : LUGO_SV_FALSE; return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) { v->t = LUGO_SV_INT; v->u.i = lua_tointeger(L, idx); }
      else { v->t = LUGO_SV_FLT; v->u.n = lua_tonumber(L, idx); }
      return;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      if (len <= LUGO_SV_SHORT) {
        v->t = LUGO_SV_SSTR;
        v->len = (unsigned char)len;
        memcpy(lugo_sv_str(v), s, len);
      } else {
        v->u.ls = lugo__shstr_new(s, len);
        if (v->u.ls == NULL) luaL_error(L, MAPNAME ": not enough memory");
        v->t = LUGO_SV_LSTR;
      }
      return;
    }
    case LUA_TUSERDATA:
      if ((v->u.o = lugo__obj_test(L, idx, NULL)) != NULL) {
        v->t = LUGO_SV_OBJ;
        lugo__obj_grab(v->u.o);
        return;
      }
      /* other userdata cross by path, or raise */
      /* fallthrough */
    default: {
      lugo_blob *b = lugo__marshal_at(L, idx, fname, "");
      lugo_shblob *sb = lugo__shblob_new(b);
      if (sb == NULL) {
        lugo__blob_free(b);
        luaL_error(L, MAPNAME ": not enough memory");
      }
      v->t = LUGO_SV_BLOB;
      v->u.b = sb;
    }
  }
}

/* [-0, +1, e] push a copy of the value h holds (h on top, then removed:
** a raise leaves h to the GC, which releases it) */
static void map_push(lua_State *L) {
  hold *h = (hold *)lua_touserdata(L, -1);
  switch (h->v.t) {
    case LUGO_SV_BLOB: lugo__unmarshal_copy(L, h->v.u.b->b); break;
    default: pushheld(L, &h->v);
  }
  lugo__shval_free(&h->v);
  lua_remove(L, -2);
}

static int l_syncmap(lua_State *L) {
  lugo_G *g = lugo__checkG(L);
  {  /* tracked, so cycles through maps and shared tables are freed */
    lugo_shtable *t = lugo__sh_newtype(g->rt->shreg, SMT);
    if (t == NULL) return luaL_error(L, MAPNAME ": not enough memory");
    lugo__obj_push(L, &t->obj);
    lugo__obj_release(&t->obj);
  }
  return 1;
}

/* m:Load(k) -> v, ok */
static int map_load(lua_State *L) {
  lugo_shtable *t = checkmap(L, "Load");
  lugo_G *g = lugo__checkG(L);
  lugo_shkey k;
  hold *h;
  tokey_(L, 2, &k, MAPNAME, NULL);
  h = newhold(L);
  if (lugo__sh_get(t, &k, &h->v, 1, &g->shbuf, &g->shcap) != LUGO_OK)
    return luaL_error(L, MAPNAME ": not enough memory");
  LUGO_EVENT(g->rt, LUGO_EV_SHREAD, g->id, t, (long long)k.hash);
  if (LUGO_RACE(g)) lugo__race_acquire(g, &t->obj, 0);
  if (h->v.t == LUGO_SV_NIL) {
    lua_pushnil(L);
    lua_pushboolean(L, 0);
    return 2;
  }
  map_push(L);
  lua_pushboolean(L, 1);
  return 2;
}

/* m:Store(k, v) */
static int map_store(lua_State *L) {
  lugo_shtable *t = checkmap(L, "Store");
  lugo_G *g = lugo__checkG(L);
  lugo_shkey k;
  lugo_shval v;
  tokey_(L, 2, &k, MAPNAME, NULL);
  map_value(L, 3, MAPNAME ".Store", &v);
  if (LUGO_RACE(g)) lugo__race_release(g, &t->obj, 0);
  if (lugo__sh_set(t, &k, &v, NULL) != LUGO_OK)
    return luaL_error(L, MAPNAME ": not enough memory");
  LUGO_EVENT(g->rt, LUGO_EV_SHWRITE, g->id, t, (long long)k.hash);
  return 0;
}

/* m:LoadOrStore(k, v) -> actual, loaded */
static int map_loadorstore(lua_State *L) {
  lugo_shtable *t = checkmap(L, "LoadOrStore");
  lugo_G *g = lugo__checkG(L);
  lugo_shkey k;
  lugo_shval v;
  hold *h;
  tokey_(L, 2, &k, MAPNAME, NULL);
  lua_settop(L, 3);
  h = newhold(L);  /* first: nothing may raise once v holds references */
  map_value(L, 3, MAPNAME ".LoadOrStore", &v);
  if (LUGO_RACE(g)) lugo__race_release(g, &t->obj, 0);
  if (lugo__sh_setnx(t, &k, &v, &h->v) != LUGO_OK)
    return luaL_error(L, MAPNAME ": not enough memory");
  if (LUGO_RACE(g)) lugo__race_acquire(g, &t->obj, 0);
  if (h->v.t == LUGO_SV_NIL) {  /* stored: the actual value is v itself */
    LUGO_EVENT(g->rt, LUGO_EV_SHWRITE, g->id, t, (long long)k.hash);
    lua_pushvalue(L, 3);
    lua_pushboolean(L, 0);
    return 2;
  }
  LUGO_EVENT(g->rt, LUGO_EV_SHREAD, g->id, t, (long long)k.hash);
  map_push(L);
  lua_pushboolean(L, 1);
  return 2;
}

/* m:Delete(k) */
static int map_delete(lua_State *L) {
  lugo_shtable *t = checkmap(L, "Delete");
  lugo_G *g = lugo__checkG(L);
  lugo_shkey k;
  lugo_shval v;
  tokey_(L, 2, &k, MAPNAME, NULL);
  v.t = LUGO_SV_NIL;
  if (LUGO_RACE(g)) lugo__race_release(g, &t->obj, 0);
  if (lugo__sh_set(t, &k, &v, NULL) != LUGO_OK)
    return luaL_error(L, MAPNAME ": not enough memory");
  LUGO_EVENT(g->rt, LUGO_EV_SHWRITE, g->id, t, (long long)k.hash);
  return 0;
}

/* m:Range(fn): fn(k, v) for each entry of a snapshot taken at the start,
** until fn returns false.  fn may block: the loop goes on in a
** continuation, its state in the snapshot userdata at index 3. */
static int range_k(lua_State *L, int status, lua_KContext ctx) {
  snap *s = (snap *)lua_touserdata(L, 3);
  (void)status;
  (void)ctx;
  if (lua_gettop(L) > 3) {  /* fn's result */
    int stop = lua_isboolean(L, 4) && !lua_toboolean(L, 4);
    lua_settop(L, 3);
    if (stop) s->i = s->n;
  }
  while (s->i < s->n) {
    lugo_shslot *e = &s->e[s->i++];
    hold *h;
    lua_pushvalue(L, 2);
    pushheld(L, &e->k);
    h = newhold(L);
    h->v = e->v;  /* the snapshot keeps its own reference */
    lugo__shval_grab(&h->v);
    map_push(L);
    lua_callk(L, 2, 1, 0, range_k);
    {
      int stop = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
      lua_settop(L, 3);
      if (stop) break;
    }
  }
  lugo__sh_snapfree(s->e, s->n);  /* now, not when collected */
  s->e = NULL;
  s->n = s->i = 0;
  return 0;
}

static int map_range(lua_State *L) {
  lugo_shtable *t = checkmap(L, "Range");
  lugo_G *g = lugo__checkG(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  newsnap(L, t, MAPNAME);
  LUGO_EVENT(g->rt, LUGO_EV_SHREAD, g->id, t, LUGO_SH_ALLKEYS);
  if (LUGO_RACE(g)) lugo__race_acquire(g, &t->obj, 0);
  return range_k(L, LUA_OK, 0);
}

static void syncmap_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"Load", map_load}, {"Store", map_store}, {"LoadOrStore", map_loadorstore},
    {"Delete", map_delete}, {"Range", map_range}, {NULL, NULL}
  };
  lugo__obj_methods(L, methods, NULL);
}

const lugo_objtype lugo__syncmap_type = {8, MAPNAME, lugo__sh_free,
                                         syncmap_metatable, NULL};

int lugo__syncmap_new(lua_State *L) {
  return l_syncmap(L);
}
