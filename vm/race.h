/*
** race.h -- the race detector (`lugo -race`): happens-before by vector
** clocks, FastTrack's epochs for the common case, shadow state for the
** one kind of memory goroutines share (shared tables).  See race.c.
**
** Every hook is called behind one predictable branch on a pointer that is
** NULL unless the runtime was made with the detector on (g->race for a
** goroutine, rt->race for the runtime): off, that branch is the whole
** cost.  Hooks are called directly at the synchronisation points rather
** than through the event listener (event.h), because an edge must be
** recorded before the other side can observe the operation (a release
** before the unlock, a channel's edge under its lock).
*/
#ifndef lugo_race_h
#define lugo_race_h

#include <stdint.h>

#include "scheduler.h"
#include "shared.h"

/* ---------------------------------------------------------------------
** vector clocks and epochs (no locks: callers own what they pass)
** ------------------------------------------------------------------- */

/* A clock per goroutine slot, every entry not held being 0.  Dense: c[tid]
** for tid < n.  Sparse (a goroutine that knows few others but has a high
** slot number: it would otherwise pay 4 bytes for every slot below its
** own): n (tid, clock) pairs in c[0..2n), tids ascending; it turns dense
** once that is no bigger.  Out of memory aborts: a detector that silently
** lost an edge would report races that are not. */
typedef struct lugo_vc {
  uint32_t n, cap;       /* cap: uint32_t's allocated at c */
  uint32_t *c;
  uint32_t sparse;
} lugo_vc;

#define LUGO_VC_INIT {0, 0, NULL, 1}
void lugo__vc_free(lugo_vc *v);
uint32_t lugo__vc_sget(const lugo_vc *v, uint32_t tid);
static inline uint32_t lugo__vc_get(const lugo_vc *v, uint32_t tid) {
  if (!v->sparse) return tid < v->n ? v->c[tid] : 0;
  return lugo__vc_sget(v, tid);
}
void lugo__vc_set(lugo_vc *v, uint32_t tid, uint32_t clk);
void lugo__vc_join(lugo_vc *dst, const lugo_vc *src);  /* dst = max */
void lugo__vc_copy(lugo_vc *dst, const lugo_vc *src);
int lugo__vc_leq(const lugo_vc *a, const lugo_vc *b);   /* a <= b */
size_t lugo__vc_bytes(const lugo_vc *v);                /* held */

/* an epoch: clock clk of slot tid (clk 0: none) */
typedef uint64_t lugo_epoch;
#define LUGO_EPOCH(tid, clk) (((uint64_t)(tid) << 32) | (uint32_t)(clk))
#define LUGO_ETID(e) ((uint32_t)((e) >> 32))
#define LUGO_ECLK(e) ((uint32_t)(e))
/* e happened before (or is known to) the holder of vc */
#define LUGO_EPOCH_LEQ(e, vc) (LUGO_ECLK(e) <= lugo__vc_get((vc), LUGO_ETID(e)))

/* ---------------------------------------------------------------------
** the shadow of one location (FastTrack): the last write's epoch, and
** the last read's epoch, or a read set once reads are concurrent.  Each
** access keeps the stack (a depot id) it was made from, for reports.
** ------------------------------------------------------------------- */

typedef struct lugo_rdent { uint32_t tid, clk, stk; } lugo_rdent;

typedef struct lugo_shadow {
  lugo_epoch w, r;         /* r unused while nr > 0 */
  uint32_t wstk, rstk;
  lugo_rdent *rs;          /* concurrent reads: nr of them (nr >= 2) */
  uint32_t nr, capr;
  lugo_rdent *ws;          /* LUGO_ACC_MOVE writes not known to be before
                              the last of them: nw */
  uint32_t nw, capw;
} lugo_shadow;

#define LUGO_SHADOW_INIT {0, 0, 0, 0, NULL, 0, 0, NULL, 0, 0}

/* kinds of access */
enum {
  LUGO_ACC_READ,
  LUGO_ACC_WRITE,
  LUGO_ACC_MOVE  /* a write that commutes with others of its kind: a store
                    moving a table's border races a read of #t, but two
                    such stores (t[1] = x, t[2] = y) do not race each
                    other; they are kept in a set, as reads are */
};
void lugo__shadow_free(lugo_shadow *s);

/* an earlier access an access races with */
typedef struct lugo_conflict {
  int write;        /* the earlier access was a write (of any kind) */
  lugo_epoch e;
  uint32_t stk;
} lugo_conflict;

#define LUGO_MAXCONFLICT 4

/* The access of slot tid, whose clock is vc (vc[tid] its own), from stack
** stk: checks it against s, records it, and returns how many earlier
** accesses it races with (their first LUGO_MAXCONFLICT in out).  Before
** it, lugo__shadow_same says whether the access changes nothing (the same
** epoch did it already): then the caller need not even find its stack. */
int lugo__shadow_same(const lugo_shadow *s, uint32_t tid, uint32_t clk,
                      int acc);
int lugo__shadow_access(lugo_shadow *s, const lugo_vc *vc, uint32_t tid,
                        uint32_t stk, int acc, lugo_conflict *out);

/* ---------------------------------------------------------------------
** the detector of a runtime
** ------------------------------------------------------------------- */

typedef struct lugo_race lugo_race;
typedef struct lugo_raceg lugo_raceg;

/* is the detector watching goroutine g (not NULL)?  The one branch.
** LUGO_NORACE (cmake -DLUGO_NORACE=ON) compiles the hooks out, only to
** measure what that branch costs (bench/race.sh). */
#ifdef LUGO_NORACE
#define LUGO_RACE(g) ((void)(g), 0)
#define LUGO_RACERT(rt) ((void)(rt), 0)
#else
#define LUGO_RACE(g) __builtin_expect((g)->race != NULL, 0)
#define LUGO_RACERT(rt) __builtin_expect((rt)->race != NULL, 0)
#endif

/* lugo_new with opt.race; NULL: out of memory */
lugo_race *lugo__race_new(void);
void lugo__race_free(lugo_race *r);

/* races reported so far (race.Errors, lugo_race_errors) */
long long lugo__race_errors(lugo_race *r);

/* Owner M of rg's goroutine.  The current stack of L (up to 8 frames
** below any C function on top, down to a main chunk) as an id in the
** runtime's depot (0: none); reports turn ids back into text. */
uint32_t lugo__race_stack(lugo_race *r, lugo_raceg *rg, lua_State *L);

/* Goroutines alive at once under the detector: each has a clock as long
** as the number alive (4 bytes an entry), so memory grows with the square
** of it; past this, go() refuses (Go's detector stops at 8,128). */
#define LUGO_RACE_MAXLIVE 16384

/* Any thread: are LUGO_RACE_MAXLIVE goroutines alive? */
int lugo__race_full(lugo_race *r);

/* goroutines: lugo__spawn (parent: the spawning G, or NULL for the host
** or a timer) and gfinish */
void lugo__race_gnew(lugo_runtime *rt, lugo_G *g, lugo_G *parent);
void lugo__race_gend(lugo_G *g);

/* release (merge g's clock into the object's) and acquire (merge the
** object's into g's), on a runtime object (Mutex, WaitGroup, atomics...).
** which picks one of the object's two clocks (RWMutex: readers' and
** writers'). */
void lugo__race_release(lugo_G *g, lugo_obj *o, int which);
void lugo__race_acquire(lugo_G *g, lugo_obj *o, int which);

/* a check of the object's pseudo-location (a WaitGroup's Add from zero
** against a blocking Wait: Go's misuse check); rverb and wverb name its
** reads and writes in reports ("Add from zero to", "Wait on") */
void lugo__race_objaccess(lugo_G *g, lugo_obj *o, int write,
                          const char *rverb, const char *wverb);

/* channels (chan.c, holding c->lock): g and the waiter's G may be NULL
** (a host thread, a timer) */
struct lugo_chan;
void lugo__race_chansend(struct lugo_chan *c, lugo_G *g);    /* into the queue */
void lugo__race_chanrecv(struct lugo_chan *c, lugo_G *g);    /* out of it */
void lugo__race_chansync(lugo_G *a, lugo_G *b);   /* unbuffered hand-over */
void lugo__race_chanclose(struct lugo_chan *c, lugo_G *g);
void lugo__race_chanclosed(struct lugo_chan *c, lugo_G *g);  /* saw close */
/* a send starts (holding c->lock): the read that a racing close writes */
void lugo__race_sendcheck(struct lugo_chan *c, lugo_G *g);
/* g arms a timer whose sends (by no goroutine) go to c: what g did so far
** happens before a receive of the timer's value (not holding c->lock) */
void lugo__race_timerarm(lugo_G *g, struct lugo_chan *c);

/* shared tables: an access (LUGO_ACC_*) to key k (k NULL: the border,
** #t, read by #t and moved by LUGO_ACC_MOVE stores) */
void lugo__race_shaccess(lugo_G *g, lua_State *L, lugo_shtable *t,
                         const lugo_shkey *k, int acc);
/* a read of the key of slot e of t (pairs), and of every key of map m, a
** copy of t (freeze) */
void lugo__race_shslot(lugo_G *g, lua_State *L, lugo_shtable *t,
                       const lugo_shslot *e);
void lugo__race_shmap(lugo_G *g, lugo_shtable *t, const lugo_shmap *m);

/* the G running on this thread if the detector watches it, else NULL */
lugo_G *lugo__race_cur(void);

#endif
