#include "cutil.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "lugo.h"

int cutil_run(const char *suite, const cutest *tests) {
  CU_pSuite s;
  int i, failed;
  if (CU_initialize_registry() != CUE_SUCCESS) return 1;
  s = CU_add_suite(suite, NULL, NULL);
  for (i = 0; tests[i].name; i++) CU_add_test(s, tests[i].name, tests[i].fn);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  failed = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}

int cutil_runlua(lugo_runtime *rt, const char *code, char **msg) {
  lua_State *L = lugo_newstate(rt);
  lugo_goid id;
  char *m = NULL;
  int r;
  if (luaL_loadstring(L, code) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_close(L);
    return -1;
  }
  CHECK_EQ(lugo_spawn(rt, L, 0, &id), LUGO_OK);
  r = lugo_wait(rt, id, msg ? msg : &m);
  if (m) fprintf(stderr, "\n  %s\n", m);
  free(m);
  return r;
}
