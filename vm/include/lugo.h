/*
** lugo.h -- the embedding API of lugo: Lua 5.4 with Go's concurrency.
**
** This is the only public header.  A host creates a runtime, runs Lua code
** as goroutines on it, waits for them, and closes it.  Every goroutine owns
** its own lua_State; the runtime schedules goroutines M:N onto OS threads.
**
** Threads: every function here may be called from any host thread unless
** it says otherwise.  None of them may be called from inside a goroutine's
** Lua code except where noted.
*/
#ifndef lugo_h
#define lugo_h

#include <stddef.h>
#include <lua.h>

#if defined(LUGO_BUILDING)
#define LUGO_API __attribute__((visibility("default")))
#else
#define LUGO_API
#endif

#define LUGO_VERSION "lugo 0.1.0"

/* error codes: LUGO_ERRNO_MAP(X) expands X(name, message) */
#define LUGO_ERRNO_MAP(X)                                                   \
  X(OK,        "success")                                                   \
  X(ERRRUN,    "the goroutine raised an error")                             \
  X(ESYNTAX,   "syntax error")                                              \
  X(ENOMEM,    "not enough memory")                                         \
  X(EDEADLOCK, "all goroutines are asleep - deadlock!")                     \
  X(ECLOSED,   "the runtime is shutting down")                              \
  X(ENOENT,    "no such goroutine")                                         \
  X(EINVAL,    "invalid argument")                                          \
  X(EFILE,     "cannot open file")

typedef enum lugo_errno {
#define LUGO_ERRNO_ENUM(name, msg) LUGO_##name,
  LUGO_ERRNO_MAP(LUGO_ERRNO_ENUM)
#undef LUGO_ERRNO_ENUM
  LUGO_NERRNO
} lugo_errno;

LUGO_API const char *lugo_strerror(int err);

typedef struct lugo_runtime lugo_runtime;
typedef long long lugo_goid;

/* What the runtime reports to the host's error handler. */
typedef enum lugo_report_kind {
  LUGO_REPORT_PANIC,     /* an error escaped a goroutine nobody waits for */
  LUGO_REPORT_DEADLOCK,  /* every goroutine is blocked forever */
  LUGO_REPORT_FATAL      /* the runtime cannot go on (e.g. thread cap) */
} lugo_report_kind;

typedef struct lugo_report {
  lugo_report_kind kind;
  lugo_goid goid;          /* the goroutine, or 0 */
  const char *message;     /* the error message (not NULL) */
  const char *traceback;   /* Lua traceback of the goroutine, or NULL */
  const char *dump;        /* dump of all goroutines (deadlock), or NULL */
} lugo_report;

typedef struct lugo_options {
  int procs;        /* GOMAXPROCS; <= 0: LUGO_MAXPROCS or the CPU count */
  int maxthreads;   /* cap on OS threads (Ms); <= 0: 10000 */
  int race;         /* turn the race detector on (docs/race.md) */
  /* called on every new goroutine state after lugo's libraries are open,
  ** on the thread that will run it; open host libraries here */
  void (*openlibs)(lua_State *L, void *ud);
  /* called, from a runtime thread, for panics, deadlock and fatal errors;
  ** the library itself never exits the process.  NULL: print to stderr. */
  void (*onreport)(lugo_runtime *rt, const lugo_report *r, void *ud);
  /* called by os.exit, on the goroutine's thread, after stdout and stderr
  ** are flushed and before the process ends with _exit(status): the last
  ** word of a host that keeps buffers or terminal modes.  NULL: none. */
  void (*onexit)(lugo_runtime *rt, int status, void *ud);
  void *ud;
} lugo_options;

/* Fill *o with defaults. */
LUGO_API void lugo_options_init(lugo_options *o);

/* Create a runtime and start its threads.  NULL on failure. */
LUGO_API lugo_runtime *lugo_new(const lugo_options *o);

/* Stop all goroutines, join all threads, free everything.  Goroutines still
** running are abandoned (their states closed) as when Go's main returns. */
LUGO_API void lugo_close(lugo_runtime *rt);

/* A fresh state set up as a goroutine's (standard libraries, lugo's
** globals, the host's openlibs hook).  The host may prepare it (push a
** function, set globals) and then hand it to lugo_spawn, or close it with
** lua_close if it changes its mind. */
LUGO_API lua_State *lugo_newstate(lugo_runtime *rt);

/* Run the function below nargs arguments on top of L (a state from
** lugo_newstate) as a new goroutine that owns L from now on.  The host can
** wait for it with lugo_wait.  Returns LUGO_OK and stores its id. */
LUGO_API int lugo_spawn(lugo_runtime *rt, lua_State *L, int nargs,
                        lugo_goid *id);

/* Block the calling host thread until goroutine id (started by lugo_spawn)
** ends.  Deadlock is detected only while some goroutine started by
** lugo_spawn has not ended (as in Go, once main returns nobody is told).  Returns LUGO_OK, LUGO_ERRRUN (its error message, with a traceback,
** is copied to *msg if msg is not NULL; free it with free()), or
** LUGO_EDEADLOCK when every goroutine is blocked forever. */
LUGO_API int lugo_wait(lugo_runtime *rt, lugo_goid id, char **msg);

/* While a host thread holds a runtime it may still wake goroutines (send on
** a channel, interrupt them), so blocked goroutines are not reported as
** deadlocked.  Holds nest; the last release checks for deadlock. */
LUGO_API void lugo_hold(lugo_runtime *rt);
LUGO_API void lugo_release(lugo_runtime *rt);

/* Interrupt parked goroutines: each wakes with the Lua error msg (NULL:
** "interrupted") raised at its blocking call.  id 0 interrupts every
** parked goroutine.  Running goroutines are not affected.  Returns how
** many were woken or asked (one about to park is asked: it is woken unless
** its operation completes first). */
LUGO_API int lugo_interrupt(lugo_runtime *rt, lugo_goid id, const char *msg);

/* Interrupt goroutine id (not 0) wherever it is, as the REPL's Ctrl-C
** does: parked, at its blocking call as lugo_interrupt; running, at its
** next Lua instruction (msg prefixed with the position, as luaL_error
** does) or its next blocking call, whichever comes first.  Code inside a
** long C call sees it when the call returns to Lua.  A pcall in the
** goroutine catches it like any error.  Returns 1 if the goroutine was
** found and not finished, else 0. */
LUGO_API int lugo_interrupt_running(lugo_runtime *rt, lugo_goid id,
                                    const char *msg);

/* Parking a goroutine from a host's C function.  A C function called by
** a goroutine's Lua code can wait for something only the host finishes
** (a line typed at a terminal, an event from a host's loop) without
** holding an OS thread:
**
**   static int f_k(lua_State *L, int status, lua_KContext ctx) {
**     ... read what the host left, push results ...
**     return nresults;
**   }
**   static int f(lua_State *L) {
**     lugo_waker *w = lugo_waker_new(L);
**     ... hand w to the host, under the host's own lock ...
**     return lugo_park(L, w, "host input", f_k, 0);
**   }
**
** and later, on any thread, once: write what f_k will read, then
** lugo_wake(w).  Nothing that can raise an error may come between
** lugo_waker_new and lugo_park.  If the goroutine is interrupted while
** parked (lugo_interrupt), lugo_park raises that error instead of calling
** k; lugo_wake is still required and then returns 0.  A waker holds the
** runtime (lugo_hold) until lugo_wake: its goroutine is not reported as
** deadlocked meanwhile.  Wake every waker before lugo_close. */
typedef struct lugo_waker lugo_waker;

/* [-0, +0, m] In a goroutine's C function: a waker for its next park. */
LUGO_API lugo_waker *lugo_waker_new(lua_State *L);

/* [-?, +?, e] Park until lugo_wake(w), then continue in k (as lua_yieldk:
** call it as `return lugo_park(...)`).  reason (a static string) is what
** goroutine dumps show it waiting for.  In code that cannot yield (a
** table.sort comparator, a C boundary) it blocks its OS thread instead,
** handing its processor to another thread first. */
LUGO_API int lugo_park(lua_State *L, lugo_waker *w, const char *reason,
                       lua_KFunction k, lua_KContext ctx);

/* Any thread, once per waker.  Wake its goroutine (before it parks, even:
** then lugo_park does not park).  Returns 1, or 0 if the park had already
** ended by an interrupt. */
LUGO_API int lugo_wake(lugo_waker *w);

/* Text dump of every goroutine, Go style (caller frees; NULL when out of
** memory): "goroutine N [status]:", a Lua traceback for each goroutine
** that is parked or runnable (one running on another thread shows none),
** and who created it.  Any thread, any time: a goroutine being dumped
** waits to run until its stack was read. */
LUGO_API char *lugo_dump(lugo_runtime *rt);

/* The runtime a goroutine's state belongs to, or NULL. */
LUGO_API lugo_runtime *lugo_getruntime(lua_State *L);

/* GOMAXPROCS of a runtime. */
LUGO_API int lugo_procs(lugo_runtime *rt);

/* Execution tracing (`lugo -trace FILE`).  Start recording which goroutine
** runs on which OS thread when, spawns, blocks (with the reason), wake-ups
** (and who woke whom) and the number of runnable goroutines, into memory
** (bounded: past a few million events the rest are dropped and counted).
** The file is created now, so a bad path fails early, and written by
** lugo_trace_stop: Chrome trace-event JSON (chrome://tracing,
** ui.perfetto.dev), or, if path ends in ".html", a self-contained page
** that draws the timeline.  Returns LUGO_OK; LUGO_EINVAL if path is empty
** or the runtime is already tracing (or has another event listener);
** LUGO_EFILE if the file cannot be created (errno says why); LUGO_ENOMEM. */
LUGO_API int lugo_trace_start(lugo_runtime *rt, const char *path);

/* Stop tracing and write the file.  Goroutines may go on running; any
** thread may call it, a goroutine's own included.  Returns LUGO_OK,
** LUGO_EINVAL (not tracing) or LUGO_EFILE (writing failed; errno says
** why).  lugo_close writes the file too if tracing is still on, and
** os.exit does before it ends the process. */
LUGO_API int lugo_trace_stop(lugo_runtime *rt);

/* The race detector (options.race; docs/race.md): how many data races it
** has reported so far (0 when it is off).  Reports go to stderr as they
** are found; the lugo command exits with status 66 after a program that
** raced (Go's convention), and os.exit(0) does too. */
LUGO_API long long lugo_race_errors(lugo_runtime *rt);

#endif
