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
for port in "$redis_port" "$respect_port"; do
  # The ZRANGE set: 1000 members scored 0..999.
  for i in $(seq 0 999); do echo "ZADD bench:zrange $i member:$i"; done \
    | redis-cli -h 127.0.0.1 -p "$port" >/dev/null
done
rps() { # port pipeline test... -> requests per second
  local port=$1 pipeline=$2
  shift 2
  redis-benchmark -h 127.0.0.1 -p "$port" -n "$requests" -c 50 -r 100000 -P "$pipeline" -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep -i "requests per second" | tail -1 | sed 's/.*: *\([0-9.]*\) requests.*/\1/'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
printf '%-8s %-4s %14s %14s %8s\n' test P redis-server respect ratio
for pipeline in 1 16; do
  for test in zadd zpopmin zrange; do
    case $test in
      zrange) args=(ZRANGE bench:zrange 450 549) ;;
      *) args=(-t "$test") ;;
    esac
    theirs_all=""
    ours_all=""
    for _ in $(seq "$rounds"); do
      theirs_all="$theirs_all $(rps "$redis_port" "$pipeline" "${args[@]}")"
      ours_all="$ours_all $(rps "$respect_port" "$pipeline" "${args[@]}")"
    done
    theirs=$(echo "$theirs_all" | median)
    ours=$(echo "$ours_all" | median)
    ratio=$(python3 -c "print(f'{float($ours)/float($theirs):.2f}x')")
    printf '%-8s %-4s %14s %14s %8s\n' "$test" "$pipeline" "$theirs" "$ours" "$ratio"
  done
done
