/*
** repl.c -- the lugo REPL's terminal side.  A client of lugo.h only.
**
** Goroutine 1 runs repl.lua after the script (if any): it owns the
** globals, compiles and runs each line, prints results.  For each line it
** calls next(), a C function here that hands a waker to this side and
** parks (lugo_park): goroutine 1 holds no thread while the user types, and
** the other goroutines keep running.
**
** The main thread runs the terminal loop: libedit in callback mode, fed
** from a poll() over the terminal and a few pipes, so that one thread owns
** the terminal:
**   fds 1 and 2 become pipes: whatever any goroutine (or C module) writes
**     comes here first.  While a line is being edited the loop erases it,
**     copies the output, and redraws the prompt and the partial line.
**   a pipe from next(): goroutine 1 waits for a line (or a completion).
**   a pipe from the SIGINT handler: Ctrl-C at the prompt cancels the line;
**     while a line runs, it interrupts goroutine 1 (lugo_interrupt_running:
**     a busy loop or a blocking receive alike).
**   a pipe from the thread that waits for goroutine 1 to end.
** Tab asks goroutine 1 for completions (it knows the globals) and waits
** for its answer, briefly, inside libedit's completion callback.
**
** Without a terminal (lugo -i < file) the same loop reads plain lines.
*/
#include <editline/readline.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "repl.h"
#include "repl_lua.h"  /* generated: repl.lua as a byte array */

#define HISTORY_MAX 1000
#define COMPLETE_WAIT_NS (2 * 1000000000LL)

enum { R_LINE, R_EOF, R_CANCEL, R_COMPLETE };
static const char *const kindname[] = {"line", "eof", "cancel", "complete"};

/* a park of goroutine 1, as next() leaves it */
typedef struct park {
  lugo_waker *w;
  char *prompt;
  char **matches;   /* a completion answer (NULL-terminated), or NULL */
  char *hist;       /* a chunk for the history, or NULL */
} park;

static struct {
  int active, tty, closed;
  const char *progname;
  int out, err;                 /* the terminal's stdout and stderr */
  int outp[2], errp[2];         /* the pipes now behind fds 1 and 2 */
  int notep[2];                 /* next() -> loop: a park is waiting */
  int sigp[2];                  /* signal handlers -> loop */
  int donep[2];                 /* waiter thread -> loop */
  char histfile[PATH_MAX];
  lugo_runtime *rt;
  lugo_goid id;
  /* the exchange with goroutine 1, guarded by mu */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  park waiting;                 /* left by next(), not yet taken */
  int kind;                     /* the answer next_k reads */
  char *text;
  /* the loop's own (and repl_close's, under outlock) */
  pthread_mutex_t outlock;
  park cur;                     /* the park being answered */
  int editing;                  /* libedit's handler is installed */
  int atbol;                    /* the terminal's cursor is at column 0 */
  char **matches;               /* for complete_gen */
  char *ibuf;                   /* no terminal: bytes read, not yet lines */
  size_t ilen, icap;
  int ieof;                     /* ... and nothing more will come */
} R = {0, 0, 0, "lugo", -1, -1, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1},
       {-1, -1}, "", NULL, 0, PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_COND_INITIALIZER, {NULL, NULL, NULL, NULL}, 0, NULL,
       PTHREAD_MUTEX_INITIALIZER, {NULL, NULL, NULL, NULL}, 0, 1, NULL,
       NULL, 0, 0, 0};

static void freematches(char **m) {
  char **p;
  if (m == NULL) return;
  for (p = m; *p; p++) free(*p);
  free(m);
}

static void freepark(park *p) {
  free(p->prompt);
  freematches(p->matches);
  free(p->hist);
  memset(p, 0, sizeof(*p));
}

static void writeall(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, s, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += k;
    n -= (size_t)k;
  }
}

static void poke(int fd, char c) {
  int saved = errno;
  if (write(fd, &c, 1) < 0) { /* full: the loop wakes anyway */ }
  errno = saved;
}

/* ---------------------------------------------------------------------
** goroutine 1's side: next(prompt [, matches [, history]])
** ------------------------------------------------------------------- */

static int next_k(lua_State *L, int status, lua_KContext ctx) {
  int kind;
  char *text;
  (void)status;
  (void)ctx;
  pthread_mutex_lock(&R.mu);
  kind = R.kind;
  text = R.text;
  R.text = NULL;
  pthread_mutex_unlock(&R.mu);
  lua_pushstring(L, kindname[kind]);
  if (text != NULL) {
    lua_pushstring(L, text);
    free(text);
  } else {
    lua_pushnil(L);
  }
  return 2;
}

static char *dupstr(lua_State *L, int i) {
  const char *s = lua_tostring(L, i);
  char *d = strdup(s ? s : "");
  if (d == NULL) luaL_error(L, "REPL: not enough memory");
  return d;
}

static int next(lua_State *L) {
  park p, old;
  memset(&p, 0, sizeof(p));
  luaL_checkstring(L, 1);
  if (lua_istable(L, 2)) {
    lua_Integer i, n = luaL_len(L, 2);
    p.matches = (char **)calloc((size_t)n + 1, sizeof(char *));
    if (p.matches == NULL) return luaL_error(L, "REPL: not enough memory");
    for (i = 0; i < n; i++) {
      lua_geti(L, 2, i + 1);
      p.matches[i] = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
      lua_pop(L, 1);
    }
  }
  if (lua_isstring(L, 3)) p.hist = dupstr(L, 3);
  p.prompt = dupstr(L, 1);
  p.w = lugo_waker_new(L);
  pthread_mutex_lock(&R.mu);
  old = R.waiting;  /* an earlier park the loop never took: interrupted */
  R.waiting = p;
  pthread_cond_broadcast(&R.cv);
  pthread_mutex_unlock(&R.mu);
  if (old.w != NULL) lugo_wake(old.w);  /* it ended: just free it */
  freepark(&old);
  poke(R.notep[1], 'n');
  return lugo_park(L, p.w, "REPL input", next_k, 0);
}

/* rawmeta(v): v's metatable, even behind __metatable */
static int rawmeta(lua_State *L) {
  luaL_checkany(L, 1);
  if (!lua_getmetatable(L, 1)) lua_pushnil(L);
  return 1;
}

static int traceback(lua_State *L) {
  luaL_traceback(L, L, luaL_checkstring(L, 1), 2);
  return 1;
}

/* Run the driver's step() until it returns false.  The loop is C, not
** Lua: an interrupt meant for a typed line that lands in the REPL's own
** code instead (Ctrl-C just as a line ends) is caught by this pcall and
** dropped, and there is no Lua instruction outside it to land on. */
static int drive_k(lua_State *L, int status, lua_KContext ctx) {
  for (;;) {
    if (status == LUA_OK || status == LUA_YIELD) {
      if (lua_gettop(L) > 1 && !lua_toboolean(L, -1)) return 0;  /* input ended */
    }
    lua_settop(L, 1);
    lua_pushvalue(L, 1);
    status = lua_pcallk(L, 0, 1, 0, ctx, drive_k);
  }
}

static int drive(lua_State *L) {
  lua_settop(L, 1);  /* the step function */
  return drive_k(L, LUA_OK, 0);
}

static int makedriver(lua_State *L) {
  if (luaL_loadbuffer(L, repl_lua, sizeof(repl_lua) - 1, "=[repl]") != LUA_OK)
    return lua_error(L);
  lua_pushcfunction(L, next);
  lua_pushcfunction(L, rawmeta);
  lua_pushcfunction(L, traceback);
  lua_call(L, 3, 1);  /* step */
  return drive(L);
}

void repl_pushdriver(lua_State *L) {
  lua_pushcfunction(L, makedriver);
}

/* ---------------------------------------------------------------------
** the terminal side (main thread, under outlock)
** ------------------------------------------------------------------- */

/* take the park next() left, if any; 1 if there is one now */
static int takepark(void) {
  park p, stale;
  pthread_mutex_lock(&R.mu);
  p = R.waiting;
  memset(&R.waiting, 0, sizeof(R.waiting));
  pthread_mutex_unlock(&R.mu);
  if (p.w == NULL) return R.cur.w != NULL;
  stale = R.cur;  /* an interrupt ended it: its goroutine parked anew */
  R.cur = p;
  if (stale.w != NULL) lugo_wake(stale.w);
  freepark(&stale);
  if (R.cur.hist != NULL && R.tty) {
    add_history(R.cur.hist);
    if (R.histfile[0] != '\0') write_history(R.histfile);
  }
  return 1;
}

static void answer(int kind, const char *text) {
  lugo_waker *w = R.cur.w;
  char *t = text ? strdup(text) : NULL;
  if (w == NULL) {
    free(t);
    return;
  }
  R.cur.w = NULL;
  pthread_mutex_lock(&R.mu);
  R.kind = kind;
  free(R.text);
  R.text = t;
  pthread_mutex_unlock(&R.mu);
  lugo_wake(w);
}

/* erase the line being edited before output is written over it */
static void hideline(void) {
  if (R.editing && R.tty) writeall(R.out, "\r\033[K", 4);
}

static void showline(void) {
  if (!R.editing || !R.tty) return;
  if (!R.atbol) {
    writeall(R.out, "\n", 1);
    R.atbol = 1;
  }
  rl_forced_update_display();
}

/* copy what is waiting in pipe fd to the terminal; 1 if it was closed */
static int forward(int fd, int to) {
  char buf[8192];
  int hidden = 0, eof = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = n == 0;
      break;
    }
    if (!hidden) {
      hideline();
      hidden = 1;
    }
    writeall(to, buf, (size_t)n);
    R.atbol = buf[n - 1] == '\n';
  }
  if (hidden) showline();
  return eof;
}

static void online(char *line);
static void plainnext(void);

static void startprompt(void) {
  if (R.cur.w == NULL || R.editing) return;
  if (R.tty) {
    R.editing = 1;
    if (!R.atbol) writeall(R.out, "\n", 1);
    R.atbol = 1;
    rl_callback_handler_install(R.cur.prompt, online);
  } else {
    R.editing = 1;
    writeall(R.out, R.cur.prompt, strlen(R.cur.prompt));
    plainnext();
  }
}

static void stopediting(void) {
  if (!R.editing) return;
  R.editing = 0;
  if (R.tty) rl_callback_handler_remove();
}

/* libedit: a line was entered (NULL: end of input) */
static void online(char *line) {
  stopediting();
  R.atbol = 1;
  if (line == NULL) {
    writeall(R.out, "\n", 1);
    answer(R_EOF, NULL);
  } else {
    answer(R_LINE, line);
    free(line);
  }
}

/* libedit: Tab.  Ask goroutine 1 (parked at the prompt) and wait for its
** answer: its next park carries the matches. */
static char *complete_gen(const char *text, int state) {
  static int i;
  (void)text;
  if (state == 0) i = 0;
  if (R.matches == NULL || R.matches[i] == NULL) return NULL;
  return strdup(R.matches[i++]);
}

static char **complete(const char *text, int start, int end) {
  char *upto;
  char **result = NULL;
  struct timespec until;
  (void)start;
  rl_attempted_completion_over = 1;  /* never file names */
  if (R.cur.w == NULL || end < 0) return NULL;
  upto = strndup(rl_line_buffer, (size_t)end);
  if (upto == NULL) return NULL;
  answer(R_COMPLETE, upto);
  free(upto);
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += COMPLETE_WAIT_NS / 1000000000LL;
  pthread_mutex_lock(&R.mu);
  while (R.waiting.w == NULL &&
         pthread_cond_timedwait(&R.cv, &R.mu, &until) != ETIMEDOUT) {}
  pthread_mutex_unlock(&R.mu);
  if (!takepark() || R.cur.matches == NULL) return NULL;
  R.matches = R.cur.matches;
  if (R.matches[0] != NULL) result = rl_completion_matches(text, complete_gen);
  R.matches = NULL;
  freematches(R.cur.matches);
  R.cur.matches = NULL;
  return result;
}

/* no terminal: answer the park with the next whole line, if there is one
** (or with the end of input) */
static void plainnext(void) {
  char *nl;
  size_t len;
  if (R.cur.w == NULL) return;
  nl = R.ilen ? (char *)memchr(R.ibuf, '\n', R.ilen) : NULL;
  if (nl == NULL && !R.ieof) return;  /* wait for the rest of the line */
  stopediting();
  if (nl == NULL && R.ilen == 0) {
    writeall(R.out, "\n", 1);
    answer(R_EOF, NULL);
    return;
  }
  len = nl ? (size_t)(nl - R.ibuf) : R.ilen;
  R.ibuf[len] = '\0';
  answer(R_LINE, R.ibuf);
  len += nl ? 1 : 0;
  memmove(R.ibuf, R.ibuf + len, R.ilen - len);
  R.ilen -= len;
}

static void readplain(void) {
  char buf[4096];
  ssize_t n = read(0, buf, sizeof(buf));
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) R.ieof = 1;
  if (n > 0) {
    if (R.ilen + (size_t)n + 1 > R.icap) {
      size_t cap = (R.ilen + (size_t)n + 1) * 2;
      char *b = (char *)realloc(R.ibuf, cap);
      if (b == NULL) return;
      R.ibuf = b;
      R.icap = cap;
    }
    memcpy(R.ibuf + R.ilen, buf, (size_t)n);
    R.ilen += (size_t)n;
  }
  plainnext();
}

static void onsignal(int sig) {
  poke(R.sigp[1], sig == SIGINT ? 'i' : 'w');
}

static void handlesignal(char c) {
  if (c == 'w') {
    if (R.editing) rl_resize_terminal();
    return;
  }
  if (R.cur.w != NULL) {  /* at the prompt: drop the line */
    if (R.editing) {
      writeall(R.out, "^C\n", 3);
      rl_replace_line("", 0);
      stopediting();
    } else {
      writeall(R.out, "\n", 1);
    }
    R.atbol = 1;
    answer(R_CANCEL, NULL);
  } else {  /* a line is running: stop it, wherever it is */
    lugo_interrupt_running(R.rt, R.id, "interrupted!");
  }
}

typedef struct waitres { int r; char *msg; } waitres;
static waitres result;

static void *waiter(void *arg) {
  (void)arg;
  result.r = lugo_wait(R.rt, R.id, &result.msg);
  poke(R.donep[1], 'd');
  return NULL;
}

int repl_run(lugo_runtime *rt, lugo_goid id, char **msg) {
  pthread_t t;
  int done = 0;
  R.rt = rt;
  R.id = id;
  if (pthread_create(&t, NULL, waiter, NULL) != 0) {
    *msg = strdup("cannot start the REPL's waiter thread");
    return LUGO_ENOMEM;
  }
  while (!done) {
    struct pollfd fds[6];
    int n = 0, i, intty = -1;
    fds[n++] = (struct pollfd){R.outp[0], POLLIN, 0};
    fds[n++] = (struct pollfd){R.errp[0], POLLIN, 0};
    fds[n++] = (struct pollfd){R.notep[0], POLLIN, 0};
    fds[n++] = (struct pollfd){R.sigp[0], POLLIN, 0};
    fds[n++] = (struct pollfd){R.donep[0], POLLIN, 0};
    if (R.cur.w != NULL && !R.ieof) {
      intty = n;
      fds[n++] = (struct pollfd){0, POLLIN, 0};
    }
    if (poll(fds, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    pthread_mutex_lock(&R.outlock);
    if (R.closed) {  /* exiting from another thread */
      pthread_mutex_unlock(&R.outlock);
      break;
    }
    if (fds[0].revents) forward(R.outp[0], R.out);
    if (fds[1].revents) forward(R.errp[0], R.err);
    if (fds[2].revents) {
      char c;
      while (read(R.notep[0], &c, 1) == 1) {}
      if (takepark()) startprompt();
    }
    if (fds[3].revents) {
      char c[16];
      ssize_t k = read(R.sigp[0], c, sizeof(c));
      for (i = 0; i < k; i++) handlesignal(c[i]);
      if (R.cur.w != NULL) startprompt();
    }
    if (intty >= 0 && fds[intty].revents && R.cur.w != NULL) {
      if (R.tty) {
        if (fds[intty].revents & (POLLHUP | POLLERR)) online(NULL);
        else rl_callback_read_char();
      } else {
        readplain();
      }
    }
    if (fds[4].revents) done = 1;
    pthread_mutex_unlock(&R.outlock);
  }
  pthread_join(t, NULL);
  *msg = result.msg;
  return result.r;
}

/* ---------------------------------------------------------------------
** open and close
** ------------------------------------------------------------------- */

static int mkpipe(int p[2], int nonblock) {
  if (pipe(p) != 0) return -1;
  fcntl(p[0], F_SETFD, FD_CLOEXEC);
  fcntl(p[1], F_SETFD, FD_CLOEXEC);
  if (nonblock) {
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
  }
  return 0;
}

int repl_open(const char *progname) {
  struct sigaction sa;
  const char *home = getenv("HOME");
  R.progname = progname;
  R.tty = isatty(0);
  fflush(stdout);
  fflush(stderr);
  if (mkpipe(R.notep, 1) || mkpipe(R.sigp, 1) || mkpipe(R.donep, 1) ||
      pipe(R.outp) || pipe(R.errp))
    return -1;
  R.out = fcntl(1, F_DUPFD_CLOEXEC, 3);
  R.err = fcntl(2, F_DUPFD_CLOEXEC, 3);
  if (R.out < 0 || R.err < 0) return -1;
  /* the write ends become fds 1 and 2; the loop reads without blocking */
  if (dup2(R.outp[1], 1) < 0 || dup2(R.errp[1], 2) < 0) return -1;
  close(R.outp[1]);
  close(R.errp[1]);
  fcntl(R.outp[0], F_SETFL, fcntl(R.outp[0], F_GETFL) | O_NONBLOCK);
  fcntl(R.errp[0], F_SETFL, fcntl(R.errp[0], F_GETFL) | O_NONBLOCK);
  fcntl(R.outp[0], F_SETFD, FD_CLOEXEC);
  fcntl(R.errp[0], F_SETFD, FD_CLOEXEC);
  setvbuf(stdout, NULL, _IOLBF, 0);  /* a pipe now: keep lines moving */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = onsignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGWINCH, &sa, NULL);
  if (R.tty) {
    rl_readline_name = "lugo";
    rl_instream = stdin;
    rl_outstream = fdopen(dup(R.out), "w");
    if (rl_outstream == NULL) return -1;
    setvbuf(rl_outstream, NULL, _IONBF, 0);
    rl_catch_signals = 0;
    rl_initialize();
    rl_attempted_completion_function = complete;
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(+-*/%^~#,[)}";
    rl_completer_word_break_characters = (char *)rl_basic_word_break_characters;
    rl_completion_append_character = '\0';
    using_history();
    stifle_history(HISTORY_MAX);
    if (home != NULL && home[0] != '\0' &&
        snprintf(R.histfile, sizeof(R.histfile), "%s/.lugo_history", home) <
            (int)sizeof(R.histfile)) {
      read_history(R.histfile);
    } else {
      R.histfile[0] = '\0';
    }
  }
  R.active = 1;
  return 0;
}

int repl_active(void) { return R.active; }

/* copy what is left in pipe fd to the terminal */
static void drain(int fd, int to) {
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) writeall(to, buf, (size_t)n);
}

void repl_close(void) {
  if (!R.active) return;
  pthread_mutex_lock(&R.outlock);
  if (!R.closed) {
    R.closed = 1;
    fflush(stdout);
    fflush(stderr);
    hideline();
    stopediting();  /* gives the terminal its modes back */
    drain(R.outp[0], R.out);
    drain(R.errp[0], R.err);
    /* whatever comes after goes straight to the terminal */
    dup2(R.out, 1);
    dup2(R.err, 2);
    poke(R.donep[1], 'c');  /* the loop, if still running, leaves */
  }
  pthread_mutex_unlock(&R.outlock);
}
