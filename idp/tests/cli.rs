//! The `anyid` command as an operator uses it: client management against the configured
//! database, key commands, config check, and production-mode refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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
