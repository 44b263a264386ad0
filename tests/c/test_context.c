/* test_context.c -- the context core (vm/context.c) driven from C threads
** (trees, races between cancels, timers, deep chains) and from Lua in a
** runtime (cycles, goroutines parked on Done and timers pending at
** shutdown).  Every test closes its runtime: the sanitizer builds check
** nothing leaks and TSan checks the locking. */
#include <lauxlib.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"
#include "context.h"
#include "cutil.h"
#include "lugo.h"
#include "scheduler.h"

static lugo_runtime *newrt(int procs) {
  lugo_options o;
  lugo_options_init(&o);
  o.procs = procs;
  return lugo_new(&o);
}

static int refs(void *o) {
  return lugo_load(&((lugo_obj *)o)->refs);
}

/* a new started WithCancel (one reference: the caller's) */
static lugo_cctx *child(lugo_ctx *p) {
  lugo_cctx *c = lugo__ctx_newcancel(p);
  lugo__ctx_start(c, 0);
  return c;
}

static int nkids(lugo_cctx *c) {
  int n = 0;
  lugo_cctx *k;
  pthread_mutex_lock(&c->lk);
  for (k = c->kids; k; k = k->knext) n++;
  pthread_mutex_unlock(&c->lk);
  return n;
}

/* the Done channel is closed: a non-blocking receive says so */
static int closed(lugo_ctx *c) {
  lugo_value v;
  int ok = 1;
  lugo_chan *d = lugo__ctx_done(c, 0);
  return lugo__chan_recv(d, &v, &ok, NULL) == LUGO_CHAN_DONE && !ok;
}

static void release(void *o) { lugo__obj_release((lugo_obj *)o); }

static void test_tree(void) {
  lugo_runtime *rt = newrt(1);
  lugo_ctx *bg = lugo__ctx_root(rt, LUGO_CTX_BACKGROUND);
  lugo_cctx *p = child(bg), *a, *b, *late;
  lugo_vctx *v;
  lugo_shkey k;
  lugo_value val;
  CU_ASSERT(p->cparent == NULL);          /* below a root: linked nowhere */
  a = child(&p->c);
  lugo__shkey_str(&k, "k", 1);
  val.t = LUGO_VINT;
  val.u.i = 7;
  v = lugo__ctx_newvalue(&a->c, &k, &val);
  b = child(&v->c);                       /* linked to a, through v */
  CU_ASSERT(b->cparent == a);
  CHECK_EQ(nkids(p), 1);
  CHECK_EQ(nkids(a), 1);
  CHECK_EQ(refs(a), 3);                   /* ours, p's list, v's parent */
  CU_ASSERT(!closed(&b->c));              /* Done asked before the cancel */
  lugo__ctx_cancel(p, 0);
  CHECK_EQ(lugo__ctx_err(&b->c), LUGO_CTX_CANCELED);
  CHECK_EQ(lugo__ctx_err(&v->c), LUGO_CTX_CANCELED);
  CU_ASSERT(closed(&b->c));
  CU_ASSERT(closed(&v->c));               /* asked after: made closed */
  CHECK_EQ(nkids(p), 0);
  CHECK_EQ(nkids(a), 0);
  CHECK_EQ(refs(a), 2);                   /* the lists let go */
  CHECK_EQ(refs(b), 1);
  late = child(&v->c);                    /* a child of a cancelled parent */
  CHECK_EQ(lugo__ctx_err(&late->c), LUGO_CTX_CANCELED);
  CHECK_EQ(refs(late), 1);                /* and linked nowhere */
  CU_ASSERT(lugo__ctx_value(&late->c, &k) != NULL);
  CHECK_EQ(lugo__ctx_value(&late->c, &k)->u.i, 7);
  lugo__ctx_cancel(p, 0);                 /* idempotent */
  release(late);
  release(b);
  release(v);
  release(a);
  release(p);
  release(bg);
  lugo_close(rt);
}

/* cancelling children one by one empties the parent's list: a
** long-lived parent does not keep its cancelled children */
static void test_no_leak_children(void) {
  lugo_runtime *rt = newrt(1);
  lugo_ctx *bg = lugo__ctx_root(rt, LUGO_CTX_TODO);
  lugo_cctx *p = child(bg);
  int i;
  for (i = 0; i < 10000; i++) {
    lugo_cctx *c = child(&p->c);
    if (i == 0) CHECK_EQ(nkids(p), 1);
    lugo__ctx_cancel(c, 0);
    CHECK_EQ(refs(c), 1);
    release(c);
  }
  CHECK_EQ(nkids(p), 0);
  CHECK_EQ(refs(p), 1);
  CHECK_EQ(lugo__ctx_err(&p->c), LUGO_CTX_LIVE);
  release(p);
  release(bg);
  lugo_close(rt);
}

/* children never cancelled, dropped by everyone but their parent: the
** parent <-> child cycles are broken by lugo_close */
static void test_uncancelled_cycles(void) {
  lugo_runtime *rt = newrt(1);
  lugo_ctx *bg = lugo__ctx_root(rt, LUGO_CTX_BACKGROUND);
  lugo_cctx *p = child(bg);
  int i;
  for (i = 0; i < 100; i++) {
    lugo_cctx *c = child(&p->c);
    lugo_cctx *g = child(&c->c);
    release(g);
    release(c);
  }
  CHECK_EQ(nkids(p), 100);
  release(p);
  release(bg);
  lugo_close(rt);
}

/* a chain far deeper than any C stack cancels with a work list and frees
** in a loop */
static void test_deep_chain(void) {
  lugo_runtime *rt = newrt(1);
  lugo_ctx *bg = lugo__ctx_root(rt, LUGO_CTX_BACKGROUND), *c, *top;
  lugo_cctx *first = child(bg);
  lugo_shkey k;
  lugo_value v;
  int i;
  c = &first->c;
  lugo__obj_grab(&c->obj);
  for (i = 0; i < 300000; i++) {
    lugo_ctx *n;
    if (i % 3 == 0) {
      lugo__shkey_int(&k, i);
      v.t = LUGO_VNIL;
      n = &lugo__ctx_newvalue(c, &k, &v)->c;
    } else {
      n = &child(c)->c;
    }
    release(c);  /* the child holds it */
    c = n;
  }
  top = c;
  lugo__shkey_int(&k, 3);
  CU_ASSERT(lugo__ctx_value(top, &k) != NULL);
  lugo__shkey_int(&k, 4);
  CU_ASSERT(lugo__ctx_value(top, &k) == NULL);
  lugo__ctx_cancel(first, 0);
  CHECK_EQ(lugo__ctx_err(top), LUGO_CTX_CANCELED);
  CHECK_EQ(refs(top), 1);
  release(top);   /* frees the whole chain but first */
  CHECK_EQ(refs(first), 1);
  release(first);
  release(bg);
  lugo_close(rt);
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* wait (bounded) until c's Err is set */
static int awaiterr(lugo_ctx *c) {
  int64_t until = lugo__nanotime() + 60 * (int64_t)1000000000;
  while (lugo__ctx_err(c) == LUGO_CTX_LIVE && lugo__nanotime() < until)
    sched_yield();
  return lugo__ctx_err(c);
}

static void test_deadlines(void) {
  lugo_runtime *rt = newrt(1);
  lugo_ctx *bg = lugo__ctx_root(rt, LUGO_CTX_BACKGROUND);
  double now = wall();
  int64_t mono = lugo__nanotime();
  lugo_cctx *d1 = lugo__ctx_newdeadline(bg, now + 3600, mono + 3600e9), *d2,
            *d3, *d4, *past;
  lugo__ctx_start(d1, 0);
  CHECK_EQ(d1->c.kind, LUGO_CTX_DEADLINE);
  CHECK_EQ(refs(d1), 2);                   /* ours and the timer's */
  d2 = lugo__ctx_newdeadline(&d1->c, now + 7200, mono + 7200e9);
  CHECK_EQ(d2->c.kind, LUGO_CTX_CANCEL);   /* later: the parent's wins */
  CU_ASSERT(d2->c.hasdl && d2->c.dl == now + 3600);
  lugo__ctx_start(d2, 0);
  d3 = lugo__ctx_newdeadline(&d1->c, now + 0.01, mono + 10000000);
  lugo__ctx_start(d3, 0);
  CHECK_EQ(awaiterr(&d3->c), LUGO_CTX_EXCEEDED);  /* fired by sysmon */
  CHECK_EQ(lugo__ctx_err(&d1->c), LUGO_CTX_LIVE);
  CU_ASSERT(closed(&d3->c));
  d4 = lugo__ctx_newdeadline(&d2->c, now + 1800, mono + 1800e9);
  lugo__ctx_start(d4, 0);
  CHECK_EQ(lugo__timers_pending(rt), 2);   /* d1, d4 */
  lugo__ctx_cancel(d1, 0);                 /* disarms both */
  CHECK_EQ(lugo__timers_pending(rt), 0);
  CHECK_EQ(lugo__ctx_err(&d4->c), LUGO_CTX_CANCELED);
  CHECK_EQ(lugo__ctx_err(&d3->c), LUGO_CTX_EXCEEDED);  /* the first stays */
  CHECK_EQ(refs(d1), 3);                   /* ours, d2's and d3's parent */
  CHECK_EQ(refs(d4), 1);
  past = lugo__ctx_newdeadline(bg, now - 1, mono - 1000000000);
  lugo__ctx_start(past, 0);
  CHECK_EQ(lugo__ctx_err(&past->c), LUGO_CTX_EXCEEDED);
  CHECK_EQ(refs(past), 1);                 /* never armed */
  release(past);
  release(d4);
  release(d3);
  release(d2);
  release(d1);
  /* one left pending at shutdown: the timer's drop lets it go */
  d1 = lugo__ctx_newdeadline(bg, now + 3600, lugo__nanotime() + 3600e9);
  lugo__ctx_start(d1, 0);
  release(d1);
  release(bg);
  lugo_close(rt);
}

/* ---- threads racing: makers add and cancel children of a shared parent
** while it is cancelled; short deadlines fire among them */

#define NT 4
static lugo_cctx *shared_p;
static lugo_aint stop_at;

static void *maker(void *ud) {
  int i, id = (int)(intptr_t)ud;
  for (i = 0; i < 20000; i++) {
    lugo_cctx *c;
    if (i % 5 == 0) {
      c = lugo__ctx_newdeadline(&shared_p->c, wall() + 0.0005,
                                lugo__nanotime() + 500000);
      lugo__ctx_start(c, id);
    } else {
      c = child(&shared_p->c);
    }
    if (i % 3 == 0) lugo__ctx_done(&c->c, id);
    if (i % 7 != 0) lugo__ctx_cancel(c, id);  /* else: the parent's job */
    release(c);
    if (i == 10000 && id == 0) lugo_store(&stop_at, 1);
  }
  return NULL;
}

static void *canceller(void *ud) {
  (void)ud;
  while (!lugo_load(&stop_at)) sched_yield();
  lugo__ctx_cancel(shared_p, 99);
  return NULL;
}

static void test_threads(void) {
  lugo_runtime *rt = newrt(2);
  lugo_ctx *bg = lugo__ctx_root(rt, LUGO_CTX_BACKGROUND);
  pthread_t t[NT + 1];
  int i;
  shared_p = child(bg);
  lugo_store(&stop_at, 0);
  for (i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, maker, (void *)(intptr_t)i);
  pthread_create(&t[NT], NULL, canceller, NULL);
  for (i = 0; i <= NT; i++) pthread_join(t[i], NULL);
  CHECK_EQ(lugo__ctx_err(&shared_p->c), LUGO_CTX_CANCELED);
  CHECK_EQ(nkids(shared_p), 0);
  CHECK_EQ(refs(shared_p), 1);
  release(shared_p);
  release(bg);
  lugo_close(rt);
}

/* ---- through a runtime */

static int run(lugo_runtime *rt, const char *code) {
  return cutil_runlua(rt, code, NULL);
}

static void test_runtime_cycles(void) {
  lugo_runtime *rt = newrt(2);
  /* a context in a WithValue of its child (and of a grandchild that
  ** nobody cancels), contexts in shared tables and channels, a
  ** CancelFunc carried across */
  CHECK_EQ(run(rt,
               "local bg = context.Background()\n"
               "local p, pc = context.WithCancel(bg)\n"
               "local v = context.WithValue(p, 'parent', p)\n"
               "local g = context.WithCancel(context.WithValue(v, 'self', v))\n"
               "assert(g:Value('parent') == p)\n"
               "local t = shared.table()\n"
               "t.ctx, t.cancel = g, pc\n"
               "local c = chan(2)\n"
               "c:send(context.WithValue(g, 'f', function() return g end))\n"
               "local r = chan()\n"
               "go(function(t, r) local x = context.WithTimeout(t.ctx, 3600)\n"
               "  r:send(x:Value('self') == t.ctx:Value('self') and 'ok' or 'bad') end, t, r)\n"
               "assert(r:recv() == 'ok')\n"
               "for i = 1, 100 do context.WithCancel(g) end\n"
               "local keep = context.WithTimeout(bg, 3600)\n"),
           LUGO_OK);
  lugo_close(rt);
}

static void test_runtime_parked(void) {
  /* goroutines parked on Done (and in a select with a timer) when the
  ** runtime closes; a deadline still pending */
  lugo_runtime *rt = newrt(2);
  CHECK_EQ(run(rt,
               "local ctx, cancel = context.WithTimeout(context.Background(), 3600)\n"
               "local ready = sync.WaitGroup()\n"
               "for i = 1, 50 do\n"
               "  ready:Add(1)\n"
               "  go(function(ctx, ready)\n"
               "    local mine = context.WithCancel(ctx)\n"
               "    ready:Done()\n"
               "    if i % 2 == 0 then mine:Done():recv()\n"
               "    else select{{recv = mine:Done()}, {recv = time.After(3600)}} end\n"
               "  end, ctx, ready)\n"
               "end\n"
               "ready:Wait()\n"),
           LUGO_OK);
  lugo_close(rt);
}

/* cancellation events: one per context, before its Done closes */
static _Atomic int ncancel, nclose, order_ok;
static const void *watched;
static _Atomic int watched_cancelled;

static void onevent(lugo_runtime *rt, const lugo_event *e, void *ud) {
  (void)rt;
  (void)ud;
  if (e->kind == LUGO_EV_CANCEL) {
    ncancel++;
    if (e->obj == watched) watched_cancelled = 1;
  } else if (e->kind == LUGO_EV_CLOSE) {
    nclose++;
    if (watched_cancelled) order_ok = 1;
  }
}

static void test_events(void) {
  lugo_runtime *rt = newrt(1);
  lugo_ctx *bg = lugo__ctx_root(rt, LUGO_CTX_BACKGROUND);
  lugo_cctx *p, *a, *b;
  rt->evud = NULL;
  rt->evhook = onevent;
  p = child(bg);
  a = child(&p->c);
  b = child(&a->c);
  watched = b;
  lugo__ctx_done(&b->c, 0);  /* only b has a channel to close */
  lugo__ctx_cancel(p, 0);
  lugo__ctx_cancel(p, 0);
  lugo__ctx_cancel(b, 0);
  CHECK_EQ(ncancel, 3);
  CHECK_EQ(nclose, 1);
  CHECK_EQ(order_ok, 1);
  release(b);
  release(a);
  release(p);
  release(bg);
  lugo_close(rt);
}

int main(void) {
  static const cutest tests[] = {
    {"tree", test_tree}, {"no leak children", test_no_leak_children},
    {"uncancelled cycles", test_uncancelled_cycles},
    {"deep chain", test_deep_chain}, {"deadlines", test_deadlines},
    {"threads", test_threads}, {"runtime cycles", test_runtime_cycles},
    {"runtime parked", test_runtime_parked}, {"events", test_events},
    {NULL, NULL}
  };
  return cutil_run("context", tests);
}
