//! The order-history projector: a row per hold, made, paid and ended in bulk, changed by
//! refunds, exchanges and provider payments, and a timeline entry for every step.
//!
//! Rows are made and paid first (every later event of a row comes after its SeatsHeld,
//! PaymentRequested and HoldConfirmed), the rest in log order, unpaid holds ended last
//! (ending only rows still `held`, it commutes with everything else). Refunds are summed per
//! order and written once at the end of the batch, unless the batch also moves seats
//! between orders (an exchange or a transfer): then each is written where it stands in the
//! log, by the same statement. The hot path is thus a few statements per batch.

use super::timeline::{self, held_detail, LogPosition, Timeline};
use crate::projector::{seat_labels, seat_list};
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::show::OrderRefunded;
use boxoffice_domain::{SeatId, ShowEvent, Timestamp};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::Transaction;
use uuid::Uuid;

const INSERT_SHOWS_SQL: &str = include_str!("sql/insert_shows.sql");
const INSERT_HOLDS_SQL: &str = include_str!("sql/insert_holds.sql");
const INSERT_PAYMENTS_SQL: &str = include_str!("sql/insert_payments.sql");
const START_PAYMENTS_SQL: &str = include_str!("sql/start_payments.sql");
const PAY_HOLDS_SQL: &str = include_str!("sql/pay_holds.sql");
const PAYMENT_STATUS_SQL: &str = include_str!("sql/payment_status.sql");
const REFUND_ORDERS_SQL: &str = include_str!("sql/refund_orders.sql");
const EXCHANGE_SEATS_SQL: &str = include_str!("sql/exchange_seats.sql");
const TRANSFER_OUT_SQL: &str = include_str!("sql/transfer_out.sql");
const TRANSFER_IN_SQL: &str = include_str!("sql/transfer_in.sql");
const REVERT_TRANSFER_SQL: &str = include_str!("sql/revert_transfer.sql");
const REFUSE_PAYMENT_SQL: &str = include_str!("sql/refuse_payment.sql");
const SETTLE_SQL: &str = include_str!("sql/settle.sql");
const END_HOLDS_SQL: &str = include_str!("sql/end_holds.sql");

pub struct OrderHistory;

#[async_trait]
impl Projector for OrderHistory {
    fn name(&self) -> &'static str {
        "order_history"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "order_history_shows",
            "order_history",
            "order_history_payments",
            "order_history_settlements",
            "order_history_timeline",
        ]
    }

    fn cares_about(&self, event: &Event) -> bool {
        match event {
            Event::Show(e) => !matches!(
                e,
                ShowEvent::WaitlistJoined(_)
                    | ShowEvent::WaitlistOffered(_)
                    | ShowEvent::WaitlistLeft(_)
                    | ShowEvent::WaitlistClosed(_)
                    | ShowEvent::ShowCancelled(_)
            ),
            Event::Payment(e) => !matches!(e, PaymentEvent::PaymentStarted(_)),
            Event::Cities(_)
            | Event::Cinema(_)
            | Event::Movie(_)
            | Event::Promo(_)
            | Event::Access(_) => false,
        }
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        bulk_rows(tx, events).await?;
        let refunds_in_order = events.iter().any(|a| {
            matches!(
                a.event,
                Event::Show(
                    ShowEvent::SeatsExchanged(_)
                        | ShowEvent::OrderTransferredOut(_)
                        | ShowEvent::OrderTransferredIn(_)
                        | ShowEvent::TransferReverted(_)
                )
            )
        });
        let mut refunds = Refunds::default();
        let mut timeline = Timeline::default();
        for applying in events {
            match applying.event {
                Event::Show(ShowEvent::OrderRefunded(e)) => {
                    if e.payment_id.is_some() {
                        settle(tx, e.refund_id.0, OrderOf::Order(e.order_id.0)).await?;
                    }
                    refunds.add(e);
                    if refunds_in_order {
                        refunds.write(tx).await?;
                    }
                }
                Event::Show(event) => change_row(tx, event).await?,
                Event::Payment(event) => {
                    if let Some((status, at)) = payment_status(event) {
                        tx.execute(PAYMENT_STATUS_SQL, &[&applying.stream_id, &status, &at])
                            .await?;
                    }
                }
                Event::Cities(_)
                | Event::Cinema(_)
                | Event::Movie(_)
                | Event::Promo(_)
                | Event::Access(_) => {}
            }
            if let Some(step) = timeline::step(applying) {
                timeline.push(step, position(applying));
            }
        }
        refunds.write(tx).await?;
        end_holds(tx, events).await?;
        timeline.write(tx).await
    }
}

fn position(applying: &Applying<'_>) -> LogPosition {
    let (commit, prepare) = applying
        .recorded
        .position
        .to_checkpoint()
        .unwrap_or((i64::MAX, i64::MAX));
    LogPosition { commit, prepare }
}

/// A batch's new shows as the columns of `insert_shows.sql`.
#[derive(Default)]
struct ShowColumns<'a> {
    show_ids: Vec<Uuid>,
    titles: Vec<&'a str>,
    starts_at: Vec<Timestamp>,
    cinema_ids: Vec<Option<Uuid>>,
    hall_ids: Vec<Option<Uuid>>,
}

/// A batch's new holds as the columns of `insert_holds.sql`.
#[derive(Default)]
struct HoldColumns<'a> {
    hold_ids: Vec<Uuid>,
    show_ids: Vec<Uuid>,
    customers: Vec<&'a str>,
    seats: Vec<Value>,
    totals: Vec<i64>,
    discounts: Vec<i64>,
    codes: Vec<Option<&'a str>>,
    currencies: Vec<&'a str>,
    expires_at: Vec<Timestamp>,
    held_at: Vec<Timestamp>,
    details: Vec<Value>,
    commits: Vec<i64>,
    prepares: Vec<i64>,
}

/// A batch's payments started as the columns of `insert_payments.sql` and
/// `start_payments.sql`.
#[derive(Default)]
struct PaymentColumns {
    payment_ids: Vec<Uuid>,
    hold_ids: Vec<Uuid>,
    at: Vec<Timestamp>,
}

/// A batch's holds paid as the columns of `pay_holds.sql`.
#[derive(Default)]
struct PaidColumns<'a> {
    hold_ids: Vec<Uuid>,
    order_ids: Vec<Uuid>,
    totals: Vec<i64>,
    seats: Vec<Value>,
    references: Vec<&'a str>,
    payment_ids: Vec<Option<Uuid>>,
    at: Vec<Timestamp>,
    late: Vec<bool>,
    commits: Vec<i64>,
    prepares: Vec<i64>,
    ticket_types: Vec<Value>,
}

/// Seats' ticket types as one JSON object (`{"A2": "child"}`), as `ticket_types` keeps them.
fn types_of(ticket_types: &BTreeMap<SeatId, String>) -> Value {
    Value::Object(
        ticket_types
            .iter()
            .map(|(seat, ticket_type)| {
                (seat.as_str().to_owned(), Value::from(ticket_type.as_str()))
            })
            .collect(),
    )
}

/// Shows, new holds, payments started and holds paid, in bulk.
async fn bulk_rows(
    tx: &Transaction<'_>,
    events: &[Applying<'_>],
) -> Result<(), tokio_postgres::Error> {
    let mut shows = ShowColumns::default();
    let mut held = HoldColumns::default();
    let mut requested = PaymentColumns::default();
    let mut paid = PaidColumns::default();
    for applying in events {
        let Event::Show(event) = applying.event else {
            continue;
        };
        let at = position(applying);
        match event {
            ShowEvent::ShowScheduled(e) => {
                shows.show_ids.push(applying.stream_id);
                shows.titles.push(e.title.as_str());
                shows.starts_at.push(e.starts_at);
                shows
                    .cinema_ids
                    .push(e.venue.as_ref().map(|v| v.cinema_id.0));
                shows.hall_ids.push(e.venue.as_ref().map(|v| v.hall_id.0));
            }
            ShowEvent::SeatsHeld(e) => {
                held.hold_ids.push(e.hold_id.0);
                held.show_ids.push(applying.stream_id);
                held.customers.push(e.customer_id.0.as_str());
                held.seats.push(seat_list(&e.seats));
                held.totals.push(e.total.amount_minor);
                held.discounts
                    .push(e.discount.as_ref().map_or(0, |d| d.amount.amount_minor));
                held.codes
                    .push(e.discount.as_ref().map(|d| d.code.as_str()));
                held.currencies.push(e.total.currency.as_str());
                held.expires_at.push(e.expires_at);
                held.held_at.push(e.held_at);
                held.details.push(held_detail(e));
                held.commits.push(at.commit);
                held.prepares.push(at.prepare);
            }
            ShowEvent::PaymentRequested(e) => {
                requested.payment_ids.push(e.payment_id);
                requested.hold_ids.push(e.hold_id.0);
                requested.at.push(e.requested_at);
            }
            ShowEvent::HoldConfirmed(e) => {
                paid.hold_ids.push(e.hold_id.0);
                paid.order_ids.push(e.order_id.0);
                paid.totals.push(e.total.amount_minor);
                paid.seats.push(seat_list(&e.seats));
                paid.ticket_types.push(types_of(&e.ticket_types));
                paid.references.push(e.payment_reference.as_str());
                paid.payment_ids.push(e.payment_id);
                paid.at.push(e.confirmed_at);
                paid.late.push(e.after_expiry);
                paid.commits.push(at.commit);
                paid.prepares.push(at.prepare);
            }
            _ => {}
        }
    }
    if !shows.show_ids.is_empty() {
        tx.execute(
            INSERT_SHOWS_SQL,
            &[
                &shows.show_ids,
                &shows.titles,
                &shows.starts_at,
                &shows.cinema_ids,
                &shows.hall_ids,
            ],
        )
        .await?;
    }
    if !held.hold_ids.is_empty() {
        tx.execute(
            INSERT_HOLDS_SQL,
            &[
                &held.hold_ids,
                &held.show_ids,
                &held.customers,
                &held.seats,
                &held.totals,
                &held.discounts,
                &held.codes,
                &held.currencies,
                &held.expires_at,
                &held.held_at,
                &held.details,
                &held.commits,
                &held.prepares,
            ],
        )
        .await?;
    }
    if !requested.payment_ids.is_empty() {
        tx.execute(
            INSERT_PAYMENTS_SQL,
            &[&requested.payment_ids, &requested.hold_ids],
        )
        .await?;
        tx.execute(
            START_PAYMENTS_SQL,
            &[&requested.payment_ids, &requested.hold_ids, &requested.at],
        )
        .await?;
    }
    if !paid.hold_ids.is_empty() {
        tx.execute(
            PAY_HOLDS_SQL,
            &[
                &paid.hold_ids,
                &paid.order_ids,
                &paid.totals,
                &paid.seats,
                &paid.references,
                &paid.payment_ids,
                &paid.at,
                &paid.late,
                &paid.commits,
                &paid.prepares,
                &paid.ticket_types,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Refunds not written yet, summed per order.
#[derive(Default)]
struct Refunds<'a> {
    by_order: HashMap<Uuid, RefundSum<'a>>,
}

/// An order's refunds: seats, amounts and fees add up; the last refund's status and time
/// stand.
struct RefundSum<'a> {
    seats: Vec<&'a str>,
    amount: i64,
    fee: i64,
    status: &'static str,
    at: Timestamp,
}

/// Refunds as the columns of `refund_orders.sql`.
#[derive(Default)]
struct RefundColumns {
    order_ids: Vec<Uuid>,
    seats: Vec<Value>,
    amounts: Vec<i64>,
    fees: Vec<i64>,
    statuses: Vec<&'static str>,
    at: Vec<Timestamp>,
}

impl<'a> Refunds<'a> {
    fn add(&mut self, e: &'a OrderRefunded) {
        let sum = self
            .by_order
            .entry(e.order_id.0)
            .or_insert_with(|| RefundSum {
                seats: Vec::new(),
                amount: 0,
                fee: 0,
                status: "",
                at: e.refunded_at,
            });
        sum.seats.extend(e.seats.iter().map(|s| s.as_str()));
        sum.amount += e.amount.amount_minor;
        sum.fee += timeline::fee(e);
        sum.status = if e.fully_refunded {
            "refunded"
        } else {
            "partially_refunded"
        };
        sum.at = e.refunded_at;
    }

    /// Writes the refunds added so far, in one statement, and forgets them.
    async fn write(&mut self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if self.by_order.is_empty() {
            return Ok(());
        }
        let mut c = RefundColumns::default();
        for (order, sum) in self.by_order.drain() {
            c.order_ids.push(order);
            c.seats.push(Value::from(sum.seats));
            c.amounts.push(sum.amount);
            c.fees.push(sum.fee);
            c.statuses.push(sum.status);
            c.at.push(sum.at);
        }
        tx.execute(
            REFUND_ORDERS_SQL,
            &[
                &c.order_ids,
                &c.seats,
                &c.amounts,
                &c.fees,
                &c.statuses,
                &c.at,
            ],
        )
        .await?;
        Ok(())
    }
}

/// What a show event changes in its row, besides what is written in bulk (new rows,
/// payments started, holds paid and ended) and refunds (summed in [`Refunds`]).
async fn change_row(tx: &Transaction<'_>, event: &ShowEvent) -> Result<(), tokio_postgres::Error> {
    match event {
        ShowEvent::SeatsExchanged(e) => {
            settle(tx, e.exchange_id, OrderOf::Order(e.order_id.0)).await?;
            let from: Vec<&str> = e.moves.iter().map(|m| m.from.as_str()).collect();
            let to: Vec<&str> = e.moves.iter().map(|m| m.to.as_str()).collect();
            let (charge, refund) = (e.charge.amount_minor, e.refund.amount_minor);
            let types: BTreeMap<SeatId, String> = e
                .moves
                .iter()
                .filter_map(|m| Some((m.to.clone(), m.ticket_type.clone()?)))
                .collect();
            tx.execute(
                EXCHANGE_SEATS_SQL,
                &[
                    &e.order_id.0,
                    &from,
                    &to,
                    &charge,
                    &refund,
                    &e.exchanged_at,
                    &types_of(&types),
                ],
            )
            .await?;
        }
        ShowEvent::OrderTransferredOut(e) => {
            let seats = seat_labels(&e.seats);
            tx.execute(
                TRANSFER_OUT_SQL,
                &[&e.order_id.0, &seats, &e.transferred_at],
            )
            .await?;
        }
        ShowEvent::OrderTransferredIn(e) => {
            settle(tx, e.exchange_id, OrderOf::Hold(e.hold_id.0)).await?;
            let refund = e.refund.amount_minor;
            tx.execute(
                TRANSFER_IN_SQL,
                &[&e.order_id.0, &refund, &e.transferred_at],
            )
            .await?;
        }
        ShowEvent::TransferReverted(e) => {
            let seats = seat_labels(&e.seats);
            tx.execute(
                REVERT_TRANSFER_SQL,
                &[
                    &e.order_id.0,
                    &seats,
                    &e.reverted_at,
                    &types_of(&e.ticket_types),
                ],
            )
            .await?;
        }
        ShowEvent::PaymentRefused(e) => {
            settle(tx, e.refund_id.0, OrderOf::Hold(e.hold_id.0)).await?;
            let amount = e.amount.amount_minor;
            tx.execute(REFUSE_PAYMENT_SQL, &[&e.hold_id.0, &amount, &e.refused_at])
                .await?;
        }
        ShowEvent::ShowScheduled(_)
        | ShowEvent::SeatsHeld(_)
        | ShowEvent::PaymentRequested(_)
        | ShowEvent::HoldConfirmed(_)
        | ShowEvent::HoldReleased(_)
        | ShowEvent::HoldExpired(_)
        | ShowEvent::OrderRefunded(_)
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
    Ok(())
}

/// What the provider said of a payment, for its hold's row: `succeeded` or `failed`, and
/// when; None for what changes no payment's status.
fn payment_status(event: &PaymentEvent) -> Option<(&'static str, Timestamp)> {
    match event {
        PaymentEvent::PaymentSucceeded(e) => Some(("succeeded", e.succeeded_at)),
        PaymentEvent::PaymentFailed(e) => Some(("failed", e.failed_at)),
        PaymentEvent::PaymentStarted(_)
        | PaymentEvent::PaymentNotificationIgnored(_)
        | PaymentEvent::PaymentRefunded(_)
        | PaymentEvent::PaymentCharged(_) => None,
    }
}

enum OrderOf {
    Hold(Uuid),
    Order(Uuid),
}

/// Notes which hold a refund or charge belongs to.
async fn settle(
    tx: &Transaction<'_>,
    settlement_id: Uuid,
    of: OrderOf,
) -> Result<(), tokio_postgres::Error> {
    let (hold, order) = match of {
        OrderOf::Hold(id) => (Some(id), None),
        OrderOf::Order(id) => (None, Some(id)),
    };
    tx.execute(SETTLE_SQL, &[&settlement_id, &hold, &order])
        .await?;
    Ok(())
}

/// Holds that ended unpaid as the columns of `end_holds.sql`.
#[derive(Default)]
struct EndColumns {
    hold_ids: Vec<Uuid>,
    statuses: Vec<&'static str>,
    at: Vec<Timestamp>,
    commits: Vec<i64>,
    prepares: Vec<i64>,
}

/// Holds that ended unpaid, in bulk; a row paid meanwhile (a late payment) keeps its status.
async fn end_holds(
    tx: &Transaction<'_>,
    events: &[Applying<'_>],
) -> Result<(), tokio_postgres::Error> {
    let mut ended = EndColumns::default();
    for applying in events {
        let (hold, status, at) = match applying.event {
            Event::Show(ShowEvent::HoldReleased(e)) => (e.hold_id.0, "released", e.released_at),
            Event::Show(ShowEvent::HoldExpired(e)) => (e.hold_id.0, "expired", e.expired_at),
            _ => continue,
        };
        let position = position(applying);
        ended.hold_ids.push(hold);
        ended.statuses.push(status);
        ended.at.push(at);
        ended.commits.push(position.commit);
        ended.prepares.push(position.prepare);
    }
    if !ended.hold_ids.is_empty() {
        tx.execute(
            END_HOLDS_SQL,
            &[
                &ended.hold_ids,
                &ended.statuses,
                &ended.at,
                &ended.commits,
                &ended.prepares,
            ],
        )
        .await?;
    }
    Ok(())
}
