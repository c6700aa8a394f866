//! Who did what: every command that changed the log (and every step the system took on its
//! own), with its actor, time, command, stream, idempotency key, correlation and causation,
//! and the events it appended — staff refunds, counter sales, cancellations, catalogue
//! changes, role grants and API keys included (those are events of the `access` stream).
//!
//! It is made from the events' metadata alone, so it holds exactly what the log holds: a
//! command that was refused appended nothing and is not here. Like every read model it can
//! be dropped and rebuilt from the log, and verified against it.

mod projector;
mod queries;

pub use projector::Actions;
pub use queries::*;
