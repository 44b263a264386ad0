/*
** runq.c -- a P's local run queue (the idea of Go's runqput/runqget/
** runqsteal in proc.go, written for C11 atomics).
**
** Invariants:
**   - only the owner P writes tail and the buffer slots it publishes; a
**     slot is published by the release-store of tail;
**   - anyone may take from head, by CAS on head after reading the slots
**     (a stealer that read a slot the owner then overwrote fails its CAS
**     and retries, so slots are atomics read relaxed);
**   - tail - head <= LUGO_RUNQ_SIZE at all times (uint32 wrap-around);
**   - runnext is taken by exchange/CAS only, so a G is in at most one
**     place and is handed out exactly once.
*/
#include "runq.h"

#include <stddef.h>

#define SIZE LUGO_RUNQ_SIZE
#define MASK (SIZE - 1)

typedef struct lugo_G G;

void lugo__runq_init(lugo_runq *q) {
  unsigned i;
  lugo_store_relaxed(&q->head, 0);
  lugo_store_relaxed(&q->tail, 0);
  lugo_store_relaxed(&q->runnext, NULL);
  for (i = 0; i < SIZE; i++) lugo_store_relaxed(&q->buf[i], NULL);
}

/* Move half of a full ring plus g into batch.  Owner P only. */
static int putslow(lugo_runq *q, G *g, uint32_t h, uint32_t t, G **batch) {
  uint32_t n = (t - h) / 2, i;
  if (n != SIZE / 2) return -1;  /* not full any more: caller retries */
  for (i = 0; i < n; i++)
    batch[i] = lugo_load_relaxed(&q->buf[(h + i) & MASK]);
  /* acq_rel CAS: commits the consume of slots we just read */
  if (!atomic_compare_exchange_strong(&q->head, &h, h + n)) return -1;
  batch[n] = g;
  return (int)n + 1;
}

int lugo__runq_put(lugo_runq *q, G *g, int next, G **batch) {
  if (next) {
    g = lugo_xchg(&q->runnext, g);
    if (g == NULL) return 0;
    /* the displaced runnext goes to the ring */
  }
  for (;;) {
    uint32_t h = lugo_load_acq(&q->head);  /* synchronise with consumers */
    uint32_t t = lugo_load_relaxed(&q->tail);  /* we are the only writer */
    if (t - h < SIZE) {
      lugo_store_relaxed(&q->buf[t & MASK], g);
      lugo_store_rel(&q->tail, t + 1);  /* publish the slot */
      return 0;
    }
    {
      int n = putslow(q, g, h, t, batch);
      if (n > 0) return n;
    }
  }
}

G *lugo__runq_get(lugo_runq *q, int *inherit) {
  G *g = lugo_load_relaxed(&q->runnext);
  if (g != NULL && lugo_casp(&q->runnext, g, NULL)) {
    *inherit = 1;
    return g;
  }
  *inherit = 0;
  for (;;) {
    uint32_t h = lugo_load_acq(&q->head);
    uint32_t t = lugo_load_relaxed(&q->tail);  /* owner: no race on tail */
    if (t == h) return NULL;
    g = lugo_load_relaxed(&q->buf[h & MASK]);
    if (atomic_compare_exchange_strong(&q->head, &h, h + 1)) return g;
  }
}

/* Grab half of src into batch (at most SIZE/2 Gs).  Any thread. */
static uint32_t grab(lugo_runq *src, G **batch, int stealnext) {
  for (;;) {
    uint32_t h = lugo_load_acq(&src->head);
    uint32_t t = lugo_load_acq(&src->tail);  /* synchronise with producer */
    uint32_t n = t - h, i;
    n = n - n / 2;
    if (n == 0) {
      if (stealnext) {
        G *g = lugo_load_relaxed(&src->runnext);
        if (g != NULL && lugo_casp(&src->runnext, g, NULL)) {
          batch[0] = g;
          return 1;
        }
      }
      return 0;
    }
    if (n > SIZE / 2) continue;  /* inconsistent h and t: retry */
    for (i = 0; i < n; i++)
      batch[i] = lugo_load_relaxed(&src->buf[(h + i) & MASK]);
    if (atomic_compare_exchange_strong(&src->head, &h, h + n)) return n;
  }
}

G *lugo__runq_steal(lugo_runq *dst, lugo_runq *src, int stealnext) {
  G *batch[SIZE / 2];
  uint32_t n = grab(src, batch, stealnext), i, t;
  if (n == 0) return NULL;
  t = lugo_load_relaxed(&dst->tail);
  /* dst is ours and we only steal when it is empty, so n - 1 slots fit */
  for (i = 1; i < n; i++) lugo_store_relaxed(&dst->buf[(t + i - 1) & MASK], batch[i]);
  if (n > 1) lugo_store_rel(&dst->tail, t + n - 1);
  return batch[0];
}

int lugo__runq_empty(lugo_runq *q) {
  return lugo_load(&q->head) == lugo_load(&q->tail) &&
         lugo_load(&q->runnext) == NULL;
}

unsigned lugo__runq_len(lugo_runq *q) {
  uint32_t h = lugo_load(&q->head), t = lugo_load(&q->tail);
  unsigned n = (t - h) > SIZE ? 0 : (t - h);
  return n + (lugo_load(&q->runnext) != NULL);
}
