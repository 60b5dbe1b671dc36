//! Certificate login as a citizen's signer does it: the dev CA the test server generated,
//! the reference signer over the chooser's challenge, and the form post.

use std::time::SystemTime;

use anyid_certs::dev::DevPki;
use base64::Engine;

use crate::browser::hidden;
use crate::{Browser, Landing, TestServer};

/// The dev CA of `op` (generated at its start, in its data dir).
pub fn dev_pki(op: &TestServer) -> DevPki {
    anyid_certs::dev::load_or_generate(&op.data_dir().join("certs"), SystemTime::now())
        .expect("the dev CA")
}

fn citizen<'a>(pki: &'a DevPki, name: &str) -> &'a anyid_certs::dev::DevCitizen {
    pki.citizens
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no dev citizen {name}"))
}

/// The namespace dev citizen `name`'s certificate identities are linked under: its CA under
/// the dev root.
pub fn namespace_of(pki: &DevPki, name: &str) -> String {
    let first = |path: &std::path::Path| {
        anyid_certs::certificates_from_pem(&std::fs::read(path).expect("PEM"))
            .expect("a certificate")
            .remove(0)
    };
    anyid_certs::identity_namespace(&first(&pki.root), &first(&citizen(pki, name).ca))
        .expect("namespace")
}

/// Dev citizen `name`'s URI SAN: its identity when the server identifies by `san_uri`.
pub fn uri_of(pki: &DevPki, name: &str) -> String {
    citizen(pki, name).uri.clone()
}

/// The account of dev citizen `name`'s certificate on `op`, looked up as the server stores
/// it: under the keyed hash of the URI SAN (a linking value in dev).
pub async fn citizen_of(op: &TestServer, pki: &DevPki, name: &str) -> Option<String> {
    use anyid::store::AccountStore;
    let issuer = namespace_of(pki, name);
    let keys = &op.state().config.purpose_keys;
    let subject = anyid::login::account::hashed_subject(keys, &issuer, &uri_of(pki, name));
    op.state()
        .store
        .citizen_by_identity(&issuer, &subject)
        .await
        .expect("store")
}

/// The PEM key and certificate chain of dev citizen `name`.
pub fn credentials(pki: &DevPki, name: &str) -> (String, String) {
    let c = citizen(pki, name);
    (
        std::fs::read_to_string(&c.key).expect("key"),
        std::fs::read_to_string(&c.cert).expect("certificate"),
    )
}

/// Dev citizen `name`'s signature over `challenge`, base64 as the form takes it.
pub fn sign(pki: &DevPki, name: &str, challenge: &str) -> String {
    let (key, chain) = credentials(pki, name);
    let der = anyid_certs::cms::sign_challenge(challenge.as_bytes(), &key, &chain)
        .expect("reference signer");
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// Post `signature` for `challenge` with the certificate form of the chooser `page`.
pub async fn post_signature(
    browser: &Browser,
    op: &TestServer,
    page: &str,
    challenge: &str,
    signature: &str,
) -> Landing {
    browser
        .submit(
            op.issuer(),
            "/login/certificate",
            &[
                ("flow", &hidden(page, "flow")),
                ("csrf", &hidden(page, "csrf")),
                ("challenge", challenge),
                ("signature", signature),
            ],
        )
        .await
}

/// On the chooser `page`, sign its challenge as dev citizen `name` and post it.
pub async fn sign_in_as(
    browser: &Browser,
    op: &TestServer,
    pki: &DevPki,
    page: &str,
    name: &str,
) -> Landing {
    let challenge = hidden(page, "challenge");
    post_signature(browser, op, page, &challenge, &sign(pki, name, &challenge)).await
}
