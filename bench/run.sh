#!/usr/bin/env bash
# Loopback load benchmarks for Any-ID; results and method in BENCHMARKS.md.
#
# Builds the release binaries, then for SQLite: starts `anyid serve --dev` on 127.0.0.1,
# registers a service client and a code-flow client, reads idle RSS, and runs wrk against
# client_credentials, discovery, JWKS and code redemption (codes seeded through the store by
# anyid-bench-seed just before the run), sampling RSS under load. Then code redemption (and
# client_credentials) again on a fresh PostgreSQL database, which it drops afterwards.
# Stops everything it started, by pid, and prints a summary. Traffic goes only to 127.0.0.1.
#
# Environment (all optional):
#   BENCH_DURATION=10s  BENCH_THREADS=2  BENCH_CONNECTIONS=32  BENCH_PORT=18080
#   BENCH_REPEAT=3        runs per scenario; the summary reports the median run and the range
#   BENCH_CODES=<n>       codes seeded before each redemption run (default 6000 per second
#                         of run; a thread that runs out stops and the summary says so)
#   ANYID_BENCH_DATABASE_URL  PostgreSQL server to create the bench database on
#                         (default postgres://postgres@127.0.0.1:5432/test; "skip" to skip)
#   BENCH_NO_BUILD=1      use the binaries already in $CARGO_TARGET_DIR/release
#   BENCH_QUIET_WAIT=120  seconds to wait for other CPU load to settle before each run
#   CARGO_TARGET_DIR      default /work/target
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
TARGET=${CARGO_TARGET_DIR:-/work/target}
DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18080}
SECONDS_OF_RUN=${DURATION%s}
REPEAT=${BENCH_REPEAT:-3}
CODES=${BENCH_CODES:-$((6000 * SECONDS_OF_RUN))}
PG_ADMIN_URL=${ANYID_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
QUIET_WAIT=${BENCH_QUIET_WAIT:-120}
BASE="http://127.0.0.1:$PORT"
REDIRECT_URI="http://127.0.0.1:1/cb"

WORK=$(mktemp -d /tmp/anyid-bench.XXXXXX)
RESULTS="$WORK/results.tsv"
SERVER_PID=""
PG_DB=""
export ANYID_LOG__LEVEL=warn

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

cleanup() {
  stop_server
  if [[ -n "$PG_DB" ]]; then
    psql "$PG_ADMIN_URL" -q -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  # Databases, seeded codes and the bench clients' secrets go; wrk outputs stay.
  rm -rf "$WORK/sqlite" "$WORK/pg" "$WORK"/codes-*.txt "$WORK"/*.json
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build -----------------------------------------------------------------------------
if [[ "${BENCH_NO_BUILD:-}" != 1 ]]; then
  log "building release binaries (CARGO_TARGET_DIR=$TARGET)"
  (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release -p anyid -p anyid-tests)
fi
ANYID="$TARGET/release/anyid"
SEED="$TARGET/release/anyid-bench-seed"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }

# ---- helpers ---------------------------------------------------------------------------
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }

# Percentage of CPU time busy over one second, machine-wide.
cpu_busy() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local total=0 idle i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  idle=$(( (b[4] - a[4]) + (b[5] - a[5]) ))
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

# Wait (bounded) until nothing else keeps the CPUs busy; prints the last reading.
wait_quiet() {
  local busy deadline=$((SECONDS + QUIET_WAIT))
  busy=$(cpu_busy)
  while (( busy > 15 && SECONDS < deadline )); do
    log "machine busy (${busy}% CPU) before the run; waiting"
    sleep 4
    busy=$(cpu_busy)
  done
  (( busy > 15 )) && log "WARNING: still ${busy}% busy; figures will be low"
  echo "$busy"
}

start_server() { # data-dir, then optional env assignments
  local dir=$1; shift
  mkdir -p "$dir"
  if curl -s -o /dev/null "$BASE/healthz" 2>/dev/null; then
    echo "something already listens on 127.0.0.1:$PORT; set BENCH_PORT" >&2
    exit 1
  fi
  env "$@" "$ANYID" serve --dev --listen "127.0.0.1:$PORT" --data-dir "$dir" \
    >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 150); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    curl -sf "$BASE/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$dir/server.log" >&2
  echo "server did not become ready" >&2
  exit 1
}

basic_auth() { # client JSON file -> base64(client_id:client_secret)
  python3 -c 'import base64, json, sys
d = json.load(open(sys.argv[1]))
print(base64.b64encode(("%s:%s" % (d["client_id"], d["client_secret"])).encode()).decode())' "$1"
}

client_id() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["client_id"])' "$1"; }

# run_wrk NAME BACKEND RUN URL SCRIPT [env assignments for the script...]
run_wrk() {
  local name=$1 backend=$2 run=$3 url=$4 script=$5; shift 5
  local busy out="$WORK/$name-$backend-$run.txt" samples="$WORK/$name-$backend-$run.rss" sampler
  busy=$(wait_quiet)
  : >"$samples"
  ( while kill -0 "$SERVER_PID" 2>/dev/null; do rss_kb >>"$samples"; sleep 0.25; done ) &
  sampler=$!
  log "$name on $backend (run $run/$REPEAT): wrk -t$THREADS -c$CONNS -d$DURATION --latency -s $(basename "$script") $url"
  local before after
  before=($(head -1 /proc/stat))
  env "$@" BENCH_THREADS="$THREADS" timeout $((SECONDS_OF_RUN + 60)) \
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$script" "$url" >"$out" 2>&1 || true
  after=($(head -1 /proc/stat))
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  cat "$out" >&2
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + after[i] - before[i])); done
  local idle_pct=$((100 * (after[4] - before[4] + after[5] - before[5]) / (total > 0 ? total : 1)))
  local steal_pct=$((100 * (after[8] - before[8]) / (total > 0 ? total : 1)))
  local rps bench errors max_rss
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  bench=$(grep '^BENCH ' "$out" || echo "BENCH non200=? p50_us=0 p99_us=0")
  errors=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' "$out")
  max_rss=$(sort -n "$samples" | tail -1)
  local non200 p50 p99 dry
  non200=$(sed -n 's/.*non200=\([0-9?]*\).*/\1/p' <<<"$bench")
  p50=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$bench")
  p99=$(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$bench")
  dry=$(sed -n 's/.*exhausted_threads=\([0-9]*\).*/\1/p' <<<"$bench")
  printf '%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$backend" \
    "$run" "${rps:-0}" "$(awk -v u="${p50:-0}" 'BEGIN {print u / 1000}')" \
    "$(awk -v u="${p99:-0}" 'BEGIN {print u / 1000}')" "${non200:-?}" "$((max_rss / 1024))" \
    "$busy" "$idle_pct" "$steal_pct" "${dry:-}" "${errors:-none}" >>"$RESULTS"
}

# repeat NAME BACKEND URL SCRIPT [env...]: REPEAT runs of one scenario.
repeat() {
  local run
  for run in $(seq "$REPEAT"); do run_wrk "$1" "$2" "$run" "${@:3}"; done
}

# seed_and_redeem BACKEND DATABASE_URL RP_JSON: fresh codes right before each run.
seed_and_redeem() {
  local backend=$1 url=$2 rp=$3 codes="$WORK/codes-$1.txt" run
  for run in $(seq "$REPEAT"); do
    log "seeding $CODES codes on $backend"
    "$SEED" --database-url "$url" --client-id "$(client_id "$rp")" \
      --redirect-uri "$REDIRECT_URI" --count "$CODES" --out "$codes" --ttl 900
    run_wrk redeem "$backend" "$run" "$BASE/token" "$BENCH/redeem.lua" \
      BENCH_AUTH="$(basic_auth "$rp")" BENCH_CODES="$codes"
  done
}

# ---- machine ---------------------------------------------------------------------------
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
    "(family $(awk -F': ' '/^cpu family/ {print $2; exit}' /proc/cpuinfo)," \
    "model $(awk -F': ' '/^model\t/ {print $2; exit}' /proc/cpuinfo)," \
    "$(awk -F': ' '/^cpu MHz/ {print $2; exit}' /proc/cpuinfo) MHz)"
  echo "kernel: $(uname -r)"
  free -h
  echo "wrk: $(wrk --version 2>&1 | head -1)"
  echo "git: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$WORK/machine.txt"

printf 'scenario\tbackend\trun\treq/s\tp50_ms\tp99_ms\tnon200\tmax_rss_mb\tbusy_before_%%\tidle_during_%%\tsteal_%%\texhausted\tsocket_errors\n' >"$RESULTS"

# ---- SQLite ----------------------------------------------------------------------------
SQLITE_DIR="$WORK/sqlite"
SQLITE_URL="sqlite://$SQLITE_DIR/anyid.db?mode=rwc"
start_server "$SQLITE_DIR"
"$ANYID" client add --name bench --grant-type client_credentials --scope bench.read --json \
  --data-dir "$SQLITE_DIR" >"$WORK/cc-sqlite.json"
"$ANYID" client add --name rp --redirect-uri "$REDIRECT_URI" --json \
  --data-dir "$SQLITE_DIR" >"$WORK/rp-sqlite.json"
sleep 3
IDLE_RSS=$(rss_kb)
log "idle RSS after start: $((IDLE_RSS / 1024)) MB"

repeat client_credentials sqlite "$BASE/token" "$BENCH/cc.lua" \
  BENCH_AUTH="$(basic_auth "$WORK/cc-sqlite.json")"
repeat discovery sqlite "$BASE/.well-known/openid-configuration" "$BENCH/get.lua"
repeat jwks sqlite "$BASE/jwks" "$BENCH/get.lua"
seed_and_redeem sqlite "$SQLITE_URL" "$WORK/rp-sqlite.json"
sleep 5
IDLE_AFTER=$(rss_kb)
PEAK=$(hwm_kb)
stop_server

# ---- PostgreSQL ------------------------------------------------------------------------
PG_NOTE="skipped"
if [[ "$PG_ADMIN_URL" != skip ]]; then
  PG_DB="anyid_bench_$(date +%s)_$$"
  psql "$PG_ADMIN_URL" -q -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
  PG_URL="${PG_ADMIN_URL%/*}/$PG_DB"
  PG_DIR="$WORK/pg"
  start_server "$PG_DIR" ANYID_DATABASE_URL="$PG_URL"
  ANYID_DATABASE_URL="$PG_URL" "$ANYID" client add --name bench \
    --grant-type client_credentials --scope bench.read --json --data-dir "$PG_DIR" \
    >"$WORK/cc-pg.json"
  ANYID_DATABASE_URL="$PG_URL" "$ANYID" client add --name rp --redirect-uri "$REDIRECT_URI" \
    --json --data-dir "$PG_DIR" >"$WORK/rp-pg.json"
  sleep 3
  PG_IDLE=$(rss_kb)
  repeat client_credentials postgres "$BASE/token" "$BENCH/cc.lua" \
    BENCH_AUTH="$(basic_auth "$WORK/cc-pg.json")"
  seed_and_redeem postgres "$PG_URL" "$WORK/rp-pg.json"
  PG_PEAK=$(hwm_kb)
  PG_NOTE="idle RSS $((PG_IDLE / 1024)) MB, peak (VmHWM) $((PG_PEAK / 1024)) MB"
  stop_server
fi

# ---- summary ---------------------------------------------------------------------------
echo
echo "== machine"
cat "$WORK/machine.txt"
echo
echo "== every run (wrk -t$THREADS -c$CONNS -d$DURATION --latency)"
column -t -s $'\t' "$RESULTS"
echo
echo "== median run per scenario (req/s range over $REPEAT runs)"
python3 "$BENCH/summarise.py" "$RESULTS"
echo
echo "SQLite server: idle RSS after start $((IDLE_RSS / 1024)) MB;" \
  "idle after the runs $((IDLE_AFTER / 1024)) MB; peak (VmHWM) $((PEAK / 1024)) MB"
echo "PostgreSQL server: $PG_NOTE"
echo "wrk outputs and results.tsv kept in $WORK"
