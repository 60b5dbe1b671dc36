//! Any-ID: a zero-trust federated OpenID Connect Provider.
//!
//! This crate is the only one that knows HTTP (`http/`). The protocol domain (`oidc/`), login
//! orchestration (`login/`), signing keys (`keys`) and storage (`store/`) never see axum types.

pub mod admins;
pub mod audit;
pub mod authzen;
pub mod batch;
pub mod budgets;
pub mod cache;
pub mod clients;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod decisions;
pub mod demo;
pub mod error;
pub mod http;
pub mod i18n;
pub mod keys;
pub mod login;
pub mod oidc;
pub mod policy;
mod redact;
pub mod retention;
pub mod risk;
pub mod server;
pub mod state;
pub mod store;
pub mod telemetry;
#[cfg(test)]
mod testing;
