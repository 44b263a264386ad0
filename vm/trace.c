/*
** trace.c -- the execution tracer (`lugo -trace FILE`): which goroutine
** ran on which OS thread (M) when, what it blocked on, who woke it, and how
** many goroutines waited to run.  Written at the end as Chrome trace-event
** JSON (chrome://tracing, ui.perfetto.dev), or, for a FILE ending in
** ".html", as one self-contained page that draws the timeline itself (the
** viewer is vm/traceview.html, embedded at build time).
**
** Recording.  The tracer is an event listener (event.h).  The scheduler
** says when an M starts running a goroutine (LUGO_EV_RUN) and when the
** resume returns (LUGO_EV_STOP, with why); spawns, blocks and wake-ups are
** the events the race detector sees too.  Each M appends to its own buffer
** with no lock: only that M's thread writes it.  Threads that are not Ms of
** this runtime (the host, sysmon firing timers) share one buffer under
** tr->lock; they are rare.  Buffers grow in chunks taken from one budget
** per trace (LUGO_TRACE_MAXEVENTS); past it events are dropped and counted,
** and the file says how many.  Reason strings are kept as pointers: they
** are the static strings lugo__park_prepare is given.
**
** Stopping while goroutines run.  A thread may load the listener just
** before lugo_trace_stop clears it and call it afterwards.  So the tracer
** and every M's buffer header live until lugo_close (a stop frees only the
** chunks), and a recording M announces itself in its buffer's `busy` flag
** before it looks at tr->on (Dekker's pattern; all seq_cst):
**     M:     busy = 1;  if (on) record;  busy = 0
**     stop:  on = 0;    for every buffer: wait while busy;  write
** Either the M sees on == 0, or stop sees busy == 1 and waits for it.  A
** buffer an M makes while stop scans is published (seq_cst) before that M
** sets busy, so stop either sees it or the M sees on == 0 (same argument).
** The hook finds the tracer through rt->tracer, which never changes once
** made, not through its `ud`: a late call may carry a later listener's.
**
** Claiming.  lugo_trace_start, lugo_trace_stop and lugo_close take the
** listener slot with a CAS (from NULL, or from our hook, to `claimed`, a
** listener that ignores everything), so they exclude each other and any
** other listener without a lock of their own; whoever holds the claim owns
** rt->tracer's file, budget and (once stop has waited) every buffer.
**
** Threads: the hook runs on any thread; lugo_trace_start/stop on any
** thread, a goroutine's included (the lugo command stops the trace from
** its panic handler, which runs on an M).
*/
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scheduler.h"

/* the viewer page, traceview[] (generated from vm/traceview.html) */
#include "traceview.h"

#define CHUNK 2048          /* events per chunk (64 KB) */
#define VIEWMARK "@TRACE_JSON@"  /* where the page takes the JSON */
#define HOSTTID 9999        /* the track of threads that are not Ms */

/* what the tracer keeps: GO, BLOCK, WAKE, RUN, STOP */
typedef struct tev {
  uint64_t tk;      /* ns since the runtime started << 8 | event kind */
  int64_t g;        /* goroutine causing it (lugo_event.goid) */
  int64_t a;        /* lugo_event.a */
  union {
    const char *s;  /* BLOCK: the reason */
    int64_t n;      /* others: runnable goroutines when it happened */
  } u;
} tev;

typedef struct tchunk {
  struct tchunk *next;
  int n;
  tev ev[CHUNK];
} tchunk;

/* one thread's events (an M's), or the host's (guarded by tr->lock) */
typedef struct tbuf {
  lugo_aint busy;         /* atomic: its M is inside the hook */
  /* the rest: its M only while tracing; stop's after the wait */
  tchunk *head, *tail;
  long long dropped;      /* events lost to the budget */
  int64_t dropat;         /* when the first was lost (ns since start) */
} tbuf;

typedef struct lugo_tracer lugo_tracer;

struct lugo_tracer {
  lugo_aint on;           /* atomic: record events */
  lugo_ai64 nchunks;      /* atomic: chunks taken from the budget */
  /* the rest: the claim holder's (see the header) */
  int64_t maxchunks;
  int nslots;
  lugo_aptr *slots;       /* atomic: tbuf per M id, made by that M */
  pthread_mutex_t lock;   /* guards host */
  tbuf host;
  FILE *f;
  char *path;
  int html;
  int64_t begin, end;     /* ns since the runtime started */
};

static void hook(lugo_runtime *rt, const lugo_event *e, void *ud);

/* the listener that holds the slot while start or stop works */
static void claimed(lugo_runtime *rt, const lugo_event *e, void *ud) {
  (void)rt;
  (void)e;
  (void)ud;
}

static int claim(lugo_runtime *rt, lugo_event_fn from) {
  lugo_event_fn old = from;
  return lugo_casx(&rt->evhook, &old, claimed);
}

/* ---------------------------------------------------------------------
** recording (any thread)
** ------------------------------------------------------------------- */

/* Goroutines waiting to run: the global queue and every P's (retired
** ones too: Ps live until lugo_close, and a retired P's queue is still
** waiting work until its M moves it).  Racy reads of counters that move
** under us: a sample, not an invariant. */
static int64_t runnable(lugo_runtime *rt) {
  int64_t n = lugo_load_relaxed(&rt->gqsize);
  int i, np = lugo_load(&rt->np);  /* publishes allp[0..np) */
  for (i = 0; i < np; i++) n += lugo__runq_len(&rt->allp[i]->q);
  return n;
}

static tchunk *newchunk(lugo_tracer *tr, tbuf *b) {
  tchunk *c;
  /* relaxed first: once the budget is gone, dropping touches no shared line */
  if (lugo_load_relaxed(&tr->nchunks) >= tr->maxchunks ||
      lugo_xadd(&tr->nchunks, 1) >= tr->maxchunks)
    return NULL;
  c = (tchunk *)malloc(sizeof(*c));
  if (c == NULL) return NULL;
  c->next = NULL;
  c->n = 0;
  if (b->tail) b->tail->next = c; else b->head = c;
  b->tail = c;
  return c;
}

/* The thread owning b (or holding tr->lock for the host's), with
** tr->on seen set. */
static void record(lugo_runtime *rt, lugo_tracer *tr, tbuf *b,
                   const lugo_event *e) {
  int64_t now = lugo__nanotime() - rt->starttime;
  tchunk *c = b->tail;
  tev *v;
  if (c == NULL || c->n == CHUNK) {
    c = newchunk(tr, b);
    if (c == NULL) {
      if (b->dropped++ == 0) b->dropat = now;
      return;
    }
  }
  v = &c->ev[c->n++];
  v->tk = (uint64_t)now << 8 | (uint64_t)e->kind;
  v->g = e->goid;
  v->a = e->a;
  if (e->kind == LUGO_EV_BLOCK) v->u.s = (const char *)e->obj;
  else v->u.n = runnable(rt);
}

/* Owner M.  Its buffer, made on its first event. */
static tbuf *mbuf(lugo_tracer *tr, int id) {
  tbuf *b = (tbuf *)lugo_load(&tr->slots[id]);
  if (b == NULL) {
    b = (tbuf *)calloc(1, sizeof(*b));
    if (b != NULL) lugo_store(&tr->slots[id], b);  /* see the header */
  }
  return b;
}

static void hook(lugo_runtime *rt, const lugo_event *e, void *ud) {
  lugo_tracer *tr;
  lugo_M *m;
  (void)ud;  /* may be a later listener's (see the header) */
  switch (e->kind) {
    case LUGO_EV_GO: case LUGO_EV_BLOCK: case LUGO_EV_WAKE:
    case LUGO_EV_RUN: case LUGO_EV_STOP:
      break;
    default:
      return;  /* not traced: touch nothing */
  }
  tr = rt->tracer;
  m = lugo__getm();
  if (m != NULL && m->rt == rt && m->id < tr->nslots) {
    tbuf *b = mbuf(tr, m->id);
    if (b == NULL) return;  /* out of memory: nothing to count it in */
    lugo_store(&b->busy, 1);
    if (lugo_load(&tr->on)) record(rt, tr, b, e);
    /* release: what it recorded is the stopper's once it sees 0 */
    lugo_store_rel(&b->busy, 0);
  } else {
    pthread_mutex_lock(&tr->lock);
    if (lugo_load(&tr->on)) record(rt, tr, &tr->host, e);
    pthread_mutex_unlock(&tr->lock);
  }
}

/* ---------------------------------------------------------------------
** writing (the claim holder, after every recorder has left)
** ------------------------------------------------------------------- */

/* A trace has millions of events: they are formatted by hand into a
** buffer (fprintf cost ten times as much, most of the writing time). */
typedef struct writer {
  FILE *f;
  long long n;      /* trace events written */
  size_t len;
  char buf[1 << 16];
} writer;

typedef struct sample { int64_t ns, n; } sample;

static void wflush(writer *w) {
  fwrite(w->buf, 1, w->len, w->f);
  w->len = 0;
}

static void wput(writer *w, const char *s, size_t n) {
  if (w->len + n > sizeof(w->buf)) {
    wflush(w);
    if (n > sizeof(w->buf)) {
      fwrite(s, 1, n, w->f);
      return;
    }
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}

#define wlit(w, s) wput((w), "" s, sizeof(s) - 1)

static void wputs(writer *w, const char *s) { wput(w, s, strlen(s)); }

static void wint(writer *w, long long v) {
  char tmp[24], *p = tmp + sizeof(tmp);
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do { *--p = (char)('0' + u % 10); u /= 10; } while (u != 0);
  if (v < 0) *--p = '-';
  wput(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* one JSON string; <, > and & escaped too, so the JSON can sit inside the
** HTML page's <script> element */
static void wstr(writer *w, const char *s) {
  wlit(w, "\"");
  for (;;) {
    const char *run = s;
    unsigned char c;
    while ((c = (unsigned char)*s) >= 0x20 && c != '"' && c != '\\' &&
           c != '<' && c != '>' && c != '&')
      s++;
    wput(w, run, (size_t)(s - run));
    if (c == '\0') break;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      wput(w, e, 2);
    } else {
      char e[7];
      snprintf(e, sizeof(e), "\\u%04x", c);
      wput(w, e, 6);
    }
    s++;
  }
  wlit(w, "\"");
}

/* microseconds with ns precision */
static void wts(writer *w, int64_t ns) {
  char frac[4];
  if (ns < 0) ns = 0;
  wint(w, (long long)(ns / 1000));
  frac[0] = '.';
  frac[1] = (char)('0' + ns / 100 % 10);
  frac[2] = (char)('0' + ns / 10 % 10);
  frac[3] = (char)('0' + ns % 10);
  wput(w, frac, 4);
}

/* the start of one event, up to its "ts"; named name, or G<g> if NULL */
static void wbegin(writer *w, const char *name, int64_t g, const char *ph,
                   int tid, int64_t ns) {
  if (w->n++) wlit(w, ",\n");
  wlit(w, "{\"name\":");
  if (name) {
    wstr(w, name);
  } else {
    wlit(w, "\"G");
    wint(w, g);
    wlit(w, "\"");
  }
  wlit(w, ",\"ph\":\"");
  wputs(w, ph);
  wlit(w, "\",\"pid\":1,\"tid\":");
  wint(w, tid);
  wlit(w, ",\"ts\":");
  wts(w, ns);
}

/* a track's name (name) or place (sort) */
static void wmeta(writer *w, const char *what, int tid, const char *name,
                  int sort) {
  if (w->n++) wlit(w, ",\n");
  wlit(w, "{\"name\":\"");
  wputs(w, what);
  wlit(w, "\",\"ph\":\"M\",\"pid\":1,\"tid\":");
  wint(w, tid);
  wlit(w, ",\"args\":{");
  if (name) {
    wlit(w, "\"name\":");
    wstr(w, name);
  } else {
    wlit(w, "\"sort_index\":");
    wint(w, sort);
  }
  wlit(w, "}}");
}

/* a goroutine's run on an M, from ns0 to ns1 */
static void wslice(writer *w, int tid, int64_t g, int p, int64_t ns0,
                   int64_t ns1, int64_t why, const char *reason) {
  static const char *const whys[] = {"unknown", "blocked", "preempted", "gosched"};
  const char *stop;
  if (why >= Y_NONE && why <= Y_GOSCHED) stop = whys[why];
  else if (why == LUGO_STOP_END) stop = "ended";
  else if (why == LUGO_STOP_ERROR) stop = "panicked";
  else if (why == -1) stop = "running";  /* when the trace ended */
  else stop = "unknown";
  wbegin(w, NULL, g, "X", tid, ns0);
  wlit(w, ",\"dur\":");
  wts(w, ns1 > ns0 ? ns1 - ns0 : 0);
  wlit(w, ",\"cat\":\"goroutine\",\"args\":{\"goid\":");
  wint(w, g);
  if (p >= 0) {
    wlit(w, ",\"p\":");
    wint(w, p);
  }
  wlit(w, ",\"stop\":\"");
  wputs(w, stop);
  wlit(w, "\"");
  if (why == Y_PARK && reason) {
    wlit(w, ",\"reason\":");
    wstr(w, reason);
  }
  wlit(w, "}}");
}

/* an instant on a track: a spawn (of child a), a block (with its
** reason) or an unblock (of goroutine a, by g) */
static void winstant(writer *w, int tid, const tev *v, int kind) {
  if (kind != LUGO_EV_GO && kind != LUGO_EV_BLOCK && kind != LUGO_EV_WAKE) return;
  wbegin(w, kind == LUGO_EV_GO ? "spawn" : kind == LUGO_EV_BLOCK ? "block" : "unblock",
         0, "i", tid, (int64_t)(v->tk >> 8));
  wlit(w, ",\"s\":\"t\",\"cat\":\"sched\",\"args\":{\"goid\":");
  wint(w, kind == LUGO_EV_WAKE ? v->a : v->g);
  if (kind == LUGO_EV_GO) {
    wlit(w, ",\"child\":");
    wint(w, v->a);
  } else if (kind == LUGO_EV_BLOCK) {
    wlit(w, ",\"reason\":");
    wstr(w, v->u.s ? v->u.s : "?");
  } else {
    wlit(w, ",\"by\":");
    wint(w, v->g);
  }
  wlit(w, "}}");
}

/* A buffer's events, in the order its thread recorded them: slices from
** RUN/STOP pairs (an M runs one goroutine at a time), instants, and the
** runnable samples into smp (if not NULL), in time order. */
static void wbuf(writer *w, lugo_tracer *tr, const tbuf *b, int tid,
                 sample *smp, size_t *nsmp) {
  const tchunk *c;
  int open = 0, p = -1;
  int64_t g = 0, start = 0;
  const char *reason = NULL;
  for (c = b->head; c != NULL; c = c->next) {
    int i;
    for (i = 0; i < c->n; i++) {
      const tev *v = &c->ev[i];
      int kind = (int)(v->tk & 0xff);
      int64_t ns = (int64_t)(v->tk >> 8);
      if (kind != LUGO_EV_BLOCK && smp != NULL) {
        smp[*nsmp].ns = ns;
        smp[(*nsmp)++].n = v->u.n;
      }
      switch (kind) {
        case LUGO_EV_RUN:
          if (open) wslice(w, tid, g, p, start, ns, Y_NONE, NULL);  /* lost STOP */
          open = 1;
          g = v->g;
          p = (int)v->a;
          start = ns;
          reason = NULL;
          break;
        case LUGO_EV_STOP:
          if (!open || g != v->g) {  /* it was running when tracing began */
            start = tr->begin;
            p = -1;
            reason = NULL;
          }
          wslice(w, tid, v->g, p, start, ns, v->a, reason);
          open = 0;
          break;
        case LUGO_EV_BLOCK:
          if (open && g == v->g) reason = v->u.s;
          /* fall through */
        default:
          winstant(w, tid, v, kind);
          break;
      }
    }
  }
  if (open)  /* still running: up to the end, or to where events were lost */
    wslice(w, tid, g, p, start, b->dropped ? b->dropat : tr->end, -1, NULL);
}

static size_t nevents(const tbuf *b) {
  const tchunk *c;
  size_t n = 0;
  for (c = b->head; c != NULL; c = c->next) n += (size_t)c->n;
  return n;
}

/* The runnable counter: one time series from every thread's samples
** (runs[k] .. runs[k+1] in smp, each in time order), merged; a sample
** equal to the one before says nothing and is left out. */
static void wcounter(writer *w, const sample *smp, size_t *runs, int nruns) {
  size_t *at = runs;  /* the head of each run; runs[nruns] ends the last */
  int64_t last = -1;
  for (;;) {
    int k, best = -1;
    for (k = 0; k < nruns; k++)
      if (at[k] < runs[k + 1] && (best < 0 || smp[at[k]].ns < smp[at[best]].ns)) best = k;
    if (best < 0) break;
    if (smp[at[best]].n != last) {
      last = smp[at[best]].n;
      wbegin(w, "runnable goroutines", 0, "C", 0, smp[at[best]].ns);
      wlit(w, ",\"args\":{\"runnable\":");
      wint(w, last);
      wlit(w, "}}");
    }
    at[best]++;
  }
}

static void wjson(lugo_runtime *rt, lugo_tracer *tr, writer *w) {
  sample *smp;
  size_t nsmp = 0, total = nevents(&tr->host), *runs;
  long long dropped = tr->host.dropped;
  int id, nruns = 0;
  for (id = 0; id < tr->nslots; id++) {
    tbuf *b = (tbuf *)lugo_load(&tr->slots[id]);
    if (b) {
      total += nevents(b);
      dropped += b->dropped;
    }
  }
  /* samples, and where each thread's start (NULL: no counter) */
  smp = (sample *)malloc((total + 1) * sizeof(*smp));
  runs = (size_t *)malloc(((size_t)tr->nslots + 2) * sizeof(*runs));
  if (smp == NULL || runs == NULL) {
    free(smp);
    free(runs);
    smp = NULL;
    runs = NULL;
  }
  wlit(w, "{\"traceEvents\":[\n");
  wlit(w, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"lugo\"}}");
  w->n++;
  for (id = 0; id < tr->nslots; id++) {
    tbuf *b = (tbuf *)lugo_load(&tr->slots[id]);
    char name[32];
    if (b == NULL || (b->head == NULL && b->dropped == 0)) continue;
    snprintf(name, sizeof(name), "M%d", id);
    wmeta(w, "thread_name", id, name, 0);
    wmeta(w, "thread_sort_index", id, NULL, id);
    if (runs) runs[nruns++] = nsmp;
    wbuf(w, tr, b, id, smp, &nsmp);
  }
  if (tr->host.head != NULL) {
    wmeta(w, "thread_name", HOSTTID, "host, sysmon, timers", 0);
    wmeta(w, "thread_sort_index", HOSTTID, NULL, HOSTTID);
    if (runs) runs[nruns++] = nsmp;
    wbuf(w, tr, &tr->host, HOSTTID, smp, &nsmp);
  }
  if (smp != NULL) {
    runs[nruns] = nsmp;
    wcounter(w, smp, runs, nruns);
    free(smp);
    free(runs);
  }
  wlit(w, "\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{\"version\":");
  wstr(w, LUGO_VERSION);
  wlit(w, ",\"gomaxprocs\":");
  wint(w, lugo_load(&rt->nprocs));  /* when the trace ended */
  wlit(w, ",\"events\":");
  wint(w, (long long)total);
  wlit(w, ",\"dropped_events\":");
  wint(w, dropped);
  wlit(w, ",\"max_events\":");
  wint(w, (long long)(tr->maxchunks * CHUNK));
  wlit(w, ",\"trace_start_us\":");
  wts(w, tr->begin);
  wlit(w, ",\"trace_end_us\":");
  wts(w, tr->end);
  wlit(w, "}}\n");
}

/* Write the file and close it; LUGO_OK or LUGO_EFILE with errno set. */
static int wfile(lugo_runtime *rt, lugo_tracer *tr) {
  FILE *f = tr->f;
  writer *w = (writer *)malloc(sizeof(*w));
  int err = 0;
  tr->f = NULL;
  if (w == NULL) {
    fclose(f);
    errno = ENOMEM;
    return LUGO_EFILE;
  }
  w->f = f;
  w->n = 0;
  w->len = 0;
  if (tr->html) {
    const char *mark = strstr(traceview, VIEWMARK);
    if (mark == NULL) mark = traceview + strlen(traceview);  /* a bad page */
    wput(w, traceview, (size_t)(mark - traceview));
    wjson(rt, tr, w);
    wputs(w, *mark ? mark + strlen(VIEWMARK) : "");
  } else {
    wjson(rt, tr, w);
  }
  wflush(w);
  free(w);
  if (fflush(f) != 0) err = errno;
  else if (ferror(f)) err = EIO;
  if (fclose(f) != 0 && err == 0) err = errno;
  if (err == 0) return LUGO_OK;
  errno = err;
  return LUGO_EFILE;
}

static void freechunks(tbuf *b) {
  while (b->head != NULL) {
    tchunk *c = b->head;
    b->head = c->next;
    free(c);
  }
  b->tail = NULL;
  b->dropped = 0;
  b->dropat = 0;
}

/* ---------------------------------------------------------------------
** starting and stopping
** ------------------------------------------------------------------- */

static int endswith(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Claim holder.  The runtime's tracer, made on first use. */
static lugo_tracer *gettracer(lugo_runtime *rt) {
  lugo_tracer *tr = rt->tracer;
  if (tr != NULL) return tr;
  tr = (lugo_tracer *)calloc(1, sizeof(*tr));
  if (tr == NULL) return NULL;
  tr->nslots = rt->opt.maxthreads;  /* M ids are below it (startm) */
  tr->slots = (lugo_aptr *)calloc((size_t)tr->nslots, sizeof(*tr->slots));
  if (tr->slots == NULL) {
    free(tr);
    return NULL;
  }
  pthread_mutex_init(&tr->lock, NULL);
  rt->tracer = tr;
  return tr;
}

int lugo__trace_start(lugo_runtime *rt, const char *path, long maxevents) {
  lugo_tracer *tr;
  FILE *f;
  char *p;
  if (rt == NULL || path == NULL || path[0] == '\0' || maxevents < 1)
    return LUGO_EINVAL;
  if (!claim(rt, NULL)) return LUGO_EINVAL;  /* tracing, or another listener */
  tr = gettracer(rt);
  p = tr ? strdup(path) : NULL;
  if (p == NULL) {
    free(p);
    lugo_store(&rt->evhook, NULL);
    return LUGO_ENOMEM;
  }
  f = fopen(path, "w");  /* now: a bad path fails before the program runs */
  if (f == NULL) {
    int err = errno;
    free(p);
    lugo_store(&rt->evhook, NULL);
    errno = err;
    return LUGO_EFILE;
  }
  setvbuf(f, NULL, _IOFBF, 1 << 16);
  tr->f = f;
  tr->path = p;
  tr->html = endswith(path, ".html") || endswith(path, ".htm");
  tr->maxchunks = (maxevents + CHUNK - 1) / CHUNK;
  lugo_store(&tr->nchunks, 0);
  tr->begin = lugo__nanotime() - rt->starttime;
  lugo_store(&tr->on, 1);
  lugo_store_relaxed(&rt->evud, tr);
  lugo_store(&rt->evhook, hook);  /* from `claimed`: we hold the claim */
  return LUGO_OK;
}

int lugo_trace_start(lugo_runtime *rt, const char *path) {
  return lugo__trace_start(rt, path, LUGO_TRACE_MAXEVENTS);
}

/* Stop and write; the path goes to *path (caller frees) if asked for. */
static int stop(lugo_runtime *rt, char **path) {
  lugo_tracer *tr;
  int id, r, err;
  if (rt == NULL || !claim(rt, hook)) return LUGO_EINVAL;  /* not tracing */
  tr = rt->tracer;
  lugo_store(&tr->on, 0);
  for (id = 0; id < tr->nslots; id++) {  /* wait for recorders to leave */
    tbuf *b = (tbuf *)lugo_load(&tr->slots[id]);
    int spins = 0;
    while (b != NULL && lugo_load(&b->busy)) {
      if (++spins < 100) lugo_cpu_relax();
      else sched_yield();  /* it may be descheduled mid-record */
    }
  }
  pthread_mutex_lock(&tr->lock);  /* host recorders too: from here on */
  pthread_mutex_unlock(&tr->lock);  /* they all see on == 0 */
  tr->end = lugo__nanotime() - rt->starttime;
  r = wfile(rt, tr);
  err = errno;
  for (id = 0; id < tr->nslots; id++) {
    tbuf *b = (tbuf *)lugo_load(&tr->slots[id]);
    if (b) freechunks(b);
  }
  freechunks(&tr->host);
  if (path) *path = tr->path; else free(tr->path);
  tr->path = NULL;
  lugo_store(&rt->evhook, NULL);  /* release the claim */
  errno = err;
  return r;
}

int lugo_trace_stop(lugo_runtime *rt) {
  return stop(rt, NULL);
}

void lugo__trace_exit(lugo_runtime *rt) {
  char *path = NULL;
  /* another thread writing the trace (the lugo command's exit paths):
  ** let it finish before this one ends the process */
  while (rt != NULL && lugo_load(&rt->evhook) == claimed) sched_yield();
  if (stop(rt, &path) == LUGO_EFILE)
    fprintf(stderr, "lugo: -trace: cannot write %s: %s\n", path ? path : "?",
            strerror(errno));
  free(path);
}

void lugo__trace_free(lugo_runtime *rt) {
  lugo_tracer *tr = rt->tracer;
  int id;
  if (tr == NULL) return;
  for (id = 0; id < tr->nslots; id++) {
    tbuf *b = (tbuf *)lugo_load(&tr->slots[id]);
    if (b) {
      freechunks(b);
      free(b);
    }
  }
  freechunks(&tr->host);
  free(tr->slots);
  free(tr->path);
  if (tr->f) fclose(tr->f);
  pthread_mutex_destroy(&tr->lock);
  free(tr);
  rt->tracer = NULL;
}
