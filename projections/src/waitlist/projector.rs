//! The waiting-list projector: one row per entry, changed by each of its few events (one
//! statement each) and versioned so that long-polling clients see every change.

use crate::projector::seat_labels;
use crate::watchers::ShowWatchers;
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::ShowEvent;
use boxoffice_eventstore::Position;
use std::sync::Arc;
use tokio_postgres::Transaction;
use uuid::Uuid;

const JOIN_SQL: &str = include_str!("sql/join.sql");
const OFFER_SQL: &str = include_str!("sql/offer.sql");
const END_SQL: &str = include_str!("sql/end.sql");

/// The waiting-list projector; a server's also wakes the long-polls of the shows each batch
/// changed.
#[derive(Default)]
pub struct Waitlist {
    watchers: Option<Arc<ShowWatchers>>,
}

impl Waitlist {
    /// A projector that, after each batch it commits, wakes the long-polls in `watchers` of
    /// the shows whose entries the batch changed.
    pub fn serving(watchers: Arc<ShowWatchers>) -> Self {
        Self {
            watchers: Some(watchers),
        }
    }
}

#[async_trait]
impl Projector for Waitlist {
    fn name(&self) -> &'static str {
        "waitlist"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["waitlist_entries"]
    }

    fn cares_about(&self, event: &Event) -> bool {
        matches!(
            event,
            Event::Show(
                ShowEvent::WaitlistJoined(_)
                    | ShowEvent::WaitlistOffered(_)
                    | ShowEvent::WaitlistLeft(_)
                    | ShowEvent::WaitlistClosed(_)
            )
        )
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        // Waiting-list events are few: one statement each.
        for applying in events {
            apply_one(tx, applying).await?;
        }
        Ok(())
    }

    fn committed(&self, events: &[Applying<'_>], _from: Position, _to: Position) {
        if let Some(watchers) = &self.watchers {
            let shows = events.iter().filter(|e| self.cares_about(e.event));
            watchers.wake(shows.map(|e| &e.stream_id));
        }
    }

    fn passed(&self, _from: Position, _to: Position) {
        if let Some(watchers) = &self.watchers {
            watchers.wake_all();
        }
    }
}

async fn apply_one(
    tx: &Transaction<'_>,
    applying: &Applying<'_>,
) -> Result<(), tokio_postgres::Error> {
    let (show_id, recorded) = (applying.stream_id, applying.recorded);
    let Event::Show(event) = applying.event else {
        return Ok(());
    };
    match event {
        ShowEvent::WaitlistJoined(e) => {
            tx.execute(
                JOIN_SQL,
                &[
                    &e.entry_id.0,
                    &show_id,
                    &e.customer_id.0,
                    &i32::try_from(e.count).unwrap_or(i32::MAX),
                    &e.category,
                    &i64::try_from(recorded.version).unwrap_or(i64::MAX),
                    &e.joined_at,
                    &e.waits_until,
                ],
            )
            .await?;
        }
        ShowEvent::WaitlistOffered(e) => {
            tx.execute(
                OFFER_SQL,
                &[
                    &e.entry_id.0,
                    &e.hold_id.0,
                    &seat_labels(&e.seats),
                    &e.total.amount_minor,
                    &e.total.currency.as_str(),
                    &e.expires_at,
                    &e.offered_at,
                ],
            )
            .await?;
        }
        ShowEvent::WaitlistLeft(e) => {
            end(tx, e.entry_id.0, "left", e.left_at).await?;
        }
        ShowEvent::WaitlistClosed(e) => {
            end(tx, e.entry_id.0, e.reason.as_str(), e.closed_at).await?;
        }
        ShowEvent::ShowScheduled(_)
        | ShowEvent::SeatsHeld(_)
        | ShowEvent::HoldReleased(_)
        | ShowEvent::HoldExpired(_)
        | ShowEvent::HoldConfirmed(_)
        | ShowEvent::OrderRefunded(_)
        | ShowEvent::PaymentRequested(_)
        | ShowEvent::PaymentRefused(_)
        | ShowEvent::SeatsExchanged(_)
        | ShowEvent::OrderTransferredOut(_)
        | ShowEvent::OrderTransferredIn(_)
        | ShowEvent::TransferReverted(_)
        | ShowEvent::ShowCancelled(_)
        | ShowEvent::TicketsCheckedIn(_)
        | ShowEvent::AccessibleSeatsReleased(_)
        | ShowEvent::OnSaleQueueSet(_)
        | ShowEvent::OnSaleQueueLifted(_) => {}
    }
    Ok(())
}

async fn end(
    tx: &Transaction<'_>,
    entry_id: Uuid,
    status: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(END_SQL, &[&entry_id, &status, &at]).await?;
    Ok(())
}
