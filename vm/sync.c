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

#include <stddef.h>
#include <stdlib.h>

#include "sema.h"

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

/* ready a private list of taken waiters (linked by next), after lk */
static void readyall(lugo_swaiter *list) {
  while (list) {
    lugo_swaiter *w = list;
    list = w->next;
    w->next = NULL;
    lugo__ready(w->g);
  }
}

/* g waits: queue its waiter and make the park winnable (holding lk) */
static void sq_wait(lugo_squeue *q, lugo_G *g, int front, lugo_obj *obj) {
  lugo_swaiter *w = &g->sw;
  w->g = g;
  w->ticket = 0;
  w->obj = obj;
  sq_push(q, w, front);
  lugo__park_publish(g);
}

/* ---------------------------------------------------------------------
** objects: zeroed, with their lock ready
** ------------------------------------------------------------------- */

static void *newlocked(size_t size, const lugo_objtype *t, size_t lkoff) {
  char *o = (char *)calloc(1, size);
  if (o == NULL) return NULL;
  lugo__obj_init((lugo_obj *)o, t);
  pthread_mutex_init((pthread_mutex_t *)(void *)(o + lkoff), NULL);
  return o;
}

static void freelocked(void *o, pthread_mutex_t *lk) {
  pthread_mutex_destroy(lk);
  free(o);
}

/* ---------------------------------------------------------------------
** Mutex
** ------------------------------------------------------------------- */

lugo_mutex *lugo__mutex_new(void) {
  return (lugo_mutex *)newlocked(sizeof(lugo_mutex), &lugo__mutex_type, offsetof(lugo_mutex, lk));
}

void lugo__mutex_free(lugo_obj *o) {
  freelocked(o, &((lugo_mutex *)o)->lk);
}

/* holding lk: the queue changed; keep MU_WAITERS in step */
static void mu_setwaiters(lugo_mutex *m) {
  int s = lugo_load(&m->state), want;
  do {
    want = m->q.first ? (s | MU_WAITERS) : (s & ~MU_WAITERS);
  } while (want != s && !atomic_compare_exchange_weak(&m->state, &s, want));
}

/* g (not NULL) waited before: it goes back to the front, keeping its
** place in time, as Go's requeued waiter does.  Under lk, one CAS either
** takes the lock (if free: never past a starving waiter, as a handoff
** keeps MU_LOCKED set) or sets MU_WAITERS while it is held, so the
** holder's Unlock cannot slip through its fast path and miss the waiter. */
static int mu_lockslow(lugo_mutex *m, lugo_G *g, int again) {
  int s;
  pthread_mutex_lock(&m->lk);
  s = lugo_load(&m->state);
  for (;;) {
    if (!(s & MU_LOCKED)) {
      if (atomic_compare_exchange_weak(&m->state, &s, s | MU_LOCKED)) {
        pthread_mutex_unlock(&m->lk);
        return LUGO_SYNC_DONE;
      }
    } else if (g == NULL) {
      pthread_mutex_unlock(&m->lk);
      return LUGO_SYNC_BLOCK;
    } else if (atomic_compare_exchange_weak(&m->state, &s, s | MU_WAITERS)) {
      break;
    }
  }
  if (!again) g->sw.since = lugo__nanotime();
  sq_wait(&m->q, g, again, &m->obj);
  pthread_mutex_unlock(&m->lk);
  return LUGO_SYNC_PARKED;
}

int lugo__mutex_lock(lugo_mutex *m, lugo_G *g, int again) {
  if (lugo__mutex_fastlock(m)) return LUGO_SYNC_DONE;
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
  if (lugo__mutex_fastunlock(m)) return LUGO_SYNC_DONE;
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
  return (lugo_waitgroup *)newlocked(sizeof(lugo_waitgroup), &lugo__waitgroup_type, offsetof(lugo_waitgroup, lk));
}

void lugo__wg_free(lugo_obj *o) {
  freelocked(o, &((lugo_waitgroup *)o)->lk);
}

int lugo__wg_add(lugo_waitgroup *wg, int64_t delta, int64_t *old) {
  int64_t c = lugo_load(&wg->count);
  lugo_swaiter *w, *woken = NULL;
  for (;;) {
    if (c + delta < 0) return LUGO_SYNC_ERR;
    if (old != NULL) *old = c;
    if (c + delta != 0 || delta == 0) {  /* not to zero: one CAS */
      if (atomic_compare_exchange_weak(&wg->count, &c, c + delta))
        return LUGO_SYNC_DONE;
      continue;
    }
    /* to zero: under lk, so the waiters woken are exactly those that
    ** queued (under lk) while the counter was above zero; a Wait after
    ** a later Add(n) from zero must not be woken by this Done */
    pthread_mutex_lock(&wg->lk);
    if (atomic_compare_exchange_strong(&wg->count, &c, 0)) break;
    pthread_mutex_unlock(&wg->lk);
  }
  while ((w = sq_pop(&wg->q)) != NULL) {
    w->next = woken;  /* a private list, readied after unlock */
    woken = w;
  }
  pthread_mutex_unlock(&wg->lk);
  readyall(woken);
  return LUGO_SYNC_DONE;
}

int lugo__wg_wait(lugo_waitgroup *wg, lugo_G *g, int *first) {
  if (lugo_load(&wg->count) == 0) return LUGO_SYNC_DONE;
  if (g == NULL) return LUGO_SYNC_BLOCK;
  pthread_mutex_lock(&wg->lk);
  if (lugo_load(&wg->count) == 0) {
    pthread_mutex_unlock(&wg->lk);
    return LUGO_SYNC_DONE;
  }
  if (first != NULL) *first = wg->q.first == NULL;
  sq_wait(&wg->q, g, 0, &wg->obj);
  pthread_mutex_unlock(&wg->lk);
  return LUGO_SYNC_PARKED;
}

void lugo__wg_cancel(lugo_waitgroup *wg, lugo_G *g) {
  pthread_mutex_lock(&wg->lk);
  if (g->sw.queued) sq_unlink(&wg->q, &g->sw);
  pthread_mutex_unlock(&wg->lk);
}

/* ---------------------------------------------------------------------
** RWMutex.  State word: RW_WRITER, RW_WAIT while a waiter is queued
** (either queue), and the number of active readers times RW_READER.  The
** fast paths (RLock with neither WRITER nor WAIT; Lock from 0; Unlock
** from exactly WRITER; any RUnlock that leaves no reader with WAIT set)
** are one CAS; everything else happens under lk, where the queues are.
** Readers queue only behind a writer (active or waiting), so a waiting
** writer is never starved by a stream of readers.
** ------------------------------------------------------------------- */

enum { RW_WRITER = 1, RW_WAIT = 2 };
#define RW_READER ((int64_t)4)
#define RW_READERS(s) ((s) >> 2)

lugo_rwmutex *lugo__rw_new(void) {
  return (lugo_rwmutex *)newlocked(sizeof(lugo_rwmutex), &lugo__rwmutex_type, offsetof(lugo_rwmutex, lk));
}

void lugo__rw_free(lugo_obj *o) {
  freelocked(o, &((lugo_rwmutex *)o)->lk);
}

/* holding lk: change the state by add (readers) and set (bits), with
** RW_WAIT recomputed from the queues */
static void rw_update(lugo_rwmutex *rw, int64_t add, int64_t set) {
  int64_t s = lugo_load(&rw->state), n;
  do {
    n = ((s + add) | set) & ~(int64_t)RW_WAIT;
    if (rw->rq.first || rw->wq.first) n |= RW_WAIT;
  } while (!atomic_compare_exchange_weak(&rw->state, &s, n));
}

/* holding lk: let waiters in if they can go now.  Queued readers first
** when readers (a writer just left and they waited behind it), else the
** first writer once nobody holds the lock, else (no writer waiting) every
** queued reader.  The waiters to ready are returned as a list. */
static lugo_swaiter *rw_admit(lugo_rwmutex *rw, int readers) {
  int64_t s = lugo_load(&rw->state);
  lugo_swaiter *w, *list = NULL;
  int n = 0;
  if (s & RW_WRITER) return NULL;  /* its Unlock will do it */
  if (!readers && rw->wq.first) {
    if (RW_READERS(s) > 0) return NULL;  /* the last RUnlock will */
    if ((w = sq_pop(&rw->wq)) != NULL) {
      w->ticket = 1;  /* handed over: RW_WRITER is set for it */
      w->next = NULL;
      rw_update(rw, 0, RW_WRITER);
      return w;
    }
  }
  while ((w = sq_pop(&rw->rq)) != NULL) {
    w->ticket = 1;  /* counted as a reader for it */
    w->next = list;
    list = w;
    n++;
  }
  rw_update(rw, n * RW_READER, 0);
  if (n == 0 && rw->wq.first && RW_READERS(lugo_load(&rw->state)) == 0)
    return rw_admit(rw, 0);  /* the readers had all gone: the writer */
  return list;
}

/* The slow path, under lk: one CAS either takes the lock or sets RW_WAIT
** while it cannot be taken, so no fast path slips past a waiter that is
** about to queue.  A reader may go in when no writer holds or waits (then
** no reader is queued either); a writer when nobody holds or waits. */
static int rw_slow(lugo_rwmutex *rw, lugo_G *g, int read) {
  int64_t s;
  pthread_mutex_lock(&rw->lk);
  s = lugo_load(&rw->state);
  for (;;) {
    int canin = read ? !(s & RW_WRITER) && rw->wq.first == NULL
                     : (s & ~(int64_t)RW_WAIT) == 0 && rw->wq.first == NULL &&
                       rw->rq.first == NULL;
    if (canin) {
      if (atomic_compare_exchange_weak(&rw->state, &s,
                                       read ? s + RW_READER : s | RW_WRITER)) {
        pthread_mutex_unlock(&rw->lk);
        return LUGO_SYNC_DONE;
      }
    } else if (g == NULL) {
      pthread_mutex_unlock(&rw->lk);
      return LUGO_SYNC_BLOCK;
    } else if (atomic_compare_exchange_weak(&rw->state, &s, s | RW_WAIT)) {
      break;
    }
  }
  sq_wait(read ? &rw->rq : &rw->wq, g, 0, &rw->obj);
  pthread_mutex_unlock(&rw->lk);
  return LUGO_SYNC_PARKED;
}

int lugo__rw_rlock(lugo_rwmutex *rw, lugo_G *g) {
  int64_t s = lugo_load(&rw->state);
  while (!(s & (RW_WRITER | RW_WAIT)))
    if (atomic_compare_exchange_weak(&rw->state, &s, s + RW_READER))
      return LUGO_SYNC_DONE;
  return rw_slow(rw, g, 1);
}

int lugo__rw_lock(lugo_rwmutex *rw, lugo_G *g) {
  if (lugo_cas(&rw->state, 0, RW_WRITER)) return LUGO_SYNC_DONE;
  return rw_slow(rw, g, 0);
}

int lugo__rw_unlock(lugo_rwmutex *rw) {
  lugo_swaiter *list;
  if (lugo_cas(&rw->state, RW_WRITER, 0)) return LUGO_SYNC_DONE;
  pthread_mutex_lock(&rw->lk);
  if (!(lugo_load(&rw->state) & RW_WRITER)) {
    pthread_mutex_unlock(&rw->lk);
    return LUGO_SYNC_ERR;
  }
  atomic_fetch_and(&rw->state, ~(int64_t)RW_WRITER);
  list = rw_admit(rw, rw->rq.first != NULL);
  pthread_mutex_unlock(&rw->lk);
  readyall(list);
  return LUGO_SYNC_DONE;
}

int lugo__rw_runlock(lugo_rwmutex *rw) {
  int64_t s = lugo_load(&rw->state);
  lugo_swaiter *list;
  do {
    if (RW_READERS(s) == 0) return LUGO_SYNC_ERR;
  } while (!atomic_compare_exchange_weak(&rw->state, &s, s - RW_READER));
  if (RW_READERS(s) > 1 || !(s & RW_WAIT)) return LUGO_SYNC_DONE;
  pthread_mutex_lock(&rw->lk);  /* the last reader, someone waiting */
  list = rw_admit(rw, 0);
  pthread_mutex_unlock(&rw->lk);
  readyall(list);
  return LUGO_SYNC_DONE;
}

void lugo__rw_cancel(lugo_rwmutex *rw, lugo_G *g) {
  lugo_swaiter *list = NULL;
  pthread_mutex_lock(&rw->lk);
  if (g->sw.queued) {
    /* which queue: a writer leaving may let the readers behind it in */
    lugo_swaiter *w;
    int inrq = 0;
    for (w = rw->rq.first; w; w = w->next)
      if (w == &g->sw) inrq = 1;
    sq_unlink(inrq ? &rw->rq : &rw->wq, &g->sw);
    rw_update(rw, 0, 0);
    if (!inrq) list = rw_admit(rw, 0);
  }
  pthread_mutex_unlock(&rw->lk);
  readyall(list);
}

/* ---------------------------------------------------------------------
** Once: the Lua binding runs fn holding the mutex; done is set after
** ------------------------------------------------------------------- */

lugo_once *lugo__once_new(void) {
  return (lugo_once *)newlocked(sizeof(lugo_once), &lugo__once_type,
                                offsetof(lugo_once, mu.lk));
}

void lugo__once_free(lugo_obj *o) {
  freelocked(o, &((lugo_once *)o)->mu.lk);
}

/* ---------------------------------------------------------------------
** Cond: a FIFO of waiters.  Wait queues before it unlocks the mutex, so
** a Signal between the two is not lost.
** ------------------------------------------------------------------- */

lugo_cond *lugo__cond_new(lugo_mutex *mu) {
  lugo_cond *c = (lugo_cond *)newlocked(sizeof(lugo_cond), &lugo__cond_type,
                                        offsetof(lugo_cond, lk));
  if (c == NULL) return NULL;
  lugo__obj_grab(&mu->obj);
  c->mu = mu;
  return c;
}

void lugo__cond_free(lugo_obj *o) {
  lugo__obj_release(&((lugo_cond *)o)->mu->obj);
  freelocked(o, &((lugo_cond *)o)->lk);
}

int lugo__cond_wait(lugo_cond *c, lugo_G *g) {
  if (!(lugo_load(&c->mu->state) & MU_LOCKED)) return LUGO_SYNC_ERR;
  pthread_mutex_lock(&c->lk);
  sq_wait(&c->q, g, 0, &c->obj);
  pthread_mutex_unlock(&c->lk);
  if (lugo__mutex_unlock(c->mu) != LUGO_SYNC_DONE) {
    /* unlocked by someone else meanwhile: take g back if we can claim
    ** its park ourselves.  The park was published: a Signal or an
    ** interrupt may have won it already, and will ready g; then g must
    ** park (the continuation sees what happened), never cancel. */
    int mine;
    pthread_mutex_lock(&c->lk);
    mine = g->sw.queued && lugo_cas(&g->parkwin, 0, 1);
    if (g->sw.queued) sq_unlink(&c->q, &g->sw);  /* mine, or interrupted */
    pthread_mutex_unlock(&c->lk);
    if (mine) return LUGO_SYNC_ERR;
  }
  return LUGO_SYNC_PARKED;
}

void lugo__cond_signal(lugo_cond *c, int all) {
  lugo_swaiter *w, *list = NULL;
  pthread_mutex_lock(&c->lk);
  while ((w = sq_pop(&c->q)) != NULL) {
    w->next = list;
    list = w;
    if (!all) break;
  }
  pthread_mutex_unlock(&c->lk);
  readyall(list);
}

void lugo__cond_cancel(lugo_cond *c, lugo_G *g) {
  pthread_mutex_lock(&c->lk);
  if (g->sw.queued) sq_unlink(&c->q, &g->sw);
  pthread_mutex_unlock(&c->lk);
}

/* ---------------------------------------------------------------------
** shutdown: a goroutine freed while queued on a sync object must leave
** the queue first (the object outlives it while other states close, and
** their finalizers or a WaitGroup.Go's Done walk the queue)
** ------------------------------------------------------------------- */

void lugo__sync_unpark(lugo_G *g) {
  lugo_obj *o = g->sw.obj;
  if (o == NULL || !g->sw.queued) return;  /* every M has stopped */
  if (o->type == &lugo__mutex_type || o->type == &lugo__once_type)
    lugo__mutex_cancel((lugo_mutex *)o, g);
  else if (o->type == &lugo__rwmutex_type)
    lugo__rw_cancel((lugo_rwmutex *)o, g);
  else if (o->type == &lugo__waitgroup_type)
    lugo__wg_cancel((lugo_waitgroup *)o, g);
  else if (o->type == &lugo__cond_type)
    lugo__cond_cancel((lugo_cond *)o, g);
  g->sw.obj = NULL;
}

/* ---------------------------------------------------------------------
** atomic.Value: the current value is an immutable refcounted copy;
** Store swaps the pointer under lk, Load takes a reference under lk and
** copies outside it
** ------------------------------------------------------------------- */

lugo_sval *lugo__sval_new(void) {
  lugo_sval *sv = (lugo_sval *)calloc(1, sizeof(*sv));
  if (sv != NULL) lugo_store_relaxed(&sv->refs, 1);
  return sv;
}

void lugo__sval_release(lugo_sval *sv) {
  if (sv && atomic_fetch_sub_explicit(&sv->refs, 1, memory_order_acq_rel) == 1) {
    lugo__value_free(&sv->v);
    free(sv);
  }
}

lugo_avalue *lugo__avalue_new(void) {
  return (lugo_avalue *)newlocked(sizeof(lugo_avalue), &lugo__value_type, offsetof(lugo_avalue, lk));
}

void lugo__avalue_free(lugo_obj *o) {
  lugo__sval_release(((lugo_avalue *)o)->cur);
  freelocked(o, &((lugo_avalue *)o)->lk);
}

lugo_sval *lugo__avalue_load(lugo_avalue *a) {
  lugo_sval *sv;
  pthread_mutex_lock(&a->lk);
  sv = a->cur;
  if (sv) atomic_fetch_add_explicit(&sv->refs, 1, memory_order_relaxed);
  pthread_mutex_unlock(&a->lk);
  return sv;
}

int lugo__avalue_store(lugo_avalue *a, lugo_sval *sv, int ltype) {
  lugo_sval *old;
  pthread_mutex_lock(&a->lk);
  if (a->cur != NULL && a->ltype != ltype) {
    pthread_mutex_unlock(&a->lk);
    return 0;
  }
  old = a->cur;
  a->cur = sv;
  a->ltype = ltype;
  pthread_mutex_unlock(&a->lk);
  lugo__sval_release(old);
  return 1;
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
