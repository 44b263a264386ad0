#!/usr/bin/env bash
# run.sh address|thread -- build lugo and its tests with a sanitizer (ASan +
# UBSan, or TSan), linked against a Lua 5.4 built from Debian's source with
# the same flags (build-lua.sh), and run the tests labelled "core": every C
# suite and a representative set of Lua tests (see tests/CMakeLists.txt).
set -euo pipefail
kind=${1:?usage: run.sh address|thread}
root=$(cd "$(dirname "$0")/../.." && pwd)
bdir=$root/build-$kind
case $kind in
  address) flags="-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1" ;;
  # Lua throws (errors and coroutine yields) with _longjmp on Linux, which
  # this TSan does not follow: its shadow call stack grows by a few frames
  # at every goroutine switch until memory runs out.  Plain longjmp it
  # understands.
  thread)  flags="-fsanitize=thread -fno-omit-frame-pointer -g -O1 -DLUAI_THROW(L,c)=longjmp((c)->b,1) -DLUAI_TRY(L,c,a)=if(setjmp((c)->b)==0){a} -Dluai_jmpbuf=jmp_buf" ;;
  *) echo "run.sh: unknown sanitizer '$kind'" >&2; exit 2 ;;
esac
"$root/tests/sanitize/build-lua.sh" "$bdir/lua" "$flags"
cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DLUGO_SANITIZE="$kind" -DLUGO_LUA_DIR="$bdir/lua" > /dev/null
cmake --build "$bdir" -j2
# halt on the first report so a race or error fails the test even when the
# program then leaves with _exit (as lugo does when main returns)
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitize/tsan.supp:${TSAN_OPTIONS:-}"
export LUGO_SANITIZER="$kind"  # tests that cannot work under one ask
export LUGO_RACE_ITERS=${LUGO_RACE_ITERS:-3}  # the race corpus: fewer runs
ctest --test-dir "$bdir" -L core --output-on-failure -j2 --timeout 600
