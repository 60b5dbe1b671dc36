//! The method chooser: which login methods a flow offers (only those that reach the level
//! it requires, DESIGN §4), the page's view of them, and the answer when no enabled method
//! can reach the level at all.

use anyid_adapters::dev;
use anyid_policy::Loa;

use super::{
    Broker, PORTAL_CLIENT, Step, account, certificate, level_needed, passkey, refused,
    relying_party,
};
use crate::error::OAuthError;
use crate::oidc::flow::Flow;
use crate::store::{ClientStore, SsoSession};

pub struct LoginView {
    pub flow_id: String,
    pub csrf: String,
    /// Empty for the portal.
    pub client_name: String,
    pub ui_locales: Option<String>,
    /// Whether the dev method (demo citizens) is offered.
    pub dev_login: bool,
    pub methods: Vec<MethodChoice>,
    /// The assurance the service requires, when above the lowest: only methods that reach
    /// it are offered (step-up).
    pub required_acr: Option<String>,
    /// A usernameless passkey ceremony, when passkeys are on.
    pub passkey: Option<passkey::PasskeyOffer>,
    /// A certificate challenge (and the mutual-TLS link), when certificate login is on.
    pub certificate: Option<certificate::CertificateOffer>,
    /// During a step-up: the signed-in citizen's name (the method used is linked to them).
    pub stepping_up_as: Option<String>,
}

crate::redact::debug_without_secrets!(LoginView {
    flow_id,
    client_name,
    methods,
    required_acr,
    passkey,
    certificate
});

/// An upstream method on the chooser.
#[derive(Debug, Clone)]
pub struct MethodChoice {
    pub id: String,
    pub name_ko: String,
    pub name_en: String,
    /// False while the provider's circuit breaker is open.
    pub available: bool,
}

/// The highest level an enabled login method can reach.
pub(super) fn reachable(ctx: &Broker<'_>) -> Option<Loa> {
    let upstreams = ctx
        .upstreams
        .iter()
        .filter(|u| u.config().enabled)
        .map(|u| u.config().loa);
    let dev = ctx.dev_login.then_some(dev::LOA);
    // A passkey can be registered at any level up to high (see `passkey`).
    let passkeys = ctx.passkeys.as_ref().map(|_| Loa::High);
    let certificates = ctx
        .certificates
        .iter()
        .flat_map(|c| c.config().policies.iter().map(|p| p.loa));
    upstreams
        .chain(dev)
        .chain(passkeys)
        .chain(certificates)
        .max()
}

/// The chooser of `flow`; during a step-up it names the signed-in citizen.
pub(super) async fn login_page(
    ctx: &Broker<'_>,
    flow: &Flow,
    step_up: Option<&SsoSession>,
) -> Result<Step, OAuthError> {
    let client_name = if flow.request.client_id == PORTAL_CLIENT {
        String::new()
    } else {
        ctx.op
            .store
            .client(&flow.request.client_id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default()
    };
    let now = ctx.op.now();
    let facts = relying_party(ctx, &flow.request).await?;
    let required = match level_needed(ctx, &flow.request, &facts) {
        Ok(level) => level,
        Err(reason) => return Ok(refused(ctx, &flow.request, reason)),
    };
    let methods: Vec<MethodChoice> = ctx
        .upstreams
        .iter()
        .filter(|u| u.config().loa >= required)
        .map(|u| MethodChoice {
            id: u.id().to_owned(),
            name_ko: u.display_name("ko").to_owned(),
            name_en: u.display_name("en").to_owned(),
            available: u.available(now),
        })
        .collect();
    let dev_login = ctx.dev_login && dev::LOA >= required;
    let certificates = ctx
        .certificates
        .is_some_and(|c| c.config().policies.iter().any(|p| p.loa >= required));
    Ok(Step::LoginPage(LoginView {
        flow_id: flow.id.clone(),
        csrf: flow.csrf.clone(),
        client_name,
        ui_locales: flow.request.ui_locales.clone(),
        dev_login,
        methods,
        required_acr: (required > Loa::Low).then(|| required.acr().to_owned()),
        passkey: passkey::login_offer(ctx, flow).await?,
        certificate: if certificates {
            certificate::offer(ctx, flow)?
        } else {
            None
        },
        stepping_up_as: match step_up {
            Some(s) => Some(account::display_name(ctx, &s.citizen_id).await?),
            None => None,
        },
    }))
}
