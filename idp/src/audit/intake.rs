//! Intake of reported access events (`POST /audit/v1/events`, `anyid audit import`): each
//! event of a batch is read and checked on its own, so one bad event is explained without
//! rejecting the others; the accepted ones are appended to the log through one group writer
//! and acknowledged only once committed.

use serde::Serialize;
use serde_json::Value;

use super::event::{AccessRecord, FieldError, ReportedEvent};
use crate::batch::{GroupWriter, WriteError};
use crate::clock::Clock;
use crate::store::Appended;

/// The most events one request may carry.
pub const MAX_BATCH: usize = 1000;

/// The log's writer: a request's accepted records in, their positions out.
pub type LogWriter = GroupWriter<Vec<AccessRecord>, Vec<Appended>>;

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
    events: Vec<Value>,
) -> Result<BatchAnswer, WriteError> {
    let now_ms = i64::try_from(clock.since_epoch().as_millis()).unwrap_or(i64::MAX);
    let mut results = Vec::with_capacity(events.len());
    let mut accepted: Vec<AccessRecord> = Vec::new();
    let mut places: Vec<usize> = Vec::new();
    for (index, value) in events.into_iter().enumerate() {
        let event_id = value
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let checked = serde_json::from_value::<ReportedEvent>(value)
            .map_err(|e| {
                vec![FieldError {
                    field: "event",
                    message: e.to_string(),
                }]
            })
            .and_then(|event| event.check(reporter, now_ms));
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
