#!/usr/bin/env bash
# build-lua.sh OUTDIR "CFLAGS" -- build a sanitizer-instrumented static Lua 5.4.
#
# Why: our ASan/UBSan and TSan builds must link an *instrumented* liblua.
# Debian's liblua5.4.so is not instrumented, so TSan cannot see the memory
# accesses inside it: two goroutine threads touching one lua_State would go
# unreported, and ASan would miss overflows/use-after-free inside the VM.
#
# What: fetches Debian's own lua5.4 source (`apt-get source`, which applies the
# Debian patches), so headers and luaconf.h match liblua5.4-dev exactly, then
# compiles every src/*.c except lua.c/luac.c with $CC (default gcc), the
# defines Debian's build uses, the given CFLAGS and -fPIC, and archives them.
# Result: OUTDIR/lib/liblua.a and OUTDIR/include/{lua.h,luaconf.h,lualib.h,
# lauxlib.h,lua.hpp,lua5.4-deb-multiarch.h}. Cached: rerunning with the same
# compiler/flags/source version exits at once. May (as root) enable deb-src in
# /etc/apt/sources.list.d/debian.sources, run apt-get update, install dpkg-dev.
# Env: CC, LUGO_LUA_SRC_CACHE (source cache dir, default OUTDIR/src).
set -euo pipefail

die() { echo "build-lua.sh: error: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || die "usage: $0 OUTDIR \"CFLAGS\""
mkdir -p "$1" || die "cannot create $1"
OUT=$(cd "$1" && pwd) CFLAGS=$2 CC=${CC:-gcc}
CACHE=${LUGO_LUA_SRC_CACHE:-$OUT/src}
SOURCES=/etc/apt/sources.list.d/debian.sources
# Same as Debian: src/Makefile has CC='gcc -std=gnu99', CFLAGS -DLUA_COMPAT_5_3;
# debian/rules builds target linux-readline => -DLUA_USE_LINUX (-DLUA_USE_READLINE
# only affects lua.c, which we do not build).
DEFS="-std=gnu99 -DLUA_COMPAT_5_3 -DLUA_USE_LINUX"
# Pin to the source version of the installed liblua5.4-dev (ABI match), if any.
VER=$(dpkg-query -W -f='${source:Version}' liblua5.4-dev 2>/dev/null || true)
SPEC=lua5.4${VER:+=$VER}
command -v "${CC%% *}" >/dev/null || die "compiler '$CC' not found"
STAMP_TXT="cc=$CC $($CC -dumpfullversion 2>/dev/null || $CC -dumpversion) src=$SPEC defs=$DEFS cflags=$CFLAGS"
STAMP=$OUT/build.stamp
if [[ -f $OUT/lib/liblua.a && -f $STAMP && $(cat "$STAMP") == "$STAMP_TXT" ]]; then
  echo "build-lua.sh: $OUT/lib/liblua.a up to date ($SPEC, cached)"; exit 0
fi
T0=$SECONDS

# ---- 1. Debian source, fetched once per version into the cache -------------
SRCROOT=$CACHE/${VER:-latest}
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"; flock 9      # concurrent asan/tsan builds share the cache
if [[ ! -f $SRCROOT/.complete ]]; then
  [[ $(id -u) == 0 ]] || die "source not cached and not root: cannot apt-get (run as root once)"
  export DEBIAN_FRONTEND=noninteractive
  (  # apt state is global: serialize against other instances using other caches
    flock 8
    if ! apt-cache showsrc lua5.4 2>/dev/null | grep -q '^Package: lua5.4$'; then
      [[ -f $SOURCES ]] || die "no $SOURCES (deb822): enable deb-src for lua5.4 by hand"
      grep -Eq '^Types:.*deb-src' "$SOURCES" ||
        sed -i -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' "$SOURCES"
      echo "build-lua.sh: deb-src enabled in $SOURCES; apt-get update" >&2
      apt-get update -q >/dev/null || die "apt-get update failed"
    fi
    dpkg-query -W -f='${Status}' dpkg-dev 2>/dev/null | grep -q 'ok installed' ||
      apt-get install -y -q dpkg-dev >/dev/null || die "cannot install dpkg-dev"
  ) 8>/tmp/lugo-build-lua-apt.lock
  rm -rf "$SRCROOT"; mkdir -p "$SRCROOT"
  # Sandbox user root: avoids the "_apt couldn't access" warning in root-owned dirs.
  (cd "$SRCROOT" && apt-get source -q -o APT::Sandbox::User=root "$SPEC" >/dev/null) ||
    die "apt-get source $SPEC failed (deb-src enabled? network to the mirror?)"
  SRC=$(echo "$SRCROOT"/lua5.4-*/src); [[ -f $SRC/lapi.c ]] || die "no src/lapi.c under $SRCROOT"
  MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || $CC -dumpmachine)
  # debian/rules generates this header; the Debian-patched luaconf.h includes it.
  printf '#ifndef _LUA_DEB_MULTIARCH_\n#define _LUA_DEB_MULTIARCH_\n#define DEB_HOST_MULTIARCH "%s"\n#endif\n' \
    "$MA" > "$SRC/lua5.4-deb-multiarch.h"
  touch "$SRCROOT/.complete"
fi
exec 9>&-
SRC=$(echo "$SRCROOT"/lua5.4-*/src); [[ -f $SRC/lapi.c ]] || die "bad source cache $SRCROOT (delete it)"

# ---- 2. compile library objects in parallel, archive -----------------------
rm -f "$STAMP"; rm -rf "$OUT/obj"; mkdir -p "$OUT/obj" "$OUT/lib" "$OUT/include"
export CC CFLAGS DEFS SRC OBJ=$OUT/obj
ls "$SRC"/*.c | grep -Ev '/(lua|luac)\.c$' |
  xargs -P"$(nproc)" -n1 bash -c 'f=$1; o=$OBJ/$(basename "${f%.c}").o
    $CC $DEFS $CFLAGS -fPIC -I"$SRC" -c "$f" -o "$o" || { echo "FAILED: $f" >&2; exit 255; }' _ ||
  die "compilation failed (CC=$CC CFLAGS=$CFLAGS)"
N=$(ls "$OUT"/obj/*.o | wc -l); [[ $N -ge 30 ]] || die "only $N objects built"
rm -f "$OUT/lib/liblua.a.tmp"
ar rcs "$OUT/lib/liblua.a.tmp" "$OUT"/obj/*.o && mv "$OUT/lib/liblua.a.tmp" "$OUT/lib/liblua.a" ||
  die "ar failed"
for h in lua.h luaconf.h lualib.h lauxlib.h lua.hpp lua5.4-deb-multiarch.h; do
  cp "$SRC/$h" "$OUT/include/$h"
done
echo "$STAMP_TXT" > "$STAMP"
echo "build-lua.sh: built $OUT/lib/liblua.a ($SPEC, $N objs, $CC $DEFS $CFLAGS -fPIC) in $((SECONDS-T0))s"
