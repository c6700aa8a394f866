//! An order's timeline: what each event says in it, and how a batch's entries are written.
//!
//! What an entry says is a pure function of its event ([`step`]), kept apart from the rows'
//! changes so that the customer-facing words and facts read in one place. Every entry
//! carries its log position: the timeline reads newest first in log order, whichever
//! stream (the show's or a payment's) an entry came from. The steps every hold goes
//! through (held, paid, ended) are kept in the hold's row instead (see `held_detail`).

use crate::projector::seat_labels;
use crate::{Applying, Event};
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::show::{OrderRefunded, SeatsHeld};
use boxoffice_domain::{PaymentRefusal, ShowEvent, Timestamp};
use serde_json::{json, Value};
use tokio_postgres::Transaction;
use uuid::Uuid;

/// An event's log position as the table stores it (as checkpoints do).
#[derive(Clone, Copy)]
pub(super) struct LogPosition {
    pub commit: i64,
    pub prepare: i64,
}

const INSERT_TIMELINE_SQL: &str = include_str!("sql/insert_timeline.sql");

/// Whose timeline an entry goes to.
pub(super) enum Row {
    Hold(Uuid),
    Order(Uuid),
    /// A payment's event: the hold of the refund or charge it names, else the payment's.
    Payment {
        payment_id: Uuid,
        settlement: Option<Uuid>,
    },
}

/// A timeline entry: whose, when, what kind of step, and its facts (amounts in minor units
/// of the order's currency).
pub(super) struct Step {
    row: Row,
    at: Timestamp,
    kind: &'static str,
    detail: Value,
}

/// A batch's entries as the columns of `insert_timeline.sql`.
#[derive(Default)]
pub(super) struct Timeline {
    hold_ids: Vec<Option<Uuid>>,
    order_ids: Vec<Option<Uuid>>,
    payment_ids: Vec<Option<Uuid>>,
    commits: Vec<i64>,
    prepares: Vec<i64>,
    at: Vec<Timestamp>,
    kinds: Vec<&'static str>,
    details: Vec<Value>,
}

impl Timeline {
    pub(super) fn push(&mut self, step: Step, position: LogPosition) {
        // A payment's entry names its refund or charge in the order column.
        let (hold, order, payment) = match step.row {
            Row::Hold(id) => (Some(id), None, None),
            Row::Order(id) => (None, Some(id), None),
            Row::Payment {
                payment_id,
                settlement,
            } => (None, settlement, Some(payment_id)),
        };
        self.hold_ids.push(hold);
        self.order_ids.push(order);
        self.payment_ids.push(payment);
        self.commits.push(position.commit);
        self.prepares.push(position.prepare);
        self.at.push(step.at);
        self.kinds.push(step.kind);
        self.details.push(step.detail);
    }

    /// Writes the entries; after the rows, settlements and payments they find their hold by.
    pub(super) async fn write(self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if self.kinds.is_empty() {
            return Ok(());
        }
        tx.execute(
            INSERT_TIMELINE_SQL,
            &[
                &self.hold_ids,
                &self.order_ids,
                &self.payment_ids,
                &self.commits,
                &self.prepares,
                &self.at,
                &self.kinds,
                &self.details,
            ],
        )
        .await?;
        Ok(())
    }
}

/// The entry an event adds to a timeline; None for the steps kept in the row and for
/// events of no order.
pub(super) fn step(applying: &Applying<'_>) -> Option<Step> {
    let (row, at, kind, detail) = match applying.event {
        Event::Show(event) => show_step(event)?,
        Event::Payment(event) => payment_step(applying.stream_id, event)?,
        Event::Cities(_)
        | Event::Cinema(_)
        | Event::Movie(_)
        | Event::Promo(_)
        | Event::Access(_) => return None,
    };
    Some(Step {
        row,
        at,
        kind,
        detail,
    })
}

type Said = (Row, Timestamp, &'static str, Value);

fn show_step(event: &ShowEvent) -> Option<Said> {
    Some(match event {
        ShowEvent::PaymentRequested(e) => (
            Row::Hold(e.hold_id.0),
            e.requested_at,
            "payment_started",
            json!({"payment_id": e.payment_id, "method": e.method.as_str(),
                "amount_minor": e.amount.amount_minor}),
        ),
        ShowEvent::OrderRefunded(e) => (
            Row::Order(e.order_id.0),
            e.refunded_at,
            "refunded",
            json!({"refund_id": e.refund_id, "seats": seat_labels(&e.seats),
                "amount_minor": e.amount.amount_minor, "fee_minor": fee(e),
                "reason": e.reason.as_str()}),
        ),
        ShowEvent::SeatsExchanged(e) => {
            let from: Vec<&str> = e.moves.iter().map(|m| m.from.as_str()).collect();
            let to: Vec<&str> = e.moves.iter().map(|m| m.to.as_str()).collect();
            (
                Row::Order(e.order_id.0),
                e.exchanged_at,
                "exchanged",
                json!({"exchange_id": e.exchange_id, "from": from, "to": to,
                    "charge_minor": e.charge.amount_minor,
                    "refund_minor": e.refund.amount_minor}),
            )
        }
        ShowEvent::OrderTransferredOut(e) => (
            Row::Order(e.order_id.0),
            e.transferred_at,
            "exchanged_to_show",
            json!({"exchange_id": e.exchange_id, "seats": seat_labels(&e.seats),
                "to_show_id": e.to_show_id, "credit_minor": e.credit.amount_minor}),
        ),
        ShowEvent::OrderTransferredIn(e) => (
            Row::Order(e.order_id.0),
            e.transferred_at,
            "exchanged_from_show",
            json!({"exchange_id": e.exchange_id, "from_show_id": e.from_show_id,
                "from_order_id": e.from_order_id, "credit_minor": e.credit.amount_minor,
                "charge_minor": e.charge.amount_minor, "refund_minor": e.refund.amount_minor}),
        ),
        ShowEvent::TransferReverted(e) => (
            Row::Order(e.order_id.0),
            e.reverted_at,
            "exchange_undone",
            json!({"exchange_id": e.exchange_id, "seats_back": seat_labels(&e.seats)}),
        ),
        ShowEvent::PaymentRefused(e) => (
            Row::Hold(e.hold_id.0),
            e.refused_at,
            "payment_refused",
            json!({"payment_id": e.payment_id, "reason": e.reason,
                "unavailable_seats": seat_labels(&e.unavailable_seats),
                "amount_minor": e.amount.amount_minor,
                "detail": refusal_detail(e.reason)}),
        ),
        ShowEvent::TicketsCheckedIn(e) => {
            let seats: Vec<&str> = e.tickets.iter().map(|t| t.seat_id.as_str()).collect();
            (
                Row::Order(e.order_id.0),
                e.checked_in_at,
                "checked_in",
                json!({"seats": seats, "door": e.door, "method": e.method.as_str()}),
            )
        }
        // Kept in the row itself (see `held_detail` and the paid and ended columns).
        ShowEvent::SeatsHeld(_)
        | ShowEvent::HoldReleased(_)
        | ShowEvent::HoldExpired(_)
        | ShowEvent::HoldConfirmed(_) => return None,
        ShowEvent::ShowScheduled(_)
        | ShowEvent::WaitlistJoined(_)
        | ShowEvent::WaitlistOffered(_)
        | ShowEvent::WaitlistLeft(_)
        | ShowEvent::WaitlistClosed(_)
        | ShowEvent::ShowCancelled(_)
        | ShowEvent::AccessibleSeatsReleased(_)
        | ShowEvent::OnSaleQueueSet(_)
        | ShowEvent::OnSaleQueueLifted(_) => return None,
    })
}

fn payment_step(payment_id: Uuid, event: &PaymentEvent) -> Option<Said> {
    let row = |settlement| Row::Payment {
        payment_id,
        settlement,
    };
    Some(match event {
        PaymentEvent::PaymentStarted(_) => return None,
        PaymentEvent::PaymentSucceeded(e) => (
            row(None),
            e.succeeded_at,
            "payment_succeeded",
            json!({"payment_id": payment_id, "amount_minor": e.amount.amount_minor}),
        ),
        PaymentEvent::PaymentFailed(e) => (
            row(None),
            e.failed_at,
            "payment_failed",
            json!({"payment_id": payment_id, "reason": e.reason}),
        ),
        PaymentEvent::PaymentNotificationIgnored(e) => (
            row(None),
            e.received_at,
            "payment_notification_ignored",
            json!({"payment_id": payment_id, "said": e.said.as_str(), "reason": e.reason}),
        ),
        PaymentEvent::PaymentRefunded(e) => (
            row(Some(e.refund_id)),
            e.refunded_at,
            "refund_paid_out",
            json!({"payment_id": payment_id, "refund_id": e.refund_id,
                "amount_minor": e.amount.amount_minor, "reason": e.reason}),
        ),
        PaymentEvent::PaymentCharged(e) => (
            row(Some(e.charge_id)),
            e.charged_at,
            "charge_collected",
            json!({"payment_id": payment_id, "charge_id": e.charge_id,
                "amount_minor": e.amount.amount_minor}),
        ),
    })
}

/// What the timeline's `held` step says (kept in the hold's row).
pub(super) fn held_detail(e: &SeatsHeld) -> Value {
    let mut detail = json!({"seats": seat_labels(&e.seats), "total_minor": e.total.amount_minor,
        "expires_at": e.expires_at});
    if let Some(d) = &e.discount {
        detail["promo_code"] = json!(d.code.as_str());
        detail["discount_minor"] = json!(d.amount.amount_minor);
    }
    detail
}

/// The fee a refund kept, in minor units.
pub(super) fn fee(e: &OrderRefunded) -> i64 {
    e.fee.as_ref().map_or(0, |f| f.amount_minor)
}

/// Why a payment could not buy its seats, in words for the customer.
fn refusal_detail(reason: PaymentRefusal) -> &'static str {
    match reason {
        PaymentRefusal::SeatsTaken => {
            "The payment arrived after the hold had expired and its seats were sold to someone else; it is refunded in full."
        }
        PaymentRefusal::HoldAlreadyPaid => "The hold had already been paid; this second payment is refunded in full.",
        PaymentRefusal::ShowCancelled => "The show was cancelled; the payment is refunded in full.",
        PaymentRefusal::ShowStarted => "The payment arrived after the show started; it is refunded in full.",
    }
}
