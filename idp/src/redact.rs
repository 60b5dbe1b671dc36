//! `Debug` for types that carry secrets (tokens, cookies, CSRF values, client secrets,
//! protocol state): only the fields named are shown, so a secret cannot reach a log
//! through `{:?}`. A field added later stays hidden until someone names it here.

/// `debug_without_secrets!(Type { shown, fields })` implements `Debug` for `Type` printing
/// only the named fields (then `..`).
macro_rules! debug_without_secrets {
    ($ty:ident $(<$lt:lifetime>)? { $($field:ident),* $(,)? }) => {
        impl $(<$lt>)? std::fmt::Debug for $ty $(<$lt>)? {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use debug_without_secrets;

#[cfg(test)]
mod tests {
    use crate::login::Visitor;
    use crate::login::certificate::CertificateOffer;
    use crate::login::consent::ConsentView;
    use crate::login::passkey::PasskeyOffer;
    use crate::oidc::client_auth::presented;
    use crate::oidc::params::Params;
    use crate::oidc::tokens::TokenResponse;
    use crate::store::{FlowRecord, PendingRecord};

    const SECRET: &str = "s3cr3t-value-that-must-not-print";

    fn hidden(what: &str, debug: String) {
        assert!(!debug.contains(SECRET), "{what} printed a secret: {debug}");
        assert!(debug.contains(".."), "{what}: {debug}");
    }

    #[test]
    fn token_bearing_types_never_print_their_secrets() {
        hidden(
            "TokenResponse",
            format!(
                "{:?}",
                TokenResponse {
                    access_token: SECRET.into(),
                    token_type: "Bearer",
                    expires_in: 300,
                    refresh_token: Some(SECRET.into()),
                    id_token: Some(SECRET.into()),
                    scope: "openid".into(),
                }
            ),
        );
        let mut params = Params::from_pairs([("client_id", "rp"), ("client_secret", SECRET)]);
        assert!(!format!("{params:?}").contains(SECRET));
        hidden(
            "PresentedCredentials",
            format!("{:?}", presented(None, &mut params).unwrap()),
        );
        let visitor = Visitor {
            device: Some(SECRET.into()),
            browser: Some(SECRET),
            session: Some(SECRET),
            address: Some("192.0.2.1".into()),
        };
        hidden("Visitor", format!("{visitor:?}"));
        hidden(
            "PendingRecord",
            format!(
                "{:?}",
                PendingRecord {
                    state_hash: SECRET.as_bytes().to_vec(),
                    flow_id: None,
                    link_citizen_id: None,
                    provider: "kakao".into(),
                    data: SECRET.into(),
                    callback: Some(SECRET.into()),
                    created_at: 0,
                    expires_at: 1,
                }
            ),
        );
        hidden(
            "FlowRecord",
            format!(
                "{:?}",
                FlowRecord {
                    id: "f".into(),
                    browser_hash: SECRET.as_bytes().to_vec(),
                    client_id: "rp".into(),
                    request: SECRET.into(),
                    state: "requested".into(),
                    session_id: None,
                    csrf: SECRET.into(),
                    created_at: 0,
                    expires_at: 1,
                }
            ),
        );
        let offer = PasskeyOffer {
            ceremony: SECRET.into(),
            options: "{}".into(),
        };
        hidden("PasskeyOffer", format!("{offer:?}"));
        let certificate = CertificateOffer {
            challenge: SECRET.into(),
            tls_url: None,
        };
        hidden("CertificateOffer", format!("{certificate:?}"));
        let consent = ConsentView {
            flow_id: "f".into(),
            csrf: SECRET.into(),
            client_name: "RP".into(),
            agency: None,
            notice: Default::default(),
            identifier: crate::login::consent::SharedIdentifier::Own,
            ui_locales: None,
            scopes: vec![],
        };
        hidden("ConsentView", format!("{consent:?}"));
    }
}
