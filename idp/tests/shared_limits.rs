//! The shared limiter: two `anyid serve` processes on one database and one Redis hold a
//! client's token budget exactly, whichever replica each request reaches. Needs a Redis
//! server (`ANYID_TEST_REDIS_URL`, which CI sets); without one the test says it was skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

const BUDGET: usize = 10;

/// A child process killed when the test ends, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `anyid serve --dev` on `port` with `data_dir`, sharing budgets through `redis`.
async fn serve(data_dir: &Path, port: u16, redis: &str) -> Server {
    let mtls = support::free_port(&[1]);
    let child = Command::new(env!("CARGO_BIN_EXE_anyid"))
        .args(["serve", "--dev", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("ANYID_DATABASE_URL")
        .env("ANYID_MTLS__LISTEN", format!("127.0.0.1:{mtls}"))
        .env("ANYID_LIMITS__REDIS_URL", redis)
        .env(
            "ANYID_LIMITS__TOKEN_PER_CLIENT_PER_MINUTE",
            BUDGET.to_string(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start anyid");
    let server = Server(child);
    let ready = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
            return server;
        }
        assert!(Instant::now() < deadline, "anyid on {port} did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_replicas_on_one_redis_hold_a_clients_token_budget_exactly() {
    let Some(redis) = std::env::var("ANYID_TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!(
            "two_replicas_on_one_redis_hold_a_clients_token_budget_exactly: SKIPPED, nothing \
             checked: ANYID_TEST_REDIS_URL is not set (no Redis)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (support::free_port(&[1]), support::free_port(&[1]));
    let _first = serve(dir.path(), a, &redis).await;
    let added = Command::new(env!("CARGO_BIN_EXE_anyid"))
        .args([
            "client",
            "add",
            "--name",
            "Records service",
            "--grant-type",
            "client_credentials",
            "--scope",
            "records.read",
            "--json",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("ANYID_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let client: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let (id, secret) = (
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    );
    let _second = serve(dir.path(), b, &redis).await;

    let http = reqwest::Client::new();
    let (mut issued, mut refused) = (0, 0);
    for i in 0..2 * BUDGET {
        let port = if i % 2 == 0 { a } else { b };
        let answer = http
            .post(format!("http://127.0.0.1:{port}/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "records.read"),
            ])
            .send()
            .await
            .unwrap();
        match answer.status().as_u16() {
            200 => issued += 1,
            429 => {
                let wait: u64 = answer.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&wait), "Retry-After {wait}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(
        (issued, refused),
        (BUDGET, BUDGET),
        "one budget across both replicas"
    );
}
