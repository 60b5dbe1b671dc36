//! The `anyid` command: parse, then hand each command group to its module under `cli/`.

#[macro_use]
mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::Place;
use cli::admin::AdminCommand;
use cli::audit::AuditCommand;
use cli::certs::CertsCommand;
use cli::client::ClientCommand;
use cli::config::ConfigCommand;
use cli::keys::KeysCommand;
use cli::policy::PolicyCommand;
use cli::serve::Serve;

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

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
enum Command {
    /// Run the provider.
    Serve(Serve),
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        place: Place,
    },
    /// Manage relying parties (clients).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage administrators' own credentials.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Certificates: the dev CA and the reference challenge signer.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Policies: check a folder, evaluate a request, print the schema.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The access record: verify it.
    #[command(subcommand)]
    Audit(AuditCommand),
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
        // The reader went away (`anyid … | head`): stop like a Unix tool killed by SIGPIPE.
        Err(e) if closed_pipe(&e) => ExitCode::from(141),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => cli::serve::run(args).await,
        Command::Migrate { place } => cli::migrate::run(&place).await,
        Command::Client(cmd) => cli::client::run(cmd).await,
        Command::Admin(cmd) => cli::admin::run(cmd).await,
        Command::Keys(cmd) => cli::keys::run(cmd).await,
        Command::Config(cmd) => cli::config::run(cmd).await,
        Command::Certs(cmd) => cli::certs::run(cmd),
        Command::Policy(cmd) => cli::policy::run(cmd),
        Command::Audit(cmd) => cli::audit::run(cmd).await,
    }
}
