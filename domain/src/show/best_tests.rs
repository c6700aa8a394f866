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

fn sold(id: u128, who: &str, labels: &[&str]) -> Vec<ShowEvent> {
    let held = held(id, who, labels, 0);
    let ShowEvent::SeatsHeld(h) = &held else {
        unreachable!()
    };
    let confirmed = ShowEvent::HoldConfirmed(HoldConfirmed {
        ticket_types: Default::default(),
        after_expiry: false,
        payment_id: None,
        hold_id: h.hold_id,
        order_id: crate::OrderId(uuid::Uuid::from_u128(0x9000 + id)),
        customer_id: h.customer_id.clone(),
        seats: h.seats.clone(),
        total: cny(0),
        payment_reference: "p".into(),
        confirmed_at: t0(),
        pickup_code: None,
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
    let mut events = vec![hall(3, 6, None)];
    events.extend(sold(1, "zoe", &["C1", "C2", "C3", "C4", "C5", "C6"]));
    let show = given(events);
    // Rows A, B, C; best is C (3 * 2 / 3 = 2), then B (distance 1, further back than D).
    assert_eq!(best(&show, 2, None), ["B3", "B4"]);
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
        admission: None,
        ticket_types: Default::default(),
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
        .then_error(DomainError::SeatsUnavailable {
            seats: Vec::new(),
            reason: crate::Unavailability::SeatsTaken,
        });
    show.when(command(3, "bob", 0), t0())
        .then_code("validation_failed");
    let unknown = ShowCommand::HoldBestAvailable {
        admission: None,
        ticket_types: Default::default(),
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

#[test]
fn best_available_never_places_a_group_on_both_sides_of_an_aisle() {
    // Row A: A1 A2 | A3 A4 (numbers run on across the aisle).
    let show = given(vec![drawn(&[("A", "RR_RR")])]);
    assert!(
        best(&show, 3, None).is_empty(),
        "no three seats side by side"
    );
    // Row A: A1 [A2 sold] A3 | A4: A3 and A4 have consecutive numbers but an aisle between.
    let mut events = vec![drawn(&[("A", "RRR_R")])];
    events.extend(sold(1, "zoe", &["A2"]));
    assert!(best(&given(events), 2, None).is_empty());
}

#[test]
fn an_aisle_and_the_end_of_a_row_are_walls_for_the_single_seat_rule() {
    // Row A: A1 | A2 A3 A4 A5 A6 A7. The centre pair A3 A4 would leave A2 alone against the
    // aisle; A2 A3 and A4 A5 leave no one alone, and A2 A3 has the lower number.
    let show = given(vec![drawn(&[("A", "R_RRRRRR")])]);
    assert_eq!(best(&show, 2, None), ["A2", "A3"]);
    // A row of four: the middle pair would leave A1 and A4 alone at the row's ends.
    let show = given(vec![hall(1, 4, None)]);
    assert_eq!(best(&show, 2, None), ["A1", "A2"]);
}

#[test]
fn wheelchair_and_companion_seats_go_only_to_those_who_ask_for_them() {
    // Row A: wheelchair, companion, then two regular seats.
    let show = given(vec![drawn(&[("A", "WCRR")])]);
    assert_eq!(best(&show, 2, None), ["A3", "A4"]);
    assert!(best(&show, 3, None).is_empty());
    assert_eq!(best(&show, 2, Some("accessible")), ["A1", "A2"]);
    // A hall of nothing but accessible seats offers nothing to a plain request.
    let show = given(vec![drawn(&[("A", "CWC_CWC")])]);
    assert!(best(&show, 1, None).is_empty());
}

/// Every block best-available may offer, found the plain way: per row, each run of `count`
/// seats in consecutive columns, all free and all wanted, and whole parties if accessible
/// (a wheelchair space at least, each companion seat next to one in the block; the shows
/// here have no rule, so no cap on companions); with whether it leaves a single free seat
/// between itself and a wall (taken seat, aisle or gap, the row's end).
fn blocks(show: &Show, count: usize, category: Option<&str>) -> Vec<(Vec<SeatId>, bool)> {
    use std::collections::BTreeMap;
    let info = show.info().unwrap();
    let mut rows: BTreeMap<&str, BTreeMap<u32, &SeatSpec>> = BTreeMap::new();
    for spec in info.layout.iter() {
        let column = spec.column.unwrap_or(spec.number);
        rows.entry(&spec.row).or_default().insert(column, spec);
    }
    let free = |spec: &SeatSpec| show.seat_status(&spec.seat_id) == Some(SeatStatus::Available);
    let wanted = |spec: &SeatSpec| match category {
        Some(category) => spec.category == category,
        None => spec.kind.is_none() && spec.category != "accessible",
    };
    let mut found = Vec::new();
    for row in rows.values() {
        for &first in row.keys() {
            let columns: Vec<u32> = (first..first + count as u32).collect();
            let Some(block) = columns
                .iter()
                .map(|c| row.get(c).copied())
                .collect::<Option<Vec<&SeatSpec>>>()
            else {
                continue;
            };
            if !block.iter().all(|spec| free(spec) && wanted(spec)) {
                continue;
            }
            let kind_at = |c: u32| {
                columns
                    .iter()
                    .position(|x| *x == c)
                    .and_then(|i| block[i].kind)
            };
            let accessible = block.iter().any(|spec| spec.kind.is_some());
            let has_space = block.iter().any(|s| s.kind == Some(SeatKind::Wheelchair));
            let companions_seated = columns.iter().all(|&c| {
                kind_at(c) != Some(SeatKind::Companion)
                    || kind_at(c + 1) == Some(SeatKind::Wheelchair)
                    || c.checked_sub(1).and_then(kind_at) == Some(SeatKind::Wheelchair)
            });
            if accessible && !(has_space && companions_seated) {
                continue;
            }
            let free_at = |c: i64| {
                u32::try_from(c)
                    .ok()
                    .and_then(|c| row.get(&c))
                    .is_some_and(|spec| free(spec))
            };
            let alone = |next: i64, beyond: i64| free_at(next) && !free_at(beyond);
            let (low, high) = (i64::from(first), i64::from(first) + count as i64 - 1);
            let orphan = alone(low - 1, low - 2) || alone(high + 1, high + 2);
            found.push((block.iter().map(|s| s.seat_id.clone()).collect(), orphan));
        }
    }
    found
}

/// What best-available answered is one of the blocks, there is an answer whenever there is
/// a block, and it leaves no one alone whenever some block does not.
fn check_best(show: &Show, count: usize, category: Option<&str>) -> Result<(), String> {
    let candidates = blocks(show, count, category);
    let answer = best_available(show, count, category, t0());
    let Some(answer) = answer else {
        return match candidates.is_empty() {
            true => Ok(()),
            false => Err(format!("no answer, but {candidates:?} fit")),
        };
    };
    let Some((_, orphan)) = candidates.iter().find(|(block, _)| *block == answer) else {
        return Err(format!("{answer:?} is not a block of {count} that fits"));
    };
    if *orphan && candidates.iter().any(|(_, orphan)| !orphan) {
        return Err(format!(
            "{answer:?} leaves a seat alone; {candidates:?} do not all"
        ));
    }
    Ok(())
}

#[test]
fn best_available_on_every_small_row_with_aisles_and_every_set_of_taken_seats() {
    // Every row of 1 to 7 cells of seats and aisles, with every set of its seats taken, and
    // every group size from 1 to 4.
    let mut checked = 0;
    for cells_count in 1..=7u32 {
        for pattern in 0..(1u32 << cells_count) {
            let cells: String = (0..cells_count)
                .map(|c| if pattern & (1 << c) == 0 { 'R' } else { '_' })
                .collect();
            let seats = cells.chars().filter(|c| *c == 'R').count();
            if seats == 0 {
                continue;
            }
            for taken in 0..(1u32 << seats) {
                let labels: Vec<String> = (0..seats)
                    .filter(|s| taken & (1 << s) != 0)
                    .map(|s| format!("A{}", s + 1))
                    .collect();
                let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
                let mut events = vec![drawn(&[("A", &cells)])];
                if !labels.is_empty() {
                    events.extend(sold(1, "zoe", &labels));
                }
                let show = given(events);
                for count in 1..=4 {
                    check_best(&show, count, None)
                        .unwrap_or_else(|e| panic!("row {cells}, taken {labels:?}, {count}: {e}"));
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A hall of 1 to 4 rows of up to 12 cells of every kind.
    fn hall_cells() -> impl Strategy<Value = Vec<String>> {
        let cell = prop_oneof![4 => Just('R'), 2 => Just('_'), 1 => Just('P'), 1 => Just('W'), 1 => Just('C')];
        // A companion seat stands beside a wheelchair space (the layout insists): one that
        // does not becomes a regular seat.
        let row = prop::collection::vec(cell, 1..12)
            .prop_map(|cells| {
                let beside_wheelchair =
                    |i: usize| (i > 0 && cells[i - 1] == 'W') || cells.get(i + 1) == Some(&'W');
                (0..cells.len())
                    .map(|i| match cells[i] {
                        'C' if !beside_wheelchair(i) => 'R',
                        cell => cell,
                    })
                    .collect::<String>()
            })
            .prop_filter("a row has a seat", |cells| cells.chars().any(|c| c != '_'));
        prop::collection::vec(row, 1..4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn best_available_keeps_to_the_layout_and_to_who_asked(
            rows in hall_cells(),
            taken in prop::collection::vec(any::<bool>(), 48),
            count in 1usize..5,
            category in prop::option::of(prop_oneof![Just("regular"), Just("premium"), Just("accessible")]),
        ) {
            let labels: Vec<String> = rows.iter().enumerate().map(|(i, _)| char::from(b'A' + i as u8).to_string()).collect();
            let drawn_rows: Vec<(&str, &str)> = labels.iter().map(String::as_str).zip(rows.iter().map(String::as_str)).collect();
            let schedule = drawn(&drawn_rows);
            let ShowEvent::ShowScheduled(scheduled) = &schedule else { unreachable!() };
            let sold_labels: Vec<String> = scheduled.seats.iter().zip(&taken).filter(|(_, t)| **t).map(|(s, _)| s.seat_id.0.clone()).collect();
            let sold_labels: Vec<&str> = sold_labels.iter().map(String::as_str).collect();
            let mut events = vec![schedule.clone()];
            if !sold_labels.is_empty() {
                events.extend(sold(1, "zoe", &sold_labels));
            }
            let show = given(events);
            if let Err(problem) = check_best(&show, count, category) {
                return Err(TestCaseError::fail(format!("{rows:?}, sold {sold_labels:?}, {count} {category:?}: {problem}")));
            }
        }
    }
}
