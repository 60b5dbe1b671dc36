//! Typed configuration: defaults -> TOML file -> `ANYID_*` environment (`*_FILE` for secrets)
//! -> command line. Unknown keys are rejected; the raw [`ConfigFile`] is validated once into
//! an immutable [`Config`]; secrets live in [`Secret`], which never prints.
//!
//! `schema` owns what an operator writes, `load` merges the layers, `resolve` validates, and
//! `dev` writes the material dev mode runs on (generated secrets, the dev CA). Resolving
//! writes nothing: in dev mode, [`dev::prepare`] runs first.

use std::path::PathBuf;

pub mod dev;
mod load;
mod resolve;
mod schema;

pub use dev::{DEV_SECRETS_FILE, write_private};
pub use load::CliOverrides;
pub use resolve::{Config, KeyBytes, Mtls, PolicyConfig, is_loopback};
pub use schema::{
    ConfigFile, LimitsConfig, LogConfig, MtlsConfig, PasskeyConfig, RetentionConfig, Secret,
    TokenLifetimes, ZoneConfig,
};

/// How the server runs. Production refuses dev-only conveniences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Dev,
    Production,
}

impl Mode {
    /// The mode for an operator command (key rotation, migrations) run beside a server: dev
    /// when the data dir holds dev secrets and no key-encryption key is configured.
    pub fn for_command(file: &ConfigFile) -> Mode {
        let configured =
            file.key_encryption_key.is_some() || file.key_encryption_key_file.is_some();
        if !configured && file.data_dir.join(DEV_SECRETS_FILE).exists() {
            Mode::Dev
        } else {
            Mode::Production
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration: cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}
