//! `anyid migrate`: apply the database migrations and exit.

use std::process::ExitCode;

use super::{Place, connect};

pub async fn run(place: &Place) -> anyhow::Result<ExitCode> {
    let store = connect(&place.load()?).await?;
    store.migrate().await?;
    out!("migrations applied")?;
    Ok(ExitCode::SUCCESS)
}
