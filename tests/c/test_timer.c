/* test_timer.c -- the timer heap. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "atomic.h"
#include "cutil.h"
#include "timer.h"

static int order[1000], nfired;

static void record(lugo_timer *t) { order[nfired++] = (int)(long)t->arg; }

static void test_order_and_ties(void) {
  lugo_timers *ts = lugo__timers_new();
  lugo_timer t[6];
  int64_t when[6] = {50, 10, 30, 10, 20, 10};
  int i;
  nfired = 0;
  for (i = 0; i < 6; i++) {
    lugo__timer_init(&t[i]);
    t[i].fire = record;
    t[i].arg = (void *)(long)i;
    lugo__timer_add(ts, &t[i], when[i]);
  }
  CHECK_EQ(lugo__timers_count(ts), 6);
  CHECK_EQ(lugo__timers_run(ts, 5), 10);
  CHECK_EQ(nfired, 0);
  CHECK_EQ(lugo__timers_run(ts, 30), 50);
  CHECK_EQ(nfired, 5);
  /* ties (10) in the order they were added: 1, 3, 5 */
  CHECK_EQ(order[0], 1);
  CHECK_EQ(order[1], 3);
  CHECK_EQ(order[2], 5);
  CHECK_EQ(order[3], 4);
  CHECK_EQ(order[4], 2);
  CHECK_EQ(lugo__timers_run(ts, 100), -1);
  CHECK_EQ(order[5], 0);
  CHECK_EQ(lugo__timers_count(ts), 0);
  lugo__timers_free(ts);
}

static void test_delete(void) {
  lugo_timers *ts = lugo__timers_new();
  lugo_timer t[3];
  int i;
  nfired = 0;
  for (i = 0; i < 3; i++) {
    lugo__timer_init(&t[i]);
    t[i].fire = record;
    t[i].arg = (void *)(long)i;
    lugo__timer_add(ts, &t[i], 10 * (i + 1));
  }
  CHECK_EQ(lugo__timer_del(ts, &t[1]), 1);
  CHECK_EQ(lugo__timer_del(ts, &t[1]), 0);  /* not pending any more */
  lugo__timers_run(ts, 100);
  CHECK_EQ(nfired, 2);
  CHECK_EQ(order[0], 0);
  CHECK_EQ(order[1], 2);
  CHECK_EQ(lugo__timer_del(ts, &t[0]), 0);  /* already fired */
  lugo__timers_free(ts);
}

/* timers fire in non-decreasing order of deadline; deleted ones never */
static int64_t lastwhen;
static int bad;
static void check_order(lugo_timer *t) {
  if (t->when < lastwhen) bad++;
  lastwhen = t->when;
  nfired++;
}

/* n timers with random deadlines below span; every step-th of them (the
** i-th being t[(i * mul) % n]) deleted; the rest fire in order */
static void fire_in_order(int n, int span, unsigned seed, int step, int mul) {
  lugo_timers *ts = lugo__timers_new();
  lugo_timer *t = (lugo_timer *)calloc((size_t)n, sizeof(*t));
  int i, deleted = 0;
  srand(seed);
  nfired = 0;
  bad = 0;
  lastwhen = 0;
  for (i = 0; i < n; i++) {
    lugo__timer_init(&t[i]);
    t[i].fire = check_order;
    lugo__timer_add(ts, &t[i], rand() % span);
  }
  CHECK_EQ(lugo__timers_count(ts), n);
  for (i = 0; i < n; i += step)
    deleted += lugo__timer_del(ts, &t[(int)(((long long)i * mul) % n)]);
  lugo__timers_run(ts, span);
  CHECK_EQ(bad, 0);
  CHECK_EQ(nfired + deleted, n);
  CHECK_EQ(lugo__timers_count(ts), 0);
  lugo__timers_free(ts);
  free(t);
}

static void test_many(void) { fire_in_order(100000, 1000000, 7, 2, 7919); }

/* Stop and Reset racing the firing thread: a "ticker" fire arms its
** timer again.  Whenever del returns, the timer is neither pending nor
** firing, so its owner may free or re-arm it; the pending count stays
** exact. */
enum { NRACE = 8 };
static lugo_timer rt_[NRACE];
static lugo_aint inside[NRACE], stoprun, violations, fires;
static lugo_ai64 runnow;

static void race_fire(lugo_timer *t) {
  int i = (int)(long)t->arg, k;
  lugo_store(&inside[i], 1);
  for (k = 0; k < 50; k++) lugo_cpu_relax();
  /* a ticker arms itself for the runner's next round (missed ticks are
  ** skipped, as ltime.c does) */
  if (i % 2 == 0) lugo__timer_add((lugo_timers *)t->drop, t, lugo_load(&runnow) + 1);
  for (k = 0; k < 50; k++) lugo_cpu_relax();
  lugo_xadd(&fires, 1);
  lugo_store(&inside[i], 0);
}

static void *race_runner(void *arg) {
  lugo_timers *ts = (lugo_timers *)arg;
  while (!lugo_load(&stoprun)) lugo__timers_run(ts, lugo_xadd(&runnow, 3) + 3);
  return NULL;
}

static void test_del_races_fire(void) {
  lugo_timers *ts = lugo__timers_new();
  pthread_t th;
  int i, n;
  for (i = 0; i < NRACE; i++) {
    lugo__timer_init(&rt_[i]);
    rt_[i].fire = race_fire;
    rt_[i].arg = (void *)(long)i;
    rt_[i].drop = (void (*)(lugo_timer *))(void *)ts;  /* the heap, for
                                                         re-arming */
    lugo__timer_add(ts, &rt_[i], i);
  }
  pthread_create(&th, NULL, race_runner, ts);
  for (n = 0; n < 50000; n++) {
    i = n % NRACE;
    lugo__timer_del(ts, &rt_[i]);
    if (lugo_load(&inside[i]) || rt_[i].idx >= 0) lugo_xadd(&violations, 1);
    lugo__timer_add(ts, &rt_[i], lugo_load(&runnow) + n % 5);  /* Reset */
  }
  /* the runner may have had no CPU yet: let it fire some (a condition,
  ** not a time) */
  while (lugo_load(&fires) < 1000) {
    i = (int)(lugo_load(&fires) % NRACE);
    lugo__timer_del(ts, &rt_[i]);
    if (lugo_load(&inside[i]) || rt_[i].idx >= 0) lugo_xadd(&violations, 1);
    lugo__timer_add(ts, &rt_[i], lugo_load(&runnow));
    sched_yield();
  }
  for (i = 0; i < NRACE; i++) lugo__timer_del(ts, &rt_[i]);
  lugo_store(&stoprun, 1);
  pthread_join(th, NULL);
  CHECK_EQ(lugo_load(&violations), 0);
  CHECK_EQ(lugo__timers_count(ts), 0);
  CU_ASSERT(lugo_load(&fires) > 0);
  for (i = 0; i < NRACE; i++) rt_[i].drop = NULL;
  lugo__timers_free(ts);
}

/* a million pending timers: insert and delete stay O(log n) (this runs in
** well under a second; a linear structure would take minutes) and the
** survivors fire in order */
static void test_million(void) {
  fire_in_order(1000000, 100000, 11, 3, 1);  /* many ties */
}

int main(void) {
  static const cutest tests[] = {
    {"order and ties", test_order_and_ties}, {"delete", test_delete},
    {"100k timers", test_many}, {"del races fire", test_del_races_fire},
    {"a million timers", test_million}, {NULL, NULL}
  };
  return cutil_run("timer", tests);
}
