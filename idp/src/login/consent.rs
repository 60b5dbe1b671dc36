//! Consent, remembered per citizen and client: asked once for a set of scopes, asked again
//! only for new scopes or when the relying party sends `prompt=consent`.

use super::Broker;
use crate::error::OAuthError;
use crate::oidc::authorize::AuthorizationRequest;
use crate::oidc::flow::Flow;
use crate::oidc::parse_scope;
use crate::store::{ClientRecord, ClientStore, ConsentStore, RecipientNotice};

/// Who else sees the identifier a relying party receives for the citizen (OIDC Core §8), so
/// the consent page can say it truthfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedIdentifier {
    /// A pairwise subject no other relying party receives.
    Own,
    /// A pairwise subject every relying party of this sector receives.
    Sector(String),
    /// A public subject, the same at every public-subject relying party.
    Public,
}

/// The consent notice (Personal Information Protection Act art. 17(2)): the recipient, what
/// for, what it receives, how long it keeps it, and that the citizen may refuse.
pub struct ConsentView {
    pub flow_id: String,
    pub csrf: String,
    pub client_name: String,
    pub agency: Option<String>,
    pub notice: RecipientNotice,
    pub identifier: SharedIdentifier,
    pub ui_locales: Option<String>,
    /// The scopes the relying party will receive; pages describe them in plain words.
    pub scopes: Vec<String>,
}

crate::redact::debug_without_secrets!(ConsentView {
    flow_id,
    client_name,
    scopes
});

impl ConsentView {
    pub async fn new(
        ctx: &Broker<'_>,
        flow: &Flow,
        client: &ClientRecord,
    ) -> Result<Self, OAuthError> {
        let identifier = if client.subject_type == "public" {
            SharedIdentifier::Public
        } else if ctx
            .op
            .store
            .pairwise_clients_in_sector(&client.sector_identifier)
            .await?
            > 1
        {
            SharedIdentifier::Sector(client.sector_identifier.clone())
        } else {
            SharedIdentifier::Own
        };
        Ok(Self {
            flow_id: flow.id.clone(),
            csrf: flow.csrf.clone(),
            client_name: client.name.clone(),
            agency: client.agency.clone(),
            notice: client.notice.clone(),
            identifier,
            ui_locales: flow.request.ui_locales.clone(),
            scopes: flow.request.scopes.clone(),
        })
    }
}

pub async fn covers(
    ctx: &Broker<'_>,
    citizen_id: &str,
    request: &AuthorizationRequest,
) -> Result<bool, OAuthError> {
    let Some(granted) = ctx.op.store.consent(citizen_id, &request.client_id).await? else {
        return Ok(false);
    };
    let granted = parse_scope(&granted);
    Ok(request.scopes.iter().all(|s| granted.contains(s)))
}

pub async fn remember(
    ctx: &Broker<'_>,
    citizen_id: &str,
    request: &AuthorizationRequest,
) -> Result<(), OAuthError> {
    let mut scopes = match ctx.op.store.consent(citizen_id, &request.client_id).await? {
        Some(existing) => parse_scope(&existing),
        None => Vec::new(),
    };
    for s in &request.scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    ctx.op
        .store
        .put_consent(
            citizen_id,
            &request.client_id,
            &scopes.join(" "),
            ctx.op.now(),
        )
        .await?;
    Ok(())
}
