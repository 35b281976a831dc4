#!/usr/bin/env bash
# The long form of the real-process crash test (src/server/crash_test.cc):
# `stox serve` killed with SIGKILL at random moments, restarted, and every
# acknowledged order checked, CRASHES times (default 300); then `stox verify`.
# `make test` runs 20 crashes; this is the soak.
#
#   scripts/crash-soak.sh                  300 crashes, a random seed (printed on failure)
#   CRASHES=1000 SEED=42 scripts/crash-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
scripts/install-deps.sh
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target crash_test stox
env STOX_CRASHES="${CRASHES:-300}" ${SEED:+STOX_CRASH_SEED=$SEED} \
  "$BUILD/src/server/crash_test"
