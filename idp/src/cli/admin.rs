//! `anyid admin`: administrators' own credentials (`anyid::admins`).

use std::process::ExitCode;

use clap::Subcommand;

use anyid::admins::{self, Role};
use anyid::store::AdminStore;

use super::{Place, connect, now};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Add an administrator; prints their token (shown once): `NAME.SECRET`, sent as a bearer
    /// token or with HTTP Basic (user NAME, password SECRET).
    Add {
        /// 1-64 of a-z, 0-9, - and _; never reused.
        name: String,
        /// `admin` (everything) or `auditor` (read only: decisions, proofs, risk).
        #[arg(long, default_value = "admin", value_parser = ["admin", "auditor"])]
        role: String,
        #[command(flatten)]
        place: Place,
    },
    /// List administrators, with when each was added and removed.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// End an administrator's token at once (their name stays, as the record uses it).
    Remove {
        name: String,
        #[command(flatten)]
        place: Place,
    },
}

pub async fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCommand::Add { name, role, place } => {
            let store = connect(&place.load()?).await?;
            let role = Role::parse(&role).unwrap_or(Role::Admin);
            let token = admins::add(&store, &name, role, now()).await?;
            out!("{token}")?;
            eprintln!("Keep this token: it is shown once. `anyid admin remove {name}` ends it.");
        }
        AdminCommand::List { place } => {
            let store = connect(&place.load()?).await?;
            let list = store.administrators().await?;
            if list.is_empty() {
                out!("no administrators (only the shared admin_token, if configured)")?;
            }
            for a in list {
                let removed = a
                    .removed_at
                    .map_or_else(String::new, |t| format!("\tremoved {t}"));
                out!("{}\t{}\tadded {}{removed}", a.name, a.role, a.created_at)?;
            }
        }
        AdminCommand::Remove { name, place } => {
            let store = connect(&place.load()?).await?;
            admins::remove(&store, &name, now()).await?;
            out!("{name}'s token no longer works")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
