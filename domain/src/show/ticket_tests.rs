//! Tickets at the door: issued with every seat sold, void when the seat leaves its order,
//! admitted once, by QR code or by the order's pickup code, only while the doors are open.

use super::*;
use crate::testkit::*;
use crate::DomainError;
use chrono::Duration;

/// The doors open an hour before the start (t0 + 3 h).
fn door(name: &str) -> Door {
    Door {
        name: name.into(),
        opens_minutes_before: 60,
    }
}

fn at_the_door() -> Timestamp {
    t0() + Duration::minutes(150)
}

/// Alice's order 1 (A1, A2) paid at the counter through the aggregate, so it has its code.
fn sold() -> Show {
    let show = given(vec![scheduled(), held(1, "alice", &["A1", "A2"], 9000)]);
    show.when(confirm(1, "alice", 9000), t0()).then_accepted().0
}

/// Alice exchanges A1 of her order for A3.
fn a1_for_a3() -> ShowCommand {
    ShowCommand::ExchangeSeats {
        order_id: order_id(1),
        exchange_id: Uuid::from_u128(70),
        requester: Requester::Customer(customer("alice")),
        give_back: seats(&["A1"]),
        take: seats(&["A3"]),
    }
}

fn scan(show: &Show, seat: &str) -> ShowCommand {
    let ticket = show.ticket(&SeatId::new(seat)).expect("a valid ticket");
    ShowCommand::CheckIn {
        presented: Presented::Ticket {
            seat_id: SeatId::new(seat),
            ticket_id: ticket.ticket_id,
            version: ticket.version,
        },
        door: door("north"),
    }
}

#[test]
fn a_paid_seat_has_a_ticket_and_its_order_a_pickup_code() {
    let show = sold();
    let ticket = show.ticket(&SeatId::new("A1")).unwrap();
    assert_eq!(ticket.version, 1);
    assert_eq!(ticket.order_id, order_id(1));
    assert_ne!(
        ticket.ticket_id,
        show.ticket(&SeatId::new("A2")).unwrap().ticket_id
    );
    assert!(
        show.ticket(&SeatId::new("A3")).is_none(),
        "unsold: no ticket"
    );
    let code = show
        .order(&order_id(1))
        .unwrap()
        .pickup_code
        .clone()
        .unwrap();
    assert_eq!(code.len(), 10);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    // A show outside the catalogue is number 0 of its day; this is its first order.
    assert!(code.starts_with("0000001"), "{code}");
}

#[test]
fn pickup_codes_differ_per_order_and_per_show_of_the_day() {
    let a = pickup_code(1, 1, &order_id(5));
    assert_ne!(a, pickup_code(1, 2, &order_id(5)));
    assert_ne!(a, pickup_code(2, 1, &order_id(5)));
    assert_eq!(&a[..7], "0010001");
}

#[test]
fn a_ticket_is_let_in_once_and_the_second_scan_says_when_and_where() {
    let show = sold();
    let (show, events) = show.when(scan(&show, "A1"), at_the_door()).then_accepted();
    let [ShowEvent::TicketsCheckedIn(e)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(e.tickets.len(), 1);
    assert_eq!(e.method, CheckInMethod::Qr);
    show.when(scan(&show, "A1"), at_the_door() + Duration::minutes(1))
        .then_error(DomainError::AlreadyCheckedIn {
            at: at_the_door(),
            door: "north".into(),
        });
    // The other seat of the order is still expected.
    show.when(scan(&show, "A2"), at_the_door()).then_accepted();
}

#[test]
fn a_pickup_code_lets_in_what_of_the_order_is_not_in_yet() {
    let show = sold();
    let code = show
        .order(&order_id(1))
        .unwrap()
        .pickup_code
        .clone()
        .unwrap();
    let by_code = |code: &str| ShowCommand::CheckIn {
        presented: Presented::PickupCode(code.into()),
        door: door("south"),
    };
    let (show, _) = show.when(scan(&show, "A1"), at_the_door()).then_accepted();
    let (show, events) = show.when(by_code(&code), at_the_door()).then_accepted();
    let [ShowEvent::TicketsCheckedIn(e)] = &events[..] else {
        panic!("{events:?}")
    };
    let seats: Vec<&str> = e.tickets.iter().map(|t| t.seat_id.as_str()).collect();
    assert_eq!(seats, ["A2"]);
    show.when(by_code(&code), at_the_door())
        .then_code("already_checked_in");
    show.when(by_code("0000000000"), at_the_door())
        .then_error(DomainError::TicketNotFound);
}

#[test]
fn a_refunded_or_exchanged_seat_s_ticket_is_void_and_its_replacement_is_a_new_version() {
    let show = sold();
    let old = scan(&show, "A1");
    let (show, _) = show.when(a1_for_a3(), t0()).then_accepted();
    show.when(old, at_the_door())
        .then_error(DomainError::TicketVoid);
    assert_eq!(show.ticket(&SeatId::new("A3")).unwrap().version, 1);
    show.when(scan(&show, "A3"), at_the_door()).then_accepted();

    // A2 refunded, then sold to bob: his ticket is the seat's second.
    let refund_a2 = scan(&show, "A2");
    let show = given_more(
        show,
        vec![
            refunded(1, "alice", &["A2"], 4500, false),
            held(2, "bob", &["A2"], 4500),
            confirmed(2, "bob", &["A2"], 4500),
        ],
    );
    show.when(refund_a2, at_the_door())
        .then_error(DomainError::TicketVoid);
    let ticket = show.ticket(&SeatId::new("A2")).unwrap();
    assert_eq!((ticket.version, ticket.order_id), (2, order_id(2)));
}

fn given_more(show: Show, events: Vec<ShowEvent>) -> Show {
    events.iter().fold(show, Show::evolve)
}

#[test]
fn the_doors_open_before_the_start_and_close_at_the_end() {
    let show = sold();
    let starts_at = t0() + Duration::hours(3);
    show.when(scan(&show, "A1"), starts_at - Duration::minutes(61))
        .then_error(DomainError::CheckInNotOpen {
            opens_at: starts_at - Duration::minutes(60),
        });
    show.when(scan(&show, "A1"), t0() + Duration::hours(5))
        .then_error(DomainError::ShowEnded);
    // Late comers are let in until the end.
    show.when(scan(&show, "A1"), t0() + Duration::hours(4))
        .then_accepted();
}

#[test]
fn seats_let_in_cannot_be_refunded_or_exchanged_by_the_customer_but_staff_may_refund() {
    let show = sold();
    let (show, _) = show.when(scan(&show, "A1"), at_the_door()).then_accepted();
    let refund = |requester| ShowCommand::RefundOrder {
        order_id: order_id(1),
        refund_id: crate::RefundId(Uuid::from_u128(80)),
        requester,
        seats: None,
    };
    show.when(
        refund(Requester::Customer(customer("alice"))),
        at_the_door(),
    )
    .then_error(DomainError::SeatsCheckedIn(seats(&["A1"])));
    show.when(a1_for_a3(), at_the_door())
        .then_code("seats_checked_in");
    show.when(refund(Requester::Staff), at_the_door())
        .then_accepted();
}

#[test]
fn a_door_must_be_named() {
    let show = sold();
    let ShowCommand::CheckIn { presented, .. } = scan(&show, "A1") else {
        unreachable!()
    };
    show.when(
        ShowCommand::CheckIn {
            presented,
            door: door("  "),
        },
        at_the_door(),
    )
    .then_invalid(&["door"]);
}
