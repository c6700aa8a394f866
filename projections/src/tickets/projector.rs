//! The tickets projector: a statement per sale, refund, exchange or check-in (a handful per
//! order over its life), each over all the seats the event names.

use crate::projector::seat_labels;
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::show::ticket_id;
use boxoffice_domain::{OrderId, SeatId, ShowEvent};
use tokio_postgres::Transaction;
use uuid::Uuid;

const SELL_SQL: &str = include_str!("sql/sell.sql");
const VOID_SQL: &str = include_str!("sql/void.sql");
const CHECK_IN_SQL: &str = include_str!("sql/check_in.sql");
const ORDER_SQL: &str = include_str!("sql/order.sql");

pub struct Tickets;

#[async_trait]
impl Projector for Tickets {
    fn name(&self) -> &'static str {
        "tickets"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["ticket_orders", "tickets"]
    }

    fn cares_about(&self, event: &Event) -> bool {
        matches!(
            event,
            Event::Show(
                ShowEvent::HoldConfirmed(_)
                    | ShowEvent::OrderRefunded(_)
                    | ShowEvent::SeatsExchanged(_)
                    | ShowEvent::OrderTransferredOut(_)
                    | ShowEvent::TransferReverted(_)
                    | ShowEvent::TicketsCheckedIn(_)
            )
        )
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        for applying in events {
            if let Event::Show(event) = &applying.event {
                apply_one(tx, applying.stream_id, event).await?;
            }
        }
        Ok(())
    }
}

async fn apply_one(
    tx: &Transaction<'_>,
    show_id: Uuid,
    event: &ShowEvent,
) -> Result<(), tokio_postgres::Error> {
    match event {
        ShowEvent::HoldConfirmed(e) => {
            tx.execute(
                ORDER_SQL,
                &[&e.order_id.0, &show_id, &e.customer_id.0, &e.pickup_code],
            )
            .await?;
            sell(tx, show_id, &e.order_id, &e.seats).await?;
        }
        ShowEvent::OrderRefunded(e) => void(tx, show_id, &e.seats).await?,
        ShowEvent::OrderTransferredOut(e) => void(tx, show_id, &e.seats).await?,
        ShowEvent::TransferReverted(e) => sell(tx, show_id, &e.order_id, &e.seats).await?,
        ShowEvent::SeatsExchanged(e) => {
            let from: Vec<SeatId> = e.moves.iter().map(|m| m.from.clone()).collect();
            let to: Vec<SeatId> = e.moves.iter().map(|m| m.to.clone()).collect();
            void(tx, show_id, &from).await?;
            sell(tx, show_id, &e.order_id, &to).await?;
        }
        ShowEvent::TicketsCheckedIn(e) => {
            let seats: Vec<&str> = e.tickets.iter().map(|t| t.seat_id.as_str()).collect();
            tx.execute(CHECK_IN_SQL, &[&show_id, &seats, &e.checked_in_at, &e.door])
                .await?;
        }
        ShowEvent::ShowScheduled(_)
        | ShowEvent::SeatsHeld(_)
        | ShowEvent::HoldReleased(_)
        | ShowEvent::HoldExpired(_)
        | ShowEvent::PaymentRequested(_)
        | ShowEvent::PaymentRefused(_)
        | ShowEvent::OrderTransferredIn(_)
        | ShowEvent::WaitlistJoined(_)
        | ShowEvent::WaitlistOffered(_)
        | ShowEvent::WaitlistLeft(_)
        | ShowEvent::WaitlistClosed(_)
        | ShowEvent::ShowCancelled(_) => {}
    }
    Ok(())
}

async fn sell(
    tx: &Transaction<'_>,
    show_id: Uuid,
    order_id: &OrderId,
    seats: &[SeatId],
) -> Result<(), tokio_postgres::Error> {
    let tickets: Vec<Uuid> = seats.iter().map(|s| ticket_id(order_id, s)).collect();
    tx.execute(
        SELL_SQL,
        &[&show_id, &order_id.0, &seat_labels(seats), &tickets],
    )
    .await?;
    Ok(())
}

async fn void(
    tx: &Transaction<'_>,
    show_id: Uuid,
    seats: &[SeatId],
) -> Result<(), tokio_postgres::Error> {
    tx.execute(VOID_SQL, &[&show_id, &seat_labels(seats)])
        .await?;
    Ok(())
}
