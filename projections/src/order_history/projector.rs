//! Each customer's orders, newest first: one row per hold (what the customer set out to
//! buy) from the moment it is held, through payment, refunds and exchanges, with a
//! timeline of everything that happened to it, provider payments included.

use crate::projector::seat_list;
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::ShowEvent;
use boxoffice_domain::Timestamp;
use serde_json::{json, Value};
use tokio_postgres::Transaction;
use uuid::Uuid;

pub struct OrderHistory;

/// Where an event's timeline entry goes.
enum Row {
    Hold(Uuid),
    Order(Uuid),
    /// A payment's event: the hold of the refund or charge it names, else the payment's.
    Payment {
        payment_id: Uuid,
        settlement: Option<Uuid>,
    },
}

struct Entry {
    row: Row,
    commit: i64,
    prepare: i64,
    at: Timestamp,
    kind: &'static str,
    detail: Value,
}

fn money(minor: i64) -> Value {
    json!(minor)
}

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
            Event::Cities(_) | Event::Cinema(_) | Event::Movie(_) => false,
        }
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        // Rows are made and paid in bulk first (every later event of a row comes after its
        // SeatsHeld, PaymentRequested and HoldConfirmed), the rest one by one in log order,
        // unpaid holds ended in bulk last (ending only rows still `held`, it commutes with
        // everything else). The hot path is thus a few statements per batch.
        bulk_rows(tx, events).await?;
        // Refunds add up per order, unless an exchange in the batch moves the same seats.
        let refunds_in_bulk = !events.iter().any(|a| {
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
        let mut timeline = Vec::new();
        for applying in events {
            let (commit, prepare) = position(applying);
            let entry = |row: Row, at: Timestamp, kind: &'static str, detail: Value| Entry {
                row,
                commit,
                prepare,
                at,
                kind,
                detail,
            };
            match &applying.event {
                Event::Show(event) => {
                    if let Some(e) = apply_show(tx, event, refunds_in_bulk).await? {
                        timeline.push(entry(e.0, e.1, e.2, e.3));
                    }
                }
                Event::Payment(event) => {
                    let payment_id = applying.stream_id;
                    let settlement = match event {
                        PaymentEvent::PaymentRefunded(e) => Some(e.refund_id),
                        PaymentEvent::PaymentCharged(e) => Some(e.charge_id),
                        _ => None,
                    };
                    let (at, kind, detail, status) = match event {
                        PaymentEvent::PaymentStarted(_) => continue,
                        PaymentEvent::PaymentSucceeded(e) => (
                            e.succeeded_at,
                            "payment_succeeded",
                            json!({"payment_id": payment_id, "amount_minor": e.amount.amount_minor}),
                            Some("succeeded"),
                        ),
                        PaymentEvent::PaymentFailed(e) => (
                            e.failed_at,
                            "payment_failed",
                            json!({"payment_id": payment_id, "reason": e.reason}),
                            Some("failed"),
                        ),
                        PaymentEvent::PaymentNotificationIgnored(e) => (
                            e.received_at,
                            "payment_notification_ignored",
                            json!({"payment_id": payment_id, "said": e.said.as_str(), "reason": e.reason}),
                            None,
                        ),
                        PaymentEvent::PaymentRefunded(e) => (
                            e.refunded_at,
                            "refund_paid_out",
                            json!({"payment_id": payment_id, "refund_id": e.refund_id,
                                "amount_minor": e.amount.amount_minor, "reason": e.reason}),
                            None,
                        ),
                        PaymentEvent::PaymentCharged(e) => (
                            e.charged_at,
                            "charge_collected",
                            json!({"payment_id": payment_id, "charge_id": e.charge_id,
                                "amount_minor": e.amount.amount_minor}),
                            None,
                        ),
                    };
                    if let Some(status) = status {
                        tx.execute(
                            "UPDATE order_history o SET payment_status = $2, updated_at = $3
                             FROM order_history_payments p
                             WHERE p.payment_id = $1 AND o.hold_id = p.hold_id
                                AND o.payment_id = $1",
                            &[&payment_id, &status, &at],
                        )
                        .await?;
                    }
                    timeline.push(entry(
                        Row::Payment {
                            payment_id,
                            settlement,
                        },
                        at,
                        kind,
                        detail,
                    ));
                }
                Event::Cities(_) | Event::Cinema(_) | Event::Movie(_) => {}
            }
        }
        if refunds_in_bulk {
            bulk_refunds(tx, events).await?;
        }
        end_holds(tx, events).await?;
        write_timeline(tx, &timeline).await
    }
}

/// An event's log position as two numbers (as checkpoints store it).
fn position(applying: &Applying<'_>) -> (i64, i64) {
    applying
        .recorded
        .position
        .to_checkpoint()
        .unwrap_or((i64::MAX, i64::MAX))
}

/// What the timeline's `held` step says.
fn held_detail(e: &boxoffice_domain::show::SeatsHeld) -> Value {
    let seats: Vec<&str> = e.seats.iter().map(|s| s.as_str()).collect();
    let mut detail = json!({"seats": seats, "total_minor": e.total.amount_minor,
        "expires_at": e.expires_at});
    if let Some(d) = &e.discount {
        detail["promo_code"] = json!(d.code.as_str());
        detail["discount_minor"] = money(d.amount.amount_minor);
    }
    detail
}

/// Shows, new holds, payments started and holds paid, in bulk.
async fn bulk_rows(
    tx: &Transaction<'_>,
    events: &[Applying<'_>],
) -> Result<(), tokio_postgres::Error> {
    let show_events = || {
        events.iter().filter_map(|a| match &a.event {
            Event::Show(e) => Some((a.stream_id, e, position(a))),
            _ => None,
        })
    };
    let labels = |seats: &[boxoffice_domain::SeatId]| seat_list(seats);
    let mut shows = (Vec::new(), Vec::new(), Vec::new());
    let mut held = Vec::new();
    let mut requested = (Vec::new(), Vec::new(), Vec::new());
    let mut paid = Vec::new();
    for (show_id, event, at) in show_events() {
        match event {
            ShowEvent::ShowScheduled(e) => {
                shows.0.push(show_id);
                shows.1.push(e.title.as_str());
                shows.2.push(e.starts_at);
            }
            ShowEvent::SeatsHeld(e) => held.push((show_id, e, at)),
            ShowEvent::PaymentRequested(e) => {
                requested.0.push(e.payment_id);
                requested.1.push(e.hold_id.0);
                requested.2.push(e.requested_at);
            }
            ShowEvent::HoldConfirmed(e) => paid.push((e, at)),
            _ => {}
        }
    }
    if !shows.0.is_empty() {
        tx.execute(
            "INSERT INTO order_history_shows (show_id, title, starts_at)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])",
            &[&shows.0, &shows.1, &shows.2],
        )
        .await?;
    }
    if !held.is_empty() {
        let holds: Vec<Uuid> = held.iter().map(|(_, e, _)| e.hold_id.0).collect();
        let show_ids: Vec<Uuid> = held.iter().map(|(s, _, _)| *s).collect();
        let customers: Vec<&str> = held
            .iter()
            .map(|(_, e, _)| e.customer_id.0.as_str())
            .collect();
        let seats: Vec<Value> = held.iter().map(|(_, e, _)| labels(&e.seats)).collect();
        let totals: Vec<i64> = held.iter().map(|(_, e, _)| e.total.amount_minor).collect();
        let discounts: Vec<i64> = held
            .iter()
            .map(|(_, e, _)| e.discount.as_ref().map_or(0, |d| d.amount.amount_minor))
            .collect();
        let codes: Vec<Option<&str>> = held
            .iter()
            .map(|(_, e, _)| e.discount.as_ref().map(|d| d.code.as_str()))
            .collect();
        let currencies: Vec<&str> = held
            .iter()
            .map(|(_, e, _)| e.total.currency.as_str())
            .collect();
        let expires: Vec<Timestamp> = held.iter().map(|(_, e, _)| e.expires_at).collect();
        let at: Vec<Timestamp> = held.iter().map(|(_, e, _)| e.held_at).collect();
        let details: Vec<Value> = held.iter().map(|(_, e, _)| held_detail(e)).collect();
        let commits: Vec<i64> = held.iter().map(|(_, _, p)| p.0).collect();
        let prepares: Vec<i64> = held.iter().map(|(_, _, p)| p.1).collect();
        tx.execute(
            "INSERT INTO order_history (hold_id, show_id, customer_id, seats, status,
                total_minor, discount_minor, promo_code, currency, expires_at, created_at,
                updated_at, held_detail, held_commit, held_prepare)
             SELECT h.hold_id, h.show_id, h.customer_id,
                ARRAY(SELECT jsonb_array_elements_text(h.seats)), 'held', h.total,
                h.discount, h.code, h.currency, h.expires, h.at, h.at, h.detail, h.c, h.p
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::bigint[],
                $6::bigint[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[],
                $11::jsonb[], $12::bigint[], $13::bigint[])
                AS h(hold_id, show_id, customer_id, seats, total, discount, code, currency,
                    expires, at, detail, c, p)",
            &[
                &holds,
                &show_ids,
                &customers,
                &seats,
                &totals,
                &discounts,
                &codes,
                &currencies,
                &expires,
                &at,
                &details,
                &commits,
                &prepares,
            ],
        )
        .await?;
    }
    if !requested.0.is_empty() {
        tx.execute(
            "INSERT INTO order_history_payments (payment_id, hold_id)
             SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING",
            &[&requested.0, &requested.1],
        )
        .await?;
        // The last payment started for a hold is the one shown.
        tx.execute(
            "UPDATE order_history o SET payment_id = r.payment_id, payment_status = 'pending',
                updated_at = r.at
             FROM (SELECT DISTINCT ON (hold_id) * FROM unnest($1::uuid[], $2::uuid[],
                    $3::timestamptz[]) WITH ORDINALITY AS r(payment_id, hold_id, at, n)
                ORDER BY hold_id, n DESC) r
             WHERE o.hold_id = r.hold_id",
            &[&requested.0, &requested.1, &requested.2],
        )
        .await?;
    }
    if !paid.is_empty() {
        let holds: Vec<Uuid> = paid.iter().map(|(e, _)| e.hold_id.0).collect();
        let orders: Vec<Uuid> = paid.iter().map(|(e, _)| e.order_id.0).collect();
        let totals: Vec<i64> = paid.iter().map(|(e, _)| e.total.amount_minor).collect();
        let seats: Vec<Value> = paid.iter().map(|(e, _)| labels(&e.seats)).collect();
        let references: Vec<&str> = paid
            .iter()
            .map(|(e, _)| e.payment_reference.as_str())
            .collect();
        let payments: Vec<Option<Uuid>> = paid.iter().map(|(e, _)| e.payment_id).collect();
        let at: Vec<Timestamp> = paid.iter().map(|(e, _)| e.confirmed_at).collect();
        let late: Vec<bool> = paid.iter().map(|(e, _)| e.after_expiry).collect();
        let commits: Vec<i64> = paid.iter().map(|(_, p)| p.0).collect();
        let prepares: Vec<i64> = paid.iter().map(|(_, p)| p.1).collect();
        tx.execute(
            "UPDATE order_history o SET order_id = p.order_id, status = 'paid',
                total_minor = p.total, seats = ARRAY(SELECT jsonb_array_elements_text(p.seats)),
                payment_reference = p.reference,
                payment_id = coalesce(p.payment_id, o.payment_id),
                payment_status = CASE WHEN p.payment_id IS NULL THEN o.payment_status
                    ELSE 'succeeded' END,
                updated_at = p.at, paid_at = p.at, paid_after_expiry = p.late,
                paid_total_minor = p.total, paid_commit = p.c, paid_prepare = p.p
             FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::jsonb[], $5::text[],
                $6::uuid[], $7::timestamptz[], $8::bool[], $9::bigint[], $10::bigint[])
                AS p(hold_id, order_id, total, seats, reference, payment_id, at, late, c, p)
             WHERE o.hold_id = p.hold_id",
            &[
                &holds,
                &orders,
                &totals,
                &seats,
                &references,
                &payments,
                &at,
                &late,
                &commits,
                &prepares,
            ],
        )
        .await?;
    }
    Ok(())
}

fn refund_status(e: &boxoffice_domain::show::OrderRefunded) -> &'static str {
    if e.fully_refunded {
        "refunded"
    } else {
        "partially_refunded"
    }
}

/// The batch's refunds, summed up per order.
async fn bulk_refunds(
    tx: &Transaction<'_>,
    events: &[Applying<'_>],
) -> Result<(), tokio_postgres::Error> {
    // Per order: seats, amount, fee, then the status and time of the last refund.
    let mut refunds: std::collections::HashMap<Uuid, (Vec<&str>, i64, i64, &str, Timestamp)> =
        std::collections::HashMap::new();
    for applying in events {
        let Event::Show(ShowEvent::OrderRefunded(e)) = &applying.event else {
            continue;
        };
        let refund = refunds
            .entry(e.order_id.0)
            .or_insert_with(|| (Vec::new(), 0, 0, "", e.refunded_at));
        refund.0.extend(e.seats.iter().map(|s| s.as_str()));
        refund.1 += e.amount.amount_minor;
        refund.2 += e.fee.as_ref().map_or(0, |f| f.amount_minor);
        refund.3 = refund_status(e);
        refund.4 = e.refunded_at;
    }
    if refunds.is_empty() {
        return Ok(());
    }
    let mut c = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (order, (seats, amount, fee, status, at)) in &refunds {
        c.0.push(*order);
        c.1.push(Value::from(seats.clone()));
        c.2.push(*amount);
        c.3.push(*fee);
        c.4.push(*status);
        c.5.push(*at);
    }
    tx.execute(
        "UPDATE order_history o SET
            refunded_seats = o.refunded_seats || ARRAY(SELECT jsonb_array_elements_text(d.seats)),
            seats = ARRAY(SELECT s FROM unnest(o.seats) s
                WHERE s <> ALL(ARRAY(SELECT jsonb_array_elements_text(d.seats)))),
            refunded_minor = o.refunded_minor + d.amount, fees_minor = o.fees_minor + d.fee,
            status = d.status, updated_at = d.at
         FROM unnest($1::uuid[], $2::jsonb[], $3::bigint[], $4::bigint[], $5::text[],
            $6::timestamptz[]) AS d(order_id, seats, amount, fee, status, at)
         WHERE o.order_id = d.order_id",
        &[&c.0, &c.1, &c.2, &c.3, &c.4, &c.5],
    )
    .await?;
    Ok(())
}

/// Holds that ended unpaid, in bulk; a row paid meanwhile (a late payment) keeps its status.
async fn end_holds(
    tx: &Transaction<'_>,
    events: &[Applying<'_>],
) -> Result<(), tokio_postgres::Error> {
    let mut ended = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for applying in events {
        let (hold, status, at) = match &applying.event {
            Event::Show(ShowEvent::HoldReleased(e)) => (e.hold_id.0, "released", e.released_at),
            Event::Show(ShowEvent::HoldExpired(e)) => (e.hold_id.0, "expired", e.expired_at),
            _ => continue,
        };
        let (commit, prepare) = position(applying);
        ended.0.push(hold);
        ended.1.push(status);
        ended.2.push(at);
        ended.3.push(commit);
        ended.4.push(prepare);
    }
    if !ended.0.is_empty() {
        // A hold ends once: the step is kept whatever happened since (a late payment).
        tx.execute(
            "UPDATE order_history o SET
                status = CASE WHEN o.status = 'held' THEN e.status ELSE o.status END,
                updated_at = CASE WHEN o.status = 'held' THEN e.at ELSE o.updated_at END,
                ended_as = e.status, ended_at = e.at, ended_commit = e.c, ended_prepare = e.p
             FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[])
                AS e(hold_id, status, at, c, p)
             WHERE o.hold_id = e.hold_id",
            &[&ended.0, &ended.1, &ended.2, &ended.3, &ended.4],
        )
        .await?;
    }
    Ok(())
}

/// Applies one show event to its row; returns its timeline entry, if it has one.
async fn apply_show(
    tx: &Transaction<'_>,
    event: &ShowEvent,
    refunds_in_bulk: bool,
) -> Result<Option<(Row, Timestamp, &'static str, Value)>, tokio_postgres::Error> {
    let seats = |seats: &[boxoffice_domain::SeatId]| -> Vec<String> {
        seats.iter().map(|s| s.as_str().to_owned()).collect()
    };
    Ok(Some(match event {
        ShowEvent::ShowScheduled(_) => return Ok(None),
        // Kept in the row itself (see `bulk_rows` and `end_holds`).
        ShowEvent::SeatsHeld(_)
        | ShowEvent::HoldReleased(_)
        | ShowEvent::HoldExpired(_)
        | ShowEvent::HoldConfirmed(_) => return Ok(None),
        ShowEvent::PaymentRequested(e) => (
            Row::Hold(e.hold_id.0),
            e.requested_at,
            "payment_started",
            json!({"payment_id": e.payment_id, "method": e.method.as_str(),
                "amount_minor": e.amount.amount_minor}),
        ),
        ShowEvent::OrderRefunded(e) => {
            if e.payment_id.is_some() {
                settles(tx, e.refund_id.0, OrderOf::Order(e.order_id.0)).await?;
            }
            let status = refund_status(e);
            let fee = e.fee.as_ref().map_or(0, |f| f.amount_minor);
            if !refunds_in_bulk {
                tx.execute(
                    "UPDATE order_history SET
                    refunded_seats = refunded_seats || $2::text[],
                    seats = ARRAY(SELECT s FROM unnest(seats) s WHERE s <> ALL($2::text[])),
                    refunded_minor = refunded_minor + $3, fees_minor = fees_minor + $4,
                    status = $5, updated_at = $6
                 WHERE order_id = $1",
                    &[
                        &e.order_id.0,
                        &seats(&e.seats),
                        &e.amount.amount_minor,
                        &fee,
                        &status,
                        &e.refunded_at,
                    ],
                )
                .await?;
            }
            (
                Row::Order(e.order_id.0),
                e.refunded_at,
                "refunded",
                json!({"refund_id": e.refund_id, "seats": seats(&e.seats),
                    "amount_minor": e.amount.amount_minor, "fee_minor": fee,
                    "reason": e.reason.as_str()}),
            )
        }
        ShowEvent::SeatsExchanged(e) => {
            settles(tx, e.exchange_id, OrderOf::Order(e.order_id.0)).await?;
            let from: Vec<String> = e.moves.iter().map(|m| m.from.to_string()).collect();
            let to: Vec<String> = e.moves.iter().map(|m| m.to.to_string()).collect();
            tx.execute(
                "UPDATE order_history SET
                    seats = ARRAY(SELECT s FROM unnest(seats) s WHERE s <> ALL($2::text[]))
                        || $3::text[],
                    total_minor = total_minor + $4, refunded_minor = refunded_minor + $5,
                    status = 'exchanged', updated_at = $6
                 WHERE order_id = $1",
                &[
                    &e.order_id.0,
                    &from,
                    &to,
                    &e.charge.amount_minor,
                    &e.refund.amount_minor,
                    &e.exchanged_at,
                ],
            )
            .await?;
            (
                Row::Order(e.order_id.0),
                e.exchanged_at,
                "exchanged",
                json!({"exchange_id": e.exchange_id, "from": from, "to": to,
                    "charge_minor": e.charge.amount_minor, "refund_minor": e.refund.amount_minor}),
            )
        }
        ShowEvent::OrderTransferredOut(e) => {
            tx.execute(
                "UPDATE order_history SET
                    seats = ARRAY(SELECT s FROM unnest(seats) s WHERE s <> ALL($2::text[])),
                    status = 'exchanged', updated_at = $3
                 WHERE order_id = $1",
                &[&e.order_id.0, &seats(&e.seats), &e.transferred_at],
            )
            .await?;
            (
                Row::Order(e.order_id.0),
                e.transferred_at,
                "exchanged_to_show",
                json!({"exchange_id": e.exchange_id, "seats": seats(&e.seats),
                    "to_show_id": e.to_show_id, "credit_minor": e.credit.amount_minor}),
            )
        }
        ShowEvent::OrderTransferredIn(e) => {
            settles(tx, e.exchange_id, OrderOf::Hold(e.hold_id.0)).await?;
            tx.execute(
                "UPDATE order_history SET status = 'exchanged',
                    refunded_minor = refunded_minor + $2, updated_at = $3
                 WHERE order_id = $1",
                &[&e.order_id.0, &e.refund.amount_minor, &e.transferred_at],
            )
            .await?;
            (
                Row::Order(e.order_id.0),
                e.transferred_at,
                "exchanged_from_show",
                json!({"exchange_id": e.exchange_id, "from_show_id": e.from_show_id,
                    "from_order_id": e.from_order_id, "credit_minor": e.credit.amount_minor,
                    "charge_minor": e.charge.amount_minor, "refund_minor": e.refund.amount_minor}),
            )
        }
        ShowEvent::TransferReverted(e) => {
            tx.execute(
                "UPDATE order_history SET seats = seats || $2::text[], updated_at = $3
                 WHERE order_id = $1",
                &[&e.order_id.0, &seats(&e.seats), &e.reverted_at],
            )
            .await?;
            (
                Row::Order(e.order_id.0),
                e.reverted_at,
                "exchange_undone",
                json!({"exchange_id": e.exchange_id, "seats_back": seats(&e.seats)}),
            )
        }
        ShowEvent::PaymentRefused(e) => {
            settles(tx, e.refund_id.0, OrderOf::Hold(e.hold_id.0)).await?;
            tx.execute(
                "UPDATE order_history SET status = 'refunded',
                    refunded_minor = refunded_minor + $2, updated_at = $3
                 WHERE hold_id = $1",
                &[&e.hold_id.0, &e.amount.amount_minor, &e.refused_at],
            )
            .await?;
            (
                Row::Hold(e.hold_id.0),
                e.refused_at,
                "payment_refused",
                json!({"payment_id": e.payment_id, "reason": e.reason,
                    "unavailable_seats": seats(&e.unavailable_seats),
                    "amount_minor": e.amount.amount_minor,
                    "detail": refusal_detail(&e.reason)}),
            )
        }
        ShowEvent::WaitlistJoined(_)
        | ShowEvent::WaitlistOffered(_)
        | ShowEvent::WaitlistLeft(_)
        | ShowEvent::WaitlistClosed(_)
        | ShowEvent::ShowCancelled(_) => return Ok(None),
    }))
}

enum OrderOf {
    Hold(Uuid),
    Order(Uuid),
}

/// Notes which hold a refund or charge belongs to.
async fn settles(
    tx: &Transaction<'_>,
    settlement_id: Uuid,
    of: OrderOf,
) -> Result<(), tokio_postgres::Error> {
    let (hold, order) = match of {
        OrderOf::Hold(id) => (Some(id), None),
        OrderOf::Order(id) => (None, Some(id)),
    };
    tx.execute(
        "INSERT INTO order_history_settlements (settlement_id, hold_id)
         SELECT $1, coalesce($2, (SELECT hold_id FROM order_history WHERE order_id = $3))
         WHERE coalesce($2, (SELECT hold_id FROM order_history WHERE order_id = $3)) IS NOT NULL
         ON CONFLICT DO NOTHING",
        &[&settlement_id, &hold, &order],
    )
    .await?;
    Ok(())
}

/// Why a payment could not buy its seats, in words for the customer.
fn refusal_detail(reason: &str) -> &'static str {
    match reason {
        "seats_taken" => {
            "The payment arrived after the hold had expired and its seats were sold to someone else; it is refunded in full."
        }
        "hold_already_paid" => "The hold had already been paid; this second payment is refunded in full.",
        "show_cancelled" => "The show was cancelled; the payment is refunded in full.",
        "show_started" => "The payment arrived after the show started; it is refunded in full.",
        _ => "The payment could not be used; it is refunded in full.",
    }
}

async fn write_timeline(
    tx: &Transaction<'_>,
    entries: &[Entry],
) -> Result<(), tokio_postgres::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut columns = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for entry in entries {
        let (hold, order, payment) = match entry.row {
            Row::Hold(id) => (Some(id), None, None),
            Row::Order(id) => (None, Some(id), None),
            Row::Payment {
                payment_id,
                settlement,
            } => (None, settlement, Some(payment_id)),
        };
        columns.0.push(hold);
        columns.1.push(order);
        columns.2.push(payment);
        columns.3.push(entry.commit);
        columns.4.push(entry.prepare);
        columns.5.push(entry.at);
        columns.6.push(entry.kind);
        columns.7.push(entry.detail.clone());
    }
    // Entries by order or payment find their hold through the rows written above (the
    // order column carries a refund or charge id for payment entries).
    tx.execute(
        "INSERT INTO order_history_timeline (hold_id, commit_position, prepare_position, at,
            kind, detail)
         SELECT coalesce(t.hold_id, o.hold_id, s.hold_id, p.hold_id), t.c, t.p, t.at, t.kind,
            t.detail
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::bigint[],
            $6::timestamptz[], $7::text[], $8::jsonb[])
            AS t(hold_id, order_id, payment_id, c, p, at, kind, detail)
         LEFT JOIN order_history o ON o.order_id = t.order_id AND t.payment_id IS NULL
         LEFT JOIN order_history_settlements s ON s.settlement_id = t.order_id
            AND t.payment_id IS NOT NULL
         LEFT JOIN order_history_payments p ON p.payment_id = t.payment_id
         WHERE coalesce(t.hold_id, o.hold_id, s.hold_id, p.hold_id) IS NOT NULL",
        &[
            &columns.0, &columns.1, &columns.2, &columns.3, &columns.4, &columns.5, &columns.6,
            &columns.7,
        ],
    )
    .await?;
    Ok(())
}
