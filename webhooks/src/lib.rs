//! Outbound webhooks: operators register an HTTPS endpoint for kinds of events (an order
//! paid, refunded or exchanged, a ticket checked in, a show cancelled, a waiting-list offer)
//! and Boxoffice POSTs each such event of the log to it.
//!
//! The log drives it, as it drives every read model:
//! - [`kinds`]: which events are sent, under which name, and the body sent for each;
//! - [`WebhookDeliveries`]: a projector whose read model is the list of deliveries to make,
//!   written in the transaction that moves its checkpoint, so no event is missed or made
//!   twice, whatever crashes;
//! - [`Deliverer`]: claims deliveries under a short lease, sends them with no transaction
//!   open, and records each attempt; a failed one is tried again with a growing delay. Each
//!   endpoint gets a show's events in their stream's order, each at least once, under an id
//!   it can deduplicate by;
//! - [`signature`]: every request is signed as Standard Webhooks describes (HMAC-SHA256 over
//!   the id, the timestamp and the body);
//! - [`endpoints`]: registering, listing and disabling endpoints, and their deliveries.
//!
//! It is not part of `projections rebuild`: rebuilding would send every event again.

pub mod deliverer;
pub mod endpoints;
pub mod kinds;
mod projector;
pub mod signature;

pub use deliverer::{Deliverer, DelivererConfig};
pub use projector::WebhookDeliveries;

/// The schema steps, applied by `boxoffice_eventstore::migrations` as the component
/// `webhooks`.
pub const MIGRATIONS: &[&str] = &[include_str!("sql/001_webhooks.sql")];
