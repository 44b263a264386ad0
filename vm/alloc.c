/*
** alloc.c -- the allocator of lugo's Lua states (goroutines', and the
** host's from lugo_newstate).
**
** A parked goroutine's state holds about 110 blocks, two thirds of them
** 24-64 bytes (strings, closures, small tables).  glibc puts an 8-byte
** header on each and rounds to 16 with a 32-byte minimum, and a spawn spent
** a quarter of its time in malloc and free (a pooled state's reset frees
** and reallocates a hundred small blocks, more than the tcache holds).
** Lua passes the old size on every free and realloc, so blocks need no
** header: each state gets one chunk of LUGO_ARENA_SIZE bytes from malloc
** that it bump-allocates, with a free list per 16-byte size class up to
** LUGO_ARENA_MAXBLOCK.  Larger blocks, and any block once the chunk is used
** up, come from malloc; free and realloc tell the two apart by the block's
** address.  (Sizes: alloc.h.)
**
** Invariants:
**   - the header (struct lugo_arena) sits at the start of the chunk;
**     blocks follow it, 16-byte aligned, below top;
**   - a block in the chunk occupies its whole class (its size rounded up
**     to 16); a free one is on exactly one list, its class's, and its first
**     two bytes hold the next one's offset;
**   - the chunk is all the arena keeps: a block from malloc goes back to
**     free, never onto a list, so retention is bounded by the chunk;
**   - for a state, the first block allocated is Lua's main block
**     (lua_newstate asks for it first); it may be larger than a class but
**     lies in the chunk; the state frees it last, in lua_close, and the
**     chunk goes with it (so a host's lua_close frees it too).
**
** Threads: an arena belongs to one state, which one thread at a time runs
** (the scheduler hands states over with a happens-before edge): no locks.
**
** Rejected: a shared or per-M cache of blocks (states move between Ms, so
** blocks would migrate and need locks, and retention would be unbounded);
** splitting and coalescing free blocks (headers again: a general
** allocator).  A class's free blocks serve only that class; the last
** block freed, or shrunk, gives its room back to the bump pointer.
**
** Under ASan the free and untouched parts of the chunk are poisoned, and
** a block is addressable to its exact size, so overflows and uses after
** free inside the chunk are still reported.
*/
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define LUGO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LUGO_ASAN 1
#endif
#endif

#ifdef LUGO_ASAN
#include <sanitizer/asan_interface.h>
#define poison(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define poison(p, n) ((void)(p), (void)(n))
#define unpoison(p, n) ((void)(p), (void)(n))
#endif

/* the slow paths stay out of lugo__alloc_fn, whose fast ones then need
** no stack frame */
#define NOINLINE __attribute__((noinline))

#define UNIT 16  /* class width and alignment */
#define NCLASS (LUGO_ARENA_MAXBLOCK / UNIT)
#define CLASS(n) (((n) + UNIT - 1) / UNIT)  /* n >= 1: 1..NCLASS */

_Static_assert(LUGO_ARENA_MAXBLOCK % UNIT == 0, "classes are UNIT wide");
#define MAXSIZE (0xffff * UNIT)  /* offsets in UNITs fit 16 bits */

/* an arena's relation to its state */
enum {
  A_RAW,       /* none: blocks only */
  A_NEWSTATE,  /* lua_newstate is about to ask for its main block */
  A_BUILDING,  /* lua_newstate is building on it (a failure frees main) */
  A_OWNED      /* a state owns it: freeing main ends the state and it */
};

struct lugo_arena {
  uint32_t size;   /* bytes in the chunk */
  uint32_t top;    /* offset of the first byte never handed out */
  void *main;      /* Lua's main block, or NULL */
  int mode;        /* A_* */
  uint16_t freel[NCLASS + 1];  /* by class: the first free block, in
                                  UNITs from the chunk (0: none) */
};

#define HEADER (CLASS(sizeof(lugo_arena)) * UNIT)
#define BASE(a) ((char *)(a))

static int inarena(const lugo_arena *a, const void *p) {
  return (uintptr_t)p - (uintptr_t)a < a->size;
}

int lugo__alloc_inarena(const lugo_arena *a, const void *p) {
  return inarena(a, p);
}

size_t lugo__alloc_used(const lugo_arena *a) {
  return a->top;
}

/* a free block's link, read and written past its poison */
static uint16_t getlink(char *b) {
  uint16_t u;
  unpoison(b, sizeof(u));
  memcpy(&u, b, sizeof(u));
  poison(b, sizeof(u));
  return u;
}

static void setlink(char *b, uint16_t u) {
  unpoison(b, sizeof(u));
  memcpy(b, &u, sizeof(u));
  poison(b, sizeof(u));
}

/* a block of n bytes (1..MAXBLOCK) from the chunk, or NULL */
static inline void *get(lugo_arena *a, size_t n) {
  uint32_t sz = (uint32_t)CLASS(n) * UNIT;
  char *b;
  if (a->freel[sz / UNIT] != 0) {
    b = BASE(a) + (size_t)a->freel[sz / UNIT] * UNIT;
    a->freel[sz / UNIT] = getlink(b);
  } else if (sz <= a->size - a->top) {
    b = BASE(a) + a->top;
    a->top += sz;
  } else {
    return NULL;
  }
  unpoison(b, n);
  return b;
}

/* give back the chunk's block b of n bytes (1..MAXBLOCK) */
static inline void put(lugo_arena *a, char *b, size_t n) {
  uint32_t sz = (uint32_t)CLASS(n) * UNIT, off = (uint32_t)(b - BASE(a));
  poison(b, sz);
  if (off + sz == a->top) {  /* the last one handed out: unbump */
    a->top = off;
    return;
  }
  setlink(b, a->freel[sz / UNIT]);
  a->freel[sz / UNIT] = (uint16_t)(off / UNIT);
}

/* the main block, in the chunk (an arena too small for it fails the
** state: free can then test for it in the chunk only) */
static NOINLINE void *newmain(lugo_arena *a, size_t n) {
  uint32_t sz = (uint32_t)CLASS(n) * UNIT;
  if (n >= a->size || sz > a->size - a->top) return NULL;
  a->mode = A_BUILDING;
  a->main = BASE(a) + a->top;
  a->top += sz;
  unpoison(a->main, n);
  return a->main;
}

/* the main block (n bytes) goes: lua_close, or a failed lua_newstate, is
** ending */
static NOINLINE void freemain(lugo_arena *a, size_t n) {
  poison(a->main, n);
  if (a->mode == A_OWNED) {
    lugo__alloc_free(a);  /* nothing of the state is left */
    return;
  }
  a->main = NULL;  /* a failed lua_newstate: its caller frees the arena */
  a->mode = A_RAW;
}

/* the chunk's block p changes size from osize to nsize (not 0) */
static NOINLINE void *resizein(lugo_arena *a, char *p, size_t osize,
                               size_t nsize) {
  uint32_t oc = (uint32_t)CLASS(osize), nc;
  void *q;
  if (nsize <= LUGO_ARENA_MAXBLOCK) {
    nc = (uint32_t)CLASS(nsize);
    if (nc <= oc) {  /* in place; Lua needs shrinking never to fail */
      if (nc < oc) put(a, p + nc * UNIT, (size_t)(oc - nc) * UNIT);
      poison(p, nc * UNIT);
      unpoison(p, nsize);
      return p;
    }
    if ((uint32_t)(p - BASE(a)) + oc * UNIT == a->top &&
        (nc - oc) * UNIT <= a->size - a->top) {  /* the last block grows */
      a->top += (nc - oc) * UNIT;
      unpoison(p, nsize);
      return p;
    }
    q = get(a, nsize);
    if (q == NULL) q = malloc(nsize);
  } else {
    q = malloc(nsize);
  }
  if (q == NULL) return NULL;  /* p stays as it was */
  memcpy(q, p, osize);  /* osize < nsize: it grew */
  put(a, p, osize);
  return q;
}

/* malloc's block p changes size from osize to nsize (not 0) */
static NOINLINE void *resizeout(lugo_arena *a, void *p, size_t osize,
                                size_t nsize) {
  void *q;
  if (nsize <= LUGO_ARENA_MAXBLOCK && (q = get(a, nsize)) != NULL) {
    memcpy(q, p, osize < nsize ? osize : nsize);  /* into the chunk */
    free(p);
    return q;
  }
  return realloc(p, nsize);
}

/* [lua_Alloc] The common cases (a new block, a free) stay short: a
** goroutine whose chunk is full pays little over plain malloc. */
void *lugo__alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize) {
  lugo_arena *a = (lugo_arena *)ud;
  if (nsize == 0) {  /* free(NULL) when ptr is NULL */
    if (!inarena(a, ptr)) free(ptr);
    else if (ptr != a->main) put(a, (char *)ptr, osize);
    else freemain(a, osize);
    return NULL;
  }
  if (ptr == NULL) {  /* osize is a type tag, not a size */
    void *q;
    if (nsize <= LUGO_ARENA_MAXBLOCK && a->mode != A_NEWSTATE &&
        (q = get(a, nsize)) != NULL)
      return q;
    if (a->mode == A_NEWSTATE) return newmain(a, nsize);
    return malloc(nsize);
  }
  if (inarena(a, ptr)) return resizein(a, (char *)ptr, osize, nsize);
  return resizeout(a, ptr, osize, nsize);
}

lugo_arena *lugo__alloc_new(size_t size) {
  lugo_arena *a;
  if (size < 2 * HEADER || size > MAXSIZE) return NULL;
  size = CLASS(size) * UNIT;
  a = (lugo_arena *)aligned_alloc(UNIT, size);
  if (a == NULL) return NULL;
  memset(a, 0, HEADER);
  a->size = (uint32_t)size;
  a->top = HEADER;
  poison(BASE(a) + HEADER, size - HEADER);
  return a;
}

void lugo__alloc_free(lugo_arena *a) {
  if (a == NULL) return;
  unpoison(a, a->size);
  free(a);
}

lua_State *lugo__alloc_newstate(size_t size) {
  lugo_arena *a = lugo__alloc_new(size);
  lua_State *L;
  if (a == NULL) return NULL;
  a->mode = A_NEWSTATE;
  L = lua_newstate(lugo__alloc_fn, a);
  if (L == NULL) {  /* its main block is freed, if it got one; not a */
    lugo__alloc_free(a);
    return NULL;
  }
  a->mode = A_OWNED;
  return L;
}
