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
            println!("problem: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mode = if dev { Mode::Dev } else { Mode::Production };
    if dev && let Err(e) = config::dev::prepare(&file) {
        println!("problem: {e}");
        return Ok(ExitCode::FAILURE);
    }
    let config = match Config::resolve(file, mode) {
        Ok(c) => c,
        Err(e) => {
            println!("problem: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(certificates) = &config.certificates
        && let Err(e) = anyid_adapters::certificate::CertificateLogin::new(certificates.clone())
    {
        println!("problem: {e}");
        return Ok(ExitCode::FAILURE);
    }
    println!("issuer:   {}", config.issuer);
    println!("listen:   {}", config.listen);
    println!(
        "admin:    {}",
        config
            .admin_listen
            .map(|a| a.to_string())
            .unwrap_or_else(|| "disabled".into())
    );
    match SqlStore::connect(config.database_url.expose(), 1).await {
        Ok(store) => {
            println!("database: reachable ({:?})", store.backend());
            store.close().await;
        }
        Err(e) => println!("warning:  database not reachable: {e}"),
    }
    for upstream in &config.upstreams {
        let reachable = match anyid_adapters::upstream::Upstream::new(upstream.clone()) {
            Ok(u) => u.check().await,
            Err(e) => Err(e),
        };
        match reachable {
            Ok(()) => println!("upstream: {} ok", upstream.id),
            // Unreachable providers are a warning: the rest of the login page still works.
            Err(e) => println!("warning:  upstream {}: {e}", upstream.id),
        }
    }
    println!("configuration OK ({mode:?} mode)");
    Ok(ExitCode::SUCCESS)
}
