#!/usr/bin/env bash
# run-all.sh -- the test command (README "Test", and what CI runs): installs
# the Debian packages the build and tests need (the same list as README's
# set-up command; chromium draws the HTML trace), builds lugo, runs every
# test, then runs the core tests again under ASan+UBSan and under TSan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pkgs="cmake gcc make pkg-config liblua5.4-dev lua5.4 libcunit1-dev libedit-dev dpkg-dev chromium python3 tmux"
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing > /dev/null
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2 --timeout 600
tests/sanitize/run.sh address
tests/sanitize/run.sh thread
echo "all tests passed (plain, ASan+UBSan, TSan)"
