/*
** sysmon.c -- the system monitor thread and preemption.
**
** sysmon never touches a lua_State.  Every few milliseconds it fires due
** timers and looks for an M that has run the same goroutine for more than
** 10 ms: it sets m->preempt and sends that M's thread LUGO_SIGPREEMPT.  The
** handler runs on the M's own thread -- the one place Lua allows another
** context to call lua_sethook (lua.c does it from SIGINT) -- and arms a
** one-shot count hook on the innermost running coroutine (m->sigco, kept
** by lugo's coroutine library).  The hook restores the hook the coroutine
** had and yields to the scheduler if the whole chain of coroutines is
** yieldable; if not it does nothing and sysmon asks again later.  So no
** hook exists until a preemption is due, and code runs at stock speed.
**
** If the G has not yielded 20 ms after it was asked, it is in C code (or
** in Lua that cannot yield): sysmon takes its P (a CAS on p->own, which
** only succeeds while the M is inside Lua, see scheduler.h) and hands it to
** another M, so the other goroutines keep running.  The stuck M finishes
** its G's switch without a P and then waits for one.  (A goroutine blocked
** in a runtime operation inside non-yieldable code hands its P off by
** itself, see blockm in sched.c.)
*/
#include <errno.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler.h"
#include "timer.h"

#define TICK_NS   (5 * 1000000LL)
#define SLICE_NS  (10 * 1000000LL)
#define STUCK_NS  (20 * 1000000LL)

static struct sigaction oldsa;
static lugo_aint installed;

/* ---------------------------------------------------------------------
** the signal handler and the hook (the M's own thread)
** ------------------------------------------------------------------- */

void lugo__set_sigco(lua_State *co) {
  lugo_M *m = lugo__getm();
  if (m == NULL) return;
  lugo_store(&m->sigco, NULL);
  atomic_signal_fence(memory_order_seq_cst);
  if (m->hookco != NULL && m->hookco != co) {
    /* the armed coroutine stops running here: give its hook back */
    if (lua_gethook(m->hookco) == lugo__preempt_hook)
      lua_sethook(m->hookco, m->uhook, m->umask, m->ucount);
    m->hookco = NULL;
  }
  atomic_signal_fence(memory_order_seq_cst);
  lugo_store(&m->sigco, co);
}

void lugo__preempt_hook(lua_State *L, lua_Debug *ar) {
  lugo_M *m = lugo__getm();
  lugo_G *g = lugo__G(L);
  (void)ar;
  if (m == NULL) {
    lua_sethook(L, NULL, 0, 0);
    return;
  }
  lugo_store(&m->sigco, NULL);
  atomic_signal_fence(memory_order_seq_cst);
  lua_sethook(L, m->uhook, m->umask, m->ucount);
  m->hookco = NULL;
  atomic_signal_fence(memory_order_seq_cst);
  lugo_store(&m->sigco, L);
  if (g != NULL && lugo_load(&g->stackwant)) lugo__answerstack(L, g);
  if (g != NULL && lugo_load(&g->intrrun) != NULL) {  /* lugo_interrupt */
    char *msg = (char *)lugo_xchg(&g->intrrun, NULL);
    if (msg != NULL) {
      luaL_where(L, 0);
      lua_pushstring(L, msg);
      free(msg);
      lua_concat(L, 2);
      lua_error(L);
    }
  }
  if (g != NULL && lugo_load(&m->preempt) && g->chainok && lua_isyieldable(L)) {
    lugo_store(&m->preempt, 0);
    g->yieldreason = Y_PREEMPT;
    lua_yield(L, 0);
  }
}

void lugo__arm_hook(lugo_M *m) {
  lua_State *co = lugo_load(&m->sigco);
  if (co != NULL && m->hookco == NULL && lua_gethook(co) != lugo__preempt_hook) {
    m->uhook = lua_gethook(co);
    m->umask = lua_gethookmask(co);
    m->ucount = lua_gethookcount(co);
    m->hookco = co;
    lua_sethook(co, lugo__preempt_hook, LUA_MASKCOUNT, 1);
  }
}

static void onsignal(int sig, siginfo_t *info, void *uc) {
  lugo_M *m = lugo__getm();
  int saved = errno;
  if (m != NULL && lugo_load(&m->preempt)) {
    lugo__arm_hook(m);
    errno = saved;
    return;
  }
  errno = saved;
  /* not ours: chain whatever was installed before */
  if (oldsa.sa_flags & SA_SIGINFO) {
    if (oldsa.sa_sigaction) oldsa.sa_sigaction(sig, info, uc);
  } else if (oldsa.sa_handler != SIG_DFL && oldsa.sa_handler != SIG_IGN) {
    oldsa.sa_handler(sig);
  }
}

int lugo__signals_install(void) {
  struct sigaction sa;
  if (!lugo_cas(&installed, 0, 1)) return 0;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = onsignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  return sigaction(LUGO_SIGPREEMPT, &sa, &oldsa);
}

/* ---------------------------------------------------------------------
** the sysmon thread
** ------------------------------------------------------------------- */

/* Preempt Gs that ran a whole slice; take the P of an M whose G did not
** answer within STUCK_NS (it is in C code, or in Lua that cannot yield). */
static void retake(lugo_runtime *rt, int64_t now) {
  lugo_M *m, *stuck[16];
  lugo_P *stuckp[16];
  uint32_t stuckt[16];
  int nstuck = 0, i;
  pthread_mutex_lock(&rt->lock);
  for (m = rt->allm; m != NULL; m = m->alllink) {
    uint32_t t = lugo_load_relaxed(&m->tick);
    int64_t slice = lugo_load_relaxed(&m->slicestart);
    if (lugo_load_relaxed(&m->curgid) == 0) {
      m->sysmontick = t;
      m->sysmonwhen = now;
      m->preemptwhen = 0;
      continue;
    }
    if (t != m->sysmontick) {  /* it switched goroutines: not stuck */
      m->sysmontick = t;
      m->sysmonwhen = now;
    }
    if (now - slice > SLICE_NS) {
      if (m->preemptwhen == 0 || m->preemptwhen < slice) {  /* first ask */
        m->preemptwhen = m->lastsignal = now;
        lugo_store(&m->preempt, 1);
        pthread_kill(m->thread, LUGO_SIGPREEMPT);
      } else if (now - m->lastsignal > SLICE_NS) {  /* ask again */
        m->lastsignal = now;
        lugo_store(&m->preempt, 1);
        pthread_kill(m->thread, LUGO_SIGPREEMPT);
      }
    }
    /* the same goroutine, asked to yield STUCK_NS ago, has not */
    if (now - m->sysmonwhen > SLICE_NS + STUCK_NS && m->preemptwhen != 0 &&
        now - m->preemptwhen > STUCK_NS && nstuck < 16) {
      lugo_P *p = (lugo_P *)lugo_load(&m->curp);
      if (p != NULL) {
        stuck[nstuck] = m;
        stuckt[nstuck] = t;
        stuckp[nstuck++] = p;
      }
    }
  }
  pthread_mutex_unlock(&rt->lock);
  for (i = 0; i < nstuck; i++) lugo__retake(rt, stuck[i], stuckp[i], stuckt[i]);
}

static void *sysmon(void *arg) {
  lugo_runtime *rt = (lugo_runtime *)arg;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, LUGO_SIGPREEMPT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  while (!lugo_load(&rt->sysmonquit)) {
    int64_t now = lugo__nanotime();
    int stopping = lugo_load(&rt->stop);
    /* no timers once the runtime stops: they would start Ms */
    int64_t next = stopping ? -1 : lugo__timers_run(rt->timers, now);
    int64_t until = now + TICK_NS;
    retake(rt, now);
    /* a fired timer may have left nobody to wake: look again */
    if (!stopping) lugo__checkdead(rt);
    if (next >= 0 && next < until) until = next;
    lugo__sema_timedwait(&rt->sysmonwake, until);
  }
  return NULL;
}

int lugo__sysmon_start(lugo_runtime *rt) {
  lugo__sema_init(&rt->sysmonwake);
  if (pthread_create(&rt->sysmon, NULL, sysmon, rt) != 0) return LUGO_ENOMEM;
  rt->sysmonstarted = 1;
  return LUGO_OK;
}

void lugo__sysmon_kick(lugo_runtime *rt) {
  if (rt->sysmonstarted) lugo__sema_post(&rt->sysmonwake);
}

void lugo__sysmon_stop(lugo_runtime *rt) {
  if (!rt->sysmonstarted) return;
  lugo_store(&rt->sysmonquit, 1);
  lugo__sema_post(&rt->sysmonwake);
  pthread_join(rt->sysmon, NULL);
  lugo__sema_destroy(&rt->sysmonwake);
  rt->sysmonstarted = 0;
}
