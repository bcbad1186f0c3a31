#!/usr/bin/env bash
# Sorted-set throughput, our server against redis-server under redis-benchmark, side by side
# in one run on loopback: ZADD (`-t zadd`, random members), ZPOPMIN (`-t zpopmin`) and
# ZRANGE of 100 members of a 1000-member set, 50 clients, pipelining 1 and 16.
# Prints the medians and the ratio respect/redis.
# Usage: [RESPECT_THREADS=N] bash benches/zset_vs_redis.sh [requests] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-200000}"
rounds="${2:-3}"
source benches/vs_redis.sh
for port in "$redis_port" "$respect_port"; do
  # The ZRANGE set: 1000 members scored 0..999.
  for i in $(seq 0 999); do echo "ZADD bench:zrange $i member:$i"; done \
    | redis-cli -h 127.0.0.1 -p "$port" >/dev/null
done
rps() { # port pipeline redis-benchmark-args... -> requests per second
  local port=$1 pipeline=$2
  shift 2
  redis-benchmark -h 127.0.0.1 -p "$port" -n "$requests" -c 50 -r 100000 -P "$pipeline" -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep -i "requests per second" | tail -1 | sed 's/.*: *\([0-9.]*\) requests.*/\1/'
}
header
for pipeline in 1 16; do
  for test in zadd zpopmin zrange; do
    case $test in
      zrange) args=(ZRANGE bench:zrange 450 549) ;;
      *) args=(-t "$test") ;;
    esac
    cell "$test" "$pipeline" "${args[@]}"
  done
done
