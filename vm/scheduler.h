/*
** sched.h -- goroutines (G), processors (P), OS threads (M), the runtime.
** See sched.c for the design.
*/
#ifndef lugo_sched_h
#define lugo_sched_h

#include <lua.h>
#include <pthread.h>
#include <signal.h>

#include "atomic.h"
#include "event.h"
#include "lugo.h"
#include "marshal.h"
#include "obj.h"
#include "runq.h"
#include "sema.h"

typedef struct lugo_G lugo_G;
typedef struct lugo_P lugo_P;
typedef struct lugo_M lugo_M;
typedef struct lugo_sudog lugo_sudog;  /* defined in chan.h */
struct lugo_timer;                     /* defined in timer.h */
struct lugo_timers;                    /* defined in timer.h */
struct lugo_known;                     /* defined in marshal.c */
struct lugo_shreg;                     /* defined in shared.h */
struct lugo_ctxreg;                    /* defined in context.h */
struct lugo_race;                      /* defined in race.c */
struct lugo_raceg;                     /* defined in race.c */

/* G status (g->status, atomic).  See "Parking" in sched.c. */
enum {
  G_IDLE,      /* created, never run or dead */
  G_RUNNABLE,  /* in a run queue */
  G_RUNNING,   /* on an M */
  G_PARKING,   /* published as a waiter, not yet off its M */
  G_WOKEN,     /* readied while still PARKING: its M requeues it */
  G_PARKED,    /* off its M, waiting for exactly one lugo__ready */
  G_DEAD
};

/* Or'ed into a PARKED or RUNNABLE status while a dump reads the G's
** stack (Go's _Gscan): lugo__ready and execute wait until it is gone. */
#define G_SCAN 0x40

enum { PW_PREPARED = 2 };

/* why a G's root coroutine yielded to the scheduler (owner M only) */
enum { Y_NONE, Y_PARK, Y_PREEMPT, Y_GOSCHED };

/* a goroutine waiting on a sync object (sync.h): g->sw, one wait at a
** time */
typedef struct lugo_swaiter lugo_swaiter;
struct lugo_swaiter {
  lugo_G *g;
  lugo_swaiter *next, *prev;  /* guarded by the object's lk */
  int queued;                 /* guarded by lk */
  int ticket;                 /* guarded by lk: the waker handed it what
                                 it waited for (Mutex: the lock) */
  int64_t since;              /* when it began waiting (ns; owner) */
  lugo_obj *obj;              /* the object it queued on last (owner) */
};

struct lugo_G {
  lugo_goid id;
  lugo_goid parent;    /* the goroutine whose go() made it (0: the host) */
  lugo_aint stackwant; /* atomic: a dump asks a running G for its stack
                          (runtime.c: STK_*) */
  char *stacktext;     /* its answer, written before stackwant = STK_DONE */
  lugo_M *lockedm;     /* runtime.LockOSThread: the only M that runs it */
  int lockcount;       /* LockOSThread calls not yet undone (owner) */
  lugo_runtime *rt;
  lua_State *L;        /* the goroutine's own state; NULL until first run */
  lua_State *co;       /* root coroutine that the scheduler resumes */
  lua_State *cur;      /* innermost running coroutine (owner M only) */
  int chainok;         /* every enclosing resume is yieldable (owner M) */
  int yieldreason;     /* Y_* (owner M only) */
  int nargs;           /* arguments waiting on co at first run */
  lugo_blob *start;    /* the function and arguments, until first run */
  lugo_obj *startref;  /* when not NULL, start belongs to this object (an
                          AfterFunc timer, which may fire again): the G
                          copies it and holds a reference until then */
  lugo_aint status;    /* atomic: G_* */
  lugo_aint parkwin;   /* atomic: PW_PREPARED while publishing waiters,
                          0 while parked; the one waker CASes 0 -> 1 */
  lugo_aptr intrreq;   /* atomic: an interrupt's message, asked while the
                          park was PW_PREPARED (malloc'd) */
  lugo_aptr intrrun;   /* atomic: an interrupt for the G while it runs
                          (malloc'd); raised from the preemption hook or
                          at its next park */
  lugo_aint blockm;    /* atomic: this park blocks the M (non-yieldable) */
  lugo_sema sema;      /* blockm parks wait here */
  int host;            /* spawned by the host: its waiter gets the error */
  int interrupted;     /* woken by lugo_interrupt (written by the waker
                          before lugo__ready) */
  char *intrmsg;       /* ditto, malloc'd */
  lugo_aptr waitreason;    /* "chan receive", "select", ... (written by
                              the owner; a dump reads it racing that) */
  /* park data: owned by the G; wakers write only what they claimed by
  ** winning parkwin, before readying it */
  lugo_sudog *sg;          /* its waiters: 1 for a channel op, n for select */
  lugo_swaiter sw;         /* its waiter on a sync object (sync.h) */
  void (*ondone)(lugo_G *g);  /* run when it ends (WaitGroup.Go), with */
  void *ondoneud;             /* this; set before it is queued */
  int nsg, capsg;
  lugo_sudog *wonsg;       /* the waiter that completed the park */
  lugo_value *vals;        /* select: a value slot per case */
  int nvals, capvals;
  lugo_value sendv, recvv; /* single channel ops */
  void *mbox;              /* marshal.c's reusable buffer (owner M) */
  unsigned modepoch;       /* bumped when package.loaded gains a module */
  unsigned modindexepoch;  /* the epoch marshal.c's module index is for,
                              plus one (0: none) */
  const void *objmt[LUGO_NOBJTYPES];  /* this state's object metatables,
                                         by type id (obj.c; owner M) */
  void *lastbox;                      /* the last box checked, the */
  struct lugo_obj *lastobj;           /* object it held, and */
  const struct lugo_objtype *lasttype;  /* its type (obj.c; owner M) */
  lugo_blob *inblob;       /* a blob being decoded (owner M) */
  char *shbuf;             /* shared.c's buffer for long strings read from
                              shared tables, shcap bytes (owner M) */
  size_t shcap;
  int decoding;            /* an unmarshal is in progress (owner M) */
  struct lugo_timer *timer;   /* sleep / select timeout */
  struct lugo_raceg *race;    /* the race detector's record (race.c);
                                 NULL when it is off */
  lugo_G *schedlink;   /* guarded by whichever queue holds the G */
  lugo_G *allnext, *allprev;  /* guarded by rt->glock */
  /* result for the host waiter; guarded by rt->glock */
  int done; char *errmsg;
};

/* P ownership (p->own, atomic): 0 when idle, else OWN(m, state) where
** state says whether its M is in runtime code (P_LOCKED: nobody may take
** the P) or inside Lua (P_INLUA: sysmon may retake it from an M stuck in a
** long C call).  The owner's id is part of the word, so an M that lost its
** P can never CAS it back from a new owner. */
enum { P_LOCKED = 1, P_INLUA = 2 };
#define LUGO_OWN(m, st) ((((int64_t)(m)->id + 1) << 2) | (st))

struct lugo_P {
  int id;
  lugo_runq q;
  lugo_ai64 own;         /* atomic: see above */
  uint32_t schedtick;    /* owner M only */
  lugo_P *link;          /* idle list, guarded by sched lock */
  int retired;           /* id >= GOMAXPROCS: neither owned nor idle;
                            guarded by sched lock */
};

#define LUGO_MAXPROCS 1024

struct lugo_M {
  int id;
  pthread_t thread;
  lugo_runtime *rt;
  lugo_P *p;              /* owner M only (handed over under sched lock) */
  lugo_P *nextp;          /* P handed to a parked M, guarded by sched lock */
  lugo_G *curg;           /* G running on this M (owner; sysmon reads racy-tolerant via curgid) */
  lugo_G *lockedg;        /* the G locked to this M (written by that G,
                             which runs only here) */
  lugo_aptr sigco;        /* atomic: coroutine the signal handler may hook */
  lugo_ai64 curgid;       /* atomic: id of curg for sysmon, 0 if none */
  int spinning;           /* owner M; counted in rt->nmspinning */
  lugo_sema park;         /* idle M waits here */
  lugo_M *link;           /* idle list, guarded by sched lock */
  lugo_M *alllink;        /* all Ms, guarded by sched lock */
  lugo_au32 tick;         /* atomic: Gs run (sysmon watches it move) */
  lugo_ai64 slicestart;   /* atomic: when the current time slice began
                             (not reset when a G inherits it via runnext) */
  int lost;               /* owner M: sysmon took our P; we count in
                             rt->nincall until we have a P again */
  uint32_t sysmontick;    /* sysmon only */
  int64_t sysmonwhen;     /* sysmon only */
  lugo_aint preempt;      /* atomic: sysmon asks the running G to yield */
  lugo_aptr curp;         /* atomic: the P this M owns (for sysmon) */
  int64_t preemptwhen;    /* sysmon only: when it first asked in this
                             slice, 0 if not */
  int64_t lastsignal;     /* sysmon only: when it last signalled */
  /* preemption hook bookkeeping: this M's thread only (its signal handler
  ** included; sigco is NULL while these change) */
  lua_State *hookco;      /* coroutine carrying our one-shot hook */
  lua_Hook uhook; int umask, ucount;  /* the hook it had before */
};

struct lugo_runtime {
  lugo_options opt;
  /* GOMAXPROCS: Ps with id < nprocs run goroutines; the others are
  ** retired (their M gives them up at its next scheduling point).  Ps
  ** are created on demand and live until lugo_close. */
  lugo_aint nprocs;         /* atomic; written under lock */
  lugo_aint np;             /* atomic: Ps created, allp[0..np) */
  lugo_P *allp[LUGO_MAXPROCS];
  int nretired;             /* guarded by lock */

  /* the scheduler lock guards: the global run queue, idle P and M lists,
  ** Ms waiting for a P, allm */
  pthread_mutex_t lock;
  lugo_G *gqhead, *gqtail;  /* global run queue */
  lugo_aint gqsize;         /* atomic mirror of its length (read unlocked) */
  lugo_P *pidle;            /* idle Ps */
  lugo_aint npidle;         /* atomic */
  lugo_M *midle;            /* idle Ms */
  int nmidle;
  lugo_M *allm;
  int nm;                   /* Ms created */
  lugo_aint nmspinning;     /* atomic */
  lugo_M *pwait;            /* Ms whose blocked G woke and want a P */
  lugo_aint npwait;         /* atomic mirror of pwait's length */
  lugo_aint nblockm;        /* atomic: Gs blocking their M */
  lugo_aint nincall;        /* atomic: Ms whose P sysmon retook while they
                               ran C code (they come back wanting a P) */
  int stopping;             /* guarded by lock; also read atomically below */
  lugo_aint stop;           /* atomic: shutting down */

  /* all goroutines */
  pthread_mutex_t glock;    /* guards the G list, ids, results, waiters */
  pthread_cond_t gcond;     /* host waiters */
  lugo_G *allg;
  lugo_goid nextid;
  lugo_aint ngoroutines;    /* atomic: live goroutines */
  lugo_ai64 nspawned;       /* atomic */
  lugo_aint deadlocked;     /* atomic: 1 reporting, 2 reported */
  lugo_aint hostholds;      /* atomic: host threads blocked in runtime ops */
  lugo_aint nhostlive;      /* atomic: host goroutines (lugo_spawn) not
                               ended yet; with none, nobody waits for a
                               deadlock report (Go: main has returned) */

  struct lugo_timers *timers;
  pthread_t sysmon;
  lugo_sema sysmonwake;
  int sysmonstarted;
  lugo_aint sysmonquit;     /* atomic */

  struct lugo_known *known;   /* standard C functions (marshal.c) */
  struct lugo_shreg *shreg;   /* every shared table, for the collector
                                 (shared.c); set before the first
                                 goroutine, freed after the last */
  struct lugo_ctxreg *ctxreg; /* contexts: Background, TODO, and those
                                 with children (context.c); set before
                                 the first goroutine, freed last */
  char *defpath, *defcpath;   /* a fresh state's package.path, .cpath */
  pthread_mutex_t poollock;   /* guards pool */
  lua_State **pool;           /* reset states ready for new goroutines */
  lugo_aint npool;            /* atomic: written under poollock, read
                                 without it as a hint */
  pthread_mutex_t libslock;   /* guards libs */
  void **libs;                /* C libraries kept open until lugo_close */
  int nlibs, caplibs;
  _Atomic lugo_event_fn evhook;  /* atomic: event listener, NULL when
                                    none (see event.h) */
  lugo_aptr evud;             /* atomic: its argument */
  struct lugo_tracer *tracer; /* trace.c: made by the first
                                 lugo_trace_start, freed by lugo_close;
                                 written only by whoever claimed evhook */
  int64_t starttime;          /* lugo__nanotime() at lugo_new (read-only) */
  struct lugo_race *race;     /* the race detector, NULL when off (set
                                 by lugo_new, freed by lugo_close) */
  lugo_ai64 npreempt, nswitch, nsteal;  /* atomic stats */
};

/* the G that owns state L (any coroutine of it) */
#define lugo__G(L) (*(lugo_G **)lua_getextraspace(L))

/* M running on this thread, or NULL */
lugo_M *lugo__getm(void);

/* Any thread.  Make g runnable; g must be PARKING or PARKED and the caller
** must have won g->parkwin (exactly one caller per park). */
void lugo__ready(lugo_G *g);

/* Owner M of g.  Prepare a park: decides between yielding and blocking
** the M, resets parkwin.  Call before publishing any waiter. */
void lugo__park_prepare(lua_State *L, lugo_G *g, const char *reason);

/* The same, but when the park may not start (the runtime is stopping, or
** intr and an interrupt came while the G ran) it returns the error
** message instead of raising it (malloc'd; NULL: prepared). */
char *lugo__park_tryprepare(lua_State *L, lugo_G *g, const char *reason,
                            int intr);

/* park_prepare leaving a pending interrupt for later: for parks that must
** finish first (taking back the lock Cond.Wait gave up) */
void lugo__park_prepare_nointr(lua_State *L, lugo_G *g, const char *reason);

/* Owner M of g (any thread holding the lock the waiters go under): the
** waiters are about to become visible; from now on the park can be won. */
void lugo__park_publish(lugo_G *g);

/* Owner M of g, after publishing waiters.  Park g: yields to the
** scheduler (continuing in k) or blocks the M and calls k.  [-?, +?, e] */
int lugo__park(lua_State *L, lugo_G *g, lua_KFunction k, lua_KContext ctx);

/* Owner M: a prepared park that completed without parking after all. */
void lugo__park_cancel(lugo_G *g);

/* queue a G made by lugo__spawn */
void lugo__go(lugo_runtime *rt, lugo_G *g);
void lugo__g_free(lugo_G *g);

/* Owner M.  Give up the P for a moment (runtime.Gosched). */
int lugo__gosched(lua_State *L);

/* Create a goroutine running the marshalled start blob. */
lugo_G *lugo__spawn(lugo_runtime *rt, lugo_blob *start, lugo_goid *id);

/* [-0, +0, e] Raise the interrupt error if g was interrupted. */
void lugo__check_interrupt(lua_State *L, lugo_G *g);

/* Report a panic/fatal to the host. */
void lugo__report(lugo_runtime *rt, lugo_report_kind kind, lugo_goid id,
                  const char *msg, const char *tb, const char *dump);

/* runtime.c: a running G answers a dump's request for its stack (from
** the preemption hook, on its own thread) */
void lugo__answerstack(lua_State *L, lugo_G *g);

/* runtime.c: the goroutine dump (lugo_dump, runtime.Stack).  self and
** its running coroutine L are the caller's (NULL from the host); all: the
** other goroutines too.  Returns malloc'd text or NULL. */
char *lugo__dump(lugo_runtime *rt, lugo_G *self, lua_State *L, int all);

/* runtime.LockOSThread / UnlockOSThread (owner M of g; they nest).
** Unlock returns 0 if g was not locked. */
void lugo__lockosthread(lugo_G *g);
int lugo__unlockosthread(lugo_G *g);

/* runtime.GOMAXPROCS(n): any thread; returns the previous value */
int lugo__setprocs(lugo_runtime *rt, int n);

/* the scheduler's part of lugo_new / lugo_close */
int lugo__sched_init(lugo_runtime *rt);
void lugo__sched_stop(lugo_runtime *rt);
void lugo__sched_free(lugo_runtime *rt);

/* sysmon.c */
int lugo__sysmon_start(lugo_runtime *rt);
void lugo__sysmon_stop(lugo_runtime *rt);
void lugo__sysmon_kick(lugo_runtime *rt);
int lugo__signals_install(void);
#define LUGO_SIGPREEMPT SIGURG
void lugo__preempt_hook(lua_State *L, lua_Debug *ar);
/* Owner M: arm the preemption hook on the running coroutine now. */
void lugo__arm_hook(lugo_M *m);

/* checked by an M that goes idle */
void lugo__checkdead(lugo_runtime *rt);

/* sysmon: take p from an M stuck in C code (p->own was OWN(m, P_INLUA));
** returns 1 if it did, and then hands p to another M */
int lugo__retake(lugo_runtime *rt, lugo_M *m, lugo_P *p, uint32_t tick);

/* stdlib/linit.c: goroutine states */
lua_State *lugo__newstate(lugo_runtime *rt, int full);
lua_State *lugo__acquire_state(lugo_runtime *rt);           /* owner M */
void lugo__release_state(lugo_runtime *rt, lua_State *L);   /* owner M */

/* runtime.c: the pool of reset states (any thread) */
#define LUGO_POOLMAX 64
int lugo__pool_room(lugo_runtime *rt);
int lugo__pool_put(lugo_runtime *rt, lua_State *L);
lua_State *lugo__pool_get(lugo_runtime *rt);
void lugo__set_sigco(lua_State *co);

/* runtime.c: keep a C library (dlopen handle) open until lugo_close */
void lugo__keeplib(lugo_runtime *rt, void *handle);

/* cheap per-thread random numbers */
uint32_t lugo__fastrand(void);

#endif
