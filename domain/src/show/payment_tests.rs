//! The rules around money: provider payments (and late ones), the refund policy and its
//! fee, discounts shared over seats, exchanges, and a cancellation refunding every order.

use super::*;
use crate::promo::{Discount, PromoCode, PromoOffer, PromoScope};
use crate::testkit::*;
use crate::{DomainError, RefundId};
use chrono::Duration;

fn request(hold: u128, who: &str, payment: u128) -> ShowCommand {
    ShowCommand::RequestPayment {
        hold_id: hold_id(hold),
        payment_id: Uuid::from_u128(payment),
        requester: Requester::Customer(customer(who)),
        method: crate::payment::PaymentMethod::Card,
    }
}

fn settle(payment: u128, order: u128) -> ShowCommand {
    ShowCommand::SettlePayment {
        payment_id: Uuid::from_u128(payment),
        order_id: order_id(order),
    }
}

fn with_policy(policy: RefundPolicy) -> ShowEvent {
    let ShowEvent::ShowScheduled(mut e) = scheduled() else {
        unreachable!()
    };
    e.refund_policy = Some(policy);
    ShowEvent::ShowScheduled(e)
}

/// A show (starting at t0 + 3 h) where alice paid for A1 and A2 through payment 7.
fn paid(policy: Option<RefundPolicy>) -> Show {
    let (show, _) = given(vec![
        policy.map_or_else(scheduled, with_policy),
        held(1, "alice", &["A1", "A2"], 9000),
    ])
    .when(request(1, "alice", 7), t0())
    .then_accepted();
    show.when(settle(7, 1), t0() + Duration::seconds(30))
        .then_accepted()
        .0
}

/// A promo code taking `discount` off anywhere.
fn offer(code: &str, discount: Discount) -> PromoOffer {
    PromoOffer {
        code: PromoCode::parse(code).unwrap(),
        discount,
        scope: PromoScope::default(),
    }
}

#[test]
fn a_payment_starts_only_on_the_requesters_payable_hold_and_settles_it() {
    let show = given(vec![scheduled(), held(1, "alice", &["A1"], 4500)]);
    show.when(request(1, "bob", 7), t0())
        .then_error(DomainError::HoldNotFound);
    let late = t0() + Duration::seconds(306);
    show.when(request(1, "alice", 7), late)
        .then_code("hold_expired");
    let (show, events) = show.when(request(1, "alice", 7), t0()).then_accepted();
    assert!(matches!(&events[..], [ShowEvent::PaymentRequested(e)] if e.amount == cny(4500)));
    let (show, events) = show
        .when(settle(7, 1), t0() + Duration::seconds(10))
        .then_accepted();
    let [ShowEvent::HoldConfirmed(confirmed)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(confirmed.payment_id, Some(Uuid::from_u128(7)));
    assert!(!confirmed.after_expiry);
    // Settling again is no second order.
    show.when(settle(7, 1), t0() + Duration::seconds(20))
        .then_code("hold_already_confirmed");
    show.when(settle(99, 2), t0())
        .then_error(DomainError::PaymentNotFound);
}

#[test]
fn a_late_payment_buys_seats_still_free_and_is_refused_when_they_are_gone() {
    let (show, _) = given(vec![
        scheduled(),
        held(1, "alice", &["A1"], 4500),
        held(2, "carol", &["A3"], 4500),
    ])
    .when(request(1, "alice", 7), t0())
    .then_accepted();
    let (show, _) = show.when(request(2, "carol", 8), t0()).then_accepted();
    let later = t0() + Duration::minutes(6);
    // Bob takes A1 after alice's hold lapsed.
    let (show, _) = show.when(hold(3, "bob", &["A1"]), later).then_accepted();
    let (show, events) = show.when(settle(7, 1), later).then_accepted();
    let [ShowEvent::PaymentRefused(refused)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(refused.reason, PaymentRefusal::SeatsTaken);
    assert_eq!(refused.unavailable_seats, seats(&["A1"]));
    assert_eq!(refused.amount, cny(4500));
    // Carol's seat is still free: her late payment buys it (her lapsed hold ends first).
    let (show, events) = show.when(settle(8, 2), later).then_accepted();
    assert!(
        matches!(&events[..], [ShowEvent::HoldConfirmed(e)] if e.after_expiry),
        "{events:?}"
    );
    assert_eq!(
        show.seat_status(&SeatId::new("A3")),
        Some(SeatStatus::Sold(order_id(2)))
    );
    // A second payment of a paid hold is refused (and so refunded).
    let (show, _) = show.when(request(3, "bob", 9), later).then_accepted();
    let (show, _) = show.when(settle(9, 3), later).then_accepted();
    let show = show.evolve(&ShowEvent::PaymentRequested(PaymentRequested {
        hold_id: hold_id(3),
        payment_id: Uuid::from_u128(10),
        customer_id: customer("bob"),
        method: crate::payment::PaymentMethod::Card,
        amount: cny(4500),
        requested_at: later,
    }));
    let (_, events) = show.when(settle(10, 4), later).then_accepted();
    assert!(
        matches!(&events[..], [ShowEvent::PaymentRefused(e)] if e.reason == PaymentRefusal::HoldAlreadyPaid),
        "{events:?}"
    );
}

#[test]
fn customers_pay_the_policys_fee_close_to_the_start_and_staff_refund_in_full() {
    let policy = RefundPolicy {
        full_refund_until_minutes: 120,
        fee_percent: 15,
    };
    let refund = |who: Requester, n: u128| ShowCommand::RefundOrder {
        order_id: order_id(1),
        refund_id: RefundId(Uuid::from_u128(n)),
        requester: who,
        seats: Some(seats(&["A1"])),
    };
    let alice = || Requester::Customer(customer("alice"));
    let (_, early) = paid(Some(policy))
        .when(refund(alice(), 1), t0())
        .then_accepted();
    assert!(
        matches!(&early[..], [ShowEvent::OrderRefunded(e)] if e.amount == cny(4500) && e.fee.is_none())
    );
    // Inside the last two hours: 45.00 less 15%.
    let close = t0() + Duration::minutes(90);
    let (_, late) = paid(Some(policy))
        .when(refund(alice(), 2), close)
        .then_accepted();
    assert!(
        matches!(&late[..], [ShowEvent::OrderRefunded(e)]
            if e.amount == cny(3825) && e.fee == Some(cny(675))
                && e.reason == RefundReason::CustomerRequest),
        "{late:?}"
    );
    let (_, by_staff) = paid(Some(policy))
        .when(refund(Requester::Staff, 3), close)
        .then_accepted();
    assert!(matches!(&by_staff[..], [ShowEvent::OrderRefunded(e)]
            if e.amount == cny(4500) && e.reason == RefundReason::Staff));
    let started = t0() + Duration::hours(3);
    paid(Some(policy))
        .when(refund(alice(), 4), started)
        .then_error(DomainError::ShowStarted);
}

#[test]
fn a_discount_is_shared_over_the_seats_so_refunds_never_return_more_than_was_paid() {
    let held = ShowCommand::HoldSeats {
        admission: None,
        accessible: false,
        ticket_types: Default::default(),
        hold_id: hold_id(1),
        customer_id: customer("alice"),
        seats: seats(&["A1", "贵宾1", "A2"]),
        promo: Some(offer("third-off", Discount::Percent(33))),
    };
    let (show, events) = given(vec![scheduled()]).when(held, t0()).then_accepted();
    // 45 + 80 + 45 = 170.00; 33% off is 56.10.
    let [ShowEvent::SeatsHeld(e)] = &events[..] else {
        panic!()
    };
    assert_eq!(e.total, cny(11390));
    assert_eq!(
        e.discount.as_ref().map(|d| d.amount.clone()),
        Some(cny(5610))
    );
    let (show, _) = show.when(request(1, "alice", 7), t0()).then_accepted();
    let (show, _) = show.when(settle(7, 1), t0()).then_accepted();
    let refund = |n: u128, labels: &[&str]| ShowCommand::RefundOrder {
        order_id: order_id(1),
        refund_id: RefundId(Uuid::from_u128(n)),
        requester: Requester::Customer(customer("alice")),
        seats: Some(seats(labels)),
    };
    let (show, first) = show.when(refund(1, &["A1"]), t0()).then_accepted();
    let (show, second) = show.when(refund(2, &["贵宾1"]), t0()).then_accepted();
    let (_, third) = show.when(refund(3, &["A2"]), t0()).then_accepted();
    let amounts: Vec<i64> = [first, second, third]
        .iter()
        .flatten()
        .filter_map(|e| match e {
            ShowEvent::OrderRefunded(e) => Some(e.amount.amount_minor),
            _ => None,
        })
        .collect();
    assert_eq!(amounts, [3015, 5360, 3015], "in proportion to the prices");
    assert_eq!(amounts.iter().sum::<i64>(), 11390, "exactly what was paid");
}

#[test]
fn an_exchange_moves_seats_at_once_and_settles_the_difference() {
    let show = paid(None);
    let exchange = |n: u128, give: &[&str], take: &[&str]| ShowCommand::ExchangeSeats {
        order_id: order_id(1),
        exchange_id: Uuid::from_u128(n),
        requester: Requester::Customer(customer("alice")),
        give_back: seats(give),
        take: seats(take),
    };
    let (show, events) = show
        .when(exchange(1, &["A2"], &["贵宾2"]), t0())
        .then_accepted();
    let [ShowEvent::SeatsExchanged(e)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!((e.charge.clone(), e.refund.clone()), (cny(3500), cny(0)));
    assert_eq!(e.payment_id, Some(Uuid::from_u128(7)));
    assert_eq!(
        show.seat_status(&SeatId::new("A2")),
        Some(SeatStatus::Available)
    );
    let order = show.order(&order_id(1)).unwrap();
    assert_eq!(
        order.seats,
        [SeatId::new("A1"), SeatId::new("贵宾2")].into()
    );
    // All or nothing: one seat taken, nothing moves.
    let (show, _) = show.when(hold(5, "bob", &["A5"]), t0()).then_accepted();
    show.when(exchange(2, &["A1", "贵宾2"], &["A4", "A5"]), t0())
        .then_error(DomainError::SeatsUnavailable {
            seats: seats(&["A5"]),
            reason: crate::Unavailability::SeatsTaken,
        });
    show.when(exchange(3, &["A3"], &["A4"]), t0())
        .then_error(DomainError::SeatsNotInOrder(seats(&["A3"])));
    show.when(exchange(4, &["A1"], &["A4", "A3"]), t0())
        .then_code("validation_failed");
    let (_, events) = show
        .when(exchange(5, &["贵宾2"], &["A4"]), t0())
        .then_accepted();
    assert!(
        matches!(&events[..], [ShowEvent::SeatsExchanged(e)] if e.refund == cny(3500)),
        "{events:?}"
    );
}

#[test]
fn cancelling_refunds_every_order_in_full_whatever_the_policy() {
    let show = paid(Some(RefundPolicy {
        full_refund_until_minutes: 0,
        fee_percent: 100,
    }));
    let (show, events) = show
        .when(
            ShowCommand::CancelShow {
                reason: "停电".into(),
            },
            t0() + Duration::minutes(170),
        )
        .then_accepted();
    let refunds: Vec<&OrderRefunded> = events
        .iter()
        .filter_map(|e| match e {
            ShowEvent::OrderRefunded(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount, cny(9000));
    assert_eq!(refunds[0].reason, RefundReason::ShowCancelled);
    assert_eq!(refunds[0].payment_id, Some(Uuid::from_u128(7)));
    assert_eq!(show.counts().sold, 0);
}

#[test]
fn a_transfer_out_is_undone_with_the_seats_back_or_their_value_refunded() {
    let show = paid(None);
    let out = ShowCommand::TransferOut {
        order_id: order_id(1),
        exchange_id: Uuid::from_u128(50),
        requester: Requester::Customer(customer("alice")),
        seats: seats(&["A1", "A2"]),
        to_show_id: Uuid::from_u128(99),
        to_hold_id: hold_id(60),
    };
    let (show, events) = show.when(out, t0()).then_accepted();
    assert!(
        matches!(&events[..], [ShowEvent::OrderTransferredOut(e)] if e.credit == cny(9000)),
        "{events:?}"
    );
    assert_eq!(show.counts().sold, 0);
    // Bob buys A2 meanwhile; undoing gives A1 back and refunds A2's 45.00.
    let (show, _) = show.when(hold(2, "bob", &["A2"]), t0()).then_accepted();
    let revert = ShowCommand::RevertTransferOut {
        exchange_id: Uuid::from_u128(50),
    };
    let (show, events) = show.when(revert.clone(), t0()).then_accepted();
    let [ShowEvent::TransferReverted(back), ShowEvent::OrderRefunded(refund)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(back.seats, seats(&["A1"]));
    assert_eq!(refund.amount, cny(4500));
    assert_eq!(refund.reason, RefundReason::ExchangeFailed);
    assert_eq!(
        show.seat_status(&SeatId::new("A1")),
        Some(SeatStatus::Sold(order_id(1)))
    );
    // Undone once.
    show.when(revert, t0())
        .then_error(DomainError::OrderNotFound);
    // A transfer in checks the movie.
    let into = |movie: u128| ShowCommand::TransferIn {
        ticket_types: Default::default(),
        hold_id: hold_id(2),
        order_id: order_id(9),
        exchange_id: Uuid::from_u128(51),
        customer_id: customer("bob"),
        from_show_id: Uuid::from_u128(98),
        from_order_id: order_id(8),
        movie_id: Uuid::from_u128(movie),
        credit: cny(8000),
        payment_id: None,
    };
    show.when(into(3), t0()).then_code("validation_failed");
    let (_, events) = show.when(into(2), t0()).then_accepted();
    assert!(
        matches!(&events[..], [ShowEvent::HoldConfirmed(_), ShowEvent::OrderTransferredIn(e)]
            if e.refund == cny(3500) && e.charge == cny(0)),
        "{events:?}"
    );
}

#[test]
fn a_discounted_hold_that_ends_unpaid_names_its_code_so_the_use_goes_back() {
    let offer = offer("spring", Discount::Percent(10));
    let hold = |n: u128, who: &str, seat: &str| ShowCommand::HoldSeats {
        admission: None,
        accessible: false,
        ticket_types: Default::default(),
        hold_id: hold_id(n),
        customer_id: customer(who),
        seats: seats(&[seat]),
        promo: Some(offer.clone()),
    };
    let (show, _) = given(vec![scheduled()])
        .when(hold(1, "alice", "A1"), t0())
        .then_accepted();
    let (show, _) = show.when(hold(2, "bob", "A2"), t0()).then_accepted();
    let (show, events) = show.when(release(1, "alice"), t0()).then_accepted();
    assert!(
        matches!(&events[..], [ShowEvent::HoldReleased(e)] if e.promo_code == Some(offer.code.clone()))
    );
    let late = t0() + Duration::minutes(6);
    let (_, events) = show
        .when(
            ShowCommand::ExpireHold {
                hold_id: hold_id(2),
            },
            late,
        )
        .then_accepted();
    assert!(
        matches!(&events[..], [ShowEvent::HoldExpired(e)] if e.promo_code == Some(offer.code.clone()))
    );
}
