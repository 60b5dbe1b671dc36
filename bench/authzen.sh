#!/usr/bin/env bash
# AuthZEN evaluations per second on loopback (SQLite, dev mode, release build), with wrk on
# the same machine: a back office's client_credentials token with the authzen scope, then
# single evaluations, each recorded as a personal-data access event before its answer.
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
ANYID_MTLS__LISTEN="127.0.0.1:$((PORT + 5))" \
  "$BUILD/release/anyid" serve --dev --listen "127.0.0.1:$PORT" --data-dir "$WORK" \
  >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 150); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
"$BUILD/release/anyid" client add --name "back office" --grant-type client_credentials \
  --scope authzen --json --data-dir "$WORK" >"$WORK/client.json"
TOKEN=$(python3 - "$WORK/client.json" "$PORT" <<'PY'
import base64, json, sys, urllib.request
c = json.load(open(sys.argv[1]))
req = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[2]}/token",
    data=b"grant_type=client_credentials&scope=authzen",
    headers={"Authorization": "Basic " + base64.b64encode(
        f"{c['client_id']}:{c['client_secret']}".encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded"})
print(json.load(urllib.request.urlopen(req))["access_token"])
PY
)
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
echo "access events stored: $(sqlite3 "$WORK/anyid.db" 'SELECT COUNT(*) FROM personal_data_access' 2>/dev/null || echo '?')"
