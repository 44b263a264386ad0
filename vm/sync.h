/*
** sync.h -- the C core of package sync (Lua bindings in stdlib/lsync.c):
** goroutine wait queues, Mutex, RWMutex, WaitGroup, Once, Cond; the
** atomics' objects.
**
** Each object has a small OS lock (lk) that guards its wait queue and its
** slow paths; the fast paths (an uncontended Lock/Unlock, an Add that
** wakes nobody) are one atomic operation on a state word and never touch
** lk.  Goroutines park with the scheduler's protocol (lugo__park_prepare,
** publish under lk, lugo__park) and are readied after lk is released;
** a waiter is completed only by whoever wins its goroutine's parkwin, so a
** park interrupted by the runtime ends exactly once and the waiter's own
** cleanup (under lk) sees what happened to it.
*/
#ifndef lugo_sync_h
#define lugo_sync_h

#include <pthread.h>
#include <stdint.h>

#include "obj.h"
#include "scheduler.h"

typedef struct lugo_squeue { lugo_swaiter *first, *last; } lugo_squeue;

/* results of blocking operations (as the channel ones) */
enum { LUGO_SYNC_DONE = 0, LUGO_SYNC_BLOCK, LUGO_SYNC_PARKED, LUGO_SYNC_ERR };

/* ---- Mutex: Go's fairness.  Normal mode: a woken waiter competes with
** newcomers; one that waited longer than 1 ms is handed the lock directly
** by the next Unlock (starvation mode), newcomers queueing behind it. */
typedef struct lugo_mutex {
  lugo_obj obj;
  lugo_aint state;      /* atomic: MU_LOCKED | MU_WAITERS */
  pthread_mutex_t lk;
  lugo_squeue q;        /* guarded by lk */
  int woken;            /* guarded by lk: a woken waiter is on its way */
} lugo_mutex;

enum { MU_LOCKED = 1, MU_WAITERS = 2 };

extern const lugo_objtype lugo__mutex_type;  /* stdlib/lsync.c */

lugo_mutex *lugo__mutex_new(void);            /* NULL: out of memory */
void lugo__mutex_free(lugo_obj *o);
/* Any thread; g NULL: try only (DONE or BLOCK).  With g (its park
** prepared): DONE, or PARKED with g queued (again: g waited before and
** goes back to the front of the queue). */
int lugo__mutex_lock(lugo_mutex *m, lugo_G *g, int again);
/* Owner of g, after its park: 1 if the lock was handed to it (it holds it
** now), else 0: it competes again (lugo__mutex_lock with again set). */
int lugo__mutex_woken(lugo_mutex *m, lugo_G *g);
/* Any thread.  DONE, or ERR if it was not locked. */
int lugo__mutex_unlock(lugo_mutex *m);

/* the one-CAS fast paths, inline for the bindings; 0: take the slow path */
static inline int lugo__mutex_fastlock(lugo_mutex *m) {
  return lugo_cas(&m->state, 0, MU_LOCKED);
}
static inline int lugo__mutex_fastunlock(lugo_mutex *m) {
  return lugo_cas(&m->state, MU_LOCKED, 0);
}
/* Owner of g, after an interrupted park: leave the queue. */
void lugo__mutex_cancel(lugo_mutex *m, lugo_G *g);

/* ---- WaitGroup */
typedef struct lugo_waitgroup {
  lugo_obj obj;
  lugo_ai64 count;      /* atomic */
  pthread_mutex_t lk;
  lugo_squeue q;        /* guarded by lk */
} lugo_waitgroup;

extern const lugo_objtype lugo__waitgroup_type;  /* stdlib/lsync.c */

lugo_waitgroup *lugo__wg_new(void);
void lugo__wg_free(lugo_obj *o);
/* Any thread.  DONE, or ERR (the counter would go negative: unchanged).
** *old (if not NULL) gets the counter it changed. */
int lugo__wg_add(lugo_waitgroup *wg, int64_t delta, int64_t *old);
/* Any thread; as lugo__mutex_lock: DONE (counter zero) or PARKED, then
** *first (if not NULL) says whether g is the only waiter. */
int lugo__wg_wait(lugo_waitgroup *wg, lugo_G *g, int *first);
/* Owner of g, after an interrupted park: leave the queue. */
void lugo__wg_cancel(lugo_waitgroup *wg, lugo_G *g);

/* ---- RWMutex: many readers or one writer; a waiting writer stops new
** readers (writers are not starved), and a writer's Unlock lets the
** readers that queued meanwhile in before the next writer. */
typedef struct lugo_rwmutex {
  lugo_obj obj;
  lugo_ai64 state;      /* atomic: RW_WRITER | RW_WWAIT | readers * RW_READER */
  pthread_mutex_t lk;
  lugo_squeue rq, wq;   /* guarded by lk: readers, writers */
} lugo_rwmutex;

extern const lugo_objtype lugo__rwmutex_type;

lugo_rwmutex *lugo__rw_new(void);
void lugo__rw_free(lugo_obj *o);
/* as lugo__mutex_lock: g NULL tries; after a park g holds what it asked
** for (the lock is handed over), unless interrupted (lugo__rw_cancel) */
int lugo__rw_lock(lugo_rwmutex *rw, lugo_G *g);
int lugo__rw_rlock(lugo_rwmutex *rw, lugo_G *g);
/* DONE, or ERR if not locked (for writing / for reading) */
int lugo__rw_unlock(lugo_rwmutex *rw);
int lugo__rw_runlock(lugo_rwmutex *rw);
void lugo__rw_cancel(lugo_rwmutex *rw, lugo_G *g);

/* ---- Once: a flag and a Mutex (first, so a Once is also a mutex to
** the Lock code; its obj header is the Once's) */
typedef struct lugo_once {
  lugo_mutex mu;
  lugo_aint done;       /* atomic */
} lugo_once;

extern const lugo_objtype lugo__once_type;

lugo_once *lugo__once_new(void);
void lugo__once_free(lugo_obj *o);

/* ---- Cond: waiters bound to a Mutex (Go's notify list, as a queue) */
typedef struct lugo_cond {
  lugo_obj obj;
  lugo_mutex *mu;       /* immutable; a reference */
  pthread_mutex_t lk;
  lugo_squeue q;        /* guarded by lk */
} lugo_cond;

extern const lugo_objtype lugo__cond_type;

lugo_cond *lugo__cond_new(lugo_mutex *mu);  /* grabs mu */
void lugo__cond_free(lugo_obj *o);
/* Owner of g, park prepared: queue g, then unlock the mutex.  PARKED, or
** ERR (the mutex was not locked: g is not queued). */
int lugo__cond_wait(lugo_cond *c, lugo_G *g);
/* Any thread: wake one / every waiter. */
void lugo__cond_signal(lugo_cond *c, int all);
void lugo__cond_cancel(lugo_cond *c, lugo_G *g);

/* Shutdown, every M stopped: take g off the sync queue it is on, if any
** (before g is freed: lugo__sched_free). */
void lugo__sync_unpark(lugo_G *g);

/* ---- a value kept for many readers (atomic.Value): refcounted, never
** changed once made, so readers copy it without a lock */
typedef struct lugo_sval {
  lugo_aint refs;
  lugo_value v;
} lugo_sval;

lugo_sval *lugo__sval_new(void);   /* refs 1, nil */
void lugo__sval_release(lugo_sval *sv);

typedef struct lugo_avalue {
  lugo_obj obj;
  pthread_mutex_t lk;
  lugo_sval *cur;       /* guarded by lk; NULL until the first Store */
  int ltype;            /* guarded by lk: the Lua type stored first */
} lugo_avalue;

extern const lugo_objtype lugo__value_type;

lugo_avalue *lugo__avalue_new(void);
void lugo__avalue_free(lugo_obj *o);
/* Any thread: a reference to the current value (NULL: none yet) */
lugo_sval *lugo__avalue_load(lugo_avalue *a);
/* Any thread: store sv (the reference passes to a) if its type is the
** first one's; returns 0 (then sv is still the caller's) if not */
int lugo__avalue_store(lugo_avalue *a, lugo_sval *sv, int ltype);

/* ---- atomics: atomic.Int64 and atomic.Bool (a 0/1 Int64) */
typedef struct lugo_atomic {
  lugo_obj obj;
  lugo_ai64 v;
} lugo_atomic;

extern const lugo_objtype lugo__int64_type;  /* stdlib/latomic.c */
extern const lugo_objtype lugo__bool_type;

lugo_atomic *lugo__atomic_new(const lugo_objtype *t, int64_t v);
void lugo__atomic_free(lugo_obj *o);

#endif
