//! `anyid client`: register, list, show, rotate and remove relying parties against the
//! configured database.

use std::process::ExitCode;

use clap::Subcommand;

use anyid::clients::{self, Admin, NewClient, Registered};
use anyid::config::Mode;

use super::{Place, connect, now};

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum ClientCommand {
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
        /// An https URL of a JSON array listing the redirect URIs (OIDC Core §8.1); its host
        /// is the sector of pairwise subjects. Required in production for loopback clients.
        #[arg(long)]
        sector_identifier_uri: Option<String>,
        #[arg(long, value_parser = ["ES256", "RS256"])]
        id_token_alg: Option<String>,
        /// The lowest assurance the relying party accepts.
        #[arg(long, value_parser = ["urn:anyid:loa:low", "urn:anyid:loa:substantial", "urn:anyid:loa:high"])]
        min_acr: Option<String>,
        /// The relying party handles sensitive data (the default policies then require a
        /// high-assurance login).
        #[arg(long)]
        sensitive: bool,
        /// The agency the relying party belongs to.
        #[arg(long)]
        agency: Option<String>,
        /// What the relying party uses citizens' data for; shown on the consent page
        /// (required in production for clients that receive citizens' data).
        #[arg(long)]
        purpose: Option<String>,
        /// How long it keeps what it receives; shown on the consent page (required in
        /// production with --purpose).
        #[arg(long)]
        retention: Option<String>,
        /// Its privacy policy (https).
        #[arg(long)]
        policy_uri: Option<String>,
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

pub async fn run(cmd: ClientCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ClientCommand::Add {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            grant_types,
            scopes,
            subject_type,
            sector_identifier_uri,
            id_token_alg,
            min_acr,
            sensitive,
            agency,
            purpose,
            retention,
            policy_uri,
            json,
            place,
        } => {
            let file = place.load()?;
            let store = connect(&file).await?;
            let new = NewClient {
                client_id: None,
                name,
                redirect_uris,
                post_logout_redirect_uris,
                grant_types,
                scopes,
                subject_type,
                sector_identifier_uri,
                id_token_signed_response_alg: id_token_alg,
                min_acr,
                sensitive,
                agency,
                purpose,
                retention,
                policy_uri,
            };
            let mode = Mode::for_command(&file);
            print_registered(
                &clients::add(&Admin::operator(), &store, &new, mode, now()).await?,
                json,
            )?;
        }
        ClientCommand::List { json, place } => {
            let store = connect(&place.load()?).await?;
            let list = clients::list(&Admin::operator(), &store).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&list)?)?;
            } else if list.is_empty() {
                out!("no clients")?;
            } else {
                for c in list {
                    out!("{}\t{}\t{}", c.client_id, c.name, c.redirect_uris.join(" "))?;
                }
            }
        }
        ClientCommand::Show {
            client_id,
            json,
            place,
        } => {
            let store = connect(&place.load()?).await?;
            let view = clients::show(&Admin::operator(), &store, &client_id).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&view)?)?;
            } else {
                out!("client_id:      {}", view.client_id)?;
                out!("name:           {}", view.name)?;
                out!("redirect_uris:  {}", view.redirect_uris.join(" "))?;
                out!(
                    "post_logout:    {}",
                    view.post_logout_redirect_uris.join(" ")
                )?;
                out!("grant_types:    {}", view.grant_types.join(" "))?;
                out!("scopes:         {}", view.scopes.join(" "))?;
                out!(
                    "subject_type:   {} (sector {})",
                    view.subject_type,
                    view.sector_identifier
                )?;
                out!("id_token alg:   {}", view.id_token_signed_response_alg)?;
                let stated =
                    |v: &Option<String>| v.clone().unwrap_or_else(|| "(not stated)".into());
                out!("purpose:        {}", stated(&view.purpose))?;
                out!("retention:      {}", stated(&view.retention))?;
                out!("policy_uri:     {}", stated(&view.policy_uri))?;
            }
        }
        ClientCommand::RotateSecret {
            client_id,
            json,
            place,
        } => {
            let store = connect(&place.load()?).await?;
            print_registered(
                &clients::rotate_secret(&Admin::operator(), &store, &client_id, now()).await?,
                json,
            )?;
        }
        ClientCommand::Remove { client_id, place } => {
            let store = connect(&place.load()?).await?;
            clients::remove(&Admin::operator(), &store, &client_id, now()).await?;
            out!("removed {client_id}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_registered(r: &Registered, json: bool) -> anyhow::Result<()> {
    if json {
        out!("{}", serde_json::to_string_pretty(r)?)?;
    } else {
        out!("client_id:     {}", r.client.client_id)?;
        out!("client_secret: {}", r.client_secret)?;
        out!("(the secret is shown only now; store it safely)")?;
    }
    Ok(())
}
