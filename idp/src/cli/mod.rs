//! The `anyid` command groups, one module each; binary-only (declared from `main.rs`, not
//! part of the library). This module owns what they share: where the configuration and
//! state are ([`Place`]) and the database connection operator commands use.

/// `println!` that returns the write's error instead of panicking: a closed pipe (`anyid
/// … | head`) ends the command quietly (`main`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

pub mod admin;
pub mod audit;
pub mod certs;
pub mod client;
pub mod config;
pub mod keys;
pub mod migrate;
pub mod policy;
pub mod serve;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use anyid::clock::{Clock, SystemClock};
use anyid::config::{CliOverrides, Config, ConfigFile};
use anyid::store::SqlStore;

/// Where to find the configuration and state; every subcommand takes these.
#[derive(Args, Clone, Default)]
pub struct Place {
    /// TOML configuration file.
    #[arg(long, env = "ANYID_CONFIG")]
    config: Option<PathBuf>,
    /// State folder (embedded SQLite database, dev secrets). Default: ./.anyid-dev
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl Place {
    pub fn overrides(&self) -> CliOverrides {
        CliOverrides {
            config_file: self.config.clone(),
            data_dir: self.data_dir.clone(),
            ..CliOverrides::default()
        }
    }

    pub fn load(&self) -> anyhow::Result<ConfigFile> {
        Ok(ConfigFile::load(&self.overrides())?)
    }
}

/// The configured database, migrated; only the database settings are needed.
pub async fn connect(file: &ConfigFile) -> anyhow::Result<SqlStore> {
    let url = Config::database_only(file);
    if url.expose().starts_with("sqlite:") {
        std::fs::create_dir_all(&file.data_dir)
            .with_context(|| format!("creating data dir {}", file.data_dir.display()))?;
    }
    let store = SqlStore::connect(url.expose(), 2)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

pub fn now() -> i64 {
    SystemClock.now()
}
