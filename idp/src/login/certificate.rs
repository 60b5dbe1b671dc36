//! Certificate login for a flow, over `adapters::certificate`, by two transports:
//!
//! - **Signed challenge** (how joint certificates log in): the chooser shows a single-use
//!   challenge (at most [`CHALLENGE_TTL_S`] old) that names this origin, the purpose and
//!   the flow (`anyid_certs::challenge`); the citizen's signer shows them and returns a CMS
//!   SignedData over it, posted with the chooser's form. The challenge is spent before the
//!   signature is looked at, so a failed attempt cannot be retried with it either.
//! - **Mutual TLS**: the chooser links to the mTLS listener (its own origin), which only reads
//!   the chain the TLS handshake proved and hands it back to the main origin under a
//!   single-use token ([`TLS_HANDOFF_TTL_S`]). Validation and its error pages happen here, on
//!   the main origin, for the browser that started the flow.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyid_adapters::VerifiedIdentity;
use anyid_adapters::certificate::{METHOD, Refusal};
use anyid_certs::CertificateDer;
use anyid_certs::challenge::Purpose;
use anyid_policy::Loa;

use super::Broker;
use super::attempts::{self, Proof, Settled};
use super::kept::{self, Kept, keep, take};
use super::portal::SignedIn;
use super::{Step, Visitor, error, finish_login, flow_error, flow_for_form, throttled};
use crate::crypto;
use crate::error::OAuthError;
use crate::i18n::Notice;
use crate::oidc::authorize::append_query;
use crate::oidc::flow::{self, Flow, FlowState};
use crate::store::AccountStore;

/// A challenge must be signed and posted within 2 minutes.
pub const CHALLENGE_TTL_S: i64 = 120;
/// The mTLS listener's hand-off back to the main origin lives a minute.
pub const TLS_HANDOFF_TTL_S: i64 = 60;

const TLS_HANDOFF: &str = "certificate-tls";

/// What the chooser shows for certificates.
#[derive(Clone)]
pub struct CertificateOffer {
    pub challenge: String,
    /// The mutual-TLS login for this flow, when that listener runs.
    pub tls_url: Option<String>,
}

crate::redact::debug_without_secrets!(CertificateOffer { tls_url });

fn system_time(ctx: &Broker<'_>) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(ctx.op.now()).unwrap_or_default())
}

/// The citizen-facing reason for a refused certificate.
pub fn notice_of(refusal: &Refusal) -> Notice {
    match refusal {
        Refusal::Expired => Notice::CertExpired,
        Refusal::NotYetValid => Notice::CertNotYetValid,
        Refusal::Revoked => Notice::CertRevoked,
        Refusal::UnknownIssuer => Notice::CertUnknownIssuer,
        Refusal::PolicyNotAccepted => Notice::CertPolicy,
        Refusal::KeyUsage => Notice::CertKeyUsage,
        Refusal::RevocationUnknown => Notice::CertRevocationUnknown,
        Refusal::BadSignature | Refusal::NonceMismatch => Notice::CertSignature,
        Refusal::NoIdentity => Notice::CertNoIdentity,
        Refusal::Malformed(_) | Refusal::Config(_) | Refusal::Io(_) => Notice::CertMalformed,
    }
}

/// A fresh challenge (and the mTLS link) for the chooser of `flow`. Nothing is stored: the
/// challenge carries its own binding (see `anyid_certs::challenge`).
pub fn offer(ctx: &Broker<'_>, flow: &Flow) -> Result<Option<CertificateOffer>, OAuthError> {
    if ctx.certificates.is_none() {
        return Ok(None);
    }
    let challenge = kept::challenge(ctx, Purpose::Login, &flow.id, CHALLENGE_TTL_S)?;
    let tls_url = ctx
        .mtls_url
        .map(|url| append_query(&format!("{url}/login/certificate"), &[("flow", &flow.id)]));
    Ok(Some(CertificateOffer { challenge, tls_url }))
}

/// What the signed-challenge form posted.
pub struct SignedAnswer<'a> {
    pub flow_id: &'a str,
    pub csrf: &'a str,
    pub challenge: &'a str,
    /// CMS SignedData, base64 or PEM.
    pub signature: &'a str,
}

/// Finish a signed-challenge login.
pub async fn finish_signed(
    ctx: &Broker<'_>,
    answer: SignedAnswer<'_>,
    visitor: &Visitor<'_>,
) -> Result<(Step, Option<String>), OAuthError> {
    let flow = match flow_for_form(ctx, answer.flow_id, answer.csrf, visitor.browser).await? {
        Ok(flow) => flow,
        Err(step) => return Ok((step, None)),
    };
    let Some(certificates) = &ctx.certificates else {
        return Ok((error(Notice::NotFound), None));
    };
    // Spent before the signature is looked at: a failed attempt cannot retry with it.
    let challenge = answer.challenge.trim();
    if !kept::spend_challenge(ctx, challenge, Purpose::Login, &flow.id).await? {
        return Ok((flow_error(ctx, &flow, Notice::CertChallenge), None));
    }
    // Counted, slowed and locked per certificate whether or not an account holds it, and
    // answered alike (`attempts`); a signature that names no certificate counts per method.
    let claimed = anyid_certs::cms::decode_signed_data(answer.signature)
        .ok()
        .and_then(|der| anyid_certs::cms::claimed_signer(&der));
    let attempt = match &claimed {
        Some(certificate) => attempts::begin(ctx, METHOD, certificate, visitor)
            .await
            .map(Some),
        None => attempts::admit_method(ctx, METHOD).await.map(|()| None),
    };
    let attempt = match attempt {
        Ok(attempt) => attempt,
        Err(wait) => return Ok((throttled(ctx, &flow, wait), None)),
    };
    let verified = certificates
        .signed_challenge(answer.signature, challenge.as_bytes(), system_time(ctx))
        .await;
    let mut recent_failures = 0;
    if let Some(attempt) = attempt {
        let proof = match &verified {
            Ok(_) => Proof::Holds,
            Err(Refusal::BadSignature | Refusal::NonceMismatch) => Proof::Wrong,
            Err(_) => Proof::Refused,
        };
        match attempt.settle(ctx, proof).await? {
            Settled::Admitted { recent_failures: n } => recent_failures = n,
            Settled::Refused => {
                tracing::info!("certificate login refused: wrong signature or locked");
                return Ok((flow_error(ctx, &flow, Notice::CertSignature), None));
            }
            Settled::Explained => {}
        }
    }
    accept(ctx, &flow, verified, visitor, recent_failures).await
}

/// On the mTLS listener: hand the TLS-proven `chain` (none if the browser sent no
/// certificate) back to the main origin. Returns where to send the browser, or `None` when
/// the flow is unknown or over.
pub async fn hand_off(
    ctx: &Broker<'_>,
    flow_id: &str,
    chain: &[CertificateDer<'_>],
) -> Result<Option<String>, OAuthError> {
    if flow::load(&ctx.op, flow_id)
        .await?
        .is_none_or(|f| f.state == FlowState::Completed)
    {
        return Ok(None);
    }
    let encoded: Vec<String> = chain.iter().map(|c| crypto::b64(c.as_ref())).collect();
    let kept = Kept {
        kind: TLS_HANDOFF,
        flow_id: Some(flow_id.to_owned()),
        citizen_id: None,
        data: serde_json::to_string(&encoded).map_err(OAuthError::server_error)?,
        ttl_s: TLS_HANDOFF_TTL_S,
    };
    let token = keep(ctx, kept).await?;
    Ok(Some(append_query(
        &ctx.op.endpoint("/login/certificate/return"),
        &[("token", &token)],
    )))
}

/// Back on the main origin from the mTLS listener: validate the chain for the flow this
/// browser started.
pub async fn finish_tls(
    ctx: &Broker<'_>,
    token: &str,
    visitor: &Visitor<'_>,
) -> Result<(Step, Option<String>), OAuthError> {
    let Some(kept) = take(ctx, TLS_HANDOFF, token).await? else {
        return Ok((error(Notice::Stale), None));
    };
    let Some(flow) = flow::load(&ctx.op, kept.flow_id.as_deref().unwrap_or_default()).await? else {
        return Ok((error(Notice::Stale), None));
    };
    if !flow.started_by(visitor.browser) {
        return Ok((error(Notice::WrongBrowser), None));
    }
    if flow.state == FlowState::Completed {
        return Ok((error(Notice::Stale), None));
    }
    let Some(certificates) = &ctx.certificates else {
        return Ok((error(Notice::NotFound), None));
    };
    let encoded: Vec<String> = serde_json::from_str(&kept.data).unwrap_or_default();
    let chain: Vec<CertificateDer<'static>> = encoded
        .iter()
        .filter_map(|c| crypto::b64_decode(c))
        .map(CertificateDer::from)
        .collect();
    if chain.is_empty() {
        return Ok((flow_error(ctx, &flow, Notice::CertMissing), None));
    }
    // The handshake proved the key: no proof to count, only the method's budget.
    if let Err(wait) = attempts::admit_method(ctx, METHOD).await {
        return Ok((throttled(ctx, &flow, wait), None));
    }
    let verified = certificates.peer_chain(&chain, system_time(ctx)).await;
    accept(ctx, &flow, verified, visitor, 0).await
}

/// A validated (or refused) certificate identity: refusals are explained with a way back
/// and create nothing; a fingerprint identity must have been registered by its citizen
/// (linked while signed in, which a step-up does).
async fn accept(
    ctx: &Broker<'_>,
    flow: &Flow,
    verified: Result<VerifiedIdentity, Refusal>,
    visitor: &Visitor<'_>,
    recent_failures: u32,
) -> Result<(Step, Option<String>), OAuthError> {
    let identity = match verified {
        Ok(identity) => identity,
        Err(refusal) => {
            tracing::info!(reason = refusal.code(), "certificate login refused");
            return Ok((flow_error(ctx, flow, notice_of(&refusal)), None));
        }
    };
    let by_fingerprint = ctx
        .certificates
        .as_ref()
        .is_some_and(|c| c.config().by_fingerprint());
    if by_fingerprint
        && ctx
            .op
            .store
            .citizen_by_identity(
                &identity.issuer,
                &super::account::stored_subject(ctx.op.secrets, &identity),
            )
            .await?
            .is_none()
        && super::step_up_session(ctx, flow, visitor.session)
            .await?
            .is_none()
    {
        return Ok((flow_error(ctx, flow, Notice::CertNotRegistered), None));
    }
    finish_login(ctx, flow, identity, visitor, recent_failures).await
}

/// A challenge for the signed-in citizen to register a certificate from the portal.
pub fn link_offer(ctx: &Broker<'_>, citizen_id: &str) -> Result<Option<String>, OAuthError> {
    if ctx.certificates.is_none() {
        return Ok(None);
    }
    kept::challenge(ctx, Purpose::Register, citizen_id, CHALLENGE_TTL_S).map(Some)
}

/// Register the certificate that signed `challenge` to the signed-in citizen (how a
/// fingerprint identity is registered; any certificate identity can be linked this way). The
/// link is vouched at the session's level (DESIGN §4).
pub async fn link_signed(
    ctx: &Broker<'_>,
    signed_in: &SignedIn,
    challenge: &str,
    signature: &str,
) -> Result<Result<(), Notice>, OAuthError> {
    let session = signed_in.session();
    let Some(certificates) = &ctx.certificates else {
        return Ok(Err(Notice::NotFound));
    };
    let challenge = challenge.trim();
    if !kept::spend_challenge(ctx, challenge, Purpose::Register, &session.citizen_id).await? {
        return Ok(Err(Notice::CertChallenge));
    }
    let identity = match certificates
        .signed_challenge(signature, challenge.as_bytes(), system_time(ctx))
        .await
    {
        Ok(identity) => identity,
        Err(refusal) => {
            tracing::info!(reason = refusal.code(), "certificate registration refused");
            return Ok(Err(notice_of(&refusal)));
        }
    };
    let level = Loa::from_acr(&session.acr).unwrap_or_default();
    let outcome =
        super::account::link(ctx, &session.citizen_id, &identity, level, Loa::Low).await?;
    Ok(outcome.refusal().map_or(Ok(()), Err))
}
