#!/usr/bin/env bash
# The server benchmark (docs/benchmarks.md, "Server"): builds stox_loadgen in
# Release and runs the recorded configurations, each against a fresh
# in-process server with a temporary data directory:
#
#   1. REST orders, journal sync batch (durable before ack)
#   2. REST orders, journal sync none (unsafe; shows the cost of fdatasync)
#   3. REST orders (sync batch) with 1,000 WebSocket subscribers on LOAD0
#
# Every run prints its summary lines ("server: ...", "ws: ..."); the script
# fails if any run fails (an unexpected answer, a 5xx other than 503 BUSY,
# a broken connection or a depth sequence break).
#
#   scripts/bench-server.sh                 all three runs, 10 s each after 2 s warm-up
#   SECONDS_PER_RUN=3 scripts/bench-server.sh
#   BUILD=build/release JOBS=2 scripts/bench-server.sh
#   scripts/bench-server.sh --connections 32   extra flags go to every run
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
JOBS=${JOBS:-$(nproc)}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
WARMUP=${WARMUP:-2}

scripts/install-deps.sh
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target stox_loadgen

loadgen="$BUILD/src/server/stox_loadgen"
common=(--seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" "$@")

echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
     "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"$loadgen" --sync batch "${common[@]}" || status=1
"$loadgen" --sync none "${common[@]}" || status=1
"$loadgen" --sync batch --ws-subscribers 1000 "${common[@]}" || status=1
exit $status
