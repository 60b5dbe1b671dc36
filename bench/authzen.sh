#!/usr/bin/env bash
# AuthZEN evaluations per second on loopback (SQLite, dev mode, release build), with wrk on
# the same machine: a back office's client_credentials token with the authzen scope, then
# single evaluations, each appended to the access record before its answer.
#
#   bench/authzen.sh TARGET_DIR [RUNS]    # TARGET_DIR/release/anyid is a release build
#
# Environment: BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (64),
# BENCH_PORT (18280). Prints one line per run and the median.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$1 RUNS=${2:-3}
DURATION=${BENCH_DURATION:-10s} THREADS=${BENCH_THREADS:-2} CONNS=${BENCH_CONNECTIONS:-64}
PORT=${BENCH_PORT:-18280}
WORK=$(mktemp -d /tmp/anyid-authzen.XXXXXX)
export ANYID_LOG__LEVEL=warn
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap 'kill -TERM "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
start_server "$BUILD" "$PORT" "$WORK"
TOKEN=$(service_token "$BUILD" "$PORT" "$WORK" authzen)
printf 'run\tevaluations/s\twrk-script summary\n'
for i in $(seq "$RUNS"); do
  sleep 2
  out="$WORK/run-$i.txt"
  BENCH_TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency \
    -s "$ROOT/bench/authzen.lua" "http://127.0.0.1:$PORT/access/v1/evaluation" >"$out" 2>&1
  printf '%s\t%s\t%s\n' "$i" "$(awk '/^Requests\/sec:/ {print $2}' "$out")" \
    "$(grep '^BENCH ' "$out")" | tee -a "$WORK/results.tsv"
done
python3 - "$WORK/results.tsv" <<'PY'
import statistics, sys
rps = sorted(float(l.split("\t")[1]) for l in open(sys.argv[1]).read().splitlines())
print(f"median {statistics.median(rps):,.0f} evaluations/s over {len(rps)} runs "
      f"(range {rps[0]:,.0f}-{rps[-1]:,.0f})")
PY
echo "decisions in the access record: $(sqlite3 "$WORK/anyid.db" "SELECT COUNT(*) FROM audit_events WHERE kind = 'decision'" 2>/dev/null || echo '?')"
