//! `anyid certs`: write the dev CA, and sign a certificate-login challenge as a
//! joint-certificate signer would (the reference signer).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine;
use clap::Subcommand;

use anyid::config;

use super::Place;

#[derive(Subcommand)]
pub enum CertsCommand {
    /// Write a dev root, intermediate, TLS server certificate, citizen certificates (PEM
    /// and PKCS#12) and CRLs into `<data dir>/certs` (default `./.anyid-dev/certs`). Existing
    /// files are kept while they are still valid.
    Dev {
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Sign a challenge as a joint-certificate signer would: shows what it is for (origin,
    /// purpose, expiry) on standard error and prints the CMS SignedData (base64) to paste
    /// into the page.
    Sign {
        /// The challenge shown on the page.
        challenge: String,
        /// The origin of the page the challenge came from (as a signer that talks to the
        /// browser learns it): a challenge issued by another origin is refused, so a
        /// phishing page cannot relay a real one.
        #[arg(long)]
        origin: Option<String>,
        /// PKCS#8 private key (PEM).
        #[arg(long)]
        key: PathBuf,
        /// Certificate chain (PEM, the citizen's certificate first).
        #[arg(long)]
        cert: PathBuf,
    },
}

pub fn run(cmd: CertsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CertsCommand::Dev { force, place } => {
            let dir = config::dev::ca_dir(&place.load()?.data_dir);
            if force && dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing {}", dir.display()))?;
            }
            let pki = anyid_certs::dev::load_or_generate(&dir, std::time::SystemTime::now())?;
            out!("dev CA in {}", pki.dir.display())?;
            out!("  trust anchor   {}", pki.root.display())?;
            out!("  intermediate   {}", pki.intermediate.display())?;
            out!(
                "  other CA       {} (bound to no dev policy)",
                pki.other_intermediate.display()
            )?;
            out!(
                "  TLS server     {} (key {})",
                pki.server_cert.display(),
                pki.server_key.display()
            )?;
            for crl in &pki.crl_paths {
                out!("  CRL            {}", crl.display())?;
            }
            for c in &pki.citizens {
                out!(
                    "  citizen {:<13} {} ({})",
                    c.name,
                    c.cert.display(),
                    c.description
                )?;
            }
        }
        CertsCommand::Sign {
            challenge,
            origin,
            key,
            cert,
        } => {
            let decoded = anyid_certs::challenge::Challenge::decode(&challenge)
                .context("reading the challenge")?;
            if let Some(origin) = &origin {
                decoded.challenge.check_origin(origin)?;
            }
            eprintln!("{}", decoded.challenge.describe());
            let key = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            let chain = std::fs::read_to_string(&cert)
                .with_context(|| format!("reading {}", cert.display()))?;
            let der = anyid_certs::cms::sign_challenge(challenge.trim().as_bytes(), &key, &chain)?;
            out!("{}", base64::engine::general_purpose::STANDARD.encode(der))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
