#!/usr/bin/env bash
# Sorted-set reads, our server against redis-server under redis-benchmark: ZRANGE of 100
# members of a 1000-member set, 50 clients, pipelining 1 and 16; one server at a time,
# alternating, as benches/server_vs_redis.sh (which measures ZADD and ZPOPMIN).
# Prints the medians, the ratio respect/redis and the spread.
# Usage: [RESPECT_THREADS=N] bash benches/zset_vs_redis.sh [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-3}"
rounds="${2:-3}"
source benches/vs_redis.sh
probe_count() { [ "$2" = 1 ] && echo 5000 || echo 20000; }
sequence() {
  local port=$1 pipeline
  # The ZRANGE set: 1000 members scored 0..999.
  for i in $(seq 0 999); do echo "ZADD bench:zrange $i member:$i"; done \
    | cli "$port" >/dev/null
  for pipeline in 1 16; do
    cell ZRANGE-100 "$port" "$pipeline" ZRANGE bench:zrange 450 549
  done
}
calibrate
run_rounds
report
