# Sourced by benches/server_vs_redis.sh and benches/zset_vs_redis.sh: builds the release
# binary, starts redis-server and our server on two free loopback ports (killed on exit), and
# compares them cell by cell. Before sourcing: `requests` and `rounds`; the sourcing script
# defines `rps PORT PIPELINE ARGS...` (one redis-benchmark run, its requests per second).
# Sets redis_port and respect_port.
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
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
header() { printf '%-8s %-4s %14s %14s %8s\n' test P redis-server respect ratio; }
# cell NAME PIPELINE ARGS...: `rounds` runs of each server, alternating; the medians and the
# ratio respect/redis.
cell() {
  local name=$1 pipeline=$2 theirs_all="" ours_all="" theirs ours ratio
  shift 2
  for _ in $(seq "$rounds"); do
    theirs_all="$theirs_all $(rps "$redis_port" "$pipeline" "$@")"
    ours_all="$ours_all $(rps "$respect_port" "$pipeline" "$@")"
  done
  theirs=$(echo "$theirs_all" | median)
  ours=$(echo "$ours_all" | median)
  ratio=$(python3 -c "print(f'{float($ours)/float($theirs):.2f}x')")
  printf '%-8s %-4s %14s %14s %8s\n' "$name" "$pipeline" "$theirs" "$ours" "$ratio"
}
