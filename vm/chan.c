/*
** chan.c -- channels and select, after Go's chan.go and select.go.
**
** Invariants (guarded by c->lock):
**   - at least one of sendq and recvq is empty, except for select waiters
**     of one goroutine that lost their race (they are skipped);
**   - for a buffered channel, recvq non-empty implies count == 0 and
**     sendq non-empty implies count == cap;
**   - a waiter is taken off a queue only by its own goroutine (cleanup) or
**     by a channel operation, and it is completed only by whoever wins the
**     CAS on its goroutine's parkwin: so each park ends exactly once, and a
**     value is never delivered to a waiter that has gone.
** Never ready a goroutine while holding a channel lock: completions are
** collected, the lock released, then the goroutines readied.
** Any thread may call the operations; blocking ones need the caller's G.
*/
#include "chan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race.h"

/* The race detector's view of an operation, in one register: NULL when
** it is off (each hook then costs one test of it), else the goroutine
** doing the operation, or NOG for a host thread or a timer (the buffer
** slots' counters must still move). */
static const char nog_;
#define NOG ((lugo_G *)(void *)&nog_)
#define RACEG(rc) ((rc) == NOG ? NULL : (rc))

static lugo_G *racectx(lugo_chan *c) {
  lugo_G *g;
  if (!LUGO_RACERT(c->rt)) return NULL;
  g = lugo__race_cur();
  return g != NULL ? g : NOG;
}

#define RACEOF(c, g) (LUGO_RACERT((c)->rt) ? ((g)->race ? (g) : NOG) : NULL)

void lugo__chan_free(lugo_obj *o) {
  lugo_chan *c = (lugo_chan *)o;
  size_t i;
  for (i = 0; i < c->count; i++) lugo__value_free(&c->buf[(c->head + i) % c->cap]);
  free(c->buf);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

lugo_chan *lugo__chan_new(lugo_runtime *rt, size_t cap) {
  lugo_chan *c = (lugo_chan *)calloc(1, sizeof(*c));
  if (c == NULL) return NULL;
  if (cap > 0) {
    c->buf = (lugo_value *)calloc(cap, sizeof(lugo_value));
    if (c->buf == NULL) { free(c); return NULL; }
  }
  lugo__obj_init(&c->obj, &lugo__chan_type);
  pthread_mutex_init(&c->lock, NULL);
  c->cap = cap;
  c->rt = rt;
  return c;
}

/* ---------------------------------------------------------------------
** wait queues (caller holds c->lock)
** ------------------------------------------------------------------- */

static void enqueue(lugo_waitq *q, lugo_sudog *s) {
  s->next = NULL;
  s->prev = q->last;
  if (q->last) q->last->next = s; else q->first = s;
  q->last = s;
  s->queued = 1;
}

static void unlink_sg(lugo_waitq *q, lugo_sudog *s) {
  if (s->prev) s->prev->next = s->next; else q->first = s->next;
  if (s->next) s->next->prev = s->prev; else q->last = s->prev;
  s->next = s->prev = NULL;
  s->queued = 0;
}

/* Pop the first waiter whose park we win; waiters of parks already won
** elsewhere (other select cases, interrupts) are dropped. */
static lugo_sudog *dequeue(lugo_waitq *q) {
  lugo_sudog *s;
  while ((s = q->first) != NULL) {
    unlink_sg(q, s);
    if (lugo_cas(&s->g->parkwin, 0, 1)) return s;
  }
  return NULL;
}

static void complete(lugo_sudog *s, int success) {
  s->success = success;
  s->g->wonsg = s;
}

/* ---------------------------------------------------------------------
** the three operations
** ------------------------------------------------------------------- */

/* Caller holds c->lock; returns with it held.  Take a value for a receive
** into *out (rc: racectx); returns the waiter to ready (or NULL). */
#define INLINE static inline __attribute__((always_inline))

/* take and put are instantiated twice (rc NULL or not known at the call):
** with the detector off they are exactly the code without hooks */
INLINE lugo_sudog *take(lugo_chan *c, lugo_value *out, int *ok, lugo_G *rc) {
  lugo_sudog *s = dequeue(&c->sendq);
  if (s != NULL) {
    if (c->cap == 0) {
      *out = *s->elem;
      if (rc != NULL) lugo__race_chansync(RACEG(rc), s->g);
    } else {  /* full buffer: take its head, sender's value goes to the tail */
      *out = c->buf[c->head];
      c->buf[c->head] = *s->elem;
      c->head = (c->head + 1) % c->cap;
      if (rc != NULL) {
        lugo__race_chanrecv(c, RACEG(rc));
        lugo__race_chansend(c, s->g);
      }
    }
    s->elem->t = LUGO_VNIL;
    complete(s, 1);
    *ok = 1;
    return s;
  }
  if (c->count > 0) {
    *out = c->buf[c->head];
    c->buf[c->head].t = LUGO_VNIL;
    c->head = (c->head + 1) % c->cap;
    c->count--;
    if (rc != NULL) lugo__race_chanrecv(c, RACEG(rc));
    *ok = 1;
    return NULL;
  }
  /* closed and drained, or (if every sender we saw was claimed since)
  ** not ready after all: *ok = -1 */
  out->t = LUGO_VNIL;
  *ok = c->closed ? 0 : -1;
  if (c->closed && rc != NULL) lugo__race_chanclosed(c, RACEG(rc));
  return NULL;
}

/* Caller holds c->lock: can a receive complete now? */
static int canrecv(lugo_chan *c) {
  lugo_sudog *s;
  if (c->count > 0 || c->closed) return 1;
  for (s = c->sendq.first; s != NULL; s = s->next)
    if (lugo_load(&s->g->parkwin) == 0) return 1;
  return 0;
}

/* Caller holds c->lock, c open.  Put *v (rc: racectx); returns the
** waiter to ready, or sets *done = 0 if it would block. */
INLINE lugo_sudog *put(lugo_chan *c, lugo_value *v, int *done, lugo_G *rc) {
  lugo_sudog *s = dequeue(&c->recvq);
  *done = 1;
  if (s != NULL) {
    *s->elem = *v;
    v->t = LUGO_VNIL;
    if (rc != NULL) {
      if (c->cap == 0) {
        lugo__race_chansync(RACEG(rc), s->g);
      } else {  /* through the empty buffer's next slot */
        lugo__race_chansend(c, RACEG(rc));
        lugo__race_chanrecv(c, s->g);
      }
    }
    complete(s, 1);
    return s;
  }
  if (c->count < c->cap) {
    c->buf[(c->head + c->count) % c->cap] = *v;
    c->count++;
    v->t = LUGO_VNIL;
    if (rc != NULL) lugo__race_chansend(c, RACEG(rc));
    return NULL;
  }
  *done = 0;
  return NULL;
}

static void sg_init(lugo_sudog *s, lugo_G *g, lugo_chan *c, lugo_value *elem,
                    int isrecv, int idx) {
  s->g = g;
  s->c = c;
  s->elem = elem;
  s->isrecv = isrecv;
  s->caseidx = idx;
  s->success = 0;
  s->next = s->prev = NULL;
}

INLINE int send_(lugo_chan *c, lugo_value *v, lugo_G *g, lugo_G *rc) {
  lugo_sudog *w;
  int done;
  pthread_mutex_lock(&c->lock);
  if (rc != NULL) lugo__race_sendcheck(c, RACEG(rc));
  if (c->closed) {
    pthread_mutex_unlock(&c->lock);
    return LUGO_CHAN_CLOSED;
  }
  w = put(c, v, &done, rc);
  if (done) {
    pthread_mutex_unlock(&c->lock);
    if (w) lugo__ready(w->g);
    return LUGO_CHAN_DONE;
  }
  if (g == NULL) {
    pthread_mutex_unlock(&c->lock);
    return LUGO_CHAN_BLOCK;
  }
  sg_init(&g->sg[0], g, c, v, 0, 0);
  g->nsg = 1;
  lugo__park_publish(g);
  enqueue(&c->sendq, &g->sg[0]);
  pthread_mutex_unlock(&c->lock);
  return LUGO_CHAN_PARKED;
}

INLINE int recv_(lugo_chan *c, lugo_value *out, int *ok, lugo_G *g,
                 lugo_G *rc) {
  lugo_sudog *w;
  pthread_mutex_lock(&c->lock);
  if (canrecv(c)) {
    w = take(c, out, ok, rc);
    if (*ok >= 0) {
      pthread_mutex_unlock(&c->lock);
      if (w) lugo__ready(w->g);
      return LUGO_CHAN_DONE;
    }
  }
  if (g == NULL) {
    pthread_mutex_unlock(&c->lock);
    return LUGO_CHAN_BLOCK;
  }
  out->t = LUGO_VNIL;
  sg_init(&g->sg[0], g, c, out, 1, 0);
  g->nsg = 1;
  lugo__park_publish(g);
  enqueue(&c->recvq, &g->sg[0]);
  pthread_mutex_unlock(&c->lock);
  return LUGO_CHAN_PARKED;
}

/* one branch picks the instantiation: the hooks cost nothing else off */
int lugo__chan_send(lugo_chan *c, lugo_value *v, lugo_G *g) {
  if (LUGO_RACERT(c->rt)) return send_(c, v, g, racectx(c));
  return send_(c, v, g, NULL);
}

int lugo__chan_recv(lugo_chan *c, lugo_value *out, int *ok, lugo_G *g) {
  if (LUGO_RACERT(c->rt)) return recv_(c, out, ok, g, racectx(c));
  return recv_(c, out, ok, g, NULL);
}

int lugo__chan_close(lugo_chan *c, long long goid) {
  lugo_sudog *s, *wake = NULL;
  lugo_G *rc;
  pthread_mutex_lock(&c->lock);
  if (c->closed) {
    pthread_mutex_unlock(&c->lock);
    return LUGO_CHAN_CLOSED;
  }
  c->closed = 1;
  LUGO_EVENT(c->rt, LUGO_EV_CLOSE, goid, c, 0);
  rc = racectx(c);
  if (rc != NULL) lugo__race_chanclose(c, RACEG(rc));
  while ((s = dequeue(&c->recvq)) != NULL) {
    s->elem->t = LUGO_VNIL;
    if (rc != NULL) lugo__race_chanclosed(c, s->g);
    complete(s, 0);
    s->next = wake;
    wake = s;
  }
  while ((s = dequeue(&c->sendq)) != NULL) {
    complete(s, 0);  /* the sender keeps its value and raises */
    s->next = wake;
    wake = s;
  }
  pthread_mutex_unlock(&c->lock);
  while (wake != NULL) {
    s = wake;
    wake = s->next;
    s->next = NULL;
    lugo__ready(s->g);
  }
  return LUGO_CHAN_DONE;
}

size_t lugo__chan_len(lugo_chan *c) {
  size_t n;
  pthread_mutex_lock(&c->lock);
  n = c->count;
  pthread_mutex_unlock(&c->lock);
  return n;
}

void lugo__chan_unpark(lugo_G *g) {
  int i;
  for (i = 0; i < g->nsg; i++) {
    lugo_sudog *s = &g->sg[i];
    if (s->c == NULL) continue;
    pthread_mutex_lock(&s->c->lock);
    if (s->queued) unlink_sg(s->isrecv ? &s->c->recvq : &s->c->sendq, s);
    pthread_mutex_unlock(&s->c->lock);
    s->c = NULL;
  }
  g->nsg = 0;
}

int lugo__sudogs(lugo_G *g, int n) {
  if (n > g->capsg) {
    lugo_sudog *sg = (lugo_sudog *)realloc(g->sg, (size_t)n * sizeof(*sg));
    if (sg == NULL) return 0;
    memset(sg + g->capsg, 0, (size_t)(n - g->capsg) * sizeof(*sg));
    g->sg = sg;
    g->capsg = n;
  }
  return 1;
}

/* ---------------------------------------------------------------------
** select
** ------------------------------------------------------------------- */

#define SMALL 16

static int cmpchan(const void *a, const void *b) {
  const lugo_chan *x = *(lugo_chan *const *)a, *y = *(lugo_chan *const *)b;
  return (x > y) - (x < y);
}

/* lock the distinct channels of order[0..n) (sorted by address) */
static void lockall(lugo_chan **order, int n) {
  int i;
  for (i = 0; i < n; i++)
    if (i == 0 || order[i] != order[i - 1]) pthread_mutex_lock(&order[i]->lock);
}

static void unlockall(lugo_chan **order, int n) {
  int i;
  for (i = n - 1; i >= 0; i--)
    if (i == 0 || order[i] != order[i - 1]) pthread_mutex_unlock(&order[i]->lock);
}

int lugo__select(lugo_G *g, lugo_selcase *cases, int n, int block, int *ok) {
  lugo_chan *small[SMALL], **order = small;
  int spoll[SMALL], *poll = spoll;
  int i, nc = 0, chosen = -1;
  lugo_sudog *w = NULL;
  if (n > SMALL) {
    order = (lugo_chan **)malloc((size_t)n * sizeof(*order));
    poll = (int *)malloc((size_t)n * sizeof(*poll));
    if (order == NULL || poll == NULL) abort();  /* throw: out of memory */
  }
  /* random poll order (Fisher-Yates), address-sorted lock order */
  for (i = 0; i < n; i++) {
    int j = (int)(lugo__fastrand() % (uint32_t)(i + 1));
    poll[i] = poll[j];
    poll[j] = i;
    if (cases[i].c) order[nc++] = cases[i].c;
  }
  qsort(order, (size_t)nc, sizeof(*order), cmpchan);
  lockall(order, nc);
  for (i = 0; i < n && chosen < 0; i++) {
    lugo_selcase *k = &cases[poll[i]];
    lugo_chan *c = k->c;
    if (c == NULL) continue;
    if (k->isrecv) {
      if (canrecv(c)) {
        lugo_G *rc = RACEOF(c, g);
        w = rc ? take(c, k->val, ok, rc) : take(c, k->val, ok, NULL);
        if (*ok >= 0) chosen = poll[i];
      }
    } else if (c->closed) {
      *ok = 0;
      chosen = poll[i];
    } else {
      int done;
      lugo_G *rc = RACEOF(c, g);
      w = rc ? put(c, k->val, &done, rc) : put(c, k->val, &done, NULL);
      if (done) {
        *ok = 1;
        chosen = poll[i];
        if (LUGO_RACERT(c->rt) && g->race) lugo__race_sendcheck(c, g);
      }
    }
  }
  if (chosen < 0 && block) {
    lugo__park_publish(g);
    for (i = 0; i < n; i++) {
      lugo_sudog *s = &g->sg[i];
      lugo_chan *c = cases[i].c;
      sg_init(s, g, c, cases[i].val, cases[i].isrecv, i);
      s->queued = 0;
      if (c == NULL) continue;
      if (cases[i].isrecv) cases[i].val->t = LUGO_VNIL;
      enqueue(cases[i].isrecv ? &c->recvq : &c->sendq, s);
    }
    g->nsg = n;
    chosen = -2;
  }
  unlockall(order, nc);
  if (w) lugo__ready(w->g);
  if (order != small) { free(order); free(poll); }
  return chosen;
}

int lugo__select_done(lugo_G *g, int *ok) {
  lugo_sudog *won = g->wonsg;
  int idx = -1;
  if (won != NULL) {
    idx = won->caseidx;
    *ok = won->success;
    won->c = NULL;  /* already off its queue */
  }
  lugo__chan_unpark(g);
  return idx;
}
