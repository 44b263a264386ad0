/* test_alloc.c -- the per-state arena allocator (vm/alloc.c). */
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cutil.h"
#include "lugo.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifdef ASAN
#include <sanitizer/asan_interface.h>
#endif

#define MAXB LUGO_ARENA_MAXBLOCK

static void *A(lugo_arena *a, size_t n) { return lugo__alloc_fn(a, NULL, 0, n); }
static void F(lugo_arena *a, void *p, size_t n) { lugo__alloc_fn(a, p, n, 0); }
static void *R(lugo_arena *a, void *p, size_t o, size_t n) {
  return lugo__alloc_fn(a, p, o, n);
}

static void fill(void *p, size_t n, int seed) {
  size_t i;
  for (i = 0; i < n; i++) ((unsigned char *)p)[i] = (unsigned char)(seed + i * 7);
}

/* 1 if p holds what fill(p, n, seed) wrote */
static int holds(const void *p, size_t n, int seed) {
  size_t i;
  for (i = 0; i < n; i++)
    if (((const unsigned char *)p)[i] != (unsigned char)(seed + i * 7)) return 0;
  return 1;
}

/* every size up to the largest class comes from the chunk, aligned and
** apart; freed, the same sizes come back without growing the chunk */
static void test_classes(void) {
  lugo_arena *a = lugo__alloc_new(64 * 1024);
  static void *p[MAXB + 1];
  size_t n, used;
  for (n = 1; n <= MAXB; n += 13) {
    p[n] = A(a, n);
    CU_ASSERT_FATAL(p[n] != NULL);
    CU_ASSERT(lugo__alloc_inarena(a, p[n]));
    CHECK_EQ((uintptr_t)p[n] % 16, 0);
    fill(p[n], n, (int)n);
  }
  for (n = 1; n <= MAXB; n += 13) CU_ASSERT(holds(p[n], n, (int)n));
  used = lugo__alloc_used(a);
  for (n = 1; n <= MAXB; n += 13) F(a, p[n], n);
  for (n = 1; n <= MAXB; n += 13) {
    void *q = A(a, n);
    CU_ASSERT(lugo__alloc_inarena(a, q));
    fill(q, n, 1);
  }
  CHECK_EQ(lugo__alloc_used(a), used);
  lugo__alloc_free(a);
}

/* a freed block serves its class again (last freed first), not others;
** freeing the last block handed out gives its room back */
static void test_reuse(void) {
  lugo_arena *a = lugo__alloc_new(4096);
  char *x = A(a, 40), *y = A(a, 40), *z = A(a, 100), *w;
  size_t used;
  CHECK_EQ(y - x, 48);
  F(a, x, 40);
  w = A(a, 20);  /* another class: not x */
  CU_ASSERT(w != x);
  CU_ASSERT(lugo__alloc_inarena(a, w));
  CU_ASSERT(A(a, 33) == x);  /* 33..48 share a class */
  used = lugo__alloc_used(a);
  F(a, w, 20);  /* the last one handed out */
  CHECK_EQ(lugo__alloc_used(a), used - 32);
  CU_ASSERT(A(a, 17) == w);
  F(a, y, 40);
  F(a, x, 40);
  CU_ASSERT(A(a, 48) == x);
  CU_ASSERT(A(a, 41) == y);
  F(a, z, 100);
  lugo__alloc_free(a);
}

/* realloc: same class keeps the block, a shrink stays in place and frees
** its tail, the last block grows in place, others move with their bytes */
static void test_realloc(void) {
  lugo_arena *a = lugo__alloc_new(4096);
  char *p = A(a, 100), *q, *r, *t;
  fill(p, 100, 3);
  CU_ASSERT(R(a, p, 100, 112) == p);
  CU_ASSERT(R(a, p, 112, 97) == p);
  CU_ASSERT(holds(p, 97, 3));
  /* the last block grows in place */
  q = R(a, p, 97, 300);
  CU_ASSERT(q == p);
  CU_ASSERT(holds(q, 97, 3));
  fill(q, 300, 4);
  /* shrinking 304 -> 64: the tail (240) serves that class next */
  t = A(a, 10);  /* so that q is not the last block */
  CU_ASSERT(R(a, q, 300, 64) == q);
  CU_ASSERT(holds(q, 64, 4));
  r = A(a, 240);
  CU_ASSERT(r == q + 64);
  /* growing a block that is not the last moves it; its room is reused */
  fill(q, 64, 5);
  p = R(a, q, 64, 200);
  CU_ASSERT(p != q);
  CU_ASSERT(lugo__alloc_inarena(a, p));
  CU_ASSERT(holds(p, 64, 5));
  CU_ASSERT(A(a, 50) == q);
  F(a, p, 200);
  F(a, r, 240);
  F(a, t, 10);
  F(a, q, 50);
  lugo__alloc_free(a);
}

/* blocks cross between the chunk and malloc by size, keeping their bytes */
static void test_crossing(void) {
  lugo_arena *a = lugo__alloc_new(4096);
  char *p = A(a, 200), *q, *big;
  fill(p, 200, 6);
  q = R(a, p, 200, MAXB + 1);  /* too big for a class: to malloc */
  CU_ASSERT_FATAL(q != NULL);
  CU_ASSERT(!lugo__alloc_inarena(a, q));
  CU_ASSERT(holds(q, 200, 6));
  fill(q, MAXB + 1, 7);
  q = R(a, q, MAXB + 1, 5000);  /* malloc to malloc */
  CU_ASSERT(!lugo__alloc_inarena(a, q));
  CU_ASSERT(holds(q, MAXB + 1, 7));
  p = R(a, q, 5000, 150);  /* small again: back into the chunk */
  CU_ASSERT(lugo__alloc_inarena(a, p));
  CU_ASSERT(holds(p, 150, 7));
  big = A(a, MAXB + 16);
  CU_ASSERT(!lugo__alloc_inarena(a, big));
  F(a, big, MAXB + 16);
  F(a, p, 150);
  lugo__alloc_free(a);
}

/* when the chunk is used up blocks come from malloc; a block freed in the
** chunk is handed out again */
static void test_exhaustion(void) {
  enum { N = 200 };
  lugo_arena *a = lugo__alloc_new(2048);
  char *p[N];
  int i, in = 0, firstout = -1;
  for (i = 0; i < N; i++) {
    p[i] = A(a, 64);
    CU_ASSERT_FATAL(p[i] != NULL);
    fill(p[i], 64, i);
    if (lugo__alloc_inarena(a, p[i])) {
      in++;
      CU_ASSERT(firstout < 0);  /* never in again once out */
    } else if (firstout < 0) {
      firstout = i;
    }
  }
  CU_ASSERT(in > 20 && in < 32);  /* 2048 bytes less the header, by 64 */
  CU_ASSERT(lugo__alloc_used(a) <= 2048);
  for (i = 0; i < N; i++) CU_ASSERT(holds(p[i], 64, i));
  F(a, p[5], 64);
  CU_ASSERT(A(a, 64) == p[5]);
  {
    char *q = A(a, 64);  /* none left */
    CU_ASSERT(!lugo__alloc_inarena(a, q));
    F(a, q, 64);
  }
  /* a grown block that cannot get room in the chunk moves to malloc */
  {
    char *q = R(a, p[3], 64, 128);
    CU_ASSERT(!lugo__alloc_inarena(a, q));
    CU_ASSERT(holds(q, 64, 3));
    CU_ASSERT(A(a, 60) == p[3]);  /* its old room */
    p[3] = q;
  }
  lugo__alloc_free(a);
  for (i = firstout; i < N; i++) free(p[i]);
  free(p[3]);
}

#ifdef ASAN
/* the chunk's free and unused parts are poisoned, blocks to their size */
static void test_poison(void) {
  lugo_arena *a = lugo__alloc_new(4096);
  char *p = A(a, 20), *q = A(a, 40);
  CU_ASSERT(!__asan_address_is_poisoned(p + 19));
  CU_ASSERT(__asan_address_is_poisoned(p + 20));
  CU_ASSERT(__asan_address_is_poisoned(q + 40));
  CU_ASSERT(__asan_address_is_poisoned(q + 100));  /* never handed out */
  F(a, p, 20);
  CU_ASSERT(__asan_address_is_poisoned(p));
  q = R(a, q, 40, 30);
  CU_ASSERT(__asan_address_is_poisoned(q + 30));
  F(a, q, 30);
  lugo__alloc_free(a);
}
#endif

/* Lua on arenas from too small to roomy: a collector-heavy script gives
** the same answer, and the state frees its arena on lua_close (the
** sanitizer build checks for leaks) */
static const char *script =
  "local t, s = {}, 0\n"
  "for i = 1, 20000 do\n"
  "  t[i % 500 + 1] = {i, tostring(i), {x = i}, function() return i end}\n"
  "  if i % 7 == 0 then t[i % 300 + 1] = string.rep('ab', i % 300) end\n"
  "end\n"
  "for k = 1, 500 do local v = t[k]\n"
  "  if type(v) == 'table' then s = s + v[1] + #v[2] + v[3].x + v[4]()\n"
  "  else s = s + #v end\n"
  "end\n"
  "local co = coroutine.wrap(function(n) for i = 1, n do coroutine.yield(i) end end)\n"
  "for _ = 1, 100 do s = s + co(100) end\n"
  "local parts = {}\n"
  "for i = 1, 3000 do parts[#parts + 1] = ('%d:%s'):format(i, ('x'):rep(i % 40)) end\n"
  "s = s + #table.concat(parts, ',')\n"
  "collectgarbage() collectgarbage('step', 0)\n"
  "return s\n";

static lua_Integer runscript(size_t size, size_t *used) {
  lua_State *L = lugo__alloc_newstate(size);
  lua_Integer r;
  void *ud;
  CU_ASSERT_FATAL(L != NULL);
  lua_getallocf(L, &ud);
  luaL_openlibs(L);
  if (luaL_dostring(L, script) != LUA_OK) {
    fprintf(stderr, "\n  script: %s\n", lua_tostring(L, -1));
    CU_FAIL("script failed");
  }
  r = lua_tointeger(L, -1);
  *used = lugo__alloc_used((lugo_arena *)ud);
  CU_ASSERT(*used <= size);
  lua_close(L);
  return r;
}

static void test_luastate(void) {
  size_t used;
  lua_Integer want = runscript(1024 * 1024 - 16, &used), r;
  CU_ASSERT(used > 16 * 1024);  /* the chunk served most of it */
  r = runscript(2048, &used);  /* room for little but the main block */
  CHECK_EQ(r, want);
  r = runscript(LUGO_ARENA_SIZE, &used);
  CHECK_EQ(r, want);
  CU_ASSERT(used > LUGO_ARENA_SIZE / 2);
  CU_ASSERT(lugo__alloc_newstate(8) == NULL);  /* out of range */
  CU_ASSERT(lugo__alloc_newstate(512) == NULL);  /* no room for the main block */
}

/* goroutine and host states keep luaL_newstate's behaviour: warnings are
** off until "@on", and a message may come in parts */
static void test_warnings(void) {
  lugo_runtime *rt = lugo_new(NULL);
  lua_State *L = lugo_newstate(rt);
  char buf[256];
  int saved = dup(2), n;
  FILE *f = tmpfile();
  CU_ASSERT_FATAL(L != NULL && f != NULL);
  CU_ASSERT(lua_atpanic(L, NULL) != NULL);
  fflush(stderr);
  dup2(fileno(f), 2);
  lua_warning(L, "unseen", 0);
  lua_warning(L, "@on", 0);
  lua_warning(L, "one ", 1);
  lua_warning(L, "two", 0);
  lua_warning(L, "@off", 0);
  lua_warning(L, "unseen", 0);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  rewind(f);
  n = (int)fread(buf, 1, sizeof(buf) - 1, f);
  buf[n > 0 ? n : 0] = '\0';
  fclose(f);
  CU_ASSERT_STRING_EQUAL(buf, "Lua warning: one two\n");
  lua_close(L);  /* a host may close a state from lugo_newstate itself */
  lugo_close(rt);
}

int main(void) {
  static const cutest tests[] = {
    {"classes", test_classes},
    {"reuse", test_reuse},
    {"realloc", test_realloc},
    {"crossing", test_crossing},
    {"exhaustion", test_exhaustion},
#ifdef ASAN
    {"poison", test_poison},
#endif
    {"luastate", test_luastate},
    {"warnings", test_warnings},
    {NULL, NULL}
  };
  return cutil_run("alloc", tests);
}
