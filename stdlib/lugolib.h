/*
** lugolib.h -- the Lua-facing modules of lugo (thin bindings over vm/).
*/
#ifndef lugo_lugolib_h
#define lugo_lugolib_h

#include <lua.h>

/* each pushes its module table (or registers globals) [-0, +1, m] */
int lugo__open_go(lua_State *L);       /* go(), runtime */
int lugo__open_chan(lua_State *L);     /* chan(), channel methods */
int lugo__open_select(lua_State *L);   /* select{} */
int lugo__open_time(lua_State *L);     /* time */
int lugo__open_runtime(lua_State *L);  /* runtime */
int lugo__open_race(lua_State *L);     /* race (lrace.c) */
int lugo__open_sync(lua_State *L);     /* sync */
int lugo__open_atomic(lua_State *L);   /* atomic */
int lugo__syncmap_new(lua_State *L);   /* sync.Map() (lshared.c) */
int lugo__open_shared(lua_State *L);   /* shared */
int lugo__open_context(lua_State *L);  /* context */

void lugo__open_coroutine(lua_State *L);  /* vm/coro.c */

/* [-0, +1, e] push the current goroutine (raises outside lugo) */
struct lugo_G *lugo__checkG(lua_State *L);

/* [-0, +0, e] under -race, raise in fname if the detector's limit of
** goroutines alive at once is reached (lrace.c) */
void lugo__race_checkroom(lua_State *L, struct lugo_G *g, const char *fname);

#endif
