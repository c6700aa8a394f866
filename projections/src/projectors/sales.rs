//! Sales facts per show for box-office reports: tickets sold and refunded, gross, refunds.
//! Net is gross minus refunds, computed when queried.

use super::Projector;
use async_trait::async_trait;
use boxoffice_domain::ShowEvent;
use boxoffice_eventstore::RecordedEvent;
use tokio_postgres::Transaction;
use uuid::Uuid;

pub struct Sales;

#[async_trait]
impl Projector for Sales {
    fn name(&self) -> &'static str {
        "sales"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["sales_by_show"]
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
                let currency = e
                    .prices
                    .values()
                    .next()
                    .map_or(String::new(), |p| p.currency.to_string());
                tx.execute(
                    "INSERT INTO sales_by_show (show_id, movie_id, title, starts_at, currency)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[&show_id, &e.movie_id, &e.title, &e.starts_at, &currency],
                )
                .await?;
            }
            ShowEvent::HoldConfirmed(e) => {
                tx.execute(
                    "UPDATE sales_by_show SET orders = orders + 1,
                        tickets_sold = tickets_sold + $2, gross_minor = gross_minor + $3
                     WHERE show_id = $1",
                    &[&show_id, &(e.seats.len() as i32), &e.total.amount_minor],
                )
                .await?;
            }
            ShowEvent::OrderRefunded(e) => {
                tx.execute(
                    "UPDATE sales_by_show SET tickets_refunded = tickets_refunded + $2,
                        refunds_minor = refunds_minor + $3
                     WHERE show_id = $1",
                    &[&show_id, &(e.seats.len() as i32), &e.amount.amount_minor],
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
