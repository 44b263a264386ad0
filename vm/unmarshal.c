/*
** unmarshal.c -- the reader side of the copy contract: a blob (see
** mformat.h) becomes values in the receiving goroutine's state.  Tables
** are created where they are announced and filled from their bodies;
** metatables are set last, once complete.  Called by the goroutine that
** owns the state.
*/
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "marshal.h"
#include "mformat.h"
#include "scheduler.h"

/* ---------------------------------------------------------------------
** reading
** ------------------------------------------------------------------- */

typedef struct R {
  lua_State *L;
  const char *p, *end;
  int ids;
  int nextid;
  int depth;
  int mts;    /* stack index: [2i-1] table, [2i] its metatable, set last
                 (a metatable's body may come after its table's) */
  int nmts;
  int mine;   /* the next value is go's function */
} R;

static int getbyte(R *r) {
  if (r->p >= r->end) luaL_error(r->L, "lugo: corrupt value");
  return (unsigned char)*r->p++;
}

static size_t getsize(R *r) {
  size_t v = 0;
  int shift = 0, c;
  do {
    c = getbyte(r);
    v |= (size_t)(c & 0x7f) << shift;
    shift += 7;
  } while (c & 0x80);
  return v;
}

static void getbytes(R *r, void *dst, size_t n) {
  if ((size_t)(r->end - r->p) < n) luaL_error(r->L, "lugo: corrupt value");
  memcpy(dst, r->p, n);
  r->p += n;
}

static void decode(R *r);

/* ---------------------------------------------------------------------
** loaded functions kept per state: a goroutine's function that came with
** a function cache id (marshal.c) is remembered; when the state is reset
** for another goroutine, its upvalues are cleared and it waits in the
** pool under its id, so the next goroutine given the same function takes
** it instead of loading the dump again.  Nothing of the old goroutine
** shows: a closure has no state but its upvalues, and one whose upvalues
** were joined to another's is not kept.  Only go's own function is kept:
** it lives as long as its goroutine anyway, where a function received
** from a channel might be garbage long before.
** ------------------------------------------------------------------- */

static const char FNPOOL = 'p';  /* registry: id -> idle closure; [0] the
                                    goroutine's closure, [-1] its id, [-2]
                                    how many ids wait */
#define FNPOOLMAX 64

/* [-0, +1, m] the pool */
static void pushpool(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &FNPOOL) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &FNPOOL);
  }
}

static lua_Integer getint(lua_State *L, int t, lua_Integer k) {
  lua_Integer v;
  lua_rawgeti(L, t, k);
  v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static void setint(lua_State *L, int t, lua_Integer k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_rawseti(L, t, k);
}

/* [-0, +(0|1), m] the idle closure of id fid, taken from the pool */
static int fnpool_take(lua_State *L, uint64_t fid) {
  int t;
  pushpool(L);
  t = lua_gettop(L);
  if (lua_rawgeti(L, t, (lua_Integer)fid) != LUA_TFUNCTION) {
    lua_pop(L, 2);
    return 0;
  }
  lua_pushnil(L);
  lua_rawseti(L, t, (lua_Integer)fid);
  setint(L, t, -2, getint(L, t, -2) - 1);
  lua_remove(L, t);
  return 1;
}

/* [-0, +0, m] the closure at f is the goroutine's, with id fid (0: not
** to be kept) */
static void fnpool_mine(lua_State *L, int f, uint64_t fid) {
  pushpool(L);
  if (fid != 0) lua_pushvalue(L, f);
  else lua_pushnil(L);
  lua_rawseti(L, -2, 0);
  setint(L, -2, -1, (lua_Integer)fid);
  lua_pop(L, 1);
}

int lugo__fnpool_iskey(const void *k) {
  return k == (const void *)&FNPOOL;
}

void lugo__fnpool_reset(lua_State *L) {
  int t, i;
  lua_Integer fid, n;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &FNPOOL) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  t = lua_gettop(L);
  fid = getint(L, t, -1);
  if (lua_rawgeti(L, t, 0) == LUA_TFUNCTION && fid != 0) {
    for (i = 1; lua_getupvalue(L, -1, i) != NULL; i++) {
      lua_pop(L, 1);
      lua_pushnil(L);
      lua_setupvalue(L, -2, i);
    }
    n = getint(L, t, -2);
    if (n >= FNPOOLMAX) {  /* full of ids seen once, perhaps: start over */
      lua_newtable(L);
      lua_replace(L, t);
      lua_pushvalue(L, t);
      lua_rawsetp(L, LUA_REGISTRYINDEX, &FNPOOL);
      n = 0;
    }
    if (lua_rawgeti(L, t, fid) == LUA_TNIL) {
      lua_pushvalue(L, -2);
      lua_rawseti(L, t, fid);
      setint(L, t, -2, n + 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_rawseti(L, t, 0);
  setint(L, t, -1, 0);
  lua_pop(L, 1);
}

typedef struct rd { const char *p; size_t n; } rd;

static const char *reader(lua_State *L, void *ud, size_t *sz) {
  rd *d = (rd *)ud;
  (void)L;
  *sz = d->n;
  d->n = 0;
  return *sz ? d->p : NULL;
}

static void decode_value(R *r, int t) {
  lua_State *L = r->L;
  switch (t) {
    case T_NIL: lua_pushnil(L); break;
    case T_FALSE: lua_pushboolean(L, 0); break;
    case T_TRUE: lua_pushboolean(L, 1); break;
    case T_INT: { lua_Integer i; getbytes(r, &i, sizeof(i)); lua_pushinteger(L, i); break; }
    case T_FLT: { lua_Number n; getbytes(r, &n, sizeof(n)); lua_pushnumber(L, n); break; }
    case T_STR: {
      size_t len = getsize(r);
      if ((size_t)(r->end - r->p) < len) luaL_error(L, "lugo: corrupt value");
      lua_pushlstring(L, r->p, len);
      r->p += len;
      break;
    }
    case T_REF: lua_rawgeti(L, r->ids, (lua_Integer)getsize(r)); break;
    case T_GLOBALS: lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); break;
    case T_STD: {
      size_t len = getsize(r);
      if ((size_t)(r->end - r->p) < len) luaL_error(L, "lugo: corrupt value");
      lua_pushlstring(L, r->p, len);  /* the name */
      r->p += len;
      luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
      lua_pushvalue(L, -2);
      if (lua_rawget(L, -2) == LUA_TNIL) {  /* not opened yet here */
        lua_pop(L, 1);
        lugo__openlib(L, lua_tostring(L, -2));
      }
      lua_replace(L, -3);
      lua_pop(L, 1);
      break;
    }
    case T_CFUNC: {
      lua_CFunction f;
      getbytes(r, &f, sizeof(f));
      lua_pushcfunction(L, f);
      break;
    }
    case T_STDFN: {  /* the receiver's own standard function, by name */
      size_t len = getsize(r);
      if ((size_t)(r->end - r->p) < len) luaL_error(L, "lugo: corrupt value");
      lua_pushlstring(L, r->p, len);  /* library */
      r->p += len;
      len = getsize(r);
      if ((size_t)(r->end - r->p) < len) luaL_error(L, "lugo: corrupt value");
      lua_pushlstring(L, r->p, len);  /* key */
      r->p += len;
      if (strcmp(lua_tostring(L, -2), LUA_GNAME) == 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
        lua_insert(L, -2);
        lua_gettable(L, -2);  /* through the lazy loader if need be */
      } else {
        lugo__openlib(L, lua_tostring(L, -2));
        if (!lua_istable(L, -1)) luaL_error(L, "lugo: no library '%s'", lua_tostring(L, -3));
        lua_insert(L, -2);
        lua_gettable(L, -2);
      }
      lua_replace(L, -3);
      lua_pop(L, 1);
      break;
    }
    case T_MODPATH: {  /* require the module, follow the path */
      int n = (int)getsize(r), i;
      if (n < 1) luaL_error(L, "lugo: corrupt value");
      decode(r);  /* module name */
      lua_pushvalue(L, -1);
      lugo__require(L);  /* [-1, +1]: the module */
      for (i = 2; i <= n; i++) {
        decode(r);
        lua_pushvalue(L, -1);
        if (lua_gettable(L, -3) == LUA_TNIL)
          luaL_error(L, "module '%s' has no field '%s' in this goroutine",
                     lua_tostring(L, -4), luaL_tolstring(L, -2, NULL));
        lua_replace(L, -3);  /* the value replaces its parent */
        lua_pop(L, 1);       /* the key */
      }
      lua_remove(L, -2);  /* the module name */
      break;
    }
    case T_OBJ: {
      lugo_obj *o;
      getbytes(r, &o, sizeof(o));
      lugo__obj_push(L, o);
      break;
    }
    case T_TABLE: {  /* announced here, filled by its T_TBODY later */
      size_t narr = getsize(r), nhash = getsize(r);
      /* lua_rawlen gives a border, which a sparse table can put far out:
      ** presize moderately, let bigger arrays grow */
      lua_createtable(L, narr > 1 << 16 ? 1 << 16 : (int)narr,
                      nhash > 1 << 24 ? 0 : (int)nhash);
      lua_pushvalue(L, -1);
      lua_rawseti(L, r->ids, r->nextid++);
      break;
    }
    case T_FUNC: {
      uint64_t fid, len;
      rd d;
      int f, nups, i, id = r->nextid++, mine = r->mine;
      r->mine = 0;
      luaL_checkstack(L, 16, "value too deep");
      getbytes(r, &fid, 8);
      getbytes(r, &len, 8);
      if ((uint64_t)(r->end - r->p) < len) luaL_error(L, "lugo: corrupt value");
      d.p = r->p;
      d.n = (size_t)len;
      r->p += len;
      if (!(mine && fid != 0 && fnpool_take(L, fid)) &&
          lua_load(L, reader, &d, "=(goroutine)", "b") != LUA_OK)
        lua_error(L);
      f = lua_gettop(L);
      lua_pushvalue(L, f);
      lua_rawseti(L, r->ids, id);
      if (mine) fnpool_mine(L, f, fid);
      nups = (int)getsize(r);
      for (i = 1; i <= nups; i++) {
        if (r->p < r->end && (unsigned char)*r->p == T_UPJOIN) {
          int fn, n;
          r->p++;
          fn = (int)getsize(r);
          n = (int)getsize(r);
          lua_rawgeti(L, r->ids, fn);
          lua_upvaluejoin(L, f, i, -1, n);
          lua_pop(L, 1);
          if (mine) fnpool_mine(L, f, 0);  /* its upvalues are shared */
        } else {
          decode(r);
          if (lua_setupvalue(L, f, i) == NULL) lua_pop(L, 1);
        }
      }
      break;
    }
    default: luaL_error(L, "lugo: corrupt value");
  }
}

static void decode(R *r) {
  if (++r->depth > MAXDEPTH + 10) luaL_error(r->L, "value too deep");
  decode_value(r, getbyte(r));
  r->depth--;
}

/* what follows the values: table bodies and global pairs, until END */
static void decode_tail(R *r, int globals) {
  lua_State *L = r->L;
  int t, i;
  for (;;) {
    switch (getbyte(r)) {
      case T_END:
        for (i = 1; i <= r->nmts; i++) {  /* metatables, now complete */
          lua_rawgeti(L, r->mts, 2 * i - 1);
          lua_rawgeti(L, r->mts, 2 * i);
          lua_setmetatable(L, -2);
          lua_pop(L, 1);
        }
        r->nmts = 0;
        return;
      case T_TBODY:
        luaL_checkstack(L, 16, "value too deep");
        lua_rawgeti(L, r->ids, (lua_Integer)getsize(r));
        t = lua_gettop(L);
        if (!lua_istable(L, t)) luaL_error(L, "lugo: corrupt value");
        while (r->p < r->end && (unsigned char)*r->p != T_END) {
          decode(r);
          decode(r);
          lua_rawset(L, t);
        }
        getbyte(r);  /* T_END */
        decode(r);   /* the metatable */
        if (lua_istable(L, -1)) {
          lua_rawseti(L, r->mts, 2 * ++r->nmts);
          lua_rawseti(L, r->mts, 2 * r->nmts - 1);
        } else {
          lua_pop(L, 2);
        }
        break;
      case T_GPAIR:  /* stored raw: reading them costs nothing extra */
        if (!globals) luaL_error(L, "lugo: corrupt value");
        lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
        decode(r);
        decode(r);
        lua_rawset(L, -3);
        lua_pop(L, 1);
        break;
      default:
        luaL_error(L, "lugo: corrupt value");
    }
  }
}

/* apply a spawner's package settings (see encode_package) */
static void decode_package(R *r) {
  lua_State *L = r->L;
  int pkg, i;
  const char *const fields[2] = {"path", "cpath"};
  getbyte(r);  /* the section mark */
  lugo__openlib(L, LUA_LOADLIBNAME);
  pkg = lua_gettop(L);
  for (i = 0; i < 2; i++) {
    decode(r);
    if (lua_isstring(L, -1)) lua_setfield(L, pkg, fields[i]);
    else lua_pop(L, 1);
  }
  lua_getfield(L, pkg, "preload");
  while (r->p < r->end && (unsigned char)*r->p != T_END) {
    decode(r);
    decode(r);
    if (lua_istable(L, -3)) lua_rawset(L, -3);
    else lua_pop(L, 2);
  }
  getbyte(r);
  lua_pop(L, 1);
  if (r->p < r->end && (unsigned char)*r->p != T_END) {
    /* a new list: the spawner's order, our own standard searchers */
    int old, nw, n = 0;
    lua_getfield(L, pkg, "searchers");
    old = lua_gettop(L);
    lua_newtable(L);
    nw = lua_gettop(L);
    while (r->p < r->end && (unsigned char)*r->p != T_END) {
      int kind = getbyte(r);
      if (kind == 'C') {
        lua_CFunction f;
        lua_Integer j, m = (lua_Integer)lua_rawlen(L, old);
        getbytes(r, &f, sizeof(f));
        for (j = 1; j <= m; j++) {
          lua_rawgeti(L, old, j);
          if (lua_tocfunction(L, -1) == f) {
            lua_rawseti(L, nw, ++n);
            break;
          }
          lua_pop(L, 1);
        }
      } else {
        decode(r);
        lua_rawseti(L, nw, ++n);
      }
    }
    lua_setfield(L, pkg, "searchers");
    lua_pop(L, 1);
  }
  getbyte(r);
  lua_pop(L, 1);
  decode_tail(r, 0);
}

/* [-0, +n, e] decode blob held by the box at index bi */
static int unmarshal_boxed(lua_State *L, lugo_blob *b) {
  R r;
  int i;
  r.L = L;
  r.p = b->data;
  r.end = b->data + b->n;
  r.nextid = 1;
  r.depth = 0;
  lua_newtable(L);
  r.ids = lua_gettop(L);
  lua_newtable(L);
  r.mts = lua_gettop(L);
  r.nmts = 0;
  r.mine = 0;
  if (b->pkg) {  /* first, in its own id space */
    R pr = r;
    pr.p = b->data + b->pkgoff;
    lua_newtable(L);
    pr.ids = lua_gettop(L);
    decode_package(&pr);
    lua_pop(L, 1);
    r.end = b->data + b->pkgoff;
  }
  for (i = 0; i < b->nvals; i++) {
    r.mine = i == 0 && b->globals;
    decode(&r);
    r.mine = 0;
  }
  decode_tail(&r, b->globals);
  lua_remove(L, r.mts);
  lua_remove(L, r.ids);
  return b->nvals;
}

int lugo__unmarshal(lua_State *L, lugo_blob *b) {
  lugo_G *g = lugo__G(L);
  int n, nested = g->decoding;
  /* the goroutine owns b while it is decoded: a raise leaves it in
  ** g->inblob, freed by the next unmarshal or when the goroutine ends.  A
  ** decode inside a decode (a finalizer, or a module's code run by
  ** require, that receives) keeps the outer blob where it is; its own is
  ** leaked only if it raises. */
  if (!nested) {
    if (g->inblob) lugo__blob_free(g->inblob);
    g->inblob = b;
    g->decoding = 1;
  }
  luaL_checkstack(L, b->nvals + 10, "too many values");
  n = unmarshal_boxed(L, b);
  if (!nested) {
    g->inblob = NULL;
    g->decoding = 0;
  }
  lugo__blob_free(b);
  return n;
}

int lugo__unmarshal_copy(lua_State *L, const lugo_blob *b) {
  /* reads b only; nothing to own, so no g->inblob */
  luaL_checkstack(L, b->nvals + 10, "too many values");
  return unmarshal_boxed(L, (lugo_blob *)b);
}

void lugo__value_push(lua_State *L, lugo_value *v) {
  switch (v->t) {
    case LUGO_VNIL: lua_pushnil(L); break;
    case LUGO_VFALSE: lua_pushboolean(L, 0); break;
    case LUGO_VTRUE: lua_pushboolean(L, 1); break;
    case LUGO_VINT: lua_pushinteger(L, v->u.i); break;
    case LUGO_VFLT: lua_pushnumber(L, v->u.n); break;
    case LUGO_VSSTR: lua_pushlstring(L, v->u.ss, v->slen); break;
    case LUGO_VSTR: {
      /* box first: a failed push must not leak */
      lugo_value tmp = *v;
      v->t = LUGO_VNIL;
      lua_pushlstring(L, tmp.u.s.p, tmp.u.s.len);
      free(tmp.u.s.p);
      return;
    }
    case LUGO_VBLOB: {
      lugo_blob *b = v->u.b;
      v->t = LUGO_VNIL;
      lugo__unmarshal(L, b);
      return;
    }
  }
  v->t = LUGO_VNIL;
}

