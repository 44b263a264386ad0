/* test_sched.c -- the scheduler through the public API: goroutines,
** channels between them, errors, deadlock, interrupt, shutdown. */
#include <lauxlib.h>
#include <sched.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cutil.h"
#include "lugo.h"
#include "scheduler.h"

static int nreports;
static lugo_report_kind lastkind;

static void onreport(lugo_runtime *rt, const lugo_report *r, void *ud) {
  (void)rt;
  (void)ud;
  lastkind = r->kind;
  nreports++;
}

static lugo_runtime *newrt(int procs) {
  lugo_options o;
  lugo_options_init(&o);
  o.procs = procs;
  o.onreport = onreport;
  nreports = 0;
  return lugo_new(&o);
}

/* run code as a host goroutine and wait; returns the status */
static int run(lugo_runtime *rt, const char *code, char **msg) {
  return cutil_runlua(rt, code, msg);
}

static void test_fan_in(void) {
  int p;
  for (p = 1; p <= 2; p++) {
    lugo_runtime *rt = newrt(p);
    char *msg = NULL;
    int r = run(rt,
                "local c = chan(16)\n"
                "for i = 1, 2000 do go(function(c, i) c:send(i) end, c, i) end\n"
                "local s = 0\n"
                "for i = 1, 2000 do s = s + c:recv() end\n"
                "assert(s == 2000 * 2001 // 2, s)\n",
                &msg);
    if (msg) fprintf(stderr, "%s\n", msg);
    CHECK_EQ(r, LUGO_OK);
    free(msg);
    lugo_close(rt);
  }
}

static void test_error(void) {
  lugo_runtime *rt = newrt(2);
  char *msg = NULL;
  CHECK_EQ(run(rt, "local function f() error('boom') end f()", &msg), LUGO_ERRRUN);
  CU_ASSERT_PTR_NOT_NULL(msg);
  if (msg) {
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "boom"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "stack traceback"));
  }
  free(msg);
  /* a panicking child goes to the report handler */
  CHECK_EQ(run(rt, "local c = chan()\n"
                   "go(function() error('child') end)\n"
                   "go(function(c) c:send(1) end, c)\n"
                   "c:recv()\n", NULL), LUGO_OK);
  lugo_close(rt);
  CU_ASSERT(nreports <= 1);
}

static void test_deadlock(void) {
  lugo_runtime *rt = newrt(2);
  CHECK_EQ(run(rt, "local c = chan() c:recv()", NULL), LUGO_EDEADLOCK);
  CHECK_EQ(nreports, 1);
  CHECK_EQ(lastkind, LUGO_REPORT_DEADLOCK);
  lugo_close(rt);
}

static void test_sleep_is_not_deadlock(void) {
  lugo_runtime *rt = newrt(1);
  CHECK_EQ(run(rt, "time.Sleep(0.01) local c = time.After(0.01) c:recv()", NULL), LUGO_OK);
  CHECK_EQ(nreports, 0);
  lugo_close(rt);
}

static void test_interrupt(void) {
  lugo_runtime *rt = newrt(2);
  lua_State *L = lugo_newstate(rt);
  lugo_goid id;
  char *msg = NULL;
  int n = 0;
  luaL_loadstring(L, "local c = chan() local t = {} for i = 1, 10 do t[i] = i end c:recv()");
  lugo_hold(rt);  /* we will wake it: not a deadlock */
  lugo_spawn(rt, L, 0, &id);
  while ((n = lugo_interrupt(rt, id, "interrupted by the host")) == 0) sched_yield();
  CHECK_EQ(n, 1);
  lugo_release(rt);
  CHECK_EQ(nreports, 0);
  CHECK_EQ(lugo_wait(rt, id, &msg), LUGO_ERRRUN);
  if (msg) CU_ASSERT_PTR_NOT_NULL(strstr(msg, "interrupted by the host"));
  free(msg);
  lugo_close(rt);
}

/* interrupts fired at a goroutine that parks and unparks all the time:
** every one either lands on a park or is dropped; none wakes a goroutine
** that is not parked (that used to abort or corrupt) */
static void test_interrupt_storm(void) {
  int procs;
  for (procs = 1; procs <= 2; procs++) {
    lugo_runtime *rt = newrt(procs);
    lua_State *L = lugo_newstate(rt);
    lugo_goid id;
    char *msg = NULL;
    int i, r;
    luaL_loadstring(L,
      "local c, d = chan(), chan(1)\n"
      "go(function(c) for i = 1, 20000 do c:send(i) end c:close() end, c)\n"
      "local got, intr = 0, 0\n"
      "while true do\n"
      "  local ok, v = pcall(c.recv, c)\n"
      "  if ok then if v == nil then break end got = got + 1\n"
      "  else intr = intr + 1 end\n"
      "  pcall(time.Sleep, 0)\n"
      "  pcall(select, {{recv = d}, default = 1})\n"
      "end\n"
      "assert(got == 20000, got)  -- an interrupt never loses a value\n");
    lugo_hold(rt);
    lugo_spawn(rt, L, 0, &id);
    for (i = 0; i < 20000; i++) lugo_interrupt(rt, id, "storm");
    lugo_release(rt);
    r = lugo_wait(rt, id, &msg);
    if (r != LUGO_OK && msg) fprintf(stderr, "\n  %s\n", msg);
    CU_ASSERT(r == LUGO_OK);
    free(msg);
    lugo_close(rt);
  }
}

/* the same storm at goroutines parked on sync objects: an interrupted
** Lock, RLock or Wait leaves its queue and the locks stay sound.  The
** goroutine runs until 50 interrupts have hit its Lock; the host keeps
** firing until it has ended (lugo_wait returns on another thread). */
typedef struct waitarg { lugo_runtime *rt; lugo_goid id; int r; char *msg;
                         lugo_aint done; } waitarg;

static void *waiter(void *ud) {
  waitarg *w = (waitarg *)ud;
  w->r = lugo_wait(w->rt, w->id, &w->msg);
  lugo_store(&w->done, 1);
  return NULL;
}

static void test_interrupt_storm_sync(void) {
  int procs;
  for (procs = 1; procs <= 2; procs++) {
    lugo_runtime *rt = newrt(procs);
    lua_State *L = lugo_newstate(rt);
    waitarg w;
    pthread_t t;
    luaL_loadstring(L,
      "local mu, rw, n = sync.Mutex(), sync.RWMutex(), atomic.Int64()\n"
      "local stop, wg = atomic.Bool(false), sync.WaitGroup()\n"
      "wg:Go(function(mu, rw, n, stop)\n"
      "  while not stop:Load() do\n"
      "    mu:Lock() assert(n:Add(1) == 1, 'two holders') runtime.Gosched()\n"
      "    assert(n:Add(-1) == 0, 'two holders') mu:Unlock()\n"
      "    rw:Lock() runtime.Gosched() rw:Unlock()\n"
      "  end\n"
      "end, mu, rw, n, stop)\n"
      "local hit = 0\n"
      "while hit < 50 do\n"
      "  if pcall(mu.Lock, mu) then\n"
      "    assert(n:Add(1) == 1, 'two holders') n:Add(-1) mu:Unlock()\n"
      "  else hit = hit + 1 end\n"
      "  if pcall(rw.RLock, rw) then rw:RUnlock() end\n"
      "end\n"
      "stop:Store(true)\n"
      "while not pcall(wg.Wait, wg) do end\n"
      "assert(mu:TryLock()) mu:Unlock()\n"
      "assert(rw:TryLock()) rw:Unlock()\n");
    memset(&w, 0, sizeof(w));
    w.rt = rt;
    lugo_hold(rt);
    lugo_spawn(rt, L, 0, &w.id);
    pthread_create(&t, NULL, waiter, &w);
    while (!lugo_load(&w.done)) {
      lugo_interrupt(rt, w.id, "storm");
      sched_yield();
    }
    pthread_join(t, NULL);
    lugo_release(rt);
    if (w.r != LUGO_OK && w.msg) fprintf(stderr, "\n  %s\n", w.msg);
    CU_ASSERT(w.r == LUGO_OK);
    CHECK_EQ(nreports, 0);  /* the other goroutine did not fail either */
    free(w.msg);
    lugo_close(rt);
  }
}

/* lugo_close with goroutines parked on sync objects: each leaves its
** queue before it is freed (a WaitGroup.Go's Done, run as its goroutine is
** freed, or a finalizer unlocking a Mutex, would walk the queue into a
** freed goroutine).  One P: a goroutine that sends on `ready` runs on
** into its Wait or Lock and parks before main goes on. */
static void test_close_with_sync_parked(void) {
  lugo_runtime *rt = newrt(1);
  CHECK_EQ(run(rt,
    "local wg, c, ready = sync.WaitGroup(), chan(), chan()\n"
    "wg:Go(function(c) c:recv() end, c)   -- never ends: Done at close\n"
    "go(function(wg, ready) ready:send(true) wg:Wait() end, wg, ready)\n"
    "ready:recv()\n"
    "local mu, rw = sync.Mutex(), sync.RWMutex()\n"
    "mu:Lock() rw:Lock()\n"
    "go(function(mu, ready) ready:send(true) mu:Lock() end, mu, ready)\n"
    "ready:recv()\n"
    "go(function(rw, ready) ready:send(true) rw:RLock() end, rw, ready)\n"
    "ready:recv()\n"
    "local cond = sync.Cond(sync.Mutex())\n"
    "go(function(cond, ready) ready:send(true) cond.Wait(cond) end, cond, ready)\n",
    NULL), LUGO_OK);
  lugo_close(rt);  /* ASan: no use after free of the parked goroutines */
}

/* An interrupted Cond.Wait takes the mutex back before it raises (Go's
** Wait always returns holding it), so mu:With's error path unlocks its
** own lock, never one another goroutine holds meanwhile.  The host fires
** until the interrupt lands in the Wait (nothing else wakes it).  If it
** lands before the other goroutine takes the mutex, the old code passed
** too; the path that takes the lock back, then raises, runs either way.
** The other goroutine's own Unlock is the witness: it raises if With
** unlocked the mutex under it.  (A flag it set while holding the lock
** was racy: it may take the lock legitimately after With let go.) */
static void test_with_cond_interrupt(void) {
  lugo_runtime *rt = newrt(2);
  lua_State *L = lugo_newstate(rt);
  lugo_goid id;
  char *msg = NULL;
  int r;
  luaL_loadstring(L,
    "local mu = sync.Mutex()\n"
    "local c = sync.Cond(mu)\n"
    "local go_, done = chan(1), chan(1)\n"
    "go(function(mu, c, go_, done)\n"
    "  go_:recv() mu:Lock()      -- free once main is in Wait\n"
    "  for _ = 1, 2000 do runtime.Gosched() end\n"
    "  local unlocked = pcall(mu.Unlock, mu)  -- fails if With unlocked it\n"
    "  done:send(unlocked)\n"
    "end, mu, c, go_, done)\n"
    "local ok, err = pcall(mu.With, mu, function() go_:send(true) c:Wait() end)\n"
    "assert(not ok and tostring(err):find('interrupted by the host'), tostring(err))\n"
    "assert(done:recv(), 'With unlocked a mutex held by another goroutine')\n"
    "assert(mu:TryLock()) mu:Unlock()\n");
  lugo_hold(rt);  /* we will interrupt it: not a deadlock */
  lugo_spawn(rt, L, 0, &id);
  while (lugo_interrupt(rt, id, "interrupted by the host") == 0) sched_yield();
  lugo_release(rt);
  r = lugo_wait(rt, id, &msg);
  if (r != LUGO_OK && msg) fprintf(stderr, "\n  %s\n", msg);
  CHECK_EQ(r, LUGO_OK);
  free(msg);
  lugo_close(rt);
}

static void test_release_finds_deadlock(void) {
  /* a goroutine blocked while the host held the runtime is reported when
  ** the host lets go */
  lugo_runtime *rt = newrt(2);
  lua_State *L = lugo_newstate(rt);
  lugo_goid id;
  luaL_loadstring(L, "local c = chan() c:recv()");
  lugo_hold(rt);
  lugo_spawn(rt, L, 0, &id);
  lugo_release(rt);
  CHECK_EQ(lugo_wait(rt, id, NULL), LUGO_EDEADLOCK);
  CHECK_EQ(nreports, 1);
  lugo_close(rt);
}

/* GOMAXPROCS grown past the Ps made at start, then shrunk and grown
** again while goroutines run: lugo_close finds every P idle (it hung when
** Ps made by the growth never reached the idle list; a helper found it) */
static void test_gomaxprocs_grow_close(void) {
  lugo_runtime *rt = newrt(1);
  CHECK_EQ(run(rt,
               "assert(runtime.GOMAXPROCS(3) == 1)\n"
               "local a, b = atomic.Bool(false), atomic.Bool(false)\n"
               "local done = chan(2)\n"
               "go(function(a, b, done) a:Store(true) while not b:Load() do end done:send(1) end, a, b, done)\n"
               "go(function(a, b, done) b:Store(true) while not a:Load() do end done:send(1) end, a, b, done)\n"
               "done:recv() done:recv()\n"
               "assert(runtime.GOMAXPROCS(1) == 3)\n"
               "assert(runtime.GOMAXPROCS(4) == 1)\n"
               "for i = 1, 100 do go(function() end) end\n",
               NULL), LUGO_OK);
  lugo_close(rt);
}

static void test_close_with_parked(void) {
  /* closing a runtime with goroutines parked and values in channels leaks
  ** nothing (checked by the ASan build) */
  lugo_runtime *rt = newrt(2);
  CHECK_EQ(run(rt,
               "local c, d = chan(4), chan()\n"
               "c:send({1, 2, {3}}) c:send('a string longer than the inline limit')\n"
               "for i = 1, 100 do go(function(d) d:recv() end, d) end\n"
               "go(function() time.Sleep(1000) end)\n",
               NULL), LUGO_OK);
  lugo_close(rt);
}

/* every synchronising event reaches the listener */
static _Atomic int nev[LUGO_EV_END + 1];

static void onevent(lugo_runtime *rt, const lugo_event *e, void *ud) {
  (void)rt;
  (void)ud;
  if (e->kind <= LUGO_EV_END) nev[e->kind]++;  /* the kinds counted here */
}

static void test_events(void) {
  lugo_runtime *rt = newrt(2);
  int k;
  for (k = 0; k <= LUGO_EV_END; k++) nev[k] = 0;
  rt->evud = NULL;
  rt->evhook = onevent;
  CHECK_EQ(run(rt,
               "local c, d = chan(), chan(1)\n"
               "go(function(c) c:send(1) c:send(2) end, c)\n"
               "c:recv()\n"
               "select{{recv = c}}\n"
               "d:send(3) d:close()\n"
               "select{{recv = d}, default = 1}\n",
               NULL), LUGO_OK);
  lugo_close(rt);
  CHECK_EQ(nev[LUGO_EV_GO], 2);      /* main (from the host) and one go() */
  CU_ASSERT(nev[LUGO_EV_SEND] >= 3);
  CHECK_EQ(nev[LUGO_EV_RECV], 3);     /* recv, and the two selects' cases */
  CHECK_EQ(nev[LUGO_EV_CLOSE], 1);
  CHECK_EQ(nev[LUGO_EV_SELECT], 2);
  CU_ASSERT(nev[LUGO_EV_END] >= 1);  /* main; the child may be dropped by close */
}

static void test_two_runtimes(void) {
  lugo_runtime *a = newrt(1), *b = newrt(1);
  CHECK_EQ(run(a, "local c = chan(1) c:send(1) assert(c:recv() == 1)", NULL), LUGO_OK);
  CHECK_EQ(run(b, "local c = chan(1) c:send(2) assert(c:recv() == 2)", NULL), LUGO_OK);
  lugo_close(a);
  lugo_close(b);
}

int main(void) {
  static const cutest tests[] = {
    {"fan in", test_fan_in}, {"error", test_error}, {"deadlock", test_deadlock},
    {"sleep is not deadlock", test_sleep_is_not_deadlock},
    {"interrupt", test_interrupt},
    {"release finds deadlock", test_release_finds_deadlock},
    {"interrupt storm", test_interrupt_storm},
    {"interrupt storm sync", test_interrupt_storm_sync},
    {"close with sync parked", test_close_with_sync_parked},
    {"With + interrupted Cond.Wait", test_with_cond_interrupt}, {"close with parked", test_close_with_parked},
    {"GOMAXPROCS grow then close", test_gomaxprocs_grow_close},
    {"two runtimes", test_two_runtimes}, {"events", test_events}, {NULL, NULL}
  };
  return cutil_run("sched", tests);
}
