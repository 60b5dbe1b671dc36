//! `anyid audit import`: access events a back office exported, as JSON lines or as CSV with
//! a header row, checked like the intake's and appended in batches; memory stays bounded
//! whatever the file's size (one batch and the first rejections are held).

use std::io::BufRead;

use serde::Serialize;
use serde_json::{Map, Value};

use super::event::{AccessRecord, FieldError, ReportedEvent};
use crate::store::{Appended, AuditStore, StoreError};

/// Records appended per transaction.
const BATCH: usize = 1000;
/// Rejections kept with their reasons; more are only counted.
const KEEP_REJECTED: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// A header row naming the fields, then one event per row; `data_categories` separated
    /// by `;`.
    Csv,
}

impl Format {
    /// From a file name: `.csv` is CSV, anything else JSON lines.
    pub fn of(name: &str) -> Self {
        if name.to_ascii_lowercase().ends_with(".csv") {
            Format::Csv
        } else {
            Format::JsonLines
        }
    }
}

/// A line (or row) that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// 1-based, as an editor shows it (CSV: the row's first line).
    pub line: u64,
    pub errors: Vec<FieldError>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub lines: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// The first rejections with their reasons.
    pub rejections: Vec<Rejected>,
}

impl Summary {
    fn reject(&mut self, line: u64, errors: Vec<FieldError>) {
        self.rejected += 1;
        if self.rejections.len() < KEEP_REJECTED {
            self.rejections.push(Rejected { line, errors });
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading the file: {0}")]
    Read(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Import events from `input` as `reporter`; `progress` hears (lines read, bytes read).
pub async fn import(
    store: &impl AuditStore,
    reporter: &str,
    input: impl BufRead,
    format: Format,
    now_ms: i64,
    received_at: i64,
    mut progress: impl FnMut(u64, u64),
) -> Result<Summary, ImportError> {
    let mut summary = Summary::default();
    let mut batch: Vec<AccessRecord> = Vec::with_capacity(BATCH);
    let flush = async |batch: &mut Vec<AccessRecord>, summary: &mut Summary| {
        if batch.is_empty() {
            return Ok::<(), ImportError>(());
        }
        for appended in store.append_audit(batch, received_at).await? {
            match appended {
                Appended::Added(_) => summary.accepted += 1,
                Appended::Duplicate(_) => summary.duplicates += 1,
            }
        }
        batch.clear();
        Ok(())
    };
    let take = |line: u64, value: Result<Value, String>, summary: &mut Summary| {
        summary.lines += 1;
        let checked = value
            .and_then(|v| serde_json::from_value::<ReportedEvent>(v).map_err(|e| e.to_string()))
            .map_err(|message| {
                vec![FieldError {
                    field: "event",
                    message,
                }]
            })
            .and_then(|event| event.check(reporter, now_ms));
        match checked {
            Ok(record) => Some(record),
            Err(errors) => {
                summary.reject(line, errors);
                None
            }
        }
    };
    match format {
        Format::JsonLines => {
            let mut bytes = 0u64;
            for (i, line) in input.lines().enumerate() {
                let line = line.map_err(|e| ImportError::Read(e.to_string()))?;
                bytes += line.len() as u64 + 1;
                if line.trim().is_empty() {
                    continue;
                }
                let value = serde_json::from_str::<Value>(&line).map_err(|e| e.to_string());
                if let Some(record) = take(i as u64 + 1, value, &mut summary) {
                    batch.push(record);
                }
                if batch.len() == BATCH {
                    flush(&mut batch, &mut summary).await?;
                    progress(summary.lines, bytes);
                }
            }
            flush(&mut batch, &mut summary).await?;
            progress(summary.lines, bytes);
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
            let headers = reader
                .headers()
                .map_err(|e| ImportError::Read(e.to_string()))?
                .clone();
            let mut row = csv::StringRecord::new();
            loop {
                let (line, value) = match reader.read_record(&mut row) {
                    Ok(false) => break,
                    Ok(true) => (
                        row.position().map_or(0, |p| p.line()),
                        Ok(csv_event(&headers, &row)),
                    ),
                    Err(e) => match e.kind() {
                        // A row of another width is one bad row; anything else ends the read.
                        csv::ErrorKind::UnequalLengths { pos, .. } => {
                            (pos.as_ref().map_or(0, |p| p.line()), Err(format!("{e}")))
                        }
                        _ => return Err(ImportError::Read(e.to_string())),
                    },
                };
                if let Some(record) = take(line, value, &mut summary) {
                    batch.push(record);
                }
                if batch.len() == BATCH {
                    flush(&mut batch, &mut summary).await?;
                    progress(summary.lines, reader.position().byte());
                }
            }
            flush(&mut batch, &mut summary).await?;
            progress(summary.lines, reader.position().byte());
        }
    }
    Ok(summary)
}

/// A CSV row as the event object the intake reads: empty cells are absent, `record_count`
/// a number when it reads as one, `data_categories` split at `;`.
fn csv_event(headers: &csv::StringRecord, row: &csv::StringRecord) -> Value {
    let mut object = Map::new();
    for (name, cell) in headers.iter().zip(row.iter()) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let value = match name.trim() {
            "data_categories" => Value::from(
                cell.split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>(),
            ),
            "record_count" => cell
                .parse::<u64>()
                .map_or_else(|_| Value::from(cell), Value::from),
            _ => Value::from(cell),
        };
        object.insert(name.trim().to_owned(), value);
    }
    Value::Object(object)
}
