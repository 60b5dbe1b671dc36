//! `anyid keys`: rotate and list signing keys, and generate a key-encryption key.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use anyid::config::{self, Config, Mode};
use anyid::store::KeyStore;
use anyid::{crypto, keys};

use super::{Place, connect, now};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Add new signing keys; old keys stay in the JWKS until their tokens expire.
    Rotate {
        #[command(flatten)]
        place: Place,
    },
    /// List signing keys.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Print a new random key-encryption key (base64url, 32 bytes).
    GenKek,
}

pub async fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::GenKek => {
            out!("{}", crypto::b64(&crypto::random_bytes::<32>()?))?;
        }
        KeysCommand::List { place } => {
            let store = connect(&place.load()?).await?;
            for k in store.keys().await? {
                let retire = k
                    .retire_at
                    .map(|t| format!("retires at {t}"))
                    .unwrap_or_else(|| "active".into());
                out!("{}\t{}\tcreated {}\t{}", k.kid, k.alg, k.created_at, retire)?;
            }
        }
        KeysCommand::Rotate { place } => {
            let file = place.load()?;
            let mode = Mode::for_command(&file);
            if mode == Mode::Dev {
                config::dev::prepare(&file)?;
            }
            let config = Config::resolve(file.clone(), mode)?;
            let store = connect(&file).await?;
            let kek = *config
                .key_encryption_key
                .as_aes_key()
                .context("key_encryption_key must be 32 bytes")?;
            // Tokens signed by the old keys live at most this long.
            let keep = config.tokens.access_token.max(config.tokens.id_token) + 60;
            let kids = keys::rotate(&store, &kek, now(), keep).await?;
            out!("new signing keys: {}", kids.join(", "))?;
            out!(
                "old keys stay published for {keep} s; running servers pick up the new keys within 30 s"
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
