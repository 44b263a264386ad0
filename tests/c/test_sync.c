/* test_sync.c -- the sync core (vm/sync.c) under real threads.  Each
** thread plays a goroutine whose parks block it on its semaphore (the
** path a goroutine in non-yieldable code takes), so lost wake-ups hang
** the test and missing happens-before shows under TSan: the counters the
** locks protect are plain ints. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "cutil.h"
#include "sync.h"

static lugo_runtime rt;  /* only evhook (NULL) and nblockm are touched */

static lugo_G *newg(void) {
  lugo_G *g = (lugo_G *)calloc(1, sizeof(*g));
  g->rt = &rt;
  lugo__sema_init(&g->sema);
  return g;
}

static void freeg(lugo_G *g) {
  lugo__sema_destroy(&g->sema);
  free(g);
}

/* what lugo__park_prepare does for a park that blocks its thread */
static void prep(lugo_G *g) {
  lugo_store(&g->blockm, 1);
  lugo_store(&g->parkwin, PW_PREPARED);
}

/* the binding's Lock loop (stdlib/lsync.c) */
static void mlock(lugo_mutex *m, lugo_G *g) {
  int again = 0;
  if (lugo__mutex_lock(m, NULL, 0) == LUGO_SYNC_DONE) return;
  for (;;) {
    prep(g);
    if (lugo__mutex_lock(m, g, again) != LUGO_SYNC_PARKED) return;
    lugo__sema_wait(&g->sema);
    if (lugo__mutex_woken(m, g)) return;
    if (lugo__mutex_lock(m, NULL, 0) == LUGO_SYNC_DONE) return;
    again = 1;
  }
}

#define NTHREADS 4
#define ITERS 100000

static lugo_mutex *mu;
static long counter;

static void *mutex_worker(void *ud) {
  lugo_G *g = newg();
  int i;
  (void)ud;
  for (i = 0; i < ITERS; i++) {
    mlock(mu, g);
    counter++;
    CU_ASSERT_EQUAL(lugo__mutex_unlock(mu), LUGO_SYNC_DONE);
  }
  freeg(g);
  return NULL;
}

static void test_mutex_threads(void) {
  pthread_t t[NTHREADS];
  int i;
  mu = lugo__mutex_new();
  counter = 0;
  for (i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, mutex_worker, NULL);
  for (i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  CHECK_EQ(counter, NTHREADS * ITERS);
  CHECK_EQ(lugo__mutex_unlock(mu), LUGO_SYNC_ERR);  /* not locked */
  CHECK_EQ(lugo__mutex_lock(mu, NULL, 0), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__mutex_lock(mu, NULL, 0), LUGO_SYNC_BLOCK);
  CHECK_EQ(lugo__mutex_unlock(mu), LUGO_SYNC_DONE);
  lugo__obj_release(&mu->obj);
}

/* Lost wake-ups: the main thread holds the lock and releases it just as
** the other thread arrives in Lock; only that Unlock can wake it (nobody
** else comes by), so a wake-up lost in the race hangs the test. */
static lugo_aint go_, gone;
#define PAIRS 20000

/* wait for *a == v: spin a little, then let the other thread run (the
** machines have 2 cores, and sanitizers are slow) */
static void await(lugo_aint *a, int v) {
  int n = 0;
  while (lugo_load(a) != v)
    if (++n < 5000) lugo_cpu_relax(); else sched_yield();
}

static void *pair_worker(void *ud) {
  lugo_G *g = newg();
  int i;
  (void)ud;
  for (i = 1; i <= PAIRS; i++) {
    await(&go_, i);
    mlock(mu, g);
    lugo__mutex_unlock(mu);
    lugo_store(&gone, i);
  }
  freeg(g);
  return NULL;
}

static void test_mutex_pairs(void) {
  pthread_t t;
  lugo_G *g = newg();
  int i;
  mu = lugo__mutex_new();
  pthread_create(&t, NULL, pair_worker, NULL);
  for (i = 1; i <= PAIRS; i++) {
    mlock(mu, g);
    lugo_store(&go_, i);
    for (int spin = 0; spin < (i & 63); spin++) lugo_cpu_relax();
    lugo__mutex_unlock(mu);
    await(&gone, i);
  }
  pthread_join(t, NULL);
  lugo__obj_release(&mu->obj);
  freeg(g);
}

/* RWMutex: readers check that no writer is inside; the writer keeps two
** plain counters equal, which readers check too */
static lugo_rwmutex *rw;
static long wa, wb;
static lugo_aint writing, badreads;

static void rwlock(lugo_rwmutex *r, lugo_G *g, int read) {
  int res = read ? lugo__rw_rlock(r, NULL) : lugo__rw_lock(r, NULL);
  if (res == LUGO_SYNC_DONE) return;
  prep(g);
  res = read ? lugo__rw_rlock(r, g) : lugo__rw_lock(r, g);
  if (res == LUGO_SYNC_PARKED) lugo__sema_wait(&g->sema);  /* handed over */
}

static void *rw_reader(void *ud) {
  lugo_G *g = newg();
  int i;
  (void)ud;
  for (i = 0; i < ITERS; i++) {
    rwlock(rw, g, 1);
    if (lugo_load(&writing) || wa != wb) lugo_xadd(&badreads, 1);
    CU_ASSERT_EQUAL(lugo__rw_runlock(rw), LUGO_SYNC_DONE);
  }
  freeg(g);
  return NULL;
}

static void *rw_writer(void *ud) {
  lugo_G *g = newg();
  int i;
  (void)ud;
  for (i = 0; i < ITERS / 4; i++) {
    rwlock(rw, g, 0);
    lugo_store(&writing, 1);
    wa++;
    wb++;
    lugo_store(&writing, 0);
    CU_ASSERT_EQUAL(lugo__rw_unlock(rw), LUGO_SYNC_DONE);
  }
  freeg(g);
  return NULL;
}

static void test_rwmutex_threads(void) {
  pthread_t t[NTHREADS];
  int i;
  rw = lugo__rw_new();
  wa = wb = 0;
  for (i = 0; i < NTHREADS; i++)
    pthread_create(&t[i], NULL, i < 2 ? rw_writer : rw_reader, NULL);
  for (i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  CHECK_EQ(lugo_load(&badreads), 0);
  CHECK_EQ(wa, 2 * (ITERS / 4));
  CHECK_EQ(lugo__rw_unlock(rw), LUGO_SYNC_ERR);
  CHECK_EQ(lugo__rw_runlock(rw), LUGO_SYNC_ERR);
  CHECK_EQ(lugo__rw_rlock(rw, NULL), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_lock(rw, NULL), LUGO_SYNC_BLOCK);
  CHECK_EQ(lugo__rw_rlock(rw, NULL), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_runlock(rw), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_runlock(rw), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_lock(rw, NULL), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_rlock(rw, NULL), LUGO_SYNC_BLOCK);
  CHECK_EQ(lugo__rw_unlock(rw), LUGO_SYNC_DONE);
  lugo__obj_release(&rw->obj);
}

/* WaitGroup: waiters released at zero, every round */
static lugo_waitgroup *wg;
static lugo_aint released;

static void *wg_waiter(void *ud) {
  lugo_G *g = newg();
  (void)ud;
  if (lugo__wg_wait(wg, NULL, NULL) != LUGO_SYNC_DONE) {
    prep(g);
    if (lugo__wg_wait(wg, g, NULL) == LUGO_SYNC_PARKED) lugo__sema_wait(&g->sema);
  }
  lugo_xadd(&released, 1);
  freeg(g);
  return NULL;
}

static void test_waitgroup_threads(void) {
  pthread_t t[NTHREADS];
  int round, i;
  wg = lugo__wg_new();
  CHECK_EQ(lugo__wg_add(wg, -1, NULL), LUGO_SYNC_ERR);
  for (round = 0; round < 200; round++) {
    lugo_store(&released, 0);
    CHECK_EQ(lugo__wg_add(wg, NTHREADS, NULL), LUGO_SYNC_DONE);
    for (i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, wg_waiter, NULL);
    for (i = 0; i < NTHREADS; i++) lugo__wg_add(wg, -1, NULL);
    for (i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
    CHECK_EQ(lugo_load(&released), NTHREADS);
  }
  lugo__obj_release(&wg->obj);
}

/* Cond: a signal between a waiter's queueing and its unlock is kept */
static lugo_cond *cond;
static lugo_mutex *cmu;
static int ready;  /* guarded by cmu */

static void *cond_waiter(void *ud) {
  lugo_G *g = newg();
  (void)ud;
  mlock(cmu, g);
  while (!ready) {
    prep(g);
    CU_ASSERT_EQUAL(lugo__cond_wait(cond, g), LUGO_SYNC_PARKED);
    lugo__sema_wait(&g->sema);
    mlock(cmu, g);
  }
  lugo__mutex_unlock(cmu);
  freeg(g);
  return NULL;
}

static void test_cond_threads(void) {
  pthread_t t[NTHREADS];
  int round, i;
  lugo_G *g = newg();
  cmu = lugo__mutex_new();
  cond = lugo__cond_new(cmu);
  lugo__obj_release(&cmu->obj);  /* the cond holds it */
  CHECK_EQ(lugo__cond_wait(cond, g), LUGO_SYNC_ERR);  /* not locked */
  for (round = 0; round < 200; round++) {
    ready = 0;
    for (i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, cond_waiter, NULL);
    mlock(cmu, g);
    ready = 1;
    lugo__cond_signal(cond, round % 2);  /* Signal: each waiter that wakes */
    lugo__mutex_unlock(cmu);             /* finds ready; Broadcast: all */
    for (i = 0; i < NTHREADS; i++) {
      if (round % 2 == 0) lugo__cond_signal(cond, 1);
    }
    for (i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  }
  lugo__obj_release(&cond->obj);
  freeg(g);
}

/* An interrupted waiter (its park won by the interrupter, then its own
** cancel) leaves the queue; a writer that leaves lets the readers queued
** behind it in.  Single-threaded: each step's outcome is fixed. */
static void interrupt(lugo_G *g) {
  CU_ASSERT(lugo_cas(&g->parkwin, 0, 1));  /* what lugo_interrupt does */
}

static void test_cancel(void) {
  lugo_G *w = newg(), *r2 = newg();
  lugo_rwmutex *r = lugo__rw_new();
  lugo_mutex *m = lugo__mutex_new();
  /* Mutex: a waiter that leaves; the holder's Unlock then wakes nobody */
  CHECK_EQ(lugo__mutex_lock(m, NULL, 0), LUGO_SYNC_DONE);
  prep(w);
  CHECK_EQ(lugo__mutex_lock(m, w, 0), LUGO_SYNC_PARKED);
  interrupt(w);
  lugo__mutex_cancel(m, w);
  CHECK_EQ(w->sw.queued, 0);
  CHECK_EQ(lugo__mutex_unlock(m), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__mutex_lock(m, NULL, 0), LUGO_SYNC_DONE);  /* fast path again */
  CHECK_EQ(lugo__mutex_unlock(m), LUGO_SYNC_DONE);
  /* RWMutex: a reader holds it, a writer waits, a second reader queues
  ** behind the writer; the writer is interrupted: the reader goes in */
  CHECK_EQ(lugo__rw_rlock(r, NULL), LUGO_SYNC_DONE);
  prep(w);
  CHECK_EQ(lugo__rw_lock(r, w), LUGO_SYNC_PARKED);
  CHECK_EQ(lugo__rw_rlock(r, NULL), LUGO_SYNC_BLOCK);  /* writer waiting */
  prep(r2);
  CHECK_EQ(lugo__rw_rlock(r, r2), LUGO_SYNC_PARKED);
  interrupt(w);
  lugo__rw_cancel(r, w);
  lugo__sema_wait(&r2->sema);  /* readied (else this hangs) */
  CHECK_EQ(r2->sw.ticket, 1);  /* let in: it holds a read share */
  CHECK_EQ(lugo__rw_runlock(r), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_runlock(r), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_runlock(r), LUGO_SYNC_ERR);  /* and no more */
  CHECK_EQ(lugo__rw_lock(r, NULL), LUGO_SYNC_DONE);
  /* a reader waiting on a writer is interrupted: Unlock wakes nobody */
  prep(r2);
  CHECK_EQ(lugo__rw_rlock(r, r2), LUGO_SYNC_PARKED);
  interrupt(r2);
  lugo__rw_cancel(r, r2);
  CHECK_EQ(lugo__rw_unlock(r), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_lock(r, NULL), LUGO_SYNC_DONE);
  CHECK_EQ(lugo__rw_unlock(r), LUGO_SYNC_DONE);
  lugo__obj_release(&r->obj);
  lugo__obj_release(&m->obj);
  freeg(w);
  freeg(r2);
}

int main(void) {
  static const cutest tests[] = {
    {"mutex threads", test_mutex_threads},
    {"mutex pairs", test_mutex_pairs},
    {"rwmutex threads", test_rwmutex_threads},
    {"waitgroup threads", test_waitgroup_threads},
    {"cond threads", test_cond_threads},
    {"cancel", test_cancel},
    {NULL, NULL}
  };
  return cutil_run("sync", tests);
}
