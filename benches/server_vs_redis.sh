#!/usr/bin/env bash
# Our server against redis-server 7.0.15 (issue 11): redis-benchmark for SET, GET, LPUSH,
# LPOP, ZADD and ZPOPMIN at -P 1 and -P 16 (50 clients, keys under `bench:`), and pub/sub
# fan-out (1 publisher, 50 subscribers, crates/client/examples/pubsub_fanout.rs) publishing
# one message at a time and in batches of 16: messages delivered per second (all subscribers
# together) and publish-to-receive latency p50/p99. One server at a time, ours and redis
# alternating for `rounds` rounds (default 3), each run sized to last about `seconds`
# (default 3) at redis-server's rate; prints the medians, the ratio respect/redis and the
# spread as a markdown table (the README's).
# Usage: [RESPECT_THREADS=N] bash benches/server_vs_redis.sh [seconds] [rounds]
# RESPECT_THREADS sets our worker threads (default: one per core); redis-server has one.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-3}"
rounds="${2:-3}"
subscribers=50
source benches/vs_redis.sh
# probe_count NAME P: the calibration run's size (fan-out: deliveries, 50 per message).
probe_count() {
  case $1:$2 in
    fan-out*:1) echo $((2000 * subscribers)) ;;
    fan-out*) echo $((10000 * subscribers)) ;;
    *:1) echo 20000 ;;
    *) echo 100000 ;;
  esac
}
# pair PUSH POP P: both cells run the larger of their two counts, so that the pop empties
# exactly what the push filled and never meets an empty key.
pair() {
  local a b
  a=$(count "$1" "$3")
  b=$(count "$2" "$3")
  sized[$1:$3]=$((a > b ? a : b))
  sized[$2:$3]=$((a > b ? a : b))
}
# sequence PORT: one round against a fresh server. GET reads the keys SET wrote; LPOP and
# ZPOPMIN pop what LPUSH and ZADD pushed (ZADD's members are practically unique under
# -r 100000000).
sequence() {
  local port=$1 pipeline line messages
  for pipeline in 1 16; do
    cell SET "$port" "$pipeline" -r 100000 SET bench:key:__rand_int__ xxx
    cell GET "$port" "$pipeline" -r 100000 GET bench:key:__rand_int__
    cell LPUSH "$port" "$pipeline" LPUSH bench:list xxx
    cell LPOP "$port" "$pipeline" LPOP bench:list
    cell ZADD "$port" "$pipeline" -r 100000000 ZADD bench:zset __rand_int__ bench:element:__rand_int__
    cell ZPOPMIN "$port" "$pipeline" ZPOPMIN bench:zset
    cli "$port" FLUSHALL >/dev/null
  done
  for pipeline in 1 16; do
    messages=$(($(count fan-out-delivered "$pipeline") / subscribers))
    line=$(measured "$fanout_tool" "127.0.0.1:$port" "$subscribers" "$messages" "$pipeline")
    echo "  $server: $line" >&2
    record fan-out-delivered "$pipeline" "$(field delivered/s "$line")" "$(field seconds "$line")"
    record fan-out-p50-us "$pipeline" "$(field p50_us "$line")" "$(field seconds "$line")"
    record fan-out-p99-us "$pipeline" "$(field p99_us "$line")" "$(field seconds "$line")"
  done
}
field() { tr ' ' '\n' <<<"$2" | grep "^$1=" | cut -d= -f2; }
calibrate
for p in 1 16; do
  pair LPUSH LPOP "$p"
  pair ZADD ZPOPMIN "$p"
done
run_rounds
report
