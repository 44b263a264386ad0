/*
** event.h -- the one interface every synchronising event passes through,
** so the race detector and the tracer can observe them.  With no listener
** an event costs one predictable branch (LUGO_EVENT tests rt->evhook).
**
** rt->evhook and rt->evud are atomic: a host may set or clear the listener
** while goroutines run (lugo_trace_start/stop).  A thread may still call a
** listener it loaded just before it was cleared, perhaps with the evud of
** one set after it, so whoever clears one must keep what the listener
** touches alive, and the listener should not trust its ud blindly
** (trace.c keeps its state until lugo_close and finds it through rt).
*/
#ifndef lugo_event_h
#define lugo_event_h

#include "atomic.h"

struct lugo_runtime;

typedef enum lugo_event_kind {
  LUGO_EV_GO,       /* a: new goroutine id */
  LUGO_EV_SEND,     /* obj: channel */
  LUGO_EV_RECV,     /* obj: channel; a: 1 if a value, 0 if closed */
  LUGO_EV_CLOSE,    /* obj: channel */
  LUGO_EV_SELECT,   /* a: chosen case (0-based), -1 for default */
  LUGO_EV_BLOCK,    /* a goroutine parks; obj: reason string */
  LUGO_EV_WAKE,     /* a: id of the goroutine readied */
  LUGO_EV_END,      /* a goroutine ends */
  LUGO_EV_LOCK,     /* obj: sync.Mutex (or RWMutex, for writing) acquired */
  LUGO_EV_UNLOCK,   /* obj: sync.Mutex (or RWMutex, for writing) released */
  LUGO_EV_WGADD,    /* obj: WaitGroup; a: delta (Done: -1, a release) */
  LUGO_EV_WGWAIT,   /* obj: WaitGroup whose Wait returned (an acquire) */
  LUGO_EV_ATOMIC,   /* obj: atomic; a: 0 load, 1 store or read-modify-write */
  LUGO_EV_RLOCK,    /* obj: sync.RWMutex read-locked */
  LUGO_EV_RUNLOCK,  /* obj: sync.RWMutex read-unlocked */
  LUGO_EV_ONCE,     /* obj: sync.Once; a: 1 fn finished (a release), 0 Do
                       found it done (an acquire) */
  LUGO_EV_SIGNAL,   /* obj: sync.Cond; a: 1 Broadcast, 0 Signal */
  LUGO_EV_SHREAD,   /* obj: shared table read; a: the key's hash (0 to
                       2^32-1), LUGO_SH_BORDER for #t, LUGO_SH_ALLKEYS for
                       pairs' snapshot and freeze */
  LUGO_EV_SHWRITE,  /* obj: shared table written; a: as for SHREAD (a store
                       that moves the border also writes LUGO_SH_BORDER) */
  LUGO_EV_RUN,      /* an M starts running the goroutine; a: its P's id */
  LUGO_EV_STOP,     /* the goroutine's resume returned; a: why, the Y_*
                       reason it yielded for (scheduler.h) or LUGO_STOP_* */
  LUGO_EV_CANCEL    /* obj: a context cancelled (a release: emitted by the
                       cancelling goroutine, 0 for a deadline, before its
                       Done channel closes); a: 1 canceled, 2 deadline
                       exceeded.  One per context of the cancelled tree. */
} lugo_event_kind;

/* the `a` of LUGO_EV_STOP when the goroutine did not yield */
#define LUGO_STOP_END 16    /* it returned */
#define LUGO_STOP_ERROR 17  /* it raised */

/* the `a` of a shared table event that is not one key */
#define LUGO_SH_BORDER (-1)
#define LUGO_SH_ALLKEYS (-2)

typedef struct lugo_event {
  lugo_event_kind kind;
  long long goid;     /* the goroutine causing it (0 for host/sysmon) */
  const void *obj;
  long long a;
} lugo_event;

typedef void (*lugo_event_fn)(struct lugo_runtime *rt, const lugo_event *e,
                              void *ud);

/* acquire: a listener set up before it was published is seen whole (a
** plain mov on x86, so "off" is still one load and one branch) */
#define LUGO_EVENT(rt, k, gid, o, arg)                                       \
  do {                                                                       \
    lugo_event_fn h_ = lugo_load_acq(&(rt)->evhook);                         \
    if (__builtin_expect(h_ != 0, 0)) {                                      \
      lugo_event ev_ = {(k), (gid), (o), (arg)};                             \
      h_((rt), &ev_, lugo_load_relaxed(&(rt)->evud));                        \
    }                                                                        \
  } while (0)

#endif
