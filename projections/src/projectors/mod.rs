//! The projectors. Each owns its tables and knows how to fold one event into them.

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
    /// Folds one show event into the read model.
    async fn apply(
        &self,
        tx: &Transaction<'_>,
        show_id: Uuid,
        event: &ShowEvent,
        recorded: &RecordedEvent,
    ) -> Result<(), tokio_postgres::Error>;
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

fn seat_labels(seats: &[boxoffice_domain::SeatId]) -> Vec<&str> {
    seats.iter().map(|s| s.as_str()).collect()
}
