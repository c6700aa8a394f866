//! The query side: projectors that turn the event log into PostgreSQL read models, and the
//! queries the API answers from them.
//!
//! A projector applies a batch of events and moves its checkpoint in the same transaction,
//! so a crash never applies an event twice or skips one. The checkpoint row is locked while a
//! batch is applied: any number of server processes may run the same projector, and each
//! batch is applied by exactly one. Read models are never written by anything else and can
//! always be dropped and rebuilt from the log.
//!
//! Each read model is a room of its own (`seat_map`, `order_history`, `sales`, `waitlist`,
//! `catalogue`, `actions`, `box_office`, `tickets`): its projector, its queries, its SQL. Nothing outside a room reads its tables
//! but through its query functions. The runner, which follows the log and keeps the
//! checkpoints, is a room of its own too; so is `rebuild`, which folds the log into shadow
//! copies of read models and swaps them in while servers serve, and so is `verify`, which
//! rebuilds read models into scratch copies at the live checkpoints and compares them with
//! the live tables.

pub mod actions;
pub mod box_office;
pub mod catalogue;
mod money;
pub mod order_history;
mod projector;
pub mod rebuild;
mod runner;
pub mod sales;
pub mod seat_map;
pub mod tickets;
pub mod verify;
pub mod waitlist;
pub mod watchers;

pub use money::MoneyView;
pub use projector::{Applying, Event, Projector};
pub use rebuild::rebuild;
pub use runner::{
    database_answers, status, EtagPosition, ProjectionError, Projections, ProjectorStatus,
    DEFAULT_FEED_BATCHES,
};

use std::sync::Arc;

/// The schema steps of the read models, applied by `boxoffice_eventstore::migrations` in
/// this order (a step's number is its place here; databases remember which they have).
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_read_models.sql"),
    include_str!("migrations/002_hold_expiry.sql"),
    include_str!("migrations/003_waitlist.sql"),
    include_str!("migrations/004_catalogue.sql"),
    include_str!("migrations/005_cinema_latitude.sql"),
    include_str!("migrations/006_order_history_timeline.sql"),
    include_str!("migrations/007_audit_actions.sql"),
    include_str!("migrations/008_order_history_timeline_key.sql"),
    include_str!("migrations/009_box_office.sql"),
    include_str!("migrations/010_indexes_by_name_and_day.sql"),
    include_str!("migrations/011_box_office_days.sql"),
    include_str!("migrations/012_order_history_venue.sql"),
    include_str!("migrations/013_tickets.sql"),
    include_str!("migrations/014_box_office_attendance.sql"),
    include_str!("migrations/015_ticket_types_and_attendance.sql"),
    include_str!("migrations/016_order_history_ticket_types.sql"),
    include_str!("migrations/017_catalogue_shows_by_movie_day.sql"),
    include_str!("migrations/018_accessible_seating.sql"),
];

/// Every projector, in a fixed order (for rebuilds and verifications: nothing kept in
/// memory).
pub fn all() -> Vec<Arc<dyn Projector>> {
    with(seat_map::SeatMap::default(), waitlist::Waitlist::default())
}

/// Every projector of a server, in the same order: its seat-map projector keeping the
/// server's in-memory seat maps current and waking its live streams (`live`), its waiting
/// list waking the long-polls of entries (`waiting`).
pub fn serving(
    seat_maps: Arc<seat_map::SeatMapCache>,
    live: Arc<watchers::ShowWatchers>,
    waiting: Arc<watchers::ShowWatchers>,
) -> Vec<Arc<dyn Projector>> {
    with(
        seat_map::SeatMap::serving(seat_maps, live),
        waitlist::Waitlist::serving(waiting),
    )
}

fn with(seat_map: seat_map::SeatMap, waitlist: waitlist::Waitlist) -> Vec<Arc<dyn Projector>> {
    vec![
        Arc::new(seat_map),
        Arc::new(order_history::OrderHistory),
        Arc::new(sales::Sales),
        Arc::new(waitlist),
        Arc::new(catalogue::Catalogue),
        Arc::new(actions::Actions),
        Arc::new(box_office::BoxOffice),
        Arc::new(tickets::Tickets),
    ]
}
