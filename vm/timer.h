/*
** timer.h -- runtime timers: one binary min-heap per runtime, O(log n)
** add and delete, fired by sysmon.  Ties fire in the order they were added.
*/
#ifndef lugo_timer_h
#define lugo_timer_h

#include <stdint.h>

struct lugo_runtime;  /* defined in scheduler.h */
typedef struct lugo_timer lugo_timer;
typedef struct lugo_timers lugo_timers;

struct lugo_timer {
  int64_t when;          /* monotonic ns; guarded by the heap lock */
  uint64_t seq;          /* FIFO among equal deadlines */
  int idx;               /* heap index, -1 when not pending */
  /* called by sysmon, no lock held, after t left the heap */
  void (*fire)(lugo_timer *t);
  /* called at shutdown for timers still pending */
  void (*drop)(lugo_timer *t);
  void *arg;
};

lugo_timers *lugo__timers_new(void);
void lugo__timers_free(lugo_timers *ts);  /* drops pending timers */

void lugo__timer_init(lugo_timer *t);
/* Any thread.  Arm t (not pending) for deadline when. */
void lugo__timer_add(lugo_timers *ts, lugo_timer *t, int64_t when);
/* Any thread.  Disarm t; 1 if it was pending.  If t is firing right now,
** waits until its fire function returns, so t may be freed afterwards;
** if that fire armed t again (a ticker), disarms that and returns 1.
** Never from a fire function for its own timer. */
int lugo__timer_del(lugo_timers *ts, lugo_timer *t);
/* sysmon, or an M between goroutines (no lock held): fire every timer
** due at now; returns the next deadline or -1.  If another thread is
** firing them already, returns at once (the earliest deadline). */
int64_t lugo__timers_run(lugo_timers *ts, int64_t now);
/* An M between goroutines: fire the due timers, if any (cheap if none). */
void lugo__timers_poll(struct lugo_runtime *rt);
/* pending + firing timers (for deadlock detection) */
int lugo__timers_count(lugo_timers *ts);
int lugo__timers_pending(struct lugo_runtime *rt);
/* Any thread.  Arm t on rt's heap, waking sysmon if t is now the first. */
void lugo__timer_start(struct lugo_runtime *rt, lugo_timer *t, int64_t when);

/* stdlib/ltime.c: time.Timer (also AfterFunc's) and time.Ticker objects */
struct lugo_objtype;
extern const struct lugo_objtype lugo__timer_type, lugo__ticker_type;

#endif
