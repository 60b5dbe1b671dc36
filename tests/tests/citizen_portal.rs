//! The citizen's own account at `/account` and the language of the pages: signing in to the
//! portal, login history, revoking sessions and consents (tokens stop at once), refusing to
//! unlink the last method, and Korean/English negotiation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_tests::browser::hidden;
use anyid_tests::{Backend, Browser, Landing, TestServer, per_backend};
use openidconnect::OAuth2TokenResponse;
use reqwest::StatusCode;

async fn portal(browser: &Browser, op: &TestServer) -> String {
    let landing = browser.open(&op.url("/account"), op.issuer()).await;
    let landing = match landing {
        Landing::Page { ref body, .. } if body.contains("action=\"/login/dev\"") => {
            browser
                .sign_in(&op.url("/account"), op.issuer(), "hong")
                .await
        }
        other => other,
    };
    let (status, body) = landing.page();
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("action=\"/account/action\""), "{body}");
    body
}

async fn act(browser: &Browser, op: &TestServer, page: &str, fields: &[(&str, &str)]) -> String {
    let csrf = hidden(page, "csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let (status, body) = browser
        .submit(op.issuer(), "/account/action", &form)
        .await
        .page();
    assert_eq!(status, StatusCode::OK);
    body
}

per_backend!(
    #[tokio::test]
    async fn revoking_sessions_and_consents_stops_tokens_and_the_last_method_stays(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Passport office", "127.0.0.1").await;
        let browser = Browser::new();
        let http = reqwest::Client::new();
        let userinfo = |token: String| {
            let http = http.clone();
            let url = op.url("/userinfo");
            async move {
                http.get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };

        // A relying party gets tokens; the portal lists the login and the consent.
        let p = rp.start(&["offline_access"], &[]);
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let tokens = rp.redeem(&cb, &p).await.unwrap();
        assert_eq!(
            userinfo(tokens.access_token().secret().clone()).await,
            StatusCode::OK
        );
        let page = portal(&browser, &op).await;
        assert!(
            page.contains("Passport office"),
            "consent and history name the service"
        );
        assert!(
            page.contains("127.0.0.1"),
            "history shows where the login came from"
        );
        // Times in the deployment's time zone (Korea by default), the zone named.
        let hong = anyid::store::AccountStore::citizen_by_identity(
            &op.state().store,
            anyid_adapters::dev::ISSUER,
            "hong",
        )
        .await
        .unwrap()
        .unwrap();
        let login = anyid::store::AccountStore::login_events(&op.state().store, &hong, 1)
            .await
            .unwrap()
            .remove(0);
        let seoul = anyid::clock::LocalTimes::new(time::UtcOffset::from_hms(9, 0, 0).unwrap());
        assert!(
            page.contains("일시 (UTC+09:00)") && page.contains(&seoul.format(login.at)),
            "{page}"
        );

        // Withdrawing consent: the client's tokens stop, and consent is asked again.
        let page = act(&browser, &op, &page, &[("withdraw", &rp.client_id)]).await;
        assert_eq!(
            userinfo(tokens.access_token().secret().clone()).await,
            StatusCode::UNAUTHORIZED,
            "{backend:?}"
        );
        let refresh = rp
            .client()
            .exchange_refresh_token(tokens.refresh_token().unwrap())
            .unwrap()
            .request_async(&rp.http)
            .await;
        assert!(
            refresh.is_err(),
            "{backend:?}: withdrawn consent ends the refresh token"
        );
        let p = rp.start(&[], &[]);
        let (_, again) = browser.open(p.url.as_str(), op.issuer()).await.page();
        assert!(
            again.contains("action=\"/consent\""),
            "consent is asked again"
        );

        // The only method offers no unlink, and says why; a forged unlink is refused.
        assert!(!page.contains("name=\"unlink\""), "{page}");
        assert!(page.contains("유일한 로그인 방법입니다"), "{page}");
        let citizen = hong.clone();
        let identity = anyid::store::AccountStore::identities(&op.state().store, &citizen)
            .await
            .unwrap()
            .remove(0)
            .id;
        let refused = act(&browser, &op, &page, &[("unlink", &identity)]).await;
        assert!(refused.contains("role=\"alert\""), "{refused}");
        assert_eq!(
            anyid::store::AccountStore::identities(&op.state().store, &citizen)
                .await
                .unwrap()
                .len(),
            1,
            "the method is still linked"
        );

        // Revoking all sessions: tokens issued under them stop, and the browser is signed out.
        let p = rp.start(&[], &[]);
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let tokens = rp.redeem(&cb, &p).await.unwrap();
        assert_eq!(
            userinfo(tokens.access_token().secret().clone()).await,
            StatusCode::OK
        );
        let page = portal(&browser, &op).await;
        let (status, after) = browser
            .submit(
                op.issuer(),
                "/account/action",
                &[("csrf", &hidden(&page, "csrf")), ("revoke_all", "1")],
            )
            .await
            .page();
        assert_eq!(status, StatusCode::OK);
        assert!(
            after.contains("action=\"/login/dev\""),
            "signed out: the portal asks to sign in"
        );
        assert_eq!(
            userinfo(tokens.access_token().secret().clone()).await,
            StatusCode::UNAUTHORIZED,
            "{backend:?}"
        );
        let silent = rp.start(&[], &[("prompt", "none")]);
        let cb = browser
            .open(silent.url.as_str(), op.issuer())
            .await
            .callback();
        assert_eq!(
            anyid_tests::browser::param(&cb, "error").as_deref(),
            Some("login_required")
        );
        op.stop().await;
    }
);

#[tokio::test]
async fn portal_forms_need_their_csrf_token() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    let browser = Browser::new();
    let page = portal(&browser, &op).await;
    let (status, _) = browser
        .submit(
            op.issuer(),
            "/account/action",
            &[("csrf", "forged"), ("revoke_all", "1")],
        )
        .await
        .page();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        portal(&browser, &op).await.contains(&hidden(&page, "csrf")),
        "still signed in"
    );
    op.stop().await;
}

#[tokio::test]
async fn pages_speak_korean_by_default_and_english_on_request() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    let rp = op.relying_party("Library", "127.0.0.1").await;

    let korean = Browser::new();
    let (_, body) = korean
        .open(rp.start(&[], &[]).url.as_str(), op.issuer())
        .await
        .page();
    assert!(
        body.contains("<html lang=\"ko\">") && body.contains("로그인"),
        "Korean by default"
    );

    let (_, body) = Browser::new()
        .open(
            rp.start(&[], &[("ui_locales", "en-US ko")]).url.as_str(),
            op.issuer(),
        )
        .await
        .page();
    assert!(
        body.contains("<html lang=\"en\">") && body.contains("Sign in"),
        "ui_locales=en"
    );

    let accept = Browser::new();
    let response = accept
        .http
        .get(rp.start(&[], &[]).url.as_str())
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<html lang=\"en\">"),
        "Accept-Language"
    );

    // The visible switch keeps the flow and remembers the choice.
    let flow = hidden(&body, "flow");
    let switched = korean
        .open(&op.url(&format!("/login?flow={flow}&lang=en")), op.issuer())
        .await;
    let (status, _) = switched.page();
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "another browser's flow is refused"
    );
    let (_, mine) = korean
        .open(rp.start(&[], &[]).url.as_str(), op.issuer())
        .await
        .page();
    let flow = hidden(&mine, "flow");
    let (_, english) = korean
        .open(&op.url(&format!("/login?flow={flow}&lang=en")), op.issuer())
        .await
        .page();
    assert!(english.contains("<html lang=\"en\">"));
    assert!(english.contains("lang=ko"), "the switch offers Korean back");
    let (_, later) = korean
        .open(rp.start(&[], &[]).url.as_str(), op.issuer())
        .await
        .page();
    assert!(
        later.contains("<html lang=\"en\">"),
        "the choice is remembered"
    );
    op.stop().await;
}
