/* test_chan.c -- channel core operations without goroutines (non-blocking
** paths) and a select poll. */
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "cutil.h"

static lugo_runtime rt;  /* only rt.evhook is read (NULL) */

static lugo_value I(lua_Integer i) {
  lugo_value v;
  v.t = LUGO_VINT;
  v.u.i = i;
  return v;
}

static void test_buffered_fifo(void) {
  lugo_chan *c = lugo__chan_new(&rt, 3);
  lugo_value v;
  int i, ok;
  for (i = 1; i <= 3; i++) {
    v = I(i);
    CHECK_EQ(lugo__chan_send(c, &v, NULL), LUGO_CHAN_DONE);
  }
  v = I(4);
  CHECK_EQ(lugo__chan_send(c, &v, NULL), LUGO_CHAN_BLOCK);
  CHECK_EQ(lugo__chan_len(c), 3);
  for (i = 1; i <= 3; i++) {
    CHECK_EQ(lugo__chan_recv(c, &v, &ok, NULL), LUGO_CHAN_DONE);
    CHECK_EQ(ok, 1);
    CHECK_EQ(v.u.i, i);
  }
  CHECK_EQ(lugo__chan_recv(c, &v, &ok, NULL), LUGO_CHAN_BLOCK);
  lugo__obj_release(&c->obj);
}

static void test_unbuffered_blocks(void) {
  lugo_chan *c = lugo__chan_new(&rt, 0);
  lugo_value v = I(1);
  int ok;
  CHECK_EQ(lugo__chan_send(c, &v, NULL), LUGO_CHAN_BLOCK);
  CHECK_EQ(lugo__chan_recv(c, &v, &ok, NULL), LUGO_CHAN_BLOCK);
  lugo__obj_release(&c->obj);
}

static void test_close(void) {
  lugo_chan *c = lugo__chan_new(&rt, 2);
  lugo_value v = I(7);
  int ok;
  CHECK_EQ(lugo__chan_send(c, &v, NULL), LUGO_CHAN_DONE);
  CHECK_EQ(lugo__chan_close(c, 0), LUGO_CHAN_DONE);
  CHECK_EQ(lugo__chan_close(c, 0), LUGO_CHAN_CLOSED);
  v = I(8);
  CHECK_EQ(lugo__chan_send(c, &v, NULL), LUGO_CHAN_CLOSED);
  /* drains first, then reports the close */
  CHECK_EQ(lugo__chan_recv(c, &v, &ok, NULL), LUGO_CHAN_DONE);
  CHECK_EQ(ok, 1);
  CHECK_EQ(v.u.i, 7);
  CHECK_EQ(lugo__chan_recv(c, &v, &ok, NULL), LUGO_CHAN_DONE);
  CHECK_EQ(ok, 0);
  CHECK_EQ(v.t, LUGO_VNIL);
  lugo__obj_release(&c->obj);
}

static void test_free_with_values(void) {
  /* a channel freed with strings still buffered frees them (ASan checks) */
  lugo_chan *c = lugo__chan_new(&rt, 4);
  lugo_value v;
  v.t = LUGO_VSTR;
  v.u.s.len = 100;
  v.u.s.p = (char *)calloc(1, 100);
  CHECK_EQ(lugo__chan_send(c, &v, NULL), LUGO_CHAN_DONE);
  lugo__obj_release(&c->obj);
}

static void test_select_poll(void) {
  lugo_chan *a = lugo__chan_new(&rt, 1), *b = lugo__chan_new(&rt, 1);
  lugo_selcase cs[3];
  lugo_value va, vb, vs = I(5), v = I(3);
  int ok, i, hits[3] = {0, 0, 0};
  /* nothing ready: -1 */
  cs[0].c = a; cs[0].isrecv = 1; cs[0].val = &va;
  cs[1].c = NULL; cs[1].isrecv = 1; cs[1].val = &vb;  /* nil channel */
  CHECK_EQ(lugo__select(NULL, cs, 2, 0, &ok), -1);
  /* both ready: random choice, each chosen sometimes */
  for (i = 0; i < 200; i++) {
    lugo_value x = I(1), y = I(2);
    int k;
    lugo__chan_send(a, &x, NULL);
    cs[1].c = b;
    lugo__chan_send(b, &y, NULL);
    k = lugo__select(NULL, cs, 2, 0, &ok);
    CU_ASSERT(k == 0 || k == 1);
    hits[k]++;
    /* drain the other */
    lugo__chan_recv(k == 0 ? b : a, &v, &ok, NULL);
  }
  CU_ASSERT(hits[0] > 0 && hits[1] > 0);
  /* a send case on a closed channel is chosen with ok = 0 */
  lugo__chan_close(a, 0);
  cs[0].c = a; cs[0].isrecv = 0; cs[0].val = &vs;
  CHECK_EQ(lugo__select(NULL, cs, 1, 0, &ok), 0);
  CHECK_EQ(ok, 0);
  lugo__obj_release(&a->obj);
  lugo__obj_release(&b->obj);
}

int main(void) {
  static const cutest tests[] = {
    {"buffered fifo", test_buffered_fifo},
    {"unbuffered blocks", test_unbuffered_blocks},
    {"close", test_close},
    {"free with values", test_free_with_values},
    {"select poll", test_select_poll},
    {NULL, NULL}
  };
  return cutil_run("chan", tests);
}
