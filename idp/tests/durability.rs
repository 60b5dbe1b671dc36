//! Durability of the access record: events are acknowledged only once committed, so every
//! event a reporter was told `accepted` is there after the server is killed with SIGKILL in
//! the middle of a stream of batches, and the log goes on from where it was after a
//! restart, verifiably intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyid::store::{AuditStore, SqlStore};
use serde_json::{Value, json};

mod support;

/// A server process killed when the test ends, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn serve(dir: &Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_anyid"))
        .args(["serve", "--dev", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir)
        .env_remove("ANYID_DATABASE_URL")
        .env_remove("ANYID_MTLS__LISTEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start anyid");
    let server = Server(child);
    let ready = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "anyid on {port} did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

fn batch(task: usize, round: usize) -> Value {
    let events: Vec<Value> = (0..50)
        .map(|i| {
            json!({"event_id": format!("t{task}-r{round}-{i}"), "ts": "2026-12-07T09:30:00+09:00",
                   "kind": "access", "actor_id": "kim", "outcome": "success", "action": "view",
                   "subject_id": format!("citizen-{i}"), "data_categories": ["income"]})
        })
        .collect();
    json!({"events": events})
}

#[tokio::test]
async fn every_acknowledged_event_survives_a_sigkill_and_the_log_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port(&[1, 363]);
    let mut server = serve(dir.path(), port).await;
    let added = Command::new(env!("CARGO_BIN_EXE_anyid"))
        .args(["client", "add", "--name", "Back office", "--grant-type"])
        .args([
            "client_credentials",
            "--scope",
            "audit:write",
            "--json",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("ANYID_DATABASE_URL")
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let client: Value = serde_json::from_slice(&added.stdout).unwrap();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("http://127.0.0.1:{port}/token"))
        .basic_auth(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str(),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "audit:write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();

    // Four reporters stream batches; the server is killed while they do.
    let acknowledged = Arc::new(Mutex::new(HashSet::<String>::new()));
    let mut tasks = Vec::new();
    for task in 0..4 {
        let (http, token, acknowledged) = (http.clone(), token.clone(), acknowledged.clone());
        let url = format!("http://127.0.0.1:{port}/audit/v1/events");
        tasks.push(tokio::spawn(async move {
            for round in 0.. {
                let Ok(answer) = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&batch(task, round))
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(answer) = answer.json::<Value>().await else {
                    return;
                };
                let mut seen = acknowledged.lock().unwrap();
                for r in answer["results"].as_array().into_iter().flatten() {
                    if r["status"] == "accepted" {
                        seen.insert(r["event_id"].as_str().unwrap().to_owned());
                    }
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 2000 {
        assert!(Instant::now() < deadline, "the intake did not keep up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("anyid.db").display()
    );
    let store = SqlStore::connect(&url, 2).await.unwrap();
    let stored: HashSet<String> = store
        .audit_records(0, u32::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.record.event_id)
        .collect();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {lost:?}",
        lost.len()
    );
    let report = anyid::audit::verify::verify(&store, &[], |_, _| {})
        .await
        .unwrap();
    assert!(report.intact(), "{report:?}");
    let size = report.size;
    store.close().await;

    // Restarted, the log goes on from where it was.
    let _again = serve(dir.path(), port).await;
    let answer: Value = http
        .post(format!("http://127.0.0.1:{port}/audit/v1/events"))
        .bearer_auth(&token)
        .json(&batch(9, 0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["results"][0]["seq"], size, "{answer}");
}
