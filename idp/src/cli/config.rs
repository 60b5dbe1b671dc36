//! `anyid config check`: validate the configuration as the server would resolve it, then
//! probe the database and the upstream providers.

use std::process::ExitCode;

use clap::Subcommand;

use anyid::config::{self, Config, Mode};
use anyid::store::SqlStore;

use super::Place;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and report problems.
    Check {
        /// Check as dev mode would run.
        #[arg(long)]
        dev: bool,
        #[command(flatten)]
        place: Place,
    },
}

pub async fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::Check { dev, place } => check(dev, &place).await,
    }
}

async fn check(dev: bool, place: &Place) -> anyhow::Result<ExitCode> {
    let file = match place.load() {
        Ok(f) => f,
        Err(e) => {
            out!("problem: {e}")?;
            return Ok(ExitCode::FAILURE);
        }
    };
    let mode = if dev { Mode::Dev } else { Mode::Production };
    if dev && let Err(e) = config::dev::prepare(&file) {
        out!("problem: {e}")?;
        return Ok(ExitCode::FAILURE);
    }
    let config = match Config::resolve(file, mode) {
        Ok(c) => c,
        Err(e) => {
            out!("problem: {e}")?;
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(certificates) = &config.certificates
        && let Err(e) = anyid_adapters::certificate::CertificateLogin::new(certificates.clone())
    {
        out!("problem: {e}")?;
        return Ok(ExitCode::FAILURE);
    }
    out!("issuer:   {}", config.issuer)?;
    out!("listen:   {}", config.listen)?;
    out!(
        "admin:    {}",
        config
            .admin_listen
            .map(|a| a.to_string())
            .unwrap_or_else(|| "disabled".into())
    )?;
    match SqlStore::connect(config.database_url.expose(), 1).await {
        Ok(store) => {
            out!("database: reachable ({:?})", store.backend())?;
            store.close().await;
        }
        Err(e) => out!("warning:  database not reachable: {e}")?,
    }
    for upstream in &config.upstreams {
        let reachable = match anyid_adapters::upstream::Upstream::new(upstream.clone()) {
            Ok(u) => u.check().await,
            Err(e) => Err(e),
        };
        match reachable {
            Ok(()) => out!("upstream: {} ok", upstream.id)?,
            // Unreachable providers are a warning: the rest of the login page still works.
            Err(e) => out!("warning:  upstream {}: {e}", upstream.id)?,
        }
    }
    out!("configuration OK ({mode:?} mode)")?;
    Ok(ExitCode::SUCCESS)
}
