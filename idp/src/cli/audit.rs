//! `anyid audit`: check the access record.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use anyid::audit::checkpoint;
use anyid::audit::directory;
use anyid::audit::import::{self, Format};
use anyid::audit::verify::{self, Finding};
use anyid::store::CheckpointStore;
use anyid_policy::directory::Kind;

use super::{Place, connect};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Write the access record to standard output as JSON lines, in log order: OCSF 1.1
    /// events (logins as Authentication, the rest as API Activity) or the record's own
    /// fields.
    Export {
        /// `ocsf` or `record`.
        #[arg(long, default_value = "ocsf", value_parser = ["ocsf", "record"])]
        format: String,
        /// Only events at or after this day (UTC, `YYYY-MM-DD`).
        #[arg(long)]
        since: Option<String>,
        /// Only events before this day (UTC, `YYYY-MM-DD`).
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        place: Place,
    },
    /// Append access events a back office exported: JSON lines, or CSV with a header row
    /// (`data_categories` separated by `;`). Ends with a summary; exit status 1 when any line
    /// was rejected.
    Import {
        /// The file (`.csv` is read as CSV unless `--format` says otherwise).
        file: std::path::PathBuf,
        /// The relying party (client id) whose events these are.
        #[arg(long)]
        reporter: String,
        /// `json-lines` or `csv`.
        #[arg(long)]
        format: Option<String>,
        #[command(flatten)]
        place: Place,
    },
    /// Import reference data the access record's detectors read: officials, agencies,
    /// networks, the working calendar, flagged citizens and cases (docs/directory.md).
    ///
    /// PATH is one file, or a folder holding any of officials.jsonl, officials.csv,
    /// agencies.jsonl, agencies.csv, networks.jsonl, networks.csv, calendar.jsonl,
    /// calendar.csv, flagged.jsonl, flagged.csv, cases.jsonl and cases.csv (other files are
    /// named and left alone). JSON lines: one entry per line. CSV: a header row naming the
    /// same fields; lists separated by `;`; lists of objects (an official's shifts, roster,
    /// leave and travel) as the JSON array. An entry replaces the one stored under the same
    /// key. Ends with a summary per file; exit status 1 when any line was rejected.
    ImportDirectory {
        /// A file, or a folder of files named as above.
        path: std::path::PathBuf,
        /// The kind of entries (default: from the file's name); with a folder, only these.
        #[arg(long, value_parser = ["officials", "agencies", "networks", "calendar", "flagged", "cases"])]
        kind: Option<String>,
        /// `json-lines` or `csv` (default: from the file's name); with a folder, only these.
        #[arg(long)]
        format: Option<String>,
        #[command(flatten)]
        place: Place,
    },
    /// Recompute the access record's Merkle tree from the stored events and report the first
    /// altered, missing or inserted event (exit status 1 when something is wrong).
    Verify {
        #[command(flatten)]
        place: Place,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The log's verifier key as published at `/audit/v1/checkpoint/key` and kept by the
        /// auditor (default: the key stored in the database, which whoever rewrote the
        /// database could have replaced).
        #[arg(long)]
        key: Option<String>,
        /// A signed checkpoint kept from `/audit/v1/checkpoint` (repeatable): the record must
        /// still give its root.
        #[arg(long = "checkpoint")]
        checkpoints: Vec<std::path::PathBuf>,
    },
}

pub async fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Import {
            file,
            reporter,
            format,
            place,
        } => import(&file, &reporter, format.as_deref(), &place).await,
        AuditCommand::ImportDirectory {
            path,
            kind,
            format,
            place,
        } => import_directory(&path, kind.as_deref(), format.as_deref(), &place).await,
        AuditCommand::Export {
            format,
            since,
            until,
            place,
        } => export(&format, since.as_deref(), until.as_deref(), &place).await,
        AuditCommand::Verify {
            place,
            json,
            key,
            checkpoints,
        } => {
            let store = connect(&place.load()?).await?;
            let keys = match key {
                Some(text) => vec![
                    checkpoint::parse_verifier_key(&text)
                        .ok_or_else(|| anyhow::anyhow!("--key: not a verifier key"))?,
                ],
                None => store.audit_log_public_keys().await?,
            };
            let mut notes = store.checkpoints().await?;
            for file in &checkpoints {
                notes.push(
                    std::fs::read_to_string(file)
                        .map_err(|e| anyhow::anyhow!("--checkpoint {}: {e}", file.display()))?,
                );
            }
            let mut signed = Vec::new();
            for note in &notes {
                let opened = keys
                    .iter()
                    .find_map(|(name, public)| checkpoint::open(note, name, public));
                match opened {
                    Some(checkpoint) => signed.push(checkpoint),
                    None => anyhow::bail!("a checkpoint is not signed by the log's key:\n{note}"),
                }
            }
            let mut stderr = std::io::stderr();
            let report = verify::verify(&store, &signed, |read, size| {
                // Progress on one line; a closed stderr only loses the progress.
                let _ = write!(stderr, "\rverifying: {read} of {size} events");
                let _ = stderr.flush();
            })
            .await?;
            let _ = writeln!(std::io::stderr());
            if json {
                out!("{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                out!("events in the tree: {}", report.size)?;
                if report.pruned > 0 {
                    out!(
                        "pruned:             events before {} (their retention ended; \
                         checkpoints of fewer events are not checked)",
                        report.pruned
                    )?;
                }
                out!("recomputed root:    {}", report.root)?;
                if report.intact() {
                    out!("intact: every event is the one appended, none missing, none added")?;
                }
                for finding in &report.findings {
                    out!("{}", describe(finding))?;
                }
            }
            Ok(if report.intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

async fn import(
    file: &std::path::Path,
    reporter: &str,
    format: Option<&str>,
    place: &Place,
) -> anyhow::Result<ExitCode> {
    let format = match format {
        None => Format::of(&file.to_string_lossy()),
        Some(name) => name.parse::<Format>().map_err(anyhow::Error::msg)?,
    };
    let store = connect(&place.load()?).await?;
    let (opened, total) = open(file)?;
    let now = super::now();
    let summary = import::import(
        &store,
        reporter,
        opened,
        format,
        now.saturating_mul(1000),
        now,
        progress("importing", total),
    )
    .await?;
    let _ = writeln!(std::io::stderr());
    out!(
        "{} lines: {} accepted, {} duplicate (imported before), {} rejected",
        summary.lines,
        summary.accepted,
        summary.duplicates,
        summary.rejected
    )?;
    let why = import::explain(&summary.rejections, summary.rejected, |e| {
        (e.field, e.message.as_str())
    });
    for line in why {
        out!("{line}")?;
    }
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn import_directory(
    path: &std::path::Path,
    kind: Option<&str>,
    format: Option<&str>,
    place: &Place,
) -> anyhow::Result<ExitCode> {
    let kind = kind
        .map(|name| Kind::from_name(name).ok_or_else(|| anyhow::anyhow!("--kind {name}")))
        .transpose()?;
    let format = format.map(str::parse::<Format>).transpose();
    let plan = directory::plan(path, kind, format.map_err(anyhow::Error::msg)?)
        .map_err(anyhow::Error::msg)?;
    if !plan.unknown.is_empty() {
        // A closed stderr only loses the note.
        let _ = writeln!(
            std::io::stderr(),
            "not read (not an import file's name): {}",
            plan.unknown.join(", ")
        );
    }
    let store = connect(&place.load()?).await?;
    let mut rejected = false;
    for source in &plan.sources {
        let name = source.path.display().to_string();
        let (opened, total) = open(&source.path)?;
        let progress = progress(&name, total);
        let summary = directory::import(
            &store,
            source.kind,
            opened,
            source.format,
            super::now(),
            progress,
        )
        .await
        .with_context(|| name.clone())?;
        let _ = writeln!(std::io::stderr());
        rejected |= summary.rejected > 0;
        let mut report = summary.report().into_iter();
        out!("{name}: {}", report.next().unwrap_or_default())?;
        for line in report {
            out!("  {line}")?;
        }
    }
    Ok(if rejected {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The start of `day` (UTC, `YYYY-MM-DD`) in Unix milliseconds.
fn day_ms(flag: &str, day: &str) -> anyhow::Result<i64> {
    let start = anyid::clock::LocalTimes::new(time::UtcOffset::UTC)
        .day_start(day)
        .ok_or_else(|| anyhow::anyhow!("{flag} {day}: a day like 2026-12-07"))?;
    Ok(start * 1000)
}

async fn export(
    format: &str,
    since: Option<&str>,
    until: Option<&str>,
    place: &Place,
) -> anyhow::Result<ExitCode> {
    use anyid::store::AuditStore;
    let since = since
        .map(|d| day_ms("--since", d))
        .transpose()?
        .unwrap_or(i64::MIN);
    let until = until
        .map(|d| day_ms("--until", d))
        .transpose()?
        .unwrap_or(i64::MAX);
    let store = connect(&place.load()?).await?;
    let size = store.audit_frontier().await?.size();
    let mut cursor = store.audit_pruned().await?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = 0u64;
    loop {
        let page = store.audit_records(cursor, 10_000).await?;
        let Some(last) = page.last() else { break };
        cursor = last.seq + 1;
        for stored in &page {
            if !(since..until).contains(&stored.record.at_ms) {
                continue;
            }
            let line = match format {
                "record" => serde_json::json!({ "seq": stored.seq, "record": stored.record }),
                _ => anyid::audit::ocsf::event(stored.seq, &stored.record),
            };
            serde_json::to_writer(&mut stdout, &line)?;
            stdout.write_all(b"\n")?;
            written += 1;
        }
        let _ = write!(
            std::io::stderr(),
            "\rexporting: {cursor} of {size} events read"
        );
    }
    stdout.flush()?;
    let _ = writeln!(std::io::stderr(), "\n{written} events written");
    Ok(ExitCode::SUCCESS)
}

/// A file to import, buffered, and its size for the progress line.
fn open(path: &std::path::Path) -> anyhow::Result<(std::io::BufReader<std::fs::File>, u64)> {
    let opened =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let total = opened.metadata().map(|m| m.len()).unwrap_or(0).max(1);
    Ok((std::io::BufReader::new(opened), total))
}

/// Progress on one line of stderr: `label: N lines (P%)` of `total` bytes; a closed stderr
/// only loses the progress.
fn progress(label: &str, total: u64) -> impl FnMut(u64, u64) {
    let label = label.to_owned();
    move |lines, bytes| {
        let percent = (bytes.min(total) * 100) / total;
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "\r{label}: {lines} lines ({percent}%)");
        let _ = stderr.flush();
    }
}

fn describe(finding: &Finding) -> String {
    match finding {
        Finding::Altered { seq } => {
            format!("ALTERED  event {seq}: its fields are not those appended")
        }
        Finding::Missing { seq } => format!("MISSING  event {seq}: removed from the record"),
        Finding::Inserted { seq } => {
            format!("INSERTED event {seq}: stored, but never appended to the tree")
        }
        Finding::Rewritten { from, to } => {
            format!("REWRITTEN events {from}..{to}: their stored hashes were changed with them")
        }
        Finding::RootMismatch { size } => {
            format!("ROOT     the {size} events do not give the stored tree's root")
        }
        Finding::CheckpointMismatch { size } => {
            format!("CHECKPOINT the first {size} events are not those a signed checkpoint recorded")
        }
        Finding::Truncated { size, stored } => {
            format!("TRUNCATED a signed checkpoint covers {size} events; {stored} are stored")
        }
        Finding::PrunedNodeMissing { from, to } => {
            format!("PRUNED   the stored node over the pruned events {from}..{to} is gone")
        }
    }
}
