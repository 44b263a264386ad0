/*
** linit.c -- building a goroutine's state: the standard library, lugo's
** modules as globals and as `require "lugo"`, and the few standard
** functions lugo replaces (print, os.exit, coroutine.*).
*/
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc.h"
#include "lugolib.h"
#include "race.h"
#include "scheduler.h"
#include "trace.h"

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
  lugo_runtime *rt = lugo_getruntime(L);
  if (lua_isboolean(L, 1)) status = lua_toboolean(L, 1) ? EXIT_SUCCESS : EXIT_FAILURE;
  else status = (int)luaL_optinteger(L, 1, EXIT_SUCCESS);
  if (status == 0 && rt != NULL && lugo__race_errors(rt->race) > 0)
    status = 66;  /* it raced: as Go's os.Exit(0) under -race */
  lugo__trace_exit(rt);  /* -trace: write the file now */
  fflush(stdout);
  fflush(stderr);
  if (rt != NULL && rt->opt.onexit != NULL) rt->opt.onexit(rt, status, rt->opt.ud);
  _exit(status);
  return 0;
}

static int open_lugo(lua_State *L) {
  static const char *const names[] = {
    "go", "chan", "select", "time", "runtime", "sync", "atomic", "shared",
    "context", "race", NULL
  };
  const char *const *n;
  lua_newtable(L);
  for (n = names; *n; n++) {
    lua_getglobal(L, *n);
    lua_setfield(L, -2, *n);
  }
  return 1;
}

/* ---------------------------------------------------------------------
** the libraries, opened eagerly (the main state) or lazily (goroutines)
**
** A goroutine's state opens only what every goroutine needs at once (base,
** string: its metatable serves ("x"):upper(), print, go, chan, select).
** The rest open on first use, through an __index on the globals table: a
** hit is then a raw global like any other (no cost afterwards), and a
** spawned goroutine that never touches io or os never pays for them.
** Marshalled standard tables and `require` of a standard module open them
** too (lugo__openlib).
** ------------------------------------------------------------------- */

static void post_os(lua_State *L) {  /* module on top */
  lua_pushcfunction(L, l_exit);
  lua_setfield(L, -2, "exit");
}

/* Lua seeds math.random from the time and the state's address, which a
** recycled allocation repeats: give each goroutine its own stream */
static void post_math(lua_State *L) {
  lua_getfield(L, -1, "randomseed");
  lua_pushinteger(L, (lua_Integer)(((uint64_t)lugo__fastrand() << 32) ^ lugo__fastrand()));
  lua_pushinteger(L, (lua_Integer)lugo__nanotime());
  lua_call(L, 2, 0);
}

static int open_co(lua_State *L) {
  lugo__open_coroutine(L);
  lua_getglobal(L, LUA_COLIBNAME);
  return 1;
}

static int lazyindex(lua_State *L);
static void post_package(lua_State *L);
static void openbase(lua_State *L);
static const char BASEKEY;

typedef struct lib {
  const char *name;       /* module name (and global) */
  lua_CFunction open;
  void (*post)(lua_State *L);
} lib;

static const lib libs[] = {
  {LUA_STRLIBNAME, luaopen_string, NULL},
  {LUA_TABLIBNAME, luaopen_table, NULL},
  {LUA_MATHLIBNAME, luaopen_math, post_math},
  {LUA_IOLIBNAME, luaopen_io, NULL},
  {LUA_OSLIBNAME, luaopen_os, post_os},
  {LUA_COLIBNAME, open_co, NULL},
  {LUA_UTF8LIBNAME, luaopen_utf8, NULL},
  {LUA_DBLIBNAME, luaopen_debug, NULL},
  {LUA_LOADLIBNAME, luaopen_package, post_package},
  {"time", lugo__open_time, NULL},
  {"runtime", lugo__open_runtime, NULL},
  {"sync", lugo__open_sync, NULL},
  {"atomic", lugo__open_atomic, NULL},
  {"shared", lugo__open_shared, NULL},
  {"context", lugo__open_context, NULL},
  {"race", lugo__open_race, NULL},
  {"lugo", open_lugo, NULL},
  {NULL, NULL, NULL}
};

/* [-0, +1, e] Open the standard or lugo library name if it is one that
** opens lazily (and is not open yet); push it, or nil. */
int lugo__openlib(lua_State *L, const char *name) {
  const lib *l;
  for (l = libs; l->name; l++) {
    if (strcmp(l->name, name) != 0) continue;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, name) == LUA_TNIL) {
      lua_pop(L, 1);
      luaL_requiref(L, name, l->open, strcmp(name, "lugo") != 0);
      if (l->post) l->post(L);
      lugo__marshal_addstd(L, name);
    }
    lua_remove(L, -2);
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

/* lugo's own globals, set by openbase or, alone, on first use */
static int openown(lua_State *L, const char *k) {
  switch (k[0]) {  /* print select go chan */
    case 'p': if (strcmp(k, "print") == 0) lua_pushcfunction(L, l_print); else return 0; break;
    case 's': if (strcmp(k, "select") == 0) lugo__open_select(L); else return 0; break;
    case 'g': if (strcmp(k, "go") == 0) lugo__open_go(L); else return 0; break;
    case 'c': if (strcmp(k, "chan") == 0) lugo__open_chan(L); else return 0; break;
    default: return 0;
  }
  lua_pushvalue(L, -1);
  lua_setglobal(L, k);
  return 1;
}

/* __index of a goroutine's globals: open a library on first use */
static int lazyindex(lua_State *L) {
  const char *k;
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  k = lua_tostring(L, 2);
  if (openown(L, k)) return 1;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &BASEKEY) == LUA_TNIL) {
    openbase(L);  /* the first miss opens the base library */
    lua_pushvalue(L, 2);
    if (lua_rawget(L, 1) != LUA_TNIL) return 1;
  }
  lua_settop(L, 2);
  if (strcmp(k, "require") == 0) k = LUA_LOADLIBNAME;
  lugo__openlib(L, k);
  if (lua_isnil(L, -1)) return 1;
  lua_pushvalue(L, 2);  /* the library set its global (require: package) */
  lua_rawget(L, 1);
  return 1;
}

static int preload(lua_State *L) {
  return lugo__openlib(L, lua_tostring(L, 1));
}

/* `require "table"` before `table` was touched must find it */
/* C libraries a goroutine loaded stay open until the runtime closes
** (DESIGN section 6): a goroutine's end must not unload code another
** goroutine may be running.  Replaces the __gc of the state's _CLIBS. */
static int keeplibs(lua_State *L) {
  lugo_G *g = lugo__G(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1), i;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    if (g != NULL) lugo__keeplib(g->rt, lua_touserdata(L, -1));
    lua_pop(L, 1);
  }
  return 0;
}

static void post_package(lua_State *L) {
  const lib *l;
  /* modules can only arrive from here on: watch package.loaded */
  lugo__marshal_watchloaded(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, "_CLIBS") == LUA_TTABLE &&
      lua_getmetatable(L, -1)) {
    lua_pushcfunction(L, keeplibs);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (l = libs; l->name; l++) {
    lua_pushcfunction(L, preload);
    lua_setfield(L, -2, l->name);
  }
  lua_pop(L, 1);
}

/* Until the string library opens, strings get a stand-in metatable whose
** every metamethod opens it (replacing the metatable) and redoes the
** operation: ("x"):upper() and "10" + 1 work from the first use. */
static int lazystr_index(lua_State *L) {
  lugo__openlib(L, LUA_STRLIBNAME);
  lua_pushvalue(L, 2);
  lua_gettable(L, -2);
  return 1;
}

#define LAZYARITH(name, op)                      \
  static int name(lua_State *L) {                \
    lugo__openlib(L, LUA_STRLIBNAME);            \
    lua_settop(L, 2);                            \
    lua_arith(L, op);                            \
    return 1;                                    \
  }
LAZYARITH(lazy_add, LUA_OPADD)
LAZYARITH(lazy_sub, LUA_OPSUB)
LAZYARITH(lazy_mul, LUA_OPMUL)
LAZYARITH(lazy_mod, LUA_OPMOD)
LAZYARITH(lazy_pow, LUA_OPPOW)
LAZYARITH(lazy_div, LUA_OPDIV)
LAZYARITH(lazy_idiv, LUA_OPIDIV)

static int lazy_unm(lua_State *L) {
  lugo__openlib(L, LUA_STRLIBNAME);
  lua_settop(L, 1);
  lua_arith(L, LUA_OPUNM);
  return 1;
}

static const luaL_Reg lazystr_mm[] = {
  {"__index", lazystr_index}, {"__add", lazy_add}, {"__sub", lazy_sub},
  {"__mul", lazy_mul}, {"__mod", lazy_mod}, {"__pow", lazy_pow},
  {"__div", lazy_div}, {"__idiv", lazy_idiv}, {"__unm", lazy_unm},
  {NULL, NULL}
};

static void lazystring(lua_State *L) {
  lua_pushliteral(L, "");
  luaL_newlibtable(L, lazystr_mm);
  luaL_setfuncs(L, lazystr_mm, 0);
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
}

void lugo__require(lua_State *L) {
  lugo__openlib(L, LUA_LOADLIBNAME);
  lua_getfield(L, -1, "loaded");  /* fast path: already required here */
  lua_pushvalue(L, -3);
  if (lua_rawget(L, -2) != LUA_TNIL) {
    lua_replace(L, -4);
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 3);
  lua_getglobal(L, "require");
  lua_insert(L, -2);
  lua_call(L, 1, 1);
}

static const char BASEKEY = 'b';  /* registry: the base library is open */

/* the base library, with lugo's print and select over Lua's */
static void openbase(lua_State *L) {
  static const char *const own[] = {"print", "select", "go", "chan", NULL};
  const char *const *k;
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  lua_pop(L, 1);
  for (k = own; *k; k++) {
    openown(L, *k);
    lua_pop(L, 1);
  }
  lua_pushboolean(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &BASEKEY);
}

/* fill a state with what every goroutine starts with: globals that open
** on first use (a reset may have kept the stand-ins, see clearstate) */
static void setup(lugo_runtime *rt, lua_State *L, int full) {
  if (full) openbase(L);
  if (full) {
    const lib *l;
    for (l = libs; l->name; l++) {
      lugo__openlib(L, l->name);
      lua_pop(L, 1);
    }
  } else {
    lua_pushliteral(L, "");
    if (!lua_getmetatable(L, -1)) lazystring(L);
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    if (!lua_getmetatable(L, -1)) lugo__setmetafn(L, "__index", lazyindex);
    lua_settop(L, 0);
  }
  if (rt->opt.openlibs) rt->opt.openlibs(L, rt->opt.ud);
}

/* ---------------------------------------------------------------------
** a new state: on its own arena (alloc.c), with the panic and warning
** functions luaL_newstate would give it (as lauxlib.c of Lua 5.4.4 writes
** them: a panic prints the error; warnings start off, "@on" and "@off"
** switch them, a message may come in parts)
** ------------------------------------------------------------------- */

static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  if (msg == NULL) msg = "error object is not a string";
  lua_writestringerror("PANIC: unprotected error in call to Lua API (%s)\n", msg);
  return 0;  /* back to Lua, which aborts */
}

static void warnfoff(void *ud, const char *msg, int tocont);
static void warnfon(void *ud, const char *msg, int tocont);
static void warnfcont(void *ud, const char *msg, int tocont);

/* a control message ("@on", "@off", else ignored) starts with '@' and
** comes in one piece */
static int warncontrol(lua_State *L, const char *msg, int tocont) {
  if (tocont || *(msg++) != '@') return 0;
  if (strcmp(msg, "off") == 0) lua_setwarnf(L, warnfoff, L);
  else if (strcmp(msg, "on") == 0) lua_setwarnf(L, warnfon, L);
  return 1;
}

static void warnfoff(void *ud, const char *msg, int tocont) {
  warncontrol((lua_State *)ud, msg, tocont);
}

static void warnfcont(void *ud, const char *msg, int tocont) {
  lua_State *L = (lua_State *)ud;
  lua_writestringerror("%s", msg);
  if (tocont) {
    lua_setwarnf(L, warnfcont, L);
  } else {
    lua_writestringerror("%s", "\n");
    lua_setwarnf(L, warnfon, L);
  }
}

static void warnfon(void *ud, const char *msg, int tocont) {
  if (warncontrol((lua_State *)ud, msg, tocont)) return;
  lua_writestringerror("%s", "Lua warning: ");
  warnfcont(ud, msg, tocont);
}

lua_State *lugo__newstate(lugo_runtime *rt, int full) {
  lua_State *L = lugo__alloc_newstate(full ? LUGO_ARENA_FULLSIZE : LUGO_ARENA_SIZE);
  if (L == NULL) return NULL;
  lua_atpanic(L, panic);
  lua_setwarnf(L, warnfoff, L);
  lugo__G(L) = NULL;
  setup(rt, L, full);
  return L;
}

/* ---------------------------------------------------------------------
** pooled states (DESIGN section 1): a finished goroutine's state is
** reset and reused, so spawning skips lua_newstate.  Nothing of the old
** goroutine may show: the reset drops every registry entry but the main
** thread, lugo's object metatables and its (weak) intern table, gives the
** state new globals, removes basic-type metatables, runs a full
** collection (finalizers run as the finished goroutine) and builds the
** state again as new.  A state whose goroutine loaded a C module, opened
** the debug library (debug.set* can change anything), or switched the
** collector to generational mode is closed instead.
** ------------------------------------------------------------------- */

static int tainted(lua_State *L) {
  int bad = 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE) == LUA_TTABLE)
    bad = lua_getfield(L, -1, LUA_DBLIBNAME) != LUA_TNIL;
  if (!bad && lua_getfield(L, LUA_REGISTRYINDEX, "_CLIBS") == LUA_TTABLE)
    bad = lua_rawlen(L, -1) > 0;
  lua_settop(L, 0);
  return bad;
}

/* a registry key the runtime keeps across goroutines: runtime object
** metatables, the intern table, loaded functions waiting for reuse */
static int keptkey(lua_State *L, int reg, void *k) {
  return lugo__fnpool_iskey(k) || lugo__obj_keepkey(L, reg, k);
}

/* Is the table at idx (a metatable) exactly fns, with no metatable of
** its own?  Then it is lugo's untouched stand-in and a reset may keep it:
** it holds nothing of the goroutine. */
static int pristine(lua_State *L, int idx, const luaL_Reg *fns) {
  int n = 0, ok = 1;
  const luaL_Reg *f;
  idx = lua_absindex(L, idx);
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushnil(L);
  while (ok && lua_next(L, idx)) {
    lua_CFunction fn = lua_tocfunction(L, -1);  /* NULL if not one */
    ok = 0;
    for (f = fns; f->name; f++)  /* by value first: one strcmp per entry */
      if (f->func == fn) {
        ok = lua_type(L, -2) == LUA_TSTRING &&
             strcmp(f->name, lua_tostring(L, -2)) == 0;
        break;
      }
    lua_pop(L, 1);
    n++;
  }
  if (!ok) {
    lua_pop(L, 1);  /* the key */
    return 0;
  }
  for (f = fns; f->name; f++) n--;
  return n == 0;
}

static const luaL_Reg lazyglobals_mm[] = {{"__index", lazyindex}, {NULL, NULL}};

/* drop what the goroutine could reach from the registry and the types */
/* With keepmeta, metatables named in the registry (luaL_newmetatable's,
** such as FILE*) stay, so finalizers can still use them.  The stand-in
** metatables of lazily opened libraries stay if untouched. */
static void clearstate(lua_State *L, int keepmeta) {
  int reg, gmt;
  lua_settop(L, 0);
  lua_pushvalue(L, LUA_REGISTRYINDEX);
  reg = lua_gettop(L);
  lua_rawgeti(L, reg, LUA_RIDX_GLOBALS);
  if (!lua_getmetatable(L, -1) || !pristine(L, -1, lazyglobals_mm))
    lua_pushnil(L);
  gmt = lua_gettop(L);  /* the globals' metatable to keep, or nil */
  lua_pushnil(L);
  while (lua_next(L, reg)) {
    int keep = 0;
    if (keepmeta && lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1)) {
      keep = lua_getfield(L, -1, "__name") == LUA_TSTRING;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) == LUA_RIDX_MAINTHREAD)
      keep = 1;
    else if (lua_type(L, -1) == LUA_TLIGHTUSERDATA)
      keep = keptkey(L, reg, lua_touserdata(L, -1));
    if (!keep) {
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, reg);  /* clearing fields while traversing is allowed */
    }
  }
  lua_newtable(L);  /* new globals */
  if (!lua_isnil(L, gmt)) {
    lua_pushvalue(L, gmt);
    lua_setmetatable(L, -2);
  }
  lua_rawseti(L, reg, LUA_RIDX_GLOBALS);
  lua_pushnil(L); lua_pushnil(L); lua_setmetatable(L, -2); lua_pop(L, 1);
  lua_pushboolean(L, 0); lua_pushnil(L); lua_setmetatable(L, -2); lua_pop(L, 1);
  lua_pushinteger(L, 0); lua_pushnil(L); lua_setmetatable(L, -2); lua_pop(L, 1);
  lua_pushcfunction(L, l_print); lua_pushnil(L); lua_setmetatable(L, -2); lua_pop(L, 1);
  lua_pushthread(L); lua_pushnil(L); lua_setmetatable(L, -2); lua_pop(L, 1);
  lua_pushlightuserdata(L, NULL); lua_pushnil(L); lua_setmetatable(L, -2); lua_pop(L, 1);
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1) && !pristine(L, -1, lazystr_mm)) {
    lua_pushnil(L);
    lua_setmetatable(L, -3);
  }
  lua_settop(L, 0);
}

/* after the collection: did a finalizer leave anything in the registry? */
static int regdirty(lua_State *L) {
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, LUA_REGISTRYINDEX)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TLIGHTUSERDATA &&
        keptkey(L, LUA_REGISTRYINDEX, lua_touserdata(L, -1)))
      continue;
    if (++n > 2) {  /* more than the main thread and the globals */
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

static int resetstate(lugo_runtime *rt, lua_State *L) {
  if (tainted(L)) return 0;
  if (lua_gc(L, LUA_GCINC, 0, 0, 0) == LUA_GCGEN) return 0;
  /* restart a stopped collector (RESTART also zeroes the debt, starting a
  ** cycle at once: only when needed, and before the full collection) */
  if (!lua_gc(L, LUA_GCISRUNNING)) lua_gc(L, LUA_GCRESTART);
  lua_sethook(L, NULL, 0, 0);
  /* warnings back off, as in a new state (warn() never leaves a message
  ** half written, so the control message is read as one) */
  lua_warning(L, "@off", 0);
  lugo__fnpool_reset(L);  /* before the collection: upvalues are garbage */
  clearstate(L, 1);  /* drop what it reached; finalizers keep metatables */
  {
    /* finalizers run here, as the old goroutine.  One that makes more
    ** finalizable garbage leaves work for the next cycle: collect again
    ** while a collection still frees something; never settling: close */
    int rounds = 0, before, after = lua_gc(L, LUA_GCCOUNTB) + 1024 * lua_gc(L, LUA_GCCOUNT);
    do {
      before = after;
      lua_gc(L, LUA_GCCOLLECT);
      after = lua_gc(L, LUA_GCCOUNTB) + 1024 * lua_gc(L, LUA_GCCOUNT);
      if (++rounds > 4) return 0;
    } while (rounds == 1 ? regdirty(L) : after < before);
  }
  if (tainted(L)) return 0;  /* a finalizer may have loaded something */
  clearstate(L, 0);  /* now the metatables too (garbage for a later cycle) */
  lua_gc(L, LUA_GCINC, 200, 100, 13);  /* Lua's defaults (luaconf.h) */
  setup(rt, L, 0);
  return 1;
}

/* Owner M of the finished goroutine (still set in L for its finalizers).
** Keep L for another goroutine if it can be made clean, else close it. */
void lugo__release_state(lugo_runtime *rt, lua_State *L) {
  if (lugo__pool_room(rt) && resetstate(rt, L)) {
    lugo__G(L) = NULL;
    if (lugo__pool_put(rt, L)) return;
  }
  lua_close(L);
}

lua_State *lugo__acquire_state(lugo_runtime *rt) {
  lua_State *L = lugo__pool_get(rt);
  return L ? L : lugo__newstate(rt, 0);
}
