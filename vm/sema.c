/*
** sema.c -- thread semaphores on a mutex and a monotonic condvar.
** Any thread may call in.  Spurious condvar wake-ups are harmless: the
** count, not the wake-up, says whether a post happened.
*/
#include "sema.h"

#include <errno.h>

void lugo__sema_init(lugo_sema *s) {
  pthread_condattr_t a;
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&s->cv, &a);
  pthread_condattr_destroy(&a);
  s->count = 0;
}

void lugo__sema_destroy(lugo_sema *s) {
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
}

void lugo__sema_post(lugo_sema *s) {
  pthread_mutex_lock(&s->mu);
  s->count++;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

void lugo__sema_wait(lugo_sema *s) {
  pthread_mutex_lock(&s->mu);
  while (s->count == 0) pthread_cond_wait(&s->cv, &s->mu);
  s->count--;
  pthread_mutex_unlock(&s->mu);
}

int lugo__sema_timedwait(lugo_sema *s, long long deadline) {
  struct timespec ts;
  int got = 0;
  ts.tv_sec = deadline / 1000000000LL;
  ts.tv_nsec = deadline % 1000000000LL;
  pthread_mutex_lock(&s->mu);
  while (s->count == 0) {
    if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) break;
  }
  if (s->count > 0) { s->count--; got = 1; }
  pthread_mutex_unlock(&s->mu);
  return got;
}

long long lugo__nanotime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
