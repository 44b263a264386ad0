/*
** runtime.c -- the embedding API (lugo.h): creating, using and closing a
** runtime.  Host threads call in here; see lugo.h for each function.
*/
#include <dlfcn.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "shared.h"
#include "sync.h"
#include "scheduler.h"
#include "timer.h"
#include "trace.h"

const char *lugo_strerror(int err) {
  static const char *const msgs[] = {
#define LUGO_ERRNO_MSG(name, msg) msg,
    LUGO_ERRNO_MAP(LUGO_ERRNO_MSG)
#undef LUGO_ERRNO_MSG
  };
  if (err < 0 || err >= LUGO_NERRNO) return "unknown error";
  return msgs[err];
}

void lugo_options_init(lugo_options *o) {
  memset(o, 0, sizeof(*o));
}

static int defaultprocs(void) {
  const char *s = getenv("LUGO_MAXPROCS");
  long n;
  if (s != NULL && (n = strtol(s, NULL, 10)) > 0) return n > 1024 ? 1024 : (int)n;
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (n > 1024 ? 1024 : (int)n) : 1;
}

lugo_runtime *lugo_new(const lugo_options *o) {
  lugo_runtime *rt = (lugo_runtime *)calloc(1, sizeof(*rt));
  lua_State *L;
  if (rt == NULL) return NULL;
  if (o) rt->opt = *o;
  rt->starttime = lugo__nanotime();
  rt->nprocs = rt->opt.procs > 0 ? (rt->opt.procs > 1024 ? 1024 : rt->opt.procs)
                                 : defaultprocs();
  if (rt->opt.maxthreads <= 0) rt->opt.maxthreads = 10000;
  if (lugo__sched_init(rt) != LUGO_OK) { free(rt); return NULL; }
  pthread_mutex_init(&rt->libslock, NULL);
  pthread_mutex_init(&rt->poollock, NULL);
  rt->pool = (lua_State **)calloc(LUGO_POOLMAX, sizeof(lua_State *));
  rt->timers = lugo__timers_new();
  rt->shreg = lugo__shreg_new();
  /* learn which C functions are standard (they cross as themselves) */
  L = lugo__newstate(rt, 1);
  if (rt->timers == NULL || rt->shreg == NULL || L == NULL) {
    if (L) lua_close(L);
    lugo__shreg_free(rt->shreg);
    lugo__timers_free(rt->timers);
    lugo__sched_free(rt);
    free(rt);
    return NULL;
  }
  {  /* the objects' methods are standard */
    static const lugo_objtype *const types[] = {
      &lugo__chan_type, &lugo__mutex_type, &lugo__waitgroup_type,
      &lugo__int64_type, &lugo__bool_type, &lugo__rwmutex_type,
      &lugo__once_type, &lugo__cond_type, &lugo__value_type,
      &lugo__shtable_type, &lugo__frozen_type, &lugo__syncmap_type, NULL
    };
    const lugo_objtype *const *t;
    for (t = types; *t; t++) {
      lugo__obj_metatable(L, *t);
      lua_pop(L, 1);
    }
  }
  lugo__marshal_learn(rt, L);
  lua_close(L);
  lugo__signals_install();
  lugo__sysmon_start(rt);
  return rt;
}

void lugo_close(lugo_runtime *rt) {
  if (rt == NULL) return;
  lugo_trace_stop(rt);  /* still tracing: write the file before shutdown's
                           noise (a host that wants the error stops first) */
  lugo__sched_stop(rt);
  lugo__sysmon_stop(rt);
  lugo__trace_free(rt);  /* nobody can be inside its hook now */
  lugo__timers_free(rt->timers);  /* before the Gs whose timers it holds */
  lugo__sched_free(rt);
  while (lugo_load(&rt->npool) > 0) {
    lugo_xadd(&rt->npool, -1);
    lua_close(rt->pool[lugo_load(&rt->npool)]);
  }
  free(rt->pool);
  pthread_mutex_destroy(&rt->poollock);
  /* every state is closed: what tables are left only hold each other */
  lugo__shreg_free(rt->shreg);
  lugo__marshal_free_known(rt);
  while (rt->nlibs > 0) dlclose(rt->libs[--rt->nlibs]);
  free(rt->libs);
  pthread_mutex_destroy(&rt->libslock);
  free(rt);
}

int lugo__pool_room(lugo_runtime *rt) {
  /* relaxed: a hint; lugo__pool_put decides under the lock */
  return rt->pool != NULL && !lugo_load(&rt->stop) &&
         lugo_load_relaxed(&rt->npool) < LUGO_POOLMAX;
}

int lugo__pool_put(lugo_runtime *rt, lua_State *L) {
  int ok = 0;
  pthread_mutex_lock(&rt->poollock);
  if (lugo_load_relaxed(&rt->npool) < LUGO_POOLMAX && !lugo_load(&rt->stop)) {
    int n = lugo_load_relaxed(&rt->npool);
    rt->pool[n] = L;
    lugo_store_relaxed(&rt->npool, n + 1);
    ok = 1;
  }
  pthread_mutex_unlock(&rt->poollock);
  return ok;
}

lua_State *lugo__pool_get(lugo_runtime *rt) {
  lua_State *L = NULL;
  if (rt->pool == NULL || lugo_load_relaxed(&rt->npool) == 0) return NULL;
  pthread_mutex_lock(&rt->poollock);
  if (lugo_load_relaxed(&rt->npool) > 0) {
    int n = lugo_load_relaxed(&rt->npool) - 1;
    L = rt->pool[n];
    lugo_store_relaxed(&rt->npool, n);
  }
  pthread_mutex_unlock(&rt->poollock);
  return L;
}

void lugo__keeplib(lugo_runtime *rt, void *handle) {
  if (handle == NULL) return;
  pthread_mutex_lock(&rt->libslock);
  if (rt->nlibs == rt->caplibs) {
    int cap = rt->caplibs ? 2 * rt->caplibs : 8;
    void **l = (void **)realloc(rt->libs, (size_t)cap * sizeof(*l));
    if (l == NULL) {  /* cannot remember it: keep it open for good */
      pthread_mutex_unlock(&rt->libslock);
      return;
    }
    rt->libs = l;
    rt->caplibs = cap;
  }
  rt->libs[rt->nlibs++] = handle;
  pthread_mutex_unlock(&rt->libslock);
}

lua_State *lugo_newstate(lugo_runtime *rt) {
  return lugo__newstate(rt, 1);
}

int lugo_spawn(lugo_runtime *rt, lua_State *L, int nargs, lugo_goid *id) {
  lugo_G *g;
  if (rt == NULL || L == NULL || nargs < 0 || lua_gettop(L) < nargs + 1 ||
      lua_type(L, -(nargs + 1)) != LUA_TFUNCTION)
    return LUGO_EINVAL;
  lugo_hold(rt);  /* counted but not yet queued: not a deadlock */
  g = lugo__spawn(rt, NULL, id);
  if (g == NULL) {
    lugo_release(rt);
    return LUGO_ENOMEM;
  }
  g->host = 1;
  lugo_xadd(&rt->nhostlive, 1);
  g->L = L;
  lugo__G(L) = g;
  g->co = lua_newthread(L);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, g);  /* keep the root coroutine alive */
  lua_pop(L, 1);
  lua_xmove(L, g->co, nargs + 1);
  g->nargs = nargs;
  lugo__go(rt, g);
  lugo_release(rt);
  return LUGO_OK;
}

int lugo_wait(lugo_runtime *rt, lugo_goid id, char **msg) {
  lugo_G *g;
  int r;
  if (msg) *msg = NULL;
  pthread_mutex_lock(&rt->glock);
  for (g = rt->allg; g != NULL && g->id != id; g = g->allnext) {}
  if (g == NULL || !g->host) {
    pthread_mutex_unlock(&rt->glock);
    return LUGO_ENOENT;
  }
  while (!g->done && !lugo_load(&rt->deadlocked))
    pthread_cond_wait(&rt->gcond, &rt->glock);
  if (!g->done) {
    pthread_mutex_unlock(&rt->glock);
    return LUGO_EDEADLOCK;
  }
  r = g->done == -1 ? LUGO_OK : g->done;
  if (msg) {
    *msg = g->errmsg;
    g->errmsg = NULL;
  }
  if (g->allprev) g->allprev->allnext = g->allnext; else rt->allg = g->allnext;
  if (g->allnext) g->allnext->allprev = g->allprev;
  pthread_mutex_unlock(&rt->glock);
  lugo__g_free(g);
  return r;
}

void lugo_hold(lugo_runtime *rt) { lugo_xadd(&rt->hostholds, 1); }

void lugo_release(lugo_runtime *rt) {
  if (lugo_xadd(&rt->hostholds, -1) == 1) lugo__checkdead(rt);
}

lugo_runtime *lugo_getruntime(lua_State *L) {
  lugo_G *g = lugo__G(L);
  return g ? g->rt : NULL;
}

int lugo_procs(lugo_runtime *rt) { return rt->nprocs; }

/* ---------------------------------------------------------------------
** reports and dumps
** ------------------------------------------------------------------- */

void lugo__report(lugo_runtime *rt, lugo_report_kind kind, lugo_goid id,
                  const char *msg, const char *tb, const char *dump) {
  lugo_report r;
  r.kind = kind;
  r.goid = id;
  r.message = msg;
  r.traceback = tb;
  r.dump = dump;
  if (rt->opt.onreport) {
    rt->opt.onreport(rt, &r, rt->opt.ud);
    return;
  }
  flockfile(stderr);
  if (kind == LUGO_REPORT_PANIC) {
    fprintf(stderr, "panic: %s\n\ngoroutine %lld [running]:\n%s\n", msg, id,
            tb ? tb : "");
  } else {
    fprintf(stderr, "fatal error: %s\n\n%s", msg, dump ? dump : "");
  }
  fflush(stderr);
  funlockfile(stderr);
}

static const char *statusname(lugo_G *g) {
  switch (lugo_load(&g->status)) {
    case G_RUNNABLE: case G_WOKEN: return "runnable";
    case G_RUNNING: return lugo_load(&g->blockm) ? g->waitreason : "running";
    case G_PARKING: case G_PARKED: return g->waitreason ? g->waitreason : "waiting";
    default: return "dead";
  }
}

char *lugo_dump(lugo_runtime *rt) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  lugo_G *g, *last = NULL;
  if (f == NULL) return NULL;
  pthread_mutex_lock(&rt->glock);
  for (g = rt->allg; g != NULL; g = g->allnext) last = g;
  for (g = last; g != NULL; g = g->allprev) {  /* oldest first */
    int s = lugo_load(&g->status);
    if (g->done || s == G_DEAD) continue;
    fprintf(f, "goroutine %lld [%s]:\n", g->id, statusname(g));
    if (g->L != NULL && g->co != NULL && (s == G_PARKED || s == G_RUNNABLE)) {
      luaL_traceback(g->L, g->co, NULL, 0);
      fprintf(f, "%s\n", lua_tostring(g->L, -1));
      lua_pop(g->L, 1);
    }
    fputc('\n', f);
  }
  pthread_mutex_unlock(&rt->glock);
  fclose(f);
  return out;
}
