#!/usr/bin/env bash
# Compare two builds of Any-ID on the client_credentials token endpoint (SQLite), with
# alternating runs so that this VM's run-to-run noise falls on both alike: A, B, A, B, ...
# Both servers run at once (each on its own port and data dir); only the one under load works.
#
#   bench/alternate.sh DIR_A DIR_B [RUNS]     # DIR_x/release/anyid is a release build
#
# Environment: BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
# BENCH_PORT (18180; B uses that plus 10: dev servers also listen on the next port, for the admin plane). Prints one line per run and the medians.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
A=$1 B=$2 RUNS=${3:-4}
DURATION=${BENCH_DURATION:-10s} THREADS=${BENCH_THREADS:-2} CONNS=${BENCH_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18180}
WORK=$(mktemp -d /tmp/anyid-alternate.XXXXXX)
PIDS=()
export ANYID_LOG__LEVEL=warn

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"/a/*.db* "$WORK"/b/*.db*
}
trap cleanup EXIT

# start NAME BUILD PORT: a dev server with a client_credentials client (Basic auth in
# $WORK/NAME/auth).
start() {
  local name=$1 build=$2 port=$3 dir="$WORK/$1"
  mkdir -p "$dir"
  # Dev servers also open the admin plane (port + 1) and the certificate listener.
  ANYID_MTLS__LISTEN="127.0.0.1:$((port + 5))" \
    "$build/release/anyid" serve --dev --listen "127.0.0.1:$port" --data-dir "$dir" \
    >"$dir/server.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 150); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$build/release/anyid" client add --name bench --grant-type client_credentials \
    --scope bench.read --json --data-dir "$dir" >"$dir/client.json"
  python3 -c 'import base64, json, sys
d = json.load(open(sys.argv[1]))
print(base64.b64encode(("%s:%s" % (d["client_id"], d["client_secret"])).encode()).decode())' \
    "$dir/client.json" >"$dir/auth"
}

start a "$A" "$PORT"
start b "$B" "$((PORT + 10))"
AUTH_A=$(cat "$WORK/a/auth")
AUTH_B=$(cat "$WORK/b/auth")

run() { # NAME PORT AUTH RUN
  local out="$WORK/$1-$4.txt"
  sleep 3
  BENCH_AUTH=$3 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$ROOT/bench/cc.lua" \
    "http://127.0.0.1:$2/token" >"$out" 2>&1
  local rps bench
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  bench=$(grep '^BENCH ' "$out")
  printf '%s\t%s\t%s\t%s\n' "$1" "$4" "$rps" "$bench" | tee -a "$WORK/results.tsv"
}

printf 'build\trun\treq/s\twrk-script summary\n'
for i in $(seq "$RUNS"); do
  run A "$PORT" "$AUTH_A" "$i"
  run B "$((PORT + 10))" "$AUTH_B" "$i"
done
python3 - "$WORK/results.tsv" <<'EOF'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
for build in ("A", "B"):
    rps = sorted(float(r[2]) for r in rows if r[0] == build)
    print(f"{build}: median {statistics.median(rps):,.0f} req/s over {len(rps)} runs "
          f"(range {rps[0]:,.0f}-{rps[-1]:,.0f})")
EOF
