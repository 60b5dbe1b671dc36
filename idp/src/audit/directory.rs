//! `anyid audit import-directory`: reference data a deployment knows as configuration or HR
//! data (officials, agencies, networks, the working calendar, flagged citizens, the
//! case-management feed; `anyid_policy::directory`) imported the way `anyid audit import`
//! imports access events: JSON lines or CSV with a header row, checked line by line, stored
//! in batches, a summary with the reason of each rejected line.
//!
//! CSV has one rule for what a cell holds: lists of names, codes or addresses are separated
//! by `;`; lists of objects (an official's shifts, roster, leave and travel) are the JSON
//! array their JSON line would hold; an empty cell is an absent field.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyid_policy::directory::{FieldError, Kind, Record};
use serde::Serialize;
use serde_json::{Map, Value};

use super::import::{Format, ImportError, Rejected, RowError, explain, in_batches, rows};
use crate::clock::UnixTime;
use crate::store::{DirectoryPut, DirectoryStore};

/// The file name extensions an import folder's files have, and how they are read.
const EXTENSIONS: [(&str, Format); 2] = [("jsonl", Format::JsonLines), ("csv", Format::Csv)];

/// What an import of one file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub lines: u64,
    /// Entries whose key was new.
    pub accepted: u64,
    /// Entries that replaced one stored under the same key.
    pub updated: u64,
    pub rejected: u64,
    /// The first rejections with their reasons.
    pub rejections: Vec<Rejected<FieldError>>,
}

impl Summary {
    /// The summary in words: the counts, then each rejected line and why.
    pub fn report(&self) -> Vec<String> {
        let counts = format!(
            "{} lines: {} accepted (new), {} updated (replaced the entry with the same key), \
             {} rejected",
            self.lines, self.accepted, self.updated, self.rejected
        );
        let why = explain(&self.rejections, self.rejected, |e| {
            (e.field.as_str(), e.message.as_str())
        });
        std::iter::once(counts).chain(why).collect()
    }
}

/// Import entries of `kind` from `input`, stored at `now`; `progress` hears (lines read,
/// bytes read).
pub async fn import(
    store: &impl DirectoryStore,
    kind: Kind,
    input: impl BufRead,
    format: Format,
    now: UnixTime,
    progress: impl FnMut(u64, u64),
) -> Result<Summary, ImportError> {
    let (mut accepted, mut updated) = (0, 0);
    let check = |value: Result<Value, RowError>| {
        let value = value.map_err(|e| {
            vec![FieldError {
                field: e.field.unwrap_or_else(|| "record".into()),
                message: e.message,
            }]
        })?;
        Record::from_json(kind, value)
    };
    let put = async |batch: &mut Vec<Record>| {
        for put in store.put_directory(batch, now).await? {
            match put {
                DirectoryPut::Added => accepted += 1,
                DirectoryPut::Replaced => updated += 1,
            }
        }
        Ok(())
    };
    let rows = rows(input, format, |headers, row| csv_entry(kind, headers, row))?;
    let tally = in_batches(rows, check, put, progress).await?;
    Ok(Summary {
        lines: tally.lines,
        accepted,
        updated,
        rejected: tally.rejected,
        rejections: tally.rejections,
    })
}

/// What a CSV cell of a kind's column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Text,
    /// Items separated by `;`.
    List,
    /// A JSON array of objects.
    Json,
    Bool,
    Number,
}

fn cell(kind: Kind, column: &str) -> Cell {
    match (kind, column) {
        (Kind::Officials, "workstations")
        | (Kind::Agencies, "offices" | "ranges" | "jurisdiction")
        | (Kind::Cases, "assigned" | "subjects") => Cell::List,
        (Kind::Officials, "shifts" | "roster" | "leave" | "travel") => Cell::Json,
        (Kind::Agencies, "national" | "records_purpose") => Cell::Bool,
        (Kind::Calendar, "weekday") => Cell::Number,
        _ => Cell::Text,
    }
}

/// A CSV row as the entry its JSON line would be; a cell that cannot be read names its
/// column.
fn csv_entry(
    kind: Kind,
    headers: &csv::StringRecord,
    row: &csv::StringRecord,
) -> Result<Value, RowError> {
    let mut object = Map::new();
    for (name, text) in headers.iter().zip(row.iter()) {
        let (name, text) = (name.trim(), text.trim());
        if text.is_empty() {
            continue;
        }
        let value = cell_value(cell(kind, name), text).map_err(|message| RowError {
            field: Some(name.to_owned()),
            message,
        })?;
        object.insert(name.to_owned(), value);
    }
    Ok(Value::Object(object))
}

fn cell_value(cell: Cell, text: &str) -> Result<Value, String> {
    match cell {
        Cell::Text => Ok(Value::from(text)),
        Cell::List => Ok(Value::from(
            text.split(';')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .collect::<Vec<_>>(),
        )),
        Cell::Json => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_array)
            .ok_or_else(|| {
                "a JSON array of objects, like [{\"from\": \"2026-12-24\", \"to\": \
                 \"2026-12-31\"}]"
                    .to_owned()
            }),
        Cell::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::from(true)),
            "false" => Ok(Value::from(false)),
            _ => Err("true or false".to_owned()),
        },
        Cell::Number => text
            .parse::<u64>()
            .map(Value::from)
            .map_err(|_| "a whole number".to_owned()),
    }
}

/// One file an import reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub kind: Kind,
    pub format: Format,
}

/// The files an import of `path` reads, and the names in a folder it does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub sources: Vec<Source>,
    pub unknown: Vec<String>,
}

/// The names an import folder's files may have: `officials.jsonl`, `officials.csv`, ...
pub fn known_names() -> Vec<String> {
    Kind::ALL
        .iter()
        .flat_map(|kind| EXTENSIONS.map(|(ext, _)| format!("{}.{ext}", kind.name())))
        .collect()
}

/// A known file name's kind and format.
fn known(name: &str) -> Option<(Kind, Format)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let format = EXTENSIONS.iter().find(|(e, _)| *e == ext)?.1;
    Some((Kind::from_name(stem)?, format))
}

/// What to import from `path`: a file (its kind from `kind` or its name, its format from
/// `format` or its extension), or a folder's known files in the order of [`Kind::ALL`],
/// JSON lines before CSV, those of `kind` and `format` only when given.
pub fn plan(path: &Path, kind: Option<Kind>, format: Option<Format>) -> Result<Plan, String> {
    let shown = path.display();
    if path.is_dir() {
        return plan_folder(path, kind, format);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kind = kind
        .or_else(|| known(&name).map(|(k, _)| k))
        .ok_or_else(|| {
            format!(
                "{shown}: which kind of entries it holds is not in its name ({}); say it with \
                 --kind",
                known_names().join(", ")
            )
        })?;
    let format = format.unwrap_or_else(|| Format::of(&name));
    Ok(Plan {
        sources: vec![Source {
            path: path.to_owned(),
            kind,
            format,
        }],
        unknown: Vec::new(),
    })
}

fn plan_folder(dir: &Path, kind: Option<Kind>, format: Option<Format>) -> Result<Plan, String> {
    let shown = dir.display();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {shown}: {e}"))?;
    let mut plan = Plan::default();
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {shown}: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        match known(&name) {
            Some((k, f)) if entry.path().is_file() => {
                if kind.is_none_or(|want| want == k) && format.is_none_or(|want| want == f) {
                    plan.sources.push(Source {
                        path: entry.path(),
                        kind: k,
                        format: f,
                    });
                }
            }
            _ => plan.unknown.push(name),
        }
    }
    let order = |s: &Source| {
        let kind = Kind::ALL.iter().position(|k| *k == s.kind);
        (kind, s.format == Format::Csv)
    };
    plan.sources.sort_by_key(order);
    plan.unknown.sort();
    if plan.sources.is_empty() {
        return Err(format!(
            "{shown} holds no file to import; their names are {}",
            known_names().join(", ")
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn record(header: &str, line: &str) -> csv::StringRecord {
        let text = format!("{header}\n{line}\n");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        reader.records().next().unwrap().unwrap()
    }

    fn headers(header: &str) -> csv::StringRecord {
        csv::StringRecord::from(header.split(',').collect::<Vec<_>>())
    }

    #[test]
    fn a_csv_row_becomes_the_entry_its_json_line_would_be() {
        let header = "id,agency,role,workstations,shifts,leave";
        let row = record(
            header,
            "u1,AG02,clerk,10.1.2.3; 10.9.0.0/16,\"[{\"\"days\"\": [1], \"\"start\"\": \
             \"\"09:00\"\", \"\"end\"\": \"\"18:00\"\"}]\",",
        );
        let value = csv_entry(Kind::Officials, &headers(header), &row).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"id": "u1", "agency": "AG02", "role": "clerk",
                "workstations": ["10.1.2.3", "10.9.0.0/16"],
                "shifts": [{"days": [1], "start": "09:00", "end": "18:00"}]})
        );
        let header = "id,name,national";
        let bad = csv_entry(
            Kind::Agencies,
            &headers(header),
            &record(header, "AG1,NTS,yes"),
        );
        assert_eq!(
            bad,
            Err(RowError {
                field: Some("national".into()),
                message: "true or false".into()
            })
        );
        let header = "weekday,start,end";
        let hours = csv_entry(
            Kind::Calendar,
            &headers(header),
            &record(header, "1,09:00,18:00"),
        );
        assert_eq!(hours.unwrap()["weekday"], 1);
    }

    #[test]
    fn a_folder_is_read_in_kind_order_and_a_lone_file_needs_its_kind() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["cases.csv", "officials.csv", "officials.jsonl", "notes.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let plan = plan(dir.path(), None, None).unwrap();
        let names: Vec<(Kind, Format)> = plan.sources.iter().map(|s| (s.kind, s.format)).collect();
        assert_eq!(
            names,
            [
                (Kind::Officials, Format::JsonLines),
                (Kind::Officials, Format::Csv),
                (Kind::Cases, Format::Csv)
            ]
        );
        assert_eq!(plan.unknown, ["notes.txt"]);
        let only = super::plan(dir.path(), Some(Kind::Officials), Some(Format::Csv)).unwrap();
        assert_eq!(only.sources.len(), 1);
        assert!(super::plan(dir.path(), Some(Kind::Networks), None).is_err());
        let export = dir.path().join("hr-export.csv");
        std::fs::write(&export, "").unwrap();
        assert!(
            super::plan(&export, None, None)
                .unwrap_err()
                .contains("--kind")
        );
        let with_kind = super::plan(&export, Some(Kind::Officials), None).unwrap();
        assert_eq!(with_kind.sources[0].format, Format::Csv);
    }
}
