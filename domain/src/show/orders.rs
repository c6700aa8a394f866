//! What a paid order can go through: refunds (under the show's refund policy), exchanges
//! to other seats of the same show, and exchanges to another show of the same movie, which
//! take three steps over two streams (see `commands/src/exchanges.rs`): the seats leave the
//! order here ([`transfer_out`]), the other show sells its hold for their value
//! ([`transfer_in`]), and if that fails the first step is undone ([`revert_transfer`]).

use super::command::Requester;
use super::event::*;
use super::holds::{
    active_hold, expire_lapsed, lapsed_holds_on, unavailable, validate_seat_list,
    validate_seat_selection, MAX_SEATS_PER_HOLD,
};
use super::{accessible, tickets, Order, SeatStatus, Show, ADULT};
use crate::{CustomerId, DomainError, HoldId, Money, OrderId, RefundId, SeatId, Timestamp};
use chrono::Duration;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where the credit that pays for a transfer in comes from: the order on another show of
/// the same movie that gave its seats up, and what they were worth.
pub(super) struct Credit<'a> {
    pub from_show_id: Uuid,
    pub from_order_id: OrderId,
    pub movie_id: Uuid,
    pub amount: &'a Money,
    pub payment_id: Option<Uuid>,
    /// The ticket type of each seat given up, in order: the seats held here take them,
    /// pairwise.
    pub ticket_types: &'a [String],
}

/// Refunds seats of an order: customers under the show's refund policy until it starts,
/// staff in full at any time.
pub(super) fn refund(
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
    if !by_staff {
        tickets::not_checked_in(show, &refunded)?;
    }
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
pub(super) fn exchange(
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
    info.before_start(now)?;
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
    tickets::not_checked_in(show, give_back)?;
    // A wheelchair user's party (an order that owns a wheelchair space) may move among the
    // kept accessible seats, as a party with the seats it keeps; nobody else may move in.
    let wheelchair_party = order
        .seats
        .iter()
        .any(|seat| show.seat_kind(seat) == Some(super::SeatKind::Wheelchair));
    let kept: Vec<SeatId> = order
        .seats
        .iter()
        .filter(|seat| !give_back.contains(seat))
        .cloned()
        .collect();
    accessible::check_hold(show, take, wheelchair_party, &kept)?;
    let lapsed =
        lapsed_holds_on(show, take, None, now).map_err(|taken| unavailable(show, taken, now))?;
    let currency = order.total.currency.clone();
    let mut moves = Vec::with_capacity(take.len());
    let mut difference: i64 = 0;
    for (index, (from, to)) in give_back.iter().zip(take).enumerate() {
        // The new seat keeps the old one's ticket type, so the show must sell it there.
        let ticket_type = order.ticket_type(from);
        let price_to = show.price_of(to, ticket_type).ok_or_else(|| {
            DomainError::invalid(
                format!("take[{index}]"),
                format!("this show sells no `{ticket_type}` ticket on seat {to}"),
            )
        })?;
        let price_from = show
            .price_of(from, ticket_type)
            .map_or(0, |p| p.amount_minor);
        let old_paid = order.seat_paid.get(from).copied().unwrap_or(0);
        let new_paid = (old_paid + price_to.amount_minor - price_from).max(0);
        difference += new_paid - old_paid;
        moves.push(SeatMove {
            from: from.clone(),
            to: to.clone(),
            paid_minor: new_paid,
            ticket_type: (ticket_type != ADULT).then(|| ticket_type.to_owned()),
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

/// Takes seats out of an order for an exchange to another show; their paid value becomes
/// the credit the new order there is paid with.
pub(super) fn transfer_out(
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
    info.before_start(now)?;
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
    tickets::not_checked_in(show, seats)?;
    let paid_minor: Vec<i64> = seats
        .iter()
        .map(|s| order.seat_paid.get(s).copied().unwrap_or(0))
        .collect();
    let ticket_types = seats
        .iter()
        .filter_map(|s| Some((s.clone(), order.ticket_types.get(s)?.clone())))
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
        ticket_types,
    })])
}

/// The held seats become an order paid by a credit from another show; the difference is
/// charged or refunded.
pub(super) fn transfer_in(
    show: &Show,
    (hold_id, order_id): (&HoldId, &OrderId),
    exchange_id: &Uuid,
    customer_id: &CustomerId,
    credit: Credit,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    if credit.movie_id != info.movie_id {
        return Err(DomainError::invalid(
            "to_show_id",
            "an exchange is to another show of the same movie",
        ));
    }
    if show.transferred_in(exchange_id).is_some() {
        return Err(DomainError::DuplicateId(format!("exchange {exchange_id}")));
    }
    info.before_start(now)?;
    let requester = Requester::Customer(customer_id.clone());
    let hold = active_hold(show, hold_id, &requester, Some(now))?;
    if credit.amount.currency != hold.total.currency {
        return Err(DomainError::invalid(
            "to_show_id",
            "the other show is sold in another currency",
        ));
    }
    // The hold was priced as adult tickets; the seats take the given-up seats' types.
    let mut ticket_types = BTreeMap::new();
    let mut total = Money::zero(hold.total.currency.clone());
    for (index, seat) in hold.seats.iter().enumerate() {
        let ticket_type = credit.ticket_types.get(index).map_or(ADULT, String::as_str);
        let price = show.price_of(seat, ticket_type).ok_or_else(|| {
            DomainError::invalid(
                format!("take[{index}]"),
                format!("that show sells no `{ticket_type}` ticket on seat {seat}"),
            )
        })?;
        total = total
            .checked_add(price)
            .ok_or_else(|| DomainError::invalid("take", "the total cannot be computed"))?;
        if ticket_type != ADULT {
            ticket_types.insert(seat.clone(), ticket_type.to_owned());
        }
    }
    let difference = total.amount_minor - credit.amount.amount_minor;
    let currency = total.currency.clone();
    Ok(vec![
        ShowEvent::HoldConfirmed(HoldConfirmed {
            hold_id: *hold_id,
            order_id: *order_id,
            customer_id: hold.customer_id.clone(),
            seats: hold.seats.clone(),
            total,
            payment_reference: format!("{TRANSFER_REFERENCE}{exchange_id}"),
            confirmed_at: now,
            payment_id: credit.payment_id,
            after_expiry: false,
            pickup_code: Some(show.next_pickup_code(order_id)),
            ticket_types,
        }),
        ShowEvent::OrderTransferredIn(OrderTransferredIn {
            order_id: *order_id,
            hold_id: *hold_id,
            exchange_id: *exchange_id,
            customer_id: hold.customer_id.clone(),
            payment_id: credit.payment_id,
            from_show_id: credit.from_show_id,
            from_order_id: credit.from_order_id,
            credit: credit.amount.clone(),
            charge: Money::new(difference.max(0), currency.clone()),
            refund: Money::new((-difference).max(0), currency),
            transferred_at: now,
        }),
    ])
}

/// Undoes a transfer out: seats still free go back to the order; the paid value of those
/// sold meanwhile is refunded in full.
pub(super) fn revert_transfer(
    show: &Show,
    exchange_id: Uuid,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let transfer = show
        .transfer(&exchange_id)
        .ok_or(DomainError::OrderNotFound)?;
    let grace = show.grace();
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
    let ticket_types = back
        .0
        .iter()
        .filter_map(|s| Some((s.clone(), transfer.ticket_types.get(s)?.clone())))
        .collect();
    events.push(ShowEvent::TransferReverted(TransferReverted {
        order_id: transfer.order_id,
        exchange_id,
        ticket_types,
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

/// The order, if the requester may act on it.
fn owned_order<'a>(
    show: &'a Show,
    order_id: &OrderId,
    requester: &Requester,
) -> Result<&'a Order, DomainError> {
    show.order(order_id)
        .filter(|order| requester.may_act_for(&order.customer_id))
        .ok_or(DomainError::OrderNotFound)
}

/// Refuses seats the order does not own (now).
fn in_order(order: &Order, seats: &[SeatId]) -> Result<(), DomainError> {
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
