//! Paying for a hold: at the counter (staff confirm a payment taken there), or through the
//! payment provider (requested by the customer, settled when the provider says it
//! succeeded).
//!
//! Only an active hold can be paid, for exactly its total, until its expiry plus the grace.
//! A provider payment may succeed after that: it still buys the hold's seats if they are
//! free, and is otherwise refused with a [`PaymentRefusal`], to be refunded in full.

use super::command::Requester;
use super::event::*;
use super::holds::{active_hold, expire_lapsed, lapsed_holds_on};
use super::{HoldStatus, Show};
use crate::payment::PaymentMethod;
use crate::{DomainError, HoldId, Money, OrderId, RefundId, SeatId, Timestamp};
use uuid::Uuid;

const MAX_REFERENCE_CHARS: usize = 200;

/// A payment taken outside the provider (at the counter) sells the hold: its reference and
/// exactly the hold's total.
pub(super) fn confirm_at_counter(
    show: &Show,
    hold_id: &HoldId,
    order_id: &OrderId,
    requester: &Requester,
    payment_reference: &str,
    amount: &Money,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let hold = active_hold(show, hold_id, requester, Some(now))?;
    let reference = payment_reference.trim();
    if reference.is_empty() || reference.chars().count() > MAX_REFERENCE_CHARS {
        return Err(DomainError::invalid(
            "payment_reference",
            format!("must be 1 to {MAX_REFERENCE_CHARS} characters"),
        ));
    }
    if show.order(order_id).is_some() {
        return Err(DomainError::DuplicateId(format!("order {order_id}")));
    }
    if *amount != hold.total {
        return Err(DomainError::AmountMismatch {
            expected: hold.total.clone(),
            paid: amount.clone(),
        });
    }
    Ok(vec![ShowEvent::HoldConfirmed(HoldConfirmed {
        hold_id: *hold_id,
        order_id: *order_id,
        customer_id: hold.customer_id.clone(),
        seats: hold.seats.clone(),
        total: hold.total.clone(),
        payment_reference: reference.to_owned(),
        confirmed_at: now,
        payment_id: None,
        after_expiry: false,
        pickup_code: Some(show.next_pickup_code(order_id)),
        ticket_types: hold.ticket_types.clone(),
    })])
}

/// The customer starts paying for a hold through the provider: the amount is the hold's
/// total, fixed now.
pub(super) fn request(
    show: &Show,
    hold_id: &HoldId,
    payment_id: &Uuid,
    requester: &Requester,
    method: PaymentMethod,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let hold = active_hold(show, hold_id, requester, Some(now))?;
    info.before_start(now)?;
    if show.hold_of_payment(payment_id).is_some() {
        return Err(DomainError::DuplicateId(format!("payment {payment_id}")));
    }
    Ok(vec![ShowEvent::PaymentRequested(PaymentRequested {
        hold_id: *hold_id,
        payment_id: *payment_id,
        customer_id: hold.customer_id.clone(),
        method,
        amount: hold.total.clone(),
        requested_at: now,
    })])
}

/// A provider payment succeeded: sell its hold, even after the hold lapsed if its seats are
/// still free; otherwise refuse it (the payment is then refunded).
pub(super) fn settle(
    show: &Show,
    payment_id: Uuid,
    order_id: OrderId,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let (hold_id, hold) = show
        .hold_of_payment(&payment_id)
        .ok_or(DomainError::PaymentNotFound)?;
    let amount = hold
        .payments
        .get(&payment_id)
        .cloned()
        .unwrap_or_else(|| hold.total.clone());
    let refuse = |reason: PaymentRefusal, unavailable_seats: Vec<SeatId>| {
        Ok(vec![ShowEvent::PaymentRefused(PaymentRefused {
            hold_id: *hold_id,
            payment_id,
            refund_id: RefundId(Uuid::new_v5(&payment_id, b"payment-refused")),
            customer_id: hold.customer_id.clone(),
            amount: amount.clone(),
            reason,
            unavailable_seats,
            refused_at: now,
        })])
    };
    if let HoldStatus::Confirmed(paid_by) = hold.status {
        if show.order(&paid_by).and_then(|o| o.payment_id) == Some(payment_id) {
            return Err(DomainError::HoldAlreadyConfirmed { order_id: paid_by });
        }
        return refuse(PaymentRefusal::HoldAlreadyPaid, Vec::new());
    }
    if show.is_cancelled() {
        return refuse(PaymentRefusal::ShowCancelled, Vec::new());
    }
    if now >= info.starts_at {
        return refuse(PaymentRefusal::ShowStarted, Vec::new());
    }
    if show.order(&order_id).is_some() {
        return Err(DomainError::DuplicateId(format!("order {order_id}")));
    }
    let own = (hold.status == HoldStatus::Active).then_some(*hold_id);
    let lapsed = match lapsed_holds_on(show, &hold.seats, own, now) {
        Ok(lapsed) => lapsed,
        Err(unavailable) => return refuse(PaymentRefusal::SeatsTaken, unavailable),
    };
    let payable = hold.status == HoldStatus::Active && now < hold.expires_at + show.grace();
    let mut events = expire_lapsed(show, &lapsed, now);
    events.push(ShowEvent::HoldConfirmed(HoldConfirmed {
        hold_id: *hold_id,
        order_id,
        customer_id: hold.customer_id.clone(),
        seats: hold.seats.clone(),
        total: amount,
        payment_reference: payment_id.to_string(),
        confirmed_at: now,
        payment_id: Some(payment_id),
        after_expiry: !payable,
        pickup_code: Some(show.next_pickup_code(&order_id)),
        ticket_types: hold.ticket_types.clone(),
    }));
    Ok(events)
}
