//! Sales facts per show for box-office reports: orders, tickets sold and refunded, gross and
//! refunds, in the show's currency. Net is gross minus refunds, computed when queried.
//!
//! It answers analysts' sales reports: per show, by start time, and totals per currency.
//!
//! What it guarantees: every figure is a sum of the log's facts (payments, refunds,
//! exchanges, transfers between shows), so a rebuild gives the same numbers.

mod projector;
mod queries;

pub use projector::Sales;
pub use queries::*;
