//! Examples for best-available seats and the per-customer hold limit, so the ranking the
//! `best` module documents is pinned down seat by seat.

use super::best::best_available;
use super::*;
use crate::testkit::*;
use crate::DomainError;
use chrono::Duration;

/// A hall of `rows` rows (A nearest the screen) of `per_row` seats; row `premium_row` premium.
fn hall(rows: u8, per_row: u32, premium_row: Option<u8>) -> ShowEvent {
    scheduled_with(
        (0..rows)
            .flat_map(|r| {
                let row = char::from(b'A' + r).to_string();
                let category = if Some(r) == premium_row {
                    "premium"
                } else {
                    "regular"
                };
                (1..=per_row).map(move |n| seat(&row, n, category))
            })
            .collect(),
    )
}

fn best(show: &Show, count: usize, category: Option<&str>) -> Vec<String> {
    best_available(show, count, category, t0())
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.0)
        .collect()
}

fn sold(id: u128, who: &str, labels: &[&str]) -> Vec<ShowEvent> {
    let held = held(id, who, labels, 0);
    let ShowEvent::SeatsHeld(h) = &held else {
        unreachable!()
    };
    let confirmed = ShowEvent::HoldConfirmed(HoldConfirmed {
        after_expiry: false,
        payment_id: None,
        hold_id: h.hold_id,
        order_id: crate::OrderId(uuid::Uuid::from_u128(0x9000 + id)),
        customer_id: h.customer_id.clone(),
        seats: h.seats.clone(),
        total: cny(0),
        payment_reference: "p".into(),
        confirmed_at: t0(),
    });
    vec![held, confirmed]
}

#[test]
fn best_available_is_the_centre_of_the_row_two_thirds_back() {
    // Given an empty hall of 9 rows (A..I) of 10 seats, when two seats are wanted,
    // then they are the middle two of row G (index 6 = 9 * 2 / 3).
    let show = given(vec![hall(9, 10, None)]);
    assert_eq!(best(&show, 2, None), ["G5", "G6"]);
    assert_eq!(best(&show, 3, None), ["G4", "G5", "G6"]);
}

#[test]
fn best_available_moves_to_the_next_best_row_when_the_best_is_full() {
    let mut events = vec![hall(3, 4, None)];
    events.extend(sold(1, "zoe", &["C1", "C2", "C3", "C4"]));
    let show = given(events);
    // Rows A, B, C; best is C (3 * 2 / 3 = 2), then B (distance 1, further back than D).
    assert_eq!(best(&show, 2, None), ["B2", "B3"]);
}

#[test]
fn best_available_never_leaves_a_single_seat_beside_a_taken_one_when_it_can_avoid_it() {
    // Given row A: 1 [2 sold] 3 4 5 6 7 8, when two seats are wanted, then not the centre
    // pair 4-5 (which strands 3 beside the sold 2) but 3-4, next to the centre.
    let mut events = vec![hall(1, 8, None)];
    events.extend(sold(1, "zoe", &["A2"]));
    let show = given(events);
    assert_eq!(best(&show, 2, None), ["A3", "A4"]);
    // Without the sold seat the centre pair wins.
    assert_eq!(best(&given(vec![hall(1, 8, None)]), 2, None), ["A4", "A5"]);
}

#[test]
fn best_available_accepts_an_orphan_when_nothing_else_fits() {
    // Given row A: 1 [2 sold] 3 4 [5 sold], when two seats are wanted, then 3-4.
    let mut events = vec![hall(1, 5, None)];
    events.extend(sold(1, "zoe", &["A2", "A5"]));
    let show = given(events);
    assert_eq!(best(&show, 2, None), ["A3", "A4"]);
    assert!(best(&show, 3, None).is_empty());
}

#[test]
fn best_available_keeps_to_the_category_and_to_adjacent_seats() {
    let show = given(vec![hall(4, 6, Some(0))]);
    assert_eq!(best(&show, 2, Some("premium")), ["A3", "A4"]);
    assert!(best(&show, 7, None).is_empty(), "no row has 7 seats");
}

#[test]
fn holding_the_best_available_holds_them_and_refuses_when_no_block_exists() {
    let show = given(vec![hall(2, 3, None)]);
    let command = |id: u128, who: &str, count: u32| ShowCommand::HoldBestAvailable {
        promo: None,
        hold_id: hold_id(id),
        customer_id: customer(who),
        count,
        category: None,
    };
    let (_, events) = show.when(command(1, "alice", 2), t0()).then_accepted();
    let [ShowEvent::SeatsHeld(h)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(h.seats, [SeatId::new("B1"), SeatId::new("B2")]);
    show.when(command(2, "bob", 4), t0())
        .then_error(DomainError::SeatsUnavailable(Vec::new()));
    show.when(command(3, "bob", 0), t0())
        .then_code("validation_failed");
    let unknown = ShowCommand::HoldBestAvailable {
        promo: None,
        hold_id: hold_id(4),
        customer_id: customer("bob"),
        count: 1,
        category: Some("balcony".into()),
    };
    show.when(unknown, t0()).then_code("validation_failed");
}

#[test]
fn a_customer_has_one_active_hold_per_show_until_it_ends_or_lapses() {
    let show = given(vec![scheduled(), held(1, "alice", &["A1"], 4500)]);
    show.when(hold(2, "alice", &["A2"]), t0() + Duration::seconds(10))
        .then_error(DomainError::HoldExists {
            hold_id: hold_id(1),
        });
    // Someone else may hold; and once alice's hold has lapsed (expiry + grace), so may she.
    show.when(hold(3, "bob", &["A2"]), t0()).then_accepted();
    show.when(hold(2, "alice", &["A2"]), t0() + Duration::seconds(305))
        .then_accepted();
}
