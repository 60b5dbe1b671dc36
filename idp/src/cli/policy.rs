//! `anyid policy`: check a folder of Cedar policies offline, and evaluate one request as the
//! server would, saying which policies decided it.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use anyid::config::PolicyConfig;
use anyid::policy;
use anyid_policy::{Engine, Request};

use super::Place;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate the `*.cedar` files of DIR against Any-ID's schema (nothing else is read).
    Check { dir: PathBuf },
    /// Evaluate one request given as JSON (a file, or `-` for standard input) and explain
    /// the decision. Uses the configured `[policy]` table (time zone, holidays, zones).
    Eval {
        /// The request: {"principal": …, "action": …, "resource": …, "context": …}.
        request: PathBuf,
        /// Policies to use instead of the configured ones.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The time to decide at (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        place: Place,
    },
    /// Print Any-ID's Cedar schema, to write policies against.
    Schema,
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Check { dir } => {
            let set = policy::load(Some(&dir))?;
            out!("{}: {} policies valid", dir.display(), set.ids().len())?;
            for p in set.summaries() {
                out!("  {}\t{}\t{}\t{}", p.id, p.effect, p.file, p.reason)?;
            }
        }
        PolicyCommand::Schema => out!("{}", anyid_policy::cedar::SCHEMA.trim_end())?,
        PolicyCommand::Eval {
            request,
            dir,
            at,
            place,
        } => {
            let text = if request.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                text
            } else {
                std::fs::read_to_string(&request)
                    .with_context(|| format!("reading {}", request.display()))?
            };
            let request: Request =
                serde_json::from_str(&text).context("the request does not parse")?;
            let mut config = PolicyConfig::from_file(&place.load()?.policy)?;
            if dir.is_some() {
                config.dir = dir;
            }
            let engine: Engine = policy::engine(&config)?;
            let now = match at {
                Some(at) => {
                    let t = time::OffsetDateTime::parse(
                        &at,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .with_context(|| format!("--at {at:?} is not an RFC 3339 time"))?;
                    Duration::from_secs(u64::try_from(t.unix_timestamp()).unwrap_or(0))
                }
                None => std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default(),
            };
            let outcome = engine.evaluate(&request, now);
            let set = engine.policies();
            let explanation: Vec<_> = outcome
                .policies
                .iter()
                .map(|id| match set.summary(id) {
                    Some(p) => json!({
                        "policy": p.id,
                        "effect": p.effect,
                        "file": p.file,
                        "reason": p.reason,
                    }),
                    None => json!({ "policy": id, "effect": "built in" }),
                })
                .collect();
            let mut out = serde_json::to_value(&outcome)?;
            if let Some(map) = out.as_object_mut() {
                map.insert("explanation".into(), explanation.into());
            }
            out!("{}", serde_json::to_string_pretty(&out)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
