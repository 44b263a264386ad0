/*
** timer.c -- a 4-ary min-heap of timers ordered by (when, seq).
**
** Each heap slot carries its timer's key, so sifting compares within the
** array (4 children share one or two cache lines) and touches a timer
** only to record its new index: with a million timers pending that is a
** few cache misses per insert or delete, not one per comparison.  Four
** children halve the depth of a binary heap (Go's timers are 4-ary too).
**
** Invariants (guarded by ts->lock): heap[i].t->idx == i for pending timers,
** idx == -1 otherwise; heap[i].when/.seq == heap[i].t->when/->seq; `count` = pending + the one being fired, so a timer
** in flight still keeps the program from looking deadlocked until its fire
** function (which readies a goroutine or sends on a channel) has returned.
** Called by any thread.  Timers fire on whichever thread runs the heap,
** one at a time (`running`): sysmon, or an M at a scheduling point, as Go's
** Ps check their timers in schedule().  An M that fires a sleeper's timer
** puts the goroutine in its own P's runnext, so a goroutine woken by a
** timer does not wait behind a long local run queue for the global one
** (polled every 61 ticks) as it did when only sysmon fired timers.
*/
#include "timer.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "atomic.h"
#include "scheduler.h"

typedef struct slot {
  int64_t when;
  uint64_t seq;
  lugo_timer *t;
} slot;

struct lugo_timers {
  pthread_mutex_t lock;
  slot *heap;          /* guarded by lock */
  int n, cap;          /* guarded by lock */
  uint64_t seq;        /* guarded by lock */
  lugo_aptr firing;    /* the timer whose fire function runs: written
                          under lock, read atomically without it */
  lugo_aint count;     /* atomic: pending + firing */
  lugo_ai64 first;     /* atomic: the earliest deadline, INT64_MAX if
                          none; written under lock */
  lugo_aint running;   /* atomic: a thread is in lugo__timers_run */
};

/* Caller holds ts->lock: publish the earliest deadline. */
static void setfirst(lugo_timers *ts) {
  lugo_store(&ts->first, ts->n > 0 ? ts->heap[0].when : INT64_MAX);
}

lugo_timers *lugo__timers_new(void) {
  lugo_timers *ts = (lugo_timers *)calloc(1, sizeof(*ts));
  if (ts) {
    pthread_mutex_init(&ts->lock, NULL);
    lugo_store(&ts->first, INT64_MAX);
  }
  return ts;
}

void lugo__timers_free(lugo_timers *ts) {
  int i;
  if (ts == NULL) return;
  for (i = 0; i < ts->n; i++) {
    lugo_timer *t = ts->heap[i].t;
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

static int less(const slot *a, const slot *b) {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(lugo_timers *ts, int i, slot e) {
  ts->heap[i] = e;
  e.t->idx = i;
}

static void up(lugo_timers *ts, int i) {
  slot e = ts->heap[i];
  while (i > 0) {
    int parent = (i - 1) / 4;
    if (!less(&e, &ts->heap[parent])) break;
    place(ts, i, ts->heap[parent]);
    i = parent;
  }
  place(ts, i, e);
}

static void down(lugo_timers *ts, int i) {
  slot e = ts->heap[i];
  for (;;) {
    int c = 4 * i + 1, k, end, min;
    if (c >= ts->n) break;
    end = c + 4 < ts->n ? c + 4 : ts->n;
    for (min = c, k = c + 1; k < end; k++)
      if (less(&ts->heap[k], &ts->heap[min])) min = k;
    if (!less(&ts->heap[min], &e)) break;
    place(ts, i, ts->heap[min]);
    i = min;
  }
  place(ts, i, e);
}

static void removeat(lugo_timers *ts, int i) {
  slot last = ts->heap[--ts->n];
  ts->heap[i].t->idx = -1;
  if (i < ts->n) {
    place(ts, i, last);
    down(ts, i);
    up(ts, last.t->idx);
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
    slot *h = (slot *)realloc(ts->heap, (size_t)cap * sizeof(*h));
    if (h == NULL) abort();  /* throw: out of memory */
    ts->heap = h;
    ts->cap = cap;
  }
  {
    slot e;
    e.when = t->when = when;
    e.seq = t->seq = ts->seq++;
    e.t = t;
    place(ts, ts->n++, e);
  }
  up(ts, t->idx);
  first = t->idx == 0;
  setfirst(ts);
  lugo_xadd(&ts->count, 1);
  pthread_mutex_unlock(&ts->lock);
  return first;
}

int lugo__timer_del(lugo_timers *ts, lugo_timer *t) {
  int was = 0;
  for (;;) {
    int busy;
    pthread_mutex_lock(&ts->lock);
    if (t->idx >= 0) {
      removeat(ts, t->idx);
      setfirst(ts);
      lugo_xadd(&ts->count, -1);
      was = 1;
    }
    /* under the lock, as firing changes only under it: a fire that ended
    ** after we looked may have armed t again (a ticker) */
    busy = lugo_load(&ts->firing) == (void *)t;
    pthread_mutex_unlock(&ts->lock);
    if (!busy) return was;
    while (lugo_load(&ts->firing) == (void *)t) sched_yield();
  }
}

int64_t lugo__timers_run(lugo_timers *ts, int64_t now) {
  int64_t next = -1;
  if (!lugo_cas(&ts->running, 0, 1)) {  /* another thread fires them */
    int64_t f = lugo_load(&ts->first);
    return f == INT64_MAX ? -1 : f;
  }
  pthread_mutex_lock(&ts->lock);
  while (ts->n > 0) {
    lugo_timer *t = ts->heap[0].t;
    if (ts->heap[0].when > now) {
      next = ts->heap[0].when;
      break;
    }
    removeat(ts, 0);
    setfirst(ts);
    lugo_store(&ts->firing, t);
    pthread_mutex_unlock(&ts->lock);
    t->fire(t);
    pthread_mutex_lock(&ts->lock);
    lugo_store(&ts->firing, NULL);
    lugo_xadd(&ts->count, -1);
  }
  pthread_mutex_unlock(&ts->lock);
  lugo_store(&ts->running, 0);
  return next;
}

void lugo__timers_poll(lugo_runtime *rt) {
  lugo_timers *ts = rt->timers;
  int64_t now;
  if (ts == NULL || lugo_load_relaxed(&ts->first) == INT64_MAX) return;
  now = lugo__nanotime();
  if (now >= lugo_load(&ts->first)) lugo__timers_run(ts, now);
}

int lugo__timers_count(lugo_timers *ts) { return lugo_load(&ts->count); }

int lugo__timers_pending(lugo_runtime *rt) {
  return rt->timers ? lugo__timers_count(rt->timers) : 0;
}
