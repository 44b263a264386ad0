/*
** runq.h -- a P's local run queue: a bounded lock-free ring plus runnext.
*/
#ifndef lugo_runq_h
#define lugo_runq_h

#include "atomic.h"

struct lugo_G;  /* defined in scheduler.h */

#define LUGO_RUNQ_SIZE 256

typedef struct lugo_runq {
  lugo_au32 head;   /* atomic: next slot to take; consumers CAS it */
  lugo_au32 tail;   /* atomic: next free slot; written by the owner P only */
  lugo_aptr runnext;  /* atomic: G to run next, before the ring */
  lugo_aptr buf[LUGO_RUNQ_SIZE];  /* atomic slots (stealers may read stale) */
} lugo_runq;

void lugo__runq_init(lugo_runq *q);

/* Owner P only.  Put g on q; with next, g takes runnext and the G it
** displaces goes to the ring.  If the ring is full, half of it plus the
** G being put are moved to batch[] (room for LUGO_RUNQ_SIZE/2 + 1) and
** their count returned: the caller puts them on the global queue.
** Returns 0 otherwise. */
int lugo__runq_put(lugo_runq *q, struct lugo_G *g, int next,
                   struct lugo_G **batch);

/* Owner P only.  Take runnext, else the ring's head; NULL if empty.
** *inherit is set when the G came from runnext (it inherits the time
** slice, so a ping-pong pair cannot starve the queue). */
struct lugo_G *lugo__runq_get(lugo_runq *q, int *inherit);

/* Owner P of dst only; src any P.  Move about half of src's Gs to dst and
** return one of them to run now (NULL if src had none).  With stealnext,
** src's runnext may be taken too. */
struct lugo_G *lugo__runq_steal(lugo_runq *dst, lugo_runq *src,
                                int stealnext);

/* Any thread: an approximate emptiness test. */
int lugo__runq_empty(lugo_runq *q);

/* Any thread: approximate length (ring + runnext). */
unsigned lugo__runq_len(lugo_runq *q);

#endif
