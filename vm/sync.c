/*
** sync.c -- Mutex and WaitGroup: wait queues of goroutines under a small
** OS lock, with one-CAS fast paths.  The ideas are Go's (sync/mutex.go:
** barging in normal mode, handoff to a waiter starved for 1 ms, a woken
** waiter requeued at the front); the shape is simpler, since every slow
** path holds the object's lock.
**
** Mutex state word: MU_LOCKED, and MU_WAITERS while the queue is not
** empty (set and cleared under lk).  With MU_WAITERS set the fast paths
** fail, so every Unlock that might have to wake someone takes lk.  In a
** handoff Unlock leaves MU_LOCKED set and gives the lock to the waiter
** (ticket): newcomers cannot barge in between.
*/
#include "sync.h"

#include <stdlib.h>

#include "sema.h"

enum { MU_LOCKED = 1, MU_WAITERS = 2 };

#define STARVE_NS 1000000  /* a waiter this long gets the lock handed over */

/* ---------------------------------------------------------------------
** wait queues (caller holds the object's lk)
** ------------------------------------------------------------------- */

static void sq_push(lugo_squeue *q, lugo_swaiter *w, int front) {
  if (front) {
    w->prev = NULL;
    w->next = q->first;
    if (q->first) q->first->prev = w; else q->last = w;
    q->first = w;
  } else {
    w->next = NULL;
    w->prev = q->last;
    if (q->last) q->last->next = w; else q->first = w;
    q->last = w;
  }
  w->queued = 1;
}

static void sq_unlink(lugo_squeue *q, lugo_swaiter *w) {
  if (w->prev) w->prev->next = w->next; else q->first = w->next;
  if (w->next) w->next->prev = w->prev; else q->last = w->prev;
  w->next = w->prev = NULL;
  w->queued = 0;
}

/* Take the first waiter whose park we win; those whose park was won
** elsewhere (an interrupt) leave the queue and clean up after themselves. */
static lugo_swaiter *sq_pop(lugo_squeue *q) {
  lugo_swaiter *w;
  while ((w = q->first) != NULL) {
    sq_unlink(q, w);
    if (lugo_cas(&w->g->parkwin, 0, 1)) return w;
  }
  return NULL;
}

/* g waits: queue its waiter and make the park winnable (holding lk) */
static void sq_wait(lugo_squeue *q, lugo_G *g, int front) {
  lugo_swaiter *w = &g->sw;
  w->g = g;
  w->ticket = 0;
  sq_push(q, w, front);
  lugo__park_publish(g);
}

/* ---------------------------------------------------------------------
** Mutex
** ------------------------------------------------------------------- */

lugo_mutex *lugo__mutex_new(void) {
  lugo_mutex *m = (lugo_mutex *)calloc(1, sizeof(*m));
  if (m == NULL) return NULL;
  lugo__obj_init(&m->obj, &lugo__mutex_type);
  pthread_mutex_init(&m->lk, NULL);
  return m;
}

void lugo__mutex_free(lugo_obj *o) {
  lugo_mutex *m = (lugo_mutex *)o;
  pthread_mutex_destroy(&m->lk);
  free(m);
}

/* holding lk: the queue changed; keep MU_WAITERS in step */
static void mu_setwaiters(lugo_mutex *m) {
  int s = lugo_load(&m->state), want;
  do {
    want = m->q.first ? (s | MU_WAITERS) : (s & ~MU_WAITERS);
  } while (want != s && !atomic_compare_exchange_weak(&m->state, &s, want));
}

/* holding lk: take the lock if it is free (never past a starving waiter:
** a handoff keeps MU_LOCKED set) */
static int mu_trylock(lugo_mutex *m) {
  int s = lugo_load(&m->state);
  while (!(s & MU_LOCKED))
    if (atomic_compare_exchange_weak(&m->state, &s, s | MU_LOCKED)) return 1;
  return 0;
}

/* g (not NULL) waited before: it goes back to the front, keeping its
** place in time, as Go's requeued waiter does */
static int mu_lockslow(lugo_mutex *m, lugo_G *g, int again) {
  pthread_mutex_lock(&m->lk);
  if (mu_trylock(m)) {
    pthread_mutex_unlock(&m->lk);
    return LUGO_SYNC_DONE;
  }
  if (g == NULL) {
    pthread_mutex_unlock(&m->lk);
    return LUGO_SYNC_BLOCK;
  }
  if (!again) g->sw.since = lugo__nanotime();
  sq_wait(&m->q, g, again);
  mu_setwaiters(m);
  pthread_mutex_unlock(&m->lk);
  return LUGO_SYNC_PARKED;
}

int lugo__mutex_lock(lugo_mutex *m, lugo_G *g, int again) {
  if (lugo_cas(&m->state, 0, MU_LOCKED)) return LUGO_SYNC_DONE;
  return mu_lockslow(m, g, again);
}

int lugo__mutex_woken(lugo_mutex *m, lugo_G *g) {
  int handed;
  pthread_mutex_lock(&m->lk);
  handed = g->sw.ticket;  /* if so, MU_LOCKED was left set for it */
  if (!handed) m->woken = 0;
  pthread_mutex_unlock(&m->lk);
  return handed;
}

/* holding lk, MU_LOCKED set: release it to the queue.  Returns the waiter
** to ready after lk is released, or NULL. */
static lugo_swaiter *mu_release(lugo_mutex *m) {
  lugo_swaiter *w;
  int64_t now;
  if (m->q.first == NULL) {
    lugo_store(&m->state, 0);
    return NULL;
  }
  now = lugo__nanotime();
  if (now - m->q.first->since > STARVE_NS && (w = sq_pop(&m->q)) != NULL) {
    w->ticket = 1;  /* handoff: MU_LOCKED stays, now the waiter's */
    mu_setwaiters(m);
    return w;
  }
  /* normal mode: unlock, and wake one waiter to compete unless one is
  ** already on its way */
  w = m->woken ? NULL : sq_pop(&m->q);
  if (w) m->woken = 1;
  lugo_store(&m->state, m->q.first ? MU_WAITERS : 0);
  return w;
}

int lugo__mutex_unlock(lugo_mutex *m) {
  lugo_swaiter *w;
  if (lugo_cas(&m->state, MU_LOCKED, 0)) return LUGO_SYNC_DONE;
  pthread_mutex_lock(&m->lk);
  if (!(lugo_load(&m->state) & MU_LOCKED)) {
    pthread_mutex_unlock(&m->lk);
    return LUGO_SYNC_ERR;
  }
  w = mu_release(m);
  pthread_mutex_unlock(&m->lk);
  if (w) lugo__ready(w->g);
  return LUGO_SYNC_DONE;
}

void lugo__mutex_cancel(lugo_mutex *m, lugo_G *g) {
  /* the interrupt won the park, so no waker gave g the lock or a wake-up
  ** (both need the park): leaving the queue is all */
  pthread_mutex_lock(&m->lk);
  if (g->sw.queued) {
    sq_unlink(&m->q, &g->sw);
    mu_setwaiters(m);
  }
  pthread_mutex_unlock(&m->lk);
}

/* ---------------------------------------------------------------------
** WaitGroup: the counter is an atomic; waiters queue under lk and the Add
** that brings the counter to zero wakes them all.  Checking the counter
** under lk before queueing closes the race with that Add (which takes lk
** to wake).
** ------------------------------------------------------------------- */

lugo_waitgroup *lugo__wg_new(void) {
  lugo_waitgroup *wg = (lugo_waitgroup *)calloc(1, sizeof(*wg));
  if (wg == NULL) return NULL;
  lugo__obj_init(&wg->obj, &lugo__waitgroup_type);
  pthread_mutex_init(&wg->lk, NULL);
  return wg;
}

void lugo__wg_free(lugo_obj *o) {
  lugo_waitgroup *wg = (lugo_waitgroup *)o;
  pthread_mutex_destroy(&wg->lk);
  free(wg);
}

int lugo__wg_add(lugo_waitgroup *wg, int64_t delta) {
  int64_t c = lugo_load(&wg->count);
  lugo_swaiter *w, *woken = NULL;
  do {
    if (c + delta < 0) return LUGO_SYNC_ERR;
  } while (!atomic_compare_exchange_weak(&wg->count, &c, c + delta));
  if (c + delta != 0 || delta == 0) return LUGO_SYNC_DONE;
  pthread_mutex_lock(&wg->lk);  /* zero: wake every waiter */
  while ((w = sq_pop(&wg->q)) != NULL) {
    w->next = woken;  /* a private list, readied after unlock */
    woken = w;
  }
  pthread_mutex_unlock(&wg->lk);
  while (woken) {
    w = woken;
    woken = w->next;
    w->next = NULL;
    lugo__ready(w->g);
  }
  return LUGO_SYNC_DONE;
}

int lugo__wg_wait(lugo_waitgroup *wg, lugo_G *g) {
  if (lugo_load(&wg->count) == 0) return LUGO_SYNC_DONE;
  if (g == NULL) return LUGO_SYNC_BLOCK;
  pthread_mutex_lock(&wg->lk);
  if (lugo_load(&wg->count) == 0) {
    pthread_mutex_unlock(&wg->lk);
    return LUGO_SYNC_DONE;
  }
  sq_wait(&wg->q, g, 0);
  pthread_mutex_unlock(&wg->lk);
  return LUGO_SYNC_PARKED;
}

void lugo__wg_cancel(lugo_waitgroup *wg, lugo_G *g) {
  pthread_mutex_lock(&wg->lk);
  if (g->sw.queued) sq_unlink(&wg->q, &g->sw);
  pthread_mutex_unlock(&wg->lk);
}

/* ---------------------------------------------------------------------
** atomics
** ------------------------------------------------------------------- */

lugo_atomic *lugo__atomic_new(const lugo_objtype *t, int64_t v) {
  lugo_atomic *a = (lugo_atomic *)calloc(1, sizeof(*a));
  if (a == NULL) return NULL;
  lugo__obj_init(&a->obj, t);
  lugo_store(&a->v, v);
  return a;
}

void lugo__atomic_free(lugo_obj *o) {
  free(o);
}
