/*
** chan.h -- channels and select (the C core; Lua bindings in stdlib/).
*/
#ifndef lugo_chan_h
#define lugo_chan_h

#include <pthread.h>
#include <stddef.h>

#include "marshal.h"
#include "obj.h"
#include "scheduler.h"

typedef struct lugo_chan lugo_chan;

/* A goroutine waiting on a channel (Go's sudog).  Owned by its G; lives in
** g->sg[].  Linked into a channel's queue under that channel's lock. */
struct lugo_sudog {
  lugo_G *g;
  lugo_sudog *next, *prev;  /* guarded by c->lock */
  lugo_chan *c;
  lugo_value *elem;   /* send: the value to take; recv: where to put it */
  int queued;         /* guarded by c->lock: in c's sendq or recvq */
  int isrecv;
  int caseidx;        /* select case, or 0 */
  int success;        /* written by the waker that won g->parkwin:
                         1 = a value moved, 0 = woken by close */
};

typedef struct lugo_waitq { lugo_sudog *first, *last; } lugo_waitq;

struct lugo_chan {
  lugo_obj obj;
  pthread_mutex_t lock;
  size_t cap;              /* immutable */
  size_t count, head;      /* guarded by lock: values in buf */
  lugo_value *buf;         /* guarded by lock: ring of cap values */
  int closed;              /* guarded by lock */
  lugo_waitq recvq, sendq; /* guarded by lock */
  lugo_runtime *rt;        /* immutable */
};

extern const lugo_objtype lugo__chan_type;  /* defined in stdlib/lchan.c */
void lugo__chan_free(lugo_obj *o);

/* results of channel operations */
enum {
  LUGO_CHAN_DONE = 0,   /* completed */
  LUGO_CHAN_CLOSED,     /* send on closed / close of closed */
  LUGO_CHAN_BLOCK,      /* would block (non-blocking call) */
  LUGO_CHAN_PARKED      /* the caller's G is queued: now park it */
};

/* NULL if out of memory. */
lugo_chan *lugo__chan_new(lugo_runtime *rt, size_t cap);

/* Any thread (g NULL: non-blocking).  On DONE the value moved out of *v;
** otherwise *v is still the caller's.  PARKED only when g != NULL: g's
** waiter g->sg[0] is queued holding *v, which must live in G memory. */
int lugo__chan_send(lugo_chan *c, lugo_value *v, lugo_G *g);

/* Any thread (g NULL: non-blocking).  DONE: *out holds the value and *ok
** says whether it was a value (1) or the close (0, *out nil).  PARKED: g's
** waiter will receive into *out (G memory). */
int lugo__chan_recv(lugo_chan *c, lugo_value *out, int *ok, lugo_G *g);

/* Any thread.  DONE or CLOSED (already closed). */
int lugo__chan_close(lugo_chan *c, long long goid);

size_t lugo__chan_len(lugo_chan *c);

/* Owner of g, after the park ends: take g's waiters off their queues (after
** an interrupt or a lost select case). */
void lugo__chan_unpark(lugo_G *g);

/* select */
typedef struct lugo_selcase {
  lugo_chan *c;        /* NULL: never ready */
  int isrecv;
  lugo_value *val;     /* send: the value (G memory); recv: where to put it */
} lugo_selcase;

/* Owner of g.  Poll the cases in random order.  Returns the chosen index
** (>= 0) with *ok set for a receive (for a send, *ok = 0 means the channel
** was closed: the caller raises), or -1 when nothing is ready and !block,
** or -2 when g is queued on every case and must park.  Before a blocking
** call the caller has run lugo__park_prepare and made room for n waiters
** (lugo__sudogs). */
int lugo__select(lugo_G *g, lugo_selcase *cases, int n, int block, int *ok);

/* After a select park: which case completed, dequeuing the others. */
int lugo__select_done(lugo_G *g, int *ok);

/* Make sure g has room for n waiters. 0 on out of memory. */
int lugo__sudogs(lugo_G *g, int n);

#endif
