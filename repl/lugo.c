/*
** lugo.c -- the lugo command: `lugo [options] [script [args]]`, shaped
** like lua.  A client of lugo.h only.  The main chunk (with -e and -l
** steps before it, in order) runs as goroutine 1; when it returns the
** process exits, as a Go program does.
*/
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lugo.h"
#include "repl.h"

static const char *progname = "lugo";

/* -trace: the file is written when the program ends, and it ends by
** _exit from several places (as Go's does), on the main thread or on
** another (panic, deadlock, SIGQUIT): each calls endtrace first.  The lock
** makes a second caller wait until the file is whole before it exits. */
static pthread_mutex_t tracelock = PTHREAD_MUTEX_INITIALIZER;
static lugo_runtime *tracert;  /* guarded by tracelock */
static const char *tracepath;

/* 0, or 1 if the trace could not be written (said on stderr) */
static int endtrace(void) {
  int failed = 0;
  pthread_mutex_lock(&tracelock);
  if (tracert != NULL && lugo_trace_stop(tracert) == LUGO_EFILE) {
    fprintf(stderr, "%s: -trace: cannot write %s: %s\n", progname, tracepath,
            strerror(errno));
    fflush(stderr);
    failed = 1;
  }
  tracert = NULL;
  pthread_mutex_unlock(&tracelock);
  return failed;
}

static void usage(const char *badoption) {
  if (badoption[1] == 'e' || badoption[1] == 'l' || badoption[1] == 'p' ||
      strcmp(badoption, "-trace") == 0)
    fprintf(stderr, "%s: '%s' needs argument\n", progname, badoption);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badoption);
  fprintf(stderr,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -i        enter interactive mode after executing 'script'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -p N      run goroutines on N processors (GOMAXPROCS)\n"
          "  -race     enable the race detector\n"
          "  -trace F  write an execution trace to file F\n"
          "  -v        show version information\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n",
          progname);
}

/* the host's error handler: Go's behaviour for panics and deadlock; the
** REPL prints a goroutine's panic and carries on */
static void onreport(lugo_runtime *rt, const lugo_report *r, void *ud) {
  (void)rt;
  (void)ud;
  fflush(stdout);
  if (r->kind == LUGO_REPORT_PANIC)
    fprintf(stderr, "panic: %s\n\ngoroutine %lld [running]:\n%s\n", r->message,
            r->goid, r->traceback ? r->traceback : "");
  else
    fprintf(stderr, "fatal error: %s\n\n%s", r->message, r->dump ? r->dump : "");
  fflush(stderr);
  if (r->kind == LUGO_REPORT_PANIC && repl_active()) return;
  repl_close();
  endtrace();
  _exit(2);
}

/* os.exit: the REPL gives the terminal back first */
static void onexit(lugo_runtime *rt, int status, void *ud) {
  (void)rt;
  (void)status;
  (void)ud;
  repl_close();
}

/* SIGQUIT (Ctrl-\), as Go: print every goroutine and exit with status 2.
** The handler only writes to a pipe; a watcher thread makes the dump (the
** library's lugo_dump is not async-signal-safe). */
static lugo_runtime *quitrt;
static int quitpipe[2] = {-1, -1};

static void onquit(int sig) {
  int saved = errno;
  char c = (char)sig;
  if (write(quitpipe[1], &c, 1) < 0) { /* nothing to do */ }
  errno = saved;
}

static void *quitwatch(void *arg) {
  char c;
  char *dump;
  (void)arg;
  while (read(quitpipe[0], &c, 1) < 0 && errno == EINTR) {}
  fflush(stdout);
  dump = lugo_dump(quitrt);
  fprintf(stderr, "SIGQUIT: quit\n\n%s", dump ? dump : "");
  fflush(stderr);
  repl_close();
  endtrace();
  _exit(2);
  return NULL;
}

static void watchquit(lugo_runtime *rt) {
  struct sigaction sa;
  pthread_t t;
  quitrt = rt;
  if (pipe(quitpipe) != 0) return;
  if (pthread_create(&t, NULL, quitwatch, NULL) != 0) return;
  pthread_detach(t);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = onquit;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGQUIT, &sa, NULL);
}

/* goroutine 1: run the steps in order; each is {fn, args...} */
static int driver_k(lua_State *L, int status, lua_KContext i) {
  int n = (int)lua_rawlen(L, 1);
  (void)status;
  while (i < n) {
    int j, nargs;
    lua_settop(L, 1);
    lua_rawgeti(L, 1, ++i);
    nargs = (int)lua_rawlen(L, 2) - 1;
    for (j = 1; j <= nargs + 1; j++) lua_rawgeti(L, 2, j);
    lua_remove(L, 2);
    lua_callk(L, nargs, 0, i, driver_k);
  }
  return 0;
}

static int driver(lua_State *L) { return driver_k(L, LUA_OK, 0); }

static int addstep(lua_State *L, int steps, int nargs) {
  int i, t;
  lua_createtable(L, nargs + 1, 0);
  t = lua_gettop(L);
  for (i = 0; i <= nargs; i++) {
    lua_pushvalue(L, t - nargs - 1 + i);
    lua_rawseti(L, t, i + 1);
  }
  lua_rawseti(L, steps, (lua_Integer)lua_rawlen(L, steps) + 1);
  lua_pop(L, nargs + 1);
  return 0;
}

static int loaderror(lua_State *L) {
  fprintf(stderr, "%s: %s\n", progname, lua_tostring(L, -1));
  return 1;
}

int main(int argc, char **argv) {
  lugo_options o;
  lugo_runtime *rt;
  lua_State *L;
  int i, script = 0, steps, interactive = 0, version = 0, hasexec = 0, r;
  lugo_goid id;
  char *msg = NULL;
  if (argv[0] && argv[0][0]) progname = argv[0];
  lugo_options_init(&o);
  o.onreport = onreport;
  o.onexit = onexit;
  /* first pass: options that shape the runtime */
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') { script = i; break; }
    if (strcmp(a, "--") == 0) { if (i + 1 < argc) script = i + 1; break; }
    if (strcmp(a, "-") == 0) { script = i; break; }
    if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
      if (++i >= argc) { usage(a); return 1; }
      hasexec = 1;
    } else if (strncmp(a, "-e", 2) == 0 || strncmp(a, "-l", 2) == 0) {
      hasexec = 1;
    } else if (strcmp(a, "-p") == 0) {
      if (++i >= argc) { usage(a); return 1; }
      if (atoi(argv[i]) < 1) {
        fprintf(stderr, "%s: -p: '%s' is not a positive number of processors\n",
                progname, argv[i]);
        return 1;
      }
      o.procs = atoi(argv[i]);
    } else if (strcmp(a, "-race") == 0) {
      o.race = 1;
    } else if (strcmp(a, "-trace") == 0) {
      if (++i >= argc) { usage(a); return 1; }
      tracepath = argv[i];
    } else if (strcmp(a, "-i") == 0) {
      interactive = 1;
    } else if (strcmp(a, "-v") == 0) {
      version = 1;
    } else {
      usage(a);
      return 1;
    }
  }
  {  /* LUGO_RACE=1 as -race (Go's GORACE is for options; ours is the switch) */
    const char *e = getenv("LUGO_RACE");
    if (e != NULL && e[0] != '\0' && strcmp(e, "0") != 0) o.race = 1;
  }
  /* the REPL: asked for, or no script, nothing else to do and a terminal
  ** (like lua: without one, standard input is the script) */
  if (!script && !hasexec && !version && isatty(0)) interactive = 1;
  if (version || interactive) {
    printf("%s (%s) with Go's concurrency\n", LUGO_VERSION, LUA_RELEASE);
    fflush(stdout);
  }
  if (!script && version && !hasexec && !interactive) return 0;
  rt = lugo_new(&o);
  if (rt == NULL) {
    fprintf(stderr, "%s: cannot create the runtime\n", progname);
    return 1;
  }
  watchquit(rt);
  L = lugo_newstate(rt);
  /* arg table, as lua builds it */
  {
    int base = script;  /* no script: arg[0] is the command, as in lua */
    lua_createtable(L, argc - base, base + 1);
    for (i = 0; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i - base);
    }
    lua_setglobal(L, "arg");
  }
  lua_pushcfunction(L, driver);
  lua_newtable(L);
  steps = lua_gettop(L);
  for (i = 1; i < (script ? script : argc); i++) {
    const char *a = argv[i], *v = NULL;
    if (strcmp(a, "-p") == 0 || strcmp(a, "-trace") == 0) { i++; continue; }
    if (a[0] == '-' && (a[1] == 'e' || a[1] == 'l')) v = a[2] ? a + 2 : argv[++i];
    if (v == NULL) continue;
    if (a[1] == 'e') {
      if (luaL_loadbuffer(L, v, strlen(v), "=(command line)") != LUA_OK) return loaderror(L);
      addstep(L, steps, 0);
    } else {
      const char *eq = strchr(v, '=');
      if (luaL_loadstring(L, "local g, m = ...; _G[g] = require(m)") != LUA_OK) return loaderror(L);
      if (eq) lua_pushlstring(L, v, (size_t)(eq - v)); else lua_pushstring(L, v);
      lua_pushstring(L, eq ? eq + 1 : v);
      addstep(L, steps, 2);
    }
  }
  if (script || (!hasexec && !version && !interactive)) {
    const char *fname = script ? argv[script] : "-";
    int nargs = script ? argc - script - 1 : 0;
    if (strcmp(fname, "-") == 0 && (script == 0 || strcmp(argv[script - 1], "--") != 0))
      fname = NULL;
    if (luaL_loadfile(L, fname) != LUA_OK) return loaderror(L);
    for (i = 0; i < nargs; i++) lua_pushstring(L, argv[script + 1 + i]);
    addstep(L, steps, nargs);
  }
  if (interactive) {  /* the REPL is goroutine 1's last step */
    repl_pushdriver(L);
    addstep(L, steps, 0);
    if (repl_open(progname) != 0) {
      fprintf(stderr, "%s: cannot start the REPL: %s\n", progname, strerror(errno));
      return 1;
    }
    lugo_hold(rt);  /* the user may yet wake what blocks: never a deadlock */
  }
  if (tracepath != NULL) {  /* now: loading and the arg table are not traced */
    int tr = lugo_trace_start(rt, tracepath);
    if (tr != LUGO_OK) {
      fprintf(stderr, "%s: -trace: cannot write %s: %s\n", progname, tracepath,
              tr == LUGO_EFILE ? strerror(errno) : lugo_strerror(tr));
      return 1;
    }
    pthread_mutex_lock(&tracelock);
    tracert = rt;
    pthread_mutex_unlock(&tracelock);
  }
  if (lugo_spawn(rt, L, 1, &id) != LUGO_OK) {
    fprintf(stderr, "%s: cannot start the main goroutine\n", progname);
    endtrace();
    return 1;
  }
  r = interactive ? repl_run(rt, id, &msg) : lugo_wait(rt, id, &msg);
  fflush(stdout);
  repl_close();
  if (r == LUGO_ERRRUN) {
    fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error)");
    fflush(stderr);
    endtrace();
    _exit(1);
  }
  if (endtrace() && r == LUGO_OK) _exit(1);  /* the output asked for is missing */
  if (r == LUGO_EDEADLOCK) _exit(2);  /* reported by onreport */
  _exit(lugo_race_errors(rt) > 0 ? 66 : 0);  /* it raced: Go's status */
}
