//! The `anyid` command as an operator uses it: client management against the configured
//! database, key commands, config check, and production-mode refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;

fn anyid(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anyid"))
        .args(args)
        .current_dir(dir)
        .env_remove("ANYID_DATABASE_URL")
        .output()
        .expect("run anyid")
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

#[test]
fn clients_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let add = |extra: &[&str]| {
        let mut args = vec![
            "client",
            "add",
            "--name",
            "Tax office",
            "--redirect-uri",
            "https://tax.example/cb",
            "--redirect-uri",
            "https://tax.example/cb2",
            "--post-logout-redirect-uri",
            "https://tax.example/bye",
            "--subject-type",
            "public",
            "--json",
            "--data-dir",
            d,
        ];
        args.extend_from_slice(extra);
        anyid(&args, dir.path())
    };
    // No dev secrets in the data dir: production rules, so the consent notice is required.
    let refused = add(&[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("purpose and a retention period"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let added = json(&add(&[
        "--purpose",
        "Filing your tax returns",
        "--retention",
        "5 years after the tax year",
    ]));
    assert_eq!(added["purpose"], "Filing your tax returns");
    assert_eq!(added["retention"], "5 years after the tax year");
    let id = added["client_id"].as_str().unwrap().to_owned();
    let secret = added["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 43, "a 256-bit secret");
    assert_eq!(added["subject_type"], "public");

    let list = anyid(&["client", "list", "--json", "--data-dir", d], dir.path());
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains(&secret),
        "secrets are shown once"
    );
    let listed = json(&list);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["client_id"] == id.as_str())
    );

    let shown = json(&anyid(
        &["client", "show", &id, "--json", "--data-dir", d],
        dir.path(),
    ));
    assert_eq!(shown["redirect_uris"].as_array().unwrap().len(), 2);

    let rotated = json(&anyid(
        &["client", "rotate-secret", &id, "--json", "--data-dir", d],
        dir.path(),
    ));
    assert_ne!(rotated["client_secret"], secret.as_str());

    assert!(
        anyid(&["client", "remove", &id, "--data-dir", d], dir.path())
            .status
            .success()
    );
    let gone = anyid(&["client", "show", &id, "--data-dir", d], dir.path());
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("not found"));

    let bad = anyid(
        &[
            "client",
            "add",
            "--name",
            "x",
            "--redirect-uri",
            "http://evil.example/cb",
            "--data-dir",
            d,
        ],
        dir.path(),
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("https"));
}

/// Run `anyid serve` expecting it to refuse at once; fails the test if it keeps running.
fn refused_serve(config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anyid.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_anyid"))
        .args([
            "serve",
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(dir.path())
        .env_remove("ANYID_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                !status.success(),
                "production mode must refuse this configuration"
            );
            let out = child.wait_with_output().unwrap();
            return String::from_utf8_lossy(&out.stderr).into_owned();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("anyid serve started instead of refusing:\n{config}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const KEYS: &str = "key_encryption_key = \"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\"\nsubject_secret = \"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI\"\n";

#[test]
fn production_mode_refuses_dev_conveniences() {
    let dev_login = refused_serve(&format!(
        "issuer = \"https://id.example.gov\"\ndev_login = true\n{KEYS}"
    ));
    assert!(dev_login.contains("dev_login"), "{dev_login}");
    let http = refused_serve(&format!("issuer = \"http://id.example.gov\"\n{KEYS}"));
    assert!(http.contains("https"), "{http}");
    let no_kek = refused_serve(
        "issuer = \"https://id.example.gov\"\nsubject_secret = \"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI\"\n",
    );
    assert!(no_kek.contains("key_encryption_key"), "{no_kek}");
    let unknown = refused_serve(&format!(
        "issuer = \"https://id.example.gov\"\nlisen = \"typo\"\n{KEYS}"
    ));
    assert!(unknown.contains("lisen"), "{unknown}");
}

#[test]
fn config_check_reports_problems_and_passes_a_good_config() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        format!("issuer = \"https://id.example.gov\"\n{KEYS}"),
    )
    .unwrap();
    let out = anyid(
        &[
            "config",
            "check",
            "--config",
            good.to_str().unwrap(),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("configuration OK"));
    assert!(!text.contains("AQEBAQEB"), "secrets never print");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "issuer = \"ftp://x\"\n").unwrap();
    let out = anyid(
        &["config", "check", "--config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("problem"));
}

/// A script's own `ANYID_*` variable is left out with a warning that names it; a misspelt
/// setting in a known table is refused, naming the variable as written.
#[test]
fn environment_variables_that_name_no_setting_are_named_and_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_anyid"))
            .args(["config", "check", "--dev", "--data-dir"])
            .arg(dir.path())
            .env_remove("ANYID_DATABASE_URL")
            .env(name, "1")
            .output()
            .unwrap()
    };
    let foreign = check("ANYID_BIN");
    let warning = String::from_utf8_lossy(&foreign.stderr);
    assert!(foreign.status.success(), "{foreign:?}");
    assert_eq!(
        warning
            .matches("ignoring environment variables that are no Any-ID setting: ANYID_BIN")
            .count(),
        1,
        "once: {warning}"
    );
    let misspelt = check("ANYID_LIMITS__LOGIN_PER_SECONDS");
    let problem = String::from_utf8_lossy(&misspelt.stdout);
    assert!(!misspelt.status.success());
    assert!(
        problem.contains("environment variable ANYID_LIMITS__LOGIN_PER_SECONDS names no setting"),
        "{problem}"
    );
}

#[test]
fn config_check_sets_certificate_login_up_and_names_a_policy_without_its_cas() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(
        anyid(&["certs", "dev", "--data-dir", d], dir.path())
            .status
            .success()
    );
    let certs = dir.path().join("certs");
    let check = |policy: &str| {
        let path = dir.path().join("anyid.toml");
        std::fs::write(
            &path,
            format!(
                "issuer = \"https://id.example.gov\"\n{KEYS}\n[certificates]\nenabled = true\n\
                 trust_anchors = [\"{}\"]\n\n[[certificates.policy]]\n\
                 oid = \"1.3.6.1.4.1.32473.1.1\"\nloa = \"high\"\n{policy}",
                certs.join("root.pem").display()
            ),
        )
        .unwrap();
        let out = anyid(
            &[
                "config",
                "check",
                "--config",
                path.to_str().unwrap(),
                "--data-dir",
                d,
            ],
            dir.path(),
        );
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, text) = check("");
    assert!(!ok, "{text}");
    assert!(
        text.contains("certificates.policy 1.3.6.1.4.1.32473.1.1: issuers is empty"),
        "{text}"
    );
    let (ok, text) = check(&format!(
        "issuers = [\"{}\"]\n",
        certs.join("untrusted-root.pem").display()
    ));
    assert!(!ok, "{text}");
    assert!(
        text.contains("does not chain to a configured trust anchor"),
        "{text}"
    );
    let (ok, text) = check(&format!(
        "issuers = [\"{}\"]\n",
        certs.join("intermediate.pem").display()
    ));
    assert!(ok, "{text}");
    assert!(text.contains("configuration OK"), "{text}");
}

#[test]
fn keys_rotate_adds_keys_and_schedules_the_old_ones_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let kek = anyid(&["keys", "gen-kek"], dir.path());
    assert_eq!(String::from_utf8_lossy(&kek.stdout).trim().len(), 43);
    // A dev data dir: `config check --dev` generates its secrets, as `serve --dev` would.
    assert!(
        anyid(&["config", "check", "--dev", "--data-dir", d], dir.path())
            .status
            .success()
    );
    assert!(
        anyid(&["keys", "rotate", "--data-dir", d], dir.path())
            .status
            .success()
    );
    assert!(
        anyid(&["keys", "rotate", "--data-dir", d], dir.path())
            .status
            .success()
    );
    let listed =
        String::from_utf8_lossy(&anyid(&["keys", "list", "--data-dir", d], dir.path()).stdout)
            .into_owned();
    let active = listed.lines().filter(|l| l.ends_with("active")).count();
    let retiring = listed.lines().filter(|l| l.contains("retires at")).count();
    assert_eq!(active, 2, "one active key per algorithm:\n{listed}");
    assert_eq!(
        retiring, 2,
        "the previous keys are scheduled out:\n{listed}"
    );
}

/// The reference signer shows what a challenge is for, and refuses one issued by another
/// origin than the page it came from (a relayed challenge).
#[test]
fn the_reference_signer_shows_a_challenge_and_refuses_another_origin() {
    use anyid_certs::challenge::{Challenge, Purpose};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let made = anyid(&["certs", "dev", "--data-dir", d], dir.path());
    assert!(made.status.success(), "{made:?}");
    let citizens = dir.path().join("certs").join("citizens");
    let (key, cert) = (citizens.join("hong.key"), citizens.join("hong.pem"));
    let challenge = Challenge {
        origin: "https://id.example.gov".into(),
        purpose: Purpose::Register,
        bound_to: "account".into(),
        expires_at: 1_900_000_000,
        nonce: "n".into(),
    }
    .encode(|_| vec![0; 32])
    .unwrap();
    let sign = |origin: &str| {
        anyid(
            &[
                "certs",
                "sign",
                &challenge,
                "--origin",
                origin,
                "--key",
                key.to_str().unwrap(),
                "--cert",
                cert.to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let signed = sign("https://id.example.gov");
    assert!(signed.status.success(), "{signed:?}");
    let shown = String::from_utf8_lossy(&signed.stderr);
    assert!(
        shown.contains("Signing for: https://id.example.gov"),
        "{shown}"
    );
    assert!(shown.contains("register this certificate"), "{shown}");
    assert!(!signed.stdout.is_empty(), "the SignedData");

    // Into a pipe whose reader has gone (`… | head -c 100`): a quiet end, like a Unix tool.
    let closed = |args: &[&str]| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Command::new(env!("CARGO_BIN_EXE_anyid"))
            .args(args)
            .current_dir(dir.path())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    for args in [
        &[
            "certs",
            "sign",
            &challenge,
            "--origin",
            "https://id.example.gov",
            "--key",
            key.to_str().unwrap(),
            "--cert",
            cert.to_str().unwrap(),
        ][..],
        &["policy", "schema"][..],
    ] {
        let ended = closed(args);
        let stderr = String::from_utf8_lossy(&ended.stderr);
        assert_eq!(ended.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }

    let relayed = sign("https://id-example.phish.test");
    assert!(!relayed.status.success());
    assert!(String::from_utf8_lossy(&relayed.stderr).contains("issued by"));
    let garbage = anyid(
        &["certs", "sign", "random", "--key", "k", "--cert", "c"],
        dir.path(),
    );
    assert!(!garbage.status.success());
}

#[test]
fn policy_check_validates_a_folder_and_eval_explains_a_decision() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    for (name, text) in anyid_policy::cedar::DEFAULT_POLICIES {
        std::fs::write(policies.join(name), text).unwrap();
    }
    let p = policies.to_str().unwrap();
    let checked = anyid(&["policy", "check", p], dir.path());
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{out}");
    assert!(out.contains("policies valid") && out.contains("sensitive-client-requires-high"));

    // An official looking at a record at 22:00 Seoul time, without a purpose.
    let request = serde_json::json!({
        "principal": {"type": "official", "id": "kim", "role": "caseworker",
            "agency": {"id": "mapo-gu", "jurisdiction": ["11"]}},
        "action": "access_personal_data",
        "resource": {"type": "citizen_record", "id": "r-1", "region": "11"},
        "context": {"ip": "203.0.113.7"}
    });
    let file = dir.path().join("request.json");
    std::fs::write(&file, request.to_string()).unwrap();
    let at = "2026-12-08T22:00:00+09:00";
    let args = [
        "policy",
        "eval",
        file.to_str().unwrap(),
        "--dir",
        p,
        "--at",
        at,
    ];
    let outcome = json(&anyid(&args, dir.path()));
    assert_eq!(outcome["decision"], "deny", "{outcome}");
    assert_eq!(outcome["detail"], "forbidden");
    let explained: Vec<&str> = outcome["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        explained,
        [
            "personal-data-in-working-hours",
            "personal-data-needs-a-purpose"
        ]
    );
    assert_eq!(outcome["explanation"][0]["file"], "personal_data.cedar");
    assert_eq!(outcome["time"]["hour"], 22);

    // A policy with a typo does not pass the check, and the message says where.
    std::fs::write(
        policies.join("typo.cedar"),
        r#"@id("typo") forbid (principal, action, resource) when { context.rsik > 50 };"#,
    )
    .unwrap();
    let checked = anyid(&["policy", "check", p], dir.path());
    let err = String::from_utf8_lossy(&checked.stderr);
    assert!(!checked.status.success());
    assert!(err.contains("typo") && err.contains("rsik"), "{err}");
}

/// A dev server killed when the test ends, whatever happens.
struct DevServer(std::process::Child);

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dev_server(port: u16, dir: &Path, stderr: Stdio) -> DevServer {
    DevServer(
        Command::new(env!("CARGO_BIN_EXE_anyid"))
            .args(["serve", "--dev", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir)
            .env_remove("ANYID_DATABASE_URL")
            .env_remove("ANYID_MTLS__LISTEN")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap(),
    )
}

fn listening(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Two dev servers run side by side, each with its certificate listener beside its own
/// port; a third on a taken port says which listener could not bind and what moves it.
#[test]
fn two_dev_servers_run_side_by_side_and_a_taken_port_is_named() {
    let (a, b) = (support::free_port(&[1, 363]), support::free_port(&[1, 363]));
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let log = dir_a.path().join("stderr.log");
    let _first = dev_server(
        a,
        dir_a.path(),
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    let _second = dev_server(b, dir_b.path(), Stdio::null());
    for port in [a, a + 363, b, b + 363] {
        assert!(listening(port), "nothing listens on {port}");
    }

    // The banner's recipe for a first relying party works as printed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let banner = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.contains("--json") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let recipe = banner
        .split("Your relying party : ")
        .nth(1)
        .and_then(|rest| rest.split("--json").next())
        .unwrap_or_else(|| panic!("no recipe in the banner: {banner}"))
        .replace("\\\n", " ");
    assert!(recipe.starts_with("anyid client add"), "{recipe}");
    let added = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} {} --json",
            env!("CARGO_BIN_EXE_anyid"),
            recipe.trim_start_matches("anyid")
        ))
        .env_remove("ANYID_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(json(&added)["name"], "My app");
    let dir_c = tempfile::tempdir().unwrap();
    let mut third = dev_server(a, dir_c.path(), Stdio::piped());
    assert!(!third.0.wait().unwrap().success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut third.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "the main listener cannot listen on 127.0.0.1:{a} (--listen or `listen` moves it)"
        )),
        "{stderr}"
    );
}

/// `anyid audit verify` on a record of events: intact (exit 0), then an edited event named
/// (exit 1).
#[tokio::test]
async fn audit_verify_reports_an_intact_record_and_names_an_edited_event() {
    use anyid::audit::event::ReportedEvent;
    use anyid::store::{AuditStore, SqlStore};
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("anyid.db").display()
    );
    let store = SqlStore::connect(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    let records: Vec<_> = (0..5)
        .map(|n| {
            ReportedEvent {
                event_id: format!("e-{n}"),
                ts: "2026-12-07T09:30:00+09:00".into(),
                kind: "access".into(),
                actor_id: "kim".into(),
                outcome: "success".into(),
                action: "view".into(),
                subject_id: Some(format!("citizen-{n}")),
                ..ReportedEvent::default()
            }
            .check("welfare", i64::MAX)
            .unwrap()
        })
        .collect();
    store.append_audit(&records, 0).await.unwrap();
    let d = dir.path().to_str().unwrap();
    let verified = anyid(&["audit", "verify", "--data-dir", d], dir.path());
    let text = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{text}");
    assert!(
        text.contains("events in the tree: 5") && text.contains("intact"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&verified.stderr).contains("verifying: 5 of 5 events"));

    // With a checkpoint an auditor kept and the published key: still intact; a checkpoint
    // signed by another key is refused.
    let key =
        anyid::audit::checkpoint::LogKey::load_or_create(&store, &[1; 32], "id.example/log", 0)
            .await
            .unwrap();
    let note = anyid::audit::checkpoint::checkpoint(&store, &key, 0)
        .await
        .unwrap()
        .unwrap();
    let kept = dir.path().join("checkpoint.txt");
    std::fs::write(&kept, &note).unwrap();
    let kept_args = [
        "audit".to_owned(),
        "verify".into(),
        "--data-dir".into(),
        d.to_owned(),
        "--key".into(),
        key.verifier_key(),
        "--checkpoint".into(),
        kept.to_str().unwrap().to_owned(),
    ];
    let kept_args: Vec<&str> = kept_args.iter().map(String::as_str).collect();
    let with_checkpoint = anyid(&kept_args, dir.path());
    assert!(with_checkpoint.status.success(), "{with_checkpoint:?}");
    let stranger =
        anyid::audit::checkpoint::LogKey::load_or_create(&store, &[1; 32], "evil.example/log", 0)
            .await
            .unwrap();
    std::fs::write(&kept, stranger.sign(5, &[0; 32])).unwrap();
    let forged = anyid(&kept_args, dir.path());
    assert!(!forged.status.success());
    assert!(String::from_utf8_lossy(&forged.stderr).contains("not signed by the log's key"));

    sqlx::query("UPDATE audit_events SET subject_id = 'citizen-9' WHERE seq = 3")
        .execute(&sqlx::SqlitePool::connect(&url).await.unwrap())
        .await
        .unwrap();
    let tampered = anyid(&["audit", "verify", "--data-dir", d], dir.path());
    let text = String::from_utf8_lossy(&tampered.stdout);
    assert_eq!(tampered.status.code(), Some(1), "{text}");
    assert!(text.contains("ALTERED  event 3"), "{text}");
}

/// `anyid audit import` of a CSV export: progress on stderr, a summary with the rejected
/// line and why, exit status 1 for the rejection; the accepted events verify intact.
#[test]
fn audit_import_shows_progress_and_ends_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(
        &file,
        "event_id,ts,kind,actor_id,outcome,action,subject_id\n\
         a-1,2026-12-07T10:00:00+09:00,access,lee,success,view,c-1\n\
         a-2,2026-12-07T10:00:00+09:00,access,lee,success,peek,c-1\n\
         a-3,2026-12-07T10:01:00+09:00,access,lee,success,view,c-2\n",
    )
    .unwrap();
    let imported = anyid(
        &[
            "audit",
            "import",
            file.to_str().unwrap(),
            "--reporter",
            "welfare",
            "--data-dir",
            d,
        ],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&imported.stdout);
    assert_eq!(imported.status.code(), Some(1), "{text}");
    assert!(
        text.contains("3 lines: 2 accepted, 0 duplicate (imported before), 1 rejected"),
        "{text}"
    );
    assert!(text.contains("line 3: action: one of:"), "{text}");
    assert!(String::from_utf8_lossy(&imported.stderr).contains("importing: 3 lines (100%)"));
    let verified = anyid(&["audit", "verify", "--data-dir", d], dir.path());
    assert!(verified.status.success());
    assert!(String::from_utf8_lossy(&verified.stdout).contains("events in the tree: 2"));

    // Exported as OCSF API Activity, one JSON line per event; a period leaves out the rest.
    let exported = anyid(&["audit", "export", "--data-dir", d], dir.path());
    assert!(exported.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&exported.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["class_uid"], 6003);
    assert_eq!(lines[0]["resources"][0]["uid"], "c-1");
    assert_eq!(lines[1]["unmapped"]["seq"], 1);
    let none = anyid(
        &["audit", "export", "--since", "2026-12-08", "--data-dir", d],
        dir.path(),
    );
    assert!(none.status.success());
    assert!(none.stdout.is_empty());
    let bad = anyid(
        &["audit", "export", "--since", "soon", "--data-dir", d],
        dir.path(),
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since soon"));
}

/// `anyid audit import-directory` of a folder with every kind of reference data, in JSON
/// lines and CSV, with bad lines: a summary per file naming each rejected line's field, exit
/// status 1, an unknown file named, and the accepted entries in the store (a CSV row with an
/// official's id imported before replaces it).
#[tokio::test]
async fn directory_import_reads_every_kind_and_names_each_bad_line() {
    use anyid::store::{DirectoryStore, SqlStore};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let folder = dir.path().join("reference");
    std::fs::create_dir(&folder).unwrap();
    let files = [
        (
            "officials.jsonl",
            r#"{"id": "u1", "agency": "AG02", "role": "clerk", "shifts": [{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}]}
{"id": "u2", "agency": "AG02", "role": "night desk", "workstations": ["10.1.2.3"], "shifts": [{"days": [5], "start": "22:00", "end": "06:00"}], "leave": [{"from": "2026-12-24", "to": "2026-12-31"}]}
{"id": "u3", "agency": "AG02", "role": "clerk", "shifts": [{"days": [1], "start": "25:00", "end": "06:00"}]}
{"id": "u4", "agency": "AG02", "role": "clerk", "salary": 100}
"#,
        ),
        (
            "officials.csv",
            "id,agency,role,workstations,shifts,travel\n\
             u5,AG03,auditor,10.2.0.0/16;10.3.0.7,,\"[{\"\"from\"\": \"\"2026-11-02\"\", \"\"to\"\": \"\"2026-11-03\"\", \"\"city\"\": \"\"Busan\"\"}]\"\n\
             u1,AG02,team lead,,,\n\
             u6,AG03,auditor,,not json,\n",
        ),
        (
            "agencies.csv",
            "id,name,type,ranges,jurisdiction,national,records_purpose\n\
             AG02,Mapo Tax Office,tax,10.1.0.0/16,11440;11410,false,false\n\
             AG03,National Audit,audit,,,yes,\n",
        ),
        (
            "networks.jsonl",
            r#"{"cidr": "203.0.113.0/24", "type": "vpn", "city": "Seoul", "country": "KR"}
{"cidr": "198.51.100.0/24", "type": "cafe"}
"#,
        ),
        (
            "calendar.csv",
            "agency,weekday,start,end,date,name\n\
             ,1,09:00,18:00,,\n\
             AG02,,,,2026-12-25,Christmas\n\
             ,2,09:00,18:00,2026-12-26,\n",
        ),
        (
            "flagged.jsonl",
            r#"{"subject_id": "c-77", "reporter": "welfare", "category": "public_figure"}
{"subject_id": "c-78", "category": "Famous Person"}
"#,
        ),
        (
            "cases.jsonl",
            r#"{"case_id": "2026-77", "agency": "AG02", "purpose": "benefit review", "assigned": ["u1", "u2"], "subjects": ["c-1"], "opened": "2026-12-01T09:00:00+09:00"}
{"case_id": "2026-78", "agency": "AG02", "purpose": "x", "assigned": ["u1"], "opened": "2026-12-10T09:00:00+09:00", "closed": "2026-12-01T09:00:00+09:00"}
"#,
        ),
        ("notes.txt", "not reference data"),
    ];
    for (name, text) in files {
        std::fs::write(folder.join(name), text).unwrap();
    }
    let imported = anyid(
        &[
            "audit",
            "import-directory",
            folder.to_str().unwrap(),
            "--data-dir",
            d,
        ],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&imported.stdout);
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert_eq!(imported.status.code(), Some(1), "{text}\n{stderr}");
    let expected = [
        "officials.jsonl: 4 lines: 2 accepted (new), 0 updated (replaced the entry with the same key), 2 rejected",
        "  line 3: shifts[0].start: a time of day HH:MM, 00:00 to 23:59",
        "  line 4: record: unknown field `salary`",
        "officials.csv: 3 lines: 1 accepted (new), 1 updated (replaced the entry with the same key), 1 rejected",
        "  line 4: shifts: a JSON array of objects",
        "agencies.csv: 2 lines: 1 accepted (new), 0 updated (replaced the entry with the same key), 1 rejected",
        "  line 3: national: true or false",
        "networks.jsonl: 2 lines: 1 accepted",
        "  line 2: type: office, vpn, home, mobile, hosting or foreign",
        "calendar.csv: 3 lines: 2 accepted",
        "  line 4: weekday: either `weekday`",
        "flagged.jsonl: 2 lines: 1 accepted",
        "  line 2: category: a word of lower-case letters",
        "cases.jsonl: 2 lines: 1 accepted",
        "  line 2: closed: before `opened`",
    ];
    let mut rest = text.as_ref();
    for line in expected {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("{line:?} in order in:\n{text}"));
        rest = &rest[at + line.len()..];
    }
    assert!(
        stderr.contains("not read (not an import file's name): notes.txt"),
        "{stderr}"
    );
    assert!(
        stderr.contains("officials.jsonl: 4 lines (100%)"),
        "{stderr}"
    );

    let url = format!("sqlite://{}", dir.path().join("anyid.db").display());
    let store = SqlStore::connect(&url, 2).await.unwrap();
    let officials = store.officials().await.unwrap();
    let roles: Vec<(&str, &str)> = officials
        .iter()
        .map(|o| (o.id.as_str(), o.role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [("u1", "team lead"), ("u2", "night desk"), ("u5", "auditor")]
    );
    let u5 = store.official("u5").await.unwrap().unwrap();
    assert_eq!(u5.workstations.len(), 2);
    assert_eq!(u5.travel[0].city.as_deref(), Some("Busan"));
    let agency = store.agency("AG02").await.unwrap().unwrap();
    assert!(!agency.records_purpose && agency.jurisdiction == ["11440", "11410"]);
    assert_eq!(store.networks().await.unwrap().len(), 1);
    assert_eq!(store.calendar().await.unwrap().len(), 2);
    assert_eq!(store.flagged_citizens().await.unwrap().len(), 1);
    let cases = store.cases_of_official("u2").await.unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].case_id, "2026-77");

    // One file whose name does not say its kind: with --kind, and nothing rejected, exit 0.
    let export = dir.path().join("vpn-ranges.jsonl");
    std::fs::write(
        &export,
        "{\"cidr\": \"203.0.113.0/24\", \"type\": \"office\"}\n",
    )
    .unwrap();
    let args = ["audit", "import-directory", export.to_str().unwrap()];
    let unnamed = anyid(&[&args[..], &["--data-dir", d]].concat(), dir.path());
    assert_eq!(unnamed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unnamed.stderr).contains("--kind"));
    let with_kind = anyid(
        &[&args[..], &["--kind", "networks", "--data-dir", d]].concat(),
        dir.path(),
    );
    let text = String::from_utf8_lossy(&with_kind.stdout);
    assert!(with_kind.status.success(), "{text}");
    assert!(
        text.contains("1 lines: 0 accepted (new), 1 updated"),
        "{text}"
    );
    let networks = store.networks().await.unwrap();
    assert_eq!(networks[0].network_type.name(), "office");
}
