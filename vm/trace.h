/*
** trace.h -- the execution tracer (lugo -trace FILE).  The public side is
** lugo_trace_start / lugo_trace_stop in lugo.h; see trace.c.
*/
#ifndef lugo_trace_h
#define lugo_trace_h

struct lugo_runtime;  /* defined in scheduler.h */

/* the memory bound: events kept per trace, past which they are dropped
** (and counted); 32 bytes each */
#define LUGO_TRACE_MAXEVENTS (4L << 20)

/* lugo_trace_start with a bound of maxevents (tests use a small one) */
int lugo__trace_start(struct lugo_runtime *rt, const char *path,
                      long maxevents);

/* os.exit: if tracing, write the file now; a failure is printed on
** stderr (the process is about to end).  Any thread. */
void lugo__trace_exit(struct lugo_runtime *rt);

/* lugo_close, once every runtime thread has ended: free the tracer. */
void lugo__trace_free(struct lugo_runtime *rt);

#endif
