#!/usr/bin/env bash
# Our server against redis-server under redis-benchmark, started side by side in one run on
# loopback, the same load for both: SET and GET, 50 clients, pipelining 1 and 16.
# Prints each throughput and the ratio respect/redis.
# Usage: [RESPECT_THREADS=N] bash benches/server_vs_redis.sh [requests] [rounds]
# Each cell runs `rounds` times (default 3), alternating the two servers, and reports the
# median of each: single loopback runs on a small machine vary by 10% or more.
# RESPECT_THREADS sets our worker threads (default: one per core); redis-server has one.
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-200000}"
rounds="${2:-3}"
source benches/vs_redis.sh
rps() { # port pipeline test -> requests per second
  redis-benchmark -h 127.0.0.1 -p "$1" -t "$3" -n "$requests" -c 50 -P "$2" -q 2>/dev/null \
    | tr '\r' '\n' | grep -i "^$3:" | tail -1 | awk '{print $2}'
}
header
for pipeline in 1 16; do
  for test in set get; do
    cell "$test" "$pipeline" "$test"
  done
done
