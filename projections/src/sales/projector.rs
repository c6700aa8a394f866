//! The sales projector: a batch's payments, refunds, exchanges and transfers summed per
//! show in memory, then added to each show's figures in one statement.

use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::show::ShowScheduled;
use boxoffice_domain::{ShowEvent, Timestamp};
use std::collections::HashMap;
use tokio_postgres::Transaction;
use uuid::Uuid;

const INSERT_SHOWS_SQL: &str = include_str!("sql/insert_shows.sql");
const ADD_SALES_SQL: &str = include_str!("sql/add_sales.sql");

pub struct Sales;

#[async_trait]
impl Projector for Sales {
    fn name(&self) -> &'static str {
        "sales"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["sales_by_show"]
    }

    fn cares_about(&self, event: &Event) -> bool {
        matches!(event, Event::Show(e) if is_sale(e))
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let mut scheduled = ShowColumns::default();
        let mut changes: HashMap<Uuid, Change> = HashMap::new();
        for applying in events {
            let Event::Show(event) = applying.event else {
                continue;
            };
            let show_id = applying.stream_id;
            match event {
                ShowEvent::ShowScheduled(e) => scheduled.push(show_id, e),
                ShowEvent::HoldConfirmed(e) => {
                    let change = changes.entry(show_id).or_default();
                    change.orders += 1;
                    change.sold(e.seats.len() as i32, e.total.amount_minor);
                }
                ShowEvent::OrderRefunded(e) => changes
                    .entry(show_id)
                    .or_default()
                    .refunded(e.seats.len() as i32, e.amount.amount_minor),
                ShowEvent::SeatsExchanged(e) => {
                    let change = changes.entry(show_id).or_default();
                    change.sold(0, e.charge.amount_minor);
                    change.refunded(0, e.refund.amount_minor);
                }
                // Seats that left for another show count as refunded here (the new order
                // there is a sale of its own); seats that came back, as sold again.
                ShowEvent::OrderTransferredOut(e) => changes
                    .entry(show_id)
                    .or_default()
                    .refunded(e.seats.len() as i32, e.credit.amount_minor),
                ShowEvent::TransferReverted(e) => changes
                    .entry(show_id)
                    .or_default()
                    .refunded(-(e.seats.len() as i32), -e.credit.amount_minor),
                ShowEvent::SeatsHeld(_)
                | ShowEvent::OrderTransferredIn(_)
                | ShowEvent::PaymentRequested(_)
                | ShowEvent::PaymentRefused(_)
                | ShowEvent::HoldReleased(_)
                | ShowEvent::HoldExpired(_)
                | ShowEvent::WaitlistJoined(_)
                | ShowEvent::WaitlistOffered(_)
                | ShowEvent::WaitlistLeft(_)
                | ShowEvent::WaitlistClosed(_)
                | ShowEvent::ShowCancelled(_)
                | ShowEvent::TicketsCheckedIn(_)
                | ShowEvent::AccessibleSeatsReleased(_)
                | ShowEvent::OnSaleQueueSet(_)
                | ShowEvent::OnSaleQueueLifted(_) => {}
            }
        }
        if !scheduled.show_ids.is_empty() {
            tx.execute(
                INSERT_SHOWS_SQL,
                &[
                    &scheduled.show_ids,
                    &scheduled.movie_ids,
                    &scheduled.titles,
                    &scheduled.starts_at,
                    &scheduled.currencies,
                ],
            )
            .await?;
        }
        if !changes.is_empty() {
            let mut c = ChangeColumns::default();
            for (show, change) in &changes {
                c.show_ids.push(*show);
                c.orders.push(change.orders);
                c.tickets_sold.push(change.tickets_sold);
                c.gross_minor.push(change.gross_minor);
                c.tickets_refunded.push(change.tickets_refunded);
                c.refunds_minor.push(change.refunds_minor);
            }
            tx.execute(
                ADD_SALES_SQL,
                &[
                    &c.show_ids,
                    &c.orders,
                    &c.tickets_sold,
                    &c.gross_minor,
                    &c.tickets_refunded,
                    &c.refunds_minor,
                ],
            )
            .await?;
        }
        Ok(())
    }
}

/// A batch's new shows as the columns of `insert_shows.sql`.
#[derive(Default)]
struct ShowColumns<'a> {
    show_ids: Vec<Uuid>,
    movie_ids: Vec<Uuid>,
    titles: Vec<&'a str>,
    starts_at: Vec<Timestamp>,
    currencies: Vec<String>,
}

impl<'a> ShowColumns<'a> {
    fn push(&mut self, show_id: Uuid, e: &'a ShowScheduled) {
        self.show_ids.push(show_id);
        self.movie_ids.push(e.movie_id);
        self.titles.push(e.title.as_str());
        self.starts_at.push(e.starts_at);
        // A show is priced in one currency: any price's.
        let currency = e.prices.values().next();
        self.currencies
            .push(currency.map_or(String::new(), |p| p.currency.to_string()));
    }
}

/// The batch's changes as the columns of `add_sales.sql`.
#[derive(Default)]
struct ChangeColumns {
    show_ids: Vec<Uuid>,
    orders: Vec<i32>,
    tickets_sold: Vec<i32>,
    gross_minor: Vec<i64>,
    tickets_refunded: Vec<i32>,
    refunds_minor: Vec<i64>,
}

/// One show's sales changes within a batch.
#[derive(Default)]
struct Change {
    orders: i32,
    tickets_sold: i32,
    gross_minor: i64,
    tickets_refunded: i32,
    refunds_minor: i64,
}

impl Change {
    fn sold(&mut self, tickets: i32, gross_minor: i64) {
        self.tickets_sold += tickets;
        self.gross_minor += gross_minor;
    }

    fn refunded(&mut self, tickets: i32, refunds_minor: i64) {
        self.tickets_refunded += tickets;
        self.refunds_minor += refunds_minor;
    }
}

/// The events that make or change sales: a show, a payment, a refund, an exchange.
fn is_sale(event: &ShowEvent) -> bool {
    matches!(
        event,
        ShowEvent::ShowScheduled(_)
            | ShowEvent::HoldConfirmed(_)
            | ShowEvent::OrderRefunded(_)
            | ShowEvent::SeatsExchanged(_)
            | ShowEvent::OrderTransferredOut(_)
            | ShowEvent::TransferReverted(_)
    )
}
