# Sourced by benches/server_vs_redis.sh and benches/zset_vs_redis.sh: builds the release
# binary and the fan-out tool, and runs one server at a time on a free loopback port, ours and
# redis-server alternating (ours, redis, ours, redis, ...), so the two never share the two
# cores of a small machine with each other, only with the load generator.
#
# The sourcing script sets `seconds` and `rounds` and defines `sequence PORT`: the whole load
# of one round against one freshly started, empty server, each run sized by `count NAME P`
# and recorded with `record NAME P RATE SECONDS`. `calibrate` runs the sequence once against
# redis-server with small probes (`probe_count NAME P`, defined by the sourcing script) and
# sizes every run to last 1.5 x `seconds` at the rate redis-server reached (the margin keeps
# a faster server's runs over `seconds` too), so runs last long enough
# on a fast machine and not forever on a loaded one. `run_rounds` runs the sequence `rounds`
# times per server; `report` prints, per cell, the median of each server, the ratio
# respect/redis, the spread (lowest-highest of the rounds) and the shortest run in seconds.
#
# Every client this runs has a deadline (coreutils `timeout`), so a server that stops
# answering ends the script with an error instead of hanging it: `cli` (redis-cli) 10 s, a
# measured run (redis-benchmark, the fan-out tool) `run_limit`, enough for a server over ten
# times slower than redis-server.
cargo build --release --quiet
cargo build --release --quiet -p respect-client --example pubsub_fanout
fanout_tool=./target/release/examples/pubsub_fanout
run_limit=$((seconds * 20 + 60))
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
server_pid=""
results="$(mktemp)"
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -f "$results"' EXIT

# start_server redis|respect: starts it empty on a free port (sets `port` and `server_pid`)
# and waits until it answers PING.
start_server() {
  port=$(free_port)
  case $1 in
    redis) redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null & ;;
    respect)
      local threads=()
      [ -n "${RESPECT_THREADS:-}" ] && threads=(--threads "$RESPECT_THREADS")
      RUST_LOG=warn ./target/release/respect serve --bind "127.0.0.1:$port" "${threads[@]}" >/dev/null 2>&1 & ;;
  esac
  server_pid=$!
  for _ in $(seq 100); do
    cli "$port" PING 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "$1 did not start on port $port" >&2
  return 1
}
# cli PORT args...: redis-cli against the server on PORT, within 10 s.
cli() {
  local port=$1
  shift
  timeout 10 redis-cli -h 127.0.0.1 -p "$port" "$@"
}
# measured COMMAND args...: a measured run, within `run_limit`; its output, or an error.
measured() {
  local out
  out=$(timeout "$run_limit" "$@") || {
    echo "$1 failed or ran over ${run_limit} s (the server stopped answering?)" >&2
    return 1
  }
  echo "$out"
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# bench PORT PIPELINE REQUESTS redis-benchmark-args...: one redis-benchmark run of 50
# clients; prints its requests per second.
bench() {
  local port=$1 pipeline=$2 requests=$3
  shift 3
  measured redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$requests" -P "$pipeline" -q "$@" \
    | tr '\r' '\n' | grep -i "requests per second" | tail -1 | sed 's/.*: *\([0-9.]*\) requests.*/\1/'
}
# record NAME P RATE SECONDS: one measurement of the current `server`.
record() { echo "$1 $2 $server $3 $4" >>"$results"; }
# cell NAME PORT PIPELINE redis-benchmark-args...: one run of `count NAME PIPELINE` requests.
cell() {
  local name=$1 port=$2 pipeline=$3 requests rps
  shift 3
  requests=$(count "$name" "$pipeline")
  rps=$(bench "$port" "$pipeline" "$requests" "$@")
  record "$name" "$pipeline" "${rps:-0}" "$(python3 -c "print(f'{$requests/max(float(${rps:-0}),1e-9):.1f}')")"
}

# count NAME P: how many requests (or messages) a run of that cell makes.
declare -A sized=()
count() { echo "${sized[$1:$2]:-$(probe_count "$1" "$2")}"; }
calibrate() {
  server=calibrate
  echo "calibrating against redis-server (target ${seconds} s per run)" >&2
  start_server redis
  sequence "$port"
  stop_server
  local name p rate
  while read -r name p _ rate _; do
    sized[$name:$p]=$(python3 -c "import math; print(max(1000, math.ceil(float($rate)*$seconds*1.5/1000)*1000))")
  done < <(grep ' calibrate ' "$results")
  : >"$results"
}

run_rounds() {
  local round
  for round in $(seq "$rounds"); do
    for server in respect redis; do
      echo "round $round/$rounds: $server" >&2
      start_server "$server"
      sequence "$port"
      stop_server
    done
  done
}

# report: one markdown row per cell, in the order the cells first ran.
report() {
  python3 - "$results" <<'PY'
import statistics, sys
cells, order = {}, []
for line in open(sys.argv[1]):
    name, p, server, rate, seconds = line.split()
    key = (name, p)
    if key not in cells:
        cells[key] = {"redis": [], "respect": [], "seconds": []}
        order.append(key)
    cells[key][server].append(float(rate))
    cells[key]["seconds"].append(float(seconds))
def k(v):
    if latency:
        return f"{v:.0f} µs"
    return f"{v/1e6:.2f} M" if v >= 1e6 else f"{v/1e3:.1f} k"
print("| test | P | redis-server (spread) | respect (spread) | ratio respect/redis | shortest run |")
print("|---|---|---|---|---|---|")
for key in order:
    c = cells[key]
    latency = key[0].endswith("-us")  # a latency: lower is better
    theirs, ours = statistics.median(c["redis"]), statistics.median(c["respect"])
    spread = lambda v: f"{k(min(v))}-{k(max(v))}"
    ratio = ours / theirs if theirs else float("nan")
    print(f"| {key[0]} | {key[1]} | {k(theirs)} ({spread(c['redis'])}) | {k(ours)} ({spread(c['respect'])}) | {ratio:.2f}x | {min(c['seconds']):.1f} s |")
PY
}
