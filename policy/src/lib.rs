//! Any-ID policy decisions: pure functions and in-memory limiters, no I/O, no HTTP, no SQL.
//! `idp` gathers the facts and enforces what this crate decides.

pub mod calendar;
pub mod cedar;
pub mod directory;
pub mod facts;
pub mod limits;
pub mod loa;
pub mod pdp;
pub mod risk;
pub mod zones;

pub use cedar::{LoadError, PolicySet};
pub use facts::{Action, Context, Principal, Request, Resource};
pub use loa::Loa;
pub use pdp::{Decision, Engine, Outcome, Reason, required_level};
