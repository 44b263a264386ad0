/*
** sched.c -- the scheduler: goroutines (G) on processors (P) run by OS
** threads (M), after Go's proc.go.
**
** Design.  A G owns a whole lua_State (Lua is not thread-safe, so isolation
** is what makes parallel Lua safe) and runs as a coroutine of it (a state's
** main thread can never yield).  An M resumes the G's root coroutine; the G
** gives the M back by yielding: to park (a channel op that must wait, a
** sleep), on preemption (sysmon, see sysmon.c) or in Gosched.  GOMAXPROCS
** Ps bound how many Ms run Lua at once; each P has a lock-free local run
** queue with a runnext slot (runq.c); one global queue, under rt->lock,
** takes Gs readied from outside an M (timers, the host) and overflow, and
** is polled every 61 ticks for fairness.  An M without work steals half of
** another P's queue, spins briefly, then gives its P back and parks.
**
** Spinning (Go's protocol, relied upon for no lost wake-ups): nmspinning
** counts Ms looking for work.  Whoever makes work available calls wakep(),
** which starts an M only if there is an idle P and no M is spinning.  A
** spinning M that gives up first puts its P on the idle list, then drops
** nmspinning, then re-checks every run queue: with seq_cst atomics either
** it sees the new work or the producer sees nmspinning == 0 and wakes an M.
**
** Parking (a G waiting for exactly one wake-up, sema.go's rule):
**   RUNNING -> PARKING   the G, before publishing itself as a waiter
**   PARKING -> WOKEN     a waker that came before the G left its M: the
**                        M, after the yield, requeues the G at once
**   PARKING -> PARKED    the M, after the yield
**   PARKED  -> RUNNABLE  the waker, which then queues the G
** Only the waker that wins the CAS on g->parkwin may ready a parked G, so
** a park ends exactly once (channel ops, timers and interrupts race for it).
** A G whose Lua code cannot yield (inside a table.sort comparator, a gsub
** callback, a C boundary) blocks its M on g->sema instead ("blockm") and
** hands its P to another M first, so other goroutines keep running.
**
** Rejected alternatives: one lua_State with lua_lock (serialises every
** instruction: no parallelism); a thread per goroutine (luaproc/Lanes
** style, ~50 us a wake-up here); copying goroutines between Ps' states
** (nothing to gain: a state is never shared).
**
** Lock order: rt->glock and rt->lock are never held together, and no
** runtime lock is held across a call into Lua (see lockrank.h).
*/
#include "scheduler.h"

#include <lauxlib.h>
#include <lualib.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "race.h"
#include "sync.h"
#include "timer.h"

static __thread lugo_M *tls_m __attribute__((tls_model("initial-exec")));
static __thread uint64_t tls_rng;

lugo_M *lugo__getm(void) { return tls_m; }

uint32_t lugo__fastrand(void) {
  uint64_t x = tls_rng;
  if (x == 0) x = (uint64_t)(uintptr_t)&tls_rng ^ (uint64_t)lugo__nanotime() ^ 0x9e3779b97f4a7c15ULL;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  tls_rng = x;
  return (uint32_t)(x >> 16);
}

static void throw_(const char *msg) {
  fprintf(stderr, "fatal error: %s\n", msg);
  abort();
}

/* ---------------------------------------------------------------------
** global run queue, idle Ps and Ms (caller holds rt->lock)
** ------------------------------------------------------------------- */

static void globput(lugo_runtime *rt, lugo_G *g) {
  g->schedlink = NULL;
  if (rt->gqtail) rt->gqtail->schedlink = g; else rt->gqhead = g;
  rt->gqtail = g;
  lugo_xadd(&rt->gqsize, 1);
}

static lugo_G *globpop(lugo_runtime *rt) {
  lugo_G *g = rt->gqhead;
  if (g == NULL) return NULL;
  rt->gqhead = g->schedlink;
  if (rt->gqhead == NULL) rt->gqtail = NULL;
  g->schedlink = NULL;
  lugo_xadd(&rt->gqsize, -1);
  return g;
}

/* Take a batch from the global queue: one to run, more into p's queue. */
static lugo_G *globget(lugo_runtime *rt, lugo_P *p, int max) {
  int n = lugo_load(&rt->gqsize), i;
  lugo_G *g;
  if (n == 0) return NULL;
  n = n / lugo_load(&rt->nprocs) + 1;
  if (max > 0 && n > max) n = max;
  if (n > LUGO_RUNQ_SIZE / 2) n = LUGO_RUNQ_SIZE / 2;
  g = globpop(rt);
  for (i = 1; i < n; i++) {
    lugo_G *x = globpop(rt), *batch[LUGO_RUNQ_SIZE / 2 + 1];
    if (x == NULL) break;
    if (lugo__runq_put(&p->q, x, 0, batch) != 0) throw_("runq overflow in globget");
  }
  return g;
}

/* Caller holds rt->lock (or is lugo_new).  Create P number id. */
static lugo_P *newp(lugo_runtime *rt, int id) {
  lugo_P *p = (lugo_P *)calloc(1, sizeof(*p));
  if (p == NULL) return NULL;
  p->id = id;
  lugo__runq_init(&p->q);
  rt->allp[id] = p;
  lugo_store(&rt->np, id + 1);  /* publishes allp[id] */
  return p;
}

/* Caller holds rt->lock and owned p (or p is new).  A P beyond GOMAXPROCS
** is retired instead: its local run queue moves to the global one. */
static void pidleput(lugo_runtime *rt, lugo_P *p) {
  if (p->id >= lugo_load(&rt->nprocs)) {
    lugo_G *g;
    int inherit;
    while ((g = lugo__runq_get(&p->q, &inherit)) != NULL) globput(rt, g);
    lugo_store(&p->own, 0);
    p->retired = 1;
    rt->nretired++;
    return;
  }
  lugo_store(&p->own, 0);
  p->link = rt->pidle;
  rt->pidle = p;
  lugo_xadd(&rt->npidle, 1);
}

/* Caller holds rt->lock.  Every P is idle or retired: nothing runs. */
static int allpidle(lugo_runtime *rt) {
  return lugo_load(&rt->npidle) + rt->nretired == lugo_load(&rt->np);
}

static lugo_P *pidleget(lugo_runtime *rt) {
  lugo_P *p = rt->pidle;
  if (p) {
    rt->pidle = p->link;
    p->link = NULL;
    lugo_xadd(&rt->npidle, -1);
  }
  return p;
}

/* ---------------------------------------------------------------------
** Ms
** ------------------------------------------------------------------- */

static void *mstart(void *arg);

/* Caller holds rt->lock.  Create an M that will run p. */
static lugo_M *newm(lugo_runtime *rt, lugo_P *p, int spinning) {
  lugo_M *m = (lugo_M *)calloc(1, sizeof(*m));
  pthread_attr_t a;
  if (m == NULL) return NULL;
  m->rt = rt;
  m->id = rt->nm++;
  m->nextp = p;
  m->spinning = spinning;
  lugo__sema_init(&m->park);
  m->alllink = rt->allm;
  rt->allm = m;
  pthread_attr_init(&a);
  /* C stack for Lua's own recursion, C modules and nested copies;
  ** only what is touched becomes memory */
  pthread_attr_setstacksize(&a, 4 * 1024 * 1024);
  if (pthread_create(&m->thread, &a, mstart, m) != 0) throw_("cannot create thread");
  pthread_attr_destroy(&a);
  return m;
}

static int handtowaiter(lugo_runtime *rt, lugo_P *p);

/* Start an M to run p (or an idle P if p is NULL).  Any thread. */
static void startm(lugo_runtime *rt, lugo_P *p, int spinning) {
  lugo_M *m;
  pthread_mutex_lock(&rt->lock);
  if (rt->stopping) {  /* no new work for anyone: park the P */
    if (p != NULL) pidleput(rt, p);
    pthread_mutex_unlock(&rt->lock);
    if (spinning) lugo_xadd(&rt->nmspinning, -1);
    return;
  }
  if (p == NULL) {
    p = pidleget(rt);
    if (p == NULL) {
      pthread_mutex_unlock(&rt->lock);
      if (spinning) lugo_xadd(&rt->nmspinning, -1);
      return;
    }
  }
  m = rt->midle;
  if (m != NULL) {
    rt->midle = m->link;
    rt->nmidle--;
    m->nextp = p;
    m->spinning = spinning;
    pthread_mutex_unlock(&rt->lock);
    lugo__sema_post(&m->park);
    return;
  }
  if (rt->nm >= rt->opt.maxthreads) {
    if (!handtowaiter(rt, p)) pidleput(rt, p);  /* keep the scheduler whole */
    pthread_mutex_unlock(&rt->lock);
    if (spinning) lugo_xadd(&rt->nmspinning, -1);
    lugo__report(rt, LUGO_REPORT_FATAL, 0,
                 "too many threads blocked in non-yieldable code", NULL, NULL);
    return;
  }
  newm(rt, p, spinning);
  pthread_mutex_unlock(&rt->lock);
}

/* Any thread.  Start a spinning M if there is an idle P and none spins. */
static void wakep(lugo_runtime *rt) {
  /* orders a just-published run queue slot (a release store) before the
  ** loads below, as the spinning protocol needs */
  atomic_thread_fence(memory_order_seq_cst);
  if (lugo_load(&rt->npidle) == 0) return;
  if (lugo_load(&rt->nmspinning) != 0 || !lugo_cas(&rt->nmspinning, 0, 1)) return;
  startm(rt, NULL, 1);
}

/* Owner M.  Park this M until it is handed a P; returns it. */
static lugo_P *stopm(lugo_runtime *rt, lugo_M *m) {
  pthread_mutex_lock(&rt->lock);
  m->link = rt->midle;
  rt->midle = m;
  rt->nmidle++;
  pthread_mutex_unlock(&rt->lock);
  lugo__sema_wait(&m->park);
  pthread_mutex_lock(&rt->lock);
  {
    lugo_P *p = m->nextp;
    m->nextp = NULL;
    pthread_mutex_unlock(&rt->lock);
    return p;
  }
}

/* Caller holds rt->lock.  Give p to an M waiting for one, if any. */
static int handtowaiter(lugo_runtime *rt, lugo_P *p) {
  lugo_M *m = rt->pwait;
  if (m == NULL || p->id >= lugo_load(&rt->nprocs)) return 0;
  rt->pwait = m->link;
  lugo_xadd(&rt->npwait, -1);
  m->nextp = p;
  lugo__sema_post(&m->park);
  return 1;
}

/* Owner M, which is giving p up (blocking its G).  Keep p busy if there
** is work, else make it idle. */
static void handoffp(lugo_runtime *rt, lugo_P *p) {
  int idle = 0;
  pthread_mutex_lock(&rt->lock);  /* an M whose G woke up comes first */
  if (handtowaiter(rt, p)) {
    pthread_mutex_unlock(&rt->lock);
    return;
  }
  pthread_mutex_unlock(&rt->lock);
  if (!lugo__runq_empty(&p->q) || lugo_load(&rt->gqsize) > 0) {
    startm(rt, p, 0);
    return;
  }
  if (lugo_load(&rt->nmspinning) == 0 && lugo_cas(&rt->nmspinning, 0, 1)) {
    startm(rt, p, 1);
    return;
  }
  pthread_mutex_lock(&rt->lock);
  if (!handtowaiter(rt, p)) {
    if (lugo_load(&rt->gqsize) > 0) {
      pthread_mutex_unlock(&rt->lock);
      startm(rt, p, 0);
      return;
    }
    pidleput(rt, p);
    idle = 1;
  }
  pthread_mutex_unlock(&rt->lock);
  if (idle) lugo__checkdead(rt);  /* that may have been the last busy P */
}

static void acquirep(lugo_M *m, lugo_P *p) {
  m->p = p;
  lugo_store(&p->own, LUGO_OWN(m, P_LOCKED));
  lugo_store(&m->curp, p);
}

/* Owner M: sysmon took our P.  Forget it. */
static void lostp(lugo_M *m) {
  m->p = NULL;
  lugo_store(&m->curp, NULL);
  m->lost = 1;  /* still busy in C or Lua: nincall stays until we get a P */
}

/* Owner M: we have a P again (or are ending): no longer in a call. */
static void foundp(lugo_M *m) {
  if (m->lost) {
    m->lost = 0;
    lugo_xadd(&m->rt->nincall, -1);
  }
}

/* Owner M, in runtime code called from Lua: lock our P against a retake.
** Returns 0 (and forgets the P) if sysmon took it. */
static int lockp(lugo_M *m) {
  lugo_P *p = m->p;
  int64_t own;
  if (p == NULL) return 0;
  own = lugo_load(&p->own);
  if (own == LUGO_OWN(m, P_LOCKED)) return 1;  /* already (scheduler code) */
  if (lugo_cas(&p->own, LUGO_OWN(m, P_INLUA), LUGO_OWN(m, P_LOCKED))) return 2;
  lostp(m);  /* retaken while we were in C code */
  return 0;
}

static void unlockp(lugo_M *m, int how) {
  if (how == 2) lugo_store(&m->p->own, LUGO_OWN(m, P_INLUA));
}

int lugo__retake(lugo_runtime *rt, lugo_M *m, lugo_P *p, uint32_t tick) {
  /* still the same G as when judged stuck? (narrows, does not close, the
  ** window in which it moved on: then it merely waits for a P) */
  if (lugo_load(&m->tick) != tick) return 0;
  if (!lugo_cas(&p->own, LUGO_OWN(m, P_INLUA), 0)) return 0;
  lugo_xadd(&rt->nincall, 1);
  handoffp(rt, p);
  return 1;
}

/* Owner M without a P (after a blockm wait or a retake): get one, waiting
** for one to be handed over if none is idle. */
static int reacquirep(lugo_runtime *rt, lugo_M *m) {
  lugo_P *p;
  pthread_mutex_lock(&rt->lock);
  p = rt->stopping ? NULL : pidleget(rt);
  if (p == NULL && !rt->stopping) {
    m->link = rt->pwait;
    rt->pwait = m;
    lugo_xadd(&rt->npwait, 1);
    pthread_mutex_unlock(&rt->lock);
    lugo__sema_wait(&m->park);
    pthread_mutex_lock(&rt->lock);
    p = m->nextp;
    m->nextp = NULL;
  }
  pthread_mutex_unlock(&rt->lock);
  foundp(m);
  if (p == NULL) return 0;  /* the runtime is stopping */
  acquirep(m, p);
  return 1;
}

/* ---------------------------------------------------------------------
** queueing runnable Gs
** ------------------------------------------------------------------- */

/* Any thread.  Queue a runnable g: on this M's P if we are on one of rt's
** Ms (runnext with next), else on the global queue. */
static void runqput_any(lugo_runtime *rt, lugo_G *g, int next) {
  lugo_M *m = tls_m;
  int how;
  if (m != NULL && m->rt == rt && (how = lockp(m)) != 0) {
    lugo_G *batch[LUGO_RUNQ_SIZE / 2 + 1];
    int n = lugo__runq_put(&m->p->q, g, next, batch), i;
    int more = lugo__runq_len(&m->p->q) > 1;
    unlockp(m, how);
    if (n > 0) {
      pthread_mutex_lock(&rt->lock);
      for (i = 0; i < n; i++) globput(rt, batch[i]);
      pthread_mutex_unlock(&rt->lock);
    }
    /* a G in runnext runs as soon as this one parks (communicating pairs
    ** stay on one M); wake another M only when there is more to steal */
    if (!next || more || n > 0) wakep(rt);
    return;
  }
  pthread_mutex_lock(&rt->lock);
  globput(rt, g);
  pthread_mutex_unlock(&rt->lock);
  wakep(rt);
}

void lugo__ready(lugo_G *g) {
  lugo_runtime *rt = g->rt;
  lugo_M *m = tls_m;
  LUGO_EVENT(rt, LUGO_EV_WAKE, (m && m->curg) ? m->curg->id : 0, NULL, g->id);
  if (lugo_load(&g->blockm)) {
    lugo_xadd(&rt->nblockm, 1);  /* an M about to want a P: not dead */
    lugo__sema_post(&g->sema);
    return;
  }
  for (;;) {
    int s = lugo_load(&g->status);
    if (s == G_PARKING) {
      if (lugo_cas(&g->status, G_PARKING, G_WOKEN)) return;
    } else if (s == G_PARKED) {
      if (lugo_cas(&g->status, G_PARKED, G_RUNNABLE)) {
        runqput_any(rt, g, 1);
        return;
      }
    } else if (s == (G_PARKED | G_SCAN)) {
      lugo_cpu_relax();  /* a dump is reading its stack */
    } else {
      throw_("ready of a goroutine that is not parked");
    }
  }
}

/* ---------------------------------------------------------------------
** parking
** ------------------------------------------------------------------- */

/* An interrupt request that came while g was preparing a park. */
static void dropreq(lugo_G *g) {
  free(lugo_xchg(&g->intrreq, NULL));
}

char *lugo__park_tryprepare(lua_State *L, lugo_G *g, const char *reason,
                            int intr) {
  char *msg;
  if (lugo_load(&g->rt->stop))  /* nobody would ever wake it */
    return strdup("runtime is shutting down");
  /* interrupted while it ran (the hook had no chance yet): this is its
  ** blocking call */
  if (intr && lugo_load(&g->intrrun) != NULL &&  /* a plain load: parks are hot */
      (msg = (char *)lugo_xchg(&g->intrrun, NULL)) != NULL)
    return msg;
  dropreq(g);
  lugo_store(&g->blockm, !(g->chainok && lua_isyieldable(L)));
  g->wonsg = NULL;
  g->interrupted = 0;
  lugo_store_relaxed(&g->waitreason, (void *)reason);
  g->nsg = 0;
  /* PREPARED: not claimable until a waiter is published (park_publish) */
  lugo_store(&g->parkwin, PW_PREPARED);
  if (!lugo_load(&g->blockm)) lugo_store(&g->status, G_PARKING);
  /* again, now that the park is visible (Dekker, seq_cst both sides): an
  ** interrupt stored before this point is seen here, one stored after it
  ** sees the park (interrupt() takes its message back and ends the park) */
  if (intr && lugo_load(&g->intrrun) != NULL &&
      (msg = (char *)lugo_xchg(&g->intrrun, NULL)) != NULL) {
    lugo__park_cancel(g);
    return msg;
  }
  LUGO_EVENT(g->rt, LUGO_EV_BLOCK, g->id, reason, 0);
  return NULL;
}

/* Raise msg (malloc'd, or NULL for out of memory) as a Lua error. */
static void raisemsg(lua_State *L, char *msg) {
  if (msg == NULL) luaL_error(L, "not enough memory");
  lua_pushstring(L, msg);
  free(msg);
  lua_error(L);
}

void lugo__park_prepare(lua_State *L, lugo_G *g, const char *reason) {
  char *msg = lugo__park_tryprepare(L, g, reason, 1);
  if (msg != NULL) raisemsg(L, msg);
}

void lugo__park_prepare_nointr(lua_State *L, lugo_G *g, const char *reason) {
  char *msg = lugo__park_tryprepare(L, g, reason, 0);
  if (msg != NULL) raisemsg(L, msg);
}

void lugo__park_publish(lugo_G *g) {
  lugo_store(&g->parkwin, 0);
}

void lugo__park_cancel(lugo_G *g) {
  lugo_store(&g->blockm, 0);
  lugo_store(&g->status, G_RUNNING);
  dropreq(g);  /* it was not parked: running goroutines are not affected */
}

/* Owner M.  Block the M until g is readied (g->blockm park). */
static void blockm_wait(lugo_G *g) {
  lugo_runtime *rt = g->rt;
  lugo_M *m = tls_m;
  lugo_P *p = m->p;
  int how = lockp(m);  /* 2: called from Lua, 1: from scheduler code */
  lugo_goid gid = lugo_load_relaxed(&m->curgid);
  if (how) {
    m->p = NULL;
    lugo_store(&m->curp, NULL);
    handoffp(rt, p);
  }
  foundp(m);  /* a retaken M now counts as blocked, not busy */
  lugo_store_relaxed(&m->curgid, 0);  /* nothing for sysmon to preempt */
  lugo__sema_wait(&g->sema);
  if (reacquirep(rt, m))  /* get a P back, as it was */
    lugo_store(&m->p->own, LUGO_OWN(m, how == 1 ? P_LOCKED : P_INLUA));
  lugo_store(&m->preempt, 0);  /* a new slice: waiting was not running */
  lugo_store(&m->slicestart, lugo__nanotime());
  lugo_xadd(&m->tick, 1);
  lugo_store(&m->curgid, gid);
  lugo_xadd(&rt->nblockm, -1);
  lugo_store(&g->blockm, 0);
}

int lugo__park(lua_State *L, lugo_G *g, lua_KFunction k, lua_KContext ctx) {
  /* an interrupt asked while we were preparing: claim our own park (the
  ** interrupter tries too, after asking; one CAS wins) */
  if (lugo_load(&g->intrreq) != NULL && lugo_cas(&g->parkwin, 0, 1)) {
    g->intrmsg = (char *)lugo_xchg(&g->intrreq, NULL);
    g->interrupted = 1;
    g->wonsg = NULL;
    lugo__park_cancel(g);
    return k(L, LUA_YIELD, ctx);
  }
  /* the runtime stopped after park_prepare looked: the shutdown sweep may
  ** have missed us; nobody would wake this park */
  if (lugo_load(&g->rt->stop) && lugo_cas(&g->parkwin, 0, 1)) {
    g->intrmsg = strdup("runtime is shutting down");
    g->interrupted = 1;
    g->wonsg = NULL;
    lugo__park_cancel(g);
    return k(L, LUA_YIELD, ctx);
  }
  if (!lugo_load(&g->blockm)) {
    g->yieldreason = Y_PARK;
    return lua_yieldk(L, 0, ctx, k);
  }
  blockm_wait(g);
  return k(L, LUA_YIELD, ctx);
}

int lugo__gosched(lua_State *L) {
  lugo_G *g = lugo__G(L);
  if (!(g->chainok && lua_isyieldable(L))) return 0;  /* cannot: no-op */
  g->yieldreason = Y_GOSCHED;
  return lua_yield(L, 0);
}

void lugo__check_interrupt(lua_State *L, lugo_G *g) {
  if (g->interrupted) {
    g->interrupted = 0;
    lua_pushstring(L, g->intrmsg ? g->intrmsg : "interrupted");
    free(g->intrmsg);
    g->intrmsg = NULL;
    lua_error(L);
  }
}

/* Interrupt g while it runs (or is about to): the preemption hook raises
** the error at its next Lua instruction, or its next park does.  Caller
** holds rt->glock; the M running g is signalled after (kickm). */
/* is g (in status s) parked, or parking, for an interrupt's purpose? */
static int parkedstate(lugo_G *g, int s) {
  return s == G_PARKED || s == G_PARKING ||
         (lugo_load(&g->blockm) && s == G_RUNNING);
}

static void intrrunning(lugo_G *g, const char *msg) {
  free(lugo_xchg(&g->intrrun, strdup(msg)));
}

/* Ask the M running goroutine id, if any, to run its hook now. */
static void kickm(lugo_runtime *rt, lugo_goid id) {
  lugo_M *m;
  pthread_mutex_lock(&rt->lock);
  for (m = rt->allm; m != NULL; m = m->alllink) {
    if (lugo_load(&m->curgid) != id) continue;
    lugo_store(&m->preempt, 1);
    pthread_kill(m->thread, LUGO_SIGPREEMPT);
  }
  pthread_mutex_unlock(&rt->lock);
}

static int interrupt(lugo_runtime *rt, lugo_goid id, const char *msg,
                     int running) {
  lugo_G *g, *wake = NULL;
  int n = 0, kick = 0;
  if (msg == NULL) msg = "interrupted";
  pthread_mutex_lock(&rt->glock);
  for (g = rt->allg; g != NULL; g = g->allnext) {
    int s = lugo_load(&g->status) & ~G_SCAN;
    if (id != 0 && g->id != id) continue;
    if (g->done || s == G_IDLE || s == G_DEAD) continue;
    if (!parkedstate(g, s)) {
      if (!running) continue;
      intrrunning(g, msg);  /* running, or about to: it raises at once */
      s = lugo_load(&g->status) & ~G_SCAN;
      if (!parkedstate(g, s)) {
        kick = 1;
        n++;
        continue;
      }
      /* it began to park after all, perhaps after its last look at
      ** intrrun (lugo__park_tryprepare): if the message is still there,
      ** take it back and end the park instead */
      {
        char *back = (char *)lugo_xchg(&g->intrrun, NULL);
        if (back == NULL) {  /* its park found it: it raises there */
          n++;
          continue;
        }
        free(back);
      }
      /* while it publishes its waiters the park may still be cancelled
      ** (the operation completed), which would drop a request: wait the
      ** few instructions until it is parked or running again */
      while (lugo_load(&g->parkwin) == PW_PREPARED &&
             parkedstate(g, lugo_load(&g->status) & ~G_SCAN))
        sched_yield();
      if (!parkedstate(g, lugo_load(&g->status) & ~G_SCAN)) {
        intrrunning(g, msg);
        kick = 1;
        n++;
        continue;
      }
    }
    if (lugo_load(&g->parkwin) == PW_PREPARED) {
      /* still publishing its waiters: ask, then try to claim (the G
      ** checks the request after publishing; one CAS wins) */
      free(lugo_xchg(&g->intrreq, strdup(msg)));
      if (!lugo_cas(&g->parkwin, 0, 1)) {
        n++;  /* asked: it is woken unless its operation completes first */
        continue;
      }
      free(g->intrmsg);
      g->intrmsg = (char *)lugo_xchg(&g->intrreq, NULL);
      if (g->intrmsg == NULL) g->intrmsg = strdup(msg);
    } else {
      if (!lugo_cas(&g->parkwin, 0, 1)) {
        if (running) {  /* woken by something else: it will run soon */
          intrrunning(g, msg);
          n++;
        }
        continue;
      }
      free(g->intrmsg);
      g->intrmsg = strdup(msg);
    }
    g->interrupted = 1;
    g->wonsg = NULL;
    g->schedlink = wake;  /* not on any run queue while parked */
    wake = g;
    n++;
  }
  pthread_mutex_unlock(&rt->glock);
  if (kick) kickm(rt, id);
  while (wake != NULL) {
    g = wake;
    wake = g->schedlink;
    g->schedlink = NULL;
    lugo__ready(g);
  }
  return n;
}

int lugo_interrupt(lugo_runtime *rt, lugo_goid id, const char *msg) {
  return interrupt(rt, id, msg, 0);
}

int lugo_interrupt_running(lugo_runtime *rt, lugo_goid id, const char *msg) {
  if (id == 0) return 0;
  return interrupt(rt, id, msg, 1);
}

/* ---------------------------------------------------------------------
** goroutines
** ------------------------------------------------------------------- */

lugo_G *lugo__spawn(lugo_runtime *rt, lugo_blob *start, lugo_goid *id) {
  lugo_G *g = (lugo_G *)calloc(1, sizeof(*g));
  if (g == NULL) return NULL;
  g->rt = rt;
  g->start = start;
  g->chainok = 1;
  lugo__sema_init(&g->sema);
  if (!lugo__sudogs(g, 1)) { free(g); return NULL; }
  if (tls_m != NULL && tls_m->curg != NULL) g->parent = tls_m->curg->id;
  pthread_mutex_lock(&rt->glock);
  g->id = ++rt->nextid;
  g->allnext = rt->allg;
  if (rt->allg) rt->allg->allprev = g;
  rt->allg = g;
  pthread_mutex_unlock(&rt->glock);
  lugo_xadd(&rt->ngoroutines, 1);
  lugo_xadd(&rt->nspawned, 1);
  lugo_store(&g->status, G_RUNNABLE);
  if (rt->race != NULL)
    lugo__race_gnew(rt, g, tls_m != NULL ? tls_m->curg : NULL);
  if (id) *id = g->id;
  return g;
}

/* queue a new G (owner M, or host thread) */
void lugo__go(lugo_runtime *rt, lugo_G *g) {
  LUGO_EVENT(rt, LUGO_EV_GO, tls_m && tls_m->curg ? tls_m->curg->id : 0, NULL, g->id);
  runqput_any(rt, g, 1);
}

static void g_unlink(lugo_runtime *rt, lugo_G *g) {
  if (g->allprev) g->allprev->allnext = g->allnext; else rt->allg = g->allnext;
  if (g->allnext) g->allnext->allprev = g->allprev;
  g->allnext = g->allprev = NULL;
}

void lugo__g_free(lugo_G *g) {
  if (g->ondone) g->ondone(g);  /* never ran to its end (shutdown) */
  lugo__race_gend(g);
  if (g->startref) lugo__obj_release(g->startref);  /* start was its */
  else if (g->start) lugo__blob_free(g->start);
  if (g->L) lua_close(g->L);
  lugo__marshal_gfree(g);
  free(g->sg);
  {
    int i;
    for (i = 0; i < g->nvals; i++) lugo__value_free(&g->vals[i]);
  }
  lugo__value_free(&g->sendv);
  lugo__value_free(&g->recvv);
  free(g->vals);
  free(g->errmsg);
  free(g->shbuf);
  free(g->intrmsg);
  free(lugo_xchg(&g->intrreq, NULL));
  free(lugo_xchg(&g->intrrun, NULL));
  free(g->timer);
  free(g->stacktext);
  lugo__sema_destroy(&g->sema);
  free(g);
}

/* Owner M.  g has returned (err NULL) or raised. */
static void gfinish(lugo_runtime *rt, lugo_G *g, const char *err,
                    const char *tb) {
  int host = g->host;
  char *hostmsg = NULL;
  lugo_store(&g->status, G_DEAD);
  LUGO_EVENT(rt, LUGO_EV_END, g->id, NULL, 0);
  if (g->lockedm != NULL) {  /* ended locked: its M is free again */
    g->lockedm->lockedg = NULL;
    g->lockedm = NULL;
    g->lockcount = 0;
  }
  if (err != NULL && !host && !lugo_load(&rt->stop))
    lugo__report(rt, LUGO_REPORT_PANIC, g->id, err, tb, NULL);
  if (err != NULL && host) {  /* copy it out before its state goes */
    size_t n = strlen(err) + (tb ? strlen(tb) + 1 : 0) + 1;
    hostmsg = (char *)malloc(n);
    if (hostmsg) snprintf(hostmsg, n, "%s%s%s", err, tb ? "\n" : "", tb ? tb : "");
  }
  if (g->ondone) {
    g->ondone(g);
    g->ondone = NULL;
  }
  if (g->L) {  /* finalizers run here, as the finished goroutine */
    if (err == NULL && !host) lugo__release_state(rt, g->L);
    else lua_close(g->L);
    g->L = NULL;
  }
  lugo__race_gend(g);  /* after its last Done (ondone) and finalizers */
  pthread_mutex_lock(&rt->glock);
  if (host) {
    g->errmsg = hostmsg;
    g->done = err ? LUGO_ERRRUN : -1;  /* -1: finished fine */
    lugo_xadd(&rt->nhostlive, -1);
    pthread_cond_broadcast(&rt->gcond);
  } else {
    g_unlink(rt, g);
  }
  pthread_mutex_unlock(&rt->glock);
  lugo_xadd(&rt->ngoroutines, -1);
  if (!host) lugo__g_free(g);
}

/* [-0, +n, e] unmarshal the start blob in a fresh state (under pcall) */
static int startvals(lua_State *L) {
  lugo_G *g = lugo__G(L);
  lugo_blob *b = g->start;
  lugo_obj *owner = g->startref;
  int n;
  if (owner == NULL) {
    g->start = NULL;
    return lugo__unmarshal(L, b);
  }
  n = lugo__unmarshal_copy(L, b);  /* raises: g_free lets go of owner */
  g->start = NULL;
  g->startref = NULL;
  lugo__obj_release(owner);
  return n;
}

/* Owner M.  Materialise g's state on first run; 0 if g ended. */
static int startg(lugo_runtime *rt, lugo_G *g) {
  lua_State *L = lugo__acquire_state(rt);
  int n;
  if (L == NULL) {
    gfinish(rt, g, "not enough memory for a new goroutine", NULL);
    return 0;
  }
  lugo__G(L) = g;
  g->L = L;
  g->co = lua_newthread(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, g);  /* keep the root coroutine alive */
  n = lua_gettop(L);
  lua_pushcfunction(L, startvals);
  if (lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    gfinish(rt, g, msg ? msg : "error starting goroutine", NULL);
    return 0;
  }
  n = lua_gettop(L) - n;
  lua_xmove(L, g->co, n);
  g->nargs = n - 1;
  return 1;
}

/* [-2, +2, e] error object, coroutine -> message, traceback (as lua.c's
** msghandler would say them) */
static int describe(lua_State *L) {
  lua_State *co = lua_tothread(L, 2);
  int t = lua_type(L, 1);
  if (t == LUA_TSTRING || t == LUA_TNUMBER)
    lua_pushstring(L, lua_tostring(L, 1));
  else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
    ;  /* that is the message */
  else
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, co, NULL, 0);
  return 2;
}

static void execute_done(lugo_runtime *rt, lugo_G *g, int st, int nres);

/* Owner M.  Run g until it yields or ends. */
static void execute(lugo_runtime *rt, lugo_M *m, lugo_G *g, int inherit) {
  lugo_P *p = m->p;
  int st, nres = 0;
  if (!inherit) p->schedtick++;
  for (;;) {  /* RUNNABLE or WOKEN; wait out a dump reading its stack */
    int s = lugo_load(&g->status);
    if (!(s & G_SCAN) && lugo_cas(&g->status, s, G_RUNNING)) break;
    lugo_cpu_relax();
  }
  if (g->L == NULL && !startg(rt, g)) return;
  m->curg = g;
  if (!inherit) {  /* a new time slice (before sysmon can see the G) */
    lugo_store(&m->preempt, 0);
    lugo_store(&m->slicestart, lugo__nanotime());
  }
  lugo_xadd(&m->tick, 1);  /* sysmon: this M is switching, not stuck */
  lugo_store(&m->curgid, g->id);
  g->yieldreason = Y_NONE;
  g->cur = g->co;
  g->chainok = 1;
  lugo__marshal_idle(g);
  lugo__set_sigco(g->co);
  if (lugo_load(&g->intrrun) != NULL) lugo__arm_hook(m);  /* raise it now */
  lugo_xadd(&rt->nswitch, 1);
  LUGO_EVENT(rt, LUGO_EV_RUN, g->id, NULL, p->id);
  lugo_store(&p->own, LUGO_OWN(m, P_INLUA));
  st = lua_resume(g->co, NULL, g->nargs, &nres);
  lugo__set_sigco(NULL);
  m->curg = NULL;
  lugo_store_relaxed(&m->curgid, 0);
  g->nargs = 0;
  /* sysmon may have taken our P while the G was in C code: then finish
  ** this G's switch without one (runqput_any falls back to the global
  ** queue) and get a P before scheduling again (none when stopping) */
  p = m->p;  /* a blockm wait may have changed it */
  if (p != NULL && !lugo_cas(&p->own, LUGO_OWN(m, P_INLUA), LUGO_OWN(m, P_LOCKED)))
    lostp(m);
  LUGO_EVENT(rt, LUGO_EV_STOP, g->id, NULL,
             st == LUA_YIELD ? g->yieldreason
                             : st == LUA_OK ? LUGO_STOP_END : LUGO_STOP_ERROR);
  execute_done(rt, g, st, nres);
  if (m->p == NULL) reacquirep(rt, m);
}

/* Owner M.  g's resume returned st: park, requeue, or finish it. */
static void execute_done(lugo_runtime *rt, lugo_G *g, int st, int nres) {
  if (st == LUA_YIELD) {
    lua_pop(g->co, nres);
    switch (g->yieldreason) {
      case Y_PARK:
        if (!lugo_cas(&g->status, G_PARKING, G_PARKED)) {
          /* woken before we got here: run it again soon */
          lugo_store(&g->status, G_RUNNABLE);
          runqput_any(rt, g, 1);
        }
        return;
      case Y_PREEMPT:
        lugo_xadd(&rt->npreempt, 1);
        /* fall through */
      case Y_GOSCHED:
        lugo_store(&g->status, G_RUNNABLE);
        pthread_mutex_lock(&rt->lock);
        globput(rt, g);
        pthread_mutex_unlock(&rt->lock);
        return;
      default:
        throw_("goroutine yielded to the scheduler without a reason");
    }
  }
  if (st == LUA_OK) {
    gfinish(rt, g, NULL, NULL);
  } else {  /* describe it protected: __tostring may raise, memory run out */
    lua_State *L = g->L;
    lua_pushcfunction(L, describe);
    lua_xmove(g->co, L, 1);  /* the error object */
    lua_pushthread(g->co);
    lua_xmove(g->co, L, 1);
    if (lua_pcall(L, 2, 2, 0) == LUA_OK)
      gfinish(rt, g, lua_tostring(L, -2), lua_tostring(L, -1));
    else
      gfinish(rt, g, "(error while describing an error)", NULL);
  }
}

/* ---------------------------------------------------------------------
** finding work
** ------------------------------------------------------------------- */

static lugo_G *steal(lugo_runtime *rt, lugo_P *p) {
  int round, i, n = lugo_load(&rt->np);  /* retired ones too: harmless */
  for (round = 0; round < 4; round++) {
    int start = (int)(lugo__fastrand() % (uint32_t)n);
    for (i = 0; i < n; i++) {
      lugo_P *v = rt->allp[(start + i) % n];
      lugo_G *g;
      if (v == p) continue;
      g = lugo__runq_steal(&p->q, &v->q, round == 3);
      if (g != NULL) {
        lugo_xadd(&rt->nsteal, 1);
        return g;
      }
    }
  }
  return NULL;
}

static int anywork(lugo_runtime *rt) {
  int i;
  if (lugo_load(&rt->gqsize) > 0) return 1;
  for (i = 0; i < lugo_load(&rt->np); i++)
    if (!lugo__runq_empty(&rt->allp[i]->q)) return 1;
  return 0;
}

static void resetspinning(lugo_runtime *rt, lugo_M *m) {
  m->spinning = 0;
  if (lugo_xadd(&rt->nmspinning, -1) == 1) wakep(rt);
}

/* Owner M.  Find a G to run; parks the M when there is none.  Returns NULL
** when the runtime stops. */
static lugo_G *findrunnable(lugo_runtime *rt, lugo_M *m, int *inherit) {
  lugo_G *g;
  int spins;
top:
  *inherit = 0;
  if (lugo_load(&rt->stop)) return NULL;
  if (m->p->id >= lugo_load(&rt->nprocs)) {  /* GOMAXPROCS shrank */
    lugo_P *np = m->p;
    pthread_mutex_lock(&rt->lock);
    if (np->id >= lugo_load(&rt->nprocs)) {
      pidleput(rt, np);  /* retires it; its Gs go to the global queue */
      m->p = NULL;
      lugo_store(&m->curp, NULL);
    }
    pthread_mutex_unlock(&rt->lock);
    if (m->p == NULL) {
      if (m->spinning) {
        m->spinning = 0;
        lugo_xadd(&rt->nmspinning, -1);
      }
      wakep(rt);  /* for the Gs it had */
      lugo__checkdead(rt);
      np = stopm(rt, m);
      if (np == NULL) return NULL;
      acquirep(m, np);
      goto top;
    }
  }
  if (lugo_load(&rt->npwait) > 0) {
    /* an M whose blocked G woke up waits for a P: it has work, we look
    ** for some; give it ours and park */
    int gave;
    pthread_mutex_lock(&rt->lock);
    gave = handtowaiter(rt, m->p);
    pthread_mutex_unlock(&rt->lock);
    if (gave) {
      lugo_P *np;
      m->p = NULL;
      lugo_store(&m->curp, NULL);
      if (m->spinning) {
        m->spinning = 0;
        lugo_xadd(&rt->nmspinning, -1);
      }
      np = stopm(rt, m);
      if (np == NULL) return NULL;
      acquirep(m, np);
      goto top;
    }
  }
  {
    lugo_P *p = m->p;
    if (p->schedtick % 61 == 0 && lugo_load(&rt->gqsize) > 0) {
      pthread_mutex_lock(&rt->lock);
      g = globget(rt, p, 1);
      pthread_mutex_unlock(&rt->lock);
      if (g) return g;
    }
    /* a few rounds only: on 2 cores a spinning M mostly competes with the
    ** working one for channel locks (fan-in measured best at 3-5) */
    for (spins = 0; spins < 4; spins++) {
      g = lugo__runq_get(&p->q, inherit);
      if (g) return g;
      if (lugo_load(&rt->gqsize) > 0) {
        pthread_mutex_lock(&rt->lock);
        g = globget(rt, p, 0);
        pthread_mutex_unlock(&rt->lock);
        if (g) return g;
      }
      if (m->spinning || 2 * lugo_load(&rt->nmspinning) <
                             lugo_load(&rt->nprocs) - lugo_load(&rt->npidle)) {
        if (!m->spinning) {
          m->spinning = 1;
          lugo_xadd(&rt->nmspinning, 1);
        }
        g = steal(rt, p);
        if (g) return g;
      }
      if (lugo_load(&rt->stop)) return NULL;
      /* a short spin before parking: waking a parked M costs far more */
      { int k; for (k = 0; k < 50; k++) lugo_cpu_relax(); }
    }
    /* give up the P */
    pthread_mutex_lock(&rt->lock);
    if (lugo_load(&rt->gqsize) > 0) {
      g = globget(rt, p, 0);
      pthread_mutex_unlock(&rt->lock);
      return g;
    }
    m->p = NULL;
    lugo_store(&m->curp, NULL);
    if (!handtowaiter(rt, p)) pidleput(rt, p);
    pthread_mutex_unlock(&rt->lock);
  }
  {
    int was = m->spinning;
    if (was) {
      m->spinning = 0;
      lugo_xadd(&rt->nmspinning, -1);
    }
    /* re-check after dropping the spinning count (see the header) */
    if (anywork(rt)) {
      lugo_P *p;
      pthread_mutex_lock(&rt->lock);
      p = pidleget(rt);
      pthread_mutex_unlock(&rt->lock);
      if (p) {
        acquirep(m, p);
        if (was) {
          m->spinning = 1;
          lugo_xadd(&rt->nmspinning, 1);
        }
        goto top;
      }
    }
  }
  lugo__checkdead(rt);
  {
    lugo_P *p = stopm(rt, m);
    if (p == NULL) return NULL;  /* stopping */
    acquirep(m, p);
  }
  goto top;
}

/* runtime.LockOSThread (Go's lockedm protocol).  A locked G runs only on
** its M.  When it stops running, its M gives its P away and sleeps
** (stoplockedm); an M that finds the G runnable hands it its P and sleeps
** in turn (startlockedm), and the locked M runs the G. */

/* Owner M: give our P to g's locked M, then park.  0 when stopping. */
static int startlockedm(lugo_runtime *rt, lugo_M *m, lugo_G *g) {
  lugo_M *lm = g->lockedm;
  lugo_P *p = m->p, *np;
  m->p = NULL;
  lugo_store(&m->curp, NULL);
  lugo_store(&p->own, 0);
  pthread_mutex_lock(&rt->lock);
  lm->nextp = p;  /* lm runs lm->lockedg, which is g, with it */
  pthread_mutex_unlock(&rt->lock);
  lugo__sema_post(&lm->park);
  np = stopm(rt, m);
  if (np == NULL) return 0;
  acquirep(m, np);
  return 1;
}

/* Owner M with a locked G that is not running: hand off our P, wait for
** the G to be handed back.  0 when stopping. */
static int stoplockedm(lugo_runtime *rt, lugo_M *m) {
  lugo_P *p = m->p;
  m->p = NULL;
  lugo_store(&m->curp, NULL);
  handoffp(rt, p);
  lugo__sema_wait(&m->park);
  pthread_mutex_lock(&rt->lock);
  p = m->nextp;
  m->nextp = NULL;
  pthread_mutex_unlock(&rt->lock);
  if (p == NULL) return 0;
  acquirep(m, p);
  return 1;
}

void lugo__lockosthread(lugo_G *g) {
  lugo_M *m = tls_m;
  if (g->lockcount++ == 0) {
    g->lockedm = m;
    m->lockedg = g;
  }
}

int lugo__unlockosthread(lugo_G *g) {
  if (g->lockcount == 0) return 0;
  if (--g->lockcount == 0) {
    g->lockedm->lockedg = NULL;
    g->lockedm = NULL;
  }
  return 1;
}

static void *mstart(void *arg) {
  lugo_M *m = (lugo_M *)arg;
  lugo_runtime *rt = m->rt;
  tls_m = m;
  pthread_mutex_lock(&rt->lock);
  {
    lugo_P *p = m->nextp;
    m->nextp = NULL;
    pthread_mutex_unlock(&rt->lock);
    if (p == NULL) return NULL;
    acquirep(m, p);
  }
  for (;;) {
    int inherit;
    lugo_G *g;
    lugo__timers_poll(rt);  /* due timers ready their Gs on our P */
    g = findrunnable(rt, m, &inherit);
    if (g == NULL) break;
    if (m->spinning) resetspinning(rt, m);
    if (g->lockedm != NULL && g->lockedm != m) {
      /* it runs only on its own M: give that M our P and the G */
      if (!startlockedm(rt, m, g)) break;
      continue;
    }
    if (inherit && lugo_load(&m->preempt)) {
      /* a pair handing the slice back and forth through runnext ran its
      ** 10 ms: give the others a turn (Go's inheritTime rule) */
      lugo_store(&m->preempt, 0);
      lugo_xadd(&rt->npreempt, 1);
      pthread_mutex_lock(&rt->lock);
      globput(rt, g);
      pthread_mutex_unlock(&rt->lock);
      continue;
    }
    execute(rt, m, g, inherit);
    while (m->lockedg != NULL && m->p != NULL) {
      /* our locked G stopped running: nobody else may use this M, so
      ** wait until the G is handed back to us with a P */
      if (!stoplockedm(rt, m)) break;
      execute(rt, m, m->lockedg, 0);
    }
    if (m->p == NULL) break;  /* stopping */
  }
  if (m->p) {
    pthread_mutex_lock(&rt->lock);
    pidleput(rt, m->p);
    m->p = NULL;
    lugo_store(&m->curp, NULL);
    pthread_mutex_unlock(&rt->lock);
  }
  tls_m = NULL;
  return NULL;
}

/* ---------------------------------------------------------------------
** deadlock detection
** ------------------------------------------------------------------- */

void lugo__checkdead(lugo_runtime *rt) {
  int dead;
  if (lugo_load(&rt->stop) || lugo_load(&rt->deadlocked)) return;
  if (lugo_load(&rt->hostholds) > 0 || lugo_load(&rt->nhostlive) == 0) return;
  pthread_mutex_lock(&rt->lock);
  /* timers first: once none is pending or firing, whatever a fire did
  ** (nblockm++, a queue entry) is visible to the reads after it */
  dead = lugo__timers_pending(rt) == 0 &&
         lugo_load(&rt->nhostlive) > 0 && lugo_load(&rt->nincall) == 0 &&
         allpidle(rt) && rt->gqhead == NULL &&
         lugo_load(&rt->nblockm) == 0 && rt->pwait == NULL &&
         lugo_load(&rt->ngoroutines) > 0;
  pthread_mutex_unlock(&rt->lock);
  if (!dead || !lugo_cas(&rt->deadlocked, 0, 1)) return;
  {
    char *dump = lugo_dump(rt);
    lugo__report(rt, LUGO_REPORT_DEADLOCK, 0,
                 "all goroutines are asleep - deadlock!", NULL, dump);
    free(dump);
  }
  pthread_mutex_lock(&rt->glock);
  lugo_store(&rt->deadlocked, 2);  /* reported: lugo_wait may return */
  pthread_cond_broadcast(&rt->gcond);
  pthread_mutex_unlock(&rt->glock);
}

/* ---------------------------------------------------------------------
** setup and teardown
** ------------------------------------------------------------------- */

int lugo__sched_init(lugo_runtime *rt) {
  int i;
  pthread_mutex_init(&rt->lock, NULL);
  pthread_mutex_init(&rt->glock, NULL);
  {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->gcond, &a);
    pthread_condattr_destroy(&a);
  }
  for (i = 0; i < lugo_load(&rt->nprocs); i++)
    if (newp(rt, i) == NULL) return LUGO_ENOMEM;
  for (i = lugo_load(&rt->nprocs) - 1; i >= 0; i--) pidleput(rt, rt->allp[i]);
  return LUGO_OK;
}

/* Change GOMAXPROCS to n (1..LUGO_MAXPROCS); returns the previous value.
** Growing makes new Ps idle and wakes an M; shrinking retires idle Ps at
** once and busy ones when their M next schedules (at most a time slice
** later: it does not stop the world).  Any thread. */
int lugo__setprocs(lugo_runtime *rt, int n) {
  int old, i;
  pthread_mutex_lock(&rt->lock);
  old = lugo_load(&rt->nprocs);
  if (n == old || rt->stopping) {
    pthread_mutex_unlock(&rt->lock);
    return old;
  }
  lugo_store(&rt->nprocs, n);
  if (n > old) {  /* bring back retired Ps, create the rest */
    for (i = old; i < n; i++) {
      int fresh = i >= lugo_load(&rt->np);
      lugo_P *p = fresh ? newp(rt, i) : rt->allp[i];
      if (p == NULL) {  /* out of memory: keep what we have */
        lugo_store(&rt->nprocs, i);
        break;
      }
      if (fresh) {
        pidleput(rt, p);
      } else if (p->retired) {
        p->retired = 0;
        rt->nretired--;
        pidleput(rt, p);
      }  /* else still owned by an M that has not retired it yet */
    }
  } else {  /* retire the idle Ps beyond n */
    lugo_P **pp = &rt->pidle;
    while (*pp != NULL) {
      lugo_P *p = *pp;
      if (p->id >= n) {
        *pp = p->link;
        p->link = NULL;
        lugo_xadd(&rt->npidle, -1);
        pidleput(rt, p);  /* retires it */
      } else {
        pp = &p->link;
      }
    }
  }
  pthread_mutex_unlock(&rt->lock);
  if (n > old) wakep(rt);  /* more Ps for the work there is */
  return old;
}

/* Stop every M.  Running goroutines are preempted and dropped. */
void lugo__sched_stop(lugo_runtime *rt) {
  lugo_M *m;
  pthread_mutex_lock(&rt->lock);
  rt->stopping = 1;  /* no new Ms, no Ps handed out */
  lugo_store(&rt->stop, 1);
  pthread_mutex_unlock(&rt->lock);
  lugo_interrupt(rt, 0, "runtime is shutting down");
  for (;;) {
    int idle;
    pthread_mutex_lock(&rt->lock);
    for (m = rt->midle; m != NULL; m = m->link) {
      m->nextp = NULL;
      lugo__sema_post(&m->park);
    }
    rt->midle = NULL;
    rt->nmidle = 0;
    while ((m = rt->pwait) != NULL) {  /* they get no P: they end */
      rt->pwait = m->link;
      lugo_xadd(&rt->npwait, -1);
      m->nextp = NULL;
      lugo__sema_post(&m->park);
    }
    idle = allpidle(rt);
    pthread_mutex_unlock(&rt->lock);
    if (idle) break;
    lugo__sysmon_kick(rt);  /* keeps preempting running goroutines */
    usleep(1000);
  }
  pthread_mutex_lock(&rt->lock);
  for (m = rt->allm; m != NULL; m = m->alllink) lugo__sema_post(&m->park);
  pthread_mutex_unlock(&rt->lock);
  for (m = rt->allm; m != NULL; m = m->alllink) pthread_join(m->thread, NULL);
}

void lugo__sched_free(lugo_runtime *rt) {
  lugo_M *m;
  lugo_G *g;
  /* first take every parked G's waiters off the channels, which outlive
  ** them while other states are being closed */
  for (g = rt->allg; g != NULL; g = g->allnext) {
    lugo__chan_unpark(g);
    lugo__sync_unpark(g);  /* and sync queues (Mutex, WaitGroup, ...) */
  }
  while ((m = rt->allm) != NULL) {
    rt->allm = m->alllink;
    lugo__sema_destroy(&m->park);
    free(m);
  }
  while ((g = rt->gqhead) != NULL) rt->gqhead = g->schedlink;
  while ((g = rt->allg) != NULL) {
    g_unlink(rt, g);
    lugo__g_free(g);
  }
  {
    int i;
    for (i = 0; i < lugo_load(&rt->np); i++) free(rt->allp[i]);
  }
  pthread_mutex_destroy(&rt->lock);
  pthread_mutex_destroy(&rt->glock);
  pthread_cond_destroy(&rt->gcond);
}
