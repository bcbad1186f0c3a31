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
cargo build --release --quiet
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
respect_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!
threads=()
[ -n "${RESPECT_THREADS:-}" ] && threads=(--threads "$RESPECT_THREADS")
RUST_LOG=warn ./target/release/respect serve --bind "127.0.0.1:$respect_port" "${threads[@]}" >/dev/null 2>&1 &
respect_pid=$!
trap 'kill $redis_pid $respect_pid 2>/dev/null || true' EXIT
sleep 1
rps() { # port test pipeline -> requests per second
  redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -n "$requests" -c 50 -P "$3" -q 2>/dev/null \
    | tr '\r' '\n' | grep -i "^$2:" | tail -1 | awk '{print $2}'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
printf '%-8s %-4s %14s %14s %8s\n' test P redis-server respect ratio
for pipeline in 1 16; do
  for test in set get; do
    theirs_all=""
    ours_all=""
    for _ in $(seq "$rounds"); do
      theirs_all="$theirs_all $(rps "$redis_port" "$test" "$pipeline")"
      ours_all="$ours_all $(rps "$respect_port" "$test" "$pipeline")"
    done
    theirs=$(echo "$theirs_all" | median)
    ours=$(echo "$ours_all" | median)
    ratio=$(python3 -c "print(f'{float($ours)/float($theirs):.2f}x')")
    printf '%-8s %-4s %14s %14s %8s\n' "$test" "$pipeline" "$theirs" "$ours" "$ratio"
  done
done
