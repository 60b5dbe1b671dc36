#!/usr/bin/env bash
# Memory of `anyid audit import` against the number of events: imports files of N events
# (JSON lines, every event new) into a fresh SQLite record, or into PostgreSQL when
# ANYID_DATABASE_URL is set, and reports the peak resident memory (GNU time) and events/s per
# size. Bounded memory shows as the same peak for 1 million and 10 million events.
#
#   bench/import.sh TARGET_DIR [SIZES]    # TARGET_DIR/release/anyid is a release build
#
# SIZES defaults to "1000000 10000000". Needs about 400 bytes of disk per event for the file
# and as much again for the SQLite database. After each import it reports the bytes stored
# per event and the latency of the citizen-history query (every event about one subject in a
# two-year period, newest first) for 200 random subjects.
set -euo pipefail

BUILD=$1 SIZES=${2:-"1000000 10000000"}
WORK=$(mktemp -d /tmp/anyid-import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export ANYID_LOG__LEVEL=warn

# generate N FILE: N events, varied like a back office's (officials, citizens, actions).
generate() {
  python3 - "$1" "$2" <<'PY'
import sys, random
n, path = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
actions = ["view"] * 8 + ["update", "print", "download"]
with open(path, "w", buffering=1 << 20) as out:
    for i in range(n):
        a = actions[rnd.randrange(len(actions))]
        day, sec = divmod(i // 40, 86400)
        out.write(
            '{"event_id":"i-%d","ts":"2026-%02d-%02dT%02d:%02d:%02d+09:00","kind":"access",'
            '"actor_id":"official-%d","actor_agency":"agency-%d","actor_role":"caseworker",'
            '"source_ip":"10.%d.%d.%d","outcome":"success","subject_id":"citizen-%d",'
            '"action":"%s","data_categories":["income","address"],"purpose":"benefit review",'
            '"case_id":"case-%d"%s}\n'
            % (i, 1 + day // 28 % 12, 1 + day % 28, sec // 3600, sec // 60 % 60, sec % 60,
               rnd.randrange(20000), rnd.randrange(250), rnd.randrange(250), rnd.randrange(250),
               rnd.randrange(250), rnd.randrange(5_000_000), a, rnd.randrange(100000),
               ',"record_count":50,"reason":"monthly report"' if a == "download" else ""))
PY
}

# query_latency N: bytes per event, and the history query's latency over 200 subjects.
query_latency() {
  python3 - "$1" "$WORK" "${ANYID_DATABASE_URL:-}" <<'PY'
import os, random, statistics, subprocess, sys, time
n, work, pg = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rnd = random.Random(11)
subjects = [f"citizen-{rnd.randrange(5_000_000)}" for _ in range(200)]
query = ("SELECT seq, at_ms, actor_id, action, data_categories FROM audit_events "
         "WHERE subject_id = '{}' AND at_ms >= 1735657200000 AND at_ms < 1798729200000 "
         "ORDER BY at_ms DESC LIMIT 1000;")
if pg:
    size = subprocess.run(["psql", pg, "-tAc", "SELECT pg_total_relation_size('audit_events')"],
                          capture_output=True, text=True, check=True).stdout.strip()
    run = lambda sql: subprocess.run(["psql", pg, "-qtA"], input="\\timing on\n" + sql,
                                     capture_output=True, text=True, check=True).stdout
    pick = lambda out: float(out.strip().splitlines()[-1].split()[1])
else:
    db = os.path.join(work, "data", "anyid.db")
    size = os.path.getsize(db) + sum(os.path.getsize(db + x) for x in ("-wal",) if os.path.exists(db + x))
    run = lambda sql: subprocess.run(["sqlite3", db], input=".timer on\n" + sql,
                                     capture_output=True, text=True, check=True).stdout
    pick = lambda out: float(out.strip().splitlines()[-1].split()[3]) * 1000
ms = sorted(pick(run(query.format(s))) for s in subjects)
print(f"    {int(size) / n:.0f} bytes per event; history query over {len(ms)} subjects: "
      f"p50 {statistics.median(ms):.2f} ms, p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms, max {ms[-1]:.2f} ms")
PY
}

printf 'events\tpeak RSS (MiB)\tseconds\tevents/s\n'
for n in $SIZES; do
  file="$WORK/events-$n.jsonl"
  generate "$n" "$file"
  rm -rf "$WORK/data" && mkdir "$WORK/data"
  if [ -n "${ANYID_DATABASE_URL:-}" ]; then
    psql "$ANYID_DATABASE_URL" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >/dev/null
  fi
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$WORK/rss" "$BUILD/release/anyid" audit import "$file" \
    --reporter bench --data-dir "$WORK/data" >"$WORK/summary-$n.txt" 2>"$WORK/stderr-$n.txt"
  end=$(date +%s.%N)
  python3 - "$n" "$(cat "$WORK/rss")" "$start" "$end" <<'PY'
import sys
n, rss_kib, start, end = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"{n:,}\t{rss_kib / 1024:.1f}\t{end - start:.0f}\t{n / (end - start):,.0f}")
PY
  tail -n 3 "$WORK/summary-$n.txt" | sed 's/^/    /'
  rm -f "$file"
  query_latency "$n"
done
