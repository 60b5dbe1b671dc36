//! Logs and metrics. JSON logs carry method, route template, status and latency: never query
//! strings, bodies, cookies or tokens. Metrics use a recorder owned by the server (no global),
//! rendered for Prometheus on the admin plane.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Recorder, counter, histogram, with_local_recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use tracing_subscriber::EnvFilter;

use crate::config::LogConfig;

#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        Self {
            recorder: Arc::new(recorder),
            handle,
        }
    }

    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let recorder: &dyn Recorder = self.recorder.as_ref();
        with_local_recorder(recorder, f)
    }

    pub fn request(&self, endpoint: &str, method: &str, status: u16, elapsed: Duration) {
        let endpoint = endpoint.to_owned();
        let method = method_label(method);
        self.with(|| {
            counter!("anyid_http_requests_total", "endpoint" => endpoint.clone(), "method" => method, "status" => status.to_string())
                .increment(1);
            histogram!("anyid_http_request_duration_seconds", "endpoint" => endpoint)
                .record(elapsed.as_secs_f64());
        });
    }

    pub fn token_issued(&self, grant_type: &'static str) {
        self.with(|| {
            counter!("anyid_tokens_issued_total", "grant_type" => grant_type).increment(1)
        });
    }

    /// A decision record dropped because the decision log's queue was full.
    pub fn decision_dropped(&self) {
        self.with(|| counter!("anyid_decisions_dropped_total").increment(1));
    }

    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Fold recorded histogram samples into their buckets. Without it every sample stays in
    /// memory (8 bytes per request) until `/metrics` is next scraped, unbounded if never.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// The metric label of an HTTP method: a standard one (RFC 9110 §9, and PATCH) or `other`,
/// so a client inventing methods cannot grow the metric's label set without bound.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

/// Install the process's log subscriber (the binary calls this once; tests do not).
pub fn init_logging(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.format == "pretty" {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_http_methods_share_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PATCH"), "PATCH");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(method_label("get"), "other");
        let metrics = Metrics::new();
        for invented in ["A1", "A2", "A3"] {
            metrics.request("/token", invented, 405, Duration::from_millis(1));
        }
        let rendered = metrics.render();
        assert!(rendered.contains("method=\"other\""), "{rendered}");
        assert!(!rendered.contains("A1"), "{rendered}");
    }
}
