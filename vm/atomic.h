/*
** atomic.h -- the one place lugo touches C11 atomics.
**
** Every shared field that is read without its lock goes through these
** helpers, so the memory order used is visible at each call site by name:
** plain names are seq_cst (the default; the scheduler spinning/idle
** protocol relies on it, see sched.c), the _relaxed, _acq and _rel variants say why
** at the call site.  Any thread may call any of these.
*/
#ifndef lugo_atomic_h
#define lugo_atomic_h

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic int        lugo_aint;
typedef _Atomic uint32_t   lugo_au32;
typedef _Atomic int64_t    lugo_ai64;
typedef _Atomic uint64_t   lugo_au64;
typedef void *_Atomic      lugo_aptr;

#define lugo_load(p)              atomic_load(p)
#define lugo_store(p, v)          atomic_store((p), (v))
#define lugo_load_relaxed(p)      atomic_load_explicit((p), memory_order_relaxed)
#define lugo_store_relaxed(p, v)  atomic_store_explicit((p), (v), memory_order_relaxed)
#define lugo_load_acq(p)          atomic_load_explicit((p), memory_order_acquire)
#define lugo_store_rel(p, v)      atomic_store_explicit((p), (v), memory_order_release)
#define lugo_xadd(p, d)           atomic_fetch_add((p), (d))
#define lugo_xchg(p, v)           atomic_exchange((p), (v))

/* compare-and-swap; returns non-zero on success */
#define lugo_cas(p, old, new_) \
  atomic_compare_exchange_strong((p), &(__typeof__(*(p) + 0)){(old)}, (new_))

/* pointer CAS (the generic above cannot take the address of a pointer rvalue
** through __typeof__ on an _Atomic pointer cleanly) */
static inline int lugo_casp(lugo_aptr *p, void *old, void *new_) {
  return atomic_compare_exchange_strong(p, &old, new_);
}

/* CAS on an atomic of any type (e.g. a function pointer, which the
** generic above cannot take); the expected value is in *oldp, which a
** failure overwrites with the current one */
#define lugo_casx(p, oldp, new_) atomic_compare_exchange_strong((p), (oldp), (new_))

static inline void lugo_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif
