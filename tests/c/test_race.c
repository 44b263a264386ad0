/* test_race.c -- the race detector: vector clocks, FastTrack's shadow
** cells, and whole programs under a runtime with the detector on. */
#include <stdlib.h>
#include <string.h>

#include "cutil.h"
#include "lugo.h"
#include "race.h"

/* ---------------------------------------------------------------------
** vector clocks
** ------------------------------------------------------------------- */

static void test_vc(void) {
  lugo_vc a = LUGO_VC_INIT, b = LUGO_VC_INIT;
  CHECK_EQ(lugo__vc_get(&a, 5), 0);
  lugo__vc_set(&a, 3, 7);
  CHECK_EQ(lugo__vc_get(&a, 3), 7);
  CHECK_EQ(lugo__vc_get(&a, 2), 0);
  CHECK_EQ(lugo__vc_get(&a, 1000), 0);
  lugo__vc_set(&b, 100, 1);  /* grows past a's length */
  lugo__vc_set(&b, 3, 5);
  CU_ASSERT(!lugo__vc_leq(&a, &b));  /* a[3] = 7 > 5 */
  CU_ASSERT(!lugo__vc_leq(&b, &a));  /* concurrent */
  lugo__vc_join(&b, &a);
  CHECK_EQ(lugo__vc_get(&b, 3), 7);
  CHECK_EQ(lugo__vc_get(&b, 100), 1);
  CU_ASSERT(lugo__vc_leq(&a, &b));
  lugo__vc_copy(&a, &b);
  CU_ASSERT(lugo__vc_leq(&a, &b) && lugo__vc_leq(&b, &a));
  {  /* a copy into a longer clock forgets the tail */
    lugo_vc c = LUGO_VC_INIT;
    lugo__vc_set(&c, 200, 9);
    lugo__vc_copy(&c, &a);
    CHECK_EQ(lugo__vc_get(&c, 200), 0);
    CHECK_EQ(lugo__vc_get(&c, 100), 1);
    lugo__vc_free(&c);
  }
  lugo__vc_free(&a);
  lugo__vc_free(&b);
}

/* a clock that knows few slots but high ones stays small (sparse), and
** turns dense when that is no bigger; every operation agrees with a
** plain array model across both forms */
static void test_vc_sparse(void) {
  enum { N = 3000 };
  static uint32_t ma[N], mb[N];
  lugo_vc a = LUGO_VC_INIT, b = LUGO_VC_INIT, c = LUGO_VC_INIT;
  uint32_t i, seed = 12345;
  int round;
  lugo__vc_set(&a, 2000, 5);
  lugo__vc_set(&a, 7, 1);
  CU_ASSERT(a.sparse);
  CU_ASSERT(lugo__vc_bytes(&a) < 100);  /* not 8 KB */
  CHECK_EQ(lugo__vc_get(&a, 2000), 5);
  CHECK_EQ(lugo__vc_get(&a, 7), 1);
  CHECK_EQ(lugo__vc_get(&a, 8), 0);
  for (i = 0; i < 1100; i++) lugo__vc_set(&a, i, i + 1);  /* dense now */
  CU_ASSERT(!a.sparse);
  CHECK_EQ(lugo__vc_get(&a, 2000), 5);
  CHECK_EQ(lugo__vc_get(&a, 1099), 1100);
  lugo__vc_free(&a);
  for (round = 0; round < 200; round++) {  /* random sets, joins, copies */
    memset(ma, 0, sizeof(ma));
    memset(mb, 0, sizeof(mb));
    for (i = 0; i < (uint32_t)(round % 40) + 1; i++) {
      uint32_t t1, t2;
      seed = seed * 1103515245u + 12345u;
      t1 = (seed >> 8) % (round % 2 ? N : 64);
      seed = seed * 1103515245u + 12345u;
      t2 = (seed >> 8) % N;
      ma[t1] = i + 1 + (uint32_t)round;
      lugo__vc_set(&a, t1, ma[t1]);
      mb[t2] = i + 2;
      lugo__vc_set(&b, t2, mb[t2]);
    }
    CHECK_EQ(lugo__vc_leq(&a, &b), ({ int le = 1; for (i = 0; i < N; i++) if (ma[i] > mb[i]) le = 0; le; }));
    lugo__vc_join(&b, &a);
    for (i = 0; i < N; i++) if (ma[i] > mb[i]) mb[i] = ma[i];
    lugo__vc_copy(&c, &b);
    for (i = 0; i < N; i++) {
      if (lugo__vc_get(&b, i) != mb[i] || lugo__vc_get(&c, i) != mb[i]) {
        CHECK_EQ(lugo__vc_get(&b, i), mb[i]);
        CHECK_EQ(lugo__vc_get(&c, i), mb[i]);
        break;
      }
    }
    CU_ASSERT(lugo__vc_leq(&a, &b));
    lugo__vc_free(&a);
    lugo__vc_free(&b);
    lugo__vc_free(&c);
  }
}

static void test_epoch(void) {
  lugo_vc v = LUGO_VC_INIT;
  lugo_epoch e = LUGO_EPOCH(4, 10);
  CHECK_EQ(LUGO_ETID(e), 4);
  CHECK_EQ(LUGO_ECLK(e), 10);
  CU_ASSERT(!LUGO_EPOCH_LEQ(e, &v));
  lugo__vc_set(&v, 4, 9);
  CU_ASSERT(!LUGO_EPOCH_LEQ(e, &v));
  lugo__vc_set(&v, 4, 10);
  CU_ASSERT(LUGO_EPOCH_LEQ(e, &v));
  lugo__vc_free(&v);
}

/* ---------------------------------------------------------------------
** shadow cells: two or three threads with hand-made clocks
** ------------------------------------------------------------------- */

typedef struct thr {
  uint32_t tid;
  lugo_vc vc;
} thr;

static void thr_init(thr *t, uint32_t tid) {
  lugo_vc empty = LUGO_VC_INIT;
  t->tid = tid;
  t->vc = empty;
  lugo__vc_set(&t->vc, tid, 1);
}

/* a releases to b (as through a channel): b learns a, a moves on */
static void sync_to(thr *a, thr *b) {
  lugo__vc_join(&b->vc, &a->vc);
  lugo__vc_set(&a->vc, a->tid, lugo__vc_get(&a->vc, a->tid) + 1);
}

/* free what a test made (c may be NULL) */
static void done(lugo_shadow *s, thr *a, thr *b, thr *c) {
  lugo__shadow_free(s);
  lugo__vc_free(&a->vc);
  lugo__vc_free(&b->vc);
  if (c != NULL) lugo__vc_free(&c->vc);
}

static int acc(lugo_shadow *s, thr *t, int kind, uint32_t stk,
               lugo_conflict *out) {
  lugo_conflict tmp[LUGO_MAXCONFLICT];
  if (lugo__shadow_same(s, t->tid, lugo__vc_get(&t->vc, t->tid), kind)) return 0;
  return lugo__shadow_access(s, &t->vc, t->tid, stk, kind, out ? out : tmp);
}

static void test_write_write(void) {
  lugo_shadow s = LUGO_SHADOW_INIT;
  lugo_conflict out[LUGO_MAXCONFLICT];
  thr a, b;
  thr_init(&a, 0);
  thr_init(&b, 1);
  CHECK_EQ(acc(&s, &a, LUGO_ACC_WRITE, 11, NULL), 0);
  CHECK_EQ(acc(&s, &a, LUGO_ACC_WRITE, 11, NULL), 0);  /* same epoch */
  CHECK_EQ(acc(&s, &b, LUGO_ACC_WRITE, 22, out), 1);
  CHECK_EQ(out[0].write, 1);
  CHECK_EQ(out[0].stk, 11);
  CHECK_EQ(LUGO_ETID(out[0].e), 0);
  /* once b knows a's write (and a b's), neither races */
  sync_to(&b, &a);
  CHECK_EQ(acc(&s, &a, LUGO_ACC_WRITE, 11, NULL), 0);
  sync_to(&a, &b);
  CHECK_EQ(acc(&s, &b, LUGO_ACC_READ, 22, NULL), 0);
  done(&s, &a, &b, NULL);
}

static void test_read_sets(void) {
  lugo_shadow s = LUGO_SHADOW_INIT;
  lugo_conflict out[LUGO_MAXCONFLICT];
  thr a, b, c;
  thr_init(&a, 0);
  thr_init(&b, 1);
  thr_init(&c, 2);
  CHECK_EQ(acc(&s, &a, LUGO_ACC_WRITE, 1, NULL), 0);
  sync_to(&a, &b);
  sync_to(&a, &c);
  CHECK_EQ(acc(&s, &b, LUGO_ACC_READ, 2, NULL), 0);  /* after the write */
  CHECK_EQ(acc(&s, &c, LUGO_ACC_READ, 3, NULL), 0);  /* reads never race */
  CHECK_EQ(s.nr, 2);                                  /* a read set now */
  sync_to(&b, &a);  /* a learns b's read but not c's */
  CHECK_EQ(acc(&s, &a, LUGO_ACC_WRITE, 4, out), 1);
  CHECK_EQ(out[0].write, 0);
  CHECK_EQ(out[0].stk, 3);
  CHECK_EQ(LUGO_ETID(out[0].e), 2);
  CHECK_EQ(s.nr, 0);  /* the write replaced the set */
  done(&s, &a, &b, &c);
}

static void test_read_then_write(void) {
  lugo_shadow s = LUGO_SHADOW_INIT;
  lugo_conflict out[LUGO_MAXCONFLICT];
  thr a, b;
  thr_init(&a, 0);
  thr_init(&b, 1);
  CHECK_EQ(acc(&s, &a, LUGO_ACC_READ, 5, NULL), 0);
  CHECK_EQ(acc(&s, &b, LUGO_ACC_WRITE, 6, out), 1);  /* read-write */
  CHECK_EQ(out[0].write, 0);
  CHECK_EQ(out[0].stk, 5);
  /* FastTrack: a read in the epoch of an earlier read adds nothing (a
  ** write racing it was reported against that read) */
  CHECK_EQ(acc(&s, &a, LUGO_ACC_READ, 7, out), 0);
  lugo__vc_set(&a.vc, a.tid, lugo__vc_get(&a.vc, a.tid) + 1);  /* a new epoch */
  CHECK_EQ(acc(&s, &a, LUGO_ACC_READ, 7, out), 1);   /* write-read */
  CHECK_EQ(out[0].write, 1);
  CHECK_EQ(out[0].stk, 6);
  done(&s, &a, &b, NULL);
}

/* stores that move #t race a read of #t, not each other */
static void test_moves(void) {
  lugo_shadow s = LUGO_SHADOW_INIT;
  lugo_conflict out[LUGO_MAXCONFLICT];
  thr a, b, c;
  thr_init(&a, 0);
  thr_init(&b, 1);
  thr_init(&c, 2);
  CHECK_EQ(acc(&s, &a, LUGO_ACC_MOVE, 1, NULL), 0);
  CHECK_EQ(acc(&s, &b, LUGO_ACC_MOVE, 2, NULL), 0);
  CHECK_EQ(acc(&s, &c, LUGO_ACC_READ, 3, out), 2);  /* both moves */
  CU_ASSERT(out[0].write && out[1].write);
  /* a reader that learned both moves does not race */
  sync_to(&a, &c);
  sync_to(&b, &c);
  CHECK_EQ(acc(&s, &c, LUGO_ACC_READ, 3, NULL), 0);
  /* a move after that read, unordered with it, races it */
  CHECK_EQ(acc(&s, &a, LUGO_ACC_MOVE, 4, out), 1);
  CHECK_EQ(out[0].write, 0);
  CHECK_EQ(out[0].stk, 3);
  done(&s, &a, &b, &c);
}

/* ---------------------------------------------------------------------
** whole programs (goroutines on 2 Ps)
** ------------------------------------------------------------------- */

static lugo_runtime *newrt(int race) {
  lugo_options o;
  lugo_options_init(&o);
  o.procs = 2;
  o.race = race;
  return lugo_new(&o);
}

/* 10 goroutines x 100 increments of one key: one report (every racing
** pair is the same two stacks), whichever order they ran in */
static const char COUNTER[] =
    "local t, wg = shared.table{n = 0}, sync.WaitGroup()\n"
    "for i = 1, 10 do wg:Go(function()\n"
    "  for j = 1, 100 do t.n = t.n + 1 end\n"
    "end) end\n"
    "wg:Wait()\n";

static const char LOCKED[] =
    "local t, wg, mu = shared.table{n = 0}, sync.WaitGroup(), sync.Mutex()\n"
    "for i = 1, 10 do wg:Go(function()\n"
    "  for j = 1, 100 do mu:Lock(); t.n = t.n + 1; mu:Unlock() end\n"
    "end) end\n"
    "wg:Wait()\n"
    "assert(t.n == 1000)\n";

static void test_programs(void) {
  int round;
  for (round = 0; round < 10; round++) {
    lugo_runtime *rt = newrt(1);
    CHECK_EQ(cutil_runlua(rt, LOCKED, NULL), LUGO_OK);
    CHECK_EQ(lugo_race_errors(rt), 0);
    lugo_close(rt);
    rt = newrt(1);
    CHECK_EQ(cutil_runlua(rt, COUNTER, NULL), LUGO_OK);
    CHECK_EQ(lugo_race_errors(rt), 1);
    lugo_close(rt);
  }
  {  /* off: nothing is watched */
    lugo_runtime *rt = newrt(0);
    CHECK_EQ(cutil_runlua(rt, COUNTER, NULL), LUGO_OK);
    CHECK_EQ(lugo_race_errors(rt), 0);
    lugo_close(rt);
  }
}

/* thousands of goroutines one after another, each handing over to the
** next through a channel: slots are reused (clocks stay small), and the
** chain keeps every access ordered */
static const char CHAIN[] =
    "local t = shared.table{n = 0}\n"
    "local prev = chan()\n"
    "local first = prev\n"
    "for i = 1, 3000 do\n"
    "  local nxt = chan()\n"
    "  go(function(a, b) a:recv(); t.n = t.n + 1; b:send(true) end, prev, nxt)\n"
    "  prev = nxt\n"
    "end\n"
    "first:send(true)\n"
    "prev:recv()\n"
    "assert(t.n == 3000, t.n)\n";

static void test_chain(void) {
  lugo_runtime *rt = newrt(1);
  CHECK_EQ(cutil_runlua(rt, CHAIN, NULL), LUGO_OK);
  CHECK_EQ(lugo_race_errors(rt), 0);
  lugo_close(rt);
}

int main(void) {
  static const cutest tests[] = {
    {"vector clocks", test_vc}, {"sparse clocks", test_vc_sparse},
    {"epochs", test_epoch},
    {"write-write", test_write_write}, {"read sets", test_read_sets},
    {"read then write", test_read_then_write}, {"border moves", test_moves},
    {"programs", test_programs}, {"goroutine chain", test_chain},
    {NULL, NULL}
  };
  return cutil_run("race", tests);
}
