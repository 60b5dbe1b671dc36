//! The authorization code grant: issuing a code (RFC 6749 §4.1.2) and redeeming it (§4.1.3)
//! with PKCE (RFC 7636 §4.5).
//!
//! The code is consumed and its grant recorded in one transaction, so a replay always
//! finds the grant to revoke. A code is good only while the session it was issued under is
//! live and the citizen's consent still covers its scopes: signing out or withdrawing
//! consent between the redirect and the redemption ends it too.

use super::{permit_issue, required};
use crate::crypto;
use crate::error::OAuthError;
use crate::oidc::CODE_TTL_S;
use crate::oidc::Provider;
use crate::oidc::authorize::{AuthorizationRequest, append_query};
use crate::oidc::params::Params;
use crate::oidc::parse_scope;
use crate::oidc::pkce;
use crate::oidc::tokens::{self, TokenResponse};
use crate::store::{
    ClientRecord, CodeRecord, CodeRedemption, GrantRecord, GrantStore, Redemption, SsoSession,
};

/// Issue a single-use code bound to the client, redirect URI, PKCE challenge and nonce, for
/// the citizen of `session`; returns the redirect to the client (RFC 6749 §4.1.2, with
/// `iss` per RFC 9207).
pub async fn issue(
    op: &Provider<'_>,
    request: &AuthorizationRequest,
    session: &SsoSession,
) -> Result<String, OAuthError> {
    let now = op.now();
    let code = crypto::random_token()?;
    let record = CodeRecord {
        code_hash: crypto::secret_hash(&code),
        grant: GrantRecord {
            id: uuid::Uuid::now_v7().to_string(),
            client_id: request.client_id.clone(),
            citizen_id: session.citizen_id.clone(),
            session_id: session.id.clone(),
            scope: request.scopes.join(" "),
            auth_time: session.auth_time,
            acr: session.acr.clone(),
            amr: session.amr.clone(),
            created_at: now,
            revoked_at: None,
        },
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        expires_at: now + CODE_TTL_S,
    };
    op.store.insert_code(&record, now).await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", op.issuer));
    Ok(append_query(&request.redirect_uri, &pairs))
}

pub async fn exchange(
    op: &Provider<'_>,
    client: &ClientRecord,
    params: &Params,
    source: std::net::IpAddr,
) -> Result<TokenResponse, OAuthError> {
    let code = required(params, "code")?;
    let redirect_uri = required(params, "redirect_uri")?;
    let verifier = required(params, "code_verifier")?;
    let now = op.now();
    let redemption = match op
        .store
        .redeem_code(&crypto::secret_hash(code), now)
        .await?
    {
        CodeRedemption::Consumed(redemption) => redemption,
        CodeRedemption::Replayed { grant_id } => {
            // RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
            op.store.revoke_grant(&grant_id, now).await?;
            tracing::warn!(grant = %grant_id, client = %client.id, "authorization code replayed; grant revoked");
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used",
            ));
        }
        CodeRedemption::Unknown => {
            return Err(OAuthError::invalid_grant(
                "the authorization code is invalid",
            ));
        }
    };
    // A refused code is spent all the same: codes are single-use (RFC 6749 §4.1.2).
    if let Err(e) = check(&redemption, client, redirect_uri, verifier, now).and_then(|()| {
        let risk = crate::risk::session_risk(redemption.session_risk, op.now());
        permit_issue(op, client, Some(&redemption.code.grant), source, risk)
    }) {
        redemption.refuse().await?;
        return Err(e);
    }
    let record = &redemption.code;
    let grant = GrantRecord {
        created_at: now,
        ..record.grant.clone()
    };
    let nonce = record.nonce.clone();
    let refresh_token = if client.grant_types.iter().any(|g| g == "refresh_token") {
        Some(crypto::random_token()?)
    } else {
        None
    };
    let refresh_expiry = now + op.lifetimes.refresh_token;
    let refresh_hash = refresh_token.as_deref().map(crypto::secret_hash);
    redemption
        .grant(&grant, refresh_hash.as_deref().map(|h| (h, refresh_expiry)))
        .await?;
    tokens::for_grant(op, client, &grant, nonce.as_deref(), refresh_token).await
}

/// Whether the consumed code may be exchanged by `client` with these parameters.
fn check(
    redemption: &Redemption,
    client: &ClientRecord,
    redirect_uri: &str,
    verifier: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let record = &redemption.code;
    // RFC 6749 §4.1.3: the code belongs to the authenticated client and its redirect URI.
    if record.grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if record.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !pkce::verify(verifier, &record.code_challenge) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    if !redemption.session_live {
        return Err(OAuthError::invalid_grant(
            "the login session behind the authorization code has ended",
        ));
    }
    let consented = parse_scope(redemption.consented.as_deref().unwrap_or_default());
    if !parse_scope(&record.grant.scope)
        .iter()
        .all(|s| consented.contains(s))
    {
        return Err(OAuthError::invalid_grant(
            "the consent behind the authorization code was withdrawn",
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const LOOPBACK: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    use crate::oidc::authorize::Prompt;
    use crate::oidc::params::Params;
    use crate::store::SessionStore;
    use crate::testing::Fixture;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    pub(in crate::oidc::grants) fn request(client: &str, scopes: &[&str]) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: client.into(),
            redirect_uri: "https://rp.example/cb".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            state: Some("st".into()),
            nonce: Some("n-1".into()),
            code_challenge: CHALLENGE.into(),
            prompt: Prompt::default(),
            max_age: None,
            acr_values: vec![],
            required_acr: None,
            login_hint: None,
            ui_locales: None,
        }
    }

    pub(in crate::oidc::grants) fn redeem_params(location: &str) -> Params {
        let url = url::Url::parse(location).unwrap();
        let code = url
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        Params::from_pairs([
            ("code", code.as_str()),
            ("redirect_uri", "https://rp.example/cb"),
            ("code_verifier", VERIFIER),
        ])
    }

    #[tokio::test]
    async fn an_issued_code_is_exchanged_once_and_a_replay_revokes_the_grant() {
        let f = Fixture::new().await;
        let op = f.op();
        let client = f.client("rp").await;
        let session = f.signed_in("rp", "openid profile").await;
        let location = issue(&op, &request("rp", &["openid", "profile"]), &session)
            .await
            .unwrap();
        assert!(location.contains("state=st") && location.contains("iss="));
        let params = redeem_params(&location);

        let tokens = exchange(&op, &client, &params, LOOPBACK).await.unwrap();
        assert!(tokens.id_token.is_some() && tokens.refresh_token.is_some());
        let replay = exchange(&op, &client, &params, LOOPBACK).await.unwrap_err();
        assert_eq!(replay.code, crate::error::ErrorCode::InvalidGrant);
        let claims = crate::oidc::tokens::verify_access_token(&op, &tokens.access_token).await;
        assert!(
            claims.is_err(),
            "the replay revoked what the first use issued"
        );
    }

    #[tokio::test]
    async fn a_code_needs_its_session_its_consent_its_client_and_its_verifier() {
        let f = Fixture::new().await;
        let op = f.op();
        let client = f.client("rp").await;
        let other = f.client("other").await;
        let refused = async |session: &SsoSession, client: &ClientRecord, verifier: &str| {
            let location = issue(&op, &request("rp", &["openid", "profile"]), session)
                .await
                .unwrap();
            let mut params = redeem_params(&location);
            params = Params::from_pairs([
                ("code", params.get("code").unwrap()),
                ("redirect_uri", "https://rp.example/cb"),
                ("code_verifier", verifier),
            ]);
            exchange(&op, client, &params, LOOPBACK).await.is_err()
        };
        let session = f.signed_in("rp", "openid profile").await;
        assert!(refused(&session, &other, VERIFIER).await, "another client");
        assert!(
            refused(&session, &client, &"x".repeat(43)).await,
            "wrong verifier"
        );
        // Consent narrower than the code's scopes.
        let narrow = f.signed_in("rp", "openid").await;
        assert!(refused(&narrow, &client, VERIFIER).await, "consent");
        // Signed out.
        f.store.revoke_session(&session.id, op.now()).await.unwrap();
        assert!(refused(&session, &client, VERIFIER).await, "session");
        // And the good case still works.
        let good = f.signed_in("rp", "openid profile").await;
        assert!(!refused(&good, &client, VERIFIER).await);
    }
}
