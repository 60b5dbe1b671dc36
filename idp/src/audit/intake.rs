//! Intake of reported access events (`POST /audit/v1/events`, `anyid audit import`): each
//! event of a batch is read and checked on its own, so one bad event is explained without
//! rejecting the others; the accepted ones are appended to the log through one group writer
//! and acknowledged only once committed.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::event::{AccessRecord, FieldError, ReportedEvent};
use crate::batch::{GroupWriter, WriteError};
use crate::clock::Clock;
use crate::store::Appended;

/// The most events one request may carry.
pub const MAX_BATCH: usize = 1000;

/// The log's writer: a request's accepted records in, their positions out.
pub type LogWriter = GroupWriter<Vec<AccessRecord>, Vec<Appended>>;

/// Start the log's writer: each row is one request's records, and a commit takes many
/// requests' rows (group commit), answering each with its records' positions.
pub fn spawn_writer(store: crate::store::SqlStore, clock: std::sync::Arc<dyn Clock>) -> LogWriter {
    GroupWriter::spawn_with_results(200, 100, move |batches: Vec<Vec<AccessRecord>>| {
        let store = store.clone();
        let now = clock.now();
        async move {
            use crate::store::AuditStore;
            let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
            let all: Vec<_> = batches.into_iter().flatten().collect();
            let mut appended = store.append_audit(&all, now).await?.into_iter();
            Ok(sizes
                .into_iter()
                .map(|n| appended.by_ref().take(n).collect())
                .collect())
        }
    })
}

/// What became of one event of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventResult {
    /// Its place in the batch (from 0).
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `accepted`, `duplicate` (sent before; not stored again) or `rejected`.
    pub status: &'static str,
    /// Its position in the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// What the intake noticed and kept it anyway for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchAnswer {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub results: Vec<EventResult>,
}

/// Check `events` reported by `reporter` and append the acceptable ones; the answer says
/// what became of each. Fails only when the log could not be written (nothing of the batch
/// is then acknowledged).
pub async fn take(
    log: &LogWriter,
    clock: &dyn Clock,
    reporter: &str,
    events: Vec<Box<RawValue>>,
) -> Result<BatchAnswer, WriteError> {
    /// What can be told of an event that does not read: its id, if it has one.
    #[derive(Deserialize)]
    struct JustTheId {
        event_id: Option<String>,
    }
    let now_ms = i64::try_from(clock.since_epoch().as_millis()).unwrap_or(i64::MAX);
    let mut results = Vec::with_capacity(events.len());
    let mut accepted: Vec<AccessRecord> = Vec::new();
    let mut places: Vec<usize> = Vec::new();
    for (index, raw) in events.into_iter().enumerate() {
        let (event_id, checked) = match serde_json::from_str::<ReportedEvent>(raw.get()) {
            Ok(event) => (Some(event.event_id.clone()), event.check(reporter, now_ms)),
            Err(e) => (
                serde_json::from_str::<JustTheId>(raw.get())
                    .ok()
                    .and_then(|j| j.event_id),
                Err(vec![FieldError {
                    field: "event",
                    message: e.to_string(),
                }]),
            ),
        };
        match checked {
            Ok(record) => {
                places.push(results.len());
                results.push(EventResult {
                    index,
                    event_id,
                    status: "accepted",
                    seq: None,
                    marks: record.marks.clone(),
                    errors: Vec::new(),
                });
                accepted.push(record);
            }
            Err(errors) => results.push(EventResult {
                index,
                event_id,
                status: "rejected",
                seq: None,
                marks: Vec::new(),
                errors,
            }),
        }
    }
    if !accepted.is_empty() {
        let appended = log.write(accepted).await?;
        for (place, outcome) in places.into_iter().zip(appended) {
            let result = &mut results[place];
            result.seq = Some(outcome.seq());
            if let Appended::Duplicate(_) = outcome {
                result.status = "duplicate";
            }
        }
    }
    let count = |status: &str| results.iter().filter(|r| r.status == status).count();
    Ok(BatchAnswer {
        accepted: count("accepted"),
        duplicates: count("duplicate"),
        rejected: count("rejected"),
        results,
    })
}
