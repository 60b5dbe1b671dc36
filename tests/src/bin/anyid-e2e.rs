//! The browser tests' fixture: Any-ID in dev mode (demo relying party, demo citizens) on a
//! fresh SQLite database, with a Naver-like OAuth 2 provider and a Kakao-like OpenID provider
//! on loopback. Prints one
//! JSON line with the URLs, then serves until its standard input closes.

use anyid_tests::upstream::{FakeNaver, FakeOidcProvider};
use anyid_tests::{Backend, TestServer};
use serde_json::json;
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let kakao = FakeOidcProvider::start().await;
    kakao.set_subject(
        "kakao-4242",
        json!({"nickname": "길동", "email": "gildong@kakao.example", "email_verified": true}),
    );
    let mut config = kakao.config("kakao");
    config.display_name.ko = "카카오 로그인".into();
    config.display_name.en = "Kakao".into();
    let naver = FakeNaver::start().await;
    naver.set_profile(
        json!({"id": "naver-77", "nickname": "서준", "email": "seojun@naver.example"}),
    );
    let naver_config = naver.config("naver");
    let op = TestServer::start_with(Backend::Sqlite, |c| {
        c.upstreams.push(naver_config);
        c.upstreams.push(config);
        // Every browser test comes from 127.0.0.1: the per-address login limit is not what
        // they test (unauthenticated_requests does).
        c.limits.login_per_source_per_minute = 100_000;
    })
    .await?;
    println!(
        "{}",
        json!({
            "issuer": op.issuer(),
            "demo": op.url("/demo"),
            "admin": op.admin_url("/admin/v1"),
            "admin_page": op.admin_url("/admin/decisions"),
            "admin_token": op.admin_token(),
            "kakao": kakao.issuer(),
            "mtls": op.state().config.mtls.as_ref().map(|m| m.url.clone()),
            "dev_ca": op.data_dir().join("certs"),
        })
    );
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    op.stop().await;
    Ok(())
}
