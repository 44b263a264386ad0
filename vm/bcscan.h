/*
** bcscan.h -- reading Lua 5.4 binary chunks (lua_dump output) to find what
** a function does with its globals and upvalues (DESIGN section 2).
*/
#ifndef lugo_bcscan_h
#define lugo_bcscan_h

#include <stddef.h>

/* what the scan reports */
enum {
  LUGO_SCAN_GREAD,    /* reads global `name` */
  LUGO_SCAN_GWRITE,   /* assigns global `name` */
  LUGO_SCAN_UPWRITE,  /* assigns the top function's upvalue `up` */
  LUGO_SCAN_UPSTORE   /* stores into the table held in upvalue `up` */
};

typedef struct lugo_scanev {
  int what;             /* LUGO_SCAN_* */
  const char *name;     /* global name (GREAD/GWRITE), not 0-terminated */
  size_t len;
  int up;               /* upvalue index of the top function, 1-based */
  int line;             /* source line, or -1 when stripped */
  const char *source;   /* chunk name of the function ("@file.lua"), or
                           NULL; not 0-terminated: srclen */
  size_t srclen;
} lugo_scanev;

/* Scan the dumped function (dump, n).  upkind[i] (i = 0..nups-1) says what
** the top function's upvalue i+1 holds: 'e' the globals table (_ENV), 't'
** a plain table, anything else another value.  Each event goes to
** cb(ud, ev); a non-zero return stops the scan.  Returns 0, or -1 if the
** chunk could not be read (nothing is reported then). */
int lugo__bcscan(const char *dump, size_t n, const char *upkind, int nups,
                 int (*cb)(void *ud, const lugo_scanev *ev), void *ud);

#endif
