//! The access-record intake as a relying party's back office uses it: a client-credentials
//! token with `audit:write` (obtained with the `openidconnect` crate), a batch in which each
//! event is accepted, marked or rejected with its own field errors, idempotent resends, and
//! refusals of unauthenticated, wrong-scope and malformed requests. The accepted events are
//! in the store, in the log's order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::store::AuditStore;
use anyid_tests::{Backend, Rp, TestServer, per_backend};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:1/callback";

/// A back office of `op` with a token for `scope`: its client id and token.
async fn reporter(op: &TestServer, scope: &str) -> (String, String) {
    let (id, secret) = op
        .add_client(json!({
            "name": format!("Back office {scope}"),
            "grant_types": ["client_credentials"],
            "scopes": [scope],
        }))
        .await
        .unwrap();
    let rp = Rp::discover(op.issuer(), &id, &secret, REDIRECT)
        .await
        .unwrap();
    let token = rp.service_token(&[scope]).await;
    (id, token)
}

async fn post(op: &TestServer, token: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(op.url("/audit/v1/events"))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn batch() -> Value {
    json!({"events": [
        {"event_id": "v-1", "ts": "2026-12-07T09:30:00+09:00", "kind": "access",
         "actor_id": "kim", "actor_agency": "mapo-gu", "actor_role": "caseworker",
         "source_ip": "10.1.2.3", "outcome": "success", "subject_id": "citizen-7",
         "action": "view", "data_categories": ["income"], "purpose": "benefit review",
         "case_id": "2026-77"},
        {"event_id": "d-1", "ts": "2026-12-07T09:31:00+09:00", "kind": "access",
         "actor_id": "kim", "outcome": "success", "action": "download",
         "data_categories": ["income", "address"], "record_count": 120},
        {"event_id": "bad-1", "ts": "yesterday", "kind": "access", "actor_id": "kim",
         "source_ip": "10.1.2", "outcome": "success", "action": "view"},
        {"event_id": "l-1", "ts": "2026-12-07T00:31:00Z", "kind": "login",
         "outcome": "failure", "action": "login", "source_ip": "203.0.113.9"},
        {"event_id": "x-1", "ts": "2026-12-07T00:31:00Z", "kind": "access", "actor_id": "kim",
         "outcome": "success", "action": "view", "color": "blue"}
    ]})
}

per_backend!(
    #[tokio::test]
    async fn each_event_of_a_batch_is_accepted_marked_or_rejected_and_resends_are_idempotent(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let (client_id, token) = reporter(&op, "audit:write").await;
        // Registering the reporter is an admin call, recorded first.
        let base = op.state().store.audit_frontier().await.unwrap().size();

        let answer = post(&op, Some(&token), &batch()).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["cache-control"], "no-store");
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(
            (
                &answer["accepted"],
                &answer["duplicates"],
                &answer["rejected"]
            ),
            (&json!(3), &json!(0), &json!(2)),
            "{backend:?}: {answer}"
        );
        let results = answer["results"].as_array().unwrap();
        let status: Vec<&str> = results
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            status,
            ["accepted", "accepted", "rejected", "accepted", "rejected"]
        );
        assert_eq!(results[1]["marks"], json!(["download_without_reason"]));
        let fields: Vec<&str> = results[2]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["ts", "source_ip"], "{answer}");
        assert!(
            results[4]["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("color"),
            "an unknown field is named: {answer}"
        );
        let seqs: Vec<u64> = [0, 1, 3]
            .iter()
            .map(|i| results[*i]["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, [base, base + 1, base + 2]);

        // The same batch again: nothing stored twice, the same positions.
        let again: Value = post(&op, Some(&token), &batch())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (&again["accepted"], &again["duplicates"], &again["rejected"]),
            (&json!(0), &json!(3), &json!(2))
        );
        assert_eq!(again["results"][3]["seq"], base + 2);

        let stored = op.state().store.audit_records(base, 100).await.unwrap();
        assert_eq!(stored.len(), 3, "{backend:?}");
        assert!(stored.iter().all(|s| s.record.reporter == client_id));
        assert_eq!(stored[0].record.subject_id.as_deref(), Some("citizen-7"));
        assert_eq!(
            stored[2].record.actor_id, None,
            "a failed login of nobody known"
        );
        assert_eq!(
            op.state().store.audit_frontier().await.unwrap().size(),
            base + 3
        );
        op.stop().await;
    }
);

#[tokio::test]
async fn callers_without_a_token_with_another_scope_or_with_a_malformed_batch_are_refused() {
    let op = TestServer::start(Backend::Sqlite).await.unwrap();
    let (_, token) = reporter(&op, "audit:write").await;
    let (_, other) = reporter(&op, "authzen").await;
    let base = op.state().store.audit_frontier().await.unwrap().size();

    let anonymous = post(&op, None, &batch()).await;
    assert_eq!(anonymous.status(), 401);
    let wrong = post(&op, Some(&other), &batch()).await;
    assert_eq!(wrong.status(), 403);
    assert!(
        wrong.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    for body in [json!([1, 2]), json!({"events": "many"})] {
        let refused = post(&op, Some(&token), &body).await;
        assert_eq!(refused.status(), 400, "{body}");
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
    }
    let too_many = json!({"events": vec![json!({}); 1001]});
    let refused = post(&op, Some(&token), &too_many).await;
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("at most 1000 events"),
        "the limit is named"
    );
    assert_eq!(
        op.state().store.audit_frontier().await.unwrap().size(),
        base,
        "nothing stored"
    );
    op.stop().await;
}

/// The server signs checkpoints of the record as it grows and publishes the latest with its
/// key; the openssl command line (an independent Ed25519 implementation) verifies the
/// signature over the checkpoint's text, and not over a changed one.
#[tokio::test]
async fn published_checkpoints_verify_with_an_independent_ed25519_implementation() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let op = TestServer::start_with(Backend::Sqlite, |c| c.audit.checkpoint_seconds = 1)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    // Before anything is recorded there is no checkpoint (registering the reporter below
    // is the first event: an admin call).
    let empty = http
        .get(op.url("/audit/v1/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 404);
    let (_, token) = reporter(&op, "audit:write").await;
    let answer: Value = post(&op, Some(&token), &batch())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["accepted"], 3);
    let size = op.state().store.audit_frontier().await.unwrap().size();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let note = loop {
        let got = http
            .get(op.url("/audit/v1/checkpoint"))
            .send()
            .await
            .unwrap();
        // The first checkpoint may have come before the batch: wait for one of it.
        if got.status() == 200 {
            let note = got.text().await.unwrap();
            if note.lines().nth(1) == Some(size.to_string().as_str()) {
                break note;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint was signed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let key = http
        .get(op.url("/audit/v1/checkpoint/key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (body, signatures) = note.split_once("\n\n").unwrap();
    let body = format!("{body}\n");
    let lines: Vec<&str> = body.lines().collect();
    let name = key.trim().split('+').next().unwrap();
    assert_eq!(lines[0], name, "the origin is the key's name");
    assert_eq!(lines[1], size.to_string());
    let signature = signatures
        .strip_prefix(&format!("\u{2014} {name} "))
        .unwrap()
        .trim();
    let signature = b64.decode(signature).unwrap();
    let public = b64
        .decode(key.trim().splitn(3, '+').nth(2).unwrap())
        .unwrap();
    assert_eq!(public[0], 0x01, "Ed25519");

    // SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4), then the openssl CLI.
    let dir = tempfile::tempdir().unwrap();
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(&public[1..]);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        b64.encode(&spki)
    );
    std::fs::write(dir.path().join("key.pem"), pem).unwrap();
    std::fs::write(dir.path().join("sig"), &signature[4..]).unwrap();
    let check = |text: &str| {
        std::fs::write(dir.path().join("body"), text).unwrap();
        std::process::Command::new("openssl")
            .args([
                "pkeyutl", "-verify", "-pubin", "-inkey", "key.pem", "-rawin",
            ])
            .args(["-in", "body", "-sigfile", "sig"])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let verified = check(&body);
    assert!(verified.status.success(), "{verified:?}");
    let grown = body.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size + 1), 1);
    assert_ne!(grown, body);
    assert!(!check(&grown).status.success());
    op.stop().await;
}

/// Inclusion and consistency proofs through the admin API, checked by an independent RFC 6962
/// implementation (`ct-merkle`) against the records' own encodings.
#[tokio::test]
async fn proofs_from_the_api_verify_with_an_independent_implementation() {
    use anyid::audit::merkle;
    use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
    use sha2::Sha256;
    let op = TestServer::start(Backend::Sqlite).await.unwrap();
    let (_, token) = reporter(&op, "audit:write").await;
    let events: Vec<Value> = (0..700)
        .map(|i| {
            json!({"event_id": format!("p-{i}"), "ts": "2026-12-07T09:30:00+09:00",
                   "kind": "access", "actor_id": "kim", "outcome": "success",
                   "action": "view", "subject_id": format!("citizen-{}", i % 13)})
        })
        .collect();
    let answer: Value = post(&op, Some(&token), &json!({"events": events}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["accepted"], 700);
    let entries: Vec<Vec<u8>> = op
        .state()
        .store
        .audit_records(0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|s| s.record.leaf_input())
        .collect();
    let digest = |b64: &Value| {
        let bytes = anyid::crypto::b64_decode(b64.as_str().unwrap()).unwrap();
        ct_merkle::digest::Output::<Sha256>::try_from(&bytes[..]).unwrap()
    };
    let digests =
        |list: &Value| -> Vec<_> { list.as_array().unwrap().iter().map(digest).collect() };
    // The record so far: the admin call that registered the reporter, then the batch (each
    // proof asked for below is an admin call too, appended after this size).
    let frontier = op.state().store.audit_frontier().await.unwrap();
    let (total, frontier_root) = (frontier.size(), frontier.root());
    assert!(total > 700);
    for (seq, size) in [
        (0u64, total),
        (255, total),
        (256, total),
        (total - 1, total),
        (10, 300),
        (299, 300),
    ] {
        let p = op
            .admin_get(&format!(
                "/admin/v1/audit/proof/inclusion?seq={seq}&size={size}"
            ))
            .await
            .unwrap();
        let root = RootHash::<Sha256>::new(digest(&p["root"]), size);
        let proof = InclusionProof::<Sha256>::from_digests(digests(&p["proof"]).iter());
        root.verify_inclusion(&entries[seq as usize], seq, &proof)
            .unwrap_or_else(|e| panic!("{seq} in {size}: {e:?}: {p}"));
        if size == total {
            assert_eq!(digest(&p["root"])[..], frontier_root[..]);
        }
        assert_eq!(
            p["leaf_hash"],
            anyid::crypto::b64(&merkle::leaf_hash(&entries[seq as usize]))
        );
    }
    for (old, new) in [
        (1u64, total),
        (256, total),
        (300, total),
        (512, total),
        (total - 1, total),
    ] {
        let p = op
            .admin_get(&format!(
                "/admin/v1/audit/proof/consistency?old={old}&new={new}"
            ))
            .await
            .unwrap();
        let old_root = RootHash::<Sha256>::new(digest(&p["old_root"]), old);
        let new_root = RootHash::<Sha256>::new(digest(&p["new_root"]), new);
        let proof = ConsistencyProof::<Sha256>::from_digests(digests(&p["proof"]).iter());
        new_root
            .verify_consistency(&old_root, &proof)
            .unwrap_or_else(|e| panic!("{old} -> {new}: {e:?}: {p}"));
    }
    // The intake takes a batch far larger than other endpoints take any body.
    let large = reqwest::Client::new()
        .post(op.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 100 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), 413);
    // A tree larger than the record has no proof.
    let beyond = reqwest::Client::new()
        .get(op.admin_url("/admin/v1/audit/proof/inclusion?seq=1&size=100000"))
        .bearer_auth(op.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 400);
    op.stop().await;
}
