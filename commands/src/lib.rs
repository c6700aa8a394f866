//! Command handling: the seed design's "active reservations service", event-sourced.
//!
//! Each active show has one writer task in this process that keeps the show aggregate in
//! memory ([`writer`]). Commands queue up for it; it decides a whole batch in arrival order
//! against the evolving state and appends the batch's events in one append, then answers
//! every caller; the process's group committer ([`appender`]) puts the batches of many shows
//! in one commit. Correctness never rests on there being only one writer: every append
//! names the version it expects, and a writer that loses a race reloads and decides again.
//!
//! Nothing here knows about HTTP. Callers pass a [`CommandContext`] saying who asks, with which
//! idempotency key, on behalf of which request.

pub mod access;
pub mod appender;
pub mod catalogue;
pub mod clock;
mod context;
pub mod exchanges;
pub mod expiry;
pub mod holds;
mod idempotency;
mod outcome;
pub mod payments;
pub mod process;
pub mod promos;
pub mod streams;
pub mod writer;

pub use access::AccessRecords;
pub use appender::{Appender, AppenderConfig};
pub use catalogue::{Catalogue, CatalogueShow, ShowSettings};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::{Cause, CommandContext};
pub use exchanges::Exchanges;
pub use holds::Holds;
pub use outcome::{CommandError, Outcome};
pub use payments::Payments;
pub use promos::Promos;
pub use streams::Streams;
pub use writer::{ShowWriters, WriterConfig};
