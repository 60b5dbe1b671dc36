//! Korean and English for every page a person sees. Texts are plain Rust values, so a
//! missing translation does not compile. The language comes from an explicit switch, the
//! relying party's `ui_locales` (OIDC Core §3.1.2.1), a remembered choice, or
//! `Accept-Language`, in that order; Korean is the default.
//!
//! This module owns the language, its negotiation, [`Notice`] and the shape of [`Text`];
//! each language's values live in their own file (`ko`, `en`).

mod en;
mod ko;

pub use en::EN;
pub use ko::KO;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ko" => Some(Lang::Ko),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported tag of a space-separated `ui_locales` list.
    fn from_ui_locales(list: &str) -> Option<Lang> {
        list.split(' ').find_map(Lang::parse)
    }

    /// The supported language with the highest q-value in `Accept-Language` (RFC 9110 §12.5.4).
    fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn negotiate(
        switch: Option<&str>,
        ui_locales: Option<&str>,
        remembered: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        switch
            .and_then(Lang::parse)
            .or_else(|| ui_locales.and_then(Lang::from_ui_locales))
            .or_else(|| remembered.and_then(Lang::parse))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or(Lang::Ko)
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::Ko => &KO,
            Lang::En => &EN,
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ko => Lang::En,
            Lang::En => Lang::Ko,
        }
    }
}

/// What went wrong, in words a citizen understands. The domain says which; pages say it in
/// the citizen's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    MissingClient,
    UnknownClient,
    MissingRedirect,
    UnregisteredRedirect,
    Stale,
    WrongBrowser,
    BadRequest,
    ServerError,
    NotFound,
    UpstreamUnavailable,
    UpstreamRefused,
    UpstreamFailed,
    LoginMismatch,
    LinkedElsewhere,
    LastMethod,
    LogoutUnknownToken,
    LogoutTwoClients,
    LogoutUnregistered,
    InsufficientAssurance,
    PasskeyFailed,
    PasskeyExists,
    PasskeyName,
    CertExpired,
    CertNotYetValid,
    CertRevoked,
    CertUnknownIssuer,
    CertPolicy,
    CertKeyUsage,
    CertRevocationUnknown,
    CertSignature,
    CertChallenge,
    CertMalformed,
    CertMissing,
    CertNotRegistered,
    CertNoIdentity,
    AnotherPerson,
    StepUpNotBound,
    BoundBelowLevel,
    TooManyRequests,
    /// Too many attempts with one method or credential.
    TooManyAttempts,
    /// The citizen suspended their account: no logins to services.
    AccountSuspended,
    /// Resuming needs a sign-in made after the suspension.
    SignInAgain,
    /// Deleting needs a recent high-assurance sign-in.
    DeleteNeedsHigh,
    /// The provider's policy refuses the request.
    PolicyRefused,
}

impl Notice {
    pub fn text(self, lang: Lang) -> &'static str {
        let t = lang.text();
        match self {
            Notice::MissingClient => t.err_missing_client,
            Notice::UnknownClient => t.err_unknown_client,
            Notice::MissingRedirect => t.err_missing_redirect,
            Notice::UnregisteredRedirect => t.err_unregistered_redirect,
            Notice::Stale => t.err_stale,
            Notice::WrongBrowser => t.err_wrong_browser,
            Notice::BadRequest => t.err_bad_request,
            Notice::ServerError => t.err_server,
            Notice::NotFound => t.err_not_found,
            Notice::UpstreamUnavailable => t.err_upstream_unavailable,
            Notice::UpstreamRefused => t.err_upstream_refused,
            Notice::UpstreamFailed => t.err_upstream_failed,
            Notice::LoginMismatch => t.err_login_mismatch,
            Notice::LinkedElsewhere => t.err_linked_elsewhere,
            Notice::LastMethod => t.err_last_method,
            Notice::LogoutUnknownToken => t.err_logout_unknown_token,
            Notice::LogoutTwoClients => t.err_logout_two_clients,
            Notice::LogoutUnregistered => t.err_logout_unregistered,
            Notice::InsufficientAssurance => t.err_insufficient_assurance,
            Notice::PasskeyFailed => t.err_passkey_failed,
            Notice::PasskeyExists => t.err_passkey_exists,
            Notice::PasskeyName => t.err_passkey_name,
            Notice::CertExpired => t.err_cert_expired,
            Notice::CertNotYetValid => t.err_cert_not_yet_valid,
            Notice::CertRevoked => t.err_cert_revoked,
            Notice::CertUnknownIssuer => t.err_cert_unknown_issuer,
            Notice::CertPolicy => t.err_cert_policy,
            Notice::CertKeyUsage => t.err_cert_key_usage,
            Notice::CertRevocationUnknown => t.err_cert_revocation_unknown,
            Notice::CertSignature => t.err_cert_signature,
            Notice::CertChallenge => t.err_cert_challenge,
            Notice::CertMalformed => t.err_cert_malformed,
            Notice::CertMissing => t.err_cert_missing,
            Notice::CertNotRegistered => t.err_cert_not_registered,
            Notice::CertNoIdentity => t.err_cert_no_identity,
            Notice::AnotherPerson => t.err_another_person,
            Notice::StepUpNotBound => t.err_step_up_not_bound,
            Notice::BoundBelowLevel => t.err_bound_below_level,
            Notice::TooManyRequests => t.err_too_many_requests,
            Notice::TooManyAttempts => t.err_too_many_attempts,
            Notice::AccountSuspended => t.err_account_suspended,
            Notice::SignInAgain => t.portal_resume_needs_login,
            Notice::DeleteNeedsHigh => t.portal_delete_needs_high,
            Notice::PolicyRefused => t.err_policy_refused,
        }
    }
}

pub struct Text {
    pub lang_name: &'static str,
    pub switch_label: &'static str,
    pub skip_to_content: &'static str,
    pub footer: &'static str,
    pub home_title: &'static str,
    pub home_body: &'static str,
    pub sign_in: &'static str,
    pub continue_to: &'static str,
    pub choose_method: &'static str,
    pub last_used: &'static str,
    pub unavailable: &'static str,
    pub continue_with: &'static str,
    pub demo_heading: &'static str,
    pub demo_tag: &'static str,
    pub demo_body: &'static str,
    pub no_methods: &'static str,
    pub consent_title: &'static str,
    pub consent_lead: &'static str,
    pub consent_note: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,
    pub consent_recipient: &'static str,
    pub consent_purpose: &'static str,
    pub consent_items: &'static str,
    pub consent_retention: &'static str,
    pub consent_not_stated: &'static str,
    pub consent_policy: &'static str,
    pub consent_refuse: &'static str,
    pub subject_own: &'static str,
    pub subject_sector: &'static str,
    pub subject_public: &'static str,
    pub sign_in_facts: &'static str,
    /// What each releasable claim is called (OIDC Core §5.1 names); every claim a scope
    /// releases has one (checked by a test), so the consent page lists all of them.
    pub claim_labels: &'static [(&'static str, &'static str)],
    pub scope_profile: &'static str,
    pub scope_email: &'static str,
    pub scope_phone: &'static str,
    pub scope_address: &'static str,
    pub scope_offline: &'static str,
    pub error_title: &'static str,
    pub try_another: &'static str,
    pub back_to_service: &'static str,
    pub signed_out_title: &'static str,
    pub signed_out_body: &'static str,
    pub sign_out_title: &'static str,
    pub sign_out_body: &'static str,
    pub sign_out: &'static str,
    pub portal_title: &'static str,
    pub portal_signed_in_as: &'static str,
    pub portal_methods: &'static str,
    pub portal_link_another: &'static str,
    pub portal_unlink: &'static str,
    pub portal_level: &'static str,
    pub portal_last_used: &'static str,
    pub portal_sessions: &'static str,
    pub portal_this_device: &'static str,
    pub portal_started: &'static str,
    pub portal_revoke: &'static str,
    pub portal_revoke_all: &'static str,
    pub portal_consents: &'static str,
    pub portal_no_consents: &'static str,
    pub portal_withdraw: &'static str,
    pub portal_history: &'static str,
    pub portal_when: &'static str,
    pub portal_method: &'static str,
    pub portal_service: &'static str,
    pub portal_from: &'static str,
    pub portal_none: &'static str,
    pub portal_linked: &'static str,
    pub portal_unlinked: &'static str,
    pub portal_revoked: &'static str,
    pub portal_sign_in_lead: &'static str,
    pub err_missing_client: &'static str,
    pub err_unknown_client: &'static str,
    pub err_missing_redirect: &'static str,
    pub err_unregistered_redirect: &'static str,
    pub err_stale: &'static str,
    pub err_wrong_browser: &'static str,
    pub err_bad_request: &'static str,
    pub err_server: &'static str,
    pub err_not_found: &'static str,
    pub err_upstream_unavailable: &'static str,
    pub err_upstream_refused: &'static str,
    pub err_upstream_failed: &'static str,
    pub err_login_mismatch: &'static str,
    pub err_linked_elsewhere: &'static str,
    pub err_last_method: &'static str,
    pub err_logout_unknown_token: &'static str,
    pub err_logout_two_clients: &'static str,
    pub err_logout_unregistered: &'static str,
    pub err_insufficient_assurance: &'static str,
    pub step_up: &'static str,
    pub level_low: &'static str,
    pub level_substantial: &'static str,
    pub level_high: &'static str,
    pub passkey_heading: &'static str,
    pub passkey_button: &'static str,
    pub passkey_hint: &'static str,
    pub passkey_pick: &'static str,
    pub passkey_unsupported: &'static str,
    pub passkey_cancelled: &'static str,
    pub portal_passkeys: &'static str,
    pub portal_no_passkeys: &'static str,
    pub portal_add_passkey: &'static str,
    pub portal_passkey_name: &'static str,
    pub portal_rename: &'static str,
    pub portal_remove: &'static str,
    pub portal_registered: &'static str,
    pub portal_storage: &'static str,
    pub portal_synced: &'static str,
    pub portal_device_bound: &'static str,
    pub portal_never: &'static str,
    pub portal_passkey_added: &'static str,
    pub portal_passkey_renamed: &'static str,
    pub portal_passkey_removed: &'static str,
    pub cert_heading: &'static str,
    pub cert_sign_summary: &'static str,
    pub cert_register: &'static str,
    pub cert_lead: &'static str,
    pub cert_challenge: &'static str,
    pub cert_signature: &'static str,
    pub cert_submit: &'static str,
    pub cert_tls: &'static str,
    pub step_up_signed_in: &'static str,
    pub step_up_adds: &'static str,
    pub err_passkey_failed: &'static str,
    pub err_passkey_exists: &'static str,
    pub err_passkey_name: &'static str,
    pub err_cert_expired: &'static str,
    pub err_cert_not_yet_valid: &'static str,
    pub err_cert_revoked: &'static str,
    pub err_cert_unknown_issuer: &'static str,
    pub err_cert_policy: &'static str,
    pub err_cert_key_usage: &'static str,
    pub err_cert_revocation_unknown: &'static str,
    pub err_cert_signature: &'static str,
    pub err_cert_challenge: &'static str,
    pub err_cert_malformed: &'static str,
    pub err_cert_missing: &'static str,
    pub err_cert_not_registered: &'static str,
    pub err_another_person: &'static str,
    pub err_step_up_not_bound: &'static str,
    pub err_bound_below_level: &'static str,
    pub err_too_many_requests: &'static str,
    pub err_too_many_attempts: &'static str,
    pub err_cert_no_identity: &'static str,
    pub err_account_suspended: &'static str,
    pub portal_details: &'static str,
    pub portal_details_lead: &'static str,
    pub portal_no_details: &'static str,
    pub portal_item: &'static str,
    pub portal_value: &'static str,
    pub portal_source: &'static str,
    pub portal_choose: &'static str,
    pub portal_use: &'static str,
    pub portal_chosen: &'static str,
    pub portal_download: &'static str,
    pub portal_download_lead: &'static str,
    pub portal_download_json: &'static str,
    pub portal_download_html: &'static str,
    pub portal_suspend_heading: &'static str,
    pub portal_suspend_lead: &'static str,
    pub portal_suspend: &'static str,
    pub portal_is_suspended: &'static str,
    pub portal_resume: &'static str,
    pub portal_resume_needs_login: &'static str,
    pub portal_confirm_identity: &'static str,
    pub portal_suspended_done: &'static str,
    pub portal_resumed: &'static str,
    pub portal_delete_heading: &'static str,
    pub portal_delete_lead: &'static str,
    pub portal_delete_needs_high: &'static str,
    pub portal_delete_understood: &'static str,
    pub portal_delete: &'static str,
    pub deleted_title: &'static str,
    pub deleted_body: &'static str,
    pub err_policy_refused: &'static str,
    pub portal_risk: &'static str,
    pub risk_low: &'static str,
    pub risk_raised: &'static str,
    pub risk_high: &'static str,
    pub signal_new_device: &'static str,
    pub signal_new_network: &'static str,
    pub signal_impossible_travel: &'static str,
    pub signal_failed_attempts: &'static str,
    pub signal_alert: &'static str,
    pub admin_decisions_title: &'static str,
    pub admin_decisions_lead: &'static str,
    pub admin_decisions_share: &'static str,
    pub admin_allow: &'static str,
    pub admin_deny: &'static str,
    pub admin_step_up: &'static str,
    pub admin_action: &'static str,
    pub admin_decision: &'static str,
    pub admin_principal: &'static str,
    pub admin_resource: &'static str,
    pub admin_zone: &'static str,
    pub admin_policies: &'static str,
    pub admin_filter: &'static str,
    pub admin_any: &'static str,
    pub admin_none: &'static str,
    pub portal_only_method: &'static str,
    pub demo_title: &'static str,
    pub demo_footer: &'static str,
    pub demo_lead: &'static str,
    pub demo_sign_in: &'static str,
    pub demo_signed_in: &'static str,
    pub demo_id_token: &'static str,
    pub demo_userinfo: &'static str,
    pub demo_sign_out: &'static str,
    pub demo_failed: &'static str,
    pub demo_fail_malformed: &'static str,
    pub demo_fail_refused: &'static str,
    pub demo_fail_state_missing: &'static str,
    pub demo_fail_state_mismatch: &'static str,
    pub demo_fail_no_code: &'static str,
    pub demo_fail_token: &'static str,
    pub demo_fail_id_token: &'static str,
    pub demo_start_again: &'static str,
    pub history_title: &'static str,
    pub history_lead: &'static str,
    pub history_link: &'static str,
    pub history_from: &'static str,
    pub history_to: &'static str,
    pub history_show: &'static str,
    pub history_show_all: &'static str,
    pub history_show_logins: &'static str,
    pub history_show_releases: &'static str,
    pub history_show_officials: &'static str,
    pub history_apply: &'static str,
    pub history_download_csv: &'static str,
    pub history_none: &'static str,
    pub history_limited: &'static str,
    pub history_bad_period: &'static str,
    pub history_who: &'static str,
    pub history_agency: &'static str,
    pub history_what: &'static str,
    pub history_details: &'static str,
    pub history_purpose: &'static str,
    pub history_explanation: &'static str,
    pub history_you: &'static str,
    pub history_an_official: &'static str,
    pub history_no_purpose: &'static str,
    pub history_signed_in: &'static str,
    pub history_received: &'static str,
    pub history_login: &'static str,
    pub history_login_for: &'static str,
    pub history_release: &'static str,
    pub history_decision_allowed: &'static str,
    pub history_decision_denied: &'static str,
    pub history_access: &'static str,
    pub history_access_denied: &'static str,
    pub op_view: &'static str,
    pub op_create: &'static str,
    pub op_update: &'static str,
    pub op_delete: &'static str,
    pub op_print: &'static str,
    pub op_download: &'static str,
}

impl Text {
    /// The heading of a scope's line on the consent page (`openid` has its own lines).
    pub fn scope(&self, scope: &str) -> Option<&'static str> {
        Some(match scope {
            "profile" => self.scope_profile,
            "email" => self.scope_email,
            "phone" => self.scope_phone,
            "address" => self.scope_address,
            "offline_access" => self.scope_offline,
            _ => return None,
        })
    }

    /// A risk score in plain words, with the signals that raised it.
    pub fn risk(&self, score: u8, signals: &[String]) -> String {
        let level = match score {
            0..30 => self.risk_low,
            30..70 => self.risk_raised,
            _ => self.risk_high,
        };
        let why: Vec<&str> = signals
            .iter()
            .filter_map(|s| match s.as_str() {
                "new_device" => Some(self.signal_new_device),
                "new_network" => Some(self.signal_new_network),
                "impossible_travel" => Some(self.signal_impossible_travel),
                "failed_attempts" => Some(self.signal_failed_attempts),
                "alert" => Some(self.signal_alert),
                _ => None,
            })
            .collect();
        if why.is_empty() || score == 0 {
            level.to_owned()
        } else {
            format!("{level} ({})", why.join(", "))
        }
    }

    /// A claim's name in plain words.
    pub fn claim(&self, name: &str) -> Option<&'static str> {
        self.claim_labels
            .iter()
            .find(|(claim, _)| *claim == name)
            .map(|(_, label)| *label)
    }

    /// What a relying party granted `scopes` receives, one line per scope: the heading and
    /// every claim the scope releases (`oidc::claims`, the table userinfo and ID tokens use).
    pub fn released_items(&self, scopes: &[String]) -> Vec<(&'static str, String)> {
        scopes
            .iter()
            .filter_map(|scope| {
                let heading = self.scope(scope)?;
                let claims: Vec<&str> = crate::oidc::claims::claims_of_scope(scope)
                    .iter()
                    .filter_map(|c| self.claim(c))
                    .collect();
                Some((heading, claims.join(", ")))
            })
            .collect()
    }

    /// An operation on a record (`view`, `download`, ...) in words.
    pub fn operation(&self, op: &str) -> &'static str {
        match op {
            "view" => self.op_view,
            "create" => self.op_create,
            "update" => self.op_update,
            "delete" => self.op_delete,
            "print" => self.op_print,
            "download" => self.op_download,
            _ => "-",
        }
    }

    /// A level by its name (`low`, `substantial`, `high`).
    pub fn level_name(&self, name: &str) -> &'static str {
        match name {
            "high" => self.level_high,
            "substantial" => self.level_substantial,
            "low" => self.level_low,
            _ => "-",
        }
    }

    pub fn level(&self, acr: &str) -> &'static str {
        match acr {
            "urn:anyid:loa:high" => self.level_high,
            "urn:anyid:loa:substantial" => self.level_substantial,
            _ => self.level_low,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_switch_beats_ui_locales_which_beat_the_cookie_and_the_browser() {
        assert_eq!(
            Lang::negotiate(Some("en"), Some("ko"), Some("ko"), Some("ko")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, Some("fr en-US"), Some("ko"), None),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("en"), Some("ko-KR")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, None, Some("fr;q=1, en;q=0.8, ko;q=0.9")),
            Lang::Ko
        );
        assert_eq!(
            Lang::negotiate(None, None, None, Some("en-GB,en;q=0.9")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, Some("fr"), None, Some("de")),
            Lang::Ko
        );
    }

    /// The consent page lists every claim a scope releases: each has a label in both
    /// languages, so a claim added to `oidc::claims` cannot be released unannounced.
    #[test]
    fn every_releasable_claim_is_named_on_the_consent_page_in_both_languages() {
        for t in [&en::EN, &ko::KO] {
            for scope in crate::oidc::SUPPORTED_SCOPES {
                for claim in crate::oidc::claims::claims_of_scope(scope) {
                    assert!(
                        t.claim(claim).is_some(),
                        "{}: no label for {claim}",
                        t.lang_name
                    );
                }
            }
            let items = t.released_items(&["openid".into(), "profile".into(), "email".into()]);
            assert_eq!(
                items.len(),
                2,
                "{}: openid has lines of its own",
                t.lang_name
            );
            assert!(items[0].1.contains(t.claim("birthdate").unwrap()));
            assert!(items[0].1.contains(t.claim("updated_at").unwrap()));
        }
    }

    proptest::proptest! {
        #[test]
        fn negotiation_never_panics(a in "\\PC{0,80}", b in "\\PC{0,80}") {
            let _ = Lang::negotiate(Some(&a), Some(&b), Some(&a), Some(&b));
        }
    }
}
