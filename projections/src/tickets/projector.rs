//! The tickets projector: a batch's sales, refunds, exchanges, transfers and check-ins
//! folded per seat in memory, in log order, then written with two statements (the seats,
//! and the new orders with their pickup codes), however many events the batch holds.

use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::show::ticket_id;
use boxoffice_domain::{OrderId, SeatId, ShowEvent, Timestamp};
use std::collections::HashMap;
use tokio_postgres::Transaction;
use uuid::Uuid;

const APPLY_SQL: &str = include_str!("sql/apply.sql");
const ORDERS_SQL: &str = include_str!("sql/orders.sql");

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
        let mut fold = Fold::default();
        for applying in events {
            if let Event::Show(event) = applying.event {
                fold.event(applying.stream_id, event);
            }
        }
        fold.write(tx).await
    }
}

/// What a batch did to one seat.
#[derive(Default)]
struct SeatChange {
    sold: i32,
    /// Its order, ticket and ticket type (None: adult) at the end of the batch (None: void),
    /// if the batch changed them.
    owner: Option<Option<(Uuid, Uuid, Option<String>)>>,
    /// When and where it was let in at the end of the batch, if the batch changed that.
    entry: Option<Option<(Timestamp, String)>>,
}

#[derive(Default)]
struct Fold {
    /// In first-touched order, so the statement's rows come in log order.
    seats: Vec<(Uuid, String)>,
    changes: HashMap<(Uuid, String), SeatChange>,
    orders: Vec<(Uuid, Uuid, String, Option<String>)>,
}

impl Fold {
    fn seat(&mut self, show: Uuid, seat: &SeatId) -> &mut SeatChange {
        let key = (show, seat.as_str().to_owned());
        if !self.changes.contains_key(&key) {
            self.seats.push(key.clone());
        }
        self.changes.entry(key).or_default()
    }

    /// Issues tickets to `seats`, each of the ticket type `type_of` says (None: adult).
    fn sell<'a>(
        &mut self,
        show: Uuid,
        order: &OrderId,
        seats: impl IntoIterator<Item = &'a SeatId>,
        type_of: impl Fn(&SeatId) -> Option<String>,
    ) {
        for seat in seats {
            let ticket_type = type_of(seat);
            let change = self.seat(show, seat);
            change.sold += 1;
            change.owner = Some(Some((order.0, ticket_id(order, seat), ticket_type)));
            change.entry = Some(None);
        }
    }

    fn void(&mut self, show: Uuid, seats: impl IntoIterator<Item = SeatId>) {
        for seat in seats {
            let change = self.seat(show, &seat);
            change.owner = Some(None);
            change.entry = Some(None);
        }
    }

    fn event(&mut self, show: Uuid, event: &ShowEvent) {
        match event {
            ShowEvent::HoldConfirmed(e) => {
                self.orders.push((
                    e.order_id.0,
                    show,
                    e.customer_id.0.clone(),
                    e.pickup_code.clone(),
                ));
                self.sell(show, &e.order_id, &e.seats, |s| {
                    e.ticket_types.get(s).cloned()
                });
            }
            ShowEvent::OrderRefunded(e) => self.void(show, e.seats.iter().cloned()),
            ShowEvent::OrderTransferredOut(e) => self.void(show, e.seats.iter().cloned()),
            ShowEvent::TransferReverted(e) => {
                self.sell(show, &e.order_id, &e.seats, |s| {
                    e.ticket_types.get(s).cloned()
                });
            }
            ShowEvent::SeatsExchanged(e) => {
                self.void(show, e.moves.iter().map(|m| m.from.clone()));
                let types: HashMap<&SeatId, &String> = e
                    .moves
                    .iter()
                    .filter_map(|m| Some((&m.to, m.ticket_type.as_ref()?)))
                    .collect();
                self.sell(show, &e.order_id, e.moves.iter().map(|m| &m.to), |s| {
                    types.get(s).map(|t| (*t).clone())
                });
            }
            ShowEvent::TicketsCheckedIn(e) => {
                for admitted in &e.tickets {
                    self.seat(show, &admitted.seat_id).entry =
                        Some(Some((e.checked_in_at, e.door.clone())));
                }
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
            | ShowEvent::ShowCancelled(_)
            | ShowEvent::AccessibleSeatsReleased(_)
            | ShowEvent::OnSaleQueueSet(_)
            | ShowEvent::OnSaleQueueLifted(_) => {}
        }
    }

    async fn write(mut self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if !self.orders.is_empty() {
            let ids: Vec<Uuid> = self.orders.iter().map(|o| o.0).collect();
            let shows: Vec<Uuid> = self.orders.iter().map(|o| o.1).collect();
            let customers: Vec<&str> = self.orders.iter().map(|o| o.2.as_str()).collect();
            let codes: Vec<Option<&str>> = self.orders.iter().map(|o| o.3.as_deref()).collect();
            tx.execute(ORDERS_SQL, &[&ids, &shows, &customers, &codes])
                .await?;
        }
        if self.seats.is_empty() {
            return Ok(());
        }
        let mut c = SeatColumns::default();
        for key in &self.seats {
            let Some(change) = self.changes.remove(key) else {
                continue;
            };
            c.shows.push(key.0);
            c.seats.push(key.1.clone());
            c.sold.push(change.sold);
            c.owner_changed.push(change.owner.is_some());
            let owner = change.owner.flatten();
            c.orders.push(owner.as_ref().map(|(order, _, _)| *order));
            c.tickets.push(owner.as_ref().map(|(_, ticket, _)| *ticket));
            c.types
                .push(owner.and_then(|(_, _, ticket_type)| ticket_type));
            c.entry_changed.push(change.entry.is_some());
            let (at, door) = change.entry.flatten().unzip();
            c.at.push(at);
            c.doors.push(door);
        }
        tx.execute(
            APPLY_SQL,
            &[
                &c.shows,
                &c.seats,
                &c.sold,
                &c.owner_changed,
                &c.orders,
                &c.tickets,
                &c.entry_changed,
                &c.at,
                &c.doors,
                &c.types,
            ],
        )
        .await?;
        Ok(())
    }
}

/// A batch's seats as the columns of `apply.sql`.
#[derive(Default)]
struct SeatColumns {
    shows: Vec<Uuid>,
    seats: Vec<String>,
    sold: Vec<i32>,
    owner_changed: Vec<bool>,
    orders: Vec<Option<Uuid>>,
    tickets: Vec<Option<Uuid>>,
    entry_changed: Vec<bool>,
    at: Vec<Option<Timestamp>>,
    doors: Vec<Option<String>>,
    types: Vec<Option<String>>,
}
