//! Tickets: every sold seat's valid ticket (id and version), whether and where it was let
//! in, and each order's pickup code.
//!
//! It answers customers fetching their tickets, door managers counting who is in and who is
//! still expected, and staff finding an order by its pickup code. Whether a ticket admits is
//! never decided here: the show aggregate decides it at the door; this read model follows.
//!
//! What it guarantees: a seat's `version` counts the tickets it has had on the show, as the
//! aggregate counts them, so the version a customer is shown is the one the door accepts.

mod projector;
mod queries;

pub use projector::Tickets;
pub use queries::*;
