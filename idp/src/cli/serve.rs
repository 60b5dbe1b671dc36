//! `anyid serve`: run the provider. `--dev` prepares the dev material (generated secrets,
//! the dev CA) in the data dir before the configuration is resolved.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use anyid::clock::SystemClock;
use anyid::config::{self, Config, ConfigFile, Mode};
use anyid::{server, telemetry};

use super::Place;

#[derive(Args)]
pub struct Serve {
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
}

pub async fn run(args: Serve) -> anyhow::Result<ExitCode> {
    let Serve {
        dev,
        listen,
        admin_listen,
        place,
    } = args;
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
                    "http://{a}/admin/v1  (token in {})",
                    running
                        .state
                        .config
                        .data_dir
                        .join(config::DEV_SECRETS_FILE)
                        .display()
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
                    config::dev::ca_dir(&running.state.config.data_dir).display()
                )
            })
            .unwrap_or_else(|| "off".into());
        let data_dir = running.state.config.data_dir.display();
        eprintln!(
            "\n  Any-ID (development mode)\n\
             \n  Demo relying party : {issuer}/demo\
             \n  Discovery          : {issuer}/.well-known/openid-configuration\
             \n  Admin API          : {admin}\
             \n  Certificate login  : {certificates}\
             \n  State folder       : {data_dir}\
             \n  Your relying party : anyid client add --name \"My app\" \\\
             \n                         --redirect-uri http://localhost:3000/callback \\\
             \n                         --data-dir {data_dir} --json\n",
        );
    }
    running.until_signalled().await;
    Ok(ExitCode::SUCCESS)
}
