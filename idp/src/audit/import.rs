//! `anyid audit import`: access events a back office exported, as JSON lines or as CSV with
//! a header row, checked like the intake's and appended in batches; memory stays bounded
//! whatever the file's size (one batch and the first rejections are held). The reading and
//! batching are shared with `anyid audit import-directory` (`super::directory`).

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

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "csv" => Ok(Format::Csv),
            "json-lines" | "jsonl" => Ok(Format::JsonLines),
            other => Err(format!("--format {other}: json-lines or csv")),
        }
    }
}

/// A line (or row) that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected<E = FieldError> {
    /// 1-based, as an editor shows it (CSV: the row's first line).
    pub line: u64,
    pub errors: Vec<E>,
}

/// Each rejected line and its fields' reasons (`field` gives a reason's field and message),
/// then how many more were only counted.
pub fn explain<E>(
    rejections: &[Rejected<E>],
    rejected: u64,
    field: impl Fn(&E) -> (&str, &str),
) -> Vec<String> {
    let mut out: Vec<String> = rejections
        .iter()
        .map(|r| {
            let why: Vec<String> = r
                .errors
                .iter()
                .map(|e| {
                    let (field, message) = field(e);
                    format!("{field}: {message}")
                })
                .collect();
            format!("line {}: {}", r.line, why.join("; "))
        })
        .collect();
    let untold = rejected.saturating_sub(rejections.len() as u64);
    if untold > 0 {
        out.push(format!("(and {untold} more rejected lines)"));
    }
    out
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
    progress: impl FnMut(u64, u64),
) -> Result<Summary, ImportError> {
    let (mut accepted, mut duplicates) = (0, 0);
    let check = |value: Result<Value, RowError>| {
        value
            .map_err(|e| e.to_string())
            .and_then(|v| serde_json::from_value::<ReportedEvent>(v).map_err(|e| e.to_string()))
            .map_err(|message| {
                vec![FieldError {
                    field: "event",
                    message,
                }]
            })
            .and_then(|event| event.check(reporter, now_ms))
    };
    let append = async |batch: &mut Vec<AccessRecord>| {
        for appended in store.append_audit(batch, received_at).await? {
            match appended {
                Appended::Added(_) => accepted += 1,
                Appended::Duplicate(_) => duplicates += 1,
            }
        }
        Ok(())
    };
    let rows = rows(input, format, |h, r| Ok(csv_event(h, r)))?;
    let tally = in_batches(rows, check, append, progress).await?;
    Ok(Summary {
        lines: tally.lines,
        accepted,
        duplicates,
        rejected: tally.rejected,
        rejections: tally.rejections,
    })
}

/// Why a line could not be read as an object: the column, for a CSV cell, and in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl RowError {
    fn whole(message: impl ToString) -> Self {
        Self {
            field: None,
            message: message.to_string(),
        }
    }
}

/// One line (JSON lines) or row (CSV) read as the JSON object it holds.
pub struct Row {
    /// 1-based, as an editor shows it (CSV: the row's first line).
    pub line: u64,
    pub value: Result<Value, RowError>,
    /// Bytes read so far.
    pub bytes: u64,
}

/// The lines of an import file as JSON objects: JSON lines (blank lines skipped), or CSV
/// rows made objects by `csv_row` from the header row and the row.
pub enum Rows<R, F> {
    JsonLines {
        lines: std::io::Lines<R>,
        line: u64,
        bytes: u64,
    },
    Csv {
        reader: csv::Reader<R>,
        headers: csv::StringRecord,
        row: csv::StringRecord,
        csv_row: F,
    },
}

/// Read `input` as `format`; a CSV file's header row is read at once.
pub fn rows<R, F>(input: R, format: Format, csv_row: F) -> Result<Rows<R, F>, ImportError>
where
    R: BufRead,
    F: Fn(&csv::StringRecord, &csv::StringRecord) -> Result<Value, RowError>,
{
    Ok(match format {
        Format::JsonLines => Rows::JsonLines {
            lines: input.lines(),
            line: 0,
            bytes: 0,
        },
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
            let headers = reader
                .headers()
                .map_err(|e| ImportError::Read(e.to_string()))?
                .clone();
            Rows::Csv {
                reader,
                headers,
                row: csv::StringRecord::new(),
                csv_row,
            }
        }
    })
}

impl<R, F> Iterator for Rows<R, F>
where
    R: BufRead,
    F: Fn(&csv::StringRecord, &csv::StringRecord) -> Result<Value, RowError>,
{
    type Item = Result<Row, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Rows::JsonLines { lines, line, bytes } => loop {
                let text = match lines.next()? {
                    Ok(text) => text,
                    Err(e) => return Some(Err(ImportError::Read(e.to_string()))),
                };
                *line += 1;
                *bytes += text.len() as u64 + 1;
                if !text.trim().is_empty() {
                    let value = serde_json::from_str::<Value>(&text).map_err(RowError::whole);
                    return Some(Ok(Row {
                        line: *line,
                        value,
                        bytes: *bytes,
                    }));
                }
            },
            Rows::Csv {
                reader,
                headers,
                row,
                csv_row,
            } => {
                let (line, value) = match reader.read_record(row) {
                    Ok(false) => return None,
                    Ok(true) => (
                        row.position().map_or(0, |p| p.line()),
                        csv_row(headers, row),
                    ),
                    Err(e) => match e.kind() {
                        // A row of another width is one bad row; anything else ends the read.
                        csv::ErrorKind::UnequalLengths { pos, .. } => (
                            pos.as_ref().map_or(0, |p| p.line()),
                            Err(RowError::whole(&e)),
                        ),
                        _ => return Some(Err(ImportError::Read(e.to_string()))),
                    },
                };
                let bytes = reader.position().byte();
                Some(Ok(Row { line, value, bytes }))
            }
        }
    }
}

/// Lines read and rejected, with the first rejections' reasons.
#[derive(Debug, Default)]
pub struct Tally<E> {
    pub lines: u64,
    pub rejected: u64,
    pub rejections: Vec<Rejected<E>>,
}

/// Check each row, and hand what passes to `store` in batches of [`BATCH`] (memory stays
/// bounded whatever the file's size); `progress` hears (lines read, bytes read) after each.
pub async fn in_batches<T, E>(
    rows: impl Iterator<Item = Result<Row, ImportError>>,
    mut check: impl FnMut(Result<Value, RowError>) -> Result<T, Vec<E>>,
    mut store: impl AsyncFnMut(&mut Vec<T>) -> Result<(), ImportError>,
    mut progress: impl FnMut(u64, u64),
) -> Result<Tally<E>, ImportError> {
    let mut tally = Tally {
        lines: 0,
        rejected: 0,
        rejections: Vec::new(),
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut bytes = 0;
    for row in rows {
        let row = row?;
        tally.lines += 1;
        bytes = row.bytes;
        match check(row.value) {
            Ok(item) => batch.push(item),
            Err(errors) => {
                tally.rejected += 1;
                if tally.rejections.len() < KEEP_REJECTED {
                    tally.rejections.push(Rejected {
                        line: row.line,
                        errors,
                    });
                }
            }
        }
        if batch.len() == BATCH {
            store(&mut batch).await?;
            batch.clear();
            progress(tally.lines, bytes);
        }
    }
    if !batch.is_empty() {
        store(&mut batch).await?;
    }
    progress(tally.lines, bytes);
    Ok(tally)
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
