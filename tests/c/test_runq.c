/* test_runq.c -- the lock-free local run queue. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cutil.h"
#include "runq.h"

typedef struct lugo_G G;
#define FAKE(i) ((G *)(uintptr_t)(((i) + 1) * 16))
#define IDX(g) ((int)((uintptr_t)(g) / 16) - 1)

static void test_fifo(void) {
  lugo_runq q;
  G *batch[LUGO_RUNQ_SIZE / 2 + 1];
  int i, inherit;
  lugo__runq_init(&q);
  CU_ASSERT_PTR_NULL(lugo__runq_get(&q, &inherit));
  for (i = 0; i < 100; i++) CHECK_EQ(lugo__runq_put(&q, FAKE(i), 0, batch), 0);
  CHECK_EQ(lugo__runq_len(&q), 100);
  for (i = 0; i < 100; i++) {
    G *g = lugo__runq_get(&q, &inherit);
    CHECK_EQ(IDX(g), i);
    CHECK_EQ(inherit, 0);
  }
  CU_ASSERT(lugo__runq_empty(&q));
}

static void test_runnext(void) {
  lugo_runq q;
  G *batch[LUGO_RUNQ_SIZE / 2 + 1];
  int inherit;
  lugo__runq_init(&q);
  lugo__runq_put(&q, FAKE(1), 0, batch);
  lugo__runq_put(&q, FAKE(2), 1, batch);
  lugo__runq_put(&q, FAKE(3), 1, batch);  /* displaces 2 to the ring */
  CHECK_EQ(IDX(lugo__runq_get(&q, &inherit)), 3);
  CHECK_EQ(inherit, 1);
  CHECK_EQ(IDX(lugo__runq_get(&q, &inherit)), 1);
  CHECK_EQ(IDX(lugo__runq_get(&q, &inherit)), 2);
  CU_ASSERT_PTR_NULL(lugo__runq_get(&q, &inherit));
}

static void test_overflow(void) {
  lugo_runq q;
  G *batch[LUGO_RUNQ_SIZE / 2 + 1];
  int i, n, inherit, seen = 0;
  lugo__runq_init(&q);
  for (i = 0; i < LUGO_RUNQ_SIZE; i++) CHECK_EQ(lugo__runq_put(&q, FAKE(i), 0, batch), 0);
  n = lugo__runq_put(&q, FAKE(LUGO_RUNQ_SIZE), 0, batch);
  CHECK_EQ(n, LUGO_RUNQ_SIZE / 2 + 1);
  for (i = 0; i < n - 1; i++) CHECK_EQ(IDX(batch[i]), i);  /* the oldest half */
  CHECK_EQ(IDX(batch[n - 1]), LUGO_RUNQ_SIZE);
  while (lugo__runq_get(&q, &inherit)) seen++;
  CHECK_EQ(seen, LUGO_RUNQ_SIZE / 2);
}

static void test_steal_half(void) {
  lugo_runq a, b;
  G *batch[LUGO_RUNQ_SIZE / 2 + 1], *g;
  int i, inherit, n = 0;
  lugo__runq_init(&a);
  lugo__runq_init(&b);
  for (i = 0; i < 10; i++) lugo__runq_put(&a, FAKE(i), 0, batch);
  g = lugo__runq_steal(&b, &a, 0);
  CHECK_EQ(IDX(g), 0);
  while (lugo__runq_get(&b, &inherit)) n++;
  CHECK_EQ(n, 4);  /* 5 stolen: one returned, four queued */
  CHECK_EQ(lugo__runq_len(&a), 5);
  /* runnext is stolen only when asked and the ring is empty */
  lugo__runq_init(&a);
  lugo__runq_put(&a, FAKE(7), 1, batch);
  CU_ASSERT_PTR_NULL(lugo__runq_steal(&b, &a, 0));
  CHECK_EQ(IDX(lugo__runq_steal(&b, &a, 1)), 7);
}

/* one owner putting and getting, two thieves stealing: every G is taken
** exactly once */
#define NITEMS 200000
static lugo_runq sq;
static unsigned char taken[NITEMS];
static _Atomic int done_putting;
static _Atomic long ntaken;

static void take(G *g) {
  int i = IDX(g);
  if (i < 0 || i >= NITEMS) abort();
  __atomic_fetch_add(&taken[i], 1, __ATOMIC_RELAXED);
  ntaken++;
}

static void *thief(void *arg) {
  lugo_runq mine;
  G *g;
  int inherit;
  (void)arg;
  lugo__runq_init(&mine);
  for (;;) {
    int fin = done_putting;
    g = lugo__runq_steal(&mine, &sq, 1);
    if (g) {
      take(g);
      while ((g = lugo__runq_get(&mine, &inherit)) != NULL) take(g);
    } else if (fin) {
      break;
    }
  }
  return NULL;
}

static void test_concurrent_steal(void) {
  pthread_t t[2];
  G *batch[LUGO_RUNQ_SIZE / 2 + 1], *g;
  int i, j, n, inherit, dup = 0, lost = 0;
  memset(taken, 0, sizeof(taken));
  lugo__runq_init(&sq);
  for (i = 0; i < 2; i++) pthread_create(&t[i], NULL, thief, NULL);
  for (i = 0; i < NITEMS; i++) {
    n = lugo__runq_put(&sq, FAKE(i), i % 3 == 0, batch);
    for (j = 0; j < n; j++) take(batch[j]);  /* "global queue" */
    if (i % 5 == 0 && (g = lugo__runq_get(&sq, &inherit)) != NULL) take(g);
  }
  while ((g = lugo__runq_get(&sq, &inherit)) != NULL) take(g);
  done_putting = 1;
  for (i = 0; i < 2; i++) pthread_join(t[i], NULL);
  while ((g = lugo__runq_get(&sq, &inherit)) != NULL) take(g);
  for (i = 0; i < NITEMS; i++) {
    if (taken[i] > 1) dup++;
    if (taken[i] == 0) lost++;
  }
  CHECK_EQ(dup, 0);
  CHECK_EQ(lost, 0);
  CHECK_EQ(ntaken, NITEMS);
}

int main(void) {
  static const cutest tests[] = {
    {"fifo", test_fifo}, {"runnext", test_runnext}, {"overflow", test_overflow},
    {"steal half", test_steal_half}, {"concurrent steal", test_concurrent_steal},
    {NULL, NULL}
  };
  return cutil_run("runq", tests);
}
