/* cutil.h -- helpers shared by the CUnit suites. */
#ifndef lugo_cutil_h
#define lugo_cutil_h

#include <CUnit/Basic.h>
#include <stdio.h>

/* assert a == b, printing both values on failure */
#define CHECK_EQ(a, b)                                                        \
  do {                                                                        \
    long long a_ = (long long)(a), b_ = (long long)(b);                       \
    if (a_ != b_) fprintf(stderr, "\n  %s:%d: %s == %lld, expected %lld\n",   \
                          __FILE__, __LINE__, #a, a_, b_);                    \
    CU_ASSERT_EQUAL(a_, b_);                                                  \
  } while (0)

typedef struct { const char *name; void (*fn)(void); } cutest;

/* run one suite; returns the process exit status */
int cutil_run(const char *suite, const cutest *tests);

/* Run code as a goroutine of rt and wait for it; returns lugo_wait's
** result (-1 if code does not compile).  Its error message goes to *msg
** (caller frees) or, when msg is NULL, to stderr. */
struct lugo_runtime;
int cutil_runlua(struct lugo_runtime *rt, const char *code, char **msg);

#endif
