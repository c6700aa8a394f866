//! Each customer's orders, newest first, with what was refunded.

use super::{seat_labels, Projector};
use async_trait::async_trait;
use boxoffice_domain::ShowEvent;
use boxoffice_eventstore::RecordedEvent;
use tokio_postgres::Transaction;
use uuid::Uuid;

pub struct OrderHistory;

#[async_trait]
impl Projector for OrderHistory {
    fn name(&self) -> &'static str {
        "order_history"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["order_history_shows", "order_history"]
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        show_id: Uuid,
        event: &ShowEvent,
        _recorded: &RecordedEvent,
    ) -> Result<(), tokio_postgres::Error> {
        match event {
            ShowEvent::ShowScheduled(e) => {
                tx.execute(
                    "INSERT INTO order_history_shows (show_id, title, starts_at) VALUES ($1, $2, $3)",
                    &[&show_id, &e.title, &e.starts_at],
                )
                .await?;
            }
            ShowEvent::HoldConfirmed(e) => {
                tx.execute(
                    "INSERT INTO order_history (order_id, show_id, customer_id, seats, status,
                        total_minor, currency, payment_reference, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, 'paid', $5, $6, $7, $8, $8)",
                    &[
                        &e.order_id.0,
                        &show_id,
                        &e.customer_id.0,
                        &seat_labels(&e.seats),
                        &e.total.amount_minor,
                        &e.total.currency.as_str(),
                        &e.payment_reference,
                        &e.confirmed_at,
                    ],
                )
                .await?;
            }
            ShowEvent::OrderRefunded(e) => {
                let status = if e.fully_refunded {
                    "refunded"
                } else {
                    "partially_refunded"
                };
                tx.execute(
                    "UPDATE order_history SET
                        refunded_seats = refunded_seats || $2::text[],
                        refunded_minor = refunded_minor + $3,
                        status = $4,
                        updated_at = $5
                     WHERE order_id = $1",
                    &[
                        &e.order_id.0,
                        &seat_labels(&e.seats),
                        &e.amount.amount_minor,
                        &status,
                        &e.refunded_at,
                    ],
                )
                .await?;
            }
            ShowEvent::SeatsHeld(_)
            | ShowEvent::HoldReleased(_)
            | ShowEvent::HoldExpired(_)
            | ShowEvent::WaitlistJoined(_)
            | ShowEvent::WaitlistOffered(_)
            | ShowEvent::WaitlistLeft(_)
            | ShowEvent::WaitlistClosed(_) => {}
        }
        Ok(())
    }
}
