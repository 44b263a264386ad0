/*
** race.c -- the race detector: happens-before with vector clocks, after
** FastTrack (Flanagan and Freund, PLDI 2009) and Go's race runtime.
**
** Clocks.  Each live goroutine owns a slot (a "tid") and a vector clock
** indexed by slot; its own entry is its current epoch.  A release merges
** the goroutine's clock into a sync object's and then ticks its own entry;
** an acquire merges the object's clock into the goroutine's.  Slots are
** reused after a quarantine: a new owner starts its clock above the last
** epoch of the old one, so what others learned of the old owner never
** orders the new one (the cost: the new owner is taken to follow the old
** one, a possible miss, never a false report).
**
** Shadow state.  Every key of a shared table that was touched has a cell
** holding FastTrack's W (last write epoch) and R (last read epoch, or a
** read set once reads are concurrent), each with the stack it came from.
** A check is "is that epoch <= my clock?": O(1) but for read sets.
**
** Edges (where the hooks are): go (spawner -> child); unbuffered channels
** both ways at the hand-over; buffered ones through a clock per buffer
** slot (the k-th receive -> the (k+cap)-th send completes; the k-th send
** -> the k-th receive); close -> a receive that sees it; Mutex Unlock ->
** Lock; RWMutex (Unlock -> RLock/Lock, RUnlock -> Lock); WaitGroup Done ->
** Wait; Once's fn -> every Do; Cond Signal -> the woken Wait; atomics;
** context cancel -> Err; AfterFunc's arming -> fn.  The shared table's own
** lock is none.
**
** Threads.  A goroutine's clock is touched by its own thread, or by a
** channel operation of another goroutine while it is parked on that
** channel (under the channel's lock, before it is readied).  A sync
** object's clocks are guarded by the lock in its record; a channel's by
** the channel's lock; a table's cells by the lock in its record.  The
** runtime's record (slots, stacks, reports) by r->lk, which is taken last
** (never while waiting for another).
*/
#include "race.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"

#define MAXFRAMES 8    /* frames kept per stack */
#define QUARANTINE 64  /* free slots kept unused before one is reused */
#define NOWNERS 4      /* past owners of a slot remembered for reports */
#define REPORTMAX 8192 /* bytes of one report */

static void oom(void) __attribute__((noreturn));
static void oom(void) {
  fputs("lugo: race detector: out of memory\n", stderr);
  abort();
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (p == NULL) oom();
  return p;
}

static void *xcalloc(size_t n) {
  void *p = calloc(1, n);
  if (p == NULL) oom();
  return p;
}

/* ---------------------------------------------------------------------
** vector clocks
** ------------------------------------------------------------------- */

void lugo__vc_free(lugo_vc *v) {
  free(v->c);
  v->c = NULL;
  v->n = v->cap = 0;
  v->sparse = 1;
}

size_t lugo__vc_bytes(const lugo_vc *v) {
  return (size_t)v->cap * sizeof(uint32_t);
}

static void vc_room(lugo_vc *v, uint32_t words) {
  if (words > v->cap) {  /* exact the first time (copies), then doubling */
    uint32_t cap = v->cap ? v->cap : (words > 8 ? words : 8);
    while (cap < words) cap *= 2;
    v->c = (uint32_t *)xrealloc(v->c, (size_t)cap * sizeof(uint32_t));
    v->cap = cap;
  }
}

/* dense: entries up to n, the new ones 0 */
static void vc_grow(lugo_vc *v, uint32_t n) {
  vc_room(v, n);
  if (n > v->n) {
    memset(v->c + v->n, 0, (size_t)(n - v->n) * sizeof(uint32_t));
    v->n = n;
  }
}

/* sparse: the index of the pair of tid, or where it would go */
static uint32_t vc_find(const lugo_vc *v, uint32_t tid) {
  uint32_t lo = 0, hi = v->n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (v->c[2 * mid] < tid) lo = mid + 1; else hi = mid;
  }
  return lo;
}

uint32_t lugo__vc_sget(const lugo_vc *v, uint32_t tid) {
  uint32_t i = vc_find(v, tid);
  return i < v->n && v->c[2 * i] == tid ? v->c[2 * i + 1] : 0;
}

/* a sparse clock turns dense when that takes no more room */
static void vc_maybedense(lugo_vc *v) {
  uint32_t i, k = v->n, len;
  uint32_t *d;
  if (!v->sparse || k == 0) return;
  len = v->c[2 * (k - 1)] + 1;  /* the highest tid, plus one */
  if (len > 2 * k) return;
  d = (uint32_t *)xcalloc((size_t)len * sizeof(uint32_t));
  for (i = 0; i < k; i++) d[v->c[2 * i]] = v->c[2 * i + 1];
  free(v->c);
  v->c = d;
  v->n = v->cap = len;
  v->sparse = 0;
}

/* a dense clock as a new sparse or dense one, whichever is smaller */
static void vc_fromdense(lugo_vc *dst, const uint32_t *c, uint32_t n) {
  uint32_t i, k = 0, len = 0;
  for (i = 0; i < n; i++)
    if (c[i] != 0) { k++; len = i + 1; }
  if (len <= 2 * k) {
    dst->sparse = 0;
    dst->n = 0;
    vc_grow(dst, len);
    if (len) memcpy(dst->c, c, (size_t)len * sizeof(uint32_t));
    return;
  }
  dst->sparse = 1;
  vc_room(dst, 2 * k);
  dst->n = k;
  for (i = 0, k = 0; i < n; i++)
    if (c[i] != 0) {
      dst->c[2 * k] = i;
      dst->c[2 * k + 1] = c[i];
      k++;
    }
}

/* a dense clock made sparse (a far slot would more than double it; the
** next insert turns it dense again if that is smaller after all) */
static void vc_tosparse(lugo_vc *v) {
  uint32_t i, k = 0;
  uint32_t *p = (uint32_t *)xrealloc(NULL, (size_t)2 * (v->n + 1) * sizeof(uint32_t));
  for (i = 0; i < v->n; i++)
    if (v->c[i] != 0) {
      p[2 * k] = i;
      p[2 * k + 1] = v->c[i];
      k++;
    }
  free(v->c);
  v->c = p;
  v->cap = 2 * (v->n + 1);
  v->n = k;
  v->sparse = 1;
}

/* would a dense v grow to n entries for little? */
#define FARGROW(v, len) ((len) > 2 * (v)->n + 16)

void lugo__vc_set(lugo_vc *v, uint32_t tid, uint32_t clk) {
  uint32_t i;
  if (!v->sparse && tid >= v->n && FARGROW(v, tid + 1)) vc_tosparse(v);
  if (!v->sparse) {
    if (tid >= v->n) vc_grow(v, tid + 1);
    v->c[tid] = clk;
    return;
  }
  i = vc_find(v, tid);
  if (i < v->n && v->c[2 * i] == tid) {
    v->c[2 * i + 1] = clk;
    return;
  }
  vc_room(v, 2 * (v->n + 1));
  memmove(v->c + 2 * (i + 1), v->c + 2 * i, (size_t)(v->n - i) * 2 * sizeof(uint32_t));
  v->c[2 * i] = tid;
  v->c[2 * i + 1] = clk;
  v->n++;
  vc_maybedense(v);
}

void lugo__vc_join(lugo_vc *dst, const lugo_vc *src) {
  uint32_t i, j, k;
  if (!src->sparse && dst->sparse) {  /* as pairs: dst may be far sparser */
    lugo_vc t = LUGO_VC_INIT;
    t.sparse = 0;
    vc_grow(&t, src->n);
    memcpy(t.c, src->c, (size_t)src->n * sizeof(uint32_t));
    vc_tosparse(&t);
    lugo__vc_join(dst, &t);
    lugo__vc_free(&t);
    return;
  }
  if (!src->sparse) {  /* dense into dense */
    if (src->n > dst->n) vc_grow(dst, src->n);
    for (i = 0; i < src->n; i++)
      if (src->c[i] > dst->c[i]) dst->c[i] = src->c[i];
    return;
  }
  if (!dst->sparse && src->n > 0 && FARGROW(dst, src->c[2 * (src->n - 1)] + 1))
    vc_tosparse(dst);
  if (!dst->sparse) {  /* sparse into dense */
    for (i = 0; i < src->n; i++) {
      uint32_t tid = src->c[2 * i], clk = src->c[2 * i + 1];
      if (tid >= dst->n) vc_grow(dst, tid + 1);
      if (clk > dst->c[tid]) dst->c[tid] = clk;
    }
    return;
  }
  {  /* both sparse: merge the pairs */
    uint32_t *m = (uint32_t *)xrealloc(NULL, (size_t)2 * (dst->n + src->n + 1) * sizeof(uint32_t));
    for (i = j = k = 0; i < dst->n || j < src->n; k++) {
      if (j >= src->n || (i < dst->n && dst->c[2 * i] < src->c[2 * j])) {
        m[2 * k] = dst->c[2 * i];
        m[2 * k + 1] = dst->c[2 * i + 1];
        i++;
      } else if (i >= dst->n || src->c[2 * j] < dst->c[2 * i]) {
        m[2 * k] = src->c[2 * j];
        m[2 * k + 1] = src->c[2 * j + 1];
        j++;
      } else {
        m[2 * k] = dst->c[2 * i];
        m[2 * k + 1] = dst->c[2 * i + 1] > src->c[2 * j + 1] ? dst->c[2 * i + 1]
                                                             : src->c[2 * j + 1];
        i++;
        j++;
      }
    }
    free(dst->c);
    dst->c = m;
    dst->n = k;
    dst->cap = 2 * (k ? k : 1);
    vc_maybedense(dst);
  }
}

void lugo__vc_copy(lugo_vc *dst, const lugo_vc *src) {
  if (!src->sparse) {
    vc_fromdense(dst, src->c, src->n);
    return;
  }
  dst->sparse = 1;
  vc_room(dst, 2 * src->n);
  if (src->n) memcpy(dst->c, src->c, (size_t)src->n * 2 * sizeof(uint32_t));
  dst->n = src->n;
}

int lugo__vc_leq(const lugo_vc *a, const lugo_vc *b) {
  uint32_t i;
  if (!a->sparse) {
    for (i = 0; i < a->n; i++)
      if (a->c[i] > lugo__vc_get(b, i)) return 0;
    return 1;
  }
  for (i = 0; i < a->n; i++)
    if (a->c[2 * i + 1] > lugo__vc_get(b, a->c[2 * i])) return 0;
  return 1;
}

/* ---------------------------------------------------------------------
** shadow cells (FastTrack's read and write rules)
** ------------------------------------------------------------------- */

void lugo__shadow_free(lugo_shadow *s) {
  free(s->rs);
  free(s->ws);
  s->rs = s->ws = NULL;
  s->nr = s->capr = s->nw = s->capw = 0;
}

static const lugo_rdent *set_get(const lugo_rdent *set, uint32_t n,
                                 uint32_t tid) {
  uint32_t i;
  for (i = 0; i < n; i++)
    if (set[i].tid == tid) return &set[i];
  return NULL;
}

int lugo__shadow_same(const lugo_shadow *s, uint32_t tid, uint32_t clk,
                      int acc) {
  lugo_epoch e = LUGO_EPOCH(tid, clk);
  const lugo_rdent *d;
  if (acc == LUGO_ACC_MOVE) {
    d = set_get(s->ws, s->nw, tid);
    return d != NULL && d->clk == clk;
  }
  if (s->w == e) return 1;  /* a read after our own write adds nothing */
  if (acc == LUGO_ACC_WRITE) return 0;
  if (s->nr == 0) return s->r == e;
  d = set_get(s->rs, s->nr, tid);
  return d != NULL && d->clk == clk;
}

static void conflict(lugo_conflict *out, int *n, int write, lugo_epoch e,
                     uint32_t stk) {
  if (*n < LUGO_MAXCONFLICT) {
    out[*n].write = write;
    out[*n].e = e;
    out[*n].stk = stk;
  }
  (*n)++;
}

/* put (tid, clk, stk) in the set, replacing tid's entry */
static void set_put(lugo_rdent **set, uint32_t *n, uint32_t *cap, uint32_t tid,
                    uint32_t clk, uint32_t stk) {
  uint32_t i;
  for (i = 0; i < *n; i++)
    if ((*set)[i].tid == tid) break;
  if (i == *n) {
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 4;
      *set = (lugo_rdent *)xrealloc(*set, *cap * sizeof(lugo_rdent));
    }
    (*n)++;
  }
  (*set)[i].tid = tid;
  (*set)[i].clk = clk;
  (*set)[i].stk = stk;
}

/* conflicts with the entries of a set that vc does not know */
static void set_check(const lugo_rdent *set, uint32_t n, const lugo_vc *vc,
                      int write, lugo_conflict *out, int *k) {
  uint32_t i;
  for (i = 0; i < n; i++)
    if (set[i].clk > lugo__vc_get(vc, set[i].tid))
      conflict(out, k, write, LUGO_EPOCH(set[i].tid, set[i].clk), set[i].stk);
}

/* a write's check against the reads */
static void reads_check(const lugo_shadow *s, const lugo_vc *vc,
                        lugo_conflict *out, int *n) {
  if (s->nr > 0) set_check(s->rs, s->nr, vc, 0, out, n);
  else if (s->r != 0 && !LUGO_EPOCH_LEQ(s->r, vc)) conflict(out, n, 0, s->r, s->rstk);
}

int lugo__shadow_access(lugo_shadow *s, const lugo_vc *vc, uint32_t tid,
                        uint32_t stk, int acc, lugo_conflict *out) {
  uint32_t clk = lugo__vc_get(vc, tid), i, j;
  lugo_epoch e = LUGO_EPOCH(tid, clk);
  int n = 0;
  if (acc == LUGO_ACC_MOVE) {  /* against reads only; then drop the moves
                                  this one is known to follow */
    reads_check(s, vc, out, &n);
    for (i = j = 0; i < s->nw; i++)
      if (s->ws[i].clk > lugo__vc_get(vc, s->ws[i].tid)) s->ws[j++] = s->ws[i];
    s->nw = j;
    set_put(&s->ws, &s->nw, &s->capw, tid, clk, stk);
    return n;
  }
  if (s->w != 0 && !LUGO_EPOCH_LEQ(s->w, vc))  /* write-read, write-write */
    conflict(out, &n, 1, s->w, s->wstk);
  set_check(s->ws, s->nw, vc, 1, out, &n);
  if (acc == LUGO_ACC_READ) {
    if (s->nr > 0) {
      set_put(&s->rs, &s->nr, &s->capr, tid, clk, stk);
    } else if (s->r == 0 || LUGO_EPOCH_LEQ(s->r, vc)) {  /* exclusive */
      s->r = e;
      s->rstk = stk;
    } else {  /* concurrent with the last read: keep both */
      set_put(&s->rs, &s->nr, &s->capr, LUGO_ETID(s->r), LUGO_ECLK(s->r), s->rstk);
      set_put(&s->rs, &s->nr, &s->capr, tid, clk, stk);
      s->r = 0;
    }
    return n;
  }
  reads_check(s, vc, out, &n);
  if (s->nr > 0) {  /* every read is before this write, or was reported */
    s->nr = 0;
    s->r = 0;
  }
  s->nw = 0;        /* so is every move */
  s->w = e;
  s->wstk = stk;
  return n;
}

/* ---------------------------------------------------------------------
** the runtime's record: slots, stacks, reports
** ------------------------------------------------------------------- */

typedef struct owner {
  lugo_goid goid;
  uint32_t start;  /* its first clock in the slot */
  uint32_t stk;    /* where it was created (0: by the host) */
} owner;

typedef struct slot {
  uint32_t next;   /* the first clock of its next owner */
  uint32_t nown;   /* owners so far; the last NOWNERS in own[] */
  owner own[NOWNERS];
} slot;

typedef struct stack {
  uint32_t n;
  uint64_t f[MAXFRAMES];
} stack;

/* an open-addressing set of ids (0: empty), found by a hash the caller
** computes and confirmed by the caller's equality */
typedef struct idset {
  uint32_t *ids;
  uint32_t mask, n;
} idset;

struct lugo_race {
  pthread_mutex_t lk;
  /* guarded by lk */
  slot *slots;
  uint32_t nslots, capslots;
  uint32_t *freeq;          /* free slots, a ring of fcap */
  uint32_t fhead, fcount, fcap;
  char **srcs;              /* chunk names by id - 1 (immutable strings) */
  uint32_t nsrcs, capsrcs;
  idset srcset;
  stack *stks;              /* stacks by id - 1 */
  uint32_t nstks, capstks;
  idset stkset;
  uint64_t *pairs;          /* racing stack pairs reported (0: empty) */
  uint32_t pairmask, npairs;
  lugo_ai64 nerr;           /* atomic: races reported */
};

/* A goroutine's record.  Owner M of the G, except vc (see Threads). */
struct lugo_raceg {
  lugo_race *r;
  uint32_t tid;
  uint32_t clk;             /* its own epoch: vc's entry tid, at hand */
  lugo_vc vc;
  lugo_goid goid;
  /* caches, so a stack seen before costs no lock */
  const char *srcp[4];      /* lua_Debug.source pointers, */
  const char *srct[4];      /* the names interned for them, */
  uint32_t srcid[4];        /* and their ids */
  uint32_t srcnext;
  uint64_t lastf[MAXFRAMES];
  uint32_t nlast, laststk;
};

static uint32_t fnv(const void *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  uint32_t h = 2166136261u;
  while (n--) h = (h ^ *s++) * 16777619u;
  return h;
}

/* caller holds r->lk: the slot in set for hash h whose id satisfies eq,
** or the empty one where it would go */
#define SET_FIND(set, h, eq)                                     \
  ({                                                             \
    uint32_t i_ = (h) & (set)->mask;                             \
    while ((set)->ids[i_] != 0) {                                \
      uint32_t id = (set)->ids[i_];                              \
      if (eq) break;                                             \
      i_ = (i_ + 1) & (set)->mask;                               \
    }                                                            \
    i_;                                                          \
  })

static void set_init(idset *s) {
  s->mask = 255;
  s->n = 0;
  s->ids = (uint32_t *)xcalloc(256 * sizeof(uint32_t));
}

/* Caller holds r->lk.  hashof(id) rehashes an entry. */
static void set_grow(idset *s, void *ud, uint32_t (*hashof)(void *, uint32_t)) {
  uint32_t *old = s->ids, oldmask = s->mask, i;
  if ((s->n + 1) * 2 <= s->mask + 1) return;
  s->mask = s->mask * 2 + 1;
  s->ids = (uint32_t *)xcalloc(((size_t)s->mask + 1) * sizeof(uint32_t));
  for (i = 0; i <= oldmask; i++) {
    uint32_t id = old[i], j;
    if (id == 0) continue;
    j = hashof(ud, id) & s->mask;
    while (s->ids[j] != 0) j = (j + 1) & s->mask;
    s->ids[j] = id;
  }
  free(old);
}

static uint32_t srchash(void *ud, uint32_t id) {
  const char *s = ((lugo_race *)ud)->srcs[id - 1];
  return fnv(s, strlen(s));
}

static uint32_t stkhash(void *ud, uint32_t id) {
  const stack *k = &((lugo_race *)ud)->stks[id - 1];
  return fnv(k->f, k->n * sizeof(uint64_t));
}

lugo_race *lugo__race_new(void) {
  lugo_race *r = (lugo_race *)calloc(1, sizeof(*r));
  if (r == NULL) return NULL;
  pthread_mutex_init(&r->lk, NULL);
  set_init(&r->srcset);
  set_init(&r->stkset);
  r->pairmask = 255;
  r->pairs = (uint64_t *)xcalloc(256 * sizeof(uint64_t));
  return r;
}

void lugo__race_free(lugo_race *r) {
  uint32_t i;
  if (r == NULL) return;
  for (i = 0; i < r->nsrcs; i++) free(r->srcs[i]);
  free(r->srcs);
  free(r->srcset.ids);
  free(r->stks);
  free(r->stkset.ids);
  free(r->slots);
  free(r->freeq);
  free(r->pairs);
  pthread_mutex_destroy(&r->lk);
  free(r);
}

long long lugo__race_errors(lugo_race *r) {
  return r ? (long long)lugo_load(&r->nerr) : 0;
}

/* ---------------------------------------------------------------------
** stacks: a frame is 64 bits (chunk name id, current line, the line its
** function was defined at; 0 for a C function); a stack is interned once
** ------------------------------------------------------------------- */

#define F_LINEBITS 21
#define F_LINEMAX ((1u << F_LINEBITS) - 1)
#define FRAME(src, line, def)                                            \
  (((uint64_t)(src) << (2 * F_LINEBITS)) |                               \
   ((uint64_t)((line) > F_LINEMAX ? F_LINEMAX : (line)) << F_LINEBITS) | \
   (uint64_t)((def) > F_LINEMAX ? F_LINEMAX : (def)))
#define F_SRC(f) ((uint32_t)((f) >> (2 * F_LINEBITS)))
#define F_LINE(f) ((uint32_t)(((f) >> F_LINEBITS) & F_LINEMAX))
#define F_DEF(f) ((uint32_t)((f) & F_LINEMAX))

/* Caller holds r->lk. */
static uint32_t src_intern(lugo_race *r, const char *name) {
  uint32_t h = fnv(name, strlen(name)), i;
  set_grow(&r->srcset, r, srchash);
  i = SET_FIND(&r->srcset, h, strcmp(r->srcs[id - 1], name) == 0);
  if (r->srcset.ids[i] != 0) return r->srcset.ids[i];
  if (r->nsrcs == r->capsrcs) {
    r->capsrcs = r->capsrcs ? r->capsrcs * 2 : 16;
    r->srcs = (char **)xrealloc(r->srcs, r->capsrcs * sizeof(char *));
  }
  r->srcs[r->nsrcs] = strdup(name);
  if (r->srcs[r->nsrcs] == NULL) oom();
  r->srcset.ids[i] = ++r->nsrcs;
  r->srcset.n++;
  return r->nsrcs;
}

static uint32_t srcid(lugo_race *r, lugo_raceg *rg, const lua_Debug *ar) {
  uint32_t i, id;
  for (i = 0; i < 4; i++)  /* the pointer, then the text: a freed chunk
                              name's memory may hold another one now */
    if (rg->srcp[i] == ar->source && strcmp(rg->srct[i], ar->short_src) == 0)
      return rg->srcid[i];
  pthread_mutex_lock(&r->lk);
  id = src_intern(r, ar->short_src);
  i = rg->srcnext++ & 3;
  rg->srct[i] = r->srcs[id - 1];
  pthread_mutex_unlock(&r->lk);
  rg->srcp[i] = ar->source;
  rg->srcid[i] = id;
  return id;
}

uint32_t lugo__race_stack(lugo_race *r, lugo_raceg *rg, lua_State *L) {
  lua_Debug ar;
  uint64_t f[MAXFRAMES];
  uint32_t n = 0, h, i, id;
  int level = 0;
  if (L == NULL) return 0;
  while (n < MAXFRAMES && lua_getstack(L, level++, &ar)) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline < 0) {    /* a C function: the hook's caller on */
      if (n > 0) f[n++] = 0;     /* top is left out */
      continue;
    }
    f[n++] = FRAME(srcid(r, rg, &ar), (uint32_t)ar.currentline,
                   (uint32_t)(ar.linedefined < 0 ? 0 : ar.linedefined));
    if (ar.linedefined == 0) break;  /* a main chunk: below it is the host
                                        (the command's driver, the REPL) */
  }
  while (n > 0 && f[n - 1] == 0) n--;  /* the host's call of the main chunk */
  if (n == rg->nlast && memcmp(f, rg->lastf, n * sizeof(uint64_t)) == 0 &&
      rg->laststk != 0)
    return rg->laststk;
  h = fnv(f, n * sizeof(uint64_t));
  pthread_mutex_lock(&r->lk);
  set_grow(&r->stkset, r, stkhash);
  i = SET_FIND(&r->stkset, h,
               r->stks[id - 1].n == n &&
                   memcmp(r->stks[id - 1].f, f, n * sizeof(uint64_t)) == 0);
  if ((id = r->stkset.ids[i]) == 0) {
    if (r->nstks == r->capstks) {
      r->capstks = r->capstks ? r->capstks * 2 : 64;
      r->stks = (stack *)xrealloc(r->stks, r->capstks * sizeof(stack));
    }
    r->stks[r->nstks].n = n;
    memcpy(r->stks[r->nstks].f, f, n * sizeof(uint64_t));
    id = r->stkset.ids[i] = ++r->nstks;
    r->stkset.n++;
  }
  pthread_mutex_unlock(&r->lk);
  memcpy(rg->lastf, f, n * sizeof(uint64_t));
  rg->nlast = n;
  rg->laststk = id;
  return id;
}

/* a growing text buffer for one report (truncated at REPORTMAX) */
typedef struct tbuf {
  char s[REPORTMAX];
  size_t n;
} tbuf;

static void tb_add(tbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tb_add(tbuf *b, const char *fmt, ...) {
  va_list ap;
  int k;
  if (b->n >= sizeof(b->s) - 1) return;
  va_start(ap, fmt);
  k = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
  va_end(ap);
  if (k > 0) b->n += (size_t)k;
  if (b->n > sizeof(b->s) - 1) b->n = sizeof(b->s) - 1;
}

/* Caller holds r->lk. */
static void tb_stack(tbuf *b, lugo_race *r, uint32_t stk) {
  const stack *k;
  uint32_t i;
  if (stk == 0 || stk > r->nstks || r->stks[stk - 1].n == 0) {
    tb_add(b, "  (no Lua frames)\n");
    return;
  }
  k = &r->stks[stk - 1];
  for (i = 0; i < k->n; i++) {
    uint64_t f = k->f[i];
    const char *src;
    if (f == 0) {
      tb_add(b, "  [C]: in ?\n");
      continue;
    }
    src = r->srcs[F_SRC(f) - 1];
    if (F_DEF(f) == 0)
      tb_add(b, "  %s:%u in main chunk\n", src, F_LINE(f));
    else
      tb_add(b, "  %s:%u in function <%s:%u>\n", src, F_LINE(f), src, F_DEF(f));
  }
}

/* ---------------------------------------------------------------------
** slots
** ------------------------------------------------------------------- */

/* Caller holds r->lk.  The owner of slot tid at clock clk, or NULL. */
static const owner *ownerof(lugo_race *r, uint32_t tid, uint32_t clk) {
  const slot *s;
  const owner *best = NULL;
  uint32_t i, k;
  if (tid >= r->nslots) return NULL;
  s = &r->slots[tid];
  k = s->nown < NOWNERS ? s->nown : NOWNERS;
  for (i = 0; i < k; i++) {
    const owner *o = &s->own[i];
    if (o->start <= clk && (best == NULL || o->start > best->start)) best = o;
  }
  /* an owner older than those remembered may have had that clock */
  if (best != NULL && s->nown > NOWNERS) {
    uint32_t oldest = (uint32_t)-1;
    for (i = 0; i < NOWNERS; i++)
      if (s->own[i].start < oldest) oldest = s->own[i].start;
    if (best->start == oldest && clk < oldest) best = NULL;
  }
  return best;
}

static uint32_t slot_take(lugo_race *r, lugo_goid goid, uint32_t stk,
                          uint32_t *start) {
  uint32_t tid;
  slot *s;
  owner *o;
  pthread_mutex_lock(&r->lk);
  if (r->fcount > QUARANTINE) {
    tid = r->freeq[r->fhead];
    r->fhead = (r->fhead + 1) % r->fcap;
    r->fcount--;
  } else {
    if (r->nslots == r->capslots) {
      r->capslots = r->capslots ? r->capslots * 2 : 64;
      r->slots = (slot *)xrealloc(r->slots, r->capslots * sizeof(slot));
    }
    tid = r->nslots++;
    r->slots[tid].next = 1;
    r->slots[tid].nown = 0;
  }
  s = &r->slots[tid];
  o = &s->own[s->nown++ % NOWNERS];
  o->goid = goid;
  o->start = s->next;
  o->stk = stk;
  *start = s->next;
  pthread_mutex_unlock(&r->lk);
  return tid;
}

int lugo__race_full(lugo_race *r) {
  uint32_t live;
  pthread_mutex_lock(&r->lk);
  live = r->nslots - r->fcount;
  pthread_mutex_unlock(&r->lk);
  return live >= LUGO_RACE_MAXLIVE;
}

static void slot_give(lugo_race *r, uint32_t tid, uint32_t last) {
  pthread_mutex_lock(&r->lk);
  r->slots[tid].next = last + 1;
  if (r->fcount == r->fcap) {  /* grow the ring, keeping its order */
    uint32_t cap = r->fcap ? r->fcap * 2 : 64, i;
    uint32_t *q = (uint32_t *)xrealloc(NULL, cap * sizeof(uint32_t));
    for (i = 0; i < r->fcount; i++) q[i] = r->freeq[(r->fhead + i) % r->fcap];
    free(r->freeq);
    r->freeq = q;
    r->fcap = cap;
    r->fhead = 0;
  }
  r->freeq[(r->fhead + r->fcount++) % r->fcap] = tid;
  pthread_mutex_unlock(&r->lk);
}

/* ---------------------------------------------------------------------
** goroutines
** ------------------------------------------------------------------- */

static void tick(lugo_raceg *rg) {
  lugo__vc_set(&rg->vc, rg->tid, ++rg->clk);
}

lugo_G *lugo__race_cur(void) {
  lugo_M *m = lugo__getm();
  lugo_G *g = m ? m->curg : NULL;
  return g && g->race ? g : NULL;
}

void lugo__race_gnew(lugo_runtime *rt, lugo_G *g, lugo_G *parent) {
  lugo_race *r = rt->race;
  lugo_raceg *rg, *pg = parent ? parent->race : NULL;
  uint32_t stk = 0, start;
  if (r == NULL) return;
  rg = (lugo_raceg *)xcalloc(sizeof(*rg));
  rg->r = r;
  rg->goid = g->id;
  if (pg != NULL) stk = lugo__race_stack(r, pg, parent->cur);
  rg->tid = slot_take(r, g->id, stk, &start);
  if (pg != NULL) {
    lugo__vc_copy(&rg->vc, &pg->vc);
    tick(pg);
  }
  rg->clk = start;
  lugo__vc_set(&rg->vc, rg->tid, start);
  g->race = rg;
}

void lugo__race_gend(lugo_G *g) {
  lugo_raceg *rg = g->race;
  if (rg == NULL) return;
  g->race = NULL;
  slot_give(rg->r, rg->tid, rg->clk);
  lugo__vc_free(&rg->vc);
  free(rg);
}

/* ---------------------------------------------------------------------
** reports
** ------------------------------------------------------------------- */

/* what a report says of a location and of each kind of access to it */
typedef struct place {
  const char *rverb, *wverb;  /* "Read at", "Write at" */
  char what[200];             /* "shared table 0x... key \"n\"" */
} place;

static void lower1(tbuf *b, const char *verb) {
  tb_add(b, "%c%s", verb[0] >= 'A' && verb[0] <= 'Z' ? verb[0] + 32 : verb[0],
         verb + 1);
}

/* Say that the access of rg (write?, from stack stk) races with c.  Each
** pair of stacks is reported once. */
static void report(lugo_raceg *rg, int write, uint32_t stk, const place *pl,
                   const lugo_conflict *c) {
  lugo_race *r = rg->r;
  uint32_t a = stk < c->stk ? stk : c->stk, b = stk < c->stk ? c->stk : stk;
  uint64_t key = (((uint64_t)a << 32) | b) ^ 0x8000000000000000ull;
  uint32_t i;
  const owner *me, *other;
  tbuf *t;
  pthread_mutex_lock(&r->lk);
  for (i = (uint32_t)(key * 0x9E3779B97F4A7C15ull >> 32) & r->pairmask;
       r->pairs[i] != 0; i = (i + 1) & r->pairmask)
    if (r->pairs[i] == key) {
      pthread_mutex_unlock(&r->lk);
      return;
    }
  r->pairs[i] = key;
  if (++r->npairs * 2 > r->pairmask) {  /* grow the set */
    uint64_t *old = r->pairs;
    uint32_t oldmask = r->pairmask, j;
    r->pairmask = r->pairmask * 2 + 1;
    r->pairs = (uint64_t *)xcalloc(((size_t)r->pairmask + 1) * sizeof(uint64_t));
    for (j = 0; j <= oldmask; j++) {
      uint32_t k;
      if (old[j] == 0) continue;
      for (k = (uint32_t)(old[j] * 0x9E3779B97F4A7C15ull >> 32) & r->pairmask;
           r->pairs[k] != 0; k = (k + 1) & r->pairmask) {}
      r->pairs[k] = old[j];
    }
    free(old);
  }
  t = (tbuf *)xcalloc(sizeof(tbuf));  /* reports are rare */
  me = ownerof(r, rg->tid, rg->clk);
  other = ownerof(r, LUGO_ETID(c->e), LUGO_ECLK(c->e));
  tb_add(t, "==================\nWARNING: DATA RACE\n");
  tb_add(t, "%s %s by goroutine %lld:\n", write ? pl->wverb : pl->rverb, pl->what,
         (long long)rg->goid);
  tb_stack(t, r, stk);
  tb_add(t, "Previous ");
  lower1(t, c->write ? pl->wverb : pl->rverb);
  if (other != NULL)
    tb_add(t, " %s by goroutine %lld:\n", pl->what, (long long)other->goid);
  else
    tb_add(t, " %s by a goroutine that has ended:\n", pl->what);
  tb_stack(t, r, c->stk);
  if (me != NULL && me->stk != 0) {
    tb_add(t, "Goroutine %lld created at:\n", (long long)me->goid);
    tb_stack(t, r, me->stk);
  }
  if (other != NULL && other->stk != 0) {
    tb_add(t, "Goroutine %lld created at:\n", (long long)other->goid);
    tb_stack(t, r, other->stk);
  }
  tb_add(t, "==================\n");
  lugo_xadd(&r->nerr, 1);
  /* one write, under lk: two reports never interleave */
  fflush(stdout);
  fwrite(t->s, 1, t->n, stderr);
  fflush(stderr);
  pthread_mutex_unlock(&r->lk);
  free(t);
}

/* check an access of g to s (its lock held by the caller), from the
** stack of L; conflicts are copied to out for reporting after unlock */
static int check(lugo_raceg *rg, lua_State *L, lugo_shadow *s, int acc,
                 uint32_t *stk, lugo_conflict *out) {
  if (lugo__shadow_same(s, rg->tid, rg->clk, acc)) return 0;
  *stk = lugo__race_stack(rg->r, rg, L);
  return lugo__shadow_access(s, &rg->vc, rg->tid, *stk, acc, out);
}

static void reportall(lugo_raceg *rg, int write, uint32_t stk, const place *pl,
                      const lugo_conflict *out, int n) {
  int i;
  for (i = 0; i < n && i < LUGO_MAXCONFLICT; i++) report(rg, write, stk, pl, &out[i]);
}

/* ---------------------------------------------------------------------
** records of runtime objects (o->race): made on first use, freed with
** the object
** ------------------------------------------------------------------- */

enum { R_SYNC = 1, R_CHAN, R_TAB };

typedef struct rsync {   /* Mutex, WaitGroup, atomics, ... */
  int kind;
  pthread_mutex_t lk;
  lugo_vc vc[2];         /* guarded by lk */
  lugo_shadow sh;        /* guarded by lk: a pseudo-location */
} rsync;

typedef struct rchan {
  int kind;
  /* guarded by the channel's lock */
  lugo_vc closevc;
  lugo_vc armvc;         /* a timer's channel: what its arming goroutines
                            did, carried by the timer's sends */
  lugo_vc *slots;        /* cap of them */
  size_t cap;
  uint64_t nsent, nrecvd;
  lugo_shadow sh;        /* sends read it, close writes it */
} rchan;

typedef struct cell {
  struct cell *next;
  uint32_t hash;
  int border;            /* the pseudo-key #t */
  lugo_shval key;        /* its own copy */
  lugo_shadow sh;
} cell;

typedef struct rtab {
  int kind;
  pthread_mutex_t lk;
  cell **b;              /* guarded by lk: buckets */
  uint32_t nb, n;
} rtab;

void lugo__race_objfree(void *p) {
  int kind = *(int *)p;
  if (kind == R_SYNC) {
    rsync *s = (rsync *)p;
    lugo__vc_free(&s->vc[0]);
    lugo__vc_free(&s->vc[1]);
    lugo__shadow_free(&s->sh);
    pthread_mutex_destroy(&s->lk);
  } else if (kind == R_CHAN) {
    rchan *c = (rchan *)p;
    size_t i;
    lugo__vc_free(&c->closevc);
    lugo__vc_free(&c->armvc);
    for (i = 0; i < c->cap; i++) lugo__vc_free(&c->slots[i]);
    free(c->slots);
    lugo__shadow_free(&c->sh);
  } else {
    rtab *t = (rtab *)p;
    uint32_t i;
    for (i = 0; i < t->nb; i++) {
      cell *e = t->b[i];
      while (e != NULL) {
        cell *nx = e->next;
        lugo__shadow_free(&e->sh);
        lugo__shval_free(&e->key);
        free(e);
        e = nx;
      }
    }
    free(t->b);
    pthread_mutex_destroy(&t->lk);
  }
  free(p);
}

/* o's record, made if it has none (any thread) */
static void *record(lugo_obj *o, int kind) {
  void *p = lugo_load(&o->race);
  if (p != NULL) return p;
  if (kind == R_SYNC) {
    rsync *s = (rsync *)xcalloc(sizeof(rsync));
    pthread_mutex_init(&s->lk, NULL);
    p = s;
  } else {
    rtab *t = (rtab *)xcalloc(sizeof(rtab));
    pthread_mutex_init(&t->lk, NULL);
    t->nb = 16;
    t->b = (cell **)xcalloc(16 * sizeof(cell *));
    p = t;
  }
  *(int *)p = kind;
  if (!lugo_casp(&o->race, NULL, p)) {
    lugo__race_objfree(p);
    p = lugo_load(&o->race);
  }
  return p;
}

void lugo__race_release(lugo_G *g, lugo_obj *o, int which) {
  lugo_raceg *rg = g->race;
  rsync *s = (rsync *)record(o, R_SYNC);
  pthread_mutex_lock(&s->lk);
  lugo__vc_join(&s->vc[which], &rg->vc);
  pthread_mutex_unlock(&s->lk);
  tick(rg);
}

void lugo__race_acquire(lugo_G *g, lugo_obj *o, int which) {
  rsync *s = (rsync *)lugo_load(&o->race);
  if (s == NULL) return;  /* nothing released yet */
  pthread_mutex_lock(&s->lk);
  lugo__vc_join(&g->race->vc, &s->vc[which]);
  pthread_mutex_unlock(&s->lk);
}

void lugo__race_objaccess(lugo_G *g, lugo_obj *o, int write,
                          const char *rverb, const char *wverb) {
  lugo_raceg *rg = g->race;
  rsync *s = (rsync *)record(o, R_SYNC);
  lugo_conflict out[LUGO_MAXCONFLICT];
  uint32_t stk = 0;
  int n;
  place pl;
  pthread_mutex_lock(&s->lk);
  n = check(rg, g->cur, &s->sh, write ? LUGO_ACC_WRITE : LUGO_ACC_READ, &stk, out);
  pthread_mutex_unlock(&s->lk);
  if (n == 0) return;
  pl.rverb = rverb;
  pl.wverb = wverb;
  snprintf(pl.what, sizeof(pl.what), "%s %p", o->type->tname, (void *)o);
  reportall(rg, write, stk, &pl, out, n);
}

/* ---------------------------------------------------------------------
** channels (caller holds c->lock)
** ------------------------------------------------------------------- */

static rchan *chanrec(lugo_chan *c) {
  rchan *rc = (rchan *)lugo_load(&c->obj.race);
  if (rc == NULL) {  /* under c->lock: nobody else makes it */
    rc = (rchan *)xcalloc(sizeof(rchan));
    rc->kind = R_CHAN;
    rc->cap = c->cap;
    if (c->cap > 0) rc->slots = (lugo_vc *)xcalloc(c->cap * sizeof(lugo_vc));
    lugo_store(&c->obj.race, rc);
  }
  return rc;
}

/* the k-th send or receive meets the clock of buffer slot k % cap: it
** acquires what the operation before it there left, and leaves its own */
static void slotsync(lugo_vc *slot, lugo_G *g) {
  if (g == NULL || g->race == NULL) return;
  lugo__vc_join(&g->race->vc, slot);
  lugo__vc_copy(slot, &g->race->vc);
  tick(g->race);
}

void lugo__race_chansend(lugo_chan *c, lugo_G *g) {
  rchan *rc = chanrec(c);
  lugo_vc *slot;
  if (rc->cap == 0) return;
  slot = &rc->slots[rc->nsent++ % rc->cap];
  if (g != NULL && g->race != NULL) slotsync(slot, g);
  else if (rc->armvc.n > 0) lugo__vc_join(slot, &rc->armvc);  /* a timer */
}

void lugo__race_timerarm(lugo_G *g, lugo_chan *c) {
  rchan *rc;
  pthread_mutex_lock(&c->lock);
  rc = chanrec(c);
  lugo__vc_join(&rc->armvc, &g->race->vc);
  pthread_mutex_unlock(&c->lock);
  tick(g->race);
}

void lugo__race_chanrecv(lugo_chan *c, lugo_G *g) {
  rchan *rc = chanrec(c);
  if (rc->cap > 0) slotsync(&rc->slots[rc->nrecvd++ % rc->cap], g);
}

void lugo__race_chansync(lugo_G *a, lugo_G *b) {
  lugo_raceg *ra = a ? a->race : NULL, *rb = b ? b->race : NULL;
  if (ra == NULL || rb == NULL) return;
  lugo__vc_join(&ra->vc, &rb->vc);
  lugo__vc_copy(&rb->vc, &ra->vc);
  tick(ra);
  tick(rb);
}

static void chanplace(place *pl, lugo_chan *c) {
  pl->rverb = "Send on";
  pl->wverb = "Close of";
  snprintf(pl->what, sizeof(pl->what), "channel %p", (void *)c);
}

void lugo__race_chanclose(lugo_chan *c, lugo_G *g) {
  rchan *rc = chanrec(c);
  lugo_conflict out[LUGO_MAXCONFLICT];
  uint32_t stk = 0;
  int n;
  place pl;
  if (g == NULL || g->race == NULL) return;
  n = check(g->race, g->cur, &rc->sh, LUGO_ACC_WRITE, &stk, out);
  lugo__vc_join(&rc->closevc, &g->race->vc);
  tick(g->race);
  if (n == 0) return;
  chanplace(&pl, c);
  reportall(g->race, 1, stk, &pl, out, n);  /* takes r->lk: last */
}

void lugo__race_chanclosed(lugo_chan *c, lugo_G *g) {
  rchan *rc = chanrec(c);
  if (g != NULL && g->race != NULL) lugo__vc_join(&g->race->vc, &rc->closevc);
}

void lugo__race_sendcheck(lugo_chan *c, lugo_G *g) {
  rchan *rc;
  lugo_conflict out[LUGO_MAXCONFLICT];
  uint32_t stk = 0;
  int n;
  place pl;
  if (g == NULL || g->race == NULL) return;
  rc = chanrec(c);
  n = check(g->race, g->cur, &rc->sh, LUGO_ACC_READ, &stk, out);
  if (n == 0) return;
  chanplace(&pl, c);
  reportall(g->race, 0, stk, &pl, out, n);
}

/* ---------------------------------------------------------------------
** shared tables
** ------------------------------------------------------------------- */

static void keytext(char *buf, size_t n, const lugo_shval *k) {
  const char *s = NULL;
  size_t len = 0, i, j = 0;
  switch (k->t) {
    case LUGO_SV_INT: snprintf(buf, n, "%lld", (long long)k->u.i); return;
    case LUGO_SV_FLT: snprintf(buf, n, "%.14g", (double)k->u.n); return;
    case LUGO_SV_TRUE: snprintf(buf, n, "true"); return;
    case LUGO_SV_FALSE: snprintf(buf, n, "false"); return;
    case LUGO_SV_OBJ:
      snprintf(buf, n, "%s: %p", k->u.o->type->tname, (void *)k->u.o);
      return;
    case LUGO_SV_SSTR: s = lugo_sv_str(k); len = k->len; break;
    case LUGO_SV_LSTR: s = k->u.ls->s; len = k->u.ls->len; break;
    default: snprintf(buf, n, "?"); return;
  }
  buf[j++] = '"';
  for (i = 0; i < len && j + 6 < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\') {
      buf[j++] = '\\';
      buf[j++] = (char)ch;
    } else if (ch < 32 || ch >= 127) {
      j += (size_t)snprintf(buf + j, n - j, "\\%u", ch);
    } else {
      buf[j++] = (char)ch;
    }
  }
  if (i < len) { buf[j++] = '.'; buf[j++] = '.'; buf[j++] = '.'; }
  buf[j++] = '"';
  buf[j] = '\0';
}

/* a copy of k's key for a cell (references of its own) */
static void keycopy(lugo_shval *dst, const lugo_shkey *k) {
  *dst = k->v;
  if (k->v.t == LUGO_SV_LSTR) {
    dst->u.ls = lugo__shstr_new(k->s, k->len);
    if (dst->u.ls == NULL) oom();
  } else if (k->v.t == LUGO_SV_SSTR) {
    dst->len = (unsigned char)k->len;
    memcpy(lugo_sv_str(dst), k->s, k->len);
  } else if (k->v.t == LUGO_SV_OBJ) {
    lugo__obj_grab(k->v.u.o);
  }
}

/* Caller holds t->lk.  The cell of k (NULL: the border), made if new. */
static cell *findcell(rtab *t, const lugo_shkey *k) {
  uint32_t h = k ? k->hash : 0x9E3779B9u, i;
  cell *e;
  for (e = t->b[h & (t->nb - 1)]; e != NULL; e = e->next)
    if (e->hash == h &&
        (k == NULL ? e->border : !e->border && lugo__shkey_eq(&e->key, k)))
      return e;
  if (t->n >= t->nb) {  /* grow */
    uint32_t nb = t->nb * 2;
    cell **b = (cell **)xcalloc(nb * sizeof(cell *));
    for (i = 0; i < t->nb; i++) {
      while ((e = t->b[i]) != NULL) {
        t->b[i] = e->next;
        e->next = b[e->hash & (nb - 1)];
        b[e->hash & (nb - 1)] = e;
      }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
  }
  e = (cell *)xcalloc(sizeof(cell));
  e->hash = h;
  if (k == NULL) e->border = 1; else keycopy(&e->key, k);
  e->next = t->b[h & (t->nb - 1)];
  t->b[h & (t->nb - 1)] = e;
  t->n++;
  return e;
}

void lugo__race_shaccess(lugo_G *g, lua_State *L, lugo_shtable *t,
                         const lugo_shkey *k, int acc) {
  lugo_raceg *rg = g->race;
  rtab *rt = (rtab *)record(&t->obj, R_TAB);
  lugo_conflict out[LUGO_MAXCONFLICT];
  uint32_t stk = 0;
  int n;
  place pl;
  cell *e;
  pthread_mutex_lock(&rt->lk);
  e = findcell(rt, k);
  n = check(rg, L, &e->sh, acc, &stk, out);
  if (n > 0) {
    char kt[120];
    if (e->border) {
      snprintf(pl.what, sizeof(pl.what), "shared table %p length (#)", (void *)t);
    } else {
      keytext(kt, sizeof(kt), &e->key);
      snprintf(pl.what, sizeof(pl.what), "shared table %p key %s", (void *)t, kt);
    }
  }
  pthread_mutex_unlock(&rt->lk);
  if (n == 0) return;
  pl.rverb = "Read at";
  pl.wverb = "Write at";
  reportall(rg, acc != LUGO_ACC_READ, stk, &pl, out, n);
}

void lugo__race_shslot(lugo_G *g, lua_State *L, lugo_shtable *t,
                       const lugo_shslot *e) {
  lugo_shkey k;
  k.v = e->k;
  k.hash = e->hash;
  k.s = NULL;
  k.len = 0;
  if (e->k.t == LUGO_SV_SSTR) {
    k.s = lugo_sv_str(&e->k);
    k.len = e->k.len;
  } else if (e->k.t == LUGO_SV_LSTR) {
    k.s = e->k.u.ls->s;
    k.len = e->k.u.ls->len;
  }
  lugo__race_shaccess(g, L, t, &k, LUGO_ACC_READ);
}

void lugo__race_shmap(lugo_G *g, lugo_shtable *t, const lugo_shmap *m) {
  uint32_t i;
  for (i = 0; i < m->cap; i++)
    if (m->slots[i].k.t != LUGO_SV_NIL) lugo__race_shslot(g, g->cur, t, &m->slots[i]);
}
