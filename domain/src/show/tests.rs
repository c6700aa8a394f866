//! Examples of the rules, written as given (past events) / when (a command at an instant) /
//! then (the events or the error that must follow).

use super::*;
use crate::testkit::*;
use crate::{DomainError, RefundId, SeatId, StoredEvent, Unavailability};
use chrono::Duration;

#[test]
fn holding_free_seats_prices_them_and_sets_the_expiry() {
    given(vec![scheduled()])
        .when(hold(1, "alice", &["A1", "贵宾2"]), t0())
        .then_expect(vec![held(1, "alice", &["A1", "贵宾2"], 12500)]);
}

#[test]
fn a_hold_is_all_or_nothing() {
    given(vec![scheduled(), held(1, "alice", &["A2"], 4500)])
        .when(hold(2, "bob", &["A1", "A2", "A3"]), t0())
        .then_error(DomainError::SeatsUnavailable {
            seats: seats(&["A2"]),
            reason: Unavailability::SeatsTaken,
        });
}

#[test]
fn a_refusal_of_seats_says_whether_to_pick_again_wait_or_give_up() {
    let two = || scheduled_with(vec![seat("A", 1, "regular"), seat("A", 2, "regular")]);
    let refused = |seats_taken: &[&str], reason| DomainError::SeatsUnavailable {
        seats: seats(seats_taken),
        reason,
    };
    // A2 is free: pick again.
    given(vec![two(), held(1, "alice", &["A1"], 4500)])
        .when(hold(2, "bob", &["A1"]), t0())
        .then_error(refused(&["A1"], Unavailability::SeatsTaken));
    // Nothing is free, but a hold may lapse: the waiting list.
    given(vec![
        two(),
        held(1, "alice", &["A1"], 4500),
        confirmed(2, "carol", &["A2"], 4500),
    ])
    .when(hold(3, "bob", &["A2"]), t0())
    .then_error(refused(&["A2"], Unavailability::HeldByOthers));
    // Everything is sold.
    given(vec![
        two(),
        confirmed(1, "alice", &["A1"], 4500),
        confirmed(2, "carol", &["A2"], 4500),
    ])
    .when(hold(3, "bob", &["A1"]), t0())
    .then_error(refused(&["A1"], Unavailability::ShowFull));
    // A hold past its expiry and grace counts as free: bob gets its seat.
    given(vec![
        two(),
        held(1, "alice", &["A1"], 4500),
        confirmed(2, "carol", &["A2"], 4500),
    ])
    .when(hold(3, "bob", &["A1"]), t0() + Duration::hours(1))
    .then_accepted();
}

#[test]
fn a_hold_takes_one_to_ten_distinct_known_seats() {
    let show = given(vec![scheduled()]);
    show.when(hold(1, "alice", &[]), t0())
        .then_code("validation_failed");
    show.when(hold(1, "alice", &["A1", "A1"]), t0())
        .then_code("validation_failed");
    show.when(hold(1, "alice", &["Z9"]), t0())
        .then_code("validation_failed");
    let eleven = [
        "A1", "A2", "A3", "A4", "A5", "贵宾1", "贵宾2", "贵宾3", "X", "Y", "Z",
    ];
    show.when(hold(1, "alice", &eleven), t0())
        .then_code("validation_failed");
}

#[test]
fn seats_cannot_be_held_for_an_unscheduled_or_started_show() {
    Show::default()
        .when(hold(1, "alice", &["A1"]), t0())
        .then_error(DomainError::ShowNotFound);
    given(vec![scheduled()])
        .when(hold(1, "alice", &["A1"]), t0() + Duration::hours(3))
        .then_error(DomainError::ShowStarted);
}

#[test]
fn a_hold_is_expired_only_after_its_expiry_plus_grace() {
    let show = given(vec![scheduled(), held(1, "alice", &["A1"], 4500)]);
    let expire = ShowCommand::ExpireHold {
        hold_id: hold_id(1),
    };
    let expirable_at = t0() + Duration::seconds(305);
    show.when(expire.clone(), expirable_at - Duration::milliseconds(1))
        .then_error(DomainError::HoldNotExpirable { expirable_at });
    show.when(expire, expirable_at)
        .then_expect(vec![ShowEvent::HoldExpired(HoldExpired {
            promo_code: None,
            hold_id: hold_id(1),
            seats: seats(&["A1"]),
            expired_at: expirable_at,
        })]);
}

#[test]
fn seats_of_a_lapsed_hold_can_be_held_again() {
    let later = t0() + Duration::seconds(306);
    let mut second = held(2, "bob", &["A1"], 4500);
    if let ShowEvent::SeatsHeld(e) = &mut second {
        e.held_at = later;
        e.expires_at = later + Duration::seconds(300);
    }
    given(vec![scheduled(), held(1, "alice", &["A1", "A2"], 9000)])
        .when(hold(2, "bob", &["A1"]), later)
        .then_expect(vec![
            ShowEvent::HoldExpired(HoldExpired {
                promo_code: None,
                hold_id: hold_id(1),
                seats: seats(&["A1", "A2"]),
                expired_at: later,
            }),
            second,
        ]);
}

#[test]
fn paying_the_exact_total_of_an_active_hold_sells_its_seats() {
    given(vec![scheduled(), held(1, "alice", &["A1", "A2"], 9000)])
        .when(confirm(1, "alice", 9000), t0() + Duration::seconds(60))
        .then_expect(vec![{
            let mut sold = confirmed(1, "alice", &["A1", "A2"], 9000);
            if let ShowEvent::HoldConfirmed(e) = &mut sold {
                e.pickup_code = Some(pickup_code(0, 1, &e.order_id));
            }
            sold
        }]);
}

#[test]
fn paying_the_wrong_amount_is_refused() {
    given(vec![scheduled(), held(1, "alice", &["A1", "A2"], 9000)])
        .when(confirm(1, "alice", 8999), t0())
        .then_error(DomainError::AmountMismatch {
            expected: cny(9000),
            paid: cny(8999),
        });
}

#[test]
fn a_hold_can_be_paid_during_the_grace_but_not_after() {
    let show = given(vec![scheduled(), held(1, "alice", &["A1"], 4500)]);
    show.when(confirm(1, "alice", 4500), t0() + Duration::seconds(304))
        .then_accepted();
    show.when(confirm(1, "alice", 4500), t0() + Duration::seconds(305))
        .then_error(DomainError::HoldExpired {
            expires_at: t0() + Duration::seconds(300),
        });
}

#[test]
fn a_customer_cannot_touch_someone_elses_hold() {
    let show = given(vec![scheduled(), held(1, "alice", &["A1"], 4500)]);
    show.when(confirm(1, "mallory", 4500), t0())
        .then_error(DomainError::HoldNotFound);
    show.when(release(1, "mallory"), t0())
        .then_error(DomainError::HoldNotFound);
}

#[test]
fn a_released_hold_frees_its_seats_and_cannot_be_paid() {
    let show = given(vec![
        scheduled(),
        held(1, "alice", &["A1"], 4500),
        ShowEvent::HoldReleased(HoldReleased {
            promo_code: None,
            hold_id: hold_id(1),
            seats: seats(&["A1"]),
            released_at: t0(),
        }),
    ]);
    assert_eq!(
        show.seat_status(&SeatId::new("A1")),
        Some(SeatStatus::Available)
    );
    show.when(confirm(1, "alice", 4500), t0())
        .then_error(DomainError::HoldReleased);
}

#[test]
fn a_partial_refund_frees_only_those_seats_at_their_price() {
    let show = given(vec![
        scheduled(),
        held(1, "alice", &["A1", "贵宾1"], 12500),
        confirmed(1, "alice", &["A1", "贵宾1"], 12500),
    ]);
    let refund = |labels: Option<&[&str]>| ShowCommand::RefundOrder {
        order_id: order_id(1),
        refund_id: RefundId(Uuid::from_u128(9)),
        requester: Requester::Customer(customer("alice")),
        seats: labels.map(seats),
    };
    show.when(refund(Some(&["贵宾1"])), t0())
        .then_expect(vec![refunded(1, "alice", &["贵宾1"], 8000, false)]);
    show.when(refund(Some(&["A2"])), t0())
        .then_error(DomainError::SeatsNotInOrder(seats(&["A2"])));
    show.when(refund(None), t0() + Duration::hours(3))
        .then_error(DomainError::ShowStarted);
}

#[test]
fn a_fully_refunded_order_cannot_be_refunded_again() {
    let show = given(vec![
        scheduled(),
        held(1, "alice", &["A1"], 4500),
        confirmed(1, "alice", &["A1"], 4500),
        refunded(1, "alice", &["A1"], 4500, true),
    ]);
    assert_eq!(
        show.seat_status(&SeatId::new("A1")),
        Some(SeatStatus::Available)
    );
    show.when(
        ShowCommand::RefundOrder {
            order_id: order_id(1),
            refund_id: RefundId(Uuid::from_u128(10)),
            requester: Requester::Staff,
            seats: None,
        },
        t0(),
    )
    .then_error(DomainError::OrderFullyRefunded);
}

#[test]
fn scheduling_rejects_bad_layouts_naming_every_field() {
    let ShowEvent::ShowScheduled(good) = scheduled() else {
        unreachable!()
    };
    let mut layout = good.seats.to_vec();
    layout.push(layout[0].clone());
    layout.push(SeatSpec {
        seat_id: SeatId::new("B1"),
        row: "B".into(),
        number: 1,
        category: "vip".into(),
        column: None,
        kind: None,
    });
    let command = ShowCommand::ScheduleShow {
        accessible_seating: None,
        ticket_prices: Default::default(),
        refund_policy: None,
        show_id: good.show_id,
        movie_id: good.movie_id,
        title: " ".into(),
        starts_at: good.starts_at,
        ends_at: good.starts_at,
        seats: layout,
        prices: good.prices.clone(),
        hold_ttl_seconds: 300,
        expiry_grace_seconds: 5,
        max_holds_per_customer: 1,
        waitlist_max_wait_seconds: 3600,
        venue: None,
    };
    Show::default().when(command, t0()).then_invalid(&[
        "title",
        "ends_at",
        "seats[8].seat_id",
        "seats[8].number",
        "seats[9].category",
    ]);
}

#[test]
fn a_show_is_scheduled_once() {
    let ShowEvent::ShowScheduled(e) = scheduled() else {
        unreachable!()
    };
    given(vec![scheduled()])
        .when(
            ShowCommand::ScheduleShow {
                accessible_seating: None,
                ticket_prices: Default::default(),
                refund_policy: None,
                show_id: e.show_id,
                movie_id: e.movie_id,
                title: e.title,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                seats: e.seats.to_vec(),
                prices: e.prices,
                hold_ttl_seconds: 300,
                expiry_grace_seconds: 5,
                max_holds_per_customer: 1,
                waitlist_max_wait_seconds: 3600,
                venue: None,
            },
            t0(),
        )
        .then_error(DomainError::ShowAlreadyScheduled);
}

#[test]
fn every_event_survives_the_trip_through_storage() {
    for event in [
        scheduled(),
        held(1, "alice", &["A1"], 4500),
        confirmed(1, "alice", &["A1"], 4500),
    ] {
        let stored = event.to_json();
        let read = ShowEvent::from_stored(event.event_type(), event.schema_version(), &stored);
        assert_eq!(read.unwrap(), event);
    }
    assert!(ShowEvent::from_stored("SeatsHeld", 2, &serde_json::json!({})).is_err());
    assert!(ShowEvent::from_stored("Nonsense", 1, &serde_json::json!({})).is_err());
}

#[test]
fn cancelling_a_show_releases_holds_closes_the_waiting_list_and_stops_sales() {
    let cancel = |reason: &str| ShowCommand::CancelShow {
        reason: reason.into(),
    };
    let (show, events) = given(vec![scheduled(), held(1, "alice", &["A1", "A2"], 9000)])
        .when(cancel("projector failure"), t0())
        .then_accepted();
    assert!(matches!(&events[0], ShowEvent::HoldReleased(e) if e.hold_id == hold_id(1)));
    assert!(
        matches!(events.last(), Some(ShowEvent::ShowCancelled(e)) if e.reason == "projector failure")
    );
    assert_eq!(show.counts().held, 0);
    show.when(hold(2, "bob", &["A1"]), t0())
        .then_error(DomainError::ShowCancelled);
    show.when(cancel("again"), t0())
        .then_error(DomainError::ShowCancelled);
}

#[test]
fn payment_refusals_are_stored_as_their_four_names() {
    let names = [
        (PaymentRefusal::SeatsTaken, "seats_taken"),
        (PaymentRefusal::HoldAlreadyPaid, "hold_already_paid"),
        (PaymentRefusal::ShowCancelled, "show_cancelled"),
        (PaymentRefusal::ShowStarted, "show_started"),
    ];
    for (refusal, name) in names {
        assert_eq!(refusal.as_str(), name);
        assert_eq!(refusal.to_string(), name);
        assert_eq!(
            serde_json::to_value(refusal).unwrap(),
            serde_json::json!(name)
        );
        assert_eq!(
            serde_json::from_value::<PaymentRefusal>(serde_json::json!(name)).unwrap(),
            refusal
        );
    }
    assert!(serde_json::from_value::<PaymentRefusal>(serde_json::json!("SeatsTaken")).is_err());
}

#[test]
fn a_payment_refused_as_stored_before_still_reads_and_writes_back_the_same() {
    let stored = serde_json::json!({
        "hold_id": "00000000-0000-0000-0000-000000000001",
        "payment_id": "00000000-0000-0000-0000-000000000007",
        "refund_id": "00000000-0000-0000-0000-000000000009",
        "customer_id": "alice",
        "amount": {"amount_minor": 4500, "currency": "CNY"},
        "reason": "seats_taken",
        "unavailable_seats": ["A1"],
        "refused_at": "2026-11-23T10:00:00Z"
    });
    let event = ShowEvent::from_stored("PaymentRefused", 1, &stored).unwrap();
    assert_eq!(
        event,
        ShowEvent::PaymentRefused(PaymentRefused {
            hold_id: hold_id(1),
            payment_id: Uuid::from_u128(7),
            refund_id: RefundId(Uuid::from_u128(9)),
            customer_id: customer("alice"),
            amount: cny(4500),
            reason: PaymentRefusal::SeatsTaken,
            unavailable_seats: seats(&["A1"]),
            refused_at: t0(),
        })
    );
    assert_eq!(event.to_json(), stored);
    for reason in ["hold_already_paid", "show_cancelled", "show_started"] {
        let mut older = stored.clone();
        older["reason"] = reason.into();
        older.as_object_mut().unwrap().remove("unavailable_seats");
        let event = ShowEvent::from_stored("PaymentRefused", 1, &older).unwrap();
        assert_eq!(event.to_json(), older);
    }
}
