//! No personal data or tokens in logs: known values go through a whole brokered login (an
//! upstream with a strong identifier, consent, tokens, refresh, userinfo, a failed client
//! authentication) with every log level on, and the captured JSON logs are scanned for them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use anyid::store::AccountStore;
use anyid_tests::upstream::FakeOidcProvider;
use anyid_tests::{Browser, TestServer};
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_carry_no_tokens_secrets_or_personal_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();

    let ci = "CI-".to_owned() + &"Q".repeat(85);
    let email = "private.citizen@kakao.example";
    let name = "비밀스런시민";
    let gov = FakeOidcProvider::start().await;
    gov.set_subject("gov-777", json!({"ci": ci, "email": email, "email_verified": true, "name": name, "phone_number": "+82 10-9876-5432"}));
    let op = TestServer::start_with(anyid_tests::Backend::Sqlite, |c| {
        let mut trusted = gov.config("gov");
        trusted.strong_identifier_claim = Some("ci".into());
        c.upstreams.push(trusted);
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await
    .unwrap();
    let rp = op.relying_party("Tax office", "127.0.0.1").await;
    let (id, secret) = (rp.client_id.clone(), rp.client_secret.clone());
    let address = "203.0.113.77";
    let browser = Browser::behind_proxy_for(address);
    let pending = rp.start(&["email", "profile", "phone", "offline_access"], &[]);
    let (_, page) = browser.open(pending.url.as_str(), op.issuer()).await.page();
    let landing = browser.choose(op.issuer(), &page, "gov").await;
    let callback = browser
        .finish_consent(op.issuer(), landing)
        .await
        .callback();
    let code = anyid_tests::browser::param(&callback, "code").unwrap();
    let tokens = rp.redeem(&callback, &pending).await.unwrap();
    let refreshed = rp
        .client()
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&rp.http)
        .await
        .unwrap();
    let userinfo = reqwest::Client::new()
        .get(op.url("/userinfo"))
        .bearer_auth(refreshed.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let replay = rp.redeem(&callback, &pending).await;
    assert!(
        replay.is_err(),
        "a replayed code is refused (and logged as a security event)"
    );
    let wrong = reqwest::Client::new()
        .post(op.url("/token"))
        .basic_auth(&id, Some("wrong-secret-value"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // What else names the citizen: their account id, the pairwise `sub` and `sid` the
    // service saw, the browser's cookies, the address they came from (kept in their own
    // history, as it should be), and a certificate's identity and name.
    let citizen = op
        .state()
        .store
        .citizen_by_identity(&gov.issuer(), "gov-777")
        .await
        .unwrap()
        .unwrap();
    let history = op.state().store.login_events(&citizen, 10).await.unwrap();
    assert_eq!(
        history[0].address.as_deref(),
        Some(address),
        "the proxy is trusted"
    );
    let id_token = tokens.id_token().unwrap().to_string();
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            id_token.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let (sub, sid) = (
        payload["sub"].as_str().unwrap().to_owned(),
        payload["sid"].as_str().unwrap().to_owned(),
    );
    let cookies = browser.cookies(op.issuer());
    assert!(
        cookies.contains('='),
        "the browser holds cookies: {cookies}"
    );
    let cookie_values: Vec<String> = cookies
        .split("; ")
        .filter_map(|c| c.split_once('=').map(|(_, v)| v.to_owned()))
        .filter(|v| v.len() >= 20)
        .collect();
    assert!(
        !cookie_values.is_empty(),
        "a session or binding cookie: {cookies}"
    );
    let pki = anyid_tests::certificates::dev_pki(&op);
    let certified = Browser::new();
    let pending = rp.start(&[], &[]);
    let (_, page) = certified
        .open(pending.url.as_str(), op.issuer())
        .await
        .page();
    let landing = anyid_tests::certificates::sign_in_as(&certified, &op, &pki, &page, "hong").await;
    certified
        .finish_consent(op.issuer(), landing)
        .await
        .callback();
    let certificate_identity = anyid_tests::certificates::uri_of(&pki, "hong");
    op.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The test's own browser (its cookie jar logs what it stores) is not the server.
    let logs: String = logs
        .lines()
        .filter(|l| !l.contains("\"target\":\"cookie_store::"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        logs.contains("code replayed"),
        "the capture works and security events are logged:\n{logs}"
    );
    let secrets = [
        ("CI", ci.as_str()),
        ("email", email),
        ("name", name),
        ("phone", "9876-5432"),
        ("client secret", secret.as_str()),
        ("wrong secret", "wrong-secret-value"),
        ("authorization code", code.as_str()),
        ("access token", tokens.access_token().secret().as_str()),
        (
            "refreshed access token",
            refreshed.access_token().secret().as_str(),
        ),
        (
            "refresh token",
            tokens.refresh_token().unwrap().secret().as_str(),
        ),
        ("ID token", &tokens.id_token().unwrap().to_string()),
        ("upstream subject", "gov-777"),
        ("citizen id", citizen.as_str()),
        ("pairwise sub", sub.as_str()),
        ("sid", sid.as_str()),
        ("address", address),
        ("certificate identity", certificate_identity.as_str()),
        ("certificate name", "Dev citizen hong"),
    ];
    for value in &cookie_values {
        let line = logs.lines().find(|l| l.contains(value.as_str()));
        assert!(
            line.is_none(),
            "a cookie value appears in the logs: {line:?}"
        );
    }
    for (what, value) in secrets {
        assert!(!logs.contains(value), "the {what} appears in the logs");
    }
}
