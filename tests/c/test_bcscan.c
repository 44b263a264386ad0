/* test_bcscan.c -- the bytecode reader and its data-flow pass. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "bcscan.h"
#include "cutil.h"

typedef struct evs {
  char text[4096];  /* "R:name@line W:name U:2 T:1 ..." */
} evs;

static int collect(void *ud, const lugo_scanev *ev) {
  evs *e = (evs *)ud;
  char one[200];
  const char *tag = ev->what == LUGO_SCAN_GREAD ? "R" :
                    ev->what == LUGO_SCAN_GWRITE ? "W" :
                    ev->what == LUGO_SCAN_UPWRITE ? "U" : "T";
  if (ev->what == LUGO_SCAN_GREAD || ev->what == LUGO_SCAN_GWRITE)
    snprintf(one, sizeof(one), "%s:%.*s@%d ", tag, (int)ev->len, ev->name, ev->line);
  else
    snprintf(one, sizeof(one), "%s:%d@%d ", tag, ev->up, ev->line);
  strncat(e->text, one, sizeof(e->text) - strlen(e->text) - 1);
  return 0;
}

typedef struct cbuf { char *p; size_t n; } cbuf;

static int writer(lua_State *L, const void *p, size_t sz, void *ud) {
  cbuf *b = (cbuf *)ud;
  (void)L;
  b->p = (char *)realloc(b->p, b->n + sz);
  memcpy(b->p + b->n, p, sz);
  b->n += sz;
  return 0;
}

/* compile code (a chunk returning a function), dump that function, scan it
** with the given upvalue kinds; returns the events as text */
static const char *scanof(const char *code, const char *kinds, int strip) {
  static evs e;
  lua_State *L = luaL_newstate();
  cbuf b = {NULL, 0};
  int r;
  luaL_openlibs(L);
  memset(&e, 0, sizeof(e));
  if (luaL_loadbuffer(L, code, strlen(code), "=t") != LUA_OK) {
    fprintf(stderr, "\n  %s\n", lua_tostring(L, -1));
    lua_close(L);
    return "compile error";
  }
  lua_call(L, 0, 1);
  lua_dump(L, writer, &b, strip);
  r = lugo__bcscan(b.p, b.n, kinds, (int)strlen(kinds), collect, &e);
  free(b.p);
  lua_close(L);
  if (r != 0) return "unreadable";
  return e.text;
}

#define EXPECT(got, want)                                                     \
  do {                                                                        \
    const char *g_ = (got);                                                   \
    if (strcmp(g_, (want)) != 0)                                              \
      fprintf(stderr, "\n  %s:%d: got '%s'\n  want '%s'\n", __FILE__, __LINE__, \
              g_, (want));                                                    \
    CU_ASSERT_STRING_EQUAL(g_, (want));                                       \
  } while (0)

static void test_reads_and_writes(void) {
  /* the function's only upvalue is _ENV ('e') */
  EXPECT(scanof("return function()\n local a = x\n y = a\n return z.w\nend", "e", 0),
         "R:x@2 W:y@3 R:z@4 ");
}

static void test_nested(void) {
  EXPECT(scanof("return function()\n return function()\n  return function() q = r end\n end\nend",
                "e", 0),
         "R:r@3 W:q@3 ");
}

static void test_long_names_and_many_constants(void) {
  /* > 255 constants push the name's constant index past GETTABUP's reach;
  ** a name > 40 characters is a long string: both go through GETUPVAL
  ** _ENV + GETTABLE/SETTABLE */
  char code[8192] = "return function()\n local t = {";
  int i;
  for (i = 1; i <= 300; i++) {
    char k[16];
    snprintf(k, sizeof(k), "%d.5,", i);
    strcat(code, k);
  }
  strcat(code, "}\n return a_very_long_global_name_that_is_more_than_forty_characters + "
               "short\nend");
  EXPECT(scanof(code, "e", 0),
         "R:a_very_long_global_name_that_is_more_than_forty_characters@3 R:short@3 ");
  EXPECT(scanof("return function()\n a_very_long_global_name_that_is_more_than_forty_characters_too = 1\nend",
                "e", 0),
         "W:a_very_long_global_name_that_is_more_than_forty_characters_too@2 ");
}

static void test_upvalues(void) {
  /* upvalue 1 is a plain table, 2 a number, 3 _ENV (order of first use) */
  EXPECT(scanof("local t, n = {}, 0\n"
                "return function(i)\n"
                " t[i] = 1\n"            /* SETTABLE on t */
                " t.x = 2\n"             /* SETFIELD (or SETTABUP) on t */
                " t[1] = 3\n"            /* SETI on t */
                " n = n + 1\n"           /* SETUPVAL n */
                " local function f() n = 0 end\n"  /* nested writes n */
                " local m = 0\n"
                " local function g() m = 1 end\n"  /* its own parent's local: fine */
                " print(t)\n"
                "end", "t-e", 0),
         "T:1@3 T:1@4 T:1@5 U:2@6 R:print@10 U:2@7 ");
}

static void test_stripped(void) {
  EXPECT(scanof("return function() x = y end", "e", 1), "R:y@-1 W:x@-1 ");
}

static void test_branches(void) {
  /* a register known to hold _ENV on one path only is not trusted after
  ** the paths join */
  EXPECT(scanof("return function(c)\n if c then print(1) else print(2) end\n return g\nend",
                "e", 0),
         "R:print@2 R:print@2 R:g@3 ");
}

static void test_unreadable(void) {
  evs e;
  memset(&e, 0, sizeof(e));
  CHECK_EQ(lugo__bcscan("not a chunk at all, not at all, no", 34, "", 0, collect, &e), -1);
  CHECK_EQ(lugo__bcscan("\x1bLua\x54", 5, "", 0, collect, &e), -1);
}

int main(void) {
  static const cutest tests[] = {
    {"reads and writes", test_reads_and_writes}, {"nested", test_nested},
    {"long names, many constants", test_long_names_and_many_constants},
    {"upvalues", test_upvalues}, {"stripped", test_stripped},
    {"branches", test_branches}, {"unreadable", test_unreadable},
    {NULL, NULL}
  };
  return cutil_run("bcscan", tests);
}
