//! Setups and journeys several tests share.

use anyid_policy::Loa;
use openidconnect::core::CoreIdTokenClaims;

use crate::upstream::FakeOidcProvider;
use crate::{Backend, Browser, Rp, TestServer};

/// A server with the Kakao-like provider `kakao` (low) and a high-level provider `gov`; with
/// `strong`, both are trusted for the `ci` strong identifier.
pub async fn kakao_and_gov(
    backend: Backend,
    kakao: &FakeOidcProvider,
    gov: &FakeOidcProvider,
    strong: bool,
) -> TestServer {
    let ci = strong.then(|| "ci".to_owned());
    TestServer::start_with(backend, |c| {
        let mut social = kakao.config("kakao");
        social.strong_identifier_claim = ci.clone();
        c.upstreams.push(social);
        let mut high = gov.config("gov");
        high.loa = Loa::High;
        high.strong_identifier_claim = ci;
        c.upstreams.push(high);
    })
    .await
    .unwrap()
}

/// A step-up at `rp` (asking `extra`) from a low session through the high-level provider
/// `gov`: the page says it is a step-up and offers `gov` but no low method. The ID token's
/// claims.
pub async fn step_up_with_gov(
    browser: &Browser,
    op: &TestServer,
    rp: &Rp,
    extra: &[(&str, &str)],
) -> CoreIdTokenClaims {
    let p = rp.start(&[], extra);
    let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
    assert!(page.contains("role=\"status\""), "a step-up notice: {page}");
    assert!(page.contains("data-method=\"gov\""), "{page}");
    assert!(
        !page.contains("data-method=\"kakao\"") && !page.contains("data-method=\"dev\""),
        "low methods hidden: {page}"
    );
    let landing = browser.choose(op.issuer(), &page, "gov").await;
    let cb = browser
        .finish_consent(op.issuer(), landing)
        .await
        .callback();
    rp.sign_in_claims(&cb, &p).await
}

/// A login at `rp` through the Kakao-like upstream: low assurance.
pub async fn social_login(browser: &Browser, op: &TestServer, rp: &Rp) -> CoreIdTokenClaims {
    let p = rp.start(&[], &[]);
    let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
    let landing = browser.choose(op.issuer(), &page, "kakao").await;
    let cb = browser
        .finish_consent(op.issuer(), landing)
        .await
        .callback();
    let low = rp.sign_in_claims(&cb, &p).await;
    assert_eq!(
        low.auth_context_ref().unwrap().as_str(),
        "urn:anyid:loa:low"
    );
    low
}
