//! Loading: defaults -> TOML file -> `ANYID_*` environment -> command line, merged with
//! figment into a [`ConfigFile`]. Unknown keys are rejected.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Toml};

use super::{ConfigError, ConfigFile};

/// Overrides from the command line, the last layer.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub admin_listen: Option<SocketAddr>,
}

/// `ANYID_*` variables that belong to tooling, not to the server.
const ENV_NOT_CONFIG: &[&str] = &["test_database_url", "test_redis_url", "bench_database_url"];

impl ConfigFile {
    pub fn load(cli: &CliOverrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = &cli.config_file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("ANYID_")
                .split("__")
                .ignore(ENV_NOT_CONFIG)
                .lowercase(true),
        );
        let mut file: ConfigFile = figment
            .extract()
            .map_err(|e| ConfigError::Parse(Box::new(e)))?;
        if let Some(dir) = &cli.data_dir {
            file.data_dir = dir.clone();
        }
        if let Some(listen) = cli.listen {
            file.listen = listen;
        }
        if cli.admin_listen.is_some() {
            file.admin_listen = cli.admin_listen;
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anyid.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\nlisen = \"typo\"\n").unwrap();
        let err = ConfigFile::load(&CliOverrides {
            config_file: Some(path),
            ..CliOverrides::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }
}
