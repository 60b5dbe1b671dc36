//! `anyid audit`: check the access record.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Subcommand;

use anyid::audit::verify::{self, Finding};

use super::{Place, connect};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the access record's Merkle tree from the stored events and report the first
    /// altered, missing or inserted event (exit status 1 when something is wrong).
    Verify {
        #[command(flatten)]
        place: Place,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { place, json } => {
            let store = connect(&place.load()?).await?;
            let mut stderr = std::io::stderr();
            let report = verify::verify(&store, |read, size| {
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
    }
}
