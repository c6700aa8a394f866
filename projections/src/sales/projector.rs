//! Sales facts per show for box-office reports: tickets sold and refunded, gross, refunds.
//! Net is gross minus refunds, computed when queried.

use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::show::ShowScheduled;
use boxoffice_domain::{ShowEvent, Timestamp};
use std::collections::HashMap;
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

    fn cares_about(&self, event: &Event) -> bool {
        matches!(event, Event::Show(e) if is_sale(e))
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let mut scheduled: Vec<(Uuid, &ShowScheduled)> = Vec::new();
        let mut changes: HashMap<Uuid, Change> = HashMap::new();
        for applying in events {
            let Event::Show(event) = &applying.event else {
                continue;
            };
            match event {
                ShowEvent::ShowScheduled(e) => scheduled.push((applying.stream_id, e)),
                ShowEvent::HoldConfirmed(e) => {
                    let change = changes.entry(applying.stream_id).or_default();
                    change.orders += 1;
                    change.tickets_sold += e.seats.len() as i32;
                    change.gross_minor += e.total.amount_minor;
                }
                ShowEvent::OrderRefunded(e) => {
                    let change = changes.entry(applying.stream_id).or_default();
                    change.tickets_refunded += e.seats.len() as i32;
                    change.refunds_minor += e.amount.amount_minor;
                }
                ShowEvent::SeatsExchanged(e) => {
                    let change = changes.entry(applying.stream_id).or_default();
                    change.gross_minor += e.charge.amount_minor;
                    change.refunds_minor += e.refund.amount_minor;
                }
                // Seats that left for another show count as refunded here (the new order
                // there is a sale of its own); seats that came back, as sold again.
                ShowEvent::OrderTransferredOut(e) => {
                    let change = changes.entry(applying.stream_id).or_default();
                    change.tickets_refunded += e.seats.len() as i32;
                    change.refunds_minor += e.credit.amount_minor;
                }
                ShowEvent::TransferReverted(e) => {
                    let change = changes.entry(applying.stream_id).or_default();
                    change.tickets_refunded -= e.seats.len() as i32;
                    change.refunds_minor -= e.credit.amount_minor;
                }
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
                | ShowEvent::ShowCancelled(_) => {}
            }
        }
        if !scheduled.is_empty() {
            let ids: Vec<Uuid> = scheduled.iter().map(|(id, _)| *id).collect();
            let movies: Vec<Uuid> = scheduled.iter().map(|(_, e)| e.movie_id).collect();
            let titles: Vec<&str> = scheduled.iter().map(|(_, e)| e.title.as_str()).collect();
            let starts: Vec<Timestamp> = scheduled.iter().map(|(_, e)| e.starts_at).collect();
            let currencies: Vec<String> = scheduled
                .iter()
                .map(|(_, e)| {
                    e.prices
                        .values()
                        .next()
                        .map_or(String::new(), |p| p.currency.to_string())
                })
                .collect();
            tx.execute(
                "INSERT INTO sales_by_show (show_id, movie_id, title, starts_at, currency)
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[],
                    $5::text[])",
                &[&ids, &movies, &titles, &starts, &currencies],
            )
            .await?;
        }
        if !changes.is_empty() {
            let mut c = (
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            );
            for (show, change) in &changes {
                c.0.push(*show);
                c.1.push(change.orders);
                c.2.push(change.tickets_sold);
                c.3.push(change.gross_minor);
                c.4.push(change.tickets_refunded);
                c.5.push(change.refunds_minor);
            }
            tx.execute(
                "UPDATE sales_by_show s SET orders = s.orders + d.orders,
                    tickets_sold = s.tickets_sold + d.tickets_sold,
                    gross_minor = s.gross_minor + d.gross_minor,
                    tickets_refunded = s.tickets_refunded + d.tickets_refunded,
                    refunds_minor = s.refunds_minor + d.refunds_minor
                 FROM unnest($1::uuid[], $2::int[], $3::int[], $4::bigint[], $5::int[],
                    $6::bigint[])
                    AS d(show_id, orders, tickets_sold, gross_minor, tickets_refunded,
                        refunds_minor)
                 WHERE s.show_id = d.show_id",
                &[&c.0, &c.1, &c.2, &c.3, &c.4, &c.5],
            )
            .await?;
        }
        Ok(())
    }
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
