/* test_host.c -- what a host does to goroutines from its own threads:
** park one from a C function and wake it later (lugo_waker), interrupt one
** that is running (lugo_interrupt_running).  The REPL is built on both. */
#include <lauxlib.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "cutil.h"
#include "lugo.h"

/* TSan holds back an asynchronous signal until its thread calls into the
** C library, which a pure-Lua busy loop never does: the preemption signal
** that arms the interrupt hook never arrives there (sysmon's retake keeps
** other goroutines going).  Under TSan only interrupts at blocking calls
** are tested; the plain and ASan builds test busy loops too. */
#if defined(__SANITIZE_THREAD__)
#define SIGNALS_HELD 1
#else
#define SIGNALS_HELD 0
#endif

static int nreports;

static void onreport(lugo_runtime *rt, const lugo_report *r, void *ud) {
  (void)rt;
  (void)ud;
  (void)r;
  nreports++;
}

/* The host's side: a mailbox one goroutine parks on.  hostread() hands
** its waker over and parks; the host thread answers with a number. */
typedef struct mailbox {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  lugo_waker *w;      /* a park waiting for an answer */
  lua_Integer answer;
  lua_Integer tag;    /* hostread's argument */
  int ready;          /* hostsignal() was called */
} mailbox;

static mailbox box = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                      NULL, 0, 0, 0};

static int hostread_k(lua_State *L, int status, lua_KContext ctx) {
  lua_Integer v;
  (void)status;
  (void)ctx;
  pthread_mutex_lock(&box.mu);
  v = box.answer;
  pthread_mutex_unlock(&box.mu);
  lua_pushinteger(L, v);
  return 1;
}

static int hostread(lua_State *L) {
  lua_Integer tag = luaL_optinteger(L, 1, 0);
  lugo_waker *w = lugo_waker_new(L);
  pthread_mutex_lock(&box.mu);
  box.w = w;
  box.tag = tag;
  pthread_cond_signal(&box.cv);
  pthread_mutex_unlock(&box.mu);
  return lugo_park(L, w, "host mailbox", hostread_k, 0);
}

/* tell the host we got here (no park) */
static int hostsignal(lua_State *L) {
  (void)L;
  pthread_mutex_lock(&box.mu);
  box.ready = 1;
  pthread_cond_signal(&box.cv);
  pthread_mutex_unlock(&box.mu);
  return 0;
}

static void openhost(lua_State *L, void *ud) {
  (void)ud;
  lua_register(L, "hostread", hostread);
  lua_register(L, "hostsignal", hostsignal);
}

static lugo_runtime *newrt(int procs) {
  lugo_options o;
  lugo_options_init(&o);
  o.procs = procs;
  o.onreport = onreport;
  o.openlibs = openhost;
  nreports = 0;
  return lugo_new(&o);
}

/* take the next park from the mailbox (waits for it); its tag to *tag */
static lugo_waker *nextparktag(lua_Integer *tag) {
  lugo_waker *w;
  pthread_mutex_lock(&box.mu);
  while (box.w == NULL) pthread_cond_wait(&box.cv, &box.mu);
  w = box.w;
  box.w = NULL;
  if (tag) *tag = box.tag;
  pthread_mutex_unlock(&box.mu);
  return w;
}

static lugo_waker *nextpark(void) { return nextparktag(NULL); }

/* wait for hostsignal() */
static void waitready(void) {
  pthread_mutex_lock(&box.mu);
  while (!box.ready) pthread_cond_wait(&box.cv, &box.mu);
  box.ready = 0;
  pthread_mutex_unlock(&box.mu);
}

static void answer(lugo_waker *w, lua_Integer v, int expect) {
  pthread_mutex_lock(&box.mu);
  box.answer = v;
  pthread_mutex_unlock(&box.mu);
  CHECK_EQ(lugo_wake(w), expect);
}

typedef struct waitarg { lugo_runtime *rt; lugo_goid id; int r; char *msg;
                         lugo_aint done; } waitarg;

static void *waiter(void *ud) {
  waitarg *a = (waitarg *)ud;
  a->r = lugo_wait(a->rt, a->id, &a->msg);
  lugo_store(&a->done, 1);
  return NULL;
}

static void start(waitarg *a, pthread_t *t, lugo_runtime *rt, const char *code) {
  lua_State *L = lugo_newstate(rt);
  memset(a, 0, sizeof(*a));
  a->rt = rt;
  CU_ASSERT_FATAL(luaL_loadstring(L, code) == LUA_OK);
  CHECK_EQ(lugo_spawn(rt, L, 0, &a->id), LUGO_OK);
  pthread_create(t, NULL, waiter, a);
}

static void finish(waitarg *a, pthread_t t) {
  pthread_join(t, NULL);
  if (a->r != LUGO_OK && a->msg) fprintf(stderr, "\n  %s\n", a->msg);
  CHECK_EQ(a->r, LUGO_OK);
  free(a->msg);
}

/* 1,000 round trips, then more from a table.sort comparator (which
** cannot yield: the park blocks its thread), with a background goroutine
** spinning; every answer arrives, in order, and nothing is reported */
static void test_roundtrip(void) {
  int procs;
  for (procs = 1; procs <= 2; procs++) {
    lugo_runtime *rt = newrt(procs);
    waitarg a;
    pthread_t t;
    lua_Integer i, tag = 1;
    start(&a, &t, rt,
          "local busy = atomic.Bool(true)\n"
          "go(function(b) while b:Load() do runtime.Gosched() end end, busy)\n"
          "for i = 1, 1000 do assert(hostread(1) == i * 3, i) end\n"
          "local n = 0\n"
          "for i = 1, 100 do\n"
          "  table.sort({3, 1, 2, 5, 4}, function(x, y)\n"
          "    n = n + 1 assert(hostread(2) == n) return x < y end)\n"
          "end\n"
          "busy:Store(false)\n"
          "assert(hostread(0) == -1)\n");
    for (i = 1; i <= 1000; i++) {
      lugo_waker *w = nextparktag(&tag);
      CHECK_EQ(tag, 1);
      answer(w, i * 3, 1);
    }
    for (i = 1; tag != 0; i++) {
      lugo_waker *w = nextparktag(&tag);
      answer(w, tag == 0 ? -1 : i, 1);
    }
    CU_ASSERT(i > 100);
    finish(&a, t);
    CHECK_EQ(nreports, 0);
    lugo_close(rt);
  }
}

/* the host may answer before the goroutine has parked: a wake that comes
** first makes lugo_park return at once (a second host thread answers while
** the goroutine is still between lugo_waker_new and lugo_park) */
static int earlyread(lua_State *L) {
  lugo_waker *w = lugo_waker_new(L);
  pthread_mutex_lock(&box.mu);
  box.answer = 11;
  pthread_mutex_unlock(&box.mu);
  CHECK_EQ(lugo_wake(w), 1);  /* before the park: no park at all */
  return lugo_park(L, w, "host mailbox", hostread_k, 0);
}

static void test_wake_before_park(void) {
  lugo_runtime *rt = newrt(1);
  lua_State *L = lugo_newstate(rt);
  char *msg = NULL;
  lugo_goid id;
  lua_register(L, "earlyread", earlyread);
  luaL_loadstring(L, "for i = 1, 100 do assert(earlyread() == 11) end");
  lugo_spawn(rt, L, 0, &id);
  CHECK_EQ(lugo_wait(rt, id, &msg), LUGO_OK);
  free(msg);
  lugo_close(rt);
}

/* an interrupt ends a host park: the goroutine gets the error, and the
** host's later wake is told (0) and frees the waker */
static void test_interrupt_host_park(void) {
  lugo_runtime *rt = newrt(2);
  waitarg a;
  pthread_t t;
  lugo_waker *w;
  start(&a, &t, rt,
        "local ok, err = pcall(hostread)\n"
        "assert(not ok and err:find('stop waiting'), err)\n"
        "assert(hostread() == 5)\n");
  w = nextpark();
  while (lugo_interrupt(rt, a.id, "stop waiting") == 0) sched_yield();
  answer(w, 1, 0);
  answer(nextpark(), 5, 1);
  finish(&a, t);
  lugo_close(rt);
}

/* a parked host read is not a deadlock, though nothing else can run */
static void test_host_park_is_not_deadlock(void) {
  lugo_runtime *rt = newrt(1);
  waitarg a;
  pthread_t t;
  start(&a, &t, rt, "assert(hostread() == 9)");
  {
    lugo_waker *w = nextpark();
    sched_yield();
    CHECK_EQ(nreports, 0);
    answer(w, 9, 1);
  }
  finish(&a, t);
  CHECK_EQ(nreports, 0);
  lugo_close(rt);
}

/* lugo_interrupt_running gets a goroutine out of a busy loop, a blocked
** receive and a busy loop inside a coroutine, each time caught by its
** pcall; the goroutine then goes on normally.  hostsignal() says it is
** inside the pcall, so the error cannot land outside it. */
static void test_interrupt_running(void) {
  int procs;
  for (procs = 1; procs <= 2; procs++) {
    lugo_runtime *rt = newrt(procs);
    waitarg a;
    pthread_t t;
    int i;
    start(&a, &t, rt,
          "local function check(ok, err)\n"
          "  assert(not ok and tostring(err):find('stop!'), tostring(err))\n"
          "end\n"
          "local spin = function() hostsignal() local x = 0 while true do x = x + 1 end end\n"
          "go(function() while true do runtime.Gosched() end end)  -- competition\n"
          "local busy = hostread() == 1\n"
          "for i = 1, 20 do\n"
          "  if busy then check(pcall(spin)) end\n"
          "  check(pcall(function() local c = chan() hostsignal() c:recv() end))\n"
          "  if busy then check(pcall(coroutine.wrap(spin))) end\n"
          "end\n"
          "hostread()\n");
    answer(nextpark(), !SIGNALS_HELD, 1);
    for (i = 0; i < (SIGNALS_HELD ? 20 : 60); i++) {
      waitready();
      CHECK_EQ(lugo_interrupt_running(rt, a.id, "stop!"), 1);
    }
    answer(nextpark(), 0, 1);
    finish(&a, t);
    CHECK_EQ(lugo_interrupt_running(rt, a.id, "late"), 0);
    CHECK_EQ(lugo_interrupt_running(rt, 0, "nobody"), 0);
    CHECK_EQ(nreports, 0);
    lugo_close(rt);
  }
}

int main(void) {
  static const cutest tests[] = {
    {"round trip", test_roundtrip},
    {"wake before park", test_wake_before_park},
    {"interrupt ends a host park", test_interrupt_host_park},
    {"host park is not deadlock", test_host_park_is_not_deadlock},
    {"interrupt running", test_interrupt_running},
    {NULL, NULL}
  };
  return cutil_run("host", tests);
}
