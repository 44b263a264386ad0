/*
** context.h -- the C core of package context (Lua bindings in
** stdlib/lcontext.c): trees of contexts that cancel together, deadlines
** on runtime timers, values looked up along the chain.
**
** A context is a runtime object (counted, interned per state).  Each
** holds its parent (a reference); a cancellable context is linked into
** the children of its nearest cancellable ancestor, which holds a
** reference to it until one of them is cancelled -- so, as in Go, a child
** that is never cancelled lives as long as its parent.  The cycles this
** makes (parent -> child -> parent) are broken when either is cancelled,
** and at lugo_close by lugo__ctx_shutdown (the runtime keeps a list of
** every context that ever had a child).
*/
#ifndef lugo_context_h
#define lugo_context_h

#include <pthread.h>
#include <stdint.h>

#include "marshal.h"
#include "obj.h"
#include "shared.h"
#include "timer.h"

struct lugo_runtime;  /* defined in scheduler.h */
struct lugo_chan;     /* defined in chan.h */

enum {  /* ctx->kind */
  LUGO_CTX_BACKGROUND, LUGO_CTX_TODO,  /* the roots: never cancelled */
  LUGO_CTX_CANCEL,                     /* WithCancel (or a WithDeadline
                                          later than its parent's) */
  LUGO_CTX_DEADLINE,                   /* WithDeadline, WithTimeout */
  LUGO_CTX_VALUE                       /* WithValue */
};

enum {  /* why a context was cancelled (its Err) */
  LUGO_CTX_LIVE = 0, LUGO_CTX_CANCELED, LUGO_CTX_EXCEEDED
};

typedef struct lugo_cctx lugo_cctx;

/* what every context has (all immutable once made) */
typedef struct lugo_ctx {
  lugo_obj obj;
  int kind;                     /* LUGO_CTX_* */
  int hasdl;                    /* a deadline applies (its own or one
                                   inherited) */
  double dl;                    /* that deadline, wall-clock seconds */
  struct lugo_runtime *rt;
  struct lugo_ctx *parent;      /* a reference; NULL for a root */
  lugo_cctx *dnode;             /* whose Done and Err this context shows:
                                   itself, or (WithValue) its parent's */
} lugo_ctx;

/* a root, WithCancel or WithDeadline context: it has a Done channel and
** may have children.  Locks: each node's lk guards its own fields below;
** no code holds two nodes' locks (or a node's and the registry's) at
** once, and none is held while calling into Lua, a channel or a timer. */
struct lugo_cctx {
  lugo_ctx c;
  pthread_mutex_t lk;
  lugo_aint err;                /* atomic: LUGO_CTX_*, set once, under lk */
  lugo_aptr done;               /* atomic (written under lk): the Done
                                   channel, a reference; NULL until asked */
  lugo_cctx *kids;              /* guarded by lk: linked children, each
                                   holding a reference */
  int everreg;                  /* guarded by lk (read by the free function
                                   alone): on the registry's list */
  lugo_cctx *cparent;           /* immutable: the nearest cancellable
                                   ancestor (NULL: below a root) */
  lugo_cctx *knext, *kprev;     /* guarded by cparent->lk */
  int linked;                   /* guarded by cparent->lk: in its kids */
  lugo_cctx *rnext, *rprev;     /* guarded by the registry's lk */
  lugo_cctx *wnext;             /* a canceller's work list: owned by
                                   whoever holds the kids-list reference */
};

/* WithDeadline: a cancellable context with a timer that holds a
** reference while it is pending */
typedef struct lugo_tctx {
  lugo_cctx cc;
  lugo_timer t;
  int64_t when;                 /* monotonic ns (immutable) */
} lugo_tctx;

/* WithValue: one key and its value, both immutable */
typedef struct lugo_vctx {
  lugo_ctx c;
  lugo_shval key;               /* owned: a string, number, boolean or
                                   runtime object (a reference) */
  uint32_t hash;
  lugo_value val;               /* copied out by each Value */
} lugo_vctx;

/* the runtime's contexts (rt->ctxreg) */
typedef struct lugo_ctxreg {
  pthread_mutex_t lk;
  lugo_cctx *all;               /* guarded by lk: contexts that had children */
  lugo_cctx *roots[2];          /* guarded by lk: Background and TODO,
                                   references, made on first use */
} lugo_ctxreg;

extern const lugo_objtype lugo__ctx_type;  /* stdlib/lcontext.c */
void lugo__ctx_free(lugo_obj *o);

lugo_ctxreg *lugo__ctxreg_new(void);
/* lugo_close, every goroutine state closed and no other thread running:
** unlink every parent from its children (breaking the cycles) and drop
** the roots. */
void lugo__ctx_shutdown(struct lugo_runtime *rt);
/* after everything that could still free a context */
void lugo__ctxreg_free(lugo_ctxreg *reg);

/* Any thread.  Background or TODO (a reference), NULL if out of memory. */
lugo_ctx *lugo__ctx_root(struct lugo_runtime *rt, int kind);

/* Any thread.  A new context below parent (refs 1, not started), NULL if
** out of memory.  WithDeadline: deadline t (wall clock) due at when
** (monotonic ns); a parent whose deadline is no later makes it a plain
** LUGO_CTX_CANCEL. */
lugo_cctx *lugo__ctx_newcancel(lugo_ctx *parent);
lugo_cctx *lugo__ctx_newdeadline(lugo_ctx *parent, double t, int64_t when);
/* Any thread.  Link a new context under its parent, or cancel it at once
** (the parent is cancelled, or its deadline has passed); arm its timer.
** goid is the caller's goroutine (for events). */
void lugo__ctx_start(lugo_cctx *c, long long goid);
/* Any thread (the CancelFunc): cancel c and everything below it, and take
** it out of its parent's children.  Idempotent. */
void lugo__ctx_cancel(lugo_cctx *c, long long goid);

/* Any thread.  A WithValue context holding k (owned: the context takes
** it) and v (moved), NULL if out of memory (then both are still the
** caller's). */
lugo_vctx *lugo__ctx_newvalue(lugo_ctx *parent, lugo_shkey *k, lugo_value *v);
/* Any thread.  The value of the nearest WithValue up the chain whose key
** is k, or NULL.  It lives as long as c does. */
const lugo_value *lugo__ctx_value(lugo_ctx *c, const lugo_shkey *k);

/* Any thread.  LUGO_CTX_* */
static inline int lugo__ctx_err(lugo_ctx *c) {
  return lugo_load(&c->dnode->err);
}
/* Any thread.  The Done channel (made on first use, closed already if c
** is cancelled; a root's is never closed), living as long as c does; NULL
** if out of memory. */
struct lugo_chan *lugo__ctx_done(lugo_ctx *c, long long goid);

#endif
