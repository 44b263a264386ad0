/*
** sema.h -- a counting semaphore for parking OS threads (Ms, host threads,
** goroutines that block their M).  Every wait is paired with exactly one
** post; a post that comes first is remembered by the count.
*/
#ifndef lugo_sema_h
#define lugo_sema_h

#include <pthread.h>
#include <time.h>

typedef struct lugo_sema {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned count;  /* guarded by mu */
} lugo_sema;

void lugo__sema_init(lugo_sema *s);
void lugo__sema_destroy(lugo_sema *s);
void lugo__sema_post(lugo_sema *s);  /* Any thread. */
void lugo__sema_wait(lugo_sema *s);  /* Any thread; blocks. */
/* Wait until the monotonic time deadline (ns); returns 1 if posted. */
int lugo__sema_timedwait(lugo_sema *s, long long deadline_ns);

/* CLOCK_MONOTONIC in nanoseconds. */
long long lugo__nanotime(void);

#endif
