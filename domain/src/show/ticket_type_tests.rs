//! Ticket types (adult, child, student, ...): each seat of a hold is priced as its type,
//! and the type stays with the seat through payment, partial refunds and exchanges, so
//! every amount is exact in minor units.

use super::*;
use crate::testkit::*;
use crate::RefundId;

/// The standard show (regular 45 CNY, premium 80 CNY) with child tickets at 22.50 on
/// regular seats and 40.01 on premium ones, and student tickets on regular seats only.
fn typed_show() -> ShowEvent {
    let ShowEvent::ShowScheduled(mut scheduled) = scheduled() else {
        unreachable!()
    };
    scheduled.ticket_prices = [
        (
            "child".to_owned(),
            [
                ("regular".to_owned(), cny(2250)),
                ("premium".to_owned(), cny(4001)),
            ]
            .into(),
        ),
        (
            "student".to_owned(),
            [("regular".to_owned(), cny(3000))].into(),
        ),
    ]
    .into();
    ShowEvent::ShowScheduled(scheduled)
}

fn typed(pairs: &[(&str, &str)]) -> BTreeMap<SeatId, String> {
    pairs
        .iter()
        .map(|(seat, t)| (SeatId::new(*seat), (*t).to_owned()))
        .collect()
}

fn hold_typed(id: u128, who: &str, labels: &[&str], types: &[(&str, &str)]) -> ShowCommand {
    ShowCommand::HoldSeats {
        admission: None,
        accessible: false,
        hold_id: hold_id(id),
        customer_id: customer(who),
        seats: seats(labels),
        ticket_types: typed(types),
        promo: None,
    }
}

/// Alice's order 1: A1 adult and A2 child (45.00 + 22.50), paid.
fn alice_with_a_child() -> Show {
    given(vec![typed_show()])
        .when(
            hold_typed(1, "alice", &["A1", "A2"], &[("A2", "child")]),
            t0(),
        )
        .then_accepted()
        .0
        .when(confirm(1, "alice", 6750), t0())
        .then_accepted()
        .0
}

fn refund(order: u128, who: &str, labels: &[&str]) -> ShowCommand {
    ShowCommand::RefundOrder {
        order_id: order_id(order),
        refund_id: RefundId(Uuid::from_u128(0x500 + order)),
        requester: Requester::Customer(customer(who)),
        seats: Some(seats(labels)),
    }
}

#[test]
fn each_seat_is_priced_as_its_ticket_type_and_the_type_stays_with_the_sale() {
    let (show, events) = given(vec![typed_show()])
        .when(
            hold_typed(
                1,
                "alice",
                &["A1", "A2", "A3", "贵宾1"],
                &[("A2", "child"), ("A3", "adult"), ("贵宾1", "child")],
            ),
            t0(),
        )
        .then_accepted();
    let ShowEvent::SeatsHeld(held) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(held.total, cny(4500 + 2250 + 4500 + 4001));
    assert_eq!(
        held.ticket_types,
        typed(&[("A2", "child"), ("贵宾1", "child")]),
        "adult is the default and is not written"
    );
    let (show, events) = show.when(confirm(1, "alice", 15251), t0()).then_accepted();
    let ShowEvent::HoldConfirmed(confirmed) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(confirmed.ticket_types, held.ticket_types);
    let order = show.order(&order_id(1)).unwrap();
    assert_eq!(order.seat_paid[&SeatId::new("A2")], 2250);
    assert_eq!(order.seat_paid[&SeatId::new("贵宾1")], 4001);

    // A child seat refunded gives back the child price, exactly.
    let (_, events) = show
        .when(refund(1, "alice", &["贵宾1"]), t0())
        .then_accepted();
    let ShowEvent::OrderRefunded(refunded) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(refunded.amount, cny(4001));
}

#[test]
fn a_type_the_show_does_not_sell_on_a_seat_or_for_a_seat_not_held_is_refused() {
    let show = given(vec![typed_show()]);
    show.when(hold_typed(1, "alice", &["A1"], &[("A1", "senior")]), t0())
        .then_invalid(&["ticket_types.A1"]);
    show.when(
        hold_typed(1, "alice", &["贵宾1"], &[("贵宾1", "student")]),
        t0(),
    )
    .then_invalid(&["ticket_types.贵宾1"]);
    show.when(hold_typed(1, "alice", &["A1"], &[("A2", "child")]), t0())
        .then_invalid(&["ticket_types.A2"]);
}

#[test]
fn best_available_gives_the_counted_types_to_the_first_seats_of_the_block() {
    let best = |counts: &[(&str, u32)], count: u32| ShowCommand::HoldBestAvailable {
        admission: None,
        hold_id: hold_id(1),
        customer_id: customer("alice"),
        count,
        category: Some("regular".into()),
        ticket_types: counts.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect(),
        promo: None,
    };
    let show = given(vec![typed_show()]);
    let (_, events) = show.when(best(&[("child", 2)], 3), t0()).then_accepted();
    let ShowEvent::SeatsHeld(held) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(held.seats.len(), 3);
    assert_eq!(held.total, cny(2250 * 2 + 4500));
    let children: Vec<&SeatId> = held.ticket_types.keys().collect();
    assert_eq!(children, [&held.seats[0], &held.seats[1]]);
    show.when(best(&[("child", 2), ("student", 2)], 3), t0())
        .then_invalid(&["ticket_types"]);
    show.when(best(&[("pensioner", 1)], 3), t0())
        .then_invalid(&["ticket_types.pensioner"]);
}

#[test]
fn an_exchanged_seat_keeps_its_type_and_the_difference_is_that_types() {
    let sold = alice_with_a_child();
    let exchange = |give: &str, take: &str| ShowCommand::ExchangeSeats {
        order_id: order_id(1),
        exchange_id: Uuid::from_u128(70),
        requester: Requester::Customer(customer("alice")),
        give_back: seats(&[give]),
        take: seats(&[take]),
    };
    let (show, events) = sold.when(exchange("A2", "贵宾2"), t0()).then_accepted();
    let ShowEvent::SeatsExchanged(exchanged) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        exchanged.charge,
        cny(4001 - 2250),
        "child premium less child regular"
    );
    let order = show.order(&order_id(1)).unwrap();
    assert_eq!(order.ticket_type(&SeatId::new("贵宾2")), "child");
    assert_eq!(order.seat_paid[&SeatId::new("贵宾2")], 4001);

    // Student tickets are not sold on premium seats: a student seat cannot move there.
    let student = given(vec![typed_show()])
        .when(hold_typed(1, "alice", &["A1"], &[("A1", "student")]), t0())
        .then_accepted()
        .0
        .when(confirm(1, "alice", 3000), t0())
        .then_accepted()
        .0;
    student
        .when(exchange("A1", "贵宾2"), t0())
        .then_invalid(&["take[0]"]);
}

#[test]
fn ticket_prices_must_name_the_shows_categories_in_its_currency() {
    let schedule = |ticket_prices: BTreeMap<String, BTreeMap<String, Money>>| {
        let ShowEvent::ShowScheduled(e) = scheduled() else {
            unreachable!()
        };
        ShowCommand::ScheduleShow {
            accessible_seating: None,
            show_id: e.show_id,
            movie_id: e.movie_id,
            title: e.title,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            seats: e.seats.to_vec(),
            prices: e.prices,
            ticket_prices,
            hold_ttl_seconds: 300,
            expiry_grace_seconds: 5,
            max_holds_per_customer: 1,
            waitlist_max_wait_seconds: 3600,
            venue: None,
            refund_policy: None,
        }
    };
    let usd = Money::new(100, crate::Currency::parse("USD").unwrap());
    let show = given(Vec::<ShowEvent>::new());
    show.when(
        schedule([("child".into(), [("balcony".into(), cny(100))].into())].into()),
        t0(),
    )
    .then_invalid(&["ticket_prices.child.balcony"]);
    show.when(
        schedule([("child".into(), [("regular".into(), usd)].into())].into()),
        t0(),
    )
    .then_invalid(&["ticket_prices.child.regular"]);
    show.when(
        schedule([("adult".into(), [("regular".into(), cny(100))].into())].into()),
        t0(),
    )
    .then_invalid(&["ticket_prices.adult"]);
    show.when(
        schedule([("Child Ticket".into(), [("regular".into(), cny(100))].into())].into()),
        t0(),
    )
    .then_invalid(&["ticket_prices.Child Ticket"]);
}

#[test]
fn an_order_moved_to_another_show_keeps_its_types_there_and_back() {
    // Alice's child ticket on A2 leaves for another show...
    let sold = alice_with_a_child();
    let (away, events) = sold
        .when(
            ShowCommand::TransferOut {
                order_id: order_id(1),
                exchange_id: Uuid::from_u128(50),
                requester: Requester::Customer(customer("alice")),
                seats: seats(&["A2"]),
                to_show_id: Uuid::from_u128(99),
                to_hold_id: hold_id(7),
            },
            t0(),
        )
        .then_accepted();
    let ShowEvent::OrderTransferredOut(out) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(out.ticket_types, typed(&[("A2", "child")]));
    assert_eq!(out.credit, cny(2250));
    // ... and comes back when that show refuses it: still a child ticket.
    let (back, _) = away
        .when(
            ShowCommand::RevertTransferOut {
                exchange_id: Uuid::from_u128(50),
            },
            t0(),
        )
        .then_accepted();
    assert_eq!(
        back.order(&order_id(1))
            .unwrap()
            .ticket_type(&SeatId::new("A2")),
        "child"
    );

    // On the other show, the seat held for it (priced as adult) becomes a child ticket.
    let other = given(vec![typed_show()])
        .when(hold_typed(7, "alice", &["贵宾1"], &[]), t0())
        .then_accepted()
        .0;
    let into = |ticket_types: Vec<String>| ShowCommand::TransferIn {
        hold_id: hold_id(7),
        order_id: order_id(9),
        exchange_id: Uuid::from_u128(50),
        customer_id: customer("alice"),
        from_show_id: Uuid::from_u128(98),
        from_order_id: order_id(1),
        movie_id: Uuid::from_u128(2),
        credit: cny(2250),
        payment_id: None,
        ticket_types,
    };
    let (arrived, events) = other.when(into(vec!["child".into()]), t0()).then_accepted();
    let [ShowEvent::HoldConfirmed(confirmed), ShowEvent::OrderTransferredIn(transferred)] =
        &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(confirmed.total, cny(4001));
    assert_eq!(confirmed.ticket_types, typed(&[("贵宾1", "child")]));
    assert_eq!(transferred.charge, cny(4001 - 2250));
    assert_eq!(
        arrived
            .order(&order_id(9))
            .unwrap()
            .ticket_type(&SeatId::new("贵宾1")),
        "child"
    );
    // A type that show does not sell there is refused (and the transfer is undone).
    other
        .when(into(vec!["student".into()]), t0())
        .then_invalid(&["take[0]"]);
}
