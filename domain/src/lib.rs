//! The pure cinema-ticketing model.
//!
//! Everything a show's seats can go through is decided here, by the show aggregate in the
//! decider shape: `decide(&Show, &ShowCommand, now) -> Result<Vec<ShowEvent>, DomainError>` and
//! `Show::evolve(event)`. The catalogue, payments and promo codes are aggregates of the same
//! shape, and every one of them implements [`Aggregate`] with [`StoredEvent`]s, so any stream
//! of the log folds the same way. This crate must never do IO, spawn tasks or read the clock:
//! time is a parameter, so the same commands at the same instants always produce the same
//! events, and replaying a stream always rebuilds the same state.

pub mod access;
mod aggregate;
pub mod catalogue;
pub mod error;
pub mod ids;
pub mod money;
pub mod payment;
pub mod promo;
pub mod show;
pub mod stream;
#[cfg(test)]
mod testkit;

pub use aggregate::{Aggregate, StoredEvent, UnknownEvent};
pub use error::{DomainError, FieldError, Unavailability};
pub use ids::{
    CinemaId, CityId, CustomerId, HallId, HoldId, MovieId, OrderId, RefundId, SeatId, ShowId,
    WaitlistEntryId,
};
pub use money::{Currency, Money};
pub use show::{
    decide, Hold, HoldStatus, HoldsEnded, Order, PaymentRefusal, Requester, SeatCounts, SeatKind,
    SeatSpec, SeatStatus, Show, ShowCommand, ShowEvent, ShowInfo, Venue, WaitlistCloseReason,
    WaitlistEntry, WaitlistStatus, MAX_SEATS_PER_HOLD,
};
pub use stream::StreamName;

/// Instants in the model: UTC, serialised as RFC 3339.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
