//! In-process decision latency of the default policy set with realistic entities:
//! `cargo bench -p anyid-policy --bench decide`. Criterion reports the mean per decision;
//! the percentile pass after it times 200,000 single decisions and prints p50/p99/p99.9
//! (figures and method in BENCHMARKS.md).

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyid_policy::{Engine, Request};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

/// Tuesday 8 December 2026, 10:00 in Seoul.
const WORKING: Duration = Duration::from_secs(1_796_691_600);

fn requests() -> Vec<(&'static str, Request)> {
    let parse = |v: serde_json::Value| -> Request {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("bench request: {e}"))
    };
    vec![
        (
            "authorize (citizen session, acr_values)",
            parse(json!({
                "principal": {"type": "citizen", "id": "c-8d1f0a"},
                "action": "authorize",
                "resource": {"type": "client", "id": "land-registry", "sensitive": false,
                    "agency": {"id": "molit", "national": true}},
                "context": {"ip": "203.0.113.7", "acr": "substantial", "amr": ["hwk", "user"],
                    "auth_age_s": 320, "session_age_s": 900, "known_device": true, "risk": 10,
                    "requested": ["substantial"], "reachable": "high"}
            })),
        ),
        (
            "issue_token (client credentials)",
            parse(json!({
                "principal": {"type": "client", "id": "svc-batch"},
                "action": "issue_token",
                "resource": {"type": "client", "id": "svc-batch"},
                "context": {"ip": "10.20.1.9"}
            })),
        ),
        (
            "access_personal_data (official, record, purpose)",
            parse(json!({
                "principal": {"type": "official", "id": "kim", "role": "caseworker",
                    "on_duty": false, "citizen": "c-1", "household": "h-1",
                    "agency": {"id": "mapo-gu", "jurisdiction": ["11440", "11"]}},
                "action": "access_personal_data",
                "resource": {"type": "citizen_record", "id": "r-9", "owner": "c-2",
                    "region": "11", "household": "h-2"},
                "context": {"ip": "10.1.2.3", "purpose": "benefit review",
                    "case_id": "2026-77", "operation": "view"}
            })),
        ),
    ]
}

fn decisions(c: &mut Criterion) {
    let engine = Engine::with_defaults().unwrap_or_else(|e| panic!("default policies: {e}"));
    for (name, request) in requests() {
        // Release builds skip the per-request schema check: the answers must not change.
        let outcome = engine.evaluate(&request, WORKING);
        assert_eq!(
            outcome.decision,
            anyid_policy::Decision::Allow,
            "{name}: {outcome:?}"
        );
        c.bench_function(name, |b| {
            b.iter(|| black_box(engine.evaluate(black_box(&request), WORKING)))
        });
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` runs each bench once only.
    if std::env::args().any(|a| a == "--bench") {
        percentiles(&engine);
    }
}

/// Individually timed decisions, for the tail the goal names (p99 ≤ 50 µs).
fn percentiles(engine: &Engine) {
    for (name, request) in requests() {
        let mut samples: Vec<Duration> = (0..200_000)
            .map(|_| {
                let start = Instant::now();
                black_box(engine.evaluate(black_box(&request), WORKING));
                start.elapsed()
            })
            .collect();
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
        println!(
            "PERCENTILES {name}: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs",
            at(0.50).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6,
            at(0.999).as_secs_f64() * 1e6,
        );
    }
}

criterion_group!(benches, decisions);
criterion_main!(benches);
