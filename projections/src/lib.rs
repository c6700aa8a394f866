//! The query side: projectors that turn the event log into PostgreSQL read models, and the
//! queries the API answers from them.
//!
//! A projector applies a batch of events and moves its checkpoint in the same transaction,
//! so a crash never applies an event twice or skips one. The checkpoint row is locked while a
//! batch is applied: any number of server processes may run the same projector, and each
//! batch is applied by exactly one. Read models are never written by anything else and can
//! always be dropped and rebuilt from the log.

pub mod discovery;
pub mod projectors;
pub mod queries;
mod runner;

pub use runner::{rebuild, status, ProjectionError, Projections, ProjectorStatus};

/// The schema steps of the read models, applied by `boxoffice_eventstore::migrations`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("sql/001_read_models.sql"),
    include_str!("sql/002_hold_expiry.sql"),
    include_str!("sql/003_waitlist.sql"),
    include_str!("sql/004_catalogue.sql"),
    include_str!("sql/005_cinema_latitude.sql"),
    include_str!("sql/006_order_history_timeline.sql"),
];
