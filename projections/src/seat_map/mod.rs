//! The seat map of each show: every seat with its status, the counts by status, each seat
//! category's price and availability, and the holds with their expiry.
//!
//! It answers ticket clients' seat maps and seat statuses (kept in memory per show by
//! [`SeatMapCache`], since the hot show's map is read after every refused hold; live streams
//! of a show's seats are woken by the batches that change it, `crate::watchers`), discovery's
//! availability per seat category, the expiry scheduler's timetable (active holds past
//! their expiry plus the show's grace), how many holds are active, and which movie a show
//! is of (an exchange between shows stays with one movie).
//!
//! What it guarantees: a seat map is of one moment (the seats, the counts and the version
//! come from one statement), and `version` is the version of the show's stream it reflects;
//! the counts change by the same seat moves as the seats, so available + held + sold is the
//! capacity after every batch; a batch that moves a category's availability band (or
//! cancels a show) records its position for discovery's ETags.

mod cache;
mod projector;
mod queries;

pub use cache::SeatMapCache;
pub use projector::SeatMap;
pub use queries::*;
