//! Passkeys end to end with a software authenticator: registration from the portal, a
//! usernameless login for a relying party (same citizen, same pairwise `sub`), replay and
//! user-verification failures refused with nothing created, counter changes recorded, and
//! rename and removal in the portal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::store::{AccountStore, PasskeyStore};
use anyid_tests::browser::{hidden, without_flow_ids};
use anyid_tests::certificates::{citizen_of, dev_pki, sign_in_as};
use anyid_tests::passkey::{Authenticator, attribute};
use anyid_tests::{Backend, Browser, Landing, TestServer, per_backend};
use reqwest::StatusCode;

/// Sign `browser` in to the portal as demo citizen `citizen`; returns the portal page.
async fn portal(browser: &Browser, op: &TestServer, citizen: &str) -> String {
    let (status, body) = browser
        .sign_in(&op.url("/account"), op.issuer(), citizen)
        .await
        .page();
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("data-passkey=\"register\""), "{body}");
    body
}

/// Register a passkey named `name` from the portal `page`; returns the page after.
async fn register(
    browser: &Browser,
    op: &TestServer,
    page: &str,
    key: &mut Authenticator,
    name: &str,
) -> String {
    let credential = key.register(&attribute(page, "data-options"));
    let (status, body) = browser
        .submit(
            op.issuer(),
            "/account/passkeys",
            &[
                ("csrf", &hidden(page, "csrf")),
                ("ceremony", &hidden(page, "ceremony")),
                ("credential", &credential),
                ("name", name),
            ],
        )
        .await
        .page();
    assert_eq!(status, StatusCode::OK);
    body
}

/// Post a passkey answer to the chooser `page`.
async fn answer(browser: &Browser, op: &TestServer, page: &str, credential: &str) -> Landing {
    browser
        .submit(
            op.issuer(),
            "/login/passkey",
            &[
                ("flow", &hidden(page, "flow")),
                ("csrf", &hidden(page, "csrf")),
                ("ceremony", &hidden(page, "ceremony")),
                ("credential", credential),
            ],
        )
        .await
}

per_backend!(
    #[tokio::test]
    async fn a_passkey_from_the_portal_logs_in_without_a_username_as_the_same_citizen(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        assert!(
            op.issuer().starts_with("http://localhost:"),
            "WebAuthn needs a domain: {}",
            op.issuer()
        );
        let rp = op.relying_party("Tax office", "127.0.0.1").await;

        // Hong signs in to the service with the demo method, then registers a passkey.
        let first = Browser::new();
        let p = rp.start(&[], &[]);
        let cb = first
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let before = rp.sign_in_claims(&cb, &p).await;
        let page = portal(&first, &op, "hong").await;
        let mut key = Authenticator::new(op.issuer());
        let page = register(&first, &op, &page, &mut key, "My laptop").await;
        assert!(page.contains("role=\"status\""), "{page}");
        assert!(page.contains("value=\"My laptop\""), "{page}");

        let citizen = op
            .state()
            .store
            .citizen_by_identity(anyid_adapters::dev::ISSUER, "hong")
            .await
            .unwrap()
            .expect("hong exists");
        let stored = op.state().store.passkeys_of(&citizen).await.unwrap();
        assert_eq!(stored.len(), 1);
        // Registered under a low (demo) session: the passkey proves no more than that.
        assert_eq!(stored[0].loa, "urn:anyid:loa:low");
        let events = op
            .state()
            .store
            .passkey_events(&stored[0].id, 10)
            .await
            .unwrap();
        assert_eq!(events[0].kind, "registered");

        // A fresh browser: the chooser offers the passkey; no name is typed.
        let second = Browser::new();
        let p = rp.start(&[], &[]);
        let (_, page) = second.open(p.url.as_str(), op.issuer()).await.page();
        assert!(page.contains("data-passkey=\"login\""), "{page}");
        assert!(page.contains("autocomplete=\"username webauthn\""));
        let credential = key.sign_in(&attribute(&page, "data-options"), true);
        let landing = answer(&second, &op, &page, &credential).await;
        let cb = second.finish_consent(op.issuer(), landing).await.callback();
        let after = rp.sign_in_claims(&cb, &p).await;
        assert_eq!(
            after.subject(),
            before.subject(),
            "{backend:?}: same citizen"
        );
        let amr: Vec<String> = after
            .auth_method_refs()
            .unwrap()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect();
        assert!(
            amr.contains(&"hwk".to_owned()) && amr.contains(&"mfa".to_owned()),
            "{amr:?}"
        );

        // The portal's login history names the method.
        let (_, account) = second.open(&op.url("/account"), op.issuer()).await.page();
        assert!(account.contains("<td>패스키</td>"), "{account}");

        // The use is recorded: counter and last use.
        let used = &op.state().store.passkeys_of(&citizen).await.unwrap()[0];
        assert!(
            used.sign_count > 0 && used.last_used_at.is_some(),
            "{used:?}"
        );
        let events = op.state().store.passkey_events(&used.id, 10).await.unwrap();
        assert!(events.iter().any(|e| e.kind == "counter"), "{events:?}");

        // The same answer again (a replay) is refused and starts no session.
        let third = Browser::new();
        let p = rp.start(&[], &[]);
        let (_, page3) = third.open(p.url.as_str(), op.issuer()).await.page();
        let replay = answer(&third, &op, &page3, &credential).await;
        let (status, body) = replay.page();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (_, account) = third.open(&op.url("/account"), op.issuer()).await.page();
        assert!(account.contains("action=\"/login/dev\""), "not signed in");
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn without_user_verification_or_registration_a_passkey_is_refused(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Tax office", "127.0.0.1").await;
        let owner = Browser::new();
        let page = portal(&owner, &op, "kim").await;
        let mut key = Authenticator::new(op.issuer());
        register(&owner, &op, &page, &mut key, "Phone").await;

        // The authenticator skips user verification: refused, and recorded.
        let browser = Browser::new();
        let p = rp.start(&[], &[]);
        let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
        let credential = key.sign_in(&attribute(&page, "data-options"), false);
        let (status, refused) = answer(&browser, &op, &page, &credential).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            refused.contains("패스키가 승인되지 않았습니다"),
            "{refused}"
        );
        let citizen = op
            .state()
            .store
            .citizen_by_identity(anyid_adapters::dev::ISSUER, "kim")
            .await
            .unwrap()
            .unwrap();
        let stored = &op.state().store.passkeys_of(&citizen).await.unwrap()[0];
        assert!(stored.last_used_at.is_none(), "no login was recorded");
        let events = op
            .state()
            .store
            .passkey_events(&stored.id, 10)
            .await
            .unwrap();
        assert_eq!(events[0].kind, "refused", "{events:?}");

        // A passkey nobody registered here: the same answer, so an answer never tells
        // whether a credential belongs to an account.
        let mut stranger = Authenticator::new(op.issuer());
        let other = Browser::new();
        let page = portal(&other, &op, "lee").await;
        let _ = stranger.register(&attribute(&page, "data-options")); // never submitted
        let p = rp.start(&[], &[]);
        let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
        let credential = stranger.sign_in(&attribute(&page, "data-options"), true);
        let (status, unknown) = answer(&browser, &op, &page, &credential).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(without_flow_ids(&unknown), without_flow_ids(&refused));
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn passkeys_are_renamed_and_removed_only_by_their_owner(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let owner = Browser::new();
        let page = portal(&owner, &op, "hong").await;
        let mut key = Authenticator::new(op.issuer());
        let page = register(&owner, &op, &page, &mut key, "Old name").await;
        let citizen = op
            .state()
            .store
            .citizen_by_identity(anyid_adapters::dev::ISSUER, "hong")
            .await
            .unwrap()
            .unwrap();
        let id = op.state().store.passkeys_of(&citizen).await.unwrap()[0]
            .id
            .clone();

        // Registering the same authenticator credential twice is impossible (excluded), and a
        // bad name is explained.
        let csrf = hidden(&page, "csrf");
        let (_, page) = owner
            .submit(
                op.issuer(),
                "/account/action",
                &[("csrf", &csrf), ("rename_passkey", &id), ("name", " ")],
            )
            .await
            .page();
        assert!(page.contains("role=\"alert\""), "{page}");

        // Someone else cannot touch it.
        let intruder = Browser::new();
        let other = portal(&intruder, &op, "kim").await;
        let other_csrf = hidden(&other, "csrf");
        intruder
            .submit(
                op.issuer(),
                "/account/action",
                &[("csrf", &other_csrf), ("remove_passkey", &id)],
            )
            .await
            .page();
        assert_eq!(
            op.state().store.passkeys_of(&citizen).await.unwrap().len(),
            1
        );

        let (_, page) = owner
            .submit(
                op.issuer(),
                "/account/action",
                &[
                    ("csrf", &csrf),
                    ("rename_passkey", &id),
                    ("name", "Work key"),
                ],
            )
            .await
            .page();
        assert!(page.contains("value=\"Work key\""), "{page}");
        owner
            .submit(
                op.issuer(),
                "/account/action",
                &[("csrf", &csrf), ("remove_passkey", &id)],
            )
            .await
            .page();
        assert!(
            op.state()
                .store
                .passkeys_of(&citizen)
                .await
                .unwrap()
                .is_empty()
        );
        let events = op.state().store.passkey_events(&id, 10).await.unwrap();
        assert_eq!(events[0].kind, "removed");
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn a_passkey_registered_right_after_a_high_login_is_high_and_later_substantial(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let pki = dev_pki(&op);

        // Sign in to the portal with a certificate (high).
        let browser = Browser::new();
        let (_, page) = browser.open(&op.url("/account"), op.issuer()).await.page();
        let (status, page) = sign_in_as(&browser, &op, &pki, &page, "hong").await.page();
        assert_eq!(status, StatusCode::OK);
        let mut key = Authenticator::new(op.issuer());
        register(&browser, &op, &page, &mut key, "Right after").await;

        // Eleven minutes on, the same high session vouches only for substantial.
        op.clock.advance(660);
        let (_, page) = browser.open(&op.url("/account"), op.issuer()).await.page();
        let mut other = Authenticator::new(op.issuer());
        register(&browser, &op, &page, &mut other, "Later").await;

        let citizen = citizen_of(&op, &pki, "hong").await.unwrap();
        let levels: Vec<(String, String)> = op
            .state()
            .store
            .passkeys_of(&citizen)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.loa))
            .collect();
        assert_eq!(
            levels,
            [
                ("Right after".to_owned(), "urn:anyid:loa:high".to_owned()),
                ("Later".to_owned(), "urn:anyid:loa:substantial".to_owned()),
            ],
            "{backend:?}"
        );
        op.stop().await;
    }
);
