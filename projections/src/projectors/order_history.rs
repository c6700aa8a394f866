//! Each customer's orders, newest first, with what was refunded.

use super::{seat_list, Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::show::{HoldConfirmed, ShowScheduled};
use boxoffice_domain::{ShowEvent, Timestamp};
use std::collections::HashMap;
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

    fn cares_about(&self, event: &Event) -> bool {
        matches!(event, Event::Show(e) if super::is_sale(e))
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let mut shows: Vec<(Uuid, &ShowScheduled)> = Vec::new();
        let mut orders: Vec<(Uuid, &HoldConfirmed)> = Vec::new();
        // Per order, its refunds of this batch summed up: seats, amount, then status and time
        // of the last one.
        let mut refunds: HashMap<Uuid, (Vec<&str>, i64, &'static str, Timestamp)> = HashMap::new();
        for applying in events {
            let Event::Show(event) = &applying.event else {
                continue;
            };
            match event {
                ShowEvent::ShowScheduled(e) => shows.push((applying.stream_id, e)),
                ShowEvent::HoldConfirmed(e) => orders.push((applying.stream_id, e)),
                ShowEvent::OrderRefunded(e) => {
                    let status = if e.fully_refunded {
                        "refunded"
                    } else {
                        "partially_refunded"
                    };
                    let refund = refunds
                        .entry(e.order_id.0)
                        .or_insert_with(|| (Vec::new(), 0, status, e.refunded_at));
                    refund.0.extend(e.seats.iter().map(|s| s.as_str()));
                    refund.1 += e.amount.amount_minor;
                    refund.2 = status;
                    refund.3 = e.refunded_at;
                }
                ShowEvent::SeatsHeld(_)
                | ShowEvent::HoldReleased(_)
                | ShowEvent::HoldExpired(_)
                | ShowEvent::WaitlistJoined(_)
                | ShowEvent::WaitlistOffered(_)
                | ShowEvent::WaitlistLeft(_)
                | ShowEvent::WaitlistClosed(_)
                | ShowEvent::ShowCancelled(_) => {}
            }
        }
        if !shows.is_empty() {
            let ids: Vec<Uuid> = shows.iter().map(|(id, _)| *id).collect();
            let titles: Vec<&str> = shows.iter().map(|(_, e)| e.title.as_str()).collect();
            let starts: Vec<Timestamp> = shows.iter().map(|(_, e)| e.starts_at).collect();
            tx.execute(
                "INSERT INTO order_history_shows (show_id, title, starts_at)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])",
                &[&ids, &titles, &starts],
            )
            .await?;
        }
        if !orders.is_empty() {
            let ids: Vec<Uuid> = orders.iter().map(|(_, e)| e.order_id.0).collect();
            let show_ids: Vec<Uuid> = orders.iter().map(|(show, _)| *show).collect();
            let customers: Vec<&str> = orders
                .iter()
                .map(|(_, e)| e.customer_id.0.as_str())
                .collect();
            let seats: Vec<serde_json::Value> =
                orders.iter().map(|(_, e)| seat_list(&e.seats)).collect();
            let totals: Vec<i64> = orders.iter().map(|(_, e)| e.total.amount_minor).collect();
            let currencies: Vec<&str> = orders
                .iter()
                .map(|(_, e)| e.total.currency.as_str())
                .collect();
            let references: Vec<&str> = orders
                .iter()
                .map(|(_, e)| e.payment_reference.as_str())
                .collect();
            let at: Vec<Timestamp> = orders.iter().map(|(_, e)| e.confirmed_at).collect();
            tx.execute(
                "INSERT INTO order_history (order_id, show_id, customer_id, seats, status,
                    total_minor, currency, payment_reference, created_at, updated_at)
                 SELECT o.order_id, o.show_id, o.customer_id,
                    ARRAY(SELECT jsonb_array_elements_text(o.seats)), 'paid', o.total_minor,
                    o.currency, o.payment_reference, o.at, o.at
                 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::bigint[],
                    $6::text[], $7::text[], $8::timestamptz[])
                    AS o(order_id, show_id, customer_id, seats, total_minor, currency,
                        payment_reference, at)",
                &[
                    &ids,
                    &show_ids,
                    &customers,
                    &seats,
                    &totals,
                    &currencies,
                    &references,
                    &at,
                ],
            )
            .await?;
        }
        if !refunds.is_empty() {
            let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (order, (seats, amount, status, at)) in &refunds {
                columns.0.push(*order);
                columns.1.push(serde_json::Value::from(seats.clone()));
                columns.2.push(*amount);
                columns.3.push(*status);
                columns.4.push(*at);
            }
            tx.execute(
                "UPDATE order_history o SET
                    refunded_seats = o.refunded_seats
                        || ARRAY(SELECT jsonb_array_elements_text(d.seats)),
                    refunded_minor = o.refunded_minor + d.amount,
                    status = d.status,
                    updated_at = d.at
                 FROM unnest($1::uuid[], $2::jsonb[], $3::bigint[], $4::text[],
                    $5::timestamptz[]) AS d(order_id, seats, amount, status, at)
                 WHERE o.order_id = d.order_id",
                &[&columns.0, &columns.1, &columns.2, &columns.3, &columns.4],
            )
            .await?;
        }
        Ok(())
    }
}
