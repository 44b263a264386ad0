/* test_shared.c -- the shared-table core: the map, keys, snapshots, frozen
** graphs, the cycle collector, threads hammering one table, and shared
** tables through a runtime (the sanitizer builds check nothing leaks). */
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cutil.h"
#include "lugo.h"
#include "mformat.h"
#include "scheduler.h"
#include "shared.h"

/* ---- helpers: keys and values without Lua */

static lugo_shkey SK(const char *s) {
  lugo_shkey k;
  lugo__shkey_str(&k, s, strlen(s));
  return k;
}

static lugo_shkey IK(lua_Integer i) {
  lugo_shkey k;
  lugo__shkey_int(&k, i);
  return k;
}

static lugo_shval IV(lua_Integer i) {
  lugo_shval v;
  v.t = LUGO_SV_INT;
  v.u.i = i;
  return v;
}

static lugo_shval OV(lugo_shtable *t) {  /* takes a reference */
  lugo_shval v;
  v.t = LUGO_SV_OBJ;
  v.u.o = &t->obj;
  lugo__obj_grab(&t->obj);
  return v;
}

static lugo_shval NILV(void) {
  lugo_shval v;
  v.t = LUGO_SV_NIL;
  return v;
}

static char *buf;
static size_t cap;

static lugo_shval get(lugo_shtable *t, lugo_shkey k) {
  lugo_shval v;
  CHECK_EQ(lugo__sh_get(t, &k, &v, 0, &buf, &cap), LUGO_OK);
  return v;
}

static void set(lugo_shtable *t, lugo_shkey k, lugo_shval v) {
  CHECK_EQ(lugo__sh_set(t, &k, &v, NULL), LUGO_OK);
}

static lua_Integer geti(lugo_shtable *t, lugo_shkey k) {
  lugo_shval v = get(t, k);
  CHECK_EQ(v.t, LUGO_SV_INT);
  return v.t == LUGO_SV_INT ? v.u.i : -999;
}

static int refs(lugo_shtable *t) { return lugo_load(&t->obj.refs); }

/* ---- the map */

static void test_map(void) {
  lugo_shtable *t = lugo__sh_new(NULL);
  lugo_shkey k;
  lugo_shval v;
  int i;
  CHECK_EQ(get(t, SK("missing")).t, LUGO_SV_NIL);
  for (i = 0; i < 5000; i++) set(t, IK(i * 7), IV(i));
  for (i = 0; i < 5000; i++) CHECK_EQ(geti(t, IK(i * 7)), i);
  CHECK_EQ(get(t, IK(3)).t, LUGO_SV_NIL);
  CHECK_EQ(t->m.n, 5000);
  for (i = 0; i < 5000; i += 2) set(t, IK(i * 7), NILV());  /* deletes */
  for (i = 0; i < 5000; i++) {
    v = get(t, IK(i * 7));
    if (i % 2) CHECK_EQ(v.u.i, i); else CHECK_EQ(v.t, LUGO_SV_NIL);
  }
  CHECK_EQ(t->m.n, 2500);
  for (i = 1; i < 5000; i += 2) set(t, IK(i * 7), NILV());
  CHECK_EQ(t->m.n, 0);
  CU_ASSERT(t->m.cap <= 64);  /* it shrank */
  /* strings: inline, long, replaced, deleted */
  set(t, SK("a"), IV(1));
  set(t, SK("exactly14bytes"), IV(2));
  set(t, SK("fifteen bytes.."), IV(3));
  set(t, SK("a"), IV(4));
  CHECK_EQ(geti(t, SK("a")), 4);
  CHECK_EQ(geti(t, SK("exactly14bytes")), 2);
  CHECK_EQ(geti(t, SK("fifteen bytes..")), 3);
  CHECK_EQ(get(t, SK("fifteen bytes.!")).t, LUGO_SV_NIL);
  set(t, SK("fifteen bytes.."), NILV());
  CHECK_EQ(get(t, SK("fifteen bytes..")).t, LUGO_SV_NIL);
  /* a long string value comes back in the buffer, or grabbed */
  k = SK("s");
  v.t = LUGO_SV_LSTR;
  v.u.ls = lugo__shstr_new("a string longer than fourteen bytes", 35);
  set(t, k, v);
  v = get(t, SK("s"));
  CHECK_EQ(v.t, LUGO_SV_BUF);
  CHECK_EQ(v.u.i, 35);
  CU_ASSERT(memcmp(buf, "a string longer than fourteen bytes", 35) == 0);
  k = SK("s");
  CHECK_EQ(lugo__sh_get(t, &k, &v, 1, &buf, &cap), LUGO_OK);
  CHECK_EQ(v.t, LUGO_SV_LSTR);
  CHECK_EQ(lugo_load(&v.u.ls->refs), 2);
  set(t, SK("s"), NILV());  /* ours is the last reference now */
  CHECK_EQ(lugo_load(&v.u.ls->refs), 1);
  lugo__shval_free(&v);
  lugo__obj_release(&t->obj);
}

static void test_keys(void) {
  lugo_shtable *t = lugo__sh_new(NULL);
  lugo_shkey k, k2;
  lugo__shkey_num(&k, 2.0);  /* an integral float is the integer key */
  CHECK_EQ(k.v.t, LUGO_SV_INT);
  set(t, k, IV(20));
  CHECK_EQ(geti(t, IK(2)), 20);
  lugo__shkey_num(&k, -0.0);
  CHECK_EQ(k.v.t, LUGO_SV_INT);
  CHECK_EQ(k.v.u.i, 0);
  lugo__shkey_num(&k, 2.5);
  CHECK_EQ(k.v.t, LUGO_SV_FLT);
  set(t, k, IV(25));
  lugo__shkey_num(&k2, 2.5);
  CHECK_EQ(geti(t, k2), 25);
  lugo__shkey_num(&k, 9223372036854775808.0);  /* 2^63: no integer */
  CHECK_EQ(k.v.t, LUGO_SV_FLT);
  lugo__shkey_bool(&k, 1);
  set(t, k, IV(1));
  lugo__shkey_bool(&k, 0);
  set(t, k, IV(0));
  lugo__shkey_bool(&k, 1);
  CHECK_EQ(geti(t, k), 1);
  lugo__shkey_int(&k, 1);  /* true and 1 are different keys */
  CHECK_EQ(get(t, k).t, LUGO_SV_NIL);
  {  /* an object key holds a reference while stored */
    lugo_shtable *o = lugo__sh_new(NULL);
    lugo__shkey_obj(&k, &o->obj);
    set(t, k, IV(7));
    CHECK_EQ(refs(o), 2);
    lugo__shkey_obj(&k, &o->obj);
    CHECK_EQ(geti(t, k), 7);
    lugo__shkey_obj(&k, &o->obj);
    set(t, k, NILV());
    CHECK_EQ(refs(o), 1);
    lugo__obj_release(&o->obj);
  }
  lugo__obj_release(&t->obj);
}

static void test_border(void) {
  lugo_shtable *t = lugo__sh_new(NULL);
  lugo_shkey k;
  lugo_shval v;
  int moved, i;
  CHECK_EQ(lugo__sh_len(t), 0);
  set(t, IK(2), IV(2));
  CHECK_EQ(lugo__sh_len(t), 0);  /* 1 absent */
  k = IK(1);
  v = IV(1);
  CHECK_EQ(lugo__sh_set(t, &k, &v, &moved), LUGO_OK);
  CHECK_EQ(moved, 1);
  CHECK_EQ(lugo__sh_len(t), 2);  /* 1 filled the gap */
  k = IK(2);
  v = IV(22);
  CHECK_EQ(lugo__sh_set(t, &k, &v, &moved), LUGO_OK);  /* replacing */
  CHECK_EQ(moved, 0);
  for (i = 3; i <= 100; i++) set(t, IK(i), IV(i));
  CHECK_EQ(lugo__sh_len(t), 100);
  k = IK(50);
  v = NILV();
  CHECK_EQ(lugo__sh_set(t, &k, &v, &moved), LUGO_OK);
  CHECK_EQ(moved, 1);
  CHECK_EQ(lugo__sh_len(t), 49);
  set(t, IK(200), NILV());  /* absent: nothing */
  CHECK_EQ(lugo__sh_len(t), 49);
  set(t, IK(50), IV(50));
  CHECK_EQ(lugo__sh_len(t), 100);
  lugo__obj_release(&t->obj);
}

static void test_snapshot(void) {
  lugo_shtable *t = lugo__sh_new(NULL), *c = lugo__sh_new(NULL);
  lugo_shslot *e;
  size_t n, i;
  lua_Integer sum = 0;
  e = lugo__sh_snapshot(t, &n);
  CU_ASSERT_PTR_NULL(e);
  CHECK_EQ(n, 0);
  for (i = 1; i <= 10; i++) set(t, IK((lua_Integer)i), IV((lua_Integer)i));
  set(t, SK("child"), OV(c));
  e = lugo__sh_snapshot(t, &n);
  CHECK_EQ(n, 11);
  CHECK_EQ(refs(c), 3);  /* ours, the table's, the snapshot's */
  set(t, SK("child"), NILV());
  for (i = 1; i <= 10; i++) set(t, IK((lua_Integer)i), IV(0));
  for (i = 0; i < n; i++)  /* the snapshot did not move */
    if (e[i].v.t == LUGO_SV_INT) sum += e[i].v.u.i;
  CHECK_EQ(sum, 55);
  lugo__sh_snapfree(e, n);
  CHECK_EQ(refs(c), 1);
  lugo__obj_release(&c->obj);
  lugo__obj_release(&t->obj);
}

/* ---- freeing long chains and frozen graphs */

static void test_deep_chain(void) {
  /* a chain of nested tables is freed by a loop, not by recursion */
  lugo_shtable *root = lugo__sh_new(NULL), *cur = root;
  int i;
  for (i = 0; i < 300000; i++) {
    lugo_shtable *n = lugo__sh_new(NULL);
    set(cur, SK("next"), OV(n));
    lugo__obj_release(&n->obj);
    cur = n;
  }
  lugo__obj_release(&root->obj);
  CU_PASS("freed");
}

static void test_frozen(void) {
  lugo_shtable *a = lugo__sh_new(NULL), *b = lugo__sh_new(NULL);
  lugo_frozen *root, *fb;
  const lugo_shslot *s;
  lugo_shkey k;
  uint32_t i = 0;
  int n = 0;
  set(a, SK("b"), OV(b));
  set(b, SK("a"), OV(a));  /* a cycle */
  set(a, IK(1), IV(10));
  set(a, IK(2), IV(20));
  root = lugo__fz_new();
  CU_ASSERT_PTR_NOT_NULL_FATAL(root);
  CU_ASSERT_PTR_EQUAL(lugo__fz_shared(root, a, 1, NULL, 0), root);
  lugo__fz_done(root);
  CHECK_EQ(refs(a), 2);  /* ours and b's: the build let go of its own */
  k = SK("b");
  s = lugo__fz_get(root, &k);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CHECK_EQ(s->v.t, LUGO_SV_OBJ);
  CU_ASSERT_PTR_EQUAL(s->v.u.o->type, &lugo__frozen_type);
  fb = (lugo_frozen *)s->v.u.o;
  CU_ASSERT(lugo__fz_same(root, &fb->obj));
  k = SK("a");
  s = lugo__fz_get(fb, &k);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_PTR_EQUAL(s->v.u.o, &root->obj);  /* the cycle, kept */
  CHECK_EQ(root->m.border, 2);
  while (lugo__fz_next(root, &i)) n++;
  CHECK_EQ(n, 3);
  /* the graph counts as one: a reference to any node holds it all */
  lugo__obj_grab(&fb->obj);
  lugo__obj_release(&root->obj);
  k = SK("a");
  CU_ASSERT_PTR_NOT_NULL(lugo__fz_get(fb, &k));
  lugo__obj_release(&fb->obj);  /* now it goes (ASan: no leak, no reuse) */
  set(a, SK("b"), NILV());  /* break the cycle of shared tables */
  lugo__obj_release(&a->obj);
  lugo__obj_release(&b->obj);
}

/* ---- the collector */

static void test_collect_cycles(void) {
  lugo_shreg *reg = lugo__shreg_new();
  lugo_shtable *self = lugo__sh_new(reg);
  lugo_shtable *a = lugo__sh_new(reg), *b = lugo__sh_new(reg);
  lugo_shtable *leaf = lugo__sh_new(reg), *live = lugo__sh_new(reg);
  set(self, SK("self"), OV(self));
  set(a, SK("b"), OV(b));
  set(b, SK("a"), OV(a));
  set(b, SK("leaf"), OV(leaf));  /* garbage hanging off the cycle */
  set(b, SK("live"), OV(live));  /* held from outside as well */
  lugo__obj_release(&self->obj);
  lugo__obj_release(&b->obj);
  lugo__obj_release(&leaf->obj);
  CHECK_EQ(lugo__shreg_count(reg), 5);
  CHECK_EQ(lugo__sh_collect(reg), 1);  /* a holds b: only self goes */
  CHECK_EQ(lugo__shreg_count(reg), 4);
  CHECK_EQ(refs(live), 2);
  lugo__obj_release(&a->obj);
  CHECK_EQ(lugo__sh_collect(reg), 3);  /* a, b, leaf */
  CHECK_EQ(lugo__shreg_count(reg), 1);
  CHECK_EQ(refs(live), 1);  /* released by the dead b */
  CHECK_EQ(lugo__sh_collect(reg), 0);
  lugo__obj_release(&live->obj);
  CHECK_EQ(lugo__shreg_count(reg), 0);
  lugo__shreg_free(reg);
}

/* a blob (a function's copy) whose upvalue is the table holding it */
static lugo_shval blobof(lugo_shtable *t) {
  lugo_blob *b = (lugo_blob *)calloc(1, sizeof(*b));
  lugo_shval v;
  b->data = (char *)malloc(1);
  b->objs = (lugo_obj **)malloc(2 * sizeof(lugo_obj *));
  b->objs[0] = b->objs[1] = &t->obj;  /* twice: two references */
  lugo__obj_grab(&t->obj);
  lugo__obj_grab(&t->obj);
  b->nobjs = 2;
  b->nvals = 1;
  v.t = LUGO_SV_BLOB;
  v.u.b = lugo__shblob_new(b);
  return v;
}

static void test_collect_blobs(void) {
  lugo_shreg *reg = lugo__shreg_new();
  lugo_shtable *t = lugo__sh_new(reg), *u = lugo__sh_new(reg);
  lugo_shval f = blobof(t);
  set(t, SK("f"), f);
  lugo__shval_grab(&f);
  set(t, SK("g"), f);  /* the same blob twice */
  lugo__obj_release(&t->obj);
  CHECK_EQ(lugo__sh_collect(reg), 1);  /* t <-> blob */
  /* a blob held from outside keeps its tables */
  f = blobof(u);
  lugo__shval_grab(&f);  /* ours */
  set(u, SK("f"), f);
  lugo__obj_release(&u->obj);
  CHECK_EQ(lugo__sh_collect(reg), 0);
  lugo__shval_free(&f);
  CHECK_EQ(lugo__sh_collect(reg), 1);
  CHECK_EQ(lugo__shreg_count(reg), 0);
  lugo__shreg_free(reg);
}

static void test_collect_snapshot_holds(void) {
  /* a snapshot (a pairs loop in progress) is an outside reference */
  lugo_shreg *reg = lugo__shreg_new();
  lugo_shtable *a = lugo__sh_new(reg), *b = lugo__sh_new(reg);
  lugo_shslot *e;
  size_t n;
  set(a, SK("b"), OV(b));
  set(b, SK("a"), OV(a));
  e = lugo__sh_snapshot(a, &n);
  lugo__obj_release(&a->obj);
  lugo__obj_release(&b->obj);
  CHECK_EQ(lugo__sh_collect(reg), 0);
  lugo__sh_snapfree(e, n);
  CHECK_EQ(lugo__sh_collect(reg), 2);
  lugo__shreg_free(reg);
}

/* ---- threads */

typedef struct hammer {
  lugo_shreg *reg;
  lugo_shtable *t;
  int id;
  pthread_barrier_t *go;
} hammer;

static void *hammer_run(void *ud) {
  hammer *h = (hammer *)ud;
  char *b = NULL;
  size_t c = 0;
  int i;
  pthread_barrier_wait(h->go);
  for (i = 0; i < 20000; i++) {
    lugo_shkey k = IK(h->id * 1000000 + i % 100);
    lugo_shval v;
    lugo__sh_get(h->t, &k, &v, 0, &b, &c);
    k = IK(h->id * 1000000 + i % 100);
    v = IV((v.t == LUGO_SV_INT ? v.u.i : 0) + 1);  /* our own keys */
    lugo__sh_set(h->t, &k, &v, NULL);
    if (i % 500 == 0) {  /* cycles for the collector, made and dropped */
      lugo_shtable *x = lugo__sh_new(h->reg), *y = lugo__sh_new(h->reg);
      set(x, SK("y"), OV(y));
      set(y, SK("x"), OV(x));
      set(h->t, SK("shared"), OV(x));  /* racing with the others */
      lugo__obj_release(&x->obj);
      lugo__obj_release(&y->obj);
    }
    if (i % 2000 == 0) lugo__sh_collect(h->reg);
  }
  free(b);
  return NULL;
}

static void test_threads(void) {
  enum { N = 4 };
  lugo_shreg *reg = lugo__shreg_new();
  lugo_shtable *t = lugo__sh_new(reg);
  pthread_t th[N];
  hammer h[N];
  pthread_barrier_t go;
  int i, j;
  pthread_barrier_init(&go, NULL, N);
  for (i = 0; i < N; i++) {
    h[i].reg = reg;
    h[i].t = t;
    h[i].id = i + 1;
    h[i].go = &go;
    pthread_create(&th[i], NULL, hammer_run, &h[i]);
  }
  for (i = 0; i < N; i++) pthread_join(th[i], NULL);
  pthread_barrier_destroy(&go);
  for (i = 0; i < N; i++)
    for (j = 0; j < 100; j++) CHECK_EQ(geti(t, IK((i + 1) * 1000000 + j)), 200);
  set(t, SK("shared"), NILV());
  lugo__sh_collect(reg);
  CHECK_EQ(lugo__shreg_count(reg), 1);  /* t alone */
  lugo__obj_release(&t->obj);
  lugo__shreg_free(reg);
}

/* ---- through a runtime */

static int run(lugo_runtime *rt, const char *code) {
  return cutil_runlua(rt, code, NULL);
}

static void test_runtime(void) {
  /* cycles made by goroutines are freed by lugo_close at the latest; the
  ** sanitizer builds check that nothing leaks (tables, strings, blobs,
  ** frozen graphs, cached functions) */
  lugo_options o;
  lugo_runtime *rt;
  lugo_options_init(&o);
  o.procs = 2;
  rt = lugo_new(&o);
  CHECK_EQ(run(rt,
               "local wg, t = sync.WaitGroup(), shared.table()\n"
               "for g = 1, 4 do\n"
               "  wg:Go(function()\n"
               "    for i = 1, 300 do\n"
               "      local c = {n = i, s = ('x'):rep(100)}\n"
               "      c.self = c\n"
               "      c.f = function() return c.n end\n"
               "      t[g * 1000 + i] = c\n"
               "      assert(t[g * 1000 + i].f() == i)\n"
               "      t[g * 1000 + i] = nil\n"
               "    end\n"
               "  end)\n"
               "end\n"
               "wg:Wait()\n"
               "local f = shared.freeze({a = {1, 2, {t}}, b = t, s = ('y'):rep(50)})\n"
               "local ok, err = pcall(function() f.a[3].again = f end)\n"
               "assert(not ok and err:find('attempt to modify a frozen table'))\n"
               "assert(#f.a == 3 and f.s == ('y'):rep(50))\n"),
           LUGO_OK);
  CHECK_EQ(run(rt,
               "local a, b = shared.table(), shared.table()\n"
               "a.b, b.a = b, a\n"
               "local keep = {x = {}}\n"
               "keep.x.up = keep\n"
               "a.keep = keep\n"
               "assert(a.keep.x.up == a.keep)\n"),
           LUGO_OK);
  /* sync.Maps are the same maps: cycles through them are found too, and
  ** their copied values (blobs) and objects freed */
  CHECK_EQ(run(rt,
               "local a, b = sync.Map(), sync.Map()\n"
               "a:Store('b', b) b:Store('a', a) a:Store('self', a)\n"
               "local s = shared.table()\n"
               "s.m = a a:Store('s', s)\n"
               "a:Store('copy', {1, 2, {3}, f = function() return a end})\n"
               "assert(a:Load('copy')[3][1] == 3)\n"
               "assert(rawequal(a:Load('copy').f(), a))\n"),
           LUGO_OK);
  CU_ASSERT(lugo__shreg_count(rt->shreg) > 0);  /* cycles, not yet found */
  lugo_close(rt);  /* collects them */
}

int main(void) {
  static const cutest tests[] = {
    {"map", test_map}, {"keys", test_keys}, {"border", test_border},
    {"snapshot", test_snapshot}, {"deep chain", test_deep_chain},
    {"frozen", test_frozen}, {"collect cycles", test_collect_cycles},
    {"collect blobs", test_collect_blobs},
    {"collect: snapshots hold", test_collect_snapshot_holds},
    {"threads", test_threads}, {"runtime", test_runtime}, {NULL, NULL}
  };
  int r = cutil_run("shared", tests);
  free(buf);
  return r;
}
