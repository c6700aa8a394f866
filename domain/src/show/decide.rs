//! The rules: given the show as it is, a command and the current instant, which facts follow.

use super::best::best_available;
use super::command::{Requester, ShowCommand};
use super::event::*;
use super::waitlist;
use super::{HoldStatus, SeatSpec, SeatStatus, Show, WaitlistStatus};
use crate::error::Problems;
use crate::promo::PromoOffer;
use crate::{CustomerId, DomainError, HoldId, Money, OrderId, RefundId, SeatId, Timestamp};
use chrono::Duration;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// A hold takes at most this many seats (seed 003: "at most ten seats per booking").
pub const MAX_SEATS_PER_HOLD: usize = 10;
/// Upper bound on a hall, far above the largest auditorium we know of.
const MAX_SEATS_PER_SHOW: usize = 10_000;
const MAX_LABEL_CHARS: usize = 32;
const MAX_TITLE_CHARS: usize = 300;
const MAX_REFERENCE_CHARS: usize = 200;

/// Decides which events a command produces against the current state, at instant `now`.
pub fn decide(
    show: &Show,
    command: &ShowCommand,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    if let ShowCommand::ScheduleShow {
        show_id,
        movie_id,
        title,
        starts_at,
        ends_at,
        seats,
        prices,
        hold_ttl_seconds,
        expiry_grace_seconds,
        max_holds_per_customer,
        waitlist_max_wait_seconds,
        venue,
        refund_policy,
    } = command
    {
        if show.is_scheduled() {
            return Err(DomainError::ShowAlreadyScheduled);
        }
        validate_schedule(
            title,
            *starts_at,
            *ends_at,
            seats,
            prices,
            *hold_ttl_seconds,
            now,
        )?;
        if !(60..=7 * 24 * 3600).contains(waitlist_max_wait_seconds) {
            return Err(DomainError::invalid(
                "waitlist_max_wait_seconds",
                "must be 60 seconds to 7 days",
            ));
        }
        if let Some(policy) = refund_policy {
            policy.validate("refund_policy")?;
        }
        if !(1..=MAX_SEATS_PER_HOLD as u32).contains(max_holds_per_customer) {
            return Err(DomainError::invalid(
                "max_holds_per_customer",
                format!("must be 1 to {MAX_SEATS_PER_HOLD}"),
            ));
        }
        return Ok(vec![ShowEvent::ShowScheduled(ShowScheduled {
            show_id: *show_id,
            movie_id: *movie_id,
            title: title.trim().to_owned(),
            starts_at: *starts_at,
            ends_at: *ends_at,
            seats: seats.as_slice().into(),
            prices: prices.clone(),
            hold_ttl_seconds: *hold_ttl_seconds,
            expiry_grace_seconds: *expiry_grace_seconds,
            max_holds_per_customer: *max_holds_per_customer,
            waitlist_max_wait_seconds: *waitlist_max_wait_seconds,
            venue: venue.clone(),
            refund_policy: *refund_policy,
        })]);
    }
    if let ShowCommand::CancelShow { reason } = command {
        return cancel(show, reason, now);
    }
    if show.is_cancelled()
        && !matches!(
            command,
            ShowCommand::RefundOrder { .. }
                | ShowCommand::SettlePayment { .. }
                | ShowCommand::RevertTransferOut { .. }
        )
    {
        return Err(DomainError::ShowCancelled);
    }
    let events = decide_on_scheduled(show, command, now)?;
    Ok(waitlist::follow_up(show, events, now))
}

/// Every command but scheduling, before the waiting list's consequences.
fn decide_on_scheduled(
    show: &Show,
    command: &ShowCommand,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let Some(info) = show.info() else {
        return Err(DomainError::ShowNotFound);
    };
    match command {
        ShowCommand::ScheduleShow { .. } | ShowCommand::CancelShow { .. } => {
            unreachable!("handled above")
        }
        ShowCommand::HoldSeats {
            hold_id,
            customer_id,
            seats,
            promo,
        } => {
            if now >= info.starts_at {
                return Err(DomainError::ShowStarted);
            }
            if show.hold(hold_id).is_some() {
                return Err(DomainError::DuplicateId(format!("hold {hold_id}")));
            }
            validate_seat_selection(show, "seats", seats)?;
            within_hold_limit(show, customer_id, now)?;
            hold_seats(show, *hold_id, customer_id, seats, promo.as_ref(), now)
        }
        ShowCommand::HoldBestAvailable {
            hold_id,
            customer_id,
            count,
            category,
            promo,
        } => {
            if now >= info.starts_at {
                return Err(DomainError::ShowStarted);
            }
            if show.hold(hold_id).is_some() {
                return Err(DomainError::DuplicateId(format!("hold {hold_id}")));
            }
            let count = *count as usize;
            if !(1..=MAX_SEATS_PER_HOLD).contains(&count) {
                return Err(DomainError::invalid(
                    "count",
                    format!("must be 1 to {MAX_SEATS_PER_HOLD}"),
                ));
            }
            if let Some(category) = category {
                if !info.prices.contains_key(category) {
                    return Err(DomainError::invalid(
                        "category",
                        format!("this show has no seats of category `{category}`"),
                    ));
                }
            }
            within_hold_limit(show, customer_id, now)?;
            let seats = best_available(show, count, category.as_deref(), now)
                .ok_or(DomainError::SeatsUnavailable(Vec::new()))?;
            hold_seats(show, *hold_id, customer_id, &seats, promo.as_ref(), now)
        }
        ShowCommand::JoinWaitlist {
            entry_id,
            customer_id,
            count,
            category,
        } => waitlist::join(
            show,
            *entry_id,
            customer_id,
            *count,
            category.as_deref(),
            now,
        ),
        ShowCommand::LeaveWaitlist {
            entry_id,
            requester,
        } => waitlist::leave(show, entry_id, requester, now),
        ShowCommand::ExpireWaitlistEntry { entry_id } => {
            waitlist::expire_entry(show, entry_id, now)
        }
        ShowCommand::ReleaseHold { hold_id, requester } => {
            let hold = active_hold(show, hold_id, requester, None)?;
            Ok(vec![ShowEvent::HoldReleased(HoldReleased {
                hold_id: *hold_id,
                seats: hold.seats.clone(),
                released_at: now,
                promo_code: promo_of(hold),
            })])
        }
        ShowCommand::ExpireHold { hold_id } => {
            let hold = active_hold(show, hold_id, &Requester::Staff, None)?;
            let expirable_at = hold.expires_at + grace(show);
            if now < expirable_at {
                return Err(DomainError::HoldNotExpirable { expirable_at });
            }
            Ok(vec![ShowEvent::HoldExpired(HoldExpired {
                hold_id: *hold_id,
                seats: hold.seats.clone(),
                expired_at: now,
                promo_code: promo_of(hold),
            })])
        }
        ShowCommand::ConfirmPayment {
            hold_id,
            order_id,
            requester,
            payment_reference,
            amount,
        } => {
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
            })])
        }
        ShowCommand::RequestPayment {
            hold_id,
            payment_id,
            requester,
            method,
        } => {
            let hold = active_hold(show, hold_id, requester, Some(now))?;
            if now >= info.starts_at {
                return Err(DomainError::ShowStarted);
            }
            if show.hold_of_payment(payment_id).is_some() {
                return Err(DomainError::DuplicateId(format!("payment {payment_id}")));
            }
            Ok(vec![ShowEvent::PaymentRequested(PaymentRequested {
                hold_id: *hold_id,
                payment_id: *payment_id,
                customer_id: hold.customer_id.clone(),
                method: *method,
                amount: hold.total.clone(),
                requested_at: now,
            })])
        }
        ShowCommand::SettlePayment {
            payment_id,
            order_id,
        } => settle_payment(show, *payment_id, *order_id, now),
        ShowCommand::ExchangeSeats {
            order_id,
            exchange_id,
            requester,
            give_back,
            take,
        } => exchange(
            show,
            *order_id,
            *exchange_id,
            requester,
            give_back,
            take,
            now,
        ),
        ShowCommand::TransferOut {
            order_id,
            exchange_id,
            requester,
            seats,
            to_show_id,
            to_hold_id,
        } => transfer_out(
            show,
            *order_id,
            *exchange_id,
            requester,
            seats,
            (*to_show_id, *to_hold_id),
            now,
        ),
        ShowCommand::TransferIn {
            hold_id,
            order_id,
            exchange_id,
            customer_id,
            from_show_id,
            from_order_id,
            movie_id,
            credit,
            payment_id,
        } => {
            if *movie_id != info.movie_id {
                return Err(DomainError::invalid(
                    "to_show_id",
                    "an exchange is to another show of the same movie",
                ));
            }
            if show.transferred_in(exchange_id).is_some() {
                return Err(DomainError::DuplicateId(format!("exchange {exchange_id}")));
            }
            if now >= info.starts_at {
                return Err(DomainError::ShowStarted);
            }
            let requester = Requester::Customer(customer_id.clone());
            let hold = active_hold(show, hold_id, &requester, Some(now))?;
            if credit.currency != hold.total.currency {
                return Err(DomainError::invalid(
                    "to_show_id",
                    "the other show is sold in another currency",
                ));
            }
            let difference = hold.total.amount_minor - credit.amount_minor;
            let currency = hold.total.currency.clone();
            Ok(vec![
                ShowEvent::HoldConfirmed(HoldConfirmed {
                    hold_id: *hold_id,
                    order_id: *order_id,
                    customer_id: hold.customer_id.clone(),
                    seats: hold.seats.clone(),
                    total: hold.total.clone(),
                    payment_reference: format!("exchange:{exchange_id}"),
                    confirmed_at: now,
                    payment_id: *payment_id,
                    after_expiry: false,
                }),
                ShowEvent::OrderTransferredIn(OrderTransferredIn {
                    order_id: *order_id,
                    hold_id: *hold_id,
                    exchange_id: *exchange_id,
                    customer_id: hold.customer_id.clone(),
                    payment_id: *payment_id,
                    from_show_id: *from_show_id,
                    from_order_id: *from_order_id,
                    credit: credit.clone(),
                    charge: Money::new(difference.max(0), currency.clone()),
                    refund: Money::new((-difference).max(0), currency),
                    transferred_at: now,
                }),
            ])
        }
        ShowCommand::RevertTransferOut { exchange_id } => revert_transfer(show, *exchange_id, now),
        ShowCommand::RefundOrder {
            order_id,
            refund_id,
            requester,
            seats,
        } => refund(
            show,
            *order_id,
            *refund_id,
            requester,
            seats.as_deref(),
            now,
        ),
    }
}

/// The order, if the requester may act on it.
fn owned_order<'a>(
    show: &'a Show,
    order_id: &OrderId,
    requester: &Requester,
) -> Result<&'a super::Order, DomainError> {
    show.order(order_id)
        .filter(|order| requester.may_act_for(&order.customer_id))
        .ok_or(DomainError::OrderNotFound)
}

/// Refuses seats the order does not own (now).
fn in_order(order: &super::Order, seats: &[SeatId]) -> Result<(), DomainError> {
    let foreign: Vec<SeatId> = seats
        .iter()
        .filter(|seat| !order.seats.contains(*seat))
        .cloned()
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(DomainError::SeatsNotInOrder(foreign))
    }
}

/// The promo code a hold took a use of.
fn promo_of(hold: &super::Hold) -> Option<crate::promo::PromoCode> {
    hold.discount.as_ref().map(|d| d.code.clone())
}

fn grace(show: &Show) -> Duration {
    show.grace()
}

/// A customer may have only so many active holds on a show at once.
fn within_hold_limit(
    show: &Show,
    customer: &CustomerId,
    now: Timestamp,
) -> Result<(), DomainError> {
    let limit = show.info().map_or(1, |i| i.max_holds_per_customer) as usize;
    let mut active = show.active_holds_of(customer, now);
    match active.nth(limit.saturating_sub(1)) {
        Some((hold_id, _)) => Err(DomainError::HoldExists { hold_id: *hold_id }),
        None => Ok(()),
    }
}

/// Finds a hold the requester may act on and that is still active. With `payable_at`, the
/// hold must also still be payable then: until its expiry plus the grace, so a payment the
/// client made before the expiry it was shown is never refused for network delay.
fn active_hold<'a>(
    show: &'a Show,
    hold_id: &HoldId,
    requester: &Requester,
    payable_at: Option<Timestamp>,
) -> Result<&'a super::Hold, DomainError> {
    let hold = show
        .hold(hold_id)
        .filter(|hold| requester.may_act_for(&hold.customer_id))
        .ok_or(DomainError::HoldNotFound)?;
    match hold.status {
        HoldStatus::Active => {}
        HoldStatus::Released => return Err(DomainError::HoldReleased),
        HoldStatus::Expired => {
            return Err(DomainError::HoldExpired {
                expires_at: hold.expires_at,
            })
        }
        HoldStatus::Confirmed(order_id) => {
            return Err(DomainError::HoldAlreadyConfirmed { order_id })
        }
    }
    if let Some(now) = payable_at {
        if now >= hold.expires_at + grace(show) {
            return Err(DomainError::HoldExpired {
                expires_at: hold.expires_at,
            });
        }
    }
    Ok(hold)
}

/// The holds to expire first so `seats` can be taken now, or the seats that cannot be: a
/// seat still held by a hold past its expiry plus grace counts as free (that hold is
/// expired in the same decision), so a late expiry run never keeps seats from anyone.
fn lapsed_holds_on(
    show: &Show,
    seats: &[SeatId],
    own: Option<HoldId>,
    now: Timestamp,
) -> Result<BTreeSet<HoldId>, Vec<SeatId>> {
    let grace = grace(show);
    let mut lapsed: BTreeSet<HoldId> = BTreeSet::new();
    let mut unavailable = Vec::new();
    for seat in seats {
        match show.seat_status(seat) {
            Some(SeatStatus::Available) => {}
            Some(SeatStatus::Held(other)) if Some(other) == own => {}
            Some(SeatStatus::Held(other)) => {
                let expirable = show
                    .hold(&other)
                    .is_some_and(|hold| now >= hold.expires_at + grace);
                if expirable {
                    lapsed.insert(other);
                } else {
                    unavailable.push(seat.clone());
                }
            }
            Some(SeatStatus::Sold(_)) | None => unavailable.push(seat.clone()),
        }
    }
    if unavailable.is_empty() {
        Ok(lapsed)
    } else {
        Err(unavailable)
    }
}

fn expire_lapsed(show: &Show, lapsed: &BTreeSet<HoldId>, now: Timestamp) -> Vec<ShowEvent> {
    lapsed
        .iter()
        .filter_map(|id| show.hold(id).map(|hold| (id, hold)))
        .map(|(id, hold)| {
            ShowEvent::HoldExpired(HoldExpired {
                hold_id: *id,
                seats: hold.seats.clone(),
                expired_at: now,
                promo_code: promo_of(hold),
            })
        })
        .collect()
}

/// Holds every requested seat or none, less a promo code's discount.
fn hold_seats(
    show: &Show,
    hold_id: HoldId,
    customer_id: &CustomerId,
    seats: &[SeatId],
    promo: Option<&PromoOffer>,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let lapsed = lapsed_holds_on(show, seats, None, now).map_err(DomainError::SeatsUnavailable)?;
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let currency = &info
        .prices
        .values()
        .next()
        .ok_or(DomainError::ShowNotFound)?
        .currency;
    let gross = total_price(show, seats, currency)?;
    let discount = match promo {
        None => None,
        Some(offer) => Some(discount_for(show, offer, &gross)?),
    };
    let total = Money::new(
        gross.amount_minor - discount.as_ref().map_or(0, |d| d.amount.amount_minor),
        gross.currency.clone(),
    );
    let ttl = Duration::seconds(i64::from(info.hold_ttl_seconds));
    let mut events = expire_lapsed(show, &lapsed, now);
    events.push(ShowEvent::SeatsHeld(SeatsHeld {
        hold_id,
        customer_id: customer_id.clone(),
        seats: seats.to_vec(),
        total,
        held_at: now,
        expires_at: now + ttl,
        discount,
    }));
    Ok(events)
}

/// A promo code's discount on `gross`, if the code may be used on this show.
fn discount_for(
    show: &Show,
    offer: &PromoOffer,
    gross: &Money,
) -> Result<AppliedDiscount, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let scope = &offer.scope;
    let venue = show.venue();
    let not_here = |what: &str| {
        DomainError::PromoNotApplicable(format!("the code is not valid for this {what}"))
    };
    if scope.show_id.is_some_and(|s| s.0 != info.show_id) {
        return Err(not_here("show"));
    }
    if scope.movie_id.is_some_and(|m| m.0 != info.movie_id) {
        return Err(not_here("movie"));
    }
    if let Some(cinema) = scope.cinema_id {
        if venue.map(|v| v.cinema_id) != Some(cinema) {
            return Err(not_here("cinema"));
        }
    }
    let amount = offer.discount.on(gross).ok_or_else(|| {
        DomainError::PromoNotApplicable("the code's amount is in another currency".into())
    })?;
    Ok(AppliedDiscount {
        code: offer.code.clone(),
        amount,
    })
}

/// A provider payment succeeded: sell its hold, even after the hold lapsed if its seats are
/// still free; otherwise refuse it (the payment is then refunded).
fn settle_payment(
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
    let payable = hold.status == HoldStatus::Active && now < hold.expires_at + grace(show);
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
    }));
    Ok(events)
}

/// Takes seats out of an order for an exchange to another show; their paid value becomes
/// the credit the new order there is paid with.
fn transfer_out(
    show: &Show,
    order_id: OrderId,
    exchange_id: Uuid,
    requester: &Requester,
    seats: &[SeatId],
    (to_show_id, to_hold_id): (Uuid, HoldId),
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let order = owned_order(show, &order_id, requester)?;
    if now >= info.starts_at {
        return Err(DomainError::ShowStarted);
    }
    if to_show_id == info.show_id {
        return Err(DomainError::invalid(
            "to_show_id",
            "to exchange within the show, leave out to_show_id",
        ));
    }
    if show.transfer(&exchange_id).is_some() {
        return Err(DomainError::DuplicateId(format!("exchange {exchange_id}")));
    }
    validate_seat_list("give_back", seats, MAX_SEATS_PER_HOLD)?;
    in_order(order, seats)?;
    let paid_minor: Vec<i64> = seats
        .iter()
        .map(|s| order.seat_paid.get(s).copied().unwrap_or(0))
        .collect();
    Ok(vec![ShowEvent::OrderTransferredOut(OrderTransferredOut {
        order_id,
        exchange_id,
        customer_id: order.customer_id.clone(),
        payment_id: order.payment_id,
        seats: seats.to_vec(),
        credit: Money::new(paid_minor.iter().sum(), order.total.currency.clone()),
        paid_minor,
        movie_id: info.movie_id,
        to_show_id,
        to_hold_id,
        transferred_at: now,
    })])
}

/// Undoes a transfer out: seats still free go back to the order; the paid value of those
/// sold meanwhile is refunded in full.
fn revert_transfer(
    show: &Show,
    exchange_id: Uuid,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let transfer = show
        .transfer(&exchange_id)
        .ok_or(DomainError::OrderNotFound)?;
    let grace = grace(show);
    let free = |seat: &SeatId| match show.seat_status(seat) {
        _ if show.is_cancelled() => false,
        Some(SeatStatus::Available) => true,
        Some(SeatStatus::Held(other)) => show
            .hold(&other)
            .is_some_and(|hold| now >= hold.expires_at + grace),
        _ => false,
    };
    let mut back = (Vec::new(), Vec::new());
    let mut lost: (Vec<SeatId>, i64) = (Vec::new(), 0);
    for (seat, paid) in transfer.seats.iter().zip(&transfer.paid_minor) {
        if free(seat) {
            back.0.push(seat.clone());
            back.1.push(*paid);
        } else {
            lost.0.push(seat.clone());
            lost.1 += paid;
        }
    }
    let lapsed = lapsed_holds_on(show, &back.0, None, now).unwrap_or_default();
    let none_back = back.0.is_empty();
    let mut events = expire_lapsed(show, &lapsed, now);
    let currency = transfer.credit.currency.clone();
    events.push(ShowEvent::TransferReverted(TransferReverted {
        order_id: transfer.order_id,
        exchange_id,
        credit: Money::new(back.1.iter().sum(), currency.clone()),
        seats: back.0,
        paid_minor: back.1,
        reverted_at: now,
    }));
    if !lost.0.is_empty() {
        let seats_left = show.order(&transfer.order_id).map_or(0, |o| o.seats.len());
        events.push(ShowEvent::OrderRefunded(OrderRefunded {
            order_id: transfer.order_id,
            refund_id: RefundId(Uuid::new_v5(&exchange_id, b"exchange-failed")),
            customer_id: transfer.customer_id.clone(),
            seats: Vec::new(),
            amount: Money::new(lost.1, currency),
            fully_refunded: seats_left == 0 && none_back,
            refunded_at: now,
            fee: None,
            reason: RefundReason::ExchangeFailed,
            payment_id: transfer.payment_id,
        }));
    }
    Ok(events)
}

/// Refunds seats of an order: customers under the show's refund policy until it starts,
/// staff in full at any time.
fn refund(
    show: &Show,
    order_id: OrderId,
    refund_id: RefundId,
    requester: &Requester,
    seats: Option<&[SeatId]>,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let order = owned_order(show, &order_id, requester)?;
    let by_staff = matches!(requester, Requester::Staff);
    if !by_staff && now >= info.starts_at {
        return Err(DomainError::ShowStarted);
    }
    if order.seats.is_empty() {
        return Err(DomainError::OrderFullyRefunded);
    }
    let refunded: Vec<SeatId> = match seats {
        None => order.seats.iter().cloned().collect(),
        Some(seats) => {
            validate_seat_list("seats", seats, usize::MAX)?;
            in_order(order, seats)?;
            seats.to_vec()
        }
    };
    let paid: i64 = refunded
        .iter()
        .map(|s| order.seat_paid.get(s).copied().unwrap_or(0))
        .sum();
    let fee_percent = match (by_staff, info.refund_policy) {
        (false, Some(policy)) => {
            let cut_off =
                info.starts_at - Duration::minutes(i64::from(policy.full_refund_until_minutes));
            if now < cut_off {
                0
            } else {
                policy.fee_percent
            }
        }
        _ => 0,
    };
    let fee = i64::try_from(i128::from(paid) * i128::from(fee_percent) / 100).unwrap_or(paid);
    let currency = order.total.currency.clone();
    Ok(vec![ShowEvent::OrderRefunded(OrderRefunded {
        order_id,
        refund_id,
        customer_id: order.customer_id.clone(),
        fully_refunded: refunded.len() == order.seats.len(),
        seats: refunded,
        amount: Money::new(paid - fee, currency.clone()),
        refunded_at: now,
        fee: (fee > 0).then(|| Money::new(fee, currency)),
        reason: if by_staff {
            RefundReason::Staff
        } else {
            RefundReason::CustomerRequest
        },
        payment_id: order.payment_id,
    })])
}

/// Moves seats of an order to free seats of the same show in one decision, pairwise; each
/// new seat counts as paid what the old one did plus the difference in list price, and
/// the sum of the differences is charged or refunded.
fn exchange(
    show: &Show,
    order_id: OrderId,
    exchange_id: Uuid,
    requester: &Requester,
    give_back: &[SeatId],
    take: &[SeatId],
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let order = owned_order(show, &order_id, requester)?;
    if now >= info.starts_at {
        return Err(DomainError::ShowStarted);
    }
    validate_seat_list("give_back", give_back, MAX_SEATS_PER_HOLD)?;
    validate_seat_selection(show, "take", take)?;
    if give_back.len() != take.len() {
        return Err(DomainError::invalid(
            "take",
            format!(
                "name one new seat for each seat given back ({} given back, {} to take)",
                give_back.len(),
                take.len()
            ),
        ));
    }
    in_order(order, give_back)?;
    let lapsed = lapsed_holds_on(show, take, None, now).map_err(DomainError::SeatsUnavailable)?;
    let currency = order.total.currency.clone();
    let mut moves = Vec::with_capacity(take.len());
    let mut difference: i64 = 0;
    for (from, to) in give_back.iter().zip(take) {
        let price = |seat: &SeatId| show.price_of(seat).map_or(0, |p| p.amount_minor);
        let old_paid = order.seat_paid.get(from).copied().unwrap_or(0);
        let new_paid = (old_paid + price(to) - price(from)).max(0);
        difference += new_paid - old_paid;
        moves.push(SeatMove {
            from: from.clone(),
            to: to.clone(),
            paid_minor: new_paid,
        });
    }
    let mut events = expire_lapsed(show, &lapsed, now);
    events.push(ShowEvent::SeatsExchanged(SeatsExchanged {
        order_id,
        exchange_id,
        customer_id: order.customer_id.clone(),
        payment_id: order.payment_id,
        moves,
        charge: Money::new(difference.max(0), currency.clone()),
        refund: Money::new((-difference).max(0), currency),
        exchanged_at: now,
    }));
    Ok(events)
}

fn total_price(
    show: &Show,
    seats: &[SeatId],
    currency: &crate::Currency,
) -> Result<Money, DomainError> {
    seats
        .iter()
        .try_fold(Money::zero(currency.clone()), |sum, seat| {
            show.price_of(seat)
                .and_then(|price| sum.checked_add(price))
                .ok_or_else(|| DomainError::invalid("seats", "the total price cannot be computed"))
        })
}

fn validate_seat_list(field: &str, seats: &[SeatId], max: usize) -> Result<(), DomainError> {
    if seats.is_empty() {
        return Err(DomainError::invalid(field, "at least one seat is required"));
    }
    if seats.len() > max {
        return Err(DomainError::invalid(
            field,
            format!(
                "at most {max} seats may be held at once, {} were requested",
                seats.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    let duplicates: Vec<&str> = seats
        .iter()
        .filter(|seat| !seen.insert(*seat))
        .map(SeatId::as_str)
        .collect();
    if !duplicates.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("seats are listed twice: {}", duplicates.join(", ")),
        ));
    }
    Ok(())
}

fn validate_seat_selection(show: &Show, field: &str, seats: &[SeatId]) -> Result<(), DomainError> {
    validate_seat_list(field, seats, MAX_SEATS_PER_HOLD)?;
    let unknown: Vec<&str> = seats
        .iter()
        .filter(|seat| show.seat_status(seat).is_none())
        .map(SeatId::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("no such seats in this show: {}", unknown.join(", ")),
        ));
    }
    Ok(())
}

fn valid_label(label: &str) -> bool {
    let chars = label.chars().count();
    (1..=MAX_LABEL_CHARS).contains(&chars)
        && label.trim() == label
        && !label.chars().any(char::is_control)
}

/// Ends every active hold and open waiting-list entry, refunds every order in full, then
/// records the cancellation. The
/// waiting list's usual consequences (offering freed seats) are not drawn: the show is off.
fn cancel(show: &Show, reason: &str, now: Timestamp) -> Result<Vec<ShowEvent>, DomainError> {
    if !show.is_scheduled() {
        return Err(DomainError::ShowNotFound);
    }
    if show.is_cancelled() {
        return Err(DomainError::ShowCancelled);
    }
    let reason_chars = reason.trim().chars().count();
    if !(1..=MAX_REFERENCE_CHARS).contains(&reason_chars) || reason.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "reason",
            format!(
                "must be 1 to {MAX_REFERENCE_CHARS} characters, none of them control characters"
            ),
        ));
    }
    let mut events = Vec::new();
    for entry in show.waitlist() {
        if entry.status != WaitlistStatus::Ended {
            events.push(ShowEvent::WaitlistClosed(WaitlistClosed {
                entry_id: entry.entry_id,
                reason: WaitlistCloseReason::CannotBeMet,
                closed_at: now,
            }));
        }
    }
    for (hold_id, hold) in show.holds() {
        if hold.status == HoldStatus::Active {
            events.push(ShowEvent::HoldReleased(HoldReleased {
                hold_id: *hold_id,
                seats: hold.seats.clone(),
                released_at: now,
                promo_code: promo_of(hold),
            }));
        }
    }
    for (order_id, order) in show.orders() {
        if order.seats.is_empty() {
            continue;
        }
        let paid: i64 = order.seat_paid.values().sum();
        events.push(ShowEvent::OrderRefunded(OrderRefunded {
            order_id: *order_id,
            refund_id: RefundId(Uuid::new_v5(&order_id.0, b"show-cancelled")),
            customer_id: order.customer_id.clone(),
            seats: order.seats.iter().cloned().collect(),
            amount: Money::new(paid, order.total.currency.clone()),
            fully_refunded: true,
            refunded_at: now,
            fee: None,
            reason: RefundReason::ShowCancelled,
            payment_id: order.payment_id,
        }));
    }
    events.push(ShowEvent::ShowCancelled(ShowCancelled {
        show_id: show.info().map(|i| i.show_id).unwrap_or_default(),
        reason: reason.trim().to_owned(),
        cancelled_at: now,
    }));
    Ok(events)
}

fn validate_schedule(
    title: &str,
    starts_at: Timestamp,
    ends_at: Timestamp,
    seats: &[SeatSpec],
    prices: &BTreeMap<String, Money>,
    hold_ttl_seconds: u32,
    now: Timestamp,
) -> Result<(), DomainError> {
    let mut problems = Problems::default();
    let title_chars = title.trim().chars().count();
    problems.check(
        (1..=MAX_TITLE_CHARS).contains(&title_chars),
        "title",
        format!("must be 1 to {MAX_TITLE_CHARS} characters"),
    );
    problems.check(starts_at > now, "starts_at", "must be in the future");
    problems.check(ends_at > starts_at, "ends_at", "must be after starts_at");
    problems.check(
        (1..=MAX_SEATS_PER_SHOW).contains(&seats.len()),
        "seats",
        format!("a show has 1 to {MAX_SEATS_PER_SHOW} seats"),
    );
    problems.check(hold_ttl_seconds > 0, "hold_ttl_seconds", "must be positive");
    let mut seen = BTreeSet::new();
    let mut positions = BTreeSet::new();
    for (index, seat) in seats.iter().enumerate() {
        let field = format!("seats[{index}]");
        if !valid_label(seat.seat_id.as_str()) {
            problems.add(
                format!("{field}.seat_id"),
                format!("must be 1 to {MAX_LABEL_CHARS} characters without surrounding spaces"),
            );
        } else if !seen.insert(&seat.seat_id) {
            problems.add(
                format!("{field}.seat_id"),
                format!("seat {} is listed twice", seat.seat_id),
            );
        }
        if !valid_label(&seat.row) {
            problems.add(format!("{field}.row"), "must be a short label");
        }
        if seat.number == 0 {
            problems.add(format!("{field}.number"), "must be at least 1");
        } else if !positions.insert((&seat.row, seat.number)) {
            problems.add(
                format!("{field}.number"),
                format!("row {} already has a seat number {}", seat.row, seat.number),
            );
        }
        if !prices.contains_key(&seat.category) {
            problems.add(
                format!("{field}.category"),
                format!("category `{}` has no price", seat.category),
            );
        }
    }
    if prices.is_empty() {
        problems.add("prices", "at least one category needs a price");
    }
    let currencies: BTreeSet<_> = prices.values().map(|p| &p.currency).collect();
    problems.check(
        currencies.len() <= 1,
        "prices",
        "all prices of a show must be in one currency",
    );
    for (category, price) in prices {
        if !valid_label(category) {
            problems.add(
                format!("prices.{category}"),
                "category names are short labels",
            );
        }
        if price.amount_minor < 0 {
            problems.add(
                format!("prices.{category}.amount_minor"),
                "must not be negative",
            );
        }
    }
    problems.into_result()
}
