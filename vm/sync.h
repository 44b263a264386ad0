/*
** sync.h -- the C core of package sync (Lua bindings in stdlib/lsync.c):
** goroutine wait queues, Mutex, WaitGroup; the atomics' objects.
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
/* Any thread.  DONE, or ERR (the counter would go negative: unchanged). */
int lugo__wg_add(lugo_waitgroup *wg, int64_t delta);
/* Any thread; as lugo__mutex_lock: DONE (counter zero) or PARKED. */
int lugo__wg_wait(lugo_waitgroup *wg, lugo_G *g);
/* Owner of g, after an interrupted park: leave the queue. */
void lugo__wg_cancel(lugo_waitgroup *wg, lugo_G *g);

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
