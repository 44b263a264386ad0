/* test_trace.c -- the execution tracer through the public API: start and
** stop while goroutines run on two Ps (the sanitizer builds run this), the
** file's shape, the error codes, the memory bound, and lugo_close writing
** a trace still on. */
#include <errno.h>
#include <lauxlib.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutil.h"
#include "lugo.h"
#include "scheduler.h"
#include "trace.h"

static char dir[64];

static const char *tmpname(const char *name) {
  static char buf[4][128];
  static int k;
  char *p = buf[k++ % 4];
  snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
  return p;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *s;
  long n;
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  s = (char *)malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
  if (s) s[n] = '\0';
  fclose(f);
  return s;
}

static int startswith(const char *s, const char *p) {
  return s != NULL && strncmp(s, p, strlen(p)) == 0;
}

static int endswith(const char *s, const char *p) {
  size_t n = s ? strlen(s) : 0, k = strlen(p);
  return s != NULL && n >= k && strcmp(s + n - k, p) == 0;
}

/* occurrences of what in s; one pass (strstr in a loop is quadratic
** under ASan, whose strstr measures the whole rest of s each time) */
static int count(const char *s, const char *what) {
  size_t k = strlen(what);
  int n = 0;
  for (; s && *s; s++)
    if (*s == *what && strncmp(s, what, k) == 0) n++;
  return n;
}

/* a JSON trace, checked minimally: the envelope, and what is in it */
static char *checkjson(const char *path) {
  char *s = slurp(path);
  CU_ASSERT_PTR_NOT_NULL(s);
  CU_ASSERT(startswith(s, "{\"traceEvents\":["));
  CU_ASSERT(endswith(s, "}\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"displayTimeUnit\":\"ms\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"dropped_events\":"));
  return s;
}

static lugo_runtime *newrt(int procs) {
  lugo_options o;
  lugo_options_init(&o);
  o.procs = procs;
  return lugo_new(&o);
}

static int run(lugo_runtime *rt, const char *code) {
  return cutil_runlua(rt, code, NULL);
}

/* main spawns, sleeps and yields (so those are in the trace whatever runs
** when), then leaves goroutines that never end: a ping-pong pair, a
** sleeper and a spinner that yields, so both Ms record all the time */
static const char *forever =
  "local c = chan()\n"
  "for i = 1, 200 do go(function(c, i) c:send(i) end, c, i) c:recv() end\n"
  "time.Sleep(0.0001)\n"
  "runtime.Gosched()\n"
  "local a, b = chan(), chan()\n"
  "go(function(a, b) while true do a:send(1) b:recv() end end, a, b)\n"
  "go(function(a, b) while true do a:recv() b:send(2) end end, a, b)\n"
  "go(function() while true do time.Sleep(0.0001) end end)\n"
  "go(function() while true do runtime.Gosched() end end)\n";

/* Traces taken while those run grow by ~10,000 events a millisecond, for
** as long as this thread waits for the CPU: small bounds keep the files
** (and the sanitizer builds' time) small.  Past the bound the hook still
** runs on every event. */
#define BOUND 50000

/* Let the scheduler switch goroutines n more times (no sleeping: the
** switch counter moves while they run). */
static void switches(lugo_runtime *rt, long n) {
  long long until = lugo_load(&rt->nswitch) + n;
  while (lugo_load(&rt->nswitch) < until) sched_yield();
}

static void test_stop_while_running(void) {
  lugo_runtime *rt = newrt(2);
  const char *p1 = tmpname("run1.json"), *p2 = tmpname("run2.json");
  char *s;
  int i;
  CHECK_EQ(lugo__trace_start(rt, p1, BOUND), LUGO_OK);
  CHECK_EQ(run(rt, forever), LUGO_OK);
  switches(rt, 2000);
  CHECK_EQ(lugo_trace_stop(rt), LUGO_OK);  /* they still run */
  s = checkjson(p1);
  CU_ASSERT(count(s, "\"ph\":\"X\"") > 100);
  CU_ASSERT(count(s, "\"name\":\"spawn\"") >= 204);
  CU_ASSERT(count(s, "\"name\":\"block\"") > 10);
  CU_ASSERT(count(s, "\"name\":\"unblock\"") > 10);
  CU_ASSERT(count(s, "\"reason\":\"sleep\"") > 0);
  CU_ASSERT(count(s, "\"stop\":\"gosched\"") > 0);
  CU_ASSERT(count(s, "\"ph\":\"C\"") > 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"name\":\"M0\""));
  free(s);
  /* start and stop again and again while they run: each stop must find
  ** every recorder gone, each start must find the hook free */
  for (i = 0; i < 20; i++) {
    CHECK_EQ(lugo__trace_start(rt, p2, i % 2 ? BOUND : 1000), LUGO_OK);
    switches(rt, 50);
    CHECK_EQ(lugo_trace_stop(rt), LUGO_OK);
    s = checkjson(p2);
    free(s);
  }
  /* still tracing at lugo_close: it writes the file */
  CHECK_EQ(lugo__trace_start(rt, p2, BOUND), LUGO_OK);
  switches(rt, 200);
  lugo_close(rt);
  s = checkjson(p2);
  CU_ASSERT(count(s, "\"ph\":\"X\"") > 0);
  free(s);
}

static void test_errors(void) {
  lugo_runtime *rt = newrt(2);
  const char *p = tmpname("err.json");
  CHECK_EQ(lugo_trace_start(rt, ""), LUGO_EINVAL);
  CHECK_EQ(lugo_trace_start(rt, NULL), LUGO_EINVAL);
  CHECK_EQ(lugo_trace_start(NULL, p), LUGO_EINVAL);
  CHECK_EQ(lugo_trace_stop(rt), LUGO_EINVAL);  /* not tracing */
  CHECK_EQ(lugo_trace_start(rt, "/nonexistent-dir/x.json"), LUGO_EFILE);
  CHECK_EQ(errno, ENOENT);
  CHECK_EQ(lugo_trace_start(rt, p), LUGO_OK);
  CHECK_EQ(lugo_trace_start(rt, p), LUGO_EINVAL);  /* already tracing */
  CHECK_EQ(lugo_trace_stop(rt), LUGO_OK);
  CHECK_EQ(lugo_trace_stop(rt), LUGO_EINVAL);
  if (access("/dev/full", W_OK) == 0) {  /* a write that fails at the end */
    CHECK_EQ(lugo_trace_start(rt, "/dev/full"), LUGO_OK);
    CHECK_EQ(run(rt, "local c = chan(1) c:send(1) c:recv()"), LUGO_OK);
    CHECK_EQ(lugo_trace_stop(rt), LUGO_EFILE);
    CHECK_EQ(errno, ENOSPC);
  }
  lugo_close(rt);
}

static void otherhook(lugo_runtime *rt, const lugo_event *e, void *ud) {
  (void)rt;
  (void)e;
  (void)ud;
}

/* another listener (the race detector, one day) keeps the hook */
static void test_hook_taken(void) {
  lugo_runtime *rt = newrt(1);
  rt->evhook = otherhook;
  CHECK_EQ(lugo_trace_start(rt, tmpname("taken.json")), LUGO_EINVAL);
  CHECK_EQ(lugo_trace_stop(rt), LUGO_EINVAL);
  CU_ASSERT(rt->evhook == otherhook);
  rt->evhook = NULL;
  lugo_close(rt);
}

/* past the bound, events are dropped and counted, and the file says so */
static void test_bound(void) {
  lugo_runtime *rt = newrt(2);
  const char *p = tmpname("bound.json");
  char *s;
  CHECK_EQ(lugo__trace_start(rt, p, 100), LUGO_OK);
  CHECK_EQ(run(rt, "local a, b = chan(), chan()\n"
                   "go(function(a, b) for i = 1, 2000 do a:send(i) b:recv() end end, a, b)\n"
                   "for i = 1, 2000 do a:recv() b:send(i) end\n"), LUGO_OK);
  CHECK_EQ(lugo_trace_stop(rt), LUGO_OK);
  s = checkjson(p);
  CU_ASSERT_PTR_NULL(strstr(s, "\"dropped_events\":0,"));
  CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"max_events\":2048"));  /* whole chunks */
  free(s);
  lugo_close(rt);
}

/* a path ending in .html gets the viewer page with the JSON inside */
static void test_html(void) {
  lugo_runtime *rt = newrt(2);
  const char *p = tmpname("t.html");
  char *s;
  CHECK_EQ(lugo_trace_start(rt, p), LUGO_OK);
  CHECK_EQ(run(rt, "local c = chan() go(function(c) c:send(1) end, c) c:recv()"), LUGO_OK);
  CHECK_EQ(lugo_trace_stop(rt), LUGO_OK);
  s = slurp(p);
  CU_ASSERT(startswith(s, "<!DOCTYPE html>"));
  CU_ASSERT(endswith(s, "</html>\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(s, "{\"traceEvents\":["));
  CU_ASSERT_PTR_NULL(strstr(s, "@TRACE_JSON@"));
  CU_ASSERT_PTR_NULL(strstr(s, " src="));  /* nothing loaded from elsewhere */
  CU_ASSERT_PTR_NULL(strstr(s, "<link"));
  free(s);
  lugo_close(rt);
}

/* the lugo command stops the trace from its panic handler, on an M, while
** other goroutines run */
static lugo_runtime *reportrt;
static _Atomic int reportstop = -1;

static void onreport(lugo_runtime *rt, const lugo_report *r, void *ud) {
  (void)ud;
  if (r->kind == LUGO_REPORT_PANIC && rt == reportrt) reportstop = lugo_trace_stop(rt);
}

static void test_stop_from_report(void) {
  lugo_options o;
  lugo_runtime *rt;
  const char *p = tmpname("panic.json");
  char *s;
  lugo_options_init(&o);
  o.procs = 2;
  o.onreport = onreport;
  rt = reportrt = lugo_new(&o);
  CHECK_EQ(lugo__trace_start(rt, p, BOUND), LUGO_OK);
  CHECK_EQ(run(rt, "local a, b = chan(), chan()\n"
                   "go(function(a, b) while true do a:send(1) b:recv() end end, a, b)\n"
                   "go(function(a, b) while true do a:recv() b:send(2) end end, a, b)\n"
                   "local c = chan()\n"
                   "go(function(c) c:send(1) error('boom') end, c)\n"
                   "c:recv()\n"), LUGO_OK);
  while (reportstop == -1) sched_yield();  /* set by the handler, once */
  CHECK_EQ(reportstop, LUGO_OK);
  s = checkjson(p);
  CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"stop\":\"panicked\""));
  free(s);
  lugo_close(rt);
  reportrt = NULL;
}

/* GOMAXPROCS changes while tracing: the counter reads every P's queue
** while Ps are retired and brought back */
static void test_gomaxprocs(void) {
  lugo_runtime *rt = newrt(3);
  const char *p = tmpname("procs.json");
  char *s;
  CHECK_EQ(lugo__trace_start(rt, p, BOUND), LUGO_OK);
  CHECK_EQ(run(rt, "local c = chan()\n"
                   "for n = 1, 4 do\n"
                   "  runtime.GOMAXPROCS(n % 3 + 1)\n"
                   "  for i = 1, 20 do go(function(c) local x = 0\n"
                   "    for k = 1, 1000 do x = x + k end c:send(x) end, c) end\n"
                   "  for i = 1, 20 do c:recv() end\n"
                   "end\n"), LUGO_OK);
  CHECK_EQ(lugo_trace_stop(rt), LUGO_OK);
  s = checkjson(p);
  CU_ASSERT(count(s, "\"ph\":\"X\"") >= 81);
  free(s);
  lugo_close(rt);
}

int main(void) {
  static const cutest tests[] = {
    {"GOMAXPROCS changes", test_gomaxprocs},
    {"stop while running", test_stop_while_running}, {"errors", test_errors},
    {"hook taken", test_hook_taken}, {"bound", test_bound}, {"html", test_html},
    {"stop from the report handler", test_stop_from_report}, {NULL, NULL}
  };
  int r;
  snprintf(dir, sizeof(dir), "/tmp/lugo-trace-test.XXXXXX");
  if (mkdtemp(dir) == NULL) return 1;
  r = cutil_run("trace", tests);
  {
    static const char *const names[] = {"run1.json", "run2.json", "err.json",
                                        "taken.json", "bound.json", "t.html",
                                        "panic.json", "procs.json", NULL};
    int i;
    for (i = 0; names[i]; i++) unlink(tmpname(names[i]));
    rmdir(dir);
  }
  return r;
}
