//! Any-ID policy decisions: pure functions and in-memory limiters, no I/O, no HTTP, no SQL.
//! `idp` gathers the facts and enforces what this crate decides.

pub mod limits;
pub mod loa;
pub mod pdp;

pub use loa::Loa;
pub use pdp::{Action, Decision, Reason, Request, Signals, evaluate};
