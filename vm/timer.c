/*
** timer.c -- a binary min-heap of timers ordered by (when, seq).
**
** Invariants (guarded by ts->lock): heap[i]->idx == i for pending timers,
** idx == -1 otherwise; `count` = pending + the one being fired, so a timer
** in flight still keeps the program from looking deadlocked until its fire
** function (which readies a goroutine or sends on a channel) has returned.
** Called by any thread; timers fire on sysmon's thread only.
*/
#include "timer.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "atomic.h"
#include "scheduler.h"

struct lugo_timers {
  pthread_mutex_t lock;
  lugo_timer **heap;   /* guarded by lock */
  int n, cap;          /* guarded by lock */
  uint64_t seq;        /* guarded by lock */
  lugo_aptr firing;    /* atomic: the timer whose fire function runs */
  lugo_aint count;     /* atomic: pending + firing */
};

lugo_timers *lugo__timers_new(void) {
  lugo_timers *ts = (lugo_timers *)calloc(1, sizeof(*ts));
  if (ts) pthread_mutex_init(&ts->lock, NULL);
  return ts;
}

void lugo__timers_free(lugo_timers *ts) {
  int i;
  if (ts == NULL) return;
  for (i = 0; i < ts->n; i++) {
    lugo_timer *t = ts->heap[i];
    t->idx = -1;
    if (t->drop) t->drop(t);
  }
  free(ts->heap);
  pthread_mutex_destroy(&ts->lock);
  free(ts);
}

void lugo__timer_init(lugo_timer *t) {
  t->idx = -1;
  t->when = 0;
  t->seq = 0;
  t->fire = NULL;
  t->drop = NULL;
  t->arg = NULL;
}

static int less(lugo_timer *a, lugo_timer *b) {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(lugo_timers *ts, int i, lugo_timer *t) {
  ts->heap[i] = t;
  t->idx = i;
}

static void up(lugo_timers *ts, int i) {
  lugo_timer *t = ts->heap[i];
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (!less(t, ts->heap[parent])) break;
    place(ts, i, ts->heap[parent]);
    i = parent;
  }
  place(ts, i, t);
}

static void down(lugo_timers *ts, int i) {
  lugo_timer *t = ts->heap[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= ts->n) break;
    if (c + 1 < ts->n && less(ts->heap[c + 1], ts->heap[c])) c++;
    if (!less(ts->heap[c], t)) break;
    place(ts, i, ts->heap[c]);
    i = c;
  }
  place(ts, i, t);
}

static void removeat(lugo_timers *ts, int i) {
  lugo_timer *last = ts->heap[--ts->n];
  ts->heap[i]->idx = -1;
  if (i < ts->n) {
    place(ts, i, last);
    down(ts, i);
    up(ts, last->idx);
  }
}

static int add(lugo_timers *ts, lugo_timer *t, int64_t when);

void lugo__timer_add(lugo_timers *ts, lugo_timer *t, int64_t when) {
  add(ts, t, when);
}

void lugo__timer_start(lugo_runtime *rt, lugo_timer *t, int64_t when) {
  if (add(rt->timers, t, when)) lugo__sysmon_kick(rt);
}

static int add(lugo_timers *ts, lugo_timer *t, int64_t when) {
  int first;
  pthread_mutex_lock(&ts->lock);
  if (ts->n == ts->cap) {
    int cap = ts->cap ? 2 * ts->cap : 64;
    lugo_timer **h = (lugo_timer **)realloc(ts->heap, (size_t)cap * sizeof(*h));
    if (h == NULL) abort();  /* throw: out of memory */
    ts->heap = h;
    ts->cap = cap;
  }
  t->when = when;
  t->seq = ts->seq++;
  place(ts, ts->n++, t);
  up(ts, t->idx);
  first = t->idx == 0;
  lugo_xadd(&ts->count, 1);
  pthread_mutex_unlock(&ts->lock);
  return first;
}

int lugo__timer_del(lugo_timers *ts, lugo_timer *t) {
  for (;;) {
    int was = 0;
    pthread_mutex_lock(&ts->lock);
    if (t->idx >= 0) {
      removeat(ts, t->idx);
      lugo_xadd(&ts->count, -1);
      was = 1;
    }
    pthread_mutex_unlock(&ts->lock);
    if (lugo_load(&ts->firing) != (void *)t) return was;
    /* firing: wait for it; if it had not armed t again yet (a ticker
    ** does, once per fire), look again */
    while (lugo_load(&ts->firing) == (void *)t) sched_yield();
    if (was) return 1;
  }
}

int64_t lugo__timers_run(lugo_timers *ts, int64_t now) {
  int64_t next = -1;
  for (;;) {
    lugo_timer *t;
    pthread_mutex_lock(&ts->lock);
    if (ts->n == 0) break;
    t = ts->heap[0];
    if (t->when > now) {
      next = t->when;
      break;
    }
    removeat(ts, 0);
    lugo_store(&ts->firing, t);
    pthread_mutex_unlock(&ts->lock);
    t->fire(t);
    lugo_store(&ts->firing, NULL);
    lugo_xadd(&ts->count, -1);
  }
  pthread_mutex_unlock(&ts->lock);
  return next;
}

int lugo__timers_count(lugo_timers *ts) { return lugo_load(&ts->count); }

int lugo__timers_pending(lugo_runtime *rt) {
  return rt->timers ? lugo__timers_count(rt->timers) : 0;
}
