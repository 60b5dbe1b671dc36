//! A citizen's rights in the portal, end to end on both databases: see everything held and
//! where each value comes from, choose which method's value is released, download it all,
//! suspend and resume processing, delete the account. Unlinking a method takes what only it
//! verified with it; non-standard upstream claims are never kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::store::{AccountStore, ClientStore};
use anyid_policy::Loa;
use anyid_tests::browser::hidden;
use anyid_tests::certificates::{citizen_of, dev_pki, sign_in_as};
use anyid_tests::upstream::FakeOidcProvider;
use anyid_tests::{Backend, Browser, Landing, Rp, TestServer, per_backend};
use openidconnect::OAuth2TokenResponse;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The portal page `browser` sees now.
async fn portal(browser: &Browser, op: &TestServer) -> String {
    let (status, page) = browser.open(&op.url("/account"), op.issuer()).await.page();
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

/// Post a portal action with the page's CSRF token; the page it ends on.
async fn act(browser: &Browser, op: &TestServer, fields: &[(&str, &str)]) -> String {
    let page = portal(browser, op).await;
    let csrf = hidden(&page, "csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    browser
        .submit(op.issuer(), "/account/action", &form)
        .await
        .page()
        .1
}

/// The value of the `value` attribute of the `<option>` whose text contains `text`.
fn option_for(page: &str, text: &str) -> String {
    let at = page
        .find(text)
        .unwrap_or_else(|| panic!("{text:?} in {page}"));
    let start = page[..at].rfind("value=\"").unwrap() + 7;
    page[start..].split('"').next().unwrap().to_owned()
}

/// Userinfo for a fresh login at `rp` from `browser`'s session.
async fn userinfo_at(browser: &Browser, op: &TestServer, rp: &Rp) -> Value {
    let pending = rp.start(&["profile", "email"], &[]);
    let landing = browser.open(pending.url.as_str(), op.issuer()).await;
    let callback = browser
        .finish_consent(op.issuer(), landing)
        .await
        .callback();
    let tokens = rp.redeem(&callback, &pending).await.unwrap();
    reqwest::Client::new()
        .get(op.url("/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

per_backend!(
    /// Hong signs in with a high-level provider trusted for the linking value and links a
    /// social account. The portal shows each detail with its source; Hong chooses the name
    /// the services receive; the download holds it all. Unlinking the high-level provider
    /// removes what only it verified and the linking value's hash; an upstream's
    /// non-standard claim was never stored.
    #[tokio::test]
    async fn a_citizen_sees_corrects_and_downloads_what_is_held(backend: Backend) {
        let gov = FakeOidcProvider::start().await;
        gov.set_subject(
            "gov-hong",
            json!({"ci": "CI-HONG-0001", "name": "홍길동", "birthdate": "1990-01-31",
                   "email": "hong@gov.example", "email_verified": true}),
        );
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject(
            "kakao-hong",
            json!({"name": "Gildong", "email": "gildong@kakao.example", "email_verified": true,
                   "resident_number": "900131-1234567"}),
        );
        let op = TestServer::start_with(backend, |c| {
            let mut high = gov.config("gov");
            high.loa = Loa::High;
            high.strong_identifier_claim = Some("ci".into());
            c.upstreams.push(high);
            c.upstreams.push(kakao.config("kakao"));
        })
        .await
        .unwrap();
        let browser = Browser::new();
        let (_, page) = browser.open(&op.url("/account"), op.issuer()).await.page();
        let (status, _) = browser.choose(op.issuer(), &page, "gov").await.page();
        assert_eq!(status, StatusCode::OK);
        let page = portal(&browser, &op).await;
        let csrf = hidden(&page, "csrf");
        let (_, page) = browser
            .submit(op.issuer(), "/account/link/kakao", &[("csrf", &csrf)])
            .await
            .page();
        assert!(page.contains("role=\"status\""), "linked: {page}");

        // See: every detail, with the method it comes from; the freshest method's name.
        for text in [
            "Gildong",
            "1990-01-31",
            "gildong@kakao.example",
            "hong@gov.example",
        ] {
            assert!(page.contains(text), "{backend:?}: {text:?} in {page}");
        }
        let rp = op.relying_party("Tax office", "127.0.0.1").await;
        assert_eq!(userinfo_at(&browser, &op, &rp).await["name"], "Gildong");

        // Correct: release the name the government provider verified.
        let gov_name = option_for(&page, "홍길동");
        let page = act(&browser, &op, &[("source_name", &gov_name)]).await;
        assert!(page.contains("role=\"status\""), "{backend:?}: {page}");
        assert_eq!(userinfo_at(&browser, &op, &rp).await["name"], "홍길동");
        let refused = act(&browser, &op, &[("source_name", "not-an-identity")]).await;
        assert!(refused.contains("role=\"alert\""), "{backend:?}: {refused}");

        // Download: machine-readable and readable, with no secrets.
        let response = browser.get(&op.url("/account/export.json")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.starts_with("attachment"), "{disposition}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let export: Value = response.json().await.unwrap();
        assert_eq!(export["profile"]["name"], "홍길동");
        assert_eq!(export["sign_in_methods"].as_array().unwrap().len(), 2);
        assert!(export["account"]["linking_value_held"].as_bool().unwrap());
        assert_eq!(export["consents"][0]["service"], "Tax office");
        assert!(!export["sign_in_history"].as_array().unwrap().is_empty());
        let text = export.to_string();
        for secret in ["CI-HONG-0001", "gov-hong", "kakao-hong", "900131-1234567"] {
            assert!(
                !text.contains(secret),
                "{backend:?}: {secret} in the export"
            );
        }
        let html = browser.get(&op.url("/account/export.html")).await;
        assert_eq!(html.status(), StatusCode::OK);
        let html = html.text().await.unwrap();
        assert!(
            html.contains("<table>") && html.contains("홍길동"),
            "{html}"
        );
        let stranger = Browser::new().get(&op.url("/account/export.json")).await;
        assert!(stranger.status().is_redirection(), "no session, no data");

        // Unlink the government provider: its birth date, email and the linking value go.
        let page = portal(&browser, &op).await;
        let gov_row = page
            .split("name=\"unlink\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        act(&browser, &op, &[("unlink", &gov_row)]).await;
        let citizen = op
            .state()
            .store
            .citizen_by_identity(&kakao.issuer(), "kakao-hong")
            .await
            .unwrap()
            .unwrap();
        let profile = op
            .state()
            .store
            .citizen(&citizen)
            .await
            .unwrap()
            .unwrap()
            .claims;
        assert_eq!(
            profile,
            json!({"name": "Gildong", "email": "gildong@kakao.example", "email_verified": true}),
            "{backend:?}: only what Kakao verified"
        );
        assert_eq!(op.state().store.strong_id_of(&citizen).await.unwrap(), None);
        assert!(
            !op.dump().await.contains("900131-1234567"),
            "{backend:?}: a non-standard claim is never stored"
        );
        op.stop().await;
    }
);

per_backend!(
    /// Suspending stops every release at once (refresh token, access token, new logins) and
    /// keeps the portal; the session that was live when the citizen suspended cannot resume
    /// (a thief's stolen cookie), a fresh sign-in can; services then work again.
    #[tokio::test]
    async fn a_suspended_account_releases_nothing_until_a_fresh_sign_in_resumes_it(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Tax office", "127.0.0.1").await;
        let browser = Browser::new();
        let pending = rp.start(&["profile", "offline_access"], &[("prompt", "consent")]);
        let callback = browser
            .sign_in(pending.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let tokens = rp.redeem(&callback, &pending).await.unwrap();

        let page = act(&browser, &op, &[("suspend", "1")]).await;
        assert!(
            page.contains("href=\"/account/confirm?for=resume\""),
            "{backend:?}: {page}"
        );
        let refreshed = rp
            .client()
            .exchange_refresh_token(tokens.refresh_token().unwrap())
            .unwrap()
            .request_async(&rp.http)
            .await;
        assert!(refreshed.is_err(), "{backend:?}: the refresh token is dead");
        let userinfo = reqwest::Client::new()
            .get(op.url("/userinfo"))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED, "{backend:?}");
        let pending = rp.start(&[], &[]);
        let (status, page) = browser.open(pending.url.as_str(), op.issuer()).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {page}");
        assert!(
            page.contains("계정 이용을 정지"),
            "{backend:?}: says why: {page}"
        );

        // The session that was live at the suspension cannot resume it.
        op.clock.advance(5);
        let page = act(&browser, &op, &[("resume", "1")]).await;
        assert!(page.contains("role=\"alert\""), "{backend:?}: {page}");
        let citizen = op
            .state()
            .store
            .citizen_by_identity(anyid_adapters::dev::ISSUER, "hong")
            .await
            .unwrap()
            .unwrap();
        assert!(
            op.state()
                .store
                .citizen(&citizen)
                .await
                .unwrap()
                .unwrap()
                .suspended_at
                .is_some()
        );

        // Signing in again does.
        let (_, page) = browser
            .open(&op.url("/account/confirm?for=resume"), op.issuer())
            .await
            .page();
        let landing = browser
            .submit(
                op.issuer(),
                "/login/dev",
                &[
                    ("flow", &hidden(&page, "flow")),
                    ("csrf", &hidden(&page, "csrf")),
                    ("citizen", "hong"),
                ],
            )
            .await;
        assert!(matches!(landing, Landing::Page { .. }));
        let page = act(&browser, &op, &[("resume", "1")]).await;
        assert!(page.contains("role=\"status\""), "{backend:?}: {page}");
        let pending = rp.start(&[], &[]);
        let landing = browser.open(pending.url.as_str(), op.issuer()).await;
        let callback = browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        assert!(rp.redeem(&callback, &pending).await.is_ok(), "{backend:?}");
        op.stop().await;
    }
);

per_backend!(
    /// Deleting needs a recent high-assurance sign-in: a low session is refused and nothing
    /// goes. A fresh certificate sign-in deletes the account and everything kept about it;
    /// the service's tokens stop working at once.
    #[tokio::test]
    async fn deleting_an_account_needs_a_fresh_high_sign_in_and_leaves_nothing(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;

        // A low session (a stolen social login, say) cannot delete.
        let low = Browser::new();
        low.sign_in(&op.url("/account"), op.issuer(), "kim")
            .await
            .page();
        let page = portal(&low, &op).await;
        assert!(
            !page.contains("action=\"/account/delete\""),
            "{backend:?}: no form"
        );
        let csrf = hidden(&page, "csrf");
        let (_, page) = low
            .submit(
                op.issuer(),
                "/account/delete",
                &[("csrf", &csrf), ("understood", "yes")],
            )
            .await
            .page();
        assert!(page.contains("role=\"alert\""), "{backend:?}: {page}");
        assert!(
            op.state()
                .store
                .citizen_by_identity(anyid_adapters::dev::ISSUER, "kim")
                .await
                .unwrap()
                .is_some(),
            "{backend:?}: nothing deleted"
        );

        // Hong signs in to a service with a certificate (high) and then to the portal.
        let browser = Browser::new();
        let pending = rp.start(&["profile", "offline_access"], &[("prompt", "consent")]);
        let (_, page) = browser.open(pending.url.as_str(), op.issuer()).await.page();
        let landing = sign_in_as(&browser, &op, &pki, &page, "hong").await;
        let callback = browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        let tokens = rp.redeem(&callback, &pending).await.unwrap();
        let hong = citizen_of(&op, &pki, "hong").await.unwrap();

        // An alert the security team raised names the account; it goes with it.
        let raised = reqwest::Client::new()
            .post(op.admin_url("/admin/v1/risk/alerts"))
            .bearer_auth(op.admin_token())
            .json(&json!({"actor": format!("citizen:{hong}"), "score": 10,
                          "reason": "checked after a report"}))
            .send()
            .await
            .unwrap();
        assert_eq!(raised.status(), 201);

        // Eleven minutes later the sign-in is no longer recent.
        op.clock.advance(660);
        let page = portal(&browser, &op).await;
        assert!(
            page.contains("href=\"/account/confirm?for=delete\""),
            "{backend:?}"
        );
        op.clock.advance(-660);
        let page = portal(&browser, &op).await;
        assert!(
            page.contains("action=\"/account/delete\""),
            "{backend:?}: {page}"
        );
        let csrf = hidden(&page, "csrf");
        let (_, page) = browser
            .submit(op.issuer(), "/account/delete", &[("csrf", &csrf)])
            .await
            .page();
        assert!(
            !page.contains("계정을 삭제했습니다"),
            "{backend:?}: not without consent"
        );
        let (status, page) = browser
            .submit(
                op.issuer(),
                "/account/delete",
                &[("csrf", &csrf), ("understood", "yes")],
            )
            .await
            .page();
        assert_eq!(status, StatusCode::OK, "{backend:?}: {page}");
        assert!(page.contains("계정을 삭제했습니다"), "{backend:?}: {page}");

        assert!(op.state().store.citizen(&hong).await.unwrap().is_none());
        let dump = op.dump().await;
        let left: Vec<&str> = dump.lines().filter(|l| l.contains(&hong)).collect();
        assert!(
            left.is_empty(),
            "{backend:?}: rows about the citizen left: {left:#?}"
        );
        let refreshed = rp
            .client()
            .exchange_refresh_token(tokens.refresh_token().unwrap())
            .unwrap()
            .request_async(&rp.http)
            .await;
        assert!(
            refreshed.is_err(),
            "{backend:?}: no refresh token outlives its citizen"
        );
        let userinfo = reqwest::Client::new()
            .get(op.url("/userinfo"))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED, "{backend:?}");
        assert!(
            op.state()
                .store
                .client(&rp.client_id)
                .await
                .unwrap()
                .is_some()
        );
        let (_, page) = browser.open(&op.url("/account"), op.issuer()).await.page();
        assert!(
            page.contains("action=\"/login/dev\""),
            "{backend:?}: signed out"
        );
        op.stop().await;
    }
);
