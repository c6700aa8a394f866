//! The box office as analysts read it: facts per show and seat category (tickets sold,
//! refunded and exchanged, gross, discounts, refunds, fees, net revenue, capacity), the
//! conversion funnel per show, and sales per hour of sale time per show, movie, cinema and
//! city; each show placed by its movie, cinema, city and local start.
//!
//! What it guarantees: every figure is a sum of events, folded by the definitions in
//! docs/reports.md; money stays in integer minor units per currency and is moved exactly by
//! exchanges and transfers (summed over the shows involved, the change is what the customer
//! was charged less what was refunded); the read models are rebuilt from the log like every
//! other, and the reports page through them rather than truncating.

mod fold;
mod projector;
mod queries;

pub use projector::BoxOffice;
pub use queries::*;
