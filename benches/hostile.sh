#!/usr/bin/env bash
# The hostile-load suite at full size (issue 16), ours next to a real redis-server 7.0.15
# started side by side in the same run: 10,000 idle connections, 8 bursts of 3,000 clients
# x 1 MB, 2,000 slow-loris clients, a non-reading client asking for 2 GB of replies, 5,000
# huge declarations, 400 clients cut mid-frame. It runs the tests/hostile_*.rs tests in
# release mode with RESPECT_HOSTILE_SCALE=full and prints their measurements as one table
# (the README's reliability table). Needs about 4 GB of free memory at the bursts' peak.
# Usage: bash benches/hostile.sh [test ...]   (default: every hostile_* test)
set -euo pipefail
cd "$(dirname "$0")/.."
# 10,000 connections per server, both ends on this machine.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(hostile_idle hostile_memory hostile_slowloris hostile_output hostile_limits hostile_writes)
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
log="$(mktemp)"
RESPECT_HOSTILE_SCALE=full cargo test --release --quiet --no-fail-fast "${args[@]}" -- --nocapture --test-threads 1 \
  2>&1 | tee "$log" | grep -E '^(test |redis|ours|table\|)' || true
printf '\n| case | measure | redis-server 7.0.15 | respect |\n|---|---|---|---|\n'
grep '^table|' "$log" | awk -F'|' '{printf "| %s | %s | %s | %s |\n", $2, $3, $4, $5}'
if grep -q 'FAILED\|panicked' "$log"; then
  echo "some hostile tests failed (log: $log)" >&2
  exit 1
fi
rm -f "$log"
