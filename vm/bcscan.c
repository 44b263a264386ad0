/*
** bcscan.c -- a reader for Lua 5.4's binary chunk format and a small
** data-flow pass over its bytecode.
**
** We read the chunk ourselves (Lua's public API offers no bytecode) and
** follow, inside each basic block, which registers hold the globals table
** (_ENV), a plain table from an upvalue, or a constant string.  That finds
**   - global reads:  GETTABUP _ENV "k", and GETUPVAL r _ENV followed by
**     GETFIELD r "k" or LOADK s "k"; GETTABLE r s (what long names and
**     functions with more than 255 constants compile to);
**   - global writes: the same with SETTABUP / SETFIELD / SETTABLE;
**   - writes of the top function's upvalues (SETUPVAL), from nested
**     functions too, following upvalue descriptors (instack, idx);
**   - stores into a table held in one of the top function's upvalues
**     (SETTABUP/SETFIELD/SETTABLE/SETI on it).
** Tracking restarts at every jump target, so a register is only trusted
** when one straight-line path defined it.  The dump comes from lua_dump
** in this process; a malformed one is reported as unreadable, never
** trusted.  Pure C, no Lua state: any thread.
*/
#include "bcscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Lua 5.4 opcodes we look at (lopcodes.h order) */
enum {
  OP_MOVE = 0, OP_LOADK = 3, OP_LOADKX = 4, OP_LFALSESKIP = 6, OP_LOADNIL = 8,
  OP_GETUPVAL = 9, OP_SETUPVAL = 10, OP_GETTABUP = 11, OP_GETTABLE = 12,
  OP_GETI = 13, OP_GETFIELD = 14, OP_SETTABUP = 15, OP_SETTABLE = 16,
  OP_SETI = 17, OP_SETFIELD = 18, OP_SELF = 20, OP_CONCAT = 53, OP_JMP = 56,
  OP_EQ = 57, OP_GEI = 65, OP_TEST = 66, OP_TESTSET = 67, OP_CALL = 68,
  OP_TAILCALL = 69, OP_RETURN = 70, OP_RETURN0 = 71, OP_RETURN1 = 72,
  OP_FORLOOP = 73, OP_FORPREP = 74, OP_TFORPREP = 75, OP_TFORCALL = 76,
  OP_TFORLOOP = 77, OP_SETLIST = 78, OP_VARARG = 80, OP_VARARGPREP = 81,
  OP_EXTRAARG = 82, NUM_OPCODES = 83
};

#define GET_OP(i) ((int)((i) & 0x7F))
#define GET_A(i) ((int)(((i) >> 7) & 0xFF))
#define GET_k(i) ((int)(((i) >> 15) & 1))
#define GET_B(i) ((int)(((i) >> 16) & 0xFF))
#define GET_C(i) ((int)(((i) >> 24) & 0xFF))
#define GET_Bx(i) ((int)((i) >> 15))
#define GET_Ax(i) ((int)((i) >> 7))
#define GET_sJ(i) ((int)((i) >> 7) - ((1 << 24) - 1))
#define ABSLINEINFO (-0x80)

typedef struct kstr { int isstr; const char *s; size_t len; } kstr;

typedef struct proto {
  const char *source;
  size_t srclen;
  int linedefined;
  int maxstack;
  const unsigned char *code;   /* ncode instructions, unaligned */
  int ncode;
  kstr *k;
  int nk;
  unsigned char *updesc;       /* instack, idx, kind per upvalue */
  int nups;
  struct proto *p;
  int np;
  const signed char *lineinfo;
  int nlineinfo;
  int *abspc, *absline;
  int nabs;
} proto;

typedef struct reader {
  const unsigned char *p, *end;
  int bad;
} reader;

static size_t rsize(reader *r) {
  size_t x = 0;
  int b, n = 0;
  do {
    if (r->p >= r->end || ++n > 10) { r->bad = 1; return 0; }
    b = *r->p++;
    x = (x << 7) | (size_t)(b & 0x7f);
  } while ((b & 0x80) == 0);
  return x;
}

static const unsigned char *rbytes(reader *r, size_t n) {
  const unsigned char *s = r->p;
  if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; return NULL; }
  r->p += n;
  return s;
}

static int rbyte(reader *r) {
  const unsigned char *b = rbytes(r, 1);
  return b ? *b : 0;
}

/* a dumped string: NULL for none */
static const char *rstring(reader *r, size_t *len) {
  size_t n = rsize(r);
  *len = 0;
  if (n == 0 || r->bad) return NULL;
  *len = n - 1;
  return (const char *)rbytes(r, n - 1);
}

static void freeproto(proto *f) {
  int i;
  for (i = 0; i < f->np; i++) freeproto(&f->p[i]);
  free(f->p);
  free(f->k);
  free(f->updesc);
  free(f->abspc);
  free(f->absline);
}

static int readproto(reader *r, proto *f, const char *psource, size_t psrclen,
                     int depth) {
  size_t n, i, len;
  memset(f, 0, sizeof(*f));
  if (depth > 200) { r->bad = 1; return 0; }
  f->source = rstring(r, &f->srclen);
  if (f->source == NULL) { f->source = psource; f->srclen = psrclen; }
  f->linedefined = (int)rsize(r);
  rsize(r);  /* lastlinedefined */
  rbyte(r);  /* numparams */
  rbyte(r);  /* is_vararg */
  f->maxstack = rbyte(r);
  n = rsize(r);
  if (n > (size_t)(r->end - r->p) / 4) { r->bad = 1; return 0; }
  f->ncode = (int)n;
  f->code = rbytes(r, n * 4);
  n = rsize(r);
  if (n > (size_t)(r->end - r->p)) { r->bad = 1; return 0; }
  f->nk = (int)n;
  f->k = (kstr *)calloc(n ? n : 1, sizeof(kstr));
  if (f->k == NULL) { r->bad = 1; return 0; }
  for (i = 0; i < n && !r->bad; i++) {
    switch (rbyte(r)) {
      case 3: case 19: rbytes(r, 8); break;  /* integer, float */
      case 4: case 20:                        /* short, long string */
        f->k[i].s = rstring(r, &f->k[i].len);
        f->k[i].isstr = f->k[i].s != NULL;
        break;
      case 0: case 1: case 17: break;          /* nil, false, true */
      default: r->bad = 1;
    }
  }
  n = rsize(r);
  if (n > 255) { r->bad = 1; return 0; }
  f->nups = (int)n;
  f->updesc = (unsigned char *)malloc(n ? n * 3 : 1);
  if (f->updesc == NULL || r->bad) { r->bad = 1; return 0; }
  if (n) {
    const unsigned char *d = rbytes(r, n * 3);
    if (d) memcpy(f->updesc, d, n * 3);
  }
  n = rsize(r);
  if (n > (size_t)(r->end - r->p)) { r->bad = 1; return 0; }
  f->np = (int)n;
  f->p = (proto *)calloc(n ? n : 1, sizeof(proto));
  if (f->p == NULL) { r->bad = 1; return 0; }
  for (i = 0; i < n && !r->bad; i++)
    readproto(r, &f->p[i], f->source, f->srclen, depth + 1);
  /* debug information (empty in stripped chunks) */
  n = rsize(r);
  f->nlineinfo = (int)n;
  f->lineinfo = (const signed char *)rbytes(r, n);
  n = rsize(r);
  if (n > (size_t)(r->end - r->p)) { r->bad = 1; return 0; }
  f->nabs = (int)n;
  f->abspc = (int *)malloc((n ? n : 1) * sizeof(int));
  f->absline = (int *)malloc((n ? n : 1) * sizeof(int));
  if (f->abspc == NULL || f->absline == NULL) { r->bad = 1; return 0; }
  for (i = 0; i < n && !r->bad; i++) {
    f->abspc[i] = (int)rsize(r);
    f->absline[i] = (int)rsize(r);
  }
  n = rsize(r);  /* local variables */
  for (i = 0; i < n && !r->bad; i++) { rstring(r, &len); rsize(r); rsize(r); }
  n = rsize(r);  /* upvalue names */
  for (i = 0; i < n && !r->bad; i++) rstring(r, &len);
  return !r->bad;
}

static uint32_t instr(const proto *f, int pc) {
  uint32_t i;
  memcpy(&i, f->code + 4 * (size_t)pc, 4);
  return i;
}

/* the source line of instruction pc, as luaG_getfuncline computes it */
static int lineof(const proto *f, int pc) {
  int i, line = f->linedefined, base = -1;
  if (f->lineinfo == NULL || f->nlineinfo <= pc) return -1;
  for (i = 0; i < f->nabs && f->abspc[i] <= pc; i++) {
    base = f->abspc[i];
    line = f->absline[i];
  }
  while (base++ < pc) line += f->lineinfo[base];
  return line;
}

/* ---------------------------------------------------------------------
** the data-flow pass
** ------------------------------------------------------------------- */

enum { R_UNK = 0, R_ENV, R_UPTAB, R_KSTR };

typedef struct upinfo { char env; short top; char tab; } upinfo;

typedef struct scan {
  int (*cb)(void *ud, const lugo_scanev *ev);
  void *ud;
  int stop;
} scan;

static void emit(scan *s, const proto *f, int pc, int what, const kstr *k,
                 int up) {
  lugo_scanev ev;
  if (s->stop) return;
  ev.what = what;
  ev.name = k ? k->s : NULL;
  ev.len = k ? k->len : 0;
  ev.up = up + 1;
  ev.line = lineof(f, pc);
  ev.source = f->source;
  ev.srclen = f->srclen;
  s->stop = s->cb(s->ud, &ev);
}

static void settarget(unsigned char *target, int ncode, int pc) {
  if (pc >= 0 && pc < ncode) target[pc] = 1;
}

static int isjumpy(int op) {
  return (op >= OP_EQ && op <= OP_GEI) || op == OP_TEST || op == OP_TESTSET ||
         op == OP_LFALSESKIP;
}

static void analyse(scan *s, const proto *f, const upinfo *ups, int depth) {
  unsigned char *target = (unsigned char *)calloc((size_t)f->ncode + 1, 1);
  unsigned char kind[256];
  short val[256];
  int pc, i;
  if (target == NULL) { s->stop = 1; return; }
  /* pass 1: jump targets */
  for (pc = 0; pc < f->ncode; pc++) {
    uint32_t in = instr(f, pc);
    int op = GET_OP(in);
    if (op == OP_JMP) settarget(target, f->ncode, pc + 1 + GET_sJ(in));
    else if (op == OP_FORLOOP || op == OP_TFORLOOP) settarget(target, f->ncode, pc + 1 - GET_Bx(in));
    else if (op == OP_FORPREP) settarget(target, f->ncode, pc + GET_Bx(in) + 2);
    else if (op == OP_TFORPREP) settarget(target, f->ncode, pc + GET_Bx(in) + 1);
    else if (isjumpy(op)) settarget(target, f->ncode, pc + 2);
  }
  memset(kind, R_UNK, sizeof(kind));
  /* pass 2: straight-line tracking */
  for (pc = 0; pc < f->ncode && !s->stop; pc++) {
    uint32_t in = instr(f, pc);
    int op = GET_OP(in), a = GET_A(in), b = GET_B(in), c = GET_C(in);
    if (target[pc]) memset(kind, R_UNK, sizeof(kind));
    switch (op) {
      case OP_MOVE:
        kind[a] = kind[b];
        val[a] = val[b];
        continue;
      case OP_LOADK: case OP_LOADKX: {
        int k = op == OP_LOADK ? GET_Bx(in)
                               : (pc + 1 < f->ncode ? GET_Ax(instr(f, pc + 1)) : -1);
        kind[a] = (k >= 0 && k < f->nk && f->k[k].isstr) ? R_KSTR : R_UNK;
        val[a] = (short)k;
        continue;
      }
      case OP_GETUPVAL:
        if (b < f->nups && ups[b].env) kind[a] = R_ENV;
        else if (b < f->nups && ups[b].top >= 0 && ups[b].tab) {
          kind[a] = R_UPTAB;
          val[a] = ups[b].top;
        } else kind[a] = R_UNK;
        continue;
      case OP_SETUPVAL:
        if (b < f->nups && ups[b].top >= 0 && !ups[b].env)
          emit(s, f, pc, LUGO_SCAN_UPWRITE, NULL, ups[b].top);
        continue;
      case OP_GETTABUP:
        if (b < f->nups && ups[b].env && c < f->nk && f->k[c].isstr)
          emit(s, f, pc, LUGO_SCAN_GREAD, &f->k[c], 0);
        kind[a] = R_UNK;
        continue;
      case OP_GETFIELD:
        if (kind[b] == R_ENV && c < f->nk && f->k[c].isstr)
          emit(s, f, pc, LUGO_SCAN_GREAD, &f->k[c], 0);
        kind[a] = R_UNK;
        continue;
      case OP_GETTABLE:
        if (kind[b] == R_ENV && kind[c] == R_KSTR)
          emit(s, f, pc, LUGO_SCAN_GREAD, &f->k[val[c]], 0);
        kind[a] = R_UNK;
        continue;
      case OP_SETTABUP:
        if (a < f->nups && ups[a].env) {
          if (b < f->nk && f->k[b].isstr) emit(s, f, pc, LUGO_SCAN_GWRITE, &f->k[b], 0);
        } else if (a < f->nups && ups[a].top >= 0 && ups[a].tab) {
          emit(s, f, pc, LUGO_SCAN_UPSTORE, NULL, ups[a].top);
        }
        continue;
      case OP_SETFIELD:
        if (kind[a] == R_ENV && b < f->nk && f->k[b].isstr)
          emit(s, f, pc, LUGO_SCAN_GWRITE, &f->k[b], 0);
        else if (kind[a] == R_UPTAB)
          emit(s, f, pc, LUGO_SCAN_UPSTORE, NULL, val[a]);
        continue;
      case OP_SETTABLE:
        if (kind[a] == R_ENV && kind[b] == R_KSTR)
          emit(s, f, pc, LUGO_SCAN_GWRITE, &f->k[val[b]], 0);
        else if (kind[a] == R_UPTAB)
          emit(s, f, pc, LUGO_SCAN_UPSTORE, NULL, val[a]);
        continue;
      case OP_SETI:
        if (kind[a] == R_UPTAB) emit(s, f, pc, LUGO_SCAN_UPSTORE, NULL, val[a]);
        continue;
      case OP_SETLIST: case OP_JMP: case OP_RETURN: case OP_RETURN0:
      case OP_RETURN1: case OP_TAILCALL: case OP_EXTRAARG: case OP_VARARGPREP:
        continue;
      case OP_SELF:
        kind[a] = kind[(a + 1) & 0xFF] = R_UNK;
        continue;
      case OP_LOADNIL:
        for (i = a; i <= a + b && i < 256; i++) kind[i] = R_UNK;
        continue;
      case OP_CALL: case OP_TFORCALL: case OP_VARARG: case OP_CONCAT:
        for (i = a; i < 256; i++) kind[i] = R_UNK;  /* writes from A up */
        continue;
      default:
        if (op >= NUM_OPCODES) { s->stop = 1; break; }
        if (!(isjumpy(op) && op != OP_TESTSET && op != OP_LFALSESKIP))
          kind[a] = R_UNK;  /* everything else writes at most R[A] */
    }
  }
  free(target);
  /* nested functions: map their upvalues onto ours */
  for (i = 0; i < f->np && !s->stop; i++) {
    const proto *q = &f->p[i];
    upinfo qu[256];
    int j;
    for (j = 0; j < q->nups; j++) {
      int instack = q->updesc[3 * j], idx = q->updesc[3 * j + 1];
      if (!instack && idx < f->nups) qu[j] = ups[idx];
      else { qu[j].env = 0; qu[j].top = -1; qu[j].tab = 0; }
    }
    analyse(s, q, qu, depth + 1);
  }
}

int lugo__bcscan(const char *dump, size_t n, const char *upkind, int nups,
                 int (*cb)(void *ud, const lugo_scanev *ev), void *ud) {
  reader r;
  proto top;
  upinfo ups[256];
  scan s;
  int i;
  /* header: signature 4, version, format, data 6, three sizes, an integer
  ** and a float (8 each), then the main function's upvalue count */
  if (n < 32 || memcmp(dump, "\x1bLua\x54\x00", 6) != 0) return -1;
  r.p = (const unsigned char *)dump + 32;
  r.end = (const unsigned char *)dump + n;
  r.bad = 0;
  if (!readproto(&r, &top, NULL, 0, 0)) {
    freeproto(&top);
    return -1;
  }
  for (i = 0; i < top.nups && i < 256; i++) {
    char k = i < nups ? upkind[i] : 0;
    ups[i].env = k == 'e';
    ups[i].tab = k == 't';
    ups[i].top = (short)i;
  }
  s.cb = cb;
  s.ud = ud;
  s.stop = 0;
  analyse(&s, &top, ups, 0);
  freeproto(&top);
  return 0;
}
