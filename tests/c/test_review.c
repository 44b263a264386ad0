/* test_review.c -- reproductions for the review of the sync code (vm/sync.c,
** stdlib/lsync.c).  Each test fails (or, under ASan, crashes) on the code
** as reviewed; see the comments for the interleaving. */
#include <lauxlib.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutil.h"
#include "lugo.h"
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

static void prep(lugo_G *g) {  /* lugo__park_prepare for a blockm park */
  lugo_store(&g->blockm, 1);
  lugo_store(&g->parkwin, PW_PREPARED);
}

static void await(lugo_aint *a, int v) {
  int n = 0;
  while (lugo_load(a) != v)
    if (++n < 5000) lugo_cpu_relax(); else sched_yield();
}

/* ---------------------------------------------------------------------
** 1. Cond.Wait whose mutex is unlocked by someone else, racing an
** interrupt.  lugo__cond_wait publishes g (parkwin 0), then its Unlock
** fails; it takes g back off the queue and returns ERR ("g is not
** queued"), and the binding cancels the park and raises.  But the park was
** already winnable: lugo_interrupt may have won it (CAS 0 -> 1) and will
** lugo__ready(g) after dropping glock.  The ERR path never claims the park
** itself, so the ready lands on a goroutine that is running (throw_: abort)
** or, for a blockm park, leaves a stray post on g->sema that completes
** g's NEXT park.
** ------------------------------------------------------------------- */

static lugo_cond *cond;
static lugo_mutex *cmu;
static lugo_G *cg;
static int cres;

static void *cond_thread(void *ud) {
  (void)ud;
  cres = lugo__cond_wait(cond, cg);
  return NULL;
}

static void test_cond_err_vs_interrupt(void) {
  pthread_t t;
  lugo_rwmutex *rw = lugo__rw_new();
  int won, r;
  cmu = lugo__mutex_new();
  cond = lugo__cond_new(cmu);
  lugo__obj_release(&cmu->obj);
  cg = newg();
  CHECK_EQ(lugo__mutex_lock(cmu, NULL, 0), LUGO_SYNC_DONE);  /* Wait's caller */
  pthread_mutex_lock(&cond->lk);  /* stall Wait after its MU_LOCKED check */
  prep(cg);
  pthread_create(&t, NULL, cond_thread, NULL);
  usleep(20000);  /* let it check MU_LOCKED and block on c->lk */
  CHECK_EQ(lugo__mutex_unlock(cmu), LUGO_SYNC_DONE);  /* "someone else" */
  pthread_mutex_lock(&cmu->lk);   /* its own Unlock will stall here */
  pthread_mutex_unlock(&cond->lk);
  await(&cg->parkwin, 0);         /* published */
  /* lugo_interrupt: the park is winnable, and it wins it */
  won = lugo_cas(&cg->parkwin, 0, 1);
  CU_ASSERT(won);
  cg->interrupted = 1;
  pthread_mutex_unlock(&cmu->lk);
  pthread_join(t, NULL);
  /* the contract: ERR only if nobody else can complete the park */
  if (cres == LUGO_SYNC_ERR)
    fprintf(stderr, "\n  cond_wait returned ERR although the interrupt had "
                    "won the park (it will ready g)\n");
  CU_ASSERT(cres != LUGO_SYNC_ERR);
  /* the interrupter now readies g, as lugo_interrupt does after glock */
  lugo__ready(cg);
  if (cres == LUGO_SYNC_ERR) {
    /* the binding cancelled and raised; g goes on, and later parks on an
    ** RWMutex that main holds: the stray post completes that park, and g
    ** believes it was handed the write lock */
    CHECK_EQ(lugo__rw_lock(rw, NULL), LUGO_SYNC_DONE);  /* main holds it */
    cg->interrupted = 0;
    prep(cg);
    r = lugo__rw_lock(rw, cg);
    CHECK_EQ(r, LUGO_SYNC_PARKED);
    if (lugo__sema_timedwait(&cg->sema, lugo__nanotime() + 200000000LL)) {
      fprintf(stderr, "  g's next park (RWMutex.Lock, held by another) was "
                      "completed by the stray wake-up: two writers\n");
      CU_FAIL("a park completed by a wake-up meant for an earlier one");
    }
  }
  lugo__obj_release(&cond->obj);
}

/* ---------------------------------------------------------------------
** 2. WaitGroup: the Add that brings the counter to zero (A) CASes it,
** then takes lk to wake the waiters.  In between, B may Add(1) (legal:
** no Wait is pending) and then Wait: it sees 1 under lk and queues.  A
** then takes lk and pops every waiter, B included: B's Wait returns with
** the counter at 1.
** ------------------------------------------------------------------- */

static lugo_waitgroup *wg;

static void *wg_done_thread(void *ud) {
  (void)ud;
  lugo__wg_add(wg, -1);  /* 1 -> 0, then blocks on lk (held by main) */
  return NULL;
}

static void test_wg_early_wake(void) {
  int round, early = 0;
  lugo_G *g = newg();
  wg = lugo__wg_new();
  for (round = 0; round < 200 && !early; round++) {
    pthread_t a;
    int r;
    CHECK_EQ(lugo__wg_add(wg, 1), LUGO_SYNC_DONE);
    pthread_mutex_lock(&wg->lk);      /* stall A between its CAS and lk */
    pthread_create(&a, NULL, wg_done_thread, NULL);
    while (lugo_load(&wg->count) != 0) sched_yield();
    usleep(1000);                     /* A is asleep on lk */
    CHECK_EQ(lugo__wg_add(wg, 1), LUGO_SYNC_DONE);  /* B's Add: legal */
    pthread_mutex_unlock(&wg->lk);
    /* B = this thread: Wait (the unlocker usually wins lk back first) */
    prep(g);
    r = lugo__wg_wait(wg, g);
    if (r == LUGO_SYNC_PARKED) {
      if (lugo__sema_timedwait(&g->sema, lugo__nanotime() + 50000000LL)) {
        long c = (long)lugo_load(&wg->count);
        if (c != 0) {
          early = 1;
          fprintf(stderr, "\n  round %d: Wait returned with the counter at %ld\n",
                  round, c);
        }
        pthread_join(a, NULL);
        lugo__wg_add(wg, -1);
      } else {  /* A took lk first this time: B is still queued, correctly */
        pthread_join(a, NULL);
        lugo__wg_add(wg, -1);  /* B's Done: wakes B */
        lugo__sema_wait(&g->sema);
      }
    } else {
      pthread_join(a, NULL);
      lugo__wg_add(wg, -1);
    }
  }
  CU_ASSERT(!early);
  lugo__obj_release(&wg->obj);
  freeg(g);
}

/* ---------------------------------------------------------------------
** 3. lugo_close with goroutines parked on sync objects.  sched_free takes
** parked goroutines off channels (lugo__chan_unpark) but not off sync
** queues, then frees every G: a G whose g->sw is still linked in a
** WaitGroup's queue is freed, and a later G's ondone (WaitGroup.Go's
** Done), or any finalizer that unlocks a Mutex, walks the queue into the
** freed G (heap-use-after-free under ASan).
** ------------------------------------------------------------------- */

static void test_close_with_sync_parked(void) {
  lugo_options o;
  lugo_runtime *r;
  lua_State *L;
  lugo_goid id;
  lugo_options_init(&o);
  o.procs = 2;
  r = lugo_new(&o);
  L = lugo_newstate(r);
  CU_ASSERT(luaL_loadstring(L,
    "local wg, c = sync.WaitGroup(), chan()\n"
    "wg:Go(function(c) c:recv() end, c)   -- never ends: Done at close\n"
    "go(function(wg) wg:Wait() end, wg)   -- parked on wg at close\n"
    "time.Sleep(0.05)\n") == LUA_OK);
  CHECK_EQ(lugo_spawn(r, L, 0, &id), LUGO_OK);
  CHECK_EQ(lugo_wait(r, id, NULL), LUGO_OK);
  lugo_close(r);  /* ASan: heap-use-after-free in sq_pop */
}

/* ---------------------------------------------------------------------
** 4. An interrupted Cond.Wait raises without the mutex (cwait_k), but the
** canonical pattern mu:With(function() ... c:Wait() ... end) then unlocks
** in With's error path a mutex that another goroutine holds by now.
** ------------------------------------------------------------------- */

static void test_with_cond_interrupt(void) {
  lugo_options o;
  lugo_runtime *r;
  lua_State *L;
  lugo_goid id;
  char *msg = NULL;
  int st;
  lugo_options_init(&o);
  o.procs = 2;
  r = lugo_new(&o);
  L = lugo_newstate(r);
  CU_ASSERT(luaL_loadstring(L,
    "local mu = sync.Mutex()\n"
    "local c = sync.Cond(mu)\n"
    "local go_, release = chan(), chan()\n"
    "go(function(mu, go_, release)\n"
    "  go_:recv() mu:Lock()      -- ours once the main goroutine Waits\n"
    "  release:recv() mu:Unlock()\n"
    "end, mu, go_, release)\n"
    "local ok, err = pcall(mu.With, mu, function() go_:send(true) c:Wait() end)\n"
    "assert(not ok, 'expected the interrupt')\n"
    "local two = mu:TryLock()  -- the other goroutine still holds mu\n"
    "release:send(true)\n"
    "assert(not two, 'With unlocked a mutex held by another goroutine')\n") == LUA_OK);
  lugo_hold(r);  /* we will interrupt it: not a deadlock */
  CHECK_EQ(lugo_spawn(r, L, 0, &id), LUGO_OK);
  usleep(200000);
  CHECK_EQ(lugo_interrupt(r, id, "interrupted by the host"), 1);
  lugo_release(r);
  st = lugo_wait(r, id, &msg);
  if (st != LUGO_OK && msg) fprintf(stderr, "\n  %s\n", msg);
  CHECK_EQ(st, LUGO_OK);
  free(msg);
  lugo_close(r);
}

int main(void) {
  static const cutest tests[] = {
    {"cond ERR path vs interrupt", test_cond_err_vs_interrupt},
    {"waitgroup early wake", test_wg_early_wake},
    {"With + interrupted Cond.Wait", test_with_cond_interrupt},
    {"close with goroutines parked on sync objects", test_close_with_sync_parked},
    {NULL, NULL}
  };
  return cutil_run("review", tests);
}
