//! The upstream adapters against real providers on loopback: `Upstream::begin`, a browser
//! following the provider's authorization page, `Upstream::complete`. Happy paths for a
//! Kakao-like OIDC provider, a Naver-like OAuth 2 provider and an Apple-like `form_post`
//! provider, then every failure an adapter must turn into the right error: refusals, state
//! and nonce mismatches, forged or expired ID tokens, unknown keys and the JWKS refetch rate
//! limit, Naver result codes, timeouts and the circuit breaker (which made-up codes posted to
//! the callback never open). PKCE S256 reaches every provider that takes it, Naver's legacy
//! API none. Time is the test's `now`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use anyid_adapters::upstream::{BREAKER_THRESHOLD, Preset, Upstream};
use anyid_adapters::{AdapterError, Begin, Callback, PendingLogin, VerifiedIdentity};
use anyid_policy::Loa;
use anyid_tests::upstream::{Behaviour, FakeNaver, FakeOidcProvider, follow_authorize, unix_now};
use serde_json::json;

const CALLBACK: &str = "http://127.0.0.1:1/login/callback/test";

async fn start(up: &Upstream, now: i64) -> (PendingLogin, Callback) {
    let Begin::Redirect { url, pending } = up.begin(CALLBACK, now).await.expect("begin");
    let callback = follow_authorize(&url).await.expect("authorization page");
    (pending, callback)
}

async fn login(up: &Upstream, now: i64) -> Result<VerifiedIdentity, AdapterError> {
    let (pending, callback) = start(up, now).await;
    up.complete(&pending, &callback, now).await
}

fn invalid(result: Result<VerifiedIdentity, AdapterError>, what: &str) {
    match result {
        Err(AdapterError::Invalid(message)) => {
            assert!(message.contains(what), "{what:?} not in {message:?}")
        }
        other => panic!("expected Invalid({what}), got {other:?}"),
    }
}

#[tokio::test]
async fn kakao_like_oidc_login_verifies_the_id_token_and_maps_its_claims() {
    let kakao = FakeOidcProvider::start().await;
    kakao.set_subject(
        "3141592653",
        json!({"nickname": "길동", "picture": "https://k.kakaocdn.net/p.jpg", "email": "hong@kakao.example"}),
    );
    let up = Upstream::new(kakao.config_with_preset("kakao", Preset::Kakao)).unwrap();
    let now = unix_now();
    let Begin::Redirect { url, pending } = up.begin(CALLBACK, now).await.unwrap();
    let q: std::collections::HashMap<_, _> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(url.starts_with(&kakao.url("/authorize?")), "{url}");
    assert_eq!(
        q["scope"],
        "openid profile_nickname profile_image account_email"
    );
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["nonce"], pending.nonce.clone().unwrap());
    assert_eq!(q["state"], pending.state);
    let callback = follow_authorize(&url).await.unwrap();
    let id = up.complete(&pending, &callback, now).await.unwrap();
    assert_eq!(id.method, "kakao");
    assert_eq!(id.issuer, kakao.issuer());
    assert_eq!(id.subject, "3141592653");
    assert_eq!(id.loa, Loa::Low);
    assert_eq!(id.amr, ["fed"]);
    assert_eq!(id.strong_identifier, None);
    // R-KAKAO-3: an email in Kakao's ID token is a verified one.
    assert_eq!(
        id.claims,
        json!({"nickname": "길동", "picture": "https://k.kakaocdn.net/p.jpg", "email": "hong@kakao.example", "email_verified": true})
    );
    assert_eq!(kakao.discovery_fetches(), 1);
    assert_eq!(kakao.jwks_fetches(), 1);

    // No email consent: still a login, just without an email (discovery stays cached).
    kakao.set_subject("3141592653", json!({"nickname": "길동"}));
    let id = login(&up, now + 5).await.unwrap();
    assert_eq!(id.claims, json!({"nickname": "길동"}));
    assert_eq!(kakao.discovery_fetches(), 1, "discovery is cached");
}

#[tokio::test]
async fn generic_oidc_merges_userinfo_and_id_token_claims_win() {
    let op = FakeOidcProvider::start().await;
    op.set_subject(
        "u-7",
        json!({"name": "From Token", "email": "t@example.kr", "email_verified": true}),
    );
    op.set_userinfo(json!({"name": "From Userinfo", "locale": "ko-KR", "phone_number": "+82 10-1111-2222", "phone_number_verified": "true"}));
    let mut config = op.config("generic");
    config.userinfo = true;
    let up = Upstream::new(config).unwrap();
    let id = login(&up, unix_now()).await.unwrap();
    assert_eq!(
        id.claims,
        json!({"name": "From Token", "email": "t@example.kr", "email_verified": true, "locale": "ko-KR",
               "phone_number": "+82 10-1111-2222", "phone_number_verified": true})
    );
}

#[tokio::test]
async fn naver_like_oauth2_login_maps_the_profile_envelope() {
    let naver = FakeNaver::start().await;
    let up = Upstream::new(naver.config("naver")).unwrap();
    let now = unix_now();
    let Begin::Redirect { url, pending } = up.begin(CALLBACK, now).await.unwrap();
    assert!(
        url.starts_with(&format!("{}/oauth2.0/authorize?", naver.base())),
        "{url}"
    );
    assert_eq!(
        (pending.nonce.as_deref(), pending.pkce_verifier.as_deref()),
        (None, None)
    );
    let callback = follow_authorize(&url).await.unwrap();
    // The fake refuses a token request without the state and answers expires_in as "3600".
    let id = up.complete(&pending, &callback, now).await.unwrap();
    assert_eq!(id.method, "naver");
    assert_eq!(
        id.issuer,
        naver.issuer(),
        "R-NAVER-3: namespaced by client id"
    );
    assert!(id.issuer.contains("client_id=naver-test-client"));
    assert_eq!(id.subject, "naver-32742776");
    assert_eq!(id.amr, ["fed"]);
    assert_eq!(
        id.claims,
        json!({"name": "홍길동", "nickname": "길동이", "email": "hong@naver.example", "phone_number": "+821012345678",
               "picture": "https://img.example/naver.png", "gender": "male", "birthdate": "1990-03-01"})
    );
    assert!(
        id.claims.get("email_verified").is_none(),
        "Naver does not say the email is verified"
    );

    // Only `id` is guaranteed; everything else may be refused by the person.
    naver.set_profile(json!({"id": "naver-2"}));
    let id = login(&up, now).await.unwrap();
    assert_eq!(
        (id.subject.as_str(), id.claims.clone()),
        ("naver-2", json!({}))
    );
    naver.set_profile(json!({"nickname": "no id"}));
    invalid(login(&up, now).await, "no subject");
}

#[tokio::test]
async fn apple_like_form_post_login_has_the_name_only_on_first_login() {
    let apple = FakeOidcProvider::start_apple().await;
    apple.set_subject(
        "001234.abcdef.0987",
        json!({"email": "x7k2@privaterelay.appleid.com", "email_verified": "true", "is_private_email": "true"}),
    );
    let up = Upstream::new(apple.config("apple")).unwrap();
    assert!(up.uses_form_post());
    let now = unix_now();
    let (pending, callback) = start(&up, now).await;
    assert!(
        callback.user.is_some(),
        "the form_post page carries the user field"
    );
    let id = up.complete(&pending, &callback, now).await.unwrap();
    assert_eq!(id.subject, "001234.abcdef.0987");
    assert_eq!(
        id.claims,
        json!({"email": "x7k2@privaterelay.appleid.com", "email_verified": true,
               "given_name": "Gildong", "family_name": "Hong", "name": "Gildong Hong"})
    );
    // The second authorization has no `user` field: no name (the idp keeps the stored one).
    apple.set_user_field(None);
    let (pending, callback) = start(&up, now + 10).await;
    assert_eq!(callback.user, None);
    let id = up.complete(&pending, &callback, now + 10).await.unwrap();
    assert_eq!(
        id.claims,
        json!({"email": "x7k2@privaterelay.appleid.com", "email_verified": true})
    );
}

#[tokio::test]
async fn google_accepts_both_issuer_spellings_but_a_generic_provider_does_not() {
    let google = FakeOidcProvider::start().await;
    google.set_iss_claim(Some("accounts.google.com"));
    let up = Upstream::new(google.config_with_preset("google", Preset::Google)).unwrap();
    let id = login(&up, unix_now()).await.unwrap();
    assert_eq!(
        id.issuer,
        google.issuer(),
        "one stable issuer whatever the spelling"
    );
    let generic = Upstream::new(google.config("other")).unwrap();
    invalid(login(&generic, unix_now()).await, "issuer");
}

#[tokio::test]
async fn a_strong_identifier_comes_only_from_a_trusted_providers_verified_token() {
    let gov = FakeOidcProvider::start().await;
    let ci = "c".repeat(88);
    gov.set_subject("gov-a", json!({"name": "홍길동", "ci": ci}));
    let mut trusted = gov.config("gov");
    trusted.strong_identifier_claim = Some("ci".into());
    trusted.loa = Loa::High;
    let id = login(&Upstream::new(trusted).unwrap(), unix_now())
        .await
        .unwrap();
    assert_eq!(
        id.strong_identifier.as_ref().map(|s| s.0.as_str()),
        Some(ci.as_str())
    );
    assert_eq!(
        id.claims,
        json!({"name": "홍길동"}),
        "never kept in plain form"
    );
    assert_eq!(id.loa, Loa::High);
    assert!(!format!("{id:?}").contains(&ci), "Debug never shows it");

    let id = login(&Upstream::new(gov.config("social")).unwrap(), unix_now())
        .await
        .unwrap();
    assert_eq!(
        id.strong_identifier, None,
        "an untrusted provider's ci is ignored"
    );
    assert!(id.claims.get("ci").is_none());
}

#[tokio::test]
async fn an_upstream_error_response_is_a_refusal() {
    let kakao = FakeOidcProvider::start().await;
    kakao.set_behaviour(Behaviour::ErrorResponse);
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    let now = unix_now();
    for _ in 0..5 {
        match login(&up, now).await {
            Err(AdapterError::Refused(code)) => assert_eq!(code, "access_denied"),
            other => panic!("{other:?}"),
        }
    }
    assert!(up.available(now), "a person declining is not an outage");
    assert_eq!(kakao.token_requests(), 0);

    let naver = FakeNaver::start().await;
    naver.set_behaviour(Behaviour::ErrorResponse);
    let up = Upstream::new(naver.config("naver")).unwrap();
    assert!(matches!(
        login(&up, now).await,
        Err(AdapterError::Refused(_))
    ));
}

#[tokio::test]
async fn a_state_mismatch_is_refused_before_the_code_is_used() {
    let kakao = FakeOidcProvider::start().await;
    kakao.set_behaviour(Behaviour::WrongState);
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    assert!(matches!(
        login(&up, unix_now()).await,
        Err(AdapterError::Mismatch(_))
    ));
    assert_eq!(kakao.token_requests(), 0);

    // A callback replayed into another pending login.
    kakao.set_behaviour(Behaviour::Normal);
    let now = unix_now();
    let (first, callback) = start(&up, now).await;
    let (second, _) = start(&up, now).await;
    assert!(matches!(
        up.complete(&second, &callback, now).await,
        Err(AdapterError::Mismatch(_))
    ));
    up.complete(&first, &callback, now).await.unwrap();

    let naver = FakeNaver::start().await;
    naver.set_behaviour(Behaviour::WrongState);
    let up = Upstream::new(naver.config("naver")).unwrap();
    assert!(matches!(
        login(&up, now).await,
        Err(AdapterError::Mismatch(_))
    ));
    assert_eq!(naver.token_requests(), 0);
}

#[tokio::test]
async fn forged_or_misdirected_id_tokens_are_invalid() {
    let kakao = FakeOidcProvider::start().await;
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    let now = unix_now();
    for (behaviour, why) in [
        (Behaviour::WrongNonce, "nonce"),
        (Behaviour::BadSignature, "signature"),
        (Behaviour::WrongAudience, "not for this client"),
        (Behaviour::Expired, "expired"),
    ] {
        kakao.set_behaviour(behaviour);
        invalid(login(&up, now).await, why);
    }
    assert!(up.available(now), "bad tokens are not an outage");
    kakao.set_behaviour(Behaviour::Normal);
    login(&up, now).await.unwrap();
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_jwks_and_a_kid_that_never_appears_fails() {
    let kakao = FakeOidcProvider::start().await;
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    let now = unix_now();
    let (pending, callback) = start(&up, now).await;
    assert_eq!(kakao.jwks_fetches(), 1);
    // The provider starts signing with a new key and publishes it beside the old one.
    kakao.rotate_key(false);
    kakao.publish_signing_key();
    up.complete(&pending, &callback, now).await.unwrap();
    assert_eq!(kakao.jwks_fetches(), 2, "one refetch found the new key");
    login(&up, now + 1).await.unwrap();
    assert_eq!(kakao.jwks_fetches(), 2, "the refetched keys are cached");

    kakao.set_behaviour(Behaviour::UnknownKid);
    invalid(login(&up, now + 61).await, "unknown key");
    assert_eq!(kakao.jwks_fetches(), 3, "refetched once, still unknown");
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up() {
    let kakao = FakeOidcProvider::start().await;
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    let now = unix_now();
    login(&up, now).await.unwrap();
    kakao.rotate_key(true);
    login(&up, now + 1).await.unwrap();
    assert_eq!(kakao.jwks_fetches(), 2);
}

#[tokio::test]
async fn the_jwks_is_refetched_at_most_once_a_minute() {
    let kakao = FakeOidcProvider::start().await;
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    let t0 = unix_now();
    login(&up, t0).await.unwrap();
    kakao.rotate_key(true);
    login(&up, t0).await.unwrap();
    assert_eq!(kakao.jwks_fetches(), 2);
    // A second unknown kid within 60 s: no refetch, the login fails.
    kakao.rotate_key(true);
    invalid(login(&up, t0 + 30).await, "unknown key");
    assert_eq!(kakao.jwks_fetches(), 2, "rate-limited");
    // A minute later the refetch is allowed again.
    login(&up, t0 + 60).await.unwrap();
    assert_eq!(kakao.jwks_fetches(), 3);
}

#[tokio::test]
async fn a_naver_resultcode_other_than_00_is_invalid() {
    let naver = FakeNaver::start().await;
    naver.set_behaviour(Behaviour::BadResultCode);
    let up = Upstream::new(naver.config("naver")).unwrap();
    invalid(login(&up, unix_now()).await, "resultcode \"024\"");
    assert!(up.available(unix_now()));
}

#[tokio::test]
async fn an_upstream_that_does_not_answer_in_time_is_an_upstream_error() {
    let kakao = FakeOidcProvider::start().await;
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    let now = unix_now();
    let (pending, callback) = start(&up, now).await;
    kakao.set_behaviour(Behaviour::Slow);
    let started = Instant::now();
    let result = up.complete(&pending, &callback, now).await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(AdapterError::Upstream(ref m)) if m.contains("timed out")),
        "{result:?}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert!(took >= Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn the_circuit_breaker_opens_after_three_failures_and_closes_after_the_window() {
    let kakao = FakeOidcProvider::start().await;
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    let t0 = unix_now();
    // A login under way when the breaker opens.
    let (pending, callback) = start(&up, t0).await;
    kakao.set_behaviour(Behaviour::TokenServerError);
    for i in 0..3 {
        assert!(up.available(t0 + i));
        let result = login(&up, t0 + i).await;
        assert!(
            matches!(result, Err(AdapterError::Upstream(_))),
            "{result:?}"
        );
    }
    assert_eq!(kakao.token_requests(), 3);
    assert!(!up.available(t0 + 2));
    match up.begin(CALLBACK, t0 + 3).await {
        Err(AdapterError::Unavailable(name)) => assert_eq!(name, "kakao login"),
        other => panic!("{other:?}"),
    }
    // A login already under way when it opened is refused without calling upstream.
    kakao.set_behaviour(Behaviour::Normal);
    assert!(matches!(
        up.complete(&pending, &callback, t0 + 10).await,
        Err(AdapterError::Unavailable(_))
    ));
    assert_eq!(
        kakao.token_requests(),
        3,
        "nothing reached the provider while open"
    );

    // After the 30 s window one trial goes through; it succeeds and closes the breaker.
    let later = t0 + 2 + 30;
    assert!(up.available(later));
    login(&up, later).await.unwrap();
    assert!(up.available(later));
    login(&up, later + 1).await.unwrap();

    // A failed trial opens it again at once.
    kakao.set_behaviour(Behaviour::TokenServerError);
    for i in 0..3 {
        let _ = login(&up, later + 2 + i).await;
    }
    assert!(!up.available(later + 5));
    assert!(up.available(later + 4 + 30));
    let _ = login(&up, later + 4 + 30).await;
    assert!(
        !up.available(later + 4 + 31),
        "the failed trial reopened it"
    );
}

#[tokio::test]
async fn config_check_reports_reachability() {
    let kakao = FakeOidcProvider::start().await;
    let naver = FakeNaver::start().await;
    Upstream::new(kakao.config("kakao"))
        .unwrap()
        .check()
        .await
        .unwrap();
    Upstream::new(naver.config("naver"))
        .unwrap()
        .check()
        .await
        .unwrap();
    let mut gone = kakao.config("gone");
    gone.issuer = Some("http://127.0.0.1:1".into());
    let result = Upstream::new(gone).unwrap().check().await;
    assert!(
        matches!(result, Err(AdapterError::Upstream(_))),
        "{result:?}"
    );
}

/// RFC 7636 §4.2: the S256 challenge of `verifier`.
fn s256(verifier: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[tokio::test]
async fn pkce_s256_reaches_every_preset_that_takes_it_and_naver_gets_none() {
    let now = unix_now();
    let op = FakeOidcProvider::start().await;
    let apple = FakeOidcProvider::start_apple().await;
    let mut cases: Vec<(&FakeOidcProvider, _)> = [Preset::Generic, Preset::Kakao, Preset::Google]
        .into_iter()
        .map(|preset| (&op, op.config_with_preset("oidc", preset)))
        .collect();
    cases.push((&apple, apple.config("apple")));
    for (peer, config) in cases {
        let preset = config.preset;
        login(&Upstream::new(config).unwrap(), now).await.unwrap();
        let (authorization, token) = (peer.last_authorization(), peer.last_token_request());
        assert_eq!(authorization["code_challenge_method"], "S256", "{preset:?}");
        let verifier = &token["code_verifier"];
        // RFC 7636 §4.1: 43 to 128 characters.
        assert!((43..=128).contains(&verifier.len()), "{preset:?}");
        assert_eq!(
            s256(verifier),
            authorization["code_challenge"],
            "{preset:?}"
        );
    }
    // The operator may turn it off for a provider that refuses it: neither end sees any.
    let mut off = op.config("off");
    off.pkce = Some(false);
    login(&Upstream::new(off).unwrap(), now).await.unwrap();
    assert!(!op.last_authorization().contains_key("code_challenge"));
    assert!(!op.last_token_request().contains_key("code_verifier"));

    // Naver's legacy API takes none: the browser-bound state, sent again with the client
    // secret on the token request, protects the code.
    let naver = FakeNaver::start().await;
    login(&Upstream::new(naver.config("naver")).unwrap(), now)
        .await
        .unwrap();
    let (authorization, token) = (naver.last_authorization(), naver.last_token_request());
    assert!(
        !authorization.contains_key("code_challenge")
            && !authorization.contains_key("code_challenge_method"),
        "{authorization:?}"
    );
    assert!(!token.contains_key("code_verifier"), "{token:?}");
    assert_eq!(token["state"], authorization["state"]);
    // For Naver's newer endpoints the operator turns it on.
    let mut on = naver.config("naver-new");
    on.pkce = Some(true);
    login(&Upstream::new(on).unwrap(), now).await.unwrap();
    let (authorization, token) = (naver.last_authorization(), naver.last_token_request());
    assert_eq!(authorization["code_challenge_method"], "S256");
    assert_eq!(
        s256(&token["code_verifier"]),
        authorization["code_challenge"]
    );
}

/// What anyone can post to our callback: the `state` of a login they began themselves and a
/// code they made up.
async fn garbage_callback(
    up: &Upstream,
    now: i64,
    i: usize,
) -> Result<VerifiedIdentity, AdapterError> {
    let Begin::Redirect { pending, .. } = up.begin(CALLBACK, now).await.expect("begin");
    let callback = Callback {
        code: Some(format!("made-up-code-{i}")),
        state: Some(pending.state.clone()),
        ..Callback::default()
    };
    up.complete(&pending, &callback, now).await
}

fn rejected(result: Result<VerifiedIdentity, AdapterError>, what: &str) {
    match result {
        Err(AdapterError::Rejected(message)) => {
            assert!(message.contains(what), "{what:?} not in {message:?}")
        }
        other => panic!("expected Rejected({what}), got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_callbacks_never_switch_a_provider_off() {
    let rounds = 3 * BREAKER_THRESHOLD as usize;
    let now = unix_now();
    let kakao = FakeOidcProvider::start().await;
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    // The provider's own answer to a made-up code: 400 invalid_grant.
    for i in 0..rounds {
        rejected(garbage_callback(&up, now, i).await, "invalid_grant");
    }
    assert!(up.available(now));
    // A front end's error pages, rate limiting included.
    for status in [400, 401, 403, 429] {
        kakao.set_behaviour(Behaviour::TokenPage(status));
        for i in 0..rounds {
            rejected(
                garbage_callback(&up, now, i).await,
                &format!("HTTP {status}"),
            );
        }
        assert!(up.available(now), "{status}");
    }
    assert_eq!(kakao.token_requests(), 5 * rounds, "each one was asked");
    kakao.set_behaviour(Behaviour::Normal);
    login(&up, now).await.unwrap();

    // Naver refuses with status 200 and an error, or its front end with a page.
    let naver = FakeNaver::start().await;
    let up = Upstream::new(naver.config("naver")).unwrap();
    for i in 0..rounds {
        rejected(garbage_callback(&up, now, i).await, "invalid_request");
    }
    naver.set_behaviour(Behaviour::TokenPage(429));
    for i in 0..rounds {
        rejected(garbage_callback(&up, now, i).await, "HTTP 429");
    }
    assert!(up.available(now));
    naver.set_behaviour(Behaviour::Normal);
    login(&up, now).await.unwrap();
}

#[tokio::test]
async fn server_errors_and_timeouts_still_open_the_breaker() {
    let now = unix_now();
    // The same made-up codes, but the provider is failing: 5xx pages count.
    let kakao = FakeOidcProvider::start().await;
    kakao.set_behaviour(Behaviour::TokenPage(503));
    let up = Upstream::new(kakao.config("kakao")).unwrap();
    for i in 0..BREAKER_THRESHOLD as usize {
        assert!(up.available(now));
        let result = garbage_callback(&up, now, i).await;
        assert!(
            matches!(result, Err(AdapterError::Upstream(ref m)) if m.contains("503")),
            "{result:?}"
        );
    }
    assert!(!up.available(now), "5xx opened it");

    // Three logins under way when the provider stops answering in time.
    let slow = FakeOidcProvider::start().await;
    let up = Upstream::new(slow.config("slow")).unwrap();
    let (a, b, c) = (
        start(&up, now).await,
        start(&up, now).await,
        start(&up, now).await,
    );
    slow.set_behaviour(Behaviour::Slow);
    let results = tokio::join!(
        up.complete(&a.0, &a.1, now),
        up.complete(&b.0, &b.1, now),
        up.complete(&c.0, &c.1, now),
    );
    for result in [results.0, results.1, results.2] {
        assert!(
            matches!(result, Err(AdapterError::Upstream(ref m)) if m.contains("timed out")),
            "{result:?}"
        );
    }
    assert!(!up.available(now), "timeouts opened it");
}
