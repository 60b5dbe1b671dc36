"""Summarise bench/run.sh results: the median run (by req/s) of each scenario, as Markdown.

Usage: python3 summarise.py results.tsv
"""

import csv
import sys


def main(path):
    groups = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            groups.setdefault((row["scenario"], row["backend"]), []).append(row)
    print(
        "| scenario | backend | req/s (median) | req/s range | p50 ms | p99 ms "
        "| non-200 (all runs) | max RSS under load MB | CPU idle during run % "
        "| socket errors |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---|")
    for (scenario, backend), runs in groups.items():
        runs.sort(key=lambda r: float(r["req/s"] or 0))
        median = runs[(len(runs) - 1) // 2]
        rates = [float(r["req/s"] or 0) for r in runs]
        non200 = sum(int(r["non200"]) for r in runs if r["non200"].isdigit())
        rss = max(int(r["max_rss_mb"] or 0) for r in runs)
        errors = "; ".join(
            sorted({r["socket_errors"] for r in runs if r["socket_errors"] != "none"})
        )
        dry = sum(int(r["exhausted"] or 0) for r in runs)
        note = f" (codes ran out in {dry} thread-runs)" if dry else ""
        print(
            f"| {scenario}{note} | {backend} | {float(median['req/s']):,.0f} "
            f"| {min(rates):,.0f}–{max(rates):,.0f} | {median['p50_ms']} "
            f"| {median['p99_ms']} | {non200} | {rss} | {median['idle_during_%']} "
            f"| {errors or 'none'} |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
