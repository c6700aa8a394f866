//! The projectors. Each owns its tables and knows how to fold a batch of events into them:
//! in memory first (the last status of each seat, the sum of each show's changes), then a
//! few set-based statements per batch, however many events it holds.

mod order_history;
mod sales;
mod seat_map;
mod waitlist;

pub use order_history::OrderHistory;
pub use sales::Sales;
pub use seat_map::SeatMap;
pub use waitlist::Waitlist;

use async_trait::async_trait;
use boxoffice_domain::ShowEvent;
use boxoffice_eventstore::RecordedEvent;
use tokio_postgres::Transaction;
use uuid::Uuid;

#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// The checkpoint's name; also how operators refer to it.
    fn name(&self) -> &'static str;
    /// Its tables, emptied by a rebuild.
    fn tables(&self) -> &'static [&'static str];
    /// Whether `event` changes its read model; a batch with none of these only moves the
    /// checkpoint (one statement instead of a transaction).
    fn cares_about(&self, event: &ShowEvent) -> bool;
    /// Folds show events, in log order, into the read model.
    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error>;
}

/// One event of a show's stream, read and ready to fold.
pub struct Applying<'a> {
    pub show_id: Uuid,
    pub event: ShowEvent,
    pub recorded: &'a RecordedEvent,
}

/// Every projector of the server, in a fixed order.
pub fn all() -> Vec<std::sync::Arc<dyn Projector>> {
    vec![
        std::sync::Arc::new(SeatMap),
        std::sync::Arc::new(OrderHistory),
        std::sync::Arc::new(Sales),
        std::sync::Arc::new(Waitlist),
    ]
}

/// The events that make or change sales: a show, a payment, a refund.
fn is_sale(event: &ShowEvent) -> bool {
    matches!(
        event,
        ShowEvent::ShowScheduled(_) | ShowEvent::HoldConfirmed(_) | ShowEvent::OrderRefunded(_)
    )
}

fn seat_labels(seats: &[boxoffice_domain::SeatId]) -> Vec<&str> {
    seats.iter().map(|s| s.as_str()).collect()
}

/// Seat labels as one JSON array, so that many rows' lists travel in one `jsonb[]`
/// parameter (SQL arrays cannot nest lists of different lengths); SQL unpacks each with
/// `ARRAY(SELECT jsonb_array_elements_text(..))`.
fn seat_list(seats: &[boxoffice_domain::SeatId]) -> serde_json::Value {
    serde_json::Value::from(seat_labels(seats))
}
