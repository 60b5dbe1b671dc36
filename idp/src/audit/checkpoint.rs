//! Signed checkpoints of the access record: its size and root, in the C2SP checkpoint form
//! (c2sp.org/tlog-checkpoint: origin, size, base64 root) as a signed note
//! (c2sp.org/signed-note) with the log's own Ed25519 key (signature type 0x01). Published at
//! `/audit/v1/checkpoint`, a checkpoint is what an edit of the whole database cannot forge:
//! `anyid audit verify` compares the recomputed tree with every stored checkpoint and with
//! those an auditor kept.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;

use super::merkle::Hash;
use crate::crypto;
use crate::store::{AuditStore, CheckpointStore, StoreError};

const SEALING_CONTEXT: &[u8] = b"anyid audit log key";
const STANDARD: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The log's signing key and its name (`<issuer host>/access-log`).
pub struct LogKey {
    name: String,
    key: Ed25519KeyPair,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogKey({})", self.name)
    }
}

/// c2sp.org/signed-note: `SHA-256(key name || 0x0A || 0x01 || public key)[:4]`.
pub fn key_id(name: &str, public: &[u8]) -> [u8; 4] {
    let digest = crypto::sha256(&[name.as_bytes(), b"\n", &[0x01], public].concat());
    [digest[0], digest[1], digest[2], digest[3]]
}

impl LogKey {
    /// The key named `name`, made (and stored sealed with `kek`) the first time.
    pub async fn load_or_create(
        store: &impl CheckpointStore,
        kek: &[u8; 32],
        name: &str,
        now: i64,
    ) -> Result<Self, StoreError> {
        let broken = |what: &str| StoreError::Corrupt(format!("the access log's key: {what}"));
        if store.audit_log_key(name).await?.is_none() {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                .map_err(|_| broken("generating"))?;
            let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| broken("reading"))?;
            let sealed = crypto::seal(kek, SEALING_CONTEXT, pkcs8.as_ref())
                .map_err(|e| broken(&e.to_string()))?;
            // A replica starting at the same time may have stored its own first: theirs wins.
            store
                .put_audit_log_key(name, &sealed, key.public_key().as_ref(), now)
                .await?;
        }
        let (sealed, _) = store
            .audit_log_key(name)
            .await?
            .ok_or_else(|| broken("missing"))?;
        let pkcs8 =
            crypto::open(kek, SEALING_CONTEXT, &sealed).map_err(|e| broken(&e.to_string()))?;
        let key = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| broken("reading"))?;
        Ok(Self {
            name: name.to_owned(),
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// The verifier key as c2sp.org/signed-note tools take it:
    /// `<name>+<key id, hex>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> String {
        let id = key_id(&self.name, self.public_key());
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let key = STANDARD.encode([&[0x01], self.public_key()].concat());
        format!("{}+{hex}+{key}", self.name)
    }

    /// The signed checkpoint of a tree of `size` with `root`.
    pub fn sign(&self, size: u64, root: &Hash) -> String {
        let body = body(&self.name, size, root);
        let signature = self.key.sign(body.as_bytes());
        let id = key_id(&self.name, self.public_key());
        let sig = STANDARD.encode([&id[..], signature.as_ref()].concat());
        format!("{body}\n\u{2014} {} {sig}\n", self.name)
    }
}

/// The checkpoint body: origin, size, base64 root, each on its line.
fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// A verifier key `<name>+<key id, hex>+<base64(0x01 || public key)>`: its name and Ed25519
/// public key, if it is one and its key id is right.
pub fn parse_verifier_key(text: &str) -> Option<(String, Vec<u8>)> {
    // The name and the hex id hold no `+`; base64 may.
    let mut parts = text.trim().splitn(3, '+');
    let (name, id, key) = (parts.next()?, parts.next()?, parts.next()?);
    let key = STANDARD.decode(key).ok()?;
    let (kind, public) = key.split_first()?;
    let hex: String = key_id(name, public)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (*kind == 0x01 && public.len() == 32 && hex == id).then(|| (name.to_owned(), public.to_vec()))
}

/// A checkpoint read back: its size and root, if its signature by `key` (name and Ed25519
/// public key) verifies.
pub fn open(note: &str, name: &str, public: &[u8]) -> Option<(u64, Hash)> {
    let (body, signatures) = note.split_once("\n\n")?;
    let body = format!("{body}\n");
    let id = key_id(name, public);
    let verified = signatures.lines().any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some((signer, sig)) = rest.split_once(' ') else {
            return false;
        };
        let Ok(sig) = STANDARD.decode(sig) else {
            return false;
        };
        signer == name
            && sig.len() > 4
            && sig[..4] == id
            && UnparsedPublicKey::new(&ED25519, public)
                .verify(body.as_bytes(), &sig[4..])
                .is_ok()
    });
    let mut lines = body.lines();
    let (origin, size, root) = (lines.next()?, lines.next()?, lines.next()?);
    let root: Hash = STANDARD.decode(root).ok()?.try_into().ok()?;
    (verified && origin == name).then_some((size.parse().ok()?, root))
}

/// Sign and store a checkpoint of the tree as it is, unless the latest one has its size
/// already. Returns the new checkpoint's note.
pub async fn checkpoint(
    store: &(impl AuditStore + CheckpointStore),
    key: &LogKey,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let frontier = store.audit_frontier().await?;
    let latest = store.latest_checkpoint().await?;
    if frontier.size() == 0 || latest.is_some_and(|(size, _)| size == frontier.size()) {
        return Ok(None);
    }
    let note = key.sign(frontier.size(), &frontier.root());
    store
        .record_checkpoint(frontier.size(), &frontier.root(), &note, now)
        .await?;
    Ok(Some(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_and_not_when_changed() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let key = LogKey {
            name: "id.example.gov/access-log".into(),
            key: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap(),
        };
        let root = [7u8; 32];
        let note = key.sign(42, &root);
        let lines: Vec<&str> = note.lines().collect();
        assert_eq!(
            lines[..3],
            ["id.example.gov/access-log", "42", &STANDARD.encode(root)]
        );
        assert_eq!(lines[3], "");
        assert!(lines[4].starts_with("\u{2014} id.example.gov/access-log "));
        assert_eq!(open(&note, key.name(), key.public_key()), Some((42, root)));
        let changed = note.replacen("\n42\n", "\n41\n", 1);
        assert_eq!(open(&changed, key.name(), key.public_key()), None);
        assert_eq!(open(&note, "other.example/log", key.public_key()), None);
        assert_eq!(
            parse_verifier_key(&key.verifier_key()),
            Some((key.name().to_owned(), key.public_key().to_vec()))
        );
        assert_eq!(
            parse_verifier_key("id.example.gov/access-log+00000000+AQ=="),
            None
        );
    }
}
