//! The login flow state machine. A flow holds a validated authorization request while the
//! citizen logs in and consents:
//!
//! requested -> authenticated (a session) -> completed (code issued)
//!
//! Each move is one conditional update from the expected state, so a replayed or raced form
//! post cannot move a flow twice.

use super::authorize::AuthorizationRequest;
use crate::crypto;
use crate::error::OAuthError;
use crate::oidc::Provider;
use crate::store::{FlowRecord, FlowStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    Requested,
    Authenticated,
    Completed,
}

impl FlowState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Authenticated => "authenticated",
            Self::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "requested" => Some(Self::Requested),
            "authenticated" => Some(Self::Authenticated),
            "completed" => Some(Self::Completed),
            _ => None,
        }
    }

    /// Legal moves. Re-authentication (another login on the same flow) is allowed from
    /// `authenticated` so a citizen can switch account before consenting.
    pub fn can_move_to(self, next: FlowState) -> bool {
        matches!(
            (self, next),
            (Self::Requested, Self::Authenticated)
                | (Self::Authenticated, Self::Authenticated)
                | (Self::Authenticated, Self::Completed)
        )
    }
}

/// A live flow, decoded.
#[derive(Clone)]
pub struct Flow {
    pub id: String,
    pub state: FlowState,
    pub request: AuthorizationRequest,
    pub session_id: Option<String>,
    pub csrf: String,
    browser_hash: Vec<u8>,
}

crate::redact::debug_without_secrets!(Flow {
    id,
    state,
    session_id
});

impl Flow {
    /// Is this the browser that started the flow?
    pub fn started_by(&self, browser_token: Option<&str>) -> bool {
        browser_token
            .is_some_and(|t| crypto::constant_time_eq(&crypto::secret_hash(t), &self.browser_hash))
    }

    pub fn csrf_ok(&self, presented: &str) -> bool {
        crypto::constant_time_eq(self.csrf.as_bytes(), presented.as_bytes())
    }
}

pub async fn create(
    op: &Provider<'_>,
    request: &AuthorizationRequest,
    browser_token: &str,
) -> Result<Flow, OAuthError> {
    let now = op.now();
    let record = FlowRecord {
        id: crypto::random_token()?,
        browser_hash: crypto::secret_hash(browser_token),
        client_id: request.client_id.clone(),
        request: serde_json::to_string(request).map_err(OAuthError::server_error)?,
        state: FlowState::Requested.as_str().into(),
        session_id: None,
        csrf: crypto::random_token()?,
        created_at: now,
        expires_at: now + super::FLOW_TTL_S,
    };
    op.store.insert_flow(&record).await?;
    decode(record)
}

pub async fn load(op: &Provider<'_>, id: &str) -> Result<Option<Flow>, OAuthError> {
    match op.store.flow(id, op.now()).await? {
        Some(record) => decode(record).map(Some),
        None => Ok(None),
    }
}

/// Move `flow` to `next`; `None` if the move is illegal or another request moved it first.
pub async fn advance(
    op: &Provider<'_>,
    flow: &Flow,
    next: FlowState,
    session_id: Option<&str>,
) -> Result<Option<Flow>, OAuthError> {
    if !flow.state.can_move_to(next) {
        return Ok(None);
    }
    let moved = op
        .store
        .transition_flow(
            &flow.id,
            flow.state.as_str(),
            next.as_str(),
            session_id,
            op.now(),
        )
        .await?;
    Ok(moved.then(|| Flow {
        state: next,
        session_id: session_id
            .map(str::to_owned)
            .or_else(|| flow.session_id.clone()),
        ..flow.clone()
    }))
}

fn decode(record: FlowRecord) -> Result<Flow, OAuthError> {
    let state = FlowState::parse(&record.state)
        .ok_or_else(|| OAuthError::server_error(format!("unknown flow state {}", record.state)))?;
    let request = serde_json::from_str(&record.request).map_err(OAuthError::server_error)?;
    Ok(Flow {
        id: record.id,
        state,
        request,
        session_id: record.session_id,
        csrf: record.csrf,
        browser_hash: record.browser_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::FlowState::*;

    #[test]
    fn only_forward_moves_are_legal() {
        assert!(Requested.can_move_to(Authenticated));
        assert!(Authenticated.can_move_to(Completed));
        assert!(!Requested.can_move_to(Completed));
        assert!(!Completed.can_move_to(Authenticated));
        assert!(!Completed.can_move_to(Completed));
    }
}
