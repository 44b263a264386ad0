/*
** runtime.c -- the embedding API (lugo.h): creating, using and closing a
** runtime.  Host threads call in here; see lugo.h for each function.
*/
#include <dlfcn.h>
#include <lauxlib.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "race.h"
#include "context.h"
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
  if (s != NULL && (n = strtol(s, NULL, 10)) > 0)
    return n > LUGO_MAXPROCS ? LUGO_MAXPROCS : (int)n;
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (n > LUGO_MAXPROCS ? LUGO_MAXPROCS : (int)n) : 1;
}

lugo_runtime *lugo_new(const lugo_options *o) {
  lugo_runtime *rt = (lugo_runtime *)calloc(1, sizeof(*rt));
  lua_State *L;
  if (rt == NULL) return NULL;
  if (o) rt->opt = *o;
  rt->starttime = lugo__nanotime();
  rt->nprocs = rt->opt.procs > 0
                   ? (rt->opt.procs > LUGO_MAXPROCS ? LUGO_MAXPROCS : rt->opt.procs)
                   : defaultprocs();
  if (rt->opt.maxthreads <= 0) rt->opt.maxthreads = 10000;
  if (lugo__sched_init(rt) != LUGO_OK) { free(rt); return NULL; }
  pthread_mutex_init(&rt->libslock, NULL);
  pthread_mutex_init(&rt->poollock, NULL);
  rt->pool = (lua_State **)calloc(LUGO_POOLMAX, sizeof(lua_State *));
  rt->timers = lugo__timers_new();
  rt->shreg = lugo__shreg_new();
  rt->ctxreg = lugo__ctxreg_new();
  if (rt->opt.race) rt->race = lugo__race_new();
  /* learn which C functions are standard (they cross as themselves) */
  L = lugo__newstate(rt, 1);
  if (rt->timers == NULL || rt->shreg == NULL || rt->ctxreg == NULL ||
      L == NULL || (rt->opt.race && rt->race == NULL)) {
    if (L) lua_close(L);
    lugo__ctxreg_free(rt->ctxreg);
    lugo__shreg_free(rt->shreg);
    lugo__timers_free(rt->timers);
    lugo__race_free(rt->race);
    lugo__sched_free(rt);
    free(rt);
    return NULL;
  }
  {  /* the objects' methods are standard */
    static const lugo_objtype *const types[] = {
      &lugo__chan_type, &lugo__mutex_type, &lugo__waitgroup_type,
      &lugo__int64_type, &lugo__bool_type, &lugo__rwmutex_type,
      &lugo__once_type, &lugo__cond_type, &lugo__value_type,
      &lugo__shtable_type, &lugo__frozen_type, &lugo__syncmap_type,
      &lugo__timer_type, &lugo__ticker_type, &lugo__ctx_type, NULL
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
  /* every state is closed: contexts nobody cancelled still hold their
  ** children (which hold them), and what tables are left only hold each
  ** other.  Freeing either may release the other kind: the registries
  ** stay until both are done. */
  lugo__ctx_shutdown(rt);
  lugo__shreg_free(rt->shreg);
  lugo__marshal_free_known(rt);
  while (rt->nlibs > 0) dlclose(rt->libs[--rt->nlibs]);
  free(rt->libs);
  pthread_mutex_destroy(&rt->libslock);
  lugo__ctxreg_free(rt->ctxreg);
  lugo__race_free(rt->race);  /* after every G and object */
  free(rt);
}

long long lugo_race_errors(lugo_runtime *rt) {
  return rt ? lugo__race_errors(rt->race) : 0;
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
  /* deadlocked: 1 while the report is being made, 2 once it is made (a
  ** waiter woken in between must not return first: the host may exit
  ** before its own handler has printed the report) */
  while (!g->done && lugo_load(&rt->deadlocked) != 2)
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

/* ---------------------------------------------------------------------
** host parks (lugo_waker)
**
** The goroutine's side (lugo_park, its continuation) and the host's side
** (lugo_wake) each own one reference.  mu orders the two: a wake before
** the park is published leaves woken set and the park does not happen; a
** wake after it finds g and claims the park by the CAS on g->parkwin,
** which an interrupt may have won first.  The continuation clears g under
** mu, so a late wake never touches a goroutine that moved on.
** ------------------------------------------------------------------- */

struct lugo_waker {
  pthread_mutex_t mu;
  lugo_runtime *rt;
  lugo_G *g;            /* while parked (guarded by mu) */
  int woken;            /* lugo_wake was called (mu) */
  int ended;            /* the park ended without it: interrupted (mu) */
  lugo_aint refs;
  lua_KFunction k;      /* the caller's continuation (owner) */
  lua_KContext ctx;
};

static void waker_unref(lugo_waker *w) {
  if (lugo_xadd(&w->refs, -1) == 1) {
    pthread_mutex_destroy(&w->mu);
    free(w);
  }
}

lugo_waker *lugo_waker_new(lua_State *L) {
  lugo_G *g = lugo__G(L);
  lugo_waker *w;
  if (g == NULL || lugo__getm() == NULL || lugo__getm()->curg != g)
    luaL_error(L, "lugo_waker_new: not called from a running goroutine");
  w = (lugo_waker *)calloc(1, sizeof(*w));
  if (w == NULL) luaL_error(L, "lugo_waker_new: not enough memory");
  pthread_mutex_init(&w->mu, NULL);
  w->rt = g->rt;
  lugo_store(&w->refs, 2);
  lugo_hold(g->rt);
  return w;
}

static int waker_k(lua_State *L, int status, lua_KContext ctx) {
  lugo_waker *w = (lugo_waker *)ctx;
  lugo_G *g = lugo__G(L);
  lua_KFunction k = w->k;
  lua_KContext uctx = w->ctx;
  (void)status;
  pthread_mutex_lock(&w->mu);
  w->g = NULL;
  if (!w->woken) w->ended = 1;
  pthread_mutex_unlock(&w->mu);
  waker_unref(w);
  lugo__check_interrupt(L, g);
  return k(L, LUA_YIELD, uctx);
}

int lugo_park(lua_State *L, lugo_waker *w, const char *reason,
              lua_KFunction k, lua_KContext ctx) {
  lugo_G *g = lugo__G(L);
  char *msg;
  w->k = k;
  w->ctx = ctx;
  pthread_mutex_lock(&w->mu);
  if (w->woken) {  /* woken already: no park */
    pthread_mutex_unlock(&w->mu);
    waker_unref(w);
    return k(L, LUA_YIELD, ctx);
  }
  msg = lugo__park_tryprepare(L, g, reason ? reason : "host", 1);
  if (msg != NULL) {  /* stopping, or interrupted while it ran */
    w->ended = 1;
    pthread_mutex_unlock(&w->mu);
    waker_unref(w);
    lua_pushstring(L, msg);
    free(msg);
    return lua_error(L);
  }
  w->g = g;
  lugo__park_publish(g);
  pthread_mutex_unlock(&w->mu);
  return lugo__park(L, g, waker_k, (lua_KContext)w);
}

int lugo_wake(lugo_waker *w) {
  lugo_runtime *rt = w->rt;
  lugo_G *g;
  int r = 1;
  pthread_mutex_lock(&w->mu);
  w->woken = 1;
  g = w->g;
  if (w->ended || (g != NULL && !lugo_cas(&g->parkwin, 0, 1))) {
    r = 0;  /* an interrupt ended the park */
    g = NULL;
  }
  pthread_mutex_unlock(&w->mu);
  if (g != NULL) lugo__ready(g);  /* ours: it waits parked until now */
  waker_unref(w);
  lugo_release(rt);
  return r;
}

lugo_runtime *lugo_getruntime(lua_State *L) {
  lugo_G *g = lugo__G(L);
  return g ? g->rt : NULL;
}

int lugo_procs(lugo_runtime *rt) { return lugo_load(&rt->nprocs); }

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

static const char *statusname(lugo_G *g, int s) {
  const char *why = (const char *)lugo_load_relaxed(&g->waitreason);
  switch (s) {
    case G_RUNNABLE: case G_WOKEN: return "runnable";
    case G_RUNNING: return lugo_load(&g->blockm) && why ? why : "running";
    case G_PARKING: case G_PARKED: return why ? why : "waiting";
    default: return "dead";
  }
}

/* [-2, +1, m] coroutine, level -> its traceback without the header line */
static int gettraceback(lua_State *L) {
  const char *tb;
  luaL_traceback(L, lua_tothread(L, 1), NULL, (int)lua_tointeger(L, 2));
  tb = lua_tostring(L, -1);
  if (strncmp(tb, "stack traceback:\n", 17) == 0) lua_pushstring(L, tb + 17);
  return 1;
}

/* co's traceback taken in L (neither running anywhere else), malloc'd;
** NULL when out of memory */
static char *tbtext(lua_State *L, lua_State *co, int level) {
  int top = lua_gettop(L);
  char *t = NULL;
  lua_pushcfunction(L, gettraceback);
  lua_pushthread(co);
  lua_xmove(co, L, 1);
  lua_pushinteger(L, level);
  if (lua_pcall(L, 2, 1, 0) == LUA_OK) t = strdup(lua_tostring(L, -1));
  lua_settop(L, top);
  return t;
}

static void writetb(FILE *f, lua_State *L, lua_State *co, int level) {
  char *t = tbtext(L, co, level);
  fprintf(f, "%s\n", t ? t : "\t(no traceback: out of memory)");
  free(t);
}

/* A dump asks each running goroutine for its stack: it answers from the
** preemption hook, on its own thread, the only place its state may be
** read while it runs.  One that does not answer within STK_WAIT (inside
** C code, or in a loop with no Lua instruction to hook) shows none. */
enum { STK_NONE, STK_ASKED, STK_WRITING, STK_DONE };
#define STK_WAIT_NS (100 * 1000000LL)

void lugo__answerstack(lua_State *L, lugo_G *g) {
  if (!lugo_cas(&g->stackwant, STK_ASKED, STK_WRITING)) return;
  g->stacktext = tbtext(L, L, 1);  /* from below the hook */
  lugo_store(&g->stackwant, STK_DONE);
}

/* Caller holds rt->glock.  Ask every running G but self; 1 if any. */
static int askstacks(lugo_runtime *rt, lugo_G *self) {
  lugo_G *g;
  lugo_M *m;
  int asked = 0;
  for (g = rt->allg; g != NULL; g = g->allnext) {
    if (g == self || g->done || lugo_load(&g->status) != G_RUNNING ||
        lugo_load(&g->blockm))
      continue;  /* (one not started yet answers once it runs Lua) */
    if (lugo_cas(&g->stackwant, STK_NONE, STK_ASKED)) asked = 1;
  }
  if (!asked) return 0;
  pthread_mutex_lock(&rt->lock);  /* poke their Ms as sysmon does */
  for (m = rt->allm; m != NULL; m = m->alllink) {
    lugo_goid id = lugo_load(&m->curgid);
    if (id == 0 || (self != NULL && id == self->id)) continue;
    lugo_store(&m->preempt, 1);
    pthread_kill(m->thread, LUGO_SIGPREEMPT);
  }
  pthread_mutex_unlock(&rt->lock);
  return 1;
}

/* Caller holds rt->glock.  Ask, and wait (bounded) for the answers; ask
** again those that started running meanwhile (a preempted G that
** answered lets a queued one run). */
static void getstacks(lugo_runtime *rt, lugo_G *self) {
  int64_t until = lugo__nanotime() + STK_WAIT_NS;
  for (;;) {
    lugo_G *g;
    int pending = 0;
    askstacks(rt, self);
    for (g = rt->allg; g != NULL; g = g->allnext) {
      int w = lugo_load(&g->stackwant);
      if (w == STK_ASKED || w == STK_WRITING) pending = 1;
    }
    if (!pending || lugo__nanotime() > until) return;
    {
      struct timespec ts = {0, 200000};  /* 0.2 ms */
      nanosleep(&ts, NULL);
    }
  }
}

/* The answer g gave, or NULL; withdraws an unanswered request. */
static char *takestack(lugo_G *g) {
  char *t;
  for (;;) {
    int w = lugo_load(&g->stackwant);
    if (w == STK_NONE) return NULL;
    if (w == STK_ASKED && lugo_cas(&g->stackwant, STK_ASKED, STK_NONE)) return NULL;
    if (w == STK_DONE) break;
    sched_yield();  /* STK_WRITING: it is in the middle of it */
  }
  t = g->stacktext;
  g->stacktext = NULL;
  lugo_store(&g->stackwant, STK_NONE);
  return t;
}

/* Caller holds rt->glock.  Set the scan bit of a parked or runnable G
** (retrying while it flips between running and runnable); its status, or
** -1 if it is running. */
static int scan(lugo_G *g) {
  int tries;
  for (tries = 0; tries < 100; tries++) {
    int s = lugo_load(&g->status);
    if (s != G_PARKED && s != G_RUNNABLE) return -1;
    if (lugo_cas(&g->status, s, s | G_SCAN)) {
      if (g->L != NULL && g->co != NULL) return s;  /* ours to read now */
      lugo_store(&g->status, s);  /* it never ran: no stack */
      return -1;
    }
  }
  return -1;
}

static void dumpone(FILE *f, lugo_G *g, lugo_G *self, lua_State *L) {
  int s;
  char *answer = g == self ? NULL : takestack(g);  /* never left behind */
  if (g == self) {
    fprintf(f, "goroutine %lld [running]:\n", g->id);
    writetb(f, L, L, 1);
  } else if ((s = scan(g)) >= 0) {
    /* it cannot run until we clear G_SCAN: its state is ours to read */
    fprintf(f, "goroutine %lld [%s]:\n", g->id, statusname(g, s));
    writetb(f, g->L, g->co, 0);
    lugo_store(&g->status, s);
  } else {
    char *t = answer;
    answer = NULL;
    s = lugo_load(&g->status) & ~G_SCAN;
    fprintf(f, "goroutine %lld [%s]:\n", g->id, statusname(g, t ? G_RUNNING : s));
    if (t != NULL)
      fprintf(f, "%s\n", t);
    else if (s == G_RUNNING || s == G_PARKING)
      fputs("\tgoroutine running on other thread; stack unavailable\n", f);
    free(t);
  }
  free(answer);  /* it parked after answering: its scan is fresher */
  if (g->parent != 0) fprintf(f, "created by goroutine %lld\n", g->parent);
  fputc('\n', f);
}

char *lugo__dump(lugo_runtime *rt, lugo_G *self, lua_State *L, int all) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  lugo_G *g, *last = NULL;
  if (f == NULL) return NULL;
  if (self != NULL) dumpone(f, self, self, L);  /* the caller first, as Go */
  if (all) {
    pthread_mutex_lock(&rt->glock);
    getstacks(rt, self);
    for (g = rt->allg; g != NULL; g = g->allnext) last = g;
    for (g = last; g != NULL; g = g->allprev) {  /* oldest first */
      if (g == self || g->done || (lugo_load(&g->status) & ~G_SCAN) == G_DEAD ||
          lugo_load(&g->status) == G_IDLE)
        continue;
      dumpone(f, g, self, L);
    }
    pthread_mutex_unlock(&rt->glock);
  }
  if (fclose(f) != 0) {
    free(out);
    return NULL;
  }
  return out;
}

char *lugo_dump(lugo_runtime *rt) { return lugo__dump(rt, NULL, NULL, 1); }
