//! Personal-data access records (DESIGN §2, issue 10): the tamper-evident log they append
//! to.

pub mod checkpoint;
pub mod directory;
pub mod event;
pub mod import;
pub mod intake;
pub mod merkle;
pub mod ocsf;
pub mod proofs;
pub mod verify;
