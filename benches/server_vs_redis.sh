#!/usr/bin/env bash
# Our server against redis-server under redis-benchmark, started side by side in one run on
# loopback, the same load for both: SET and GET, 50 clients, pipelining 1 and 16.
# Prints each throughput and the ratio respect/redis. Usage: bash benches/server_vs_redis.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-200000}"
cargo build --release --quiet
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
respect_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!
RUST_LOG=warn ./target/release/respect serve --bind "127.0.0.1:$respect_port" >/dev/null 2>&1 &
respect_pid=$!
trap 'kill $redis_pid $respect_pid 2>/dev/null || true' EXIT
sleep 1
rps() { # port test pipeline -> requests per second
  redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -n "$requests" -c 50 -P "$3" -q 2>/dev/null \
    | tr '\r' '\n' | grep -i "^$2:" | tail -1 | awk '{print $2}'
}
printf '%-8s %-4s %14s %14s %8s\n' test P redis-server respect ratio
for pipeline in 1 16; do
  for test in set get; do
    theirs=$(rps "$redis_port" "$test" "$pipeline")
    ours=$(rps "$respect_port" "$test" "$pipeline")
    ratio=$(python3 -c "print(f'{float($ours)/float($theirs):.2f}x')")
    printf '%-8s %-4s %14s %14s %8s\n' "$test" "$pipeline" "$theirs" "$ours" "$ratio"
  done
done
