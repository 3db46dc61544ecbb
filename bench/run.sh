#!/usr/bin/env bash
# The benchmark suite, in one command (also `npm run bench`). Not part of the tests.
#   bash bench/run.sh            # full run (about 30-60 min on a 2-core machine)
#   bash bench/run.sh --quick    # a short smoke run with fewer loads and events
# Knobs (environment): BENCH_RUNS, BENCH_EVENT_RUNS, BENCH_EVENTS, BENCH_BURST,
# BENCH_EVENT_MAX_SECONDS, BENCH_MEM_RUNS, BENCH_MEM_PEER_RUNS, BENCH_MEM_MAX_SECONDS,
# BENCH_CONNECT_RUNS, BENCH_COLLECT_REQUESTS, BENCH_COLLECT_CONCURRENCY,
# BENCH_COLLECT_MAX_SECONDS, BENCH_BUILD=1 (rebuild pkg/ first), CHROMIUM, CARGO_TARGET_DIR.
# Writes bench/results/latest.md and prints it.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench/.." && pwd)"

# The bench's own dependencies: the peers and the tools, exact versions from the lock file.
if [ ! -d "$bench/node_modules/playwright-core" ] || [ "$bench/package-lock.json" -nt "$bench/node_modules/.package-lock.json" ]; then
  (cd "$bench" && npm ci --no-audit --no-fund)
fi

# Our module: pkg/web as `npm run build` makes it (built here only when missing, or asked).
if [ "${BENCH_BUILD:-0}" = 1 ] || [ ! -f "$root/pkg/web/altegio_analytics_bg.wasm" ]; then
  (cd "$root" && npm run build)
fi

# The companion and the partner API stand-in, release build, in a target dir of the bench's
# own so that it does not wait on other builds' locks.
target="${CARGO_TARGET_DIR:-$root/target/bench}"
(cd "$root" && CARGO_TARGET_DIR="$target" cargo build --release -p altegio-companion --quiet) \
  || echo "[bench] the companion did not build: section 5 will say so" >&2
export BENCH_COMPANION_BIN="$target/release"

test -x "${CHROMIUM:-/usr/bin/chromium}" || { echo "[bench] no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)" >&2; exit 1; }
exec node "$bench/bench.mjs" "$@"
