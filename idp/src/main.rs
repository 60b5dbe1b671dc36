//! The `anyid` command: parse, load configuration, run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use clap::{Args, Parser, Subcommand};

use anyid::clients::{self, NewClient, Registered};
use anyid::clock::{Clock, SystemClock};
use anyid::config::{self, CliOverrides, Config, ConfigFile, Mode};
use anyid::store::{KeyStore, SqlStore};
use anyid::{crypto, keys, server, telemetry};

#[derive(Parser)]
#[command(
    name = "anyid",
    version,
    about = "Any-ID: a zero-trust federated OpenID Connect Provider"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where to find the configuration and state; every subcommand takes these.
#[derive(Args, Clone, Default)]
struct Place {
    /// TOML configuration file.
    #[arg(long, env = "ANYID_CONFIG")]
    config: Option<PathBuf>,
    /// State folder (embedded SQLite database, dev secrets). Default: ./.anyid-dev
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl Place {
    fn overrides(&self) -> CliOverrides {
        CliOverrides {
            config_file: self.config.clone(),
            data_dir: self.data_dir.clone(),
            ..CliOverrides::default()
        }
    }

    fn load(&self) -> anyhow::Result<ConfigFile> {
        Ok(ConfigFile::load(&self.overrides())?)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider.
    Serve {
        /// Development mode: demo citizens, demo relying party, generated secrets.
        #[arg(long)]
        dev: bool,
        /// Public listener (the issuer follows unless configured).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Admin listener (client API, metrics). Dev default: the public port + 1.
        #[arg(long)]
        admin_listen: Option<SocketAddr>,
        #[command(flatten)]
        place: Place,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        place: Place,
    },
    /// Manage relying parties (clients).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Certificates: the dev CA and the reference challenge signer.
    #[command(subcommand)]
    Certs(CertsCommand),
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Write a dev root, intermediate, TLS server certificate, citizen certificates (PEM
    /// and PKCS#12) and CRLs into `<data dir>/certs` (default `./.anyid-dev/certs`). Existing
    /// files are kept while they are still valid.
    Dev {
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Sign a challenge as a joint-certificate signer would: shows what it is for (origin,
    /// purpose, expiry) on standard error and prints the CMS SignedData (base64) to paste
    /// into the page.
    Sign {
        /// The challenge shown on the page.
        challenge: String,
        /// The origin of the page the challenge came from (as a signer that talks to the
        /// browser learns it): a challenge issued by another origin is refused, so a
        /// phishing page cannot relay a real one.
        #[arg(long)]
        origin: Option<String>,
        /// PKCS#8 private key (PEM).
        #[arg(long)]
        key: PathBuf,
        /// Certificate chain (PEM, the citizen's certificate first).
        #[arg(long)]
        cert: PathBuf,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a relying party; prints its client_id and secret (shown once).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// authorization_code, refresh_token, client_credentials (default: the first two).
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Extra scopes for service clients.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long, value_parser = ["pairwise", "public"])]
        subject_type: Option<String>,
        #[arg(long)]
        sector_identifier: Option<String>,
        #[arg(long, value_parser = ["ES256", "RS256"])]
        id_token_alg: Option<String>,
        /// The lowest assurance the relying party accepts.
        #[arg(long, value_parser = ["urn:anyid:loa:low", "urn:anyid:loa:substantial", "urn:anyid:loa:high"])]
        min_acr: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        place: Place,
    },
    /// List relying parties.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Show one relying party.
    Show {
        client_id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Replace a relying party's secret; the old one stops working at once.
    RotateSecret {
        client_id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Remove a relying party and revoke everything issued to it.
    Remove {
        client_id: String,
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add new signing keys; old keys stay in the JWKS until their tokens expire.
    Rotate {
        #[command(flatten)]
        place: Place,
    },
    /// List signing keys.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Print a new random key-encryption key (base64url, 32 bytes).
    GenKek,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and report problems.
    Check {
        /// Check as dev mode would run.
        #[arg(long)]
        dev: bool,
        #[command(flatten)]
        place: Place,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve {
            dev,
            listen,
            admin_listen,
            place,
        } => serve(dev, listen, admin_listen, place).await,
        Command::Migrate { place } => {
            let store = connect(&place.load()?).await?;
            store.migrate().await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Client(cmd) => client(cmd).await,
        Command::Keys(cmd) => keys_command(cmd).await,
        Command::Config(ConfigCommand::Check { dev, place }) => config_check(dev, &place).await,
        Command::Certs(cmd) => certs_command(cmd),
    }
}

fn certs_command(cmd: CertsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CertsCommand::Dev { force, place } => {
            let dir = place.load()?.data_dir.join("certs");
            if force && dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing {}", dir.display()))?;
            }
            let pki = anyid_certs::dev::load_or_generate(&dir, std::time::SystemTime::now())?;
            println!("dev CA in {}", pki.dir.display());
            println!("  trust anchor   {}", pki.root.display());
            println!("  intermediate   {}", pki.intermediate.display());
            println!(
                "  other CA       {} (bound to no dev policy)",
                pki.other_intermediate.display()
            );
            println!(
                "  TLS server     {} (key {})",
                pki.server_cert.display(),
                pki.server_key.display()
            );
            for crl in &pki.crl_paths {
                println!("  CRL            {}", crl.display());
            }
            for c in &pki.citizens {
                println!(
                    "  citizen {:<13} {} ({})",
                    c.name,
                    c.cert.display(),
                    c.description
                );
            }
        }
        CertsCommand::Sign {
            challenge,
            origin,
            key,
            cert,
        } => {
            let decoded = anyid_certs::challenge::Challenge::decode(&challenge)
                .context("reading the challenge")?;
            if let Some(origin) = &origin {
                decoded.challenge.check_origin(origin)?;
            }
            eprintln!("{}", decoded.challenge.describe());
            let key = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            let chain = std::fs::read_to_string(&cert)
                .with_context(|| format!("reading {}", cert.display()))?;
            let der = anyid_certs::cms::sign_challenge(challenge.trim().as_bytes(), &key, &chain)?;
            println!("{}", base64::engine::general_purpose::STANDARD.encode(der));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    dev: bool,
    listen: Option<SocketAddr>,
    admin_listen: Option<SocketAddr>,
    place: Place,
) -> anyhow::Result<ExitCode> {
    let mut overrides = place.overrides();
    overrides.listen = listen;
    overrides.admin_listen = admin_listen;
    let mut file = ConfigFile::load(&overrides)?;
    let mode = if dev { Mode::Dev } else { Mode::Production };
    if dev && file.admin_listen.is_none() {
        file.admin_listen = Some(SocketAddr::new(
            file.listen.ip(),
            file.listen.port().wrapping_add(1),
        ));
    }
    if dev && file.log.format == "json" && std::env::var_os("ANYID_LOG__FORMAT").is_none() {
        file.log.format = "pretty".into();
    }
    if dev {
        config::dev::prepare(&file)?;
    }
    let config = Config::resolve(file, mode)?;
    telemetry::init_logging(&config.log);
    let state = server::build(config, Arc::new(SystemClock)).await?;
    let running = server::start(state).await?;
    let issuer = running.state.issuer.clone();
    tracing::info!(issuer = %issuer, addr = %running.addr, admin = ?running.admin_addr, mode = ?mode, "Any-ID is running");
    if dev {
        let admin = running
            .admin_addr
            .map(|a| {
                format!(
                    "http://{a}/admin/v1  (token in {}/dev-secrets.toml)",
                    running.state.config.data_dir.display()
                )
            })
            .unwrap_or_default();
        let certificates = running
            .state
            .config
            .mtls
            .as_ref()
            .map(|m| {
                format!(
                    "{} (dev CA in {})",
                    m.url,
                    running.state.config.data_dir.join("certs").display()
                )
            })
            .unwrap_or_else(|| "off".into());
        eprintln!(
            "\n  Any-ID (development mode)\n\
             \n  Demo relying party : {issuer}/demo\
             \n  Discovery          : {issuer}/.well-known/openid-configuration\
             \n  Admin API          : {admin}\
             \n  Certificate login  : {certificates}\
             \n  State folder       : {}\n",
            running.state.config.data_dir.display()
        );
    }
    running.until_signalled().await;
    Ok(ExitCode::SUCCESS)
}

async fn connect(file: &ConfigFile) -> anyhow::Result<SqlStore> {
    let url = Config::database_only(file);
    if url.expose().starts_with("sqlite:") {
        std::fs::create_dir_all(&file.data_dir)
            .with_context(|| format!("creating data dir {}", file.data_dir.display()))?;
    }
    let store = SqlStore::connect(url.expose(), 2)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

fn now() -> i64 {
    SystemClock.now()
}

fn print_registered(r: &Registered, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else {
        println!("client_id:     {}", r.client.client_id);
        println!("client_secret: {}", r.client_secret);
        println!("(the secret is shown only now; store it safely)");
    }
    Ok(())
}

async fn client(cmd: ClientCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ClientCommand::Add {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            grant_types,
            scopes,
            subject_type,
            sector_identifier,
            id_token_alg,
            min_acr,
            json,
            place,
        } => {
            let store = connect(&place.load()?).await?;
            let new = NewClient {
                client_id: None,
                name,
                redirect_uris,
                post_logout_redirect_uris,
                grant_types,
                scopes,
                subject_type,
                sector_identifier,
                id_token_signed_response_alg: id_token_alg,
                min_acr,
            };
            print_registered(&clients::add(&store, &new, now()).await?, json)?;
        }
        ClientCommand::List { json, place } => {
            let store = connect(&place.load()?).await?;
            let list = clients::list(&store).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no clients");
            } else {
                for c in list {
                    println!("{}\t{}\t{}", c.client_id, c.name, c.redirect_uris.join(" "));
                }
            }
        }
        ClientCommand::Show {
            client_id,
            json,
            place,
        } => {
            let store = connect(&place.load()?).await?;
            let view = clients::show(&store, &client_id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                println!("client_id:      {}", view.client_id);
                println!("name:           {}", view.name);
                println!("redirect_uris:  {}", view.redirect_uris.join(" "));
                println!(
                    "post_logout:    {}",
                    view.post_logout_redirect_uris.join(" ")
                );
                println!("grant_types:    {}", view.grant_types.join(" "));
                println!("scopes:         {}", view.scopes.join(" "));
                println!(
                    "subject_type:   {} (sector {})",
                    view.subject_type, view.sector_identifier
                );
                println!("id_token alg:   {}", view.id_token_signed_response_alg);
            }
        }
        ClientCommand::RotateSecret {
            client_id,
            json,
            place,
        } => {
            let store = connect(&place.load()?).await?;
            print_registered(
                &clients::rotate_secret(&store, &client_id, now()).await?,
                json,
            )?;
        }
        ClientCommand::Remove { client_id, place } => {
            let store = connect(&place.load()?).await?;
            clients::remove(&store, &client_id, now()).await?;
            println!("removed {client_id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn keys_command(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::GenKek => {
            println!("{}", crypto::b64(&crypto::random_bytes::<32>()?));
        }
        KeysCommand::List { place } => {
            let store = connect(&place.load()?).await?;
            for k in store.keys().await? {
                let retire = k
                    .retire_at
                    .map(|t| format!("retires at {t}"))
                    .unwrap_or_else(|| "active".into());
                println!("{}\t{}\tcreated {}\t{}", k.kid, k.alg, k.created_at, retire);
            }
        }
        KeysCommand::Rotate { place } => {
            let file = place.load()?;
            let mode = Mode::for_command(&file);
            if mode == Mode::Dev {
                config::dev::prepare(&file)?;
            }
            let config = Config::resolve(file.clone(), mode)?;
            let store = connect(&file).await?;
            let kek = *config
                .key_encryption_key
                .as_aes_key()
                .context("key_encryption_key must be 32 bytes")?;
            // Tokens signed by the old keys live at most this long.
            let keep = config.tokens.access_token.max(config.tokens.id_token) + 60;
            let kids = keys::rotate(&store, &kek, now(), keep).await?;
            println!("new signing keys: {}", kids.join(", "));
            println!(
                "old keys stay published for {keep} s; running servers pick up the new keys within 30 s"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn config_check(dev: bool, place: &Place) -> anyhow::Result<ExitCode> {
    let file = match place.load() {
        Ok(f) => f,
        Err(e) => {
            println!("problem: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mode = if dev { Mode::Dev } else { Mode::Production };
    if dev && let Err(e) = config::dev::prepare(&file) {
        println!("problem: {e}");
        return Ok(ExitCode::FAILURE);
    }
    let config = match Config::resolve(file, mode) {
        Ok(c) => c,
        Err(e) => {
            println!("problem: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(certificates) = &config.certificates
        && let Err(e) = anyid_adapters::certificate::CertificateLogin::new(certificates.clone())
    {
        println!("problem: {e}");
        return Ok(ExitCode::FAILURE);
    }
    println!("issuer:   {}", config.issuer);
    println!("listen:   {}", config.listen);
    println!(
        "admin:    {}",
        config
            .admin_listen
            .map(|a| a.to_string())
            .unwrap_or_else(|| "disabled".into())
    );
    match SqlStore::connect(config.database_url.expose(), 1).await {
        Ok(store) => {
            println!("database: reachable ({:?})", store.backend());
            store.close().await;
        }
        Err(e) => println!("warning:  database not reachable: {e}"),
    }
    for upstream in &config.upstreams {
        let reachable = match anyid_adapters::upstream::Upstream::new(upstream.clone()) {
            Ok(u) => u.check().await,
            Err(e) => Err(e),
        };
        match reachable {
            Ok(()) => println!("upstream: {} ok", upstream.id),
            // Unreachable providers are a warning: the rest of the login page still works.
            Err(e) => println!("warning:  upstream {}: {e}", upstream.id),
        }
    }
    println!("configuration OK ({mode:?} mode)");
    Ok(ExitCode::SUCCESS)
}
