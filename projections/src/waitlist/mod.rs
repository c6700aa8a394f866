//! Waiting lists: each entry with its status, its place in the queue and the hold offered.
//!
//! It answers customers polling their entry, and the expiry scheduler's timetable (entries
//! that waited as long as their show allows).
//!
//! What it guarantees: an entry's `version` grows by one with every change, so a client
//! long-polling for the next version never misses one; the place counts the entries still
//! waiting that joined before, in the order of the show's stream.

mod projector;
mod queries;

pub use projector::Waitlist;
pub use queries::*;
