//! Benchmark seeding: mints authorization codes straight into the store, through
//! [`GrantStore::insert_code`] as the login flow's `issue_code` does, so a load test can
//! measure code redemption (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.5) without driving a
//! browser login per code.
//!
//! Writes one ready-made token request body per line for `bench/redeem.lua`. Codes expire
//! `--ttl` seconds after seeding (default 600), not after the server's 60 s, so a run that
//! starts a little later still finds them live. They belong to one bench citizen with a live
//! session and a consent to the client, as a redemption requires. Test-only: it needs
//! direct database access.

use std::io::Write;

use anyhow::{Context, bail};
use anyid::clock::{Clock, SystemClock};
use anyid::crypto;
use anyid::store::{
    AccountStore, Citizen, CodeRecord, ConsentStore, GrantRecord, GrantStore, IdentityLink,
    SessionStore, SqlStore, SsoSession,
};

const USAGE: &str = "usage: anyid-bench-seed --database-url URL --client-id ID \
--redirect-uri URI --count N --out FILE [--ttl SECONDS] [--concurrency N]";

struct Args {
    database_url: String,
    client_id: String,
    redirect_uri: String,
    count: usize,
    out: std::path::PathBuf,
    ttl: i64,
    concurrency: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut database_url = None;
    let mut client_id = None;
    let mut redirect_uri = None;
    let mut count = None;
    let mut out = None;
    let mut ttl = 600;
    let mut concurrency = 8;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--database-url" => database_url = Some(value),
            "--client-id" => client_id = Some(value),
            "--redirect-uri" => redirect_uri = Some(value),
            "--count" => count = Some(value.parse().context("--count")?),
            "--out" => out = Some(value.into()),
            "--ttl" => ttl = value.parse().context("--ttl")?,
            "--concurrency" => concurrency = value.parse().context("--concurrency")?,
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let missing = |name: &str| anyhow::anyhow!("{name} is required\n{USAGE}");
    Ok(Args {
        database_url: database_url.ok_or_else(|| missing("--database-url"))?,
        client_id: client_id.ok_or_else(|| missing("--client-id"))?,
        redirect_uri: redirect_uri.ok_or_else(|| missing("--redirect-uri"))?,
        count: count.ok_or_else(|| missing("--count"))?,
        out: out.ok_or_else(|| missing("--out"))?,
        ttl,
        concurrency: concurrency.max(1),
    })
}

/// A citizen signed in (a live session for the codes' lifetime) who consented to the client.
async fn bench_session(store: &SqlStore, args: &Args, now: i64) -> anyhow::Result<SsoSession> {
    let id = uuid::Uuid::now_v7().to_string();
    let citizen = Citizen {
        id: id.clone(),
        claims: serde_json::json!({}),
        created_at: now,
        suspended_at: None,
    };
    let identity = IdentityLink {
        method: "bench".into(),
        issuer: "urn:anyid:bench".into(),
        subject: id.clone(),
        loa: "urn:anyid:loa:low".into(),
        vouched_loa: "urn:anyid:loa:high".into(),
        claims: serde_json::json!({}),
        strong_id: false,
    };
    store.create_citizen(&citizen, &identity, None).await?;
    let session = SsoSession {
        id: uuid::Uuid::now_v7().to_string(),
        citizen_id: id.clone(),
        auth_time: now,
        acr: "urn:anyid:loa:low".into(),
        amr: vec!["user".into()],
        created_at: now,
        expires_at: now + args.ttl + 3600,
    };
    store
        .insert_session(&session, &crypto::secret_hash(&crypto::random_token()?))
        .await?;
    store
        .put_consent(&id, &args.client_id, "openid", now)
        .await?;
    Ok(session)
}

/// One code as `issue_code` would store it, and the token request body that redeems it.
fn mint(args: &Args, session: &SsoSession, now: i64) -> anyhow::Result<(CodeRecord, String)> {
    let code = crypto::random_token()?;
    let verifier = crypto::random_token()?;
    let record = CodeRecord {
        code_hash: crypto::secret_hash(&code),
        grant: GrantRecord {
            id: uuid::Uuid::now_v7().to_string(),
            client_id: args.client_id.clone(),
            citizen_id: session.citizen_id.clone(),
            session_id: session.id.clone(),
            scope: "openid".into(),
            auth_time: now,
            acr: "urn:anyid:loa:low".into(),
            amr: vec!["user".into()],
            created_at: now,
            revoked_at: None,
        },
        redirect_uri: args.redirect_uri.clone(),
        code_challenge: crypto::b64(&crypto::sha256(verifier.as_bytes())),
        nonce: None,
        expires_at: now + args.ttl,
    };
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &args.redirect_uri)
        .append_pair("code_verifier", &verifier)
        .finish();
    Ok((record, body))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let store = SqlStore::connect(&args.database_url, args.concurrency as u32)
        .await
        .context("connecting to the database (start the server or run `anyid migrate` first)")?;
    let now = SystemClock.now();
    let session = bench_session(&store, &args, now).await?;
    let mut records = Vec::with_capacity(args.count);
    let mut bodies = Vec::with_capacity(args.count);
    for _ in 0..args.count {
        let (record, body) = mint(&args, &session, now)?;
        records.push(record);
        bodies.push(body);
    }
    let per_task = args.count.div_ceil(args.concurrency).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    let mut rest = records;
    while !rest.is_empty() {
        let tail = rest.split_off(per_task.min(rest.len()));
        let chunk = std::mem::replace(&mut rest, tail);
        let store = store.clone();
        tasks.spawn(async move {
            for record in &chunk {
                store.insert_code(record, now).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("seeding task")??;
    }
    store.close().await;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?,
    );
    for body in &bodies {
        writeln!(out, "{body}")?;
    }
    out.flush()?;
    eprintln!(
        "seeded {} codes for {} (expire in {} s) into {}",
        args.count,
        args.client_id,
        args.ttl,
        args.out.display()
    );
    Ok(())
}
