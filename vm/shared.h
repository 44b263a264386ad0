/*
** shared.h -- the C core of package shared (Lua bindings in
** stdlib/lshared.c): shared tables, frozen tables, and the collector that
** frees cycles of shared tables.
**
** A shared table is a hash map of values (lugo_shval) under a small
** spinlock; every access holds it for one lookup or one copy and nothing
** else.  Values are immutable once stored: scalars and short strings
** inline, long strings, runtime objects and copy-contract blobs by a
** counted reference.  A frozen table is a node of an immutable graph that
** counts references as a whole (one lugo_fzgroup), read with no lock.
** Nothing here touches a lua_State.
*/
#ifndef lugo_shared_h
#define lugo_shared_h

#include <lua.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic.h"
#include "marshal.h"
#include "obj.h"

struct lugo_runtime;  /* defined in scheduler.h */

/* ---------------------------------------------------------------------
** values
** ------------------------------------------------------------------- */

enum {
  LUGO_SV_NIL,    /* absent (an empty slot's key) */
  LUGO_SV_FALSE, LUGO_SV_TRUE,
  LUGO_SV_INT,    /* u.i */
  LUGO_SV_FLT,    /* u.n (as a key: never integral, never NaN) */
  LUGO_SV_SSTR,   /* len bytes at lugo_sv_str(v) */
  LUGO_SV_LSTR,   /* u.ls, counted */
  LUGO_SV_OBJ,    /* u.o, a runtime object, counted */
  LUGO_SV_BLOB,   /* u.b, a value the copy contract carries (a function, a
                     module by path...), counted */
  LUGO_SV_BUF     /* only from lugo__sh_get: a long string copied into the
                     caller's buffer, u.i bytes */
};

#define LUGO_SV_SHORT 14  /* strings up to this long are stored inline */

typedef struct lugo_shstr {
  lugo_aint refs;  /* atomic */
  size_t len;
  char s[];
} lugo_shstr;

typedef struct lugo_shblob {
  lugo_aint refs;  /* atomic */
  lugo_blob *b;    /* immutable; one value */
  int dead;        /* the collector's mark (guarded by its registry lock) */
} lugo_shblob;

/* 16 bytes: the tag, then an inline short string from byte 2 (over the
** padding and the union), or the payload at byte 8 */
typedef struct lugo_shval {
  unsigned char t;    /* LUGO_SV_* */
  unsigned char len;  /* LUGO_SV_SSTR */
  char pad_[6];
  union {
    lua_Integer i;
    lua_Number n;
    lugo_shstr *ls;
    lugo_obj *o;
    lugo_shblob *b;
  } u;
} lugo_shval;

#define lugo_sv_str(v) ((char *)(v) + 2)

/* Any thread.  Release what v holds; v becomes nil. */
void lugo__shval_free(lugo_shval *v);
/* Any thread.  Take one more reference to what v holds. */
void lugo__shval_grab(const lugo_shval *v);

/* a counted long string (refs 1), or NULL */
lugo_shstr *lugo__shstr_new(const char *s, size_t len);
/* wrap b (refs 1), or NULL (b is then still the caller's) */
lugo_shblob *lugo__shblob_new(lugo_blob *b);

/* A key: k holds its stored form, s/len point at a string key's bytes
** (the caller's, for a lookup).  Keys are normalised by the maker: a float
** with an integral value is an integer key, as in Lua. */
typedef struct lugo_shkey {
  lugo_shval v;
  const char *s;
  size_t len;
  uint32_t hash;
} lugo_shkey;

void lugo__shkey_int(lugo_shkey *k, lua_Integer i);
/* n must not be NaN; an integral n becomes an integer key */
void lugo__shkey_num(lugo_shkey *k, lua_Number n);
void lugo__shkey_bool(lugo_shkey *k, int b);
/* s is borrowed (not copied when long) until lugo__shkey_own */
void lugo__shkey_str(lugo_shkey *k, const char *s, size_t len);
/* o is borrowed: lugo__shkey_own takes a reference */
void lugo__shkey_obj(lugo_shkey *k, lugo_obj *o);
/* stdlib/lshared.c: [-0, +0, -] the key at idx, normalised as Lua does
** (borrowing the Lua value, which must stay on the stack): LUGO_KEY_OK,
** or why it cannot be a key anywhere (a copied table or function could
** never be found again).  Callers raise their own errors. */
enum { LUGO_KEY_OK, LUGO_KEY_NAN, LUGO_KEY_NIL, LUGO_KEY_TYPE };
struct lua_State;
int lugo__sh_tokey(struct lua_State *L, int idx, lugo_shkey *k);

/* does stored key a equal k?  (hashes are the caller's to compare) */
int lugo__shkey_eq(const lugo_shval *a, const lugo_shkey *k);
/* Make k own its key, to be inserted: LUGO_OK or LUGO_ENOMEM. */
int lugo__shkey_own(lugo_shkey *k);

/* ---------------------------------------------------------------------
** the hash map (open addressing, linear probing, deletion by backward
** shift): shared tables guard theirs with their lock, frozen nodes never
** change after they are built
** ------------------------------------------------------------------- */

typedef struct lugo_shslot {
  lugo_shval k, v;  /* k.t == LUGO_SV_NIL: empty */
  uint32_t hash;
} lugo_shslot;

typedef struct lugo_shmap {
  lugo_shslot *slots;
  uint32_t cap;        /* 0 or a power of 2 */
  uint32_t n;
  lua_Integer border;  /* keys 1..border are all present, border+1 is not */
} lugo_shmap;

/* ---------------------------------------------------------------------
** shared tables
** ------------------------------------------------------------------- */

typedef struct lugo_shreg lugo_shreg;

typedef struct lugo_shtable {
  lugo_obj obj;
  lugo_aint lk;            /* atomic: the spinlock */
  lugo_shmap m;            /* guarded by lk */
  uint64_t mod;            /* guarded by lk: bumped by every access; the
                              collector checks nobody touched a table */
  lugo_shreg *reg;         /* NULL: not tracked; set at creation, cleared
                              only by lugo__shreg_free (no other thread) */
  struct lugo_shtable *rnext, *rprev;  /* guarded by reg->lk */
  unsigned gcepoch;        /* guarded by reg->lk (the collector's) */
  int gcidx, gcdead;       /* ditto */
  struct lugo_shtable *freenext;  /* the freeing thread's (shared.c) */
} lugo_shtable;

extern const lugo_objtype lugo__shtable_type;  /* stdlib/lshared.c */
extern const lugo_objtype lugo__syncmap_type;  /* stdlib/lshared.c */

/* A new empty table (refs 1), tracked by reg if not NULL (which may run
** the collector first, when enough tables were made since it last ran).
** NULL: out of memory.  Any thread holding no shared table's lock. */
lugo_shtable *lugo__sh_new(lugo_shreg *reg);
/* The same map under another object type (sync.Map, whose free function
** must be lugo__sh_free). */
lugo_shtable *lugo__sh_newtype(lugo_shreg *reg, const lugo_objtype *type);
void lugo__sh_free(lugo_obj *o);

/* Any thread.  Read t[k] into *out.  Without grab, a long string is
** copied into *buf (grown as needed: LUGO_SV_BUF) and objects and blobs
** are returned without a reference (valid only while something else holds
** them: see lshared.c); with grab, *out holds references of its own.
** LUGO_OK, or LUGO_ENOMEM. */
int lugo__sh_get(lugo_shtable *t, const lugo_shkey *k, lugo_shval *out,
                 int grab, char **buf, size_t *cap);

/* Any thread.  t[k] = v (nil: delete), consuming k (made owned) and v
** either way; whatever the table no longer holds is released after the
** lock is dropped.  *moved (if not NULL) says whether #t changed.
** LUGO_OK, or LUGO_ENOMEM (nothing changed). */
int lugo__sh_set(lugo_shtable *t, lugo_shkey *k, lugo_shval *v, int *moved);

/* Any thread.  If t has k, *old gets its value (with references of its
** own) and nothing changes; else t[k] = v (not nil) and *old is nil.  k
** and v are consumed either way.  LUGO_OK, or LUGO_ENOMEM (nothing
** changed). */
int lugo__sh_setnx(lugo_shtable *t, lugo_shkey *k, lugo_shval *v,
                   lugo_shval *old);

/* Any thread.  #t: the border (keys 1..#t present, #t+1 absent). */
lua_Integer lugo__sh_len(lugo_shtable *t);

/* Any thread.  A copy of t's entries at one moment (each holding its own
** references), *n of them; NULL with *n == 0 for an empty table, NULL with
** *n == (size_t)-1 when out of memory.  Free with lugo__sh_snapfree. */
lugo_shslot *lugo__sh_snapshot(lugo_shtable *t, size_t *n);
void lugo__sh_snapfree(lugo_shslot *e, size_t n);

/* ---------------------------------------------------------------------
** the cycle collector: every tracked table is on its registry's list; a
** collection finds tables (and blobs stored in them) that only other
** such tables reference, checks nobody touched them meanwhile, and frees
** them.  See "The collector" in shared.c.
** ------------------------------------------------------------------- */

struct lugo_shreg {
  pthread_mutex_t lk;
  lugo_shtable *all;   /* guarded by lk */
  size_t n;            /* guarded by lk: tables on the list */
  size_t next;         /* guarded by lk: collect when n reaches it */
  unsigned epoch;      /* guarded by lk */
  lugo_ai64 nfreed;    /* atomic: tables freed by collections (stats) */
};

lugo_shreg *lugo__shreg_new(void);
/* Collect, then forget the tables still alive (held by something that
** leaked).  No other thread may use the registry's tables any more. */
void lugo__shreg_free(lugo_shreg *reg);
/* Any thread holding no shared table's lock.  Returns how many tables it
** freed. */
size_t lugo__sh_collect(lugo_shreg *reg);
/* tables on the list (for tests) */
size_t lugo__shreg_count(lugo_shreg *reg);

/* ---------------------------------------------------------------------
** frozen tables: nodes of a graph built once, then only read (no lock:
** whoever got a node got it through a synchronising transfer)
** ------------------------------------------------------------------- */

typedef struct lugo_fzgroup lugo_fzgroup;  /* defined in shared.c */

typedef struct lugo_frozen {
  lugo_obj obj;        /* its refs are unused: the group counts */
  lugo_fzgroup *g;
  lugo_shmap m;        /* immutable once built */
} lugo_frozen;

extern const lugo_objtype lugo__frozen_type;  /* stdlib/lshared.c */
lugo_obj *lugo__fz_owner(lugo_obj *o);        /* its objtype's owner */
void lugo__fz_nofree(lugo_obj *o);            /* its objtype's free */

/* Building.  The root of a new graph (holding the graph's one reference),
** or NULL. */
lugo_frozen *lugo__fz_new(void);
/* Another node of root's graph (no reference of its own: a value pointing
** at a node of the same graph is stored without one), or NULL. */
lugo_frozen *lugo__fz_node(lugo_frozen *root);
/* node[k] = v, consuming both (v is not nil; k not present yet).  LUGO_OK
** or LUGO_ENOMEM. */
int lugo__fz_put(lugo_frozen *node, lugo_shkey *k, lugo_shval *v);
/* The node of root's graph that is a snapshot of shared table t (root
** itself if asroot, which must be the build's first step): made, and t's
** nested shared tables snapshotted in turn, each under its own lock, if
** this build has not met t yet.  Each table read is reported to rt's
** event hook as goroutine goid (rt may be NULL).  NULL: out of memory.
** The caller holds a reference to t. */
lugo_frozen *lugo__fz_shared(lugo_frozen *root, lugo_shtable *t, int asroot,
                             struct lugo_runtime *rt, long long goid);
/* The build is over: drop its scratch memory. */
void lugo__fz_done(lugo_frozen *root);

/* Reading (any thread, no lock): the slot of key k, or NULL */
const lugo_shslot *lugo__fz_get(const lugo_frozen *f, const lugo_shkey *k);
/* the slot after slot i (start at 0); NULL at the end */
const lugo_shslot *lugo__fz_next(const lugo_frozen *f, uint32_t *i);
/* is o a node of the same graph as f? (such values hold no reference) */
int lugo__fz_same(const lugo_frozen *f, const lugo_obj *o);

#endif
