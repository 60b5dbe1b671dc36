//! What a request from nobody in particular may cost: showing the login page and the portal's
//! sign-in writes one login flow and nothing else (passkey ceremonies and certificate
//! challenges travel in the page until they are used), and the routes that start or
//! continue a login are limited per client address and in total, answering everyone the
//! same way (429 with `Retry-After` and a page).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_tests::{TestServer, backends};
use reqwest::StatusCode;

#[tokio::test]
async fn showing_the_login_page_and_the_portal_writes_one_flow_and_no_ceremony_or_challenge() {
    for backend in backends() {
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
}
