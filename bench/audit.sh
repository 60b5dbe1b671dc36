#!/usr/bin/env bash
# Access-record intake on loopback (SQLite, dev mode, release build), wrk on the same
# machine: batches of BENCH_BATCH events (500) posted by a back office with an audit:write
# token; every event is new, checked, appended to the Merkle-tree log and committed before
# the answer.
#
#   bench/audit.sh TARGET_DIR [RUNS]    # TARGET_DIR/release/anyid is a release build
#
# Environment: BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (16),
# BENCH_BATCH (500), BENCH_PORT (18480). Prints events/s per run and the median.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$1 RUNS=${2:-3}
DURATION=${BENCH_DURATION:-10s} THREADS=${BENCH_THREADS:-2} CONNS=${BENCH_CONNECTIONS:-16}
BATCH=${BENCH_BATCH:-500} PORT=${BENCH_PORT:-18480}
WORK=$(mktemp -d /tmp/anyid-audit.XXXXXX)
export ANYID_LOG__LEVEL=warn
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap 'kill -TERM "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
start_server "$BUILD" "$PORT" "$WORK"
TOKEN=$(service_token "$BUILD" "$PORT" "$WORK" audit:write)
printf 'run\tevents/s\twrk-script summary\n'
for i in $(seq "$RUNS"); do
  sleep 2
  out="$WORK/run-$i.txt"
  BENCH_TOKEN=$TOKEN BENCH_BATCH=$BATCH BENCH_RUN=$i wrk -t"$THREADS" -c"$CONNS" \
    -d"$DURATION" --latency -s "$ROOT/bench/audit.lua" \
    "http://127.0.0.1:$PORT/audit/v1/events" >"$out" 2>&1
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  printf '%s\t%.0f\t%s\n' "$i" "$(python3 -c "print($rps * $BATCH)")" \
    "$(grep '^BENCH ' "$out")" | tee -a "$WORK/results.tsv"
done
python3 - "$WORK/results.tsv" <<'PY'
import statistics, sys
eps = sorted(float(l.split("\t")[1]) for l in open(sys.argv[1]).read().splitlines())
print(f"median {statistics.median(eps):,.0f} events/s over {len(eps)} runs "
      f"(range {eps[0]:,.0f}-{eps[-1]:,.0f})")
PY
echo "events stored: $(sqlite3 "$WORK/anyid.db" 'SELECT COUNT(*) FROM audit_events' 2>/dev/null || echo '?')"
echo "database size: $(du -sh "$WORK" | cut -f1)"
