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

/// The top-level keys of [`ConfigFile`], as serde reads them.
fn top_level_keys() -> &'static [&'static str] {
    use serde::Deserialize;
    use serde::de::{self, Deserializer, Visitor};
    /// A deserializer that only notes the field names a struct asks for.
    struct FieldNames<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for FieldNames<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only a struct's field names are read"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("field names read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = ConfigFile::deserialize(FieldNames(&mut fields));
    fields
}

/// The `ANYID_*` variables of `vars` that name no setting (their first part is no
/// top-level key): a script's own `ANYID_BIN`, say. They are left out, with a warning.
fn foreign_variables(vars: impl Iterator<Item = String>) -> Vec<String> {
    let keys = top_level_keys();
    let mut foreign: Vec<String> = vars
        .filter(|name| {
            name.strip_prefix("ANYID_").is_some_and(|rest| {
                let key = rest.split("__").next().unwrap_or_default().to_lowercase();
                !keys.contains(&key.as_str())
                    && !ENV_NOT_CONFIG.contains(&rest.to_lowercase().as_str())
            })
        })
        .collect();
    foreign.sort();
    foreign
}

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
        let foreign = foreign_variables(std::env::vars().map(|(name, _)| name));
        static WARNED: std::sync::Once = std::sync::Once::new();
        if !foreign.is_empty() {
            // Before logging is set up (its settings are being read): plain stderr, once.
            WARNED.call_once(|| {
                eprintln!(
                    "warning: ignoring environment variables that are no Any-ID setting: {}",
                    foreign.join(", ")
                )
            });
        }
        let keys = top_level_keys();
        figment = figment.merge(
            Env::prefixed("ANYID_")
                .filter(move |key| {
                    let top = key.as_str().split("__").next().unwrap_or_default();
                    keys.iter().any(|k| k.eq_ignore_ascii_case(top))
                })
                .split("__")
                .lowercase(true),
        );
        let mut file: ConfigFile = figment.extract().map_err(name_the_variable)?;
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

/// A setting the environment misspelled is named as the variable the operator wrote.
fn name_the_variable(e: figment::Error) -> ConfigError {
    let from_env = e
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment"));
    match &e.kind {
        figment::error::Kind::UnknownField(field, expected) if from_env => {
            // The path ends with the unknown field.
            let table = e.path.split_last().map_or(&[][..], |(_, table)| table);
            let mut parts = table.to_vec();
            parts.push(field.clone());
            ConfigError::Invalid(format!(
                "environment variable ANYID_{} names no setting; {} takes: {}",
                parts.join("__").to_uppercase(),
                if table.is_empty() {
                    "the configuration".to_owned()
                } else {
                    format!("[{}]", table.join("."))
                },
                expected.join(", ")
            ))
        }
        _ => ConfigError::Parse(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_that_name_no_setting_are_told_apart_from_settings() {
        let keys = top_level_keys();
        assert!(keys.contains(&"listen") && keys.contains(&"limits") && keys.contains(&"upstream"));
        let vars = [
            "ANYID_BIN",
            "ANYID_LISTEN",
            "ANYID_LIMITS__LOGIN_PER_SECOND",
            "ANYID_TEST_DATABASE_URL",
            "ANYID_SOMETHING__ELSE",
            "PATH",
        ];
        assert_eq!(
            foreign_variables(vars.iter().map(|v| (*v).to_owned())),
            ["ANYID_BIN", "ANYID_SOMETHING__ELSE"]
        );
    }

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
