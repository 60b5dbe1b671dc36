//! Passkeys (WebAuthn Level 3 discoverable credentials) through webauthn-rs. Ceremony state
//! goes in and out as JSON text so the caller can keep it server-side (any replica can
//! finish a ceremony another one started) and consume it once.
//!
//! Policy: user verification is required for registration and login (webauthn-rs passkey
//! defaults); credentials are requested as discoverable (resident) so a citizen can log in
//! without typing a name; no attestation.

use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::{
    AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy,
};

use crate::AdapterError;

/// The login method id of passkeys.
pub const METHOD: &str = "passkey";

/// A relying-party (Any-ID) configuration for WebAuthn ceremonies.
pub struct Passkeys {
    webauthn: Webauthn,
}

/// A ceremony's browser options (`{"publicKey": …}`) and its server-side state.
pub struct Ceremony {
    pub options: Value,
    pub state: String,
}

/// A passkey that just finished registration.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    pub credential_id: Vec<u8>,
    /// The webauthn-rs credential (public key, counter, backup flags), JSON.
    pub data: String,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

/// A login answer whose citizen and credential are known but not yet verified.
pub struct Assertion {
    pub user: Uuid,
    pub credential_id: Vec<u8>,
    credential: PublicKeyCredential,
}

/// What a verified login proves and what changed on the credential.
#[derive(Debug, Clone)]
pub struct PasskeyLogin {
    /// The stored credential with its new counter and backup state, when either changed.
    pub updated: Option<String>,
    pub counter: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

fn invalid(e: WebauthnError) -> AdapterError {
    AdapterError::Invalid(format!("passkey: {e}"))
}

fn state_error(e: serde_json::Error) -> AdapterError {
    AdapterError::Invalid(format!("passkey ceremony state: {e}"))
}

/// The browser's answer, as JSON text, into a webauthn-rs type. Browsers'
/// `PublicKeyCredential.toJSON()` output is accepted (extra members are ignored).
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AdapterError> {
    serde_json::from_str(text)
        .map_err(|e| AdapterError::Invalid(format!("passkey answer is malformed: {e}")))
}

impl Passkeys {
    /// `rp_id` must be the origin's host or a parent domain (WebAuthn §5.1.3); `localhost` works
    /// for loopback development, an IP address does not.
    pub fn new(rp_id: &str, origin: &Url, rp_name: &str) -> Result<Self, AdapterError> {
        let webauthn = WebauthnBuilder::new(rp_id, origin)
            .and_then(|b| b.rp_name(rp_name).build())
            .map_err(|e| AdapterError::Config(format!("passkeys: {e}")))?;
        Ok(Self { webauthn })
    }

    /// Start registering a passkey for `user` (the citizen id). `existing` credentials are
    /// excluded so one authenticator is not registered twice.
    pub fn start_registration(
        &self,
        user: Uuid,
        name: &str,
        display_name: &str,
        existing: Vec<Vec<u8>>,
    ) -> Result<Ceremony, AdapterError> {
        let exclude = (!existing.is_empty()).then_some(existing);
        let (mut ccr, state) = self
            .webauthn
            .start_passkey_registration(user, name, display_name, exclude)
            .map_err(invalid)?;
        // Usernameless login needs a discoverable credential (WebAuthn §5.4.6 residentKey).
        let uv = ccr
            .public_key
            .authenticator_selection
            .as_ref()
            .map(|s| s.user_verification)
            .unwrap_or(UserVerificationPolicy::Required);
        ccr.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
            authenticator_attachment: None,
            resident_key: Some(ResidentKeyRequirement::Required),
            require_resident_key: true,
            user_verification: uv,
        });
        Ok(Ceremony {
            options: serde_json::to_value(&ccr).map_err(state_error)?,
            state: serde_json::to_string(&state).map_err(state_error)?,
        })
    }

    /// Finish a registration with the browser's answer (JSON) and the kept state.
    pub fn finish_registration(
        &self,
        answer: &str,
        state: &str,
    ) -> Result<NewPasskey, AdapterError> {
        let answer: RegisterPublicKeyCredential = parse(answer)?;
        let state: PasskeyRegistration = serde_json::from_str(state).map_err(state_error)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&answer, &state)
            .map_err(invalid)?;
        let data = serde_json::to_value(&passkey).map_err(state_error)?;
        // The backup flags are only reachable through the serialised credential.
        let flag = |name: &str| data["cred"][name].as_bool().unwrap_or(false);
        Ok(NewPasskey {
            credential_id: passkey.cred_id().to_vec(),
            backup_eligible: flag("backup_eligible"),
            backed_up: flag("backup_state"),
            data: data.to_string(),
        })
    }

    /// Start a usernameless login: the browser offers the citizen's discoverable passkeys.
    pub fn start_login(&self) -> Result<Ceremony, AdapterError> {
        let (rcr, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(invalid)?;
        Ok(Ceremony {
            options: serde_json::to_value(&rcr).map_err(state_error)?,
            state: serde_json::to_string(&state).map_err(state_error)?,
        })
    }

    /// Read which citizen (user handle) and credential a login answer claims to be.
    pub fn identify(&self, answer: &str) -> Result<Assertion, AdapterError> {
        let credential: PublicKeyCredential = parse(answer)?;
        let (user, credential_id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(invalid)?;
        let credential_id = credential_id.to_vec();
        Ok(Assertion {
            user,
            credential_id,
            credential,
        })
    }

    /// Verify a login answer against the kept state and the stored credential: signature,
    /// challenge, origin, user verification (required) and the signature counter.
    pub fn finish_login(
        &self,
        assertion: &Assertion,
        state: &str,
        stored: &str,
    ) -> Result<PasskeyLogin, AdapterError> {
        let state: DiscoverableAuthentication = serde_json::from_str(state).map_err(state_error)?;
        let mut passkey: Passkey = serde_json::from_str(stored).map_err(state_error)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(&assertion.credential, state, &passkey)
            .map_err(|e| match e {
                WebauthnError::CredentialPossibleCompromise => AdapterError::Invalid(
                    "passkey: the signature counter went backwards (a cloned authenticator?)"
                        .into(),
                ),
                e => invalid(e),
            })?;
        if !result.user_verified() {
            return Err(AdapterError::Invalid(
                "passkey: the authenticator did not verify the user".into(),
            ));
        }
        let updated = match passkey.update_credential(&result) {
            Some(true) => Some(serde_json::to_string(&passkey).map_err(state_error)?),
            _ => None,
        };
        Ok(PasskeyLogin {
            updated,
            counter: result.counter(),
            backup_eligible: result.backup_eligible(),
            backed_up: result.backup_state(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_address_cannot_be_the_relying_party_id() {
        let origin = Url::parse("http://127.0.0.1:8080").unwrap();
        assert!(Passkeys::new("127.0.0.1", &origin, "Any-ID").is_err());
        let origin = Url::parse("http://localhost:8080").unwrap();
        assert!(Passkeys::new("localhost", &origin, "Any-ID").is_ok());
    }

    #[test]
    fn registration_asks_for_a_discoverable_user_verified_credential() {
        let origin = Url::parse("http://localhost:8080").unwrap();
        let passkeys = Passkeys::new("localhost", &origin, "Any-ID").unwrap();
        let c = passkeys
            .start_registration(Uuid::new_v4(), "hong", "Hong", Vec::new())
            .unwrap();
        let sel = &c.options["publicKey"]["authenticatorSelection"];
        assert_eq!(sel["residentKey"], "required");
        assert_eq!(sel["requireResidentKey"], true);
        assert_eq!(sel["userVerification"], "required");
    }

    #[test]
    fn garbage_answers_are_refused_not_panicked_on() {
        let origin = Url::parse("http://localhost:8080").unwrap();
        let passkeys = Passkeys::new("localhost", &origin, "Any-ID").unwrap();
        for junk in ["", "{}", "null", "[1,2]", "{\"id\":1}"] {
            assert!(passkeys.identify(junk).is_err());
            assert!(passkeys.finish_registration(junk, "{}").is_err());
        }
    }
}
