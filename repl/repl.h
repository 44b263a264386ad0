/*
** repl.h -- the lugo command's REPL (repl.c): the terminal side runs on the
** main thread, the Lua side (repl.lua) as the last step of goroutine 1.
*/
#ifndef lugo_repl_h
#define lugo_repl_h

#include <lua.h>

#include "lugo.h"

/* Take over the terminal and the standard outputs (they become pipes the
** REPL copies to the terminal, redrawing the line being typed around
** them).  Call before goroutines start.  0 on success; -1 (errno set)
** otherwise. */
int repl_open(const char *progname);

/* Push the function goroutine 1 calls, as its last step, to run the REPL
** (it returns when input ends).  Raises on a broken build only. */
void repl_pushdriver(lua_State *L);

/* The terminal loop, on the main thread, until goroutine id (the one
** running the driver) ends.  Returns lugo_wait's result; the error
** message, if any, goes to *msg (free it). */
int repl_run(lugo_runtime *rt, lugo_goid id, char **msg);

/* Nonzero between repl_open and repl_close. */
int repl_active(void);

/* Before the process ends, from any thread: copy what is left in the
** output pipes to the terminal and give the terminal back.  Idempotent. */
void repl_close(void);

#endif
