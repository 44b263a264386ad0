/*
** marshal.c -- the writer side of the copy contract (DESIGN section 2):
** values leave one goroutine's state as bytes (format: mformat.h; the
** reader is unmarshal.c).  One graph per go call or send, so repeated
** references and cycles survive; tables are written breadth first, so
** depth costs no C stack.  Runtime objects travel as pointers; the blob
** owns one reference to each (objs[]), released when it is freed, so a
** value stuck in a channel at shutdown leaks nothing.
**
** Errors raise a Lua error naming the function and the path to the value
** that cannot be copied.  Memory under construction belongs to the
** goroutine (its box), so a raise leaks nothing.  Called by the goroutine
** that owns the state; blobs may be freed by any thread.
*/
#include "marshal.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "bcscan.h"
#include "obj.h"
#include "scheduler.h"

#include "mformat.h"

#define PATHMAX 48   /* frames kept for error messages */

/* ---------------------------------------------------------------------
** known C functions (immutable after the runtime starts)
** ------------------------------------------------------------------- */

/* each standard or lugo C function, with where it lives: library (the
** package.loaded name; "_G" for base and lugo globals; NULL for methods
** found in metatables) and key */
typedef struct knownfn {
  lua_CFunction f;
  const char *lib, *key;  /* malloc'd, or NULL */
} knownfn;

typedef struct lugo_known {
  knownfn *f;
  size_t n, cap;
} lugo_known;

static int cmpfn(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)((const knownfn *)a)->f;
  uintptr_t y = (uintptr_t)((const knownfn *)b)->f;
  return (x > y) - (x < y);
}

static void learnfn(lugo_known *k, lua_CFunction f, const char *lib,
                    const char *key) {
  if (k->n == k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 256;
    knownfn *nf = (knownfn *)realloc(k->f, cap * sizeof(*nf));
    if (nf == NULL) return;
    k->f = nf;
    k->cap = cap;
  }
  k->f[k->n].f = f;
  k->f[k->n].lib = lib ? strdup(lib) : NULL;
  k->f[k->n].key = key ? strdup(key) : NULL;
  k->n++;
}

/* learn the C functions in the table at the top (closures too: require,
** math.random -- they cross by name, see encode_function) */
static void learntable(lugo_known *k, lua_State *L, const char *lib) {
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_iscfunction(L, -1) && lua_type(L, -2) == LUA_TSTRING)
      learnfn(k, lua_tocfunction(L, -1), lib, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
}

static const knownfn *findknown(lugo_runtime *rt, lua_CFunction f) {
  lugo_known *k = rt ? rt->known : NULL;
  knownfn key;
  if (k == NULL) return NULL;
  key.f = f;
  return (const knownfn *)bsearch(&key, k->f, k->n, sizeof(*k->f), cmpfn);
}

void lugo__marshal_learn(lugo_runtime *rt, lua_State *L) {
  lugo_known *k = (lugo_known *)calloc(1, sizeof(*k));
  size_t i, j;
  if (k == NULL) return;
  /* globals first, so base functions are known as "_G" ones */
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  learntable(k, L, "_G");
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_istable(L, -1) && lua_type(L, -2) == LUA_TSTRING &&
        strcmp(lua_tostring(L, -2), LUA_GNAME) != 0)
      learntable(k, L, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  /* metatables' method tables (lugo.chan and friends) */
  lua_pushnil(L);
  while (lua_next(L, LUA_REGISTRYINDEX)) {
    if (lua_istable(L, -1)) {
      learntable(k, L, NULL);
      if (lua_getfield(L, -1, "__index") == LUA_TTABLE) learntable(k, L, NULL);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  qsort(k->f, k->n, sizeof(*k->f), cmpfn);
  for (i = j = 0; i < k->n; i++) {  /* one entry per function: the first */
    if (j > 0 && k->f[j - 1].f == k->f[i].f) {
      free((void *)k->f[i].lib);
      free((void *)k->f[i].key);
      continue;
    }
    k->f[j++] = k->f[i];
  }
  k->n = j;
  rt->known = k;
  lua_getglobal(L, LUA_LOADLIBNAME);
  lua_getfield(L, -1, "path");
  rt->defpath = lua_isstring(L, -1) ? strdup(lua_tostring(L, -1)) : NULL;
  lua_getfield(L, -2, "cpath");
  rt->defcpath = lua_isstring(L, -1) ? strdup(lua_tostring(L, -1)) : NULL;
  lua_pop(L, 3);
}

void lugo__marshal_free_known(lugo_runtime *rt) {
  free(rt->defpath);
  free(rt->defcpath);
  rt->defpath = rt->defcpath = NULL;
  if (rt->known) {
    size_t i;
    for (i = 0; i < rt->known->n; i++) {
      free((void *)rt->known->f[i].lib);
      free((void *)rt->known->f[i].key);
    }
    free(rt->known->f);
    free(rt->known);
    rt->known = NULL;
  }
}

static int isknown(lugo_runtime *rt, lua_CFunction f) {
  return findknown(rt, f) != NULL;
}

/* registry: standard library table -> its name */
static const char STDNAMES = 's';

/* filled as libraries open (made by the first) */
void lugo__marshal_addstd(lua_State *L, const char *name) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &STDNAMES) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &STDNAMES);
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, name) == LUA_TTABLE) {
    lua_pushstring(L, name);
    lua_rawset(L, -4);
    lua_pop(L, 2);
  } else {
    lua_pop(L, 3);
  }
}

/* ---------------------------------------------------------------------
** the box: memory under construction, owned by the goroutine (g->mbox), so
** a raise in the middle leaks nothing: the next marshal, or the end of the
** goroutine, frees what the failed one left.  Its buffer is reused.
** ------------------------------------------------------------------- */

typedef struct box {
  char *p;
  size_t n, cap;
  lugo_obj **objs;
  size_t nobjs, capobjs;
  int busy;  /* a marshal is using it (cleared at every resume) */
} box;

static void boxclear(box *b) {
  size_t i;
  for (i = 0; i < b->nobjs; i++) lugo__obj_release(b->objs[i]);
  b->nobjs = 0;
  b->n = 0;
}

/* The goroutine's box, or, when a marshal is already using it (a
** finalizer that sends, run by an allocation of the outer marshal), a box
** of its own for this call (*temp set; freed by the caller, leaked only if
** that nested call raises). */
static box *getbox(lua_State *L, int *temp) {
  lugo_G *g = lugo__G(L);
  box *b;
  if (g == NULL) luaL_error(L, "lugo: not running in a goroutine");
  b = (box *)g->mbox;
  *temp = 0;
  if (b != NULL && b->busy) {
    b = (box *)calloc(1, sizeof(*b));
    if (b == NULL) luaL_error(L, "not enough memory");
    *temp = 1;
    b->busy = 1;
    return b;
  }
  if (b == NULL) {
    b = (box *)calloc(1, sizeof(*b));
    if (b == NULL) luaL_error(L, "not enough memory");
    g->mbox = b;
  }
  boxclear(b);
  b->busy = 1;
  if (b->cap > 64 * 1024) {  /* do not keep a huge buffer around */
    free(b->p);
    b->p = NULL;
    b->cap = 0;
  }
  return b;
}

void lugo__marshal_idle(lugo_G *g) {
  if (g->mbox) ((box *)g->mbox)->busy = 0;
  g->decoding = 0;
}

void lugo__marshal_gfree(lugo_G *g) {
  box *b = (box *)g->mbox;
  if (b) {
    boxclear(b);
    free(b->p);
    free(b->objs);
    free(b);
    g->mbox = NULL;
  }
  if (g->inblob) {
    lugo__blob_free(g->inblob);
    g->inblob = NULL;
  }
}

/* ---------------------------------------------------------------------
** writing
** ------------------------------------------------------------------- */

typedef struct frame {
  int kind;  /* 'a' argument n, 'u' upvalue s, 'f' field s, 'i' index n,
                'k' key, 'm' metatable */
  const char *s;
  lua_Integer n;
} frame;

typedef struct W {
  lua_State *L;
  lugo_runtime *rt;
  box *b;
  int seen;     /* stack index: object -> id */
  int upids;    /* stack index: upvalue id -> fnid * 256 + idx */
  int std;      /* stack index: std table -> name */
  int names;    /* stack index: global names seen -> true, and a queue at
                   [1..nq] of names still to look up (0 when not scanning) */
  int nq;
  int checknext;  /* the next function encoded is go's: check its writes */
  int mods;       /* stack index of the module-path index, 0 if not yet */
  size_t pkgstart;  /* where the package section began */
  int needpkg;      /* the goroutine may load modules */
  int nextid;
  int depth;
  const char *fname;
  const char *prefix;  /* where the value itself was found, for error
                          paths (a shared table's key), or NULL */
  /* tables are copied breadth first, so depth costs no C stack: a table
  ** is announced (T_TABLE, its id) where it is met and its body (T_TBODY)
  ** written later from this queue */
  int queue;      /* stack index: [1..qn] tables whose body is due */
  int qn;
  int ptab, pkey, pfmt;  /* stack indices: for error paths, each queued
                            table's parent table, key in it, or path text */
  int curtab;     /* stack index of the table whose body is being written */
  frame path[PATHMAX];
} W;

/* [-0, +1, -] a stack slot for a scratch table made on first use (most
** marshals need few of them: a spawn of a function with no tables none) */
static int slot(lua_State *L) {
  lua_pushnil(L);
  return lua_gettop(L);
}

/* [-0, +0, m] the scratch table in slot i */
static int tab(W *w, int i) {
  if (!lua_istable(w->L, i)) {
    lua_newtable(w->L);
    lua_replace(w->L, i);
  }
  return i;
}

static const char MTKEY = 'm';  /* pkey marker: reached as a metatable */

static void grow_(W *w, size_t need) {
  box *b = w->b;
  {
    size_t cap = b->cap ? b->cap : 64;
    char *p;
    while (cap < b->n + need) cap *= 2;
    p = (char *)realloc(b->p, cap);
    if (p == NULL) luaL_error(w->L, "%s: not enough memory", w->fname);
    b->p = p;
    b->cap = cap;
  }
}

static inline void grow(W *w, size_t need) {
  if (w->b->n + need > w->b->cap) grow_(w, need);
}

static void putbytes(W *w, const void *s, size_t n) {
  grow(w, n);
  memcpy(w->b->p + w->b->n, s, n);
  w->b->n += n;
}

static void putbyte(W *w, int c) {
  grow(w, 1);
  w->b->p[w->b->n++] = (char)c;
}

static void putsize(W *w, size_t v) {  /* varint */
  do {
    int c = (int)(v & 0x7f);
    v >>= 7;
    putbyte(w, c | (v ? 0x80 : 0));
  } while (v);
}

static void putobj(W *w, lugo_obj *o) {
  box *b = w->b;
  if (b->nobjs == b->capobjs) {
    size_t cap = b->capobjs ? 2 * b->capobjs : 4;
    lugo_obj **no = (lugo_obj **)realloc(b->objs, cap * sizeof(*no));
    if (no == NULL) luaL_error(w->L, "%s: not enough memory", w->fname);
    b->objs = no;
    b->capobjs = cap;
  }
  lugo__obj_grab(o);
  b->objs[b->nobjs++] = o;
  putbyte(w, T_OBJ);
  putbytes(w, &o, sizeof(o));
}

static const char *typename_(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TTHREAD: return "coroutine";
    case LUA_TFUNCTION: return "C function";
    default: return luaL_typename(L, idx);
  }
}

/* [-0, +1, m] the frames of the current body (or top level) as text */
static void pushframes(W *w) {
  lua_State *L = w->L;
  luaL_Buffer B;
  int i;
  luaL_buffinit(L, &B);
  for (i = 0; i < w->depth && i < PATHMAX; i++) {
    frame *f = &w->path[i];
    if (luaL_bufflen(&B) > 0 && f->kind) luaL_addchar(&B, ' ');
    switch (f->kind) {
      case 'a': lua_pushfstring(L, "argument %I", (LUAI_UACINT)f->n); luaL_addvalue(&B); break;
      case 'u': lua_pushfstring(L, "upvalue '%s'", f->s); luaL_addvalue(&B); break;
      case 'f': lua_pushfstring(L, "field '%s'", f->s); luaL_addvalue(&B); break;
      case 'i': lua_pushfstring(L, "index %I", (LUAI_UACINT)f->n); luaL_addvalue(&B); break;
      case 'k': luaL_addstring(&B, "key"); break;
      case 'm': luaL_addstring(&B, "metatable"); break;
      case 'g': lua_pushfstring(L, "global '%s'", f->s); luaL_addvalue(&B); break;
      default: break;
    }
  }
  luaL_pushresult(&B);
}

/* [-0, +1, m] how the table at t was reached from its parent */
static void pushstep(W *w, int t) {
  lua_State *L = w->L;
  lua_pushvalue(L, t);
  if (lua_rawget(L, tab(w, w->pfmt)) == LUA_TSTRING) return;
  lua_pop(L, 1);
  lua_pushvalue(L, t);
  switch (lua_rawget(L, tab(w, w->pkey))) {
    case LUA_TSTRING: lua_pushfstring(L, "field '%s'", lua_tostring(L, -1)); break;
    case LUA_TNUMBER:
      if (lua_tointeger(L, -1) <= 0)  /* a value given to go or send */
        lua_pushfstring(L, lua_tointeger(L, -1) < -1 ? "argument %I" : "",
                        (LUAI_UACINT)-lua_tointeger(L, -1));
      else
        lua_pushfstring(L, "index %I", (LUAI_UACINT)lua_tointeger(L, -1));
      break;
    case LUA_TLIGHTUSERDATA: lua_pushliteral(L, "metatable"); break;
    default: lua_pushliteral(L, "key");
  }
  lua_remove(L, -2);
}

static int cantcopy(W *w, int idx) {
  lua_State *L = w->L;
  const char *what = typename_(L, idx);
  int n = 0, steps, more = 0;
  luaL_checkstack(L, 10, NULL);
  lua_newtable(L);  /* the current body's ancestry, innermost first */
  steps = lua_gettop(L);
  if (w->curtab) {
    lua_pushvalue(L, w->curtab);
    for (;;) {
      pushstep(w, lua_gettop(L));
      lua_rawseti(L, steps, ++n);
      lua_rawget(L, tab(w, w->ptab));  /* replaces the table by its parent */
      if (!lua_istable(L, -1)) break;
      if (n >= 12) { more = 1; break; }
    }
    lua_pop(L, 1);
  }
  {
    luaL_Buffer B;
    int i;
    pushframes(w);  /* at steps + 1 */
    luaL_buffinit(L, &B);
    if (w->prefix && *w->prefix) luaL_addstring(&B, w->prefix);
    if (more) {
      if (luaL_bufflen(&B) > 0) luaL_addchar(&B, ' ');
      luaL_addstring(&B, "...");
    }
    /* luaL_addchar wants the buffer on top: add the space before pushing
    ** the value (after it, a buffer that grows corrupts the stack) */
    for (i = n; i >= 1; i--) {  /* outermost first */
      lua_rawgeti(L, steps, i);
      if (lua_rawlen(L, -1) == 0) { lua_pop(L, 1); continue; }
      lua_pop(L, 1);
      if (luaL_bufflen(&B) > 0) luaL_addchar(&B, ' ');
      lua_rawgeti(L, steps, i);
      luaL_addvalue(&B);
    }
    if (lua_rawlen(L, steps + 1) > 0) {
      if (luaL_bufflen(&B) > 0) luaL_addchar(&B, ' ');
      lua_pushvalue(L, steps + 1);
      luaL_addvalue(&B);
    }
    luaL_pushresult(&B);
  }
  if (lua_rawlen(L, -1) > 0)
    return luaL_error(L, "%s: cannot copy %s to another goroutine (at %s)",
                      w->fname, what, lua_tostring(L, -1));
  return luaL_error(L, "%s: cannot copy %s to another goroutine", w->fname, what);
}


/* ---------------------------------------------------------------------
** the globals scan (bcscan.c reads the bytecode): the globals a crossing
** function reads are copied; in the function given to go, assigning a
** global the spawner has, a captured local, or into a captured plain
** table is refused, since the goroutine would only change its own copy
** ------------------------------------------------------------------- */

static void queue_name(W *w, const char *s, size_t len);

/* a global's value (on top) is the standard library's or lugo's own */
static int isstandard(W *w) {
  lua_State *L = w->L;
  int std = 0;
  if (lua_iscfunction(L, -1)) {
    std = isknown(w->rt, lua_tocfunction(L, -1));
  } else if (lua_istable(L, -1)) {
    lua_pushvalue(L, -1);
    std = lua_rawget(L, w->std) != LUA_TNIL;
    lua_pop(L, 1);
    if (!std) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
      std = lua_rawequal(L, -1, -2);
      lua_pop(L, 1);
    }
  }
  return std;
}

typedef struct scanctx {
  W *w;
  int fidx;        /* the function being scanned */
  int check;       /* the function given to go: refuse writes */
  lugo_scanev bad; /* the first refused write */
  int hasbad;
} scanctx;

static int onscan(void *ud, const lugo_scanev *ev) {
  scanctx *c = (scanctx *)ud;
  lua_State *L = c->w->L;
  switch (ev->what) {
    case LUGO_SCAN_GREAD:
      if (ev->len > 0) queue_name(c->w, ev->name, ev->len);
      if (ev->len == 7 && memcmp(ev->name, "require", 7) == 0) c->w->needpkg = 1;
      return 0;
    case LUGO_SCAN_GWRITE: {
      int refuse;
      if (!c->check) return 0;
      lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
      lua_pushlstring(L, ev->name, ev->len);
      refuse = lua_rawget(L, -2) != LUA_TNIL && !isstandard(c->w);
      lua_pop(L, 2);
      if (!refuse) return 0;
      break;
    }
    default:  /* captured local or table */
      if (!c->check) return 0;
  }
  c->bad = *ev;
  c->hasbad = 1;
  return 1;  /* one is enough */
}

/* [-0, +1, m] "file.lua:12" for an event (lua's chunkid, shortened) */
static void pushwhere(lua_State *L, const lugo_scanev *ev) {
  const char *src = ev->source;
  size_t len = ev->srclen;
  if (src == NULL || len == 0) lua_pushliteral(L, "?");
  else if (*src == '@' || *src == '=') lua_pushlstring(L, src + 1, len - 1);
  else {
    size_t n = 0;
    while (n < len && n < 40 && src[n] != '\n') n++;
    lua_pushfstring(L, "[string \"%s%s\"]",
                    lua_pushlstring(L, src, n), n < len ? "..." : "");
    lua_remove(L, -2);
  }
  if (ev->line >= 0) {
    lua_pushfstring(L, ":%d", ev->line);
    lua_concat(L, 2);
  }
}

static void refuse(W *w, scanctx *c) {
  lua_State *L = w->L;
  const lugo_scanev *ev = &c->bad;
  const char *name;
  pushwhere(L, ev);
  if (ev->what == LUGO_SCAN_GWRITE) {
    lua_pushlstring(L, ev->name, ev->len);
    luaL_error(L, "%s: the goroutine assigns global '%s' (%s), which would only "
               "change its own copy (use a channel, a shared table, or atomic)",
               w->fname, lua_tostring(L, -1), lua_tostring(L, -2));
  }
  name = lua_getupvalue(L, c->fidx, ev->up);
  if (name == NULL || *name == '\0') name = "?";
  if (ev->what == LUGO_SCAN_UPWRITE)
    luaL_error(L, "%s: the goroutine assigns captured local '%s' (%s), which "
               "would only change its own copy (use a channel, a shared "
               "table, or atomic)", w->fname, name, lua_tostring(L, -2));
  luaL_error(L, "%s: the goroutine stores into captured table '%s' (%s), which "
             "would only fill its own copy (send the values on a channel, or "
             "use a shared table)", w->fname, name, lua_tostring(L, -2));
}

/* ---------------------------------------------------------------------
** function cache: what go(f) learns about a Lua function -- its dump, the
** scan of its bytecode and an id the receivers key their loaded copies
** by -- is kept per closure (weak keys) and per dump (weak values, so new
** closures of one prototype share an entry while one is alive), so a
** repeated go(f) neither dumps nor scans f again, and a pooled receiver
** state need not load it again (unmarshal.c).
** ------------------------------------------------------------------- */

static int writer(lua_State *L, const void *p, size_t sz, void *ud);

static const char FNCACHE = 'f';  /* registry: [1] closure -> entry,
                                     [2] dump -> entry */

typedef struct fnentry {
  uint64_t id;       /* unique in the process */
  const char *dump;  /* the dump (a string in user value 1) */
  size_t n;
  int nups;          /* the kinds the events were recorded with */
  int nev;           /* events (a userdata in user value 2), -1: none yet */
  lugo_scanev *ev;
  char kinds[256];
} fnentry;

/* [-0, +0, m] the weak table cache[i], made on first use */
static void pushcache(lua_State *L, int i) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &FNCACHE) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &FNCACHE);
  }
  if (lua_rawgeti(L, -1, i) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, i == 1 ? "k" : "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, i);
  }
  lua_remove(L, -2);
}

static uint64_t nextfnid(void) {
  static atomic_uint_fast64_t ids;
  return (uint64_t)atomic_fetch_add(&ids, 1) + 1;
}

/* [-0, +1, m] the cache entry of the Lua function at fidx */
static fnentry *fncache_get(W *w, int fidx) {
  lua_State *L = w->L;
  fnentry *e;
  size_t start = w->b->n;
  int bycl;
  pushcache(L, 1);
  bycl = lua_gettop(L);
  lua_pushvalue(L, fidx);
  if (lua_rawget(L, bycl) == LUA_TUSERDATA) {
    lua_remove(L, bycl);
    return (fnentry *)lua_touserdata(L, -1);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, fidx);  /* dumped past the end of the output, then cut */
  if (lua_dump(L, writer, w, 0) != 0)
    luaL_error(L, "%s: not enough memory", w->fname);
  lua_pop(L, 1);
  lua_pushlstring(L, w->b->p + start, w->b->n - start);
  w->b->n = start;
  pushcache(L, 2);
  lua_pushvalue(L, -2);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {  /* another closure's entry */
    e = (fnentry *)lua_touserdata(L, -1);
  } else {
    lua_pop(L, 1);
    e = (fnentry *)lua_newuserdatauv(L, sizeof(*e), 2);
    e->id = nextfnid();
    e->dump = lua_tolstring(L, -3, &e->n);
    e->nups = 0;
    e->nev = -1;
    e->ev = NULL;
    lua_pushvalue(L, -3);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);  /* by dump */
  }
  lua_pushvalue(L, fidx);
  lua_pushvalue(L, -2);
  lua_rawset(L, bycl);  /* by closure */
  lua_replace(L, bycl);
  lua_settop(L, bycl);
  return e;
}

typedef struct recctx {
  lua_State *L;
  luaL_Buffer b;
  int n;
} recctx;

static int record(void *ud, const lugo_scanev *ev) {
  recctx *c = (recctx *)ud;
  luaL_addlstring(&c->b, (const char *)ev, sizeof(*ev));
  c->n++;
  return 0;
}

/* [-0, +0, m] the events of entry e (at the top) scanned with these
** upvalue kinds: recorded once, again only if the kinds differ */
static void fncache_events(W *w, fnentry *e, const char *kinds, int nups) {
  lua_State *L = w->L;
  recctx c;
  if (e->nev >= 0 && e->nups == nups && memcmp(e->kinds, kinds, nups) == 0)
    return;
  c.L = L;
  c.n = 0;
  luaL_buffinit(L, &c.b);
  lugo__bcscan(e->dump, e->n, kinds, nups, record, &c);
  luaL_pushresult(&c.b);
  {  /* a userdata, so the events stay put (a string's bytes are const) */
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    void *p = lua_newuserdatauv(L, len ? len : 1, 0);
    memcpy(p, s, len);
    lua_setiuservalue(L, -3, 2);
    lua_pop(L, 1);
    e->ev = (lugo_scanev *)p;
  }
  e->nev = c.n;
  e->nups = nups;
  memcpy(e->kinds, kinds, nups);
}

/* check the function at fidx (its entry e on top): replay its events */
static void scanfunction(W *w, int fidx, fnentry *e) {
  lua_State *L = w->L;
  char kinds[256];
  int i, nups = 0;
  scanctx c;
  for (i = 1; i <= 255; i++) {
    if (lua_getupvalue(L, fidx, i) == NULL) break;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    if (lua_rawequal(L, -1, -2)) kinds[i - 1] = 'e';
    else if (lua_type(L, -2) == LUA_TTABLE) kinds[i - 1] = 't';
    else kinds[i - 1] = '-';
    lua_pop(L, 2);
    nups = i;
  }
  fncache_events(w, e, kinds, nups);
  c.w = w;
  c.fidx = fidx;
  c.check = w->checknext;
  c.hasbad = 0;
  w->checknext = 0;
  for (i = 0; i < e->nev; i++)
    if (onscan(&c, &e->ev[i])) break;
  if (c.hasbad) refuse(w, &c);
}

static void queue_name(W *w, const char *s, size_t len) {
  lua_State *L = w->L;
  lua_pushlstring(L, s, len);
  if (lua_rawget(L, w->names) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushlstring(L, s, len);
  lua_pushboolean(L, 1);
  lua_rawset(L, w->names);
  lua_pushlstring(L, s, len);
  lua_rawseti(L, w->names, ++w->nq);
}

/* [-0, +1, m] a new table; its stack index */
static int newtab(lua_State *L) {
  lua_newtable(L);
  return lua_gettop(L);
}

static void encode(W *w, int idx);
static void enqueue(W *w, int idx);
static void flush(W *w);
static void finish(W *w);
static lugo_blob *marshal(lua_State *L, int first, int n, const char *fname,
                          int globals);

static void push_frame(W *w, int kind, const char *s, lua_Integer n) {
  if (w->depth < PATHMAX) {
    frame *f = &w->path[w->depth];
    f->kind = kind;
    f->s = s;
    f->n = n;
  }
  w->depth++;
}

/* returns 1 if the object at idx was seen (and wrote a REF) */
static int seen(W *w, int idx) {
  lua_State *L = w->L;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, tab(w, w->seen)) == LUA_TNUMBER) {
    putbyte(w, T_REF);
    putsize(w, (size_t)lua_tointeger(L, -1));
    lua_pop(L, 1);
    return 1;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_pushinteger(L, w->nextid++);
  lua_rawset(L, tab(w, w->seen));
  return 0;
}

/* ---------------------------------------------------------------------
** modules by path: a value reachable from package.loaded (a module, its
** fields, and their fields) crosses as "require(mod) and follow the path",
** so module state stays per goroutine and C functions of C modules cross
** too.  The index (value -> {mod, k1, k2}) lives in the registry and is
** rebuilt when package.loaded gains or loses entries.
** ------------------------------------------------------------------- */

static const char MODINDEX = 'x';
#define MODMAX 2000  /* values indexed per module */

static int indexable(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  return t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TUSERDATA;
}

/* index[v] = {mod, path...} (path at the top: a table) unless v has one */
static void addpath(lua_State *L, int index, int v, int path) {
  lua_pushvalue(L, v);
  if (lua_rawget(L, index) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, v);
  lua_pushvalue(L, path);
  lua_rawset(L, index);
}

/* a path one longer: {path..., k} with k at the top; pops k, pushes it */
static void extend(lua_State *L, int path, int k) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, path), i;
  lua_createtable(L, (int)n + 1, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, path, i);
    lua_rawseti(L, -2, i);
  }
  lua_pushvalue(L, k);
  lua_rawseti(L, -2, n + 1);
}

static void indexmodule(W *w, int index, int mod, int path) {
  lua_State *L = w->L;
  int count = 0;
  addpath(L, index, mod, path);
  if (!lua_istable(L, mod)) return;
  lua_pushnil(L);
  while (lua_next(L, mod)) {
    int k = lua_gettop(L) - 1, v = k + 1, t = lua_type(L, k);
    if (count < MODMAX && (t == LUA_TSTRING || t == LUA_TNUMBER) && indexable(L, v)) {
      int p1;
      extend(L, path, k);
      p1 = lua_gettop(L);
      addpath(L, index, v, p1);
      count++;
      if (lua_istable(L, v)) {  /* one level more */
        lua_pushnil(L);
        while (lua_next(L, v)) {
          int k2 = lua_gettop(L) - 1, t2 = lua_type(L, k2);
          if (count < MODMAX && (t2 == LUA_TSTRING || t2 == LUA_TNUMBER) &&
              indexable(L, k2 + 1)) {
            extend(L, p1, k2);
            addpath(L, index, k2 + 1, lua_gettop(L));
            lua_pop(L, 1);
            count++;
          }
          lua_pop(L, 1);
        }
      }
      lua_pop(L, 1);  /* the path */
    }
    lua_pop(L, 1);
  }
}

/* __newindex of package.loaded: a new module; note it */
static int loaded_newindex(lua_State *L) {
  lugo_G *g = lugo__G(L);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  if (g) g->modepoch++;
  return 0;
}

void lugo__marshal_watchloaded(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lugo__setmetafn(L, "__newindex", loaded_newindex);
  lua_pop(L, 1);
}

/* [-0, +1, m] make w->mods the current index (on the stack); it is rebuilt
** when package.loaded gained a module (require and luaL_requiref assign
** absent keys, which the watch above sees) */
static void modindex(W *w) {
  lua_State *L = w->L;
  lugo_G *g = lugo__G(L);
  int loaded, index;
  if (w->mods) return;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &MODINDEX) == LUA_TTABLE &&
      g != NULL && g->modindexepoch == g->modepoch + 1) {
    w->mods = lua_gettop(L);
    return;
  }
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  loaded = lua_gettop(L);
  lua_newtable(L);
  index = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, loaded)) {
    int std;
    lua_pushvalue(L, -1);
    std = lua_rawget(L, w->std) != LUA_TNIL;
    lua_pop(L, 1);
    if (!std && lua_type(L, -2) == LUA_TSTRING && indexable(L, -1)) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
      std = lua_rawequal(L, -1, -2);
      lua_pop(L, 1);
      if (!std) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, -3);
        lua_rawseti(L, -2, 1);
        indexmodule(w, index, lua_gettop(L) - 1, lua_gettop(L));
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, index);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &MODINDEX);
  lua_remove(L, loaded);
  if (g) g->modindexepoch = g->modepoch + 1;
  w->mods = lua_gettop(L);
}

/* if the value at idx is reachable from package.loaded, write its path */
static int bypath(W *w, int idx) {
  lua_State *L = w->L;
  lua_Integer n, i;
  modindex(w);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, w->mods) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  n = (lua_Integer)lua_rawlen(L, -1);
  w->needpkg = 1;
  putbyte(w, T_MODPATH);
  putsize(w, (size_t)n);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    encode(w, lua_gettop(L));  /* a string or a number */
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 1;
}

static void encode_table(W *w, int idx) {
  lua_State *L = w->L;
  size_t narr = lua_rawlen(L, idx), nhash = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  if (lua_rawequal(L, -1, idx)) {
    lua_pop(L, 1);
    putbyte(w, T_GLOBALS);
    return;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, w->std) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    putbyte(w, T_STD);
    putsize(w, len);
    putbytes(w, s, len);
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (bypath(w, idx)) return;
  if (seen(w, idx)) return;
  putbyte(w, T_TABLE);
  putsize(w, narr);
  putsize(w, nhash);
  enqueue(w, idx);
}

/* Queue the table at idx for its body, noting how it was reached. */
static void enqueue(W *w, int idx) {
  lua_State *L = w->L;
  lua_pushvalue(L, idx);
  lua_rawseti(L, tab(w, w->queue), ++w->qn);
  if (w->curtab) {
    lua_pushvalue(L, idx);
    lua_pushvalue(L, w->curtab);
    lua_rawset(L, tab(w, w->ptab));
  }
  lua_pushvalue(L, idx);
  if (w->depth == 1 && w->path[0].kind != 'u' && w->path[0].kind != 'g' &&
      !(w->path[0].kind == 'i' && w->path[0].n <= 0)) {
    frame *f = &w->path[0];  /* one step: keep the key, no text */
    switch (f->kind) {
      case 'f': lua_pushstring(L, f->s); break;
      case 'i': lua_pushinteger(L, f->n); break;  /* > 0; others as text */
      case 'm': lua_pushlightuserdata(L, (void *)&MTKEY); break;
      case 'a': lua_pushinteger(L, -f->n); break;
      case 0: lua_pushinteger(L, -1); break;
      default: lua_pushboolean(L, 1);
    }
    lua_rawset(L, tab(w, w->pkey));
  } else {
    pushframes(w);
    lua_rawset(L, tab(w, w->pfmt));
  }
}

/* Write the bodies of queued tables (more may be queued meanwhile). */
static void flush(W *w) {
  lua_State *L = w->L;
  int qi, t;
  for (qi = 1; qi <= w->qn; qi++) {
    luaL_checkstack(L, 16, "value too deep to copy");
    lua_rawgeti(L, tab(w, w->queue), qi);
    t = lua_gettop(L);
    lua_pushnil(L);
    lua_rawseti(L, tab(w, w->queue), qi);  /* let it go from the queue */
    w->curtab = t;
    w->depth = 0;
    putbyte(w, T_TBODY);
    lua_pushvalue(L, t);
    lua_rawget(L, tab(w, w->seen));
    putsize(w, (size_t)lua_tointeger(L, -1));
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, t)) {
      int k = lua_gettop(L) - 1;
      encode(w, k);
      if (lua_type(L, k) == LUA_TSTRING)
        push_frame(w, 'f', lua_tostring(L, k), 0);
      else if (lua_isinteger(L, k))
        push_frame(w, 'i', NULL, lua_tointeger(L, k));
      else
        push_frame(w, 'k', NULL, 0);
      encode(w, k + 1);
      w->depth--;
      lua_pop(L, 1);
    }
    putbyte(w, T_END);
    if (lua_getmetatable(L, t)) {
      push_frame(w, 'm', NULL, 0);
      encode(w, lua_gettop(L));
      w->depth--;
      lua_pop(L, 1);
    } else {
      putbyte(w, T_NIL);
    }
    lua_pop(L, 1);
    w->curtab = 0;
  }
  w->qn = 0;
}

static int writer(lua_State *L, const void *p, size_t sz, void *ud) {
  W *w = (W *)ud;
  box *b = w->b;
  (void)L;
  if (b->n + sz > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    char *np;
    while (cap < b->n + sz) cap *= 2;
    np = (char *)realloc(b->p, cap);
    if (np == NULL) return 1;
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->n, p, sz);
  b->n += sz;
  return 0;
}

static void encode_function(W *w, int idx) {
  lua_State *L = w->L;
  int fnid, i;
  uint64_t len;
  fnentry *e;
  if (lua_iscfunction(L, idx)) {
    lua_CFunction f = lua_tocfunction(L, idx);
    const knownfn *k = findknown(w->rt, f);
    int hasup = lua_getupvalue(L, idx, 1) != NULL;
    if (hasup) lua_pop(L, 1);
    if (k != NULL && k->lib != NULL &&
        (hasup || strcmp(k->lib, LUA_IOLIBNAME) == 0)) {
      /* a closure (require, math.random), or needing its library's state
      ** (io): the receiver's own, found by name */
      putbyte(w, T_STDFN);
      putsize(w, strlen(k->lib));
      putbytes(w, k->lib, strlen(k->lib));
      putsize(w, strlen(k->key));
      putbytes(w, k->key, strlen(k->key));
      return;
    }
    if (hasup || k == NULL) {
      if (bypath(w, idx)) return;
      cantcopy(w, idx);
    }
    putbyte(w, T_CFUNC);  /* a pure C function: the same code anywhere */
    putbytes(w, &f, sizeof(f));
    return;
  }
  if (bypath(w, idx)) return;
  luaL_checkstack(L, 16, "value too deep to copy");
  fnid = w->nextid;
  if (seen(w, idx)) return;
  e = fncache_get(w, idx);
  putbyte(w, T_FUNC);
  putbytes(w, &e->id, 8);
  len = (uint64_t)e->n;
  putbytes(w, &len, 8);
  putbytes(w, e->dump, e->n);
  if (w->names) scanfunction(w, idx, e);
  else w->checknext = 0;
  lua_pop(L, 1);  /* the entry */
  for (i = 1; lua_getupvalue(L, idx, i) != NULL; i++) lua_pop(L, 1);
  putsize(w, (size_t)(i - 1));
  for (i = 1;; i++) {
    const char *name = lua_getupvalue(L, idx, i);
    void *uid;
    if (name == NULL) break;
    uid = lua_upvalueid(L, idx, i);
    lua_pushlightuserdata(L, uid);
    if (lua_rawget(L, tab(w, w->upids)) == LUA_TNUMBER) {
      lua_Integer code = lua_tointeger(L, -1);
      putbyte(w, T_UPJOIN);
      putsize(w, (size_t)(code >> 8));
      putsize(w, (size_t)(code & 0xff));
      lua_pop(L, 2);
      continue;
    }
    lua_pop(L, 1);
    lua_pushlightuserdata(L, uid);
    lua_pushinteger(L, (lua_Integer)fnid * 256 + i);
    lua_rawset(L, tab(w, w->upids));
    push_frame(w, 'u', *name ? name : "?", 0);
    encode(w, lua_gettop(L));
    w->depth--;
    lua_pop(L, 1);
  }
}

static void encode(W *w, int idx) {
  lua_State *L = w->L;
  if (w->depth >= MAXDEPTH)
    luaL_error(L, "%s: value too deep to copy to another goroutine", w->fname);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: putbyte(w, T_NIL); break;
    case LUA_TBOOLEAN: putbyte(w, lua_toboolean(L, idx) ? T_TRUE : T_FALSE); break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        lua_Integer i = lua_tointeger(L, idx);
        putbyte(w, T_INT);
        putbytes(w, &i, sizeof(i));
      } else {
        lua_Number n = lua_tonumber(L, idx);
        putbyte(w, T_FLT);
        putbytes(w, &n, sizeof(n));
      }
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      putbyte(w, T_STR);
      putsize(w, len);
      putbytes(w, s, len);
      break;
    }
    case LUA_TTABLE: encode_table(w, idx); break;
    case LUA_TFUNCTION: encode_function(w, idx); break;
    case LUA_TUSERDATA: {
      lugo_obj *o = lugo__obj_test(L, idx, NULL);
      if (o != NULL) putobj(w, o);
      else if (!bypath(w, idx)) cantcopy(w, idx);
      break;
    }
    default: cantcopy(w, idx);
  }
}

/* Is the global (name below, value on top) worth copying?  A standard
** table or function under its own standard name is the receiver's own
** already (and opens lazily there); under another name (fmt =
** string.format) it is copied. */
static int copyable_global(W *w) {
  lua_State *L = w->L;
  int t = lua_type(L, -1);
  if (t == LUA_TNIL) return 0;
  if (t == LUA_TFUNCTION && lua_iscfunction(L, -1)) {
    const knownfn *k = findknown(w->rt, lua_tocfunction(L, -1));
    return !(k && k->lib && strcmp(k->lib, LUA_GNAME) == 0 &&
             strcmp(k->key, lua_tostring(L, -2)) == 0);
  }
  if (t == LUA_TTABLE) {
    int std;
    lua_pushvalue(L, -1);
    std = lua_rawget(L, w->std) == LUA_TSTRING &&
          strcmp(lua_tostring(L, -1), lua_tostring(L, -3)) == 0;
    lua_pop(L, 1);
    if (std) return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    std = lua_rawequal(L, -1, -2);
    lua_pop(L, 1);
    return !std;
  }
  return 1;
}

/* After the values: (name, value) pairs of the spawner's globals that the
** crossing code names, then END.  Functions among them are scanned too. */
/* a key (at k) and its value (above it), the value labelled for errors;
** returns 1 */
static int encode_pair(W *w, int k, const char *label) {
  encode(w, k);
  push_frame(w, 'f', label, 0);
  encode(w, k + 1);
  w->depth--;
  return 1;
}

/* Before go's values: the spawner's package.path and .cpath where they
** differ from a fresh state's, its package.preload loaders and its Lua
** searchers, so that modules sent by path load in the goroutine.
** Returns 1 if it wrote the section. */
/* a preload loader whose upvalues cannot all cross is left out (rather
** than failing every go that names require); deeper problems still raise */
static int loadercrosses(W *w, int idx) {
  lua_State *L = w->L;
  int i, ok = 1;
  if (lua_iscfunction(L, idx)) return !isknown(w->rt, lua_tocfunction(L, idx));
  for (i = 1; ok && lua_getupvalue(L, idx, i) != NULL; i++) {
    int t = lua_type(L, -1);
    if (t == LUA_TTHREAD || t == LUA_TLIGHTUSERDATA ||
        (t == LUA_TUSERDATA && lugo__obj_test(L, -1, NULL) == NULL))
      ok = 0;
    lua_pop(L, 1);
  }
  return ok;
}

static int encode_package(W *w, int modules) {
  lua_State *L = w->L;
  int pkg, any = 0, i;
  const char *const fields[2] = {"path", "cpath"};
  const char *defs[2];
  defs[0] = w->rt ? w->rt->defpath : NULL;
  defs[1] = w->rt ? w->rt->defcpath : NULL;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, LUA_LOADLIBNAME) != LUA_TTABLE) {  /* never opened */
    lua_pop(L, 2);
    return 0;
  }
  pkg = lua_gettop(L);
  putbyte(w, T_PKG);  /* marks the section */
  for (i = 0; i < 2; i++) {
    lua_getfield(L, pkg, fields[i]);
    if (lua_type(L, -1) == LUA_TSTRING &&
        (defs[i] == NULL || strcmp(lua_tostring(L, -1), defs[i]) != 0)) {
      encode(w, lua_gettop(L));
      any = 1;
    } else {
      putbyte(w, T_NIL);
    }
    lua_pop(L, 1);
  }
  if (modules && lua_getfield(L, pkg, "preload") == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) == LUA_TSTRING && loadercrosses(w, lua_gettop(L)))
        any = encode_pair(w, lua_gettop(L) - 1, "preload");
      lua_pop(L, 1);
    }
  } else if (!modules) {
    lua_pushnil(L);
  }
  lua_pop(L, 1);
  putbyte(w, T_END);
  /* searchers: the whole list, when it is not the standard one, so order
  ** is kept; standard (C) searchers by their function, the receiver uses
  ** its own */
  if (modules && lua_getfield(L, pkg, "searchers") == LUA_TTABLE) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1), j;
    int custom = 0;
    for (j = 1; j <= n && !custom; j++) {
      custom = lua_rawgeti(L, -1, j) == LUA_TFUNCTION && !lua_iscfunction(L, -1);
      lua_pop(L, 1);
    }
    if (custom) {
      any = 1;
      for (j = 1; j <= n; j++) {
        lua_rawgeti(L, -1, j);
        if (lua_iscfunction(L, -1)) {
          lua_CFunction f = lua_tocfunction(L, -1);
          putbyte(w, 'C');
          putbytes(w, &f, sizeof(f));
        } else if (lua_isfunction(L, -1)) {
          putbyte(w, 'L');
          push_frame(w, 'f', "searchers", 0);
          encode(w, lua_gettop(L));
          w->depth--;
        }
        lua_pop(L, 1);
      }
    }
  } else if (!modules) {
    lua_pushnil(L);
  }
  lua_pop(L, 1);
  putbyte(w, T_END);
  lua_pop(L, 2);
  if (any) finish(w);  /* the bodies of its tables */
  if (!any) {  /* nothing to say: drop what we wrote */
    w->b->n = w->pkgstart;
    return 0;
  }
  return 1;
}

/* has the spawner's package.path or .cpath changed from a fresh state's?
** (then every goroutine inherits them) */
static int pathchanged(W *w) {
  lua_State *L = w->L;
  int changed = 0, top = lua_gettop(L);
  if (w->rt == NULL) return 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE) == LUA_TTABLE &&
      lua_getfield(L, -1, LUA_LOADLIBNAME) == LUA_TTABLE) {
    lua_getfield(L, -1, "path");
    lua_getfield(L, -2, "cpath");
    changed = (lua_isstring(L, -2) && w->rt->defpath &&
               strcmp(lua_tostring(L, -2), w->rt->defpath) != 0) ||
              (lua_isstring(L, -1) && w->rt->defcpath &&
               strcmp(lua_tostring(L, -1), w->rt->defcpath) != 0);
    lua_pop(L, 2);
  }
  lua_settop(L, top);
  return changed;
}

/* Global (name, value) pairs for the names queued since *done, each as
** T_GPAIR; the receiver stores them raw in its globals. */
static void encode_globals(W *w, int *done) {
  lua_State *L = w->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  while (*done < w->nq) {
    lua_rawgeti(L, w->names, ++*done);    /* name */
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);                    /* value */
    if (copyable_global(w)) {
      putbyte(w, T_GPAIR);
      encode(w, lua_gettop(L) - 1);
      push_frame(w, 'g', lua_tostring(L, -2), 0);
      encode(w, lua_gettop(L));
      w->depth--;
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

/* After the values: table bodies and globals until nothing is left (a
** body may hold a function naming more globals, a global may hold more
** tables), then END. */
static void finish(W *w) {
  int done = 0;
  do {
    if (w->names) encode_globals(w, &done);
    flush(w);
  } while (w->names && done < w->nq);
  putbyte(w, T_END);
}

static lugo_blob *marshal_(lua_State *L, int first, int n, const char *fname,
                           int globals, const char *prefix);

static lugo_blob *marshal(lua_State *L, int first, int n, const char *fname,
                          int globals) {
  return marshal_(L, first, n, fname, globals, NULL);
}

lugo_blob *lugo__marshal_go(lua_State *L, int first, int n, const char *fname) {
  return marshal(L, first, n, fname, 1);
}

lugo_blob *lugo__marshal(lua_State *L, int first, int n, const char *fname) {
  return marshal(L, first, n, fname, 0);
}

lugo_blob *lugo__marshal_at(lua_State *L, int idx, const char *fname,
                            const char *prefix) {
  return marshal_(L, idx, 1, fname, 0, prefix);
}

int lugo__marshal_byref(lua_State *L, int idx) {
  W ws, *w = &ws;
  int top = lua_gettop(L), byref;
  idx = lua_absindex(L, idx);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  byref = lua_rawequal(L, -1, idx);
  if (!byref) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &STDNAMES) == LUA_TTABLE) {
      lua_pushvalue(L, idx);
      byref = lua_rawget(L, -2) != LUA_TNIL;
      lua_pop(L, 1);
    }
    w->std = lua_gettop(L);
    if (!lua_istable(L, w->std)) {
      lua_newtable(L);
      w->std = lua_gettop(L);
    }
  }
  if (!byref && lugo__G(L) != NULL) {  /* reachable from package.loaded */
    w->L = L;
    w->mods = 0;
    modindex(w);
    lua_pushvalue(L, idx);
    byref = lua_rawget(L, w->mods) == LUA_TTABLE;
  }
  lua_settop(L, top);
  return byref;
}

static lugo_blob *marshal_(lua_State *L, int first, int n, const char *fname,
                           int globals, const char *prefix) {
  W ws, *w = &ws;
  lugo_blob *blob;
  int i, top, pkg, temp;
  box *b;
  first = lua_absindex(L, first);
  luaL_checkstack(L, 32, NULL);
  top = lua_gettop(L);
  b = getbox(L, &temp);
  w->L = L;
  w->rt = lugo__G(L) ? lugo__G(L)->rt : NULL;
  w->b = b;
  w->fname = fname;
  w->prefix = prefix;
  w->depth = 0;
  w->nextid = 1;
  w->seen = slot(L);
  w->upids = slot(L);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &STDNAMES) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
  }
  w->std = lua_gettop(L);
  w->names = 0;
  w->nq = 0;
  w->mods = 0;
  w->needpkg = 0;
  w->checknext = globals && lua_type(L, first) == LUA_TFUNCTION &&
                 !lua_iscfunction(L, first);
  if (globals) w->names = newtab(L);
  w->qn = 0;
  w->curtab = 0;
  w->queue = slot(L);
  w->ptab = slot(L);
  w->pkey = slot(L);
  w->pfmt = slot(L);
  for (i = 0; i < n; i++) {
    push_frame(w, i > 0 ? 'a' : 0, NULL, i + 1);  /* go's function: no label */
    encode(w, first + i);
    w->depth--;
    w->checknext = 0;  /* only go's own function is checked (it may have
                          crossed by path, leaving the flag unused) */
  }
  finish(w);
  /* the package section goes last, in its own id space, and only when the
  ** goroutine may load modules (it names require, or got values by path);
  ** the receiver applies it first */
  pkg = 0;
  if (globals && (w->needpkg || pathchanged(w))) {
    lua_pushnil(L);
    lua_replace(L, w->seen);
    lua_pushnil(L);
    lua_replace(L, w->upids);  /* its own id space for shared upvalues too */
    w->nextid = 1;
    w->pkgstart = b->n;
    w->names = 0;  /* its functions' globals are not ours to copy */
    pkg = encode_package(w, w->needpkg) ? 1 : 0;
  }
  blob = (lugo_blob *)calloc(1, sizeof(*blob));
  if (blob == NULL) luaL_error(L, "%s: not enough memory", fname);
  if (b->n <= 4096) {  /* small: copy, and keep the buffer for next time */
    blob->data = (char *)malloc(b->n ? b->n : 1);
    if (blob->data == NULL) {
      free(blob);
      luaL_error(L, "%s: not enough memory", fname);
      return NULL;
    }
    memcpy(blob->data, b->p, b->n);
  } else {  /* large: take it */
    blob->data = b->p;
    b->p = NULL;
    b->cap = 0;
  }
  blob->n = b->n;
  b->n = 0;
  if (b->nobjs > 0) {  /* the blob takes the references */
    blob->objs = b->objs;
    blob->nobjs = b->nobjs;
    b->objs = NULL;
    b->nobjs = b->capobjs = 0;
  }
  blob->nvals = n;
  blob->globals = globals;
  blob->pkg = pkg;
  blob->pkgoff = pkg ? w->pkgstart : 0;
  lua_settop(L, top);
  if (temp) {
    boxclear(b);
    free(b->p);
    free(b->objs);
    free(b);
  } else {
    b->busy = 0;
  }
  return blob;
}

void lugo__blob_free(lugo_blob *b) {
  size_t i;
  if (b == NULL) return;
  for (i = 0; i < b->nobjs; i++)  /* NULL: taken (shared.c's collector) */
    if (b->objs[i] != NULL) lugo__obj_release(b->objs[i]);
  free(b->objs);
  free(b->data);
  free(b);
}

/* ---------------------------------------------------------------------
** single values
** ------------------------------------------------------------------- */

void lugo__value_from(lua_State *L, int idx, lugo_value *v, const char *fname) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: v->t = LUGO_VNIL; return;
    case LUA_TBOOLEAN: v->t = lua_toboolean(L, idx) ? LUGO_VTRUE : LUGO_VFALSE; return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) { v->t = LUGO_VINT; v->u.i = lua_tointeger(L, idx); }
      else { v->t = LUGO_VFLT; v->u.n = lua_tonumber(L, idx); }
      return;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      if (len <= LUGO_SSTR_MAX) {
        v->t = LUGO_VSSTR;
        v->slen = (unsigned char)len;
        memcpy(v->u.ss, s, len);
      } else {
        char *p = (char *)malloc(len ? len : 1);
        if (p == NULL) luaL_error(L, "%s: not enough memory", fname);
        memcpy(p, s, len);
        v->t = LUGO_VSTR;
        v->u.s.p = p;
        v->u.s.len = len;
      }
      return;
    }
    default:
      v->u.b = lugo__marshal(L, idx, 1, fname);
      v->t = LUGO_VBLOB;
      return;
  }
}

void lugo__value_free(lugo_value *v) {
  if (v->t == LUGO_VSTR) free(v->u.s.p);
  else if (v->t == LUGO_VBLOB) lugo__blob_free(v->u.b);
  v->t = LUGO_VNIL;
}
