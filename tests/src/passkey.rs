//! A software passkey for tests: webauthn-authenticator-rs's `SoftPasskey` driven the way a
//! browser drives an authenticator, from the options a page embeds to the JSON it posts.
//!
//! `SoftPasskey` cannot store resident (discoverable) credentials, so this wrapper plays that
//! part: it remembers each credential's user handle at registration and, for a usernameless
//! login, offers its credentials and returns the user handle with the assertion, as a
//! discoverable authenticator does. Everything signed is signed by `SoftPasskey`.

use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};
use webauthn_rs_proto::{AllowCredentials, UserVerificationPolicy};

pub struct Authenticator {
    inner: SoftPasskey,
    origin: Url,
    /// (credential id, user handle) of every credential it holds.
    credentials: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Authenticator {
    /// An authenticator for pages served from `origin`.
    pub fn new(origin: &str) -> Self {
        Self {
            inner: SoftPasskey::new(true),
            origin: Url::parse(origin).expect("origin"),
            credentials: Vec::new(),
        }
    }

    /// Answer a registration's `{"publicKey": …}` options; returns the credential JSON.
    pub fn register(&mut self, options: &str) -> String {
        let mut ccr: CreationChallengeResponse = serde_json::from_str(options).expect("options");
        let user = ccr.public_key.user.id.clone();
        if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
            // Resident storage is this wrapper's job (see the module comment).
            selection.require_resident_key = false;
        }
        let credential = self
            .inner
            .do_registration(self.origin.clone(), ccr)
            .expect("registration");
        self.credentials.push((credential.raw_id.to_vec(), user));
        serde_json::to_string(&credential).expect("json")
    }

    /// Answer a usernameless login's options with the first credential; `verify_user: false`
    /// makes the authenticator skip user verification (its flags then say so).
    pub fn sign_in(&mut self, options: &str, verify_user: bool) -> String {
        let mut rcr: RequestChallengeResponse = serde_json::from_str(options).expect("options");
        let (id, user) = self.credentials.first().cloned().expect("a credential");
        rcr.public_key.allow_credentials = vec![AllowCredentials {
            type_: "public-key".into(),
            id,
            transports: None,
        }];
        if !verify_user {
            rcr.public_key.user_verification = UserVerificationPolicy::Discouraged_DO_NOT_USE;
        }
        let mut credential = self
            .inner
            .do_authentication(self.origin.clone(), rcr)
            .expect("authentication");
        credential.response.user_handle = Some(user);
        serde_json::to_string(&credential).expect("json")
    }
}

/// The HTML-unescaped value of attribute `name` on the first element that has it.
pub fn attribute(body: &str, name: &str) -> String {
    let marker = format!("{name}=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no attribute {name} in page"))
        + marker.len();
    let end = body[start..].find('"').expect("closing quote") + start;
    body[start..end]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}
