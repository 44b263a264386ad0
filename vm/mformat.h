/*
** mformat.h -- the wire format of marshalled values, shared by the writer
** (marshal.c) and the reader (unmarshal.c).  Internal to vm/.
**
**   NIL FALSE TRUE | INT i64 | FLT f64 | STR len bytes
**   TABLE narr nhash             -- announced where met; gets the next id
**   TBODY id (key value)* END metatable   -- its contents, later
**   FUNC fid len dump nups (UPJOIN fnid idx | value)*  -- gets the next id
**     (fid: the function cache's u64 id of the dump, 0 for none)
**   REF id | GLOBALS | STD name | STDFN lib key | CFUNC ptr | OBJ ptr
**   MODPATH n name k2..kn        -- require(name) and follow the keys
** After the values: TBODY and GPAIR (name value) records, then END.  A
** package section (PKG path cpath preload... END searchers... END, then
** its own bodies and END) may follow, in its own id space.
*/
#ifndef lugo_mformat_h
#define lugo_mformat_h

#include <stddef.h>

#include "obj.h"

enum {
  T_NIL, T_FALSE, T_TRUE, T_INT, T_FLT, T_STR, T_TABLE, T_END, T_FUNC,
  T_UPJOIN, T_REF, T_GLOBALS, T_STD, T_CFUNC, T_OBJ, T_MODPATH, T_TBODY,
  T_GPAIR, T_PKG, T_STDFN
};

#define MAXDEPTH 1000  /* nested functions (tables cost no C stack) */

struct lugo_blob {
  char *data;
  size_t n;
  lugo_obj **objs;
  size_t nobjs;
  int nvals;
  int globals;   /* a globals section follows the values */
  int pkg;       /* a package section starts at data[pkgoff] */
  size_t pkgoff;
};

#endif
