/*
** shared.c -- shared tables, frozen tables and the cycle collector (the
** Lua side is stdlib/lshared.c).  Any thread may call in.
**
** Invariants.
** - A shared table's map, border and mod are touched only under its
**   spinlock t->lk, which is held for one lookup, one store or one copy of
**   the entries: never across a call that can block, raise, run Lua or
**   release an object (releases happen after unlocking).  So a thread
**   holding t->lk never waits for anything but another table's... nothing:
**   it takes no other lock.  The collector (holding reg->lk) takes table
**   locks one at a time; nothing takes reg->lk while holding a table lock.
**   Lock order: reg->lk, then one t->lk.
** - A stored value never changes: a store replaces it.  Long strings and
**   blobs are counted, so a reader that needs one past the lock grabs it
**   under the lock.
** - t->mod grows on every access, read or write; the collector uses it to
**   see that nobody reached into a table while it looked.
** - A frozen graph is built by one thread before anyone else can see it,
**   then never changes: readers need no lock.  Its nodes count references
**   on the graph as a whole, and pointers from one node to another of the
**   same graph hold none, so cycles inside a graph cost nothing.
** - Frees of tables and graphs are deferred to a per-thread worklist, so a
**   long chain of nested tables is freed in a loop, not by recursion.
*/
#include "shared.h"

#include "race.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "mformat.h"  /* lugo_blob: the collector reads its objects */
#include "scheduler.h"

/* ---------------------------------------------------------------------
** values
** ------------------------------------------------------------------- */

lugo_shstr *lugo__shstr_new(const char *s, size_t len) {
  lugo_shstr *ls = (lugo_shstr *)malloc(sizeof(*ls) + len + 1);
  if (ls == NULL) return NULL;
  lugo_store_relaxed(&ls->refs, 1);
  ls->len = len;
  memcpy(ls->s, s, len);
  ls->s[len] = '\0';
  return ls;
}

lugo_shblob *lugo__shblob_new(lugo_blob *b) {
  lugo_shblob *sb = (lugo_shblob *)malloc(sizeof(*sb));
  if (sb == NULL) return NULL;
  lugo_store_relaxed(&sb->refs, 1);
  sb->b = b;
  sb->dead = 0;
  return sb;
}

static void blob_free(lugo_shblob *sb) {
  lugo__blob_free(sb->b);
  free(sb);
}

void lugo__shval_grab(const lugo_shval *v) {
  /* relaxed: the grabber holds a reference already (or the lock of a table
  ** that does), as in lugo__obj_grab */
  switch (v->t) {
    case LUGO_SV_LSTR:
      if (v->u.ls) atomic_fetch_add_explicit(&v->u.ls->refs, 1, memory_order_relaxed);
      break;
    case LUGO_SV_BLOB:
      atomic_fetch_add_explicit(&v->u.b->refs, 1, memory_order_relaxed);
      break;
    case LUGO_SV_OBJ: lugo__obj_grab(v->u.o); break;
    default: break;
  }
}

void lugo__shval_free(lugo_shval *v) {
  /* acq_rel: every use by other holders happens before the free */
  switch (v->t) {
    case LUGO_SV_LSTR:
      if (v->u.ls && atomic_fetch_sub_explicit(&v->u.ls->refs, 1,
                                               memory_order_acq_rel) == 1)
        free(v->u.ls);
      break;
    case LUGO_SV_BLOB:
      if (atomic_fetch_sub_explicit(&v->u.b->refs, 1, memory_order_acq_rel) == 1)
        blob_free(v->u.b);
      break;
    case LUGO_SV_OBJ: lugo__obj_release(v->u.o); break;
    default: break;
  }
  v->t = LUGO_SV_NIL;
}

/* ---------------------------------------------------------------------
** keys
** ------------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x) {  /* splitmix64's finalizer */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/* a pointer -> pointer map (open addressing; zeroed is empty; it only
** grows): the collector's blob index, a freeze's table -> node memo */
typedef struct ptrmap {
  const void **k;
  void **v;
  size_t n, cap;
} ptrmap;

/* the value slot of key, or NULL */
static void **ptrmap_get(const ptrmap *m, const void *key) {
  size_t j;
  if (m->cap == 0) return NULL;
  for (j = mix64((uintptr_t)key) & (m->cap - 1); m->k[j]; j = (j + 1) & (m->cap - 1))
    if (m->k[j] == key) return &m->v[j];
  return NULL;
}

/* a new slot for key (not in m yet); NULL: no memory */
static void **ptrmap_add(ptrmap *m, const void *key) {
  size_t j;
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 16, i;
    const void **k = (const void **)calloc(cap, sizeof(*k));
    void **v = (void **)malloc(cap * sizeof(*v));
    if (k == NULL || v == NULL) {
      free(k);
      free(v);
      return NULL;
    }
    for (i = 0; i < m->cap; i++) {
      if (m->k[i] == NULL) continue;
      for (j = mix64((uintptr_t)m->k[i]) & (cap - 1); k[j]; j = (j + 1) & (cap - 1)) {}
      k[j] = m->k[i];
      v[j] = m->v[i];
    }
    free(m->k);
    free(m->v);
    m->k = k;
    m->v = v;
    m->cap = cap;
  }
  for (j = mix64((uintptr_t)key) & (m->cap - 1); m->k[j]; j = (j + 1) & (m->cap - 1)) {}
  m->k[j] = key;
  m->n++;
  return &m->v[j];
}

static void ptrmap_free(ptrmap *m) {
  free(m->k);
  free(m->v);
  m->k = NULL;
  m->v = NULL;
  m->n = m->cap = 0;
}

static inline uint64_t rd8(const char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint64_t rd4(const char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* wyhash's way of reading a short tail: overlapping loads, no loop */
static uint32_t hashbytes(const char *s, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n, w;
  if (n <= 8) {
    if (n >= 4) w = (rd4(s) << 32) | rd4(s + n - 4);
    else if (n > 0) w = ((uint64_t)(unsigned char)s[0] << 16) |
                        ((uint64_t)(unsigned char)s[n >> 1] << 8) |
                        (unsigned char)s[n - 1];
    else w = 0;
  } else {
    size_t i;
    for (i = 0; i + 8 < n; i += 8) {
      h = (h ^ rd8(s + i)) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    w = rd8(s + n - 8);
  }
  h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebULL;
  return (uint32_t)(h >> 32);
}

void lugo__shkey_int(lugo_shkey *k, lua_Integer i) {
  k->v.t = LUGO_SV_INT;
  k->v.u.i = i;
  k->hash = (uint32_t)mix64((uint64_t)i);
}

void lugo__shkey_num(lugo_shkey *k, lua_Number n) {
  /* Lua's rule (luaV_flttointns, F2Ieq): an integral float in range is
  ** the integer key; -0.0 is 0 */
  if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
      (lua_Number)(lua_Integer)n == n) {
    lugo__shkey_int(k, (lua_Integer)n);
    return;
  }
  {
    uint64_t bits;
    memcpy(&bits, &n, sizeof(bits));
    k->v.t = LUGO_SV_FLT;
    k->v.u.n = n;
    k->hash = (uint32_t)mix64(bits ^ 0x5bd1e995u);
  }
}

void lugo__shkey_bool(lugo_shkey *k, int b) {
  k->v.t = b ? LUGO_SV_TRUE : LUGO_SV_FALSE;
  k->hash = b ? 0x2545f491u : 0x6a09e667u;
}

void lugo__shkey_str(lugo_shkey *k, const char *s, size_t len) {
  k->s = s;
  k->len = len;
  k->hash = hashbytes(s, len);
  if (len <= LUGO_SV_SHORT) {
    k->v.t = LUGO_SV_SSTR;  /* its bytes: copied by lugo__shkey_own */
    k->v.len = (unsigned char)len;
  } else {
    k->v.t = LUGO_SV_LSTR;
    k->v.u.ls = NULL;  /* borrowed: s */
  }
}

void lugo__shkey_obj(lugo_shkey *k, lugo_obj *o) {
  k->v.t = LUGO_SV_OBJ;
  k->v.u.o = o;
  k->hash = (uint32_t)mix64((uint64_t)(uintptr_t)o);
}

/* the key's parts that are references (long string, object) belong to
** it after this; scalars and short strings always do */
int lugo__shkey_own(lugo_shkey *k) {
  if (k->v.t == LUGO_SV_SSTR) {
    if (k->s != lugo_sv_str(&k->v)) memmove(lugo_sv_str(&k->v), k->s, k->len);
  } else if (k->v.t == LUGO_SV_LSTR && k->v.u.ls == NULL) {
    k->v.u.ls = lugo__shstr_new(k->s, k->len);
    if (k->v.u.ls == NULL) return LUGO_ENOMEM;
    k->s = k->v.u.ls->s;
  } else if (k->v.t == LUGO_SV_OBJ) {
    lugo__obj_grab(k->v.u.o);
  }
  return LUGO_OK;
}

int lugo__shkey_eq(const lugo_shval *a, const lugo_shkey *k) {
  if (a->t != k->v.t) return 0;
  switch (a->t) {
    case LUGO_SV_INT: return a->u.i == k->v.u.i;
    case LUGO_SV_FLT: return a->u.n == k->v.u.n;
    case LUGO_SV_SSTR:
      return a->len == k->len && memcmp(lugo_sv_str(a), k->s, k->len) == 0;
    case LUGO_SV_LSTR:
      return a->u.ls->len == k->len && memcmp(a->u.ls->s, k->s, k->len) == 0;
    case LUGO_SV_OBJ: return a->u.o == k->v.u.o;
    default: return 1;  /* true, false */
  }
}

/* ---------------------------------------------------------------------
** the map
** ------------------------------------------------------------------- */

#define MINCAP 4

/* where k is (*found set), or the empty slot where it would go; cap > 0 */
static uint32_t map_find(const lugo_shmap *m, const lugo_shkey *k, int *found) {
  uint32_t mask = m->cap - 1, i = k->hash & mask;
  for (;;) {
    const lugo_shslot *s = &m->slots[i];
    if (s->k.t == LUGO_SV_NIL) {
      *found = 0;
      return i;
    }
    if (s->hash == k->hash && lugo__shkey_eq(&s->k, k)) {
      *found = 1;
      return i;
    }
    i = (i + 1) & mask;
  }
}

static int map_present(const lugo_shmap *m, lua_Integer i) {
  lugo_shkey k;
  int found;
  if (m->cap == 0) return 0;
  lugo__shkey_int(&k, i);
  map_find(m, &k, &found);
  return found;
}

/* move the entries to a table of newcap slots; 0: out of memory */
static int map_resize(lugo_shmap *m, uint32_t newcap) {
  lugo_shslot *ns = (lugo_shslot *)calloc(newcap, sizeof(*ns));
  uint32_t i, mask = newcap - 1;
  if (ns == NULL) return 0;
  for (i = 0; i < m->cap; i++) {
    lugo_shslot *s = &m->slots[i];
    uint32_t j;
    if (s->k.t == LUGO_SV_NIL) continue;
    for (j = s->hash & mask; ns[j].k.t != LUGO_SV_NIL; j = (j + 1) & mask) {}
    ns[j] = *s;
  }
  free(m->slots);
  m->slots = ns;
  m->cap = newcap;
  return 1;
}

/* room for one more entry (load factor at most 3/4); 0: out of memory */
static int map_room(lugo_shmap *m) {
  if (m->cap == 0) return map_resize(m, MINCAP);
  if (((uint64_t)m->n + 1) * 4 <= (uint64_t)m->cap * 3) return 1;
  if (m->cap >= (1u << 31)) return 0;
  return map_resize(m, m->cap * 2);
}

/* a key went in: keys 1..border stay all present */
static int border_in(lugo_shmap *m, const lugo_shval *k) {
  if (k->t != LUGO_SV_INT || k->u.i != m->border + 1) return 0;
  while (m->border < LUA_MAXINTEGER && map_present(m, m->border + 1))
    m->border++;
  return 1;
}

static int border_out(lugo_shmap *m, const lugo_shval *k) {
  if (k->t != LUGO_SV_INT || k->u.i < 1 || k->u.i > m->border) return 0;
  m->border = k->u.i - 1;
  return 1;
}

/* insert k (owned) -> v at the empty slot i (from map_find, after
** map_room); returns whether the border moved */
static int map_put(lugo_shmap *m, uint32_t i, const lugo_shkey *k,
                   const lugo_shval *v) {
  m->slots[i].k = k->v;
  m->slots[i].v = *v;
  m->slots[i].hash = k->hash;
  m->n++;
  return border_in(m, &k->v);
}

/* empty slot i, shifting later entries of its probe run back */
static void map_delete(lugo_shmap *m, uint32_t i) {
  uint32_t mask = m->cap - 1, j = i;
  for (;;) {
    uint32_t h;
    j = (j + 1) & mask;
    if (m->slots[j].k.t == LUGO_SV_NIL) break;
    h = m->slots[j].hash & mask;
    /* j stays if its home h lies cyclically in (i, j] */
    if (i <= j ? (i < h && h <= j) : (i < h || h <= j)) continue;
    m->slots[i] = m->slots[j];
    i = j;
  }
  m->slots[i].k.t = LUGO_SV_NIL;
  m->slots[i].v.t = LUGO_SV_NIL;
  m->n--;
  if (m->cap > 64 && m->n < m->cap / 8) map_resize(m, m->cap / 2);  /* may fail: fine */
}

/* release every key and value (skip: values not to release, or NULL) */
static void map_free(lugo_shmap *m, int (*skip)(const lugo_shval *v, void *ud),
                     void *ud) {
  uint32_t i;
  for (i = 0; i < m->cap; i++) {
    lugo_shslot *s = &m->slots[i];
    if (s->k.t == LUGO_SV_NIL) continue;
    if (skip == NULL || !skip(&s->k, ud)) lugo__shval_free(&s->k);
    if (skip == NULL || !skip(&s->v, ud)) lugo__shval_free(&s->v);
  }
  free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}

/* ---------------------------------------------------------------------
** the spinlock: test-and-test-and-set, then yield the thread.  It guards a
** lookup or a copy, so waiting is short unless the holder's thread was
** descheduled: then sched_yield lets it run.
** ------------------------------------------------------------------- */

static void lockslow(lugo_shtable *t) {
  unsigned backoff = 64, i;
  for (;;) {
    /* exponential backoff: a waiter that keeps reading the lock word
    ** pulls the line away from the holder at every access; waiting longer
    ** lets the holder do a few accesses in a row.  Two goroutines
    ** hammering one table on two cores (bench shcontend): 212 ns per
    ** access spinning on every pause, 100 starting at 4 pauses, 50
    ** starting at 64; the waiter's extra latency (64 pauses) only shows
    ** when accesses collide, which is when throughput matters. */
    if (backoff <= 256) {
      for (i = 0; i < backoff; i++) lugo_cpu_relax();
      backoff *= 2;
    } else {
      sched_yield();  /* the holder's thread may have been descheduled */
    }
    /* relaxed: only a hint; the exchange below acquires */
    if (!atomic_load_explicit(&t->lk, memory_order_relaxed) &&
        !atomic_exchange_explicit(&t->lk, 1, memory_order_acquire))
      return;
  }
}

static inline void lock(lugo_shtable *t) {
  /* acquire: what the last holder wrote is visible */
  if (atomic_exchange_explicit(&t->lk, 1, memory_order_acquire)) lockslow(t);
}

static inline void unlock(lugo_shtable *t) {
  /* release: our writes are visible to the next holder */
  atomic_store_explicit(&t->lk, 0, memory_order_release);
}

/* Caller holds t's lock; k (owned) is not in the map.  Insert k -> v;
** returns whether the border moved, or -1 when out of memory: then t is
** unlocked and k and v are freed. */
static int insert(lugo_shtable *t, lugo_shkey *k, lugo_shval *v) {
  int found;
  if (!map_room(&t->m)) {
    unlock(t);
    lugo__shval_free(&k->v);
    lugo__shval_free(v);
    return -1;
  }
  return map_put(&t->m, map_find(&t->m, k, &found), k, v);
}

/* ---------------------------------------------------------------------
** deferred frees: releasing a table's values may free tables and graphs
** they hold, and so on down a chain; the first free on a thread runs a
** loop, the nested ones only queue.  Thread-local, but holding nothing
** between calls, so two runtimes in one process are fine.
** ------------------------------------------------------------------- */

struct lugo_fzgroup {
  lugo_obj obj;             /* refs: references to any of its nodes */
  lugo_frozen **nodes;      /* nodes[0] is the root */
  size_t n, cap;
  /* while building (lugo__fz_shared): shared table -> node, each table
  ** grabbed until the build is done (so no address is reused meanwhile) */
  ptrmap memo;
  lugo_fzgroup *freenext;
};

static _Thread_local lugo_shtable *dq_tables;
static _Thread_local lugo_fzgroup *dq_groups;
static _Thread_local int dq_busy;

static void table_destroy(lugo_shtable *t);
static void group_destroy(lugo_fzgroup *g);

static void drain(void) {
  if (dq_busy) return;
  dq_busy = 1;
  while (dq_tables != NULL || dq_groups != NULL) {
    if (dq_tables != NULL) {
      lugo_shtable *t = dq_tables;
      dq_tables = t->freenext;
      table_destroy(t);
    } else {
      lugo_fzgroup *g = dq_groups;
      dq_groups = g->freenext;
      group_destroy(g);
    }
  }
  dq_busy = 0;
}

/* ---------------------------------------------------------------------
** shared tables
** ------------------------------------------------------------------- */

#define MINNEXT 1024  /* tables made before the first collection */

static void reg_add(lugo_shreg *reg, lugo_shtable *t) {
  int due;
  pthread_mutex_lock(&reg->lk);
  t->rprev = NULL;
  t->rnext = reg->all;
  if (reg->all) reg->all->rprev = t;
  reg->all = t;
  due = ++reg->n >= reg->next;
  pthread_mutex_unlock(&reg->lk);
  if (due) lugo__sh_collect(reg);
}

static void reg_unlink(lugo_shreg *reg, lugo_shtable *t) {  /* holding reg->lk */
  if (t->rprev) t->rprev->rnext = t->rnext; else reg->all = t->rnext;
  if (t->rnext) t->rnext->rprev = t->rprev;
  t->rnext = t->rprev = NULL;
  reg->n--;
}

lugo_shtable *lugo__sh_new(lugo_shreg *reg) {
  return lugo__sh_newtype(reg, &lugo__shtable_type);
}

lugo_shtable *lugo__sh_newtype(lugo_shreg *reg, const lugo_objtype *type) {
  lugo_shtable *t = (lugo_shtable *)calloc(1, sizeof(*t));
  if (t == NULL) return NULL;
  lugo__obj_init(&t->obj, type);
  t->gcidx = -1;
  t->reg = reg;
  if (reg) reg_add(reg, t);
  return t;
}

static void table_destroy(lugo_shtable *t) {
  if (t->reg) {
    pthread_mutex_lock(&t->reg->lk);
    reg_unlink(t->reg, t);
    pthread_mutex_unlock(&t->reg->lk);
  }
  /* refs are 0: nobody else can reach t; the lock is not needed, but the
  ** collector may have looked at t just before we unlinked it: taking the
  ** registry lock above ordered that before this */
  map_free(&t->m, NULL, NULL);
  lugo__obj_racefree(&t->obj);
  free(t);
}

void lugo__sh_free(lugo_obj *o) {
  lugo_shtable *t = (lugo_shtable *)o;
  t->freenext = dq_tables;
  dq_tables = t;
  drain();
}

static int growbuf(char **buf, size_t *cap, size_t n) {
  size_t c = *cap ? *cap : 64;
  char *nb;
  while (c < n) c *= 2;
  nb = (char *)malloc(c);
  if (nb == NULL) return 0;
  free(*buf);
  *buf = nb;
  *cap = c;
  return 1;
}

int lugo__sh_get(lugo_shtable *t, const lugo_shkey *k, lugo_shval *out,
                 int grab, char **buf, size_t *cap) {
  for (;;) {
    int found = 0;
    uint32_t i = 0;
    size_t need = 0;
    lock(t);
    t->mod++;
    if (t->m.cap > 0) i = map_find(&t->m, k, &found);
    if (!found) {
      out->t = LUGO_SV_NIL;
    } else {
      const lugo_shval *v = &t->m.slots[i].v;
      if (v->t == LUGO_SV_LSTR && !grab) {
        need = v->u.ls->len;
        if (need <= *cap) {
          memcpy(*buf, v->u.ls->s, need);
          out->t = LUGO_SV_BUF;
          out->u.i = (lua_Integer)need;
          need = 0;
        }
      } else {
        *out = *v;
        if (grab) lugo__shval_grab(out);
      }
    }
    unlock(t);
    if (need == 0) return LUGO_OK;
    if (!growbuf(buf, cap, need)) return LUGO_ENOMEM;  /* then look again */
  }
}

int lugo__sh_set(lugo_shtable *t, lugo_shkey *k, lugo_shval *v, int *moved) {
  lugo_shval dropk, dropv;
  int found = 0, mv = 0;
  uint32_t i = 0;
  if (v->t != LUGO_SV_NIL && lugo__shkey_own(k) != LUGO_OK) {
    lugo__shval_free(v);
    return LUGO_ENOMEM;
  }
  dropk.t = dropv.t = LUGO_SV_NIL;
  lock(t);
  t->mod++;
  if (t->m.cap > 0) i = map_find(&t->m, k, &found);
  if (found) {
    lugo_shslot *s = &t->m.slots[i];
    dropv = s->v;
    if (v->t == LUGO_SV_NIL) {
      dropk = s->k;
      mv = border_out(&t->m, &s->k);
      map_delete(&t->m, i);
    } else {
      s->v = *v;
      dropk = k->v;  /* the one stored stays */
    }
  } else if (v->t != LUGO_SV_NIL) {
    if ((mv = insert(t, k, v)) < 0) return LUGO_ENOMEM;
  }
  unlock(t);
  lugo__shval_free(&dropk);
  lugo__shval_free(&dropv);
  v->t = LUGO_SV_NIL;
  if (moved) *moved = mv;
  return LUGO_OK;
}

int lugo__sh_setnx(lugo_shtable *t, lugo_shkey *k, lugo_shval *v,
                   lugo_shval *old) {
  int found = 0;
  uint32_t i = 0;
  if (lugo__shkey_own(k) != LUGO_OK) {
    lugo__shval_free(v);
    return LUGO_ENOMEM;
  }
  lock(t);
  t->mod++;
  if (t->m.cap > 0) i = map_find(&t->m, k, &found);
  if (found) {
    *old = t->m.slots[i].v;
    lugo__shval_grab(old);  /* an atomic add: not a call that can block */
  } else {
    old->t = LUGO_SV_NIL;
    if (insert(t, k, v) < 0) return LUGO_ENOMEM;
    v->t = LUGO_SV_NIL;
  }
  unlock(t);
  if (found) {  /* nothing stored: what was to be is released */
    lugo__shval_free(&k->v);
    lugo__shval_free(v);
  }
  return LUGO_OK;
}

lua_Integer lugo__sh_len(lugo_shtable *t) {
  lua_Integer n;
  lock(t);
  t->mod++;
  n = t->m.border;
  unlock(t);
  return n;
}

lugo_shslot *lugo__sh_snapshot(lugo_shtable *t, size_t *n) {
  lugo_shslot *e = NULL;
  size_t have = 0;
  for (;;) {
    uint32_t i, j = 0;
    lock(t);
    if (t->m.n > have) {  /* allocate outside the lock, then look again */
      size_t need = t->m.n;
      unlock(t);
      free(e);
      e = (lugo_shslot *)malloc(need * sizeof(*e));
      if (e == NULL) {
        *n = (size_t)-1;
        return NULL;
      }
      have = need;
      continue;
    }
    t->mod++;
    for (i = 0; i < t->m.cap; i++) {
      const lugo_shslot *s = &t->m.slots[i];
      if (s->k.t == LUGO_SV_NIL) continue;
      e[j] = *s;
      lugo__shval_grab(&e[j].k);
      lugo__shval_grab(&e[j].v);
      j++;
    }
    unlock(t);
    *n = j;
    if (j == 0) {
      free(e);
      e = NULL;
    }
    return e;
  }
}

void lugo__sh_snapfree(lugo_shslot *e, size_t n) {
  size_t i;
  if (e == NULL) return;
  for (i = 0; i < n; i++) {
    lugo__shval_free(&e[i].k);
    lugo__shval_free(&e[i].v);
  }
  free(e);
}

/* ---------------------------------------------------------------------
** The collector.  Reference counting alone never frees tables that hold
** each other (t.self = t, or a.b = b; b.a = a).  A collection, holding the
** registry lock (so no tracked table is made or finally freed meanwhile):
**
** 1. Looks at every live table once, under its lock: notes its mod and the
**    references it holds to tracked tables, directly or through blobs
**    (functions whose upvalues hold tables) stored in it; blobs are nodes
**    of the graph too.
** 2. A node referenced more often than the graph's edges account for is
**    held from outside (a goroutine's userdata, a channel's buffer, a
**    frozen graph, a snapshot, a reader between two steps): it is a root.
**    Everything reachable from a root lives; the rest is garbage, but only
**    as of the moments each table was looked at.
** 3. Looks again at each garbage table under its lock: its mod must not
**    have moved, and its count must still equal its internal edges; each
**    garbage blob's count too.  If so it frees them all, else it gives up
**    until next time.
**
** Why 3 suffices.  To get a new reference to a garbage node without
** touching a garbage table, a thread must already hold a reference to it,
** or read one from a table outside the garbage (which holds a reference
** itself): an outside reference existed all along, so at the moment the
** node's count was checked again the count exceeded the internal edges.
** Touching a garbage table (even reading) moves its mod.
**
** Cycles through other objects (a channel's buffer holding a table that
** holds the channel, a frozen graph's function capturing a table) are not
** found: those references count as outside ones.
** ------------------------------------------------------------------- */

typedef struct gc {
  lugo_shreg *reg;
  lugo_shtable **tab;   /* nodes 0..nt-1 */
  size_t nt;
  lugo_shblob **blob;   /* nodes nt..nt+nb-1 */
  size_t nb, capb;
  ptrmap bmap;          /* blob -> its index */
  uint32_t *esrc, *edst;  /* edges */
  size_t ne, cape;
  int oom;
} gc;

static int gc_addedge(gc *c, size_t src, size_t dst) {
  if (c->ne == c->cape) {
    size_t cap = c->cape ? 2 * c->cape : 256;
    uint32_t *s = (uint32_t *)realloc(c->esrc, cap * sizeof(*s));
    uint32_t *d;
    if (s == NULL) return c->oom = 1, 0;
    c->esrc = s;
    d = (uint32_t *)realloc(c->edst, cap * sizeof(*d));
    if (d == NULL) return c->oom = 1, 0;
    c->edst = d;
    c->cape = cap;
  }
  c->esrc[c->ne] = (uint32_t)src;
  c->edst[c->ne] = (uint32_t)dst;
  c->ne++;
  return 1;
}

/* a map the collector tracks: a shared table, or a sync.Map (the same
** map under another type) */
static int ismap(const lugo_obj *o) {
  return o->type == &lugo__shtable_type || o->type == &lugo__syncmap_type;
}

/* a tracked table of this collection, or -1 */
static long gc_table(gc *c, const lugo_obj *o) {
  const lugo_shtable *t = (const lugo_shtable *)o;
  if (!ismap(o) || t->reg != c->reg ||
      t->gcepoch != c->reg->epoch || t->gcidx < 0)
    return -1;
  return t->gcidx;
}

/* the node of blob b, made (with its edges) on first sight; -1: no memory.
** The caller holds the lock of a table holding b. */
static long gc_blob(gc *c, lugo_shblob *b) {
  size_t k;
  void **slot = ptrmap_get(&c->bmap, b);
  if (slot) return (long)(c->nt + (uintptr_t)*slot);
  if (c->nb == c->capb) {
    size_t cap = c->capb ? 2 * c->capb : 64;
    lugo_shblob **nb = (lugo_shblob **)realloc(c->blob, cap * sizeof(*nb));
    if (nb == NULL) return c->oom = 1, -1;
    c->blob = nb;
    c->capb = cap;
  }
  if ((slot = ptrmap_add(&c->bmap, b)) == NULL) return c->oom = 1, -1;
  *slot = (void *)(uintptr_t)c->nb;
  c->blob[c->nb] = b;
  for (k = 0; k < b->b->nobjs; k++) {  /* each occurrence holds a reference */
    long d = b->b->objs[k] ? gc_table(c, b->b->objs[k]) : -1;
    if (d >= 0 && !gc_addedge(c, c->nt + c->nb, (size_t)d)) return -1;
  }
  return (long)(c->nt + c->nb++);
}

static int gc_value(gc *c, size_t src, const lugo_shval *v) {
  long d = -1;
  if (v->t == LUGO_SV_OBJ) d = gc_table(c, v->u.o);
  else if (v->t == LUGO_SV_BLOB && (d = gc_blob(c, v->u.b)) < 0) return 0;
  return d < 0 || gc_addedge(c, src, (size_t)d);
}

/* Holding reg->lk.  Find the garbage; mark it (gcdead, dead) and unlink
** its tables; returns the number of garbage tables, moved to the front of
** c->tab (and blobs to the front of c->blob, *ngb of them). */
static size_t gc_find(gc *c, size_t *ngb) {
  lugo_shreg *reg = c->reg;
  lugo_shtable *t;
  uint64_t *mod0 = NULL;
  uint32_t *inner = NULL, *off = NULL, *adj = NULL, *stack = NULL;
  unsigned char *mark = NULL;
  size_t i, n, ng = 0, gb = 0, sp = 0;
  int ok = 0;
  *ngb = 0;
  reg->epoch++;
  c->tab = (lugo_shtable **)malloc((reg->n ? reg->n : 1) * sizeof(*c->tab));
  if (c->tab == NULL) return 0;
  for (t = reg->all; t; t = t->rnext) {
    if (lugo_load(&t->obj.refs) == 0) continue;  /* on its way out */
    t->gcepoch = reg->epoch;
    t->gcidx = (int)c->nt;
    c->tab[c->nt++] = t;
  }
  mod0 = (uint64_t *)malloc((c->nt ? c->nt : 1) * sizeof(*mod0));
  if (mod0 == NULL) goto done;
  /* 1. the edges */
  for (i = 0; i < c->nt && !c->oom; i++) {
    uint32_t s;
    t = c->tab[i];
    lock(t);
    mod0[i] = t->mod;
    for (s = 0; s < t->m.cap; s++) {
      const lugo_shslot *sl = &t->m.slots[s];
      if (sl->k.t == LUGO_SV_NIL) continue;
      if (!gc_value(c, i, &sl->k) || !gc_value(c, i, &sl->v)) break;
    }
    unlock(t);
  }
  if (c->oom) goto done;
  /* 2. the roots, and what they reach */
  n = c->nt + c->nb;
  inner = (uint32_t *)calloc(n + 1, sizeof(*inner));
  off = (uint32_t *)calloc(n + 1, sizeof(*off));
  adj = (uint32_t *)malloc((c->ne ? c->ne : 1) * sizeof(*adj));
  stack = (uint32_t *)malloc((n ? n : 1) * sizeof(*stack));
  mark = (unsigned char *)calloc(n ? n : 1, 1);
  if (!inner || !off || !adj || !stack || !mark) goto done;
  for (i = 0; i < c->ne; i++) {
    inner[c->edst[i]]++;
    off[c->esrc[i] + 1]++;
  }
  for (i = 0; i < n; i++) off[i + 1] += off[i];
  {
    uint32_t *fill = stack;  /* borrowed as the fill cursors */
    memcpy(fill, off, n * sizeof(*fill));
    for (i = 0; i < c->ne; i++) adj[fill[c->esrc[i]]++] = c->edst[i];
  }
  for (i = 0; i < n; i++) {
    int refs = i < c->nt ? lugo_load(&c->tab[i]->obj.refs)
                         : lugo_load(&c->blob[i - c->nt]->refs);
    if ((uint32_t)refs > inner[i] && !mark[i]) {
      mark[i] = 1;
      stack[sp++] = (uint32_t)i;
    }
    while (sp > 0) {
      uint32_t x = stack[--sp], e;
      for (e = off[x]; e < off[x + 1]; e++)
        if (!mark[adj[e]]) {
          mark[adj[e]] = 1;
          stack[sp++] = adj[e];
        }
    }
  }
  /* 3. check the garbage again */
  for (i = 0; i < c->nt; i++) {
    int same, refs;
    if (mark[i]) continue;
    t = c->tab[i];
    lock(t);
    same = t->mod == mod0[i];
    refs = lugo_load(&t->obj.refs);
    unlock(t);
    if (!same || (uint32_t)refs != inner[i]) goto done;
  }
  for (i = 0; i < c->nb; i++)
    if (!mark[c->nt + i] &&
        (uint32_t)lugo_load(&c->blob[i]->refs) != inner[c->nt + i])
      goto done;
  ok = 1;
done:
  if (ok) {  /* move the garbage to the front, mark and unlink it */
    for (i = 0; i < c->nt; i++)
      if (!mark[i]) {
        t = c->tab[i];
        t->gcdead = 1;
        reg_unlink(reg, t);
        c->tab[ng++] = t;
      }
    for (i = 0; i < c->nb; i++)
      if (!mark[c->nt + i]) {
        c->blob[i]->dead = 1;
        c->blob[gb++] = c->blob[i];
      }
    /* a garbage blob's references to garbage tables die with them */
    for (i = 0; i < gb; i++) {
      lugo_blob *b = c->blob[i]->b;
      size_t k;
      for (k = 0; k < b->nobjs; k++)
        if (b->objs[k] && ismap(b->objs[k]) &&
            ((lugo_shtable *)b->objs[k])->reg == reg &&
            ((lugo_shtable *)b->objs[k])->gcdead)
          b->objs[k] = NULL;
    }
  }
  for (i = 0; i < c->nt; i++) if (!ok || mark[i]) c->tab[i]->gcidx = -1;
  free(mod0);
  free(inner);
  free(off);
  free(adj);
  free(stack);
  free(mark);
  *ngb = gb;
  return ng;
}

/* values of garbage tables that die with them hold no reference to drop */
static int gc_skip(const lugo_shval *v, void *ud) {
  (void)ud;
  if (v->t == LUGO_SV_OBJ && ismap(v->u.o))
    return ((lugo_shtable *)v->u.o)->gcdead;
  return v->t == LUGO_SV_BLOB && v->u.b->dead;
}

size_t lugo__sh_collect(lugo_shreg *reg) {
  gc c;
  size_t ng, ngb, i;
  memset(&c, 0, sizeof(c));
  c.reg = reg;
  pthread_mutex_lock(&reg->lk);
  ng = gc_find(&c, &ngb);
  reg->next = reg->n * 2 > MINNEXT ? reg->n * 2 : MINNEXT;
  pthread_mutex_unlock(&reg->lk);
  /* nobody else can reach the garbage: free it without locks (values
  ** outside it are released, which may free more, in the usual way) */
  for (i = 0; i < ng; i++) map_free(&c.tab[i]->m, gc_skip, NULL);
  for (i = 0; i < ngb; i++) blob_free(c.blob[i]);
  for (i = 0; i < ng; i++) free(c.tab[i]);
  if (ng) lugo_xadd(&reg->nfreed, (int64_t)ng);
  free(c.tab);
  free(c.blob);
  ptrmap_free(&c.bmap);
  free(c.esrc);
  free(c.edst);
  return ng;
}

lugo_shreg *lugo__shreg_new(void) {
  lugo_shreg *reg = (lugo_shreg *)calloc(1, sizeof(*reg));
  if (reg == NULL) return NULL;
  pthread_mutex_init(&reg->lk, NULL);
  reg->next = MINNEXT;
  return reg;
}

size_t lugo__shreg_count(lugo_shreg *reg) {
  size_t n;
  pthread_mutex_lock(&reg->lk);
  n = reg->n;
  pthread_mutex_unlock(&reg->lk);
  return n;
}

void lugo__shreg_free(lugo_shreg *reg) {
  lugo_shtable *t, *next;
  if (reg == NULL) return;
  while (lugo__sh_collect(reg) > 0) {}
  pthread_mutex_lock(&reg->lk);
  for (t = reg->all; t; t = next) {  /* leaked with something else */
    next = t->rnext;
    t->rnext = t->rprev = NULL;
    t->reg = NULL;
  }
  reg->all = NULL;
  pthread_mutex_unlock(&reg->lk);
  pthread_mutex_destroy(&reg->lk);
  free(reg);
}

/* ---------------------------------------------------------------------
** frozen graphs
** ------------------------------------------------------------------- */

static void group_free(lugo_obj *o) {
  lugo_fzgroup *g = (lugo_fzgroup *)o;
  g->freenext = dq_groups;
  dq_groups = g;
  drain();
}

/* the graph's own type: never pushed to Lua, only counted */
static const lugo_objtype group_type = {11, "frozen graph", group_free, NULL,
                                        NULL};

lugo_obj *lugo__fz_owner(lugo_obj *o) {
  return &((lugo_frozen *)o)->g->obj;
}

void lugo__fz_nofree(lugo_obj *o) {
  (void)o;
  abort();  /* a node's count is its graph's: never reached */
}

int lugo__fz_same(const lugo_frozen *f, const lugo_obj *o) {
  return o->type == &lugo__frozen_type && ((const lugo_frozen *)o)->g == f->g;
}

static int fz_skip(const lugo_shval *v, void *ud) {
  const lugo_fzgroup *g = (const lugo_fzgroup *)ud;
  return v->t == LUGO_SV_OBJ && v->u.o->type == &lugo__frozen_type &&
         ((const lugo_frozen *)v->u.o)->g == g;
}

static void memo_release(lugo_fzgroup *g) {
  size_t i;
  for (i = 0; i < g->memo.cap; i++)
    if (g->memo.k[i]) lugo__obj_release(&((lugo_shtable *)g->memo.k[i])->obj);
  ptrmap_free(&g->memo);
}

static void group_destroy(lugo_fzgroup *g) {
  size_t i;
  memo_release(g);
  for (i = 0; i < g->n; i++) map_free(&g->nodes[i]->m, fz_skip, g);
  for (i = 0; i < g->n; i++) free(g->nodes[i]);  /* fz_skip looked at them */
  free(g->nodes);
  free(g);
}

static lugo_frozen *addnode(lugo_fzgroup *g) {
  lugo_frozen *f;
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 4;
    lugo_frozen **nn = (lugo_frozen **)realloc(g->nodes, cap * sizeof(*nn));
    if (nn == NULL) return NULL;
    g->nodes = nn;
    g->cap = cap;
  }
  f = (lugo_frozen *)calloc(1, sizeof(*f));
  if (f == NULL) return NULL;
  f->obj.type = &lugo__frozen_type;  /* refs unused: the group counts */
  f->g = g;
  g->nodes[g->n++] = f;
  return f;
}

lugo_frozen *lugo__fz_new(void) {
  lugo_fzgroup *g = (lugo_fzgroup *)calloc(1, sizeof(*g));
  lugo_frozen *root;
  if (g == NULL) return NULL;
  lugo__obj_init(&g->obj, &group_type);
  root = addnode(g);
  if (root == NULL) {
    free(g);
    return NULL;
  }
  return root;
}

lugo_frozen *lugo__fz_node(lugo_frozen *root) {
  return addnode(root->g);
}

int lugo__fz_put(lugo_frozen *node, lugo_shkey *k, lugo_shval *v) {
  int found;
  uint32_t i;
  if (lugo__shkey_own(k) != LUGO_OK) {
    lugo__shval_free(v);
    return LUGO_ENOMEM;
  }
  if (!map_room(&node->m)) {
    lugo__shval_free(&k->v);
    lugo__shval_free(v);
    return LUGO_ENOMEM;
  }
  i = map_find(&node->m, k, &found);
  if (found) {  /* not expected: keep the first */
    lugo__shval_free(&k->v);
    if (!fz_skip(v, node->g)) lugo__shval_free(v);
    return LUGO_OK;
  }
  map_put(&node->m, i, k, v);
  v->t = LUGO_SV_NIL;
  return LUGO_OK;
}

void lugo__fz_done(lugo_frozen *root) {
  memo_release(root->g);
}

/* the node made for t in this build, or NULL */
static lugo_frozen *memo_get(lugo_fzgroup *g, lugo_shtable *t) {
  void **v = ptrmap_get(&g->memo, t);
  return v ? (lugo_frozen *)*v : NULL;
}

/* remember t (grabbed by the caller) -> f; 0: no memory */
static int memo_put(lugo_fzgroup *g, lugo_shtable *t, lugo_frozen *f) {
  void **v = ptrmap_add(&g->memo, t);
  if (v == NULL) return 0;
  *v = f;
  return 1;
}

/* a node for shared table t (the caller holds a reference to t, or the
** lock of a table that does): as, or a new one; NULL: no memory.
** *isnew: queue it. */
static lugo_frozen *fz_nodefor(lugo_fzgroup *g, lugo_shtable *t,
                               lugo_frozen *as, int *isnew) {
  lugo_frozen *f = memo_get(g, t);
  *isnew = 0;
  if (f) return f;
  f = as ? as : addnode(g);
  if (f == NULL) return NULL;
  lugo__obj_grab(&t->obj);
  if (!memo_put(g, t, f)) {
    lugo__obj_release(&t->obj);  /* safe: the caller's reference remains */
    return NULL;
  }
  *isnew = 1;
  return f;
}

/* copy t's entries into f; nested shared tables get nodes, appended to
** *q (tables to copy next) */
static int fz_copy(lugo_fzgroup *g, lugo_frozen *f, lugo_shtable *t,
                   lugo_shtable ***q, size_t *qn, size_t *qcap) {
  uint32_t need, i;
  int ok = 1;
  lock(t);  /* size f's map outside the lock first */
  need = t->m.n;
  unlock(t);
  if (need > 0 && ((uint64_t)f->m.n + need) * 4 > (uint64_t)f->m.cap * 3) {
    uint64_t cap = f->m.cap ? (uint64_t)f->m.cap * 2 : MINCAP;
    while (((uint64_t)f->m.n + need) * 4 > cap * 3) cap *= 2;
    if (cap > (1u << 31) || !map_resize(&f->m, (uint32_t)cap)) return 0;
  }
  lock(t);
  t->mod++;
  for (i = 0; ok && i < t->m.cap; i++) {
    const lugo_shslot *s = &t->m.slots[i];
    lugo_shkey k;
    lugo_shval v;
    uint32_t at;
    int found;
    if (s->k.t == LUGO_SV_NIL) continue;
    k.v = s->k;
    k.hash = s->hash;
    k.s = s->k.t == LUGO_SV_SSTR ? lugo_sv_str(&k.v)
          : s->k.t == LUGO_SV_LSTR ? s->k.u.ls->s : NULL;
    k.len = s->k.t == LUGO_SV_SSTR ? s->k.len
            : s->k.t == LUGO_SV_LSTR ? s->k.u.ls->len : 0;
    v = s->v;
    if (v.t == LUGO_SV_OBJ && v.u.o->type == &lugo__shtable_type) {
      lugo_shtable *child = (lugo_shtable *)v.u.o;
      int isnew;
      lugo_frozen *cf = fz_nodefor(g, child, NULL, &isnew);
      if (cf == NULL) { ok = 0; break; }
      if (isnew) {
        if (*qn == *qcap) {
          size_t cap = *qcap ? 2 * *qcap : 16;
          lugo_shtable **nq = (lugo_shtable **)realloc(*q, cap * sizeof(*nq));
          if (nq == NULL) { ok = 0; break; }
          *q = nq;
          *qcap = cap;
        }
        (*q)[(*qn)++] = child;
      }
      v.u.o = &cf->obj;  /* same graph: no reference */
    } else {
      lugo__shval_grab(&v);
    }
    if (!map_room(&f->m)) {
      if (!fz_skip(&v, g)) lugo__shval_free(&v);
      ok = 0;
      break;
    }
    lugo__shval_grab(&k.v);
    at = map_find(&f->m, &k, &found);
    map_put(&f->m, at, &k, &v);
  }
  unlock(t);
  return ok;
}

lugo_frozen *lugo__fz_shared(lugo_frozen *root, lugo_shtable *t, int asroot,
                             lugo_runtime *rt, long long goid) {
  lugo_fzgroup *g = root->g;
  lugo_shtable **q = NULL;
  size_t qn = 0, qcap = 0, qi;
  int isnew, ok = 1;
  lugo_frozen *f = fz_nodefor(g, t, asroot ? root : NULL, &isnew), *res = f;
  if (f == NULL) return NULL;
  if (!isnew) return f;
  q = (lugo_shtable **)malloc(16 * sizeof(*q));
  if (q == NULL) return NULL;
  qcap = 16;
  q[qn++] = t;
  /* breadth first, so depth costs no C stack; each queued table is held
  ** by the memo until the build is done */
  for (qi = 0; ok && qi < qn; qi++) {
    lugo_shtable *x = q[qi];
    if (rt) LUGO_EVENT(rt, LUGO_EV_SHREAD, goid, x, LUGO_SH_ALLKEYS);
    ok = fz_copy(g, memo_get(g, x), x, &q, &qn, &qcap);
    if (ok && rt != NULL && rt->race != NULL) {  /* it read every key */
      lugo_G *cur = lugo__race_cur();
      if (cur != NULL) lugo__race_shmap(cur, x, &memo_get(g, x)->m);
    }
  }
  free(q);
  return ok ? res : NULL;
}

const lugo_shslot *lugo__fz_get(const lugo_frozen *f, const lugo_shkey *k) {
  int found;
  uint32_t i;
  if (f->m.cap == 0) return NULL;
  i = map_find(&f->m, k, &found);
  return found ? &f->m.slots[i] : NULL;
}

const lugo_shslot *lugo__fz_next(const lugo_frozen *f, uint32_t *i) {
  while (*i < f->m.cap) {
    const lugo_shslot *s = &f->m.slots[(*i)++];
    if (s->k.t != LUGO_SV_NIL) return s;
  }
  return NULL;
}
