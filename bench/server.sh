#!/usr/bin/env bash
# Team-server benchmark, load generator on the same machine:
#  1. webhook ingest: signed GitHub deployment_status deliveries, each with its own delivery id,
#     sent by wrk over N connections for a while; throughput, acknowledgement latency (p50/p99),
#     then every acknowledged delivery counted in the store (lost = acknowledged - stored);
#  2. GET /api/v1/metrics on the generated repository (200k commits, 5000 tag deployments) once
#     warm: p50/p99 over sequential requests, compared with `shiplog metrics` on the same store and
#     mirror in the same run (a ratio);
#  3. server memory (VmRSS) at rest and its peak (VmHWM) after the burst.
#
#   bench/server.sh [--commits 200000] [--duration 20s] [--connections 32] [--requests 30]
#                   [--database-url postgres://...]     the PostgreSQL store instead of SQLite
#
# Needs wrk (Debian package; installed when missing, as root) and python3.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
OUT="$BENCH_DIR/out"
COMMITS=200000
DURATION=20s
CONNECTIONS=32
REQUESTS=30
DATABASE_URL=
STORE_KIND=SQLite
while [ $# -gt 0 ]; do
    case "$1" in
        --commits) COMMITS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --requests) REQUESTS=$2; shift 2 ;;
        --database-url) DATABASE_URL=$2; STORE_KIND=PostgreSQL; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "server.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
log() { printf '[server-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
log "building shiplog (release)"
(cd "$ROOT" && cargo build --release -q -p shiplog)
SHIPLOG="${CARGO_TARGET_DIR:-$ROOT/target}/release/shiplog"

mkdir -p "$OUT"
REPO="$OUT/server-repo-$COMMITS"
if [ ! -d "$REPO/.git" ]; then
    log "generating $REPO ($COMMITS commits)"
    python3 "$BENCH_DIR/gen-repo.py" --commits "$COMMITS" --tags $((COMMITS / 40)) --seed 1 "$REPO" >&2
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SECRET=bench-secret
cat > "$WORK/shiplog-server.toml" <<EOF
listen = "127.0.0.1:$PORT"
data_dir = "data"
[[repository]]
name = "bench"
url = "file://$REPO"
deploys = "tags"
[sources.github]
secrets = ["$SECRET"]
EOF

start_server() {
    (cd "$WORK" && RUST_LOG=warn exec "$SHIPLOG" serve --config shiplog-server.toml ${DATABASE_URL:+--database-url "$DATABASE_URL"} > "$WORK/server.out" 2> "$WORK/server.log") &
    SERVER_PID=$!
    for _ in $(seq 1 600); do
        grep -q "listening" "$WORK/server.out" 2>/dev/null && return
        sleep 0.1
    done
    echo "the server did not start:"; cat "$WORK/server.log"; exit 1
}
rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }

log "starting the server (first start clones the mirror)"
start_server
sleep 1
RSS_REST=$(rss VmRSS)

# --- 1. ingest --------------------------------------------------------------------------------
BODY="$ROOT/../shared/payloads/github/deployment_status_payload.json"
SIG=$(python3 -c "import hmac,hashlib,sys; print('sha256='+hmac.new(b'$SECRET', open(sys.argv[1],'rb').read(), hashlib.sha256).hexdigest())" "$BODY")
cat > "$WORK/hook.lua" <<EOF
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local f = io.open("$BODY", "rb"); local body = f:read("*a"); f:close()
local n = 0
function request()
  n = n + 1
  return wrk.format("POST", "/hooks/github", {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "deployment_status",
    ["X-GitHub-Delivery"] = "bench-" .. tid .. "-" .. n,
    ["X-Hub-Signature-256"] = "$SIG",
  }, body)
end
EOF
log "ingest: wrk, $CONNECTIONS connections, $DURATION"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/hook.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk.txt"
cat "$WORK/wrk.txt" >&2
RSS_PEAK=$(rss VmHWM)
SENT=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
NON2XX=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt"); NON2XX=${NON2XX:-0}
ERRORS=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' "$WORK/wrk.txt"); ERRORS=${ERRORS:-0}
RATE=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
P50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
P99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
log "waiting for the processor to drain"
DRAIN_START=$(date +%s.%N)
# One number from the store: SQLite (python3's sqlite3) or PostgreSQL (psql).
sql() {
    if [ -n "$DATABASE_URL" ]; then
        psql -X -q -t -A "$DATABASE_URL" -c "$1"
    else
        python3 -c "import sqlite3,sys; print(*sqlite3.connect(sys.argv[1], timeout=60).execute(sys.argv[2]).fetchone())" "$WORK/data/shiplog.db" "$1"
    fi
}
while [ "$(sql "select count(*) from deliveries where state = 'pending'")" != 0 ]; do sleep 0.5; done
DRAIN=$(python3 -c "import time; print(round(time.time() - $DRAIN_START, 1))")
STORED=$(sql "select count(*) from deliveries")
DUPS=$(sql "select coalesce(sum(duplicates),0) from deliveries")
FAILED=$(sql "select count(*) from deliveries where state = 'failed'")
# wrk counts requests still in flight when it stops as sent; they may or may not have been answered.
ACKED=$((SENT - NON2XX - ERRORS))
LOST=$((ACKED - STORED - DUPS))
[ "$LOST" -lt 0 ] && LOST=0

# --- 2. metrics API ---------------------------------------------------------------------------
Q="since=2000-01-01&until=2100-01-01"
log "metrics: warming"
curl -sf "http://127.0.0.1:$PORT/api/v1/metrics?$Q" > "$WORK/api.json" || { cat "$WORK/server.log"; exit 1; }
log "metrics: $REQUESTS sequential requests, each a new question (computed)"
for i in $(seq 1 "$REQUESTS"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/api/v1/metrics?since=2000-01-01&until=2100-01-01T00:00:$(printf %02d $((i % 60)))Z&env=production"
done > "$WORK/api-times.txt"
log "metrics: $REQUESTS sequential requests of one question (kept answer)"
for _ in $(seq 1 "$REQUESTS"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/api/v1/metrics?$Q"
done > "$WORK/api-cached.txt"
log "metrics: the CLI on the same store and mirror (3 runs)"
for _ in 1 2 3; do
    python3 - "$WORK" "$SHIPLOG" "${DATABASE_URL:-$WORK/data/shiplog.db}" >> "$WORK/cli-times.txt" <<'PY'
import subprocess, sys, time
work, shiplog, db = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.perf_counter()
with open(f"{work}/cli.json", "wb") as out:
    subprocess.run([shiplog, "-q", "--db", db, "--repo", f"{work}/data/mirrors/bench.git",
                    "metrics", "--deploys", "tags", "--since", "2000-01-01", "--until", "2100-01-01",
                    "--format", "json"], stdout=out, check=True)
print(time.perf_counter() - started)
PY
done
SAME=$(python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print('yes' if a==b else 'NO')" "$WORK/api.json" "$WORK/cli.json")
python3 - "$WORK/api-times.txt" "$WORK/cli-times.txt" "$WORK/api-cached.txt" <<EOF
import statistics, sys
api = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
cached = sorted(float(x) for x in open(sys.argv[3]) if x.strip())
cli = sorted(float(x) for x in open(sys.argv[2]) if x.strip() and x.strip()[0].isdigit())
def pct(v, p): return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
cli_median = statistics.median(cli)
print()
print("shiplog server benchmark ($COMMITS-commit repository, $CONNECTIONS connections, $DURATION, $STORE_KIND store)")
print(f"  ingest: {float('$RATE'):.0f} deliveries/s acknowledged; latency p50 $P50, p99 $P99")
print(f"  ingest: $SENT sent, $NON2XX non-2xx, $ERRORS socket errors, $STORED stored (+$DUPS duplicates), $FAILED failed, lost $LOST; processor drained in ${DRAIN} s")
print(f"  /api/v1/metrics, computed (warm history cache): p50 {pct(api, 50)*1000:.0f} ms, p99 {pct(api, 99)*1000:.0f} ms over {len(api)} requests")
print(f"  /api/v1/metrics, the same question again (kept answer): p50 {pct(cached, 50)*1000:.1f} ms, p99 {pct(cached, 99)*1000:.1f} ms")
print(f"  shiplog metrics (CLI, same data): median {cli_median*1000:.0f} ms; API p50 / CLI = {pct(api, 50)/cli_median:.2f}")
print(f"  same JSON from the API and the CLI: $SAME")
print(f"  server memory: {int('$RSS_REST')/1024:.0f} MiB at rest, {int('$RSS_PEAK')/1024:.0f} MiB peak")
EOF
