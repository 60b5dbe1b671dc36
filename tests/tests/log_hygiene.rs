//! No personal data or tokens in logs: known values go through a whole brokered login (an
//! upstream with a strong identifier, consent, tokens, refresh, userinfo, a failed client
//! authentication) with every log level on, and the captured JSON logs are scanned for them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

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
    })
    .await
    .unwrap();
    let rp = op.relying_party("Tax office", "127.0.0.1").await;
    let (id, secret) = (rp.client_id.clone(), rp.client_secret.clone());
    let browser = Browser::new();
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
    op.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
    ];
    for (what, value) in secrets {
        assert!(!logs.contains(value), "the {what} appears in the logs");
    }
}
