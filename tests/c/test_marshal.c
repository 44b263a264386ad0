/* test_marshal.c -- copying values between two states. */
#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

#include "cutil.h"
#include "marshal.h"
#include "scheduler.h"
#include <stdlib.h>

/* a state with a stand-in goroutine (marshal keeps its buffers there) */
static lua_State *newL(void) {
  lua_State *L = luaL_newstate();
  lugo_G *g = (lugo_G *)calloc(1, sizeof(lugo_G));
  lugo__G(L) = g;
  static const char *const std[] = {"string", "table", "math", "os", "io",
                                    "coroutine", "utf8", "debug", "package", NULL};
  int i;
  luaL_openlibs(L);
  for (i = 0; std[i]; i++) lugo__marshal_addstd(L, std[i]);
  return L;
}

static void closeL(lua_State *L) {
  lugo_G *g = lugo__G(L);
  lua_close(L);
  lugo__marshal_gfree(g);
  free(g);
}

/* run code in A producing a value, copy it to B, run check in B on it */
static int roundtrip(const char *make, const char *check) {
  lua_State *A = newL(), *B = newL();
  lugo_value v;
  int ok;
  luaL_dostring(A, make);
  lugo__value_from(A, -1, &v, "test");
  luaL_loadstring(B, check);
  lugo__value_push(B, &v);
  ok = lua_pcall(B, 1, 1, 0) == LUA_OK && lua_toboolean(B, -1);
  if (!ok) fprintf(stderr, "\n  check failed: %s\n", lua_tostring(B, -1));
  closeL(A);
  closeL(B);
  return ok;
}

static void test_scalars(void) {
  CU_ASSERT(roundtrip("return 3", "local v = ... return math.type(v) == 'integer' and v == 3"));
  CU_ASSERT(roundtrip("return 3.0", "local v = ... return math.type(v) == 'float' and v == 3"));
  CU_ASSERT(roundtrip("return ('x'):rep(1000)", "local v = ... return #v == 1000"));
  CU_ASSERT(roundtrip("return 'short'", "return ... == 'short'"));
}

static void test_tables(void) {
  CU_ASSERT(roundtrip("local t = {1, 2, x = {y = 'z'}} t.self = t t.again = t.x return t",
                      "local t = ... return t.self == t and t.again == t.x and t.x.y == 'z' and #t == 2"));
  CU_ASSERT(roundtrip("return setmetatable({}, {__index = function() return 42 end})",
                      "local t = ... return t.anything == 42"));
  CU_ASSERT(roundtrip("return {[{}] = 1, [true] = 2}",
                      "local t = ... local n = 0 for k in pairs(t) do n = n + 1 end return n == 2 and t[true] == 2"));
}

static void test_functions(void) {
  /* shared upvalues stay shared; recursion through an upvalue works */
  CU_ASSERT(roundtrip("local n = 0\n"
                      "local function inc() n = n + 1 return n end\n"
                      "local function get() return n end\n"
                      "local function fact(k) return k <= 1 and 1 or k * fact(k - 1) end\n"
                      "return {inc = inc, get = get, fact = fact}",
                      "local t = ... t.inc() t.inc() return t.get() == 2 and t.fact(5) == 120"));
  /* _ENV is the receiver's globals */
  CU_ASSERT(roundtrip("return function() return string.rep('a', 2) end",
                      "local f = ... return f() == 'aa'"));
  /* standard library tables are the receiver's own */
  CU_ASSERT(roundtrip("return {s = string}", "local t = ... return t.s == string"));
}

static int from(lua_State *L) {
  lugo_value v;
  lugo__value_from(L, 1, &v, "send");
  lugo__value_free(&v);
  return 0;
}

static void test_errors(void) {
  lua_State *A = newL();
  const char *msg;
  luaL_dostring(A, "local co = coroutine.create(print)\n"
                   "local f = function() return co end\n"
                   "return {h = f}");
  lua_pushcfunction(A, from);
  lua_insert(A, -2);
  CHECK_EQ(lua_pcall(A, 1, 0, 0), LUA_ERRRUN);
  msg = lua_tostring(A, -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(msg, "send: cannot copy coroutine to another goroutine (at field 'h' upvalue 'co')"));
  closeL(A);
}

int main(void) {
  static const cutest tests[] = {
    {"scalars", test_scalars}, {"tables", test_tables},
    {"functions", test_functions}, {"errors", test_errors}, {NULL, NULL}
  };
  return cutil_run("marshal", tests);
}
