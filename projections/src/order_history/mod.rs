//! Each customer's orders, newest first: one row per hold (what the customer set out to buy)
//! from the moment it is held, through payment, refunds and exchanges, each with a timeline
//! of what happened to it, provider payments included.
//!
//! It answers a customer's order list (paged by a cursor) and who owns an order.
//!
//! What it guarantees: the timeline is in log order (newest first), whichever stream its
//! steps came from (the show's or the payment's); a refund's seats leave the order's seats
//! and join its refunded seats, and its amount and fee add up, however the batch that
//! carried it was cut; a row's `updated_at` is the latest time of the events that changed
//! it, whichever order a batch applies its statements in (each statement keeps the later of
//! the row's time and its own), so a rebuild cut into other batches writes the same rows.

mod projector;
mod queries;
mod timeline;

pub use projector::OrderHistory;
pub use queries::*;
