//! What a request from nobody in particular may cost: showing the login page and the portal's
//! sign-in writes one login flow and nothing else (passkey ceremonies and certificate
//! challenges travel in the page until they are used), and the routes that start or
//! continue a login are limited per client address and in total, answering everyone the
//! same way (429 with `Retry-After` and a page).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_tests::{Backend, TestServer, per_backend};
use reqwest::StatusCode;

per_backend!(
    #[tokio::test]
    async fn showing_the_login_page_and_the_portal_writes_one_flow_and_no_ceremony_or_challenge(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let http = reqwest::Client::new();
        for _ in 0..5 {
            let p = rp.start(&[], &[]);
            let page = http.get(p.url.as_str()).send().await.unwrap();
            assert_eq!(page.status(), StatusCode::OK);
            let body = page.text().await.unwrap();
            assert!(
                body.contains("name=\"ceremony\""),
                "a passkey ceremony is offered"
            );
            assert!(
                body.contains("name=\"challenge\""),
                "a certificate challenge is offered"
            );
            let portal = http.get(op.url("/account")).send().await.unwrap();
            assert_eq!(portal.status(), StatusCode::OK);
        }
        assert_eq!(op.count("login_flows").await, 10, "{backend:?}");
        assert_eq!(
            op.count("pending_logins").await,
            0,
            "{backend:?}: nothing but the flow is written before a method is used"
        );
        op.stop().await;
    }
);

/// A client behind the (trusted, loopback) proxy at `address`.
fn from(address: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", address.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn login_routes_are_limited_per_address_with_the_same_answer_for_everyone() {
    let op = TestServer::start_with(anyid_tests::Backend::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.limits.login_per_source_per_minute = 5;
    })
    .await
    .unwrap();
    let rp = op.relying_party("Land registry", "127.0.0.1").await;
    let one = from("198.51.100.1");
    for _ in 0..5 {
        let p = rp.start(&[], &[]);
        let page = one.get(p.url.as_str()).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
    }
    let p = rp.start(&[], &[]);
    let limited = one.get(p.url.as_str()).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    anyid_tests::retry_after(&limited, 60);
    assert_eq!(limited.headers()["x-frame-options"], "DENY");
    assert!(limited.headers().contains_key("content-security-policy"));
    let page = limited.text().await.unwrap();
    assert!(page.contains("role=\"alert\""), "{page}");

    // Whatever was asked, the same answer: nothing to tell a valid client or flow from an
    // invalid one, or one route from another.
    for path in [
        "/authorize?client_id=nobody".to_owned(),
        "/account".to_owned(),
        "/login?flow=unknown".to_owned(),
    ] {
        let r = one.get(op.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert_eq!(r.text().await.unwrap(), page, "{path}");
    }
    let r = one
        .post(op.url("/login/dev"))
        .form(&[("flow", "x"), ("csrf", "y"), ("citizen", "hong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

    // Another address is not affected; protocol endpoints are not login routes.
    let p = rp.start(&[], &[]);
    let other = from("198.51.100.2")
        .get(p.url.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    let discovery = one
        .get(op.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status(), StatusCode::OK);
    op.stop().await;
}

#[tokio::test]
async fn login_routes_are_limited_in_total() {
    let op = TestServer::start_with(anyid_tests::Backend::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.limits.login_per_second = 2;
    })
    .await
    .unwrap();
    let mut statuses = Vec::new();
    for i in 0..12 {
        let r = from(&format!("203.0.113.{i}"))
            .get(op.url("/account"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "twelve addresses at once exceed two a second: {statuses:?}"
    );
    op.stop().await;
}
