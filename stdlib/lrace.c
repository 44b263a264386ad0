/*
** lrace.c -- package race: is the detector on, and how many races has it
** reported.  The detector itself is vm/race.c; it is turned on for a
** whole runtime before its first goroutine (lugo -race, LUGO_RACE=1,
** lugo_options.race).
*/
#include <lauxlib.h>

#include "lugolib.h"
#include "race.h"

/* race.Enabled() -> boolean  [-0, +1, -] */
static int l_enabled(lua_State *L) {
  lugo_runtime *rt = lugo_getruntime(L);
  lua_pushboolean(L, rt != NULL && rt->race != NULL);
  return 1;
}

/* race.Errors() -> integer  [-0, +1, -] */
static int l_errors(lua_State *L) {
  lugo_runtime *rt = lugo_getruntime(L);
  lua_pushinteger(L, rt != NULL ? (lua_Integer)lugo__race_errors(rt->race) : 0);
  return 1;
}

void lugo__race_checkroom(lua_State *L, lugo_G *g, const char *fname) {
  lugo_race *r = g->rt->race;
  if (r != NULL && lugo__race_full(r))
    luaL_error(L, "%s: %d goroutines alive at once: the race detector's limit "
               "(each one's clock grows with their number)", fname,
               LUGO_RACE_MAXLIVE);
}

int lugo__open_race(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"Enabled", l_enabled}, {"Errors", l_errors}, {NULL, NULL}
  };
  luaL_newlib(L, funcs);
  return 1;
}
