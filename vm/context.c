/*
** context.c -- contexts: a tree of cancellable nodes with values hung on
** the chain between them.  Go's design (context.go: propagate to the
** nearest cancellable ancestor, a children set, a timer per deadline),
** counted and locked in our way.  Any thread may call in; timer fire
** functions run on sysmon's thread and never touch a lua_State.
**
** Invariants:
** - err goes from LIVE to CANCELED or EXCEEDED once, under the node's lk;
**   whoever sets it owns the cancellation of that node: it takes the
**   node's children list (clearing each child's `linked`), emits
**   LUGO_EV_CANCEL, closes the Done channel if there is one, disarms the
**   timer, then cancels the children (a work list, not recursion: a tree
**   may be deep).
** - A child is in its cparent's kids exactly while `linked` (under the
**   cparent's lk); the list holds one reference to it.  Whoever clears
**   `linked` (the child's own cancel, or the parent's) takes that
**   reference over, so it is released exactly once.
** - A pending timer holds one reference to its context: released by the
**   fire function, by a cancel whose lugo__timer_del found it pending, or
**   by the drop at shutdown.
** - The Done channel is closed by exactly one party: the canceller if it
**   saw the channel, else whoever installs the channel after err was set.
** - A node on the children list of its parent is referenced, so a node
**   being freed is linked nowhere and has no children (they would hold
**   it); its timer is not pending (it would hold it).
**
** Lock discipline: one pthread mutex per cancellable node, plus the
** registry's.  No code holds two of them at once, and none is held
** while closing a channel, touching a timer, emitting an event or
** releasing a reference.
*/
#include "context.h"

#include "race.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "event.h"
#include "scheduler.h"

#define iscancel(c) ((c)->kind == LUGO_CTX_CANCEL || (c)->kind == LUGO_CTX_DEADLINE)

/* ---------------------------------------------------------------------
** making and freeing
** ------------------------------------------------------------------- */

/* a node's common part; takes a reference to parent */
static void initctx(lugo_ctx *c, int kind, lugo_ctx *parent,
                    struct lugo_runtime *rt) {
  lugo__obj_init(&c->obj, &lugo__ctx_type);
  c->kind = kind;
  c->rt = rt;
  c->parent = parent;
  if (parent != NULL) {
    lugo__obj_grab(&parent->obj);
    c->hasdl = parent->hasdl;
    c->dl = parent->dl;
  }
}

static lugo_cctx *newcctx(size_t size, int kind, lugo_ctx *parent,
                          struct lugo_runtime *rt) {
  lugo_cctx *c = (lugo_cctx *)calloc(1, size);
  if (c == NULL) return NULL;
  initctx(&c->c, kind, parent, rt);
  pthread_mutex_init(&c->lk, NULL);
  c->c.dnode = c;
  if (parent != NULL && iscancel(&parent->dnode->c)) c->cparent = parent->dnode;
  return c;
}

lugo_cctx *lugo__ctx_newcancel(lugo_ctx *parent) {
  return newcctx(sizeof(lugo_cctx), LUGO_CTX_CANCEL, parent, parent->rt);
}

lugo_cctx *lugo__ctx_newdeadline(lugo_ctx *parent, double t, int64_t when) {
  lugo_tctx *tc;
  if (parent->hasdl && parent->dl <= t) return lugo__ctx_newcancel(parent);
  tc = (lugo_tctx *)newcctx(sizeof(lugo_tctx), LUGO_CTX_DEADLINE, parent,
                            parent->rt);
  if (tc == NULL) return NULL;
  tc->cc.c.hasdl = 1;
  tc->cc.c.dl = t;
  tc->when = when;
  lugo__timer_init(&tc->t);
  return &tc->cc;
}

lugo_vctx *lugo__ctx_newvalue(lugo_ctx *parent, lugo_shkey *k, lugo_value *v) {
  lugo_vctx *c = (lugo_vctx *)calloc(1, sizeof(*c));
  if (c == NULL) return NULL;
  if (lugo__shkey_own(k) != LUGO_OK) {
    free(c);
    return NULL;
  }
  initctx(&c->c, LUGO_CTX_VALUE, parent, parent->rt);
  c->c.dnode = parent->dnode;
  c->key = k->v;
  c->hash = k->hash;
  c->val = *v;
  v->t = LUGO_VNIL;
  return c;
}

lugo_ctx *lugo__ctx_root(struct lugo_runtime *rt, int kind) {
  lugo_ctxreg *reg = rt->ctxreg;
  lugo_cctx *r;
  pthread_mutex_lock(&reg->lk);
  r = reg->roots[kind];
  if (r == NULL)  /* calloc and a mutex init under the lock: no call out */
    r = reg->roots[kind] = newcctx(sizeof(lugo_cctx), kind, NULL, rt);
  if (r != NULL) lugo__obj_grab(&r->c.obj);
  pthread_mutex_unlock(&reg->lk);
  return r ? &r->c : NULL;
}

/* one node, its references to others dropped, except its parent's */
static void freeone(lugo_ctx *c) {
  lugo__obj_racefree(&c->obj);
  if (c->kind == LUGO_CTX_VALUE) {
    lugo_vctx *v = (lugo_vctx *)c;
    lugo__shval_free(&v->key);
    lugo__value_free(&v->val);
  } else {
    lugo_cctx *cc = (lugo_cctx *)c;
    lugo_chan *d = (lugo_chan *)lugo_load_relaxed(&cc->done);  /* we are
                                                   the last: nothing races */
    if (cc->everreg) {
      lugo_ctxreg *reg = c->rt->ctxreg;
      pthread_mutex_lock(&reg->lk);
      if (cc->rprev) cc->rprev->rnext = cc->rnext; else reg->all = cc->rnext;
      if (cc->rnext) cc->rnext->rprev = cc->rprev;
      pthread_mutex_unlock(&reg->lk);
    }
    pthread_mutex_destroy(&cc->lk);
    if (d != NULL) lugo__obj_release(&d->obj);
  }
  free(c);
}

/* The last reference went.  Parents freed with it are freed here too, in
** a loop: a chain of a million WithValues must not recurse. */
void lugo__ctx_free(lugo_obj *o) {
  lugo_ctx *c = (lugo_ctx *)o;
  while (c != NULL) {
    lugo_ctx *p = c->parent;
    freeone(c);
    /* acq_rel as in lugo__obj_release: contexts count their own refs */
    c = (p != NULL && atomic_fetch_sub_explicit(&p->obj.refs, 1,
                                                memory_order_acq_rel) == 1)
            ? p : NULL;
  }
}

/* ---------------------------------------------------------------------
** the registry: every context that ever had a child, so lugo_close can
** break the parent <-> child cycles of contexts nobody cancelled
** ------------------------------------------------------------------- */

lugo_ctxreg *lugo__ctxreg_new(void) {
  lugo_ctxreg *reg = (lugo_ctxreg *)calloc(1, sizeof(*reg));
  if (reg != NULL) pthread_mutex_init(&reg->lk, NULL);
  return reg;
}

/* p just got its first child (p is alive: the child holds it) */
static void reg_add(lugo_cctx *p) {
  lugo_ctxreg *reg = p->c.rt->ctxreg;
  pthread_mutex_lock(&reg->lk);
  p->rprev = NULL;
  p->rnext = reg->all;
  if (reg->all) reg->all->rprev = p;
  reg->all = p;
  pthread_mutex_unlock(&reg->lk);
}

/* take p's children (each with the list's reference), clearing `linked` */
static lugo_cctx *takekids(lugo_cctx *p) {
  lugo_cctx *kids = p->kids, *k;
  p->kids = NULL;
  for (k = kids; k != NULL; k = k->knext) k->linked = 0;
  return kids;
}

void lugo__ctx_shutdown(struct lugo_runtime *rt) {
  lugo_ctxreg *reg = rt->ctxreg;
  lugo_cctx *list = NULL, *c, *next;
  int i;
  if (reg == NULL) return;
  pthread_mutex_lock(&reg->lk);
  for (c = reg->all; c != NULL; c = c->rnext) {  /* alive: free unlinks */
    lugo__obj_grab(&c->c.obj);
    c->wnext = list;
    list = c;
  }
  pthread_mutex_unlock(&reg->lk);
  for (c = list; c != NULL; c = c->wnext) {
    lugo_cctx *k;
    pthread_mutex_lock(&c->lk);
    k = takekids(c);
    pthread_mutex_unlock(&c->lk);
    for (; k != NULL; k = next) {  /* the list's references */
      next = k->knext;
      k->knext = k->kprev = NULL;
      lugo__obj_release(&k->c.obj);
    }
  }
  for (c = list; c != NULL; c = next) {
    next = c->wnext;
    c->wnext = NULL;
    lugo__obj_release(&c->c.obj);
  }
  pthread_mutex_lock(&reg->lk);
  for (i = 0; i < 2; i++) {
    c = reg->roots[i];
    reg->roots[i] = NULL;
    if (c != NULL) {
      pthread_mutex_unlock(&reg->lk);
      lugo__obj_release(&c->c.obj);
      pthread_mutex_lock(&reg->lk);
    }
  }
  pthread_mutex_unlock(&reg->lk);
}

void lugo__ctxreg_free(lugo_ctxreg *reg) {
  if (reg == NULL) return;
  pthread_mutex_destroy(&reg->lk);
  free(reg);
}

/* ---------------------------------------------------------------------
** cancelling
** ------------------------------------------------------------------- */

/* Cancel one node (if still live) with err; its children join *work (the
** list's references passing to the work list).  fired: c's own timer is
** the one firing (sysmon), so it must not wait for it. */
static void cancel1(lugo_cctx *c, int err, long long goid, int fired,
                    lugo_cctx **work) {
  lugo_cctx *kids, *k, *next;
  lugo_chan *d;
  lugo_G *rg = c->c.rt->race != NULL ? lugo__race_cur() : NULL;
  pthread_mutex_lock(&c->lk);
  if (lugo_load_relaxed(&c->err) != LUGO_CTX_LIVE) {  /* under lk: exact */
    pthread_mutex_unlock(&c->lk);
    return;
  }
  if (rg != NULL) lugo__race_release(rg, &c->c.obj, 0);  /* before Err */
  lugo_store(&c->err, err);
  d = (lugo_chan *)lugo_load_relaxed(&c->done);  /* under lk */
  kids = takekids(c);
  pthread_mutex_unlock(&c->lk);
  LUGO_EVENT(c->c.rt, LUGO_EV_CANCEL, goid, c, err);
  if (d != NULL) lugo__chan_close(d, goid);  /* CLOSED: a script closed it */
  if (c->c.kind == LUGO_CTX_DEADLINE && !fired) {
    lugo_tctx *tc = (lugo_tctx *)c;
    /* the caller holds c: this release cannot free it */
    if (lugo__timer_del(c->c.rt->timers, &tc->t)) lugo__obj_release(&c->c.obj);
  }
  for (k = kids; k != NULL; k = next) {
    next = k->knext;
    k->knext = k->kprev = NULL;
    k->wnext = *work;
    *work = k;
  }
}

/* take c out of its parent's children (if it still is there) */
static void unlink_(lugo_cctx *c) {
  lugo_cctx *p = c->cparent;
  int was = 0;
  if (p == NULL) return;
  pthread_mutex_lock(&p->lk);
  if (c->linked) {
    if (c->kprev) c->kprev->knext = c->knext; else p->kids = c->knext;
    if (c->knext) c->knext->kprev = c->kprev;
    c->knext = c->kprev = NULL;
    c->linked = 0;
    was = 1;
  }
  pthread_mutex_unlock(&p->lk);
  if (was) lugo__obj_release(&c->c.obj);  /* the list's; the caller holds c */
}

/* Cancel c and everything below it.  The caller holds a reference to c;
** it holds no context's lock. */
static void cancel(lugo_cctx *c, int err, long long goid, int fired) {
  lugo_cctx *work = NULL;
  cancel1(c, err, goid, fired, &work);
  while (work != NULL) {
    lugo_cctx *k = work;
    work = k->wnext;
    k->wnext = NULL;
    cancel1(k, err, goid, 0, &work);
    lugo__obj_release(&k->c.obj);  /* the parent's list's */
  }
}

void lugo__ctx_cancel(lugo_cctx *c, long long goid) {
  cancel(c, LUGO_CTX_CANCELED, goid, 0);
  unlink_(c);
}

/* sysmon: a deadline passed */
static void deadline_fire(lugo_timer *t) {
  lugo_tctx *tc = (lugo_tctx *)((char *)t - offsetof(lugo_tctx, t));
  cancel(&tc->cc, LUGO_CTX_EXCEEDED, 0, 1);
  unlink_(&tc->cc);
  lugo__obj_release(&tc->cc.c.obj);  /* the timer's (may free it) */
}

/* shutdown: the timer is dropped unfired */
static void deadline_drop(lugo_timer *t) {
  lugo_tctx *tc = (lugo_tctx *)((char *)t - offsetof(lugo_tctx, t));
  lugo__obj_release(&tc->cc.c.obj);
}

void lugo__ctx_start(lugo_cctx *c, long long goid) {
  lugo_cctx *p = c->cparent;
  int perr = LUGO_CTX_LIVE, first = 0;
  if (p != NULL) {
    pthread_mutex_lock(&p->lk);
    perr = lugo_load_relaxed(&p->err);  /* under lk: exact */
    if (perr == LUGO_CTX_LIVE) {
      lugo__obj_grab(&c->c.obj);  /* the list's */
      c->kprev = NULL;
      c->knext = p->kids;
      if (p->kids) p->kids->kprev = c;
      p->kids = c;
      c->linked = 1;
      first = !p->everreg;
      p->everreg = 1;
    }
    pthread_mutex_unlock(&p->lk);
    if (first) reg_add(p);
  }
  if (perr != LUGO_CTX_LIVE) {  /* a child of a cancelled parent */
    cancel(c, perr, goid, 0);
    return;
  }
  if (c->c.kind == LUGO_CTX_DEADLINE) {
    lugo_tctx *tc = (lugo_tctx *)c;
    if (tc->when <= lugo__nanotime()) {  /* already past */
      cancel(c, LUGO_CTX_EXCEEDED, goid, 0);
      unlink_(c);
      return;
    }
    tc->t.fire = deadline_fire;
    tc->t.drop = deadline_drop;
    lugo__obj_grab(&c->c.obj);  /* the timer's */
    lugo__timer_start(c->c.rt, &tc->t, tc->when);
    /* a parent cancelled meanwhile may have missed the timer: whoever
    ** finds it pending disarms it (exactly one does) */
    if (lugo_load(&c->err) != LUGO_CTX_LIVE &&
        lugo__timer_del(c->c.rt->timers, &tc->t))
      lugo__obj_release(&c->c.obj);
  }
}

/* ---------------------------------------------------------------------
** Done and Value
** ------------------------------------------------------------------- */

lugo_chan *lugo__ctx_done(lugo_ctx *ctx, long long goid) {
  lugo_cctx *c = ctx->dnode;
  lugo_chan *d = (lugo_chan *)lugo_load_acq(&c->done), *nw;
  int closeit = 0;
  /* acquire: pairs with the release below, so the channel is seen made */
  if (d != NULL) return d;
  nw = lugo__chan_new(c->c.rt, 0);
  if (nw == NULL) return NULL;
  pthread_mutex_lock(&c->lk);
  d = (lugo_chan *)lugo_load_relaxed(&c->done);
  if (d == NULL) {
    lugo_store_rel(&c->done, nw);
    d = nw;
    nw = NULL;
    closeit = lugo_load_relaxed(&c->err) != LUGO_CTX_LIVE;
  }
  pthread_mutex_unlock(&c->lk);
  if (nw != NULL) lugo__obj_release(&nw->obj);  /* another caller won */
  if (closeit) lugo__chan_close(d, goid);
  return d;
}

static int keyeq(const lugo_vctx *v, const lugo_shkey *k) {
  return v->hash == k->hash && lugo__shkey_eq(&v->key, k);
}

const lugo_value *lugo__ctx_value(lugo_ctx *c, const lugo_shkey *k) {
  for (; c != NULL; c = c->parent)
    if (c->kind == LUGO_CTX_VALUE && keyeq((lugo_vctx *)c, k))
      return &((lugo_vctx *)c)->val;
  return NULL;
}
