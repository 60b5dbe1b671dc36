//! Dev-mode material: the secrets a dev server generates for itself and the dev CA behind
//! certificate login, both kept in the data dir. [`prepare`] writes them; resolving only
//! reads them, so validating a configuration never writes to the disk.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;

use anyid_adapters::certificate::{CertificateConfig, PolicyLevel};
use anyid_policy::Loa;

use super::schema::MtlsConfig;
use super::{ConfigError, ConfigFile};
use crate::crypto;

pub const DEV_SECRETS_FILE: &str = "dev-secrets.toml";

/// The secrets a dev server generates for itself on first start, kept in the data dir.
#[derive(Clone, Deserialize, serde::Serialize)]
pub(super) struct DevSecrets {
    pub(super) key_encryption_key: String,
    pub(super) subject_secret: String,
    pub(super) admin_token: String,
}

crate::redact::debug_without_secrets!(DevSecrets {});

/// Write what dev mode resolves from, where it is missing: the generated secrets and, when
/// certificate login uses it, the dev CA (regenerated when incomplete or older than 150
/// days). Call it before `Config::resolve` in dev mode; calling it again changes nothing.
pub fn prepare(file: &ConfigFile) -> Result<(), ConfigError> {
    load_or_create_secrets(&file.data_dir)?;
    if uses_dev_ca(&file.certificates) {
        let dir = ca_dir(&file.data_dir);
        anyid_certs::dev::load_or_generate(&dir, std::time::SystemTime::now())
            .map_err(|e| ConfigError::Invalid(format!("dev CA in {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// Where the dev CA lives in a data dir.
pub fn ca_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("certs")
}

/// The error for dev material that [`prepare`] has not written.
pub(super) fn unprepared(what: String) -> ConfigError {
    ConfigError::Invalid(format!(
        "dev mode: {what}; prepare the dev material first (`anyid serve --dev` and \
         `anyid config check --dev` do)"
    ))
}

/// Dev mode backs certificate login with the dev CA unless it is turned off or given trust
/// anchors of its own.
pub(super) fn uses_dev_ca(config: &CertificateConfig) -> bool {
    config.enabled != Some(false) && config.trust_anchors.is_empty()
}

/// The dev certificate listener's port: 363 above the main one, so `8080` gives the usual
/// `8443` and a second dev server on another port gets a listener of its own. An ephemeral
/// main port (`0`) gives an ephemeral one.
pub fn mtls_port(listen_port: u16) -> u16 {
    match listen_port {
        0 => 0,
        port => port.checked_add(363).unwrap_or(port - 363),
    }
}

/// Point certificate login and its mutual-TLS listener at the dev CA in `data_dir`; the
/// listener goes beside the main one at `listen`, unless configured.
pub(super) fn use_dev_ca(
    data_dir: &Path,
    listen: SocketAddr,
    config: &mut CertificateConfig,
    mtls: &mut MtlsConfig,
) -> Result<(), ConfigError> {
    let dir = ca_dir(data_dir);
    let pki = anyid_certs::dev::existing(&dir).ok_or_else(|| {
        unprepared(format!(
            "certificate login has no trust anchors and the dev CA in {} is missing or \
             incomplete",
            dir.display()
        ))
    })?;
    config.enabled = Some(true);
    config.trust_anchors = vec![pki.root.clone()];
    config.intermediates = vec![pki.intermediate.clone()];
    // Both dev policies are bound to the citizen CA alone: the dev CA's other CA (and its
    // `other-ca` citizen) shows a CA refused for a policy it is not bound to.
    config.policies = vec![
        PolicyLevel {
            oid: anyid_certs::dev::DEV_POLICY_HIGH.into(),
            loa: Loa::High,
            issuers: vec![pki.intermediate.clone()],
        },
        PolicyLevel {
            oid: anyid_certs::dev::DEV_POLICY_SUBSTANTIAL.into(),
            loa: Loa::Substantial,
            issuers: vec![pki.intermediate.clone()],
        },
    ];
    // The dev citizens' URI SAN stands in for a national linking value; a fingerprint
    // identity (registered by its citizen) links nothing by itself.
    config.strong_identifier = !config.by_fingerprint();
    config.crls = pki
        .crl_paths
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    mtls.listen = mtls
        .listen
        .or(Some(SocketAddr::new(listen.ip(), mtls_port(listen.port()))));
    mtls.certificate = mtls.certificate.take().or(Some(pki.server_cert.clone()));
    mtls.private_key = mtls.private_key.take().or(Some(pki.server_key.clone()));
    Ok(())
}

/// The dev secrets in `dir`, if [`prepare`] wrote them.
pub(super) fn read_secrets(dir: &Path) -> Result<Option<DevSecrets>, ConfigError> {
    let path = dir.join(DEV_SECRETS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml_from_str(&text)
            .map(Some)
            .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Io { path, source }),
    }
}

fn toml_from_str(text: &str) -> Result<DevSecrets, String> {
    Figment::from(Toml::string(text))
        .extract()
        .map_err(|e| e.to_string())
}

pub(super) fn load_or_create_secrets(dir: &Path) -> Result<DevSecrets, ConfigError> {
    if let Some(existing) = read_secrets(dir)? {
        return Ok(existing);
    }
    let token = || crypto::random_token().map_err(|e| ConfigError::Invalid(e.to_string()));
    let secrets = DevSecrets {
        key_encryption_key: token()?,
        subject_secret: token()?,
        admin_token: token()?,
    };
    let io = |source| ConfigError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let text = format!(
        "# Generated by `anyid serve --dev`. Development only; never use these in production.\n\
         key_encryption_key = \"{}\"\nsubject_secret = \"{}\"\nadmin_token = \"{}\"\n",
        secrets.key_encryption_key, secrets.subject_secret, secrets.admin_token
    );
    let path = dir.join(DEV_SECRETS_FILE);
    write_private(&path, &text).map_err(io)?;
    Ok(secrets)
}

/// Write a file readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Mode};

    fn dev_file(dir: &Path) -> ConfigFile {
        ConfigFile {
            data_dir: dir.to_path_buf(),
            ..ConfigFile::default()
        }
    }

    fn files_in(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| entries.count())
    }

    #[test]
    fn resolving_an_unprepared_dev_data_dir_writes_nothing_and_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let err = Config::resolve(dev_file(dir.path()), Mode::Dev)
            .unwrap_err()
            .to_string();
        assert!(err.contains("key_encryption_key"), "{err}");
        assert!(err.contains(DEV_SECRETS_FILE), "{err}");
        assert_eq!(files_in(dir.path()), 0);

        let configured = ConfigFile {
            key_encryption_key: Some(crate::config::Secret::new(crypto::b64(&[1u8; 32]))),
            subject_secret: Some(crate::config::Secret::new(crypto::b64(&[2u8; 32]))),
            ..dev_file(dir.path())
        };
        let err = Config::resolve(configured, Mode::Dev)
            .unwrap_err()
            .to_string();
        assert!(err.contains("dev CA"), "{err}");
        assert_eq!(files_in(dir.path()), 0);
    }

    #[test]
    fn resolving_reads_what_prepare_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let file = dev_file(dir.path());
        prepare(&file).unwrap();
        let written = files_in(dir.path());
        let config = Config::resolve(file, Mode::Dev).unwrap();
        assert!(config.certificates.is_some() && config.admin_token.is_some());
        assert_eq!(files_in(dir.path()), written);
    }

    #[test]
    fn prepare_leaves_the_dev_ca_alone_when_certificate_login_does_not_use_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = dev_file(dir.path());
        file.certificates.enabled = Some(false);
        prepare(&file).unwrap();
        assert!(dir.path().join(DEV_SECRETS_FILE).exists());
        assert!(!ca_dir(dir.path()).exists());
        let config = Config::resolve(file, Mode::Dev).unwrap();
        assert!(config.certificates.is_none());
    }
}
