//! Consent, remembered per citizen and client: asked once for a set of scopes, asked again
//! only for new scopes or when the relying party sends `prompt=consent`.

use crate::error::OAuthError;
use crate::oidc::authorize::AuthorizationRequest;
use crate::oidc::flow::Flow;
use crate::oidc::parse_scope;
use crate::state::Core;
use crate::store::ConsentStore;

#[derive(Debug)]
pub struct ConsentView {
    pub flow_id: String,
    pub csrf: String,
    pub client_name: String,
    pub ui_locales: Option<String>,
    /// Plain-words descriptions of what the relying party will receive.
    pub items: Vec<&'static str>,
}

impl ConsentView {
    pub fn new(flow: &Flow, client_name: String) -> Self {
        Self {
            flow_id: flow.id.clone(),
            csrf: flow.csrf.clone(),
            client_name,
            ui_locales: flow.request.ui_locales.clone(),
            items: flow
                .request
                .scopes
                .iter()
                .filter_map(|s| describe(s))
                .collect(),
        }
    }
}

fn describe(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "An identifier for you that only this service sees",
        "profile" => "Your name, date of birth and language",
        "email" => "Your email address",
        "phone" => "Your phone number",
        "address" => "Your postal address",
        "offline_access" => "Access to these details while you are not using the service",
        _ => return None,
    })
}

pub async fn covers(
    core: &Core,
    citizen_id: &str,
    request: &AuthorizationRequest,
) -> Result<bool, OAuthError> {
    let Some(granted) = core.store.consent(citizen_id, &request.client_id).await? else {
        return Ok(false);
    };
    let granted = parse_scope(&granted);
    Ok(request.scopes.iter().all(|s| granted.contains(s)))
}

pub async fn remember(
    core: &Core,
    citizen_id: &str,
    request: &AuthorizationRequest,
) -> Result<(), OAuthError> {
    let mut scopes = match core.store.consent(citizen_id, &request.client_id).await? {
        Some(existing) => parse_scope(&existing),
        None => Vec::new(),
    };
    for s in &request.scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    core.store
        .put_consent(
            citizen_id,
            &request.client_id,
            &scopes.join(" "),
            core.now(),
        )
        .await?;
    Ok(())
}
