//! Examples for accessible seating: wheelchair spaces and companion seats kept for those who
//! need them, taken as whole parties, and released once, at the release time, when the rest
//! of the hall is sold, or by staff.

use super::*;
use crate::testkit::*;
use chrono::Duration;

/// Kept until two hours before the start (the example show starts three hours after
/// [`t0`]: released at `t0 + 1 h`) or until the rest is sold; one companion per space.
const RULE: AccessibleSeating = AccessibleSeating {
    release_hours_before: Some(2),
    release_when_rest_sold: true,
    companions_per_wheelchair: 1,
};

/// Row A: companion, wheelchair space, companion, an aisle, then four regular seats
/// (A1-A3, A4-A7); row B: four regular seats.
const ROWS: [(&str, &str); 2] = [("A", "CWC_RRRR"), ("B", "RRRR")];

/// A show in a hall of `rows` keeping its accessible seats as `rule` says (30 CNY each).
fn hall(rows: &[(&str, &str)], rule: Option<AccessibleSeating>) -> ShowEvent {
    let ShowEvent::ShowScheduled(mut e) = drawn(rows) else {
        unreachable!()
    };
    e.prices.insert("accessible".into(), cny(3000));
    e.accessible_seating = rule;
    ShowEvent::ShowScheduled(e)
}

fn released(reason: AccessibleRelease, at: Timestamp) -> ShowEvent {
    ShowEvent::AccessibleSeatsReleased(AccessibleSeatsReleased {
        show_id: uuid::Uuid::from_u128(1),
        reason,
        released_at: at,
    })
}

fn release_by(by_staff: bool) -> ShowCommand {
    ShowCommand::ReleaseAccessibleSeats { by_staff }
}

#[test]
fn kept_seats_go_only_to_holds_for_a_wheelchair_users_party() {
    let show = given(vec![hall(&ROWS, Some(RULE))]);
    show.when(hold(1, "ann", &["A2"]), t0())
        .then_error(DomainError::SeatsReserved(seats(&["A2"])));
    show.when(hold(1, "ann", &["A4", "A3"]), t0())
        .then_error(DomainError::SeatsReserved(seats(&["A3"])));
    // The space with its companion, and friends in ordinary seats, in one hold.
    show.when(hold_for_wheelchair(1, "ann", &["A2", "A3", "B1"]), t0())
        .then_accepted();
    // A companion seat goes with the wheelchair space beside it...
    show.when(hold_for_wheelchair(1, "ann", &["A3"]), t0())
        .then_invalid(&["seats"]);
    // ... and one space brings no more companions than the rule allows.
    show.when(hold_for_wheelchair(1, "ann", &["A1", "A2", "A3"]), t0())
        .then_invalid(&["seats"]);
    let two = AccessibleSeating {
        companions_per_wheelchair: 2,
        ..RULE
    };
    given(vec![hall(&ROWS, Some(two))])
        .when(hold_for_wheelchair(1, "ann", &["A1", "A2", "A3"]), t0())
        .then_accepted();
    // Ordinary seats need no saying.
    show.when(hold_for_wheelchair(1, "ann", &["B1"]), t0())
        .then_accepted();
}

#[test]
fn a_show_without_a_rule_keeps_nothing_back() {
    let show = given(vec![hall(&ROWS, None)]);
    show.when(hold(1, "ann", &["A1", "A2", "A3"]), t0())
        .then_accepted();
    show.when(release_by(true), t0()).then_expect(vec![]);
}

/// The command that schedules `e`'s show, with `accessible_seating`.
fn schedule(e: &ShowScheduled, accessible_seating: Option<AccessibleSeating>) -> ShowCommand {
    ShowCommand::ScheduleShow {
        show_id: e.show_id,
        movie_id: e.movie_id,
        title: e.title.clone(),
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        seats: e.seats.to_vec(),
        prices: e.prices.clone(),
        ticket_prices: e.ticket_prices.clone(),
        hold_ttl_seconds: e.hold_ttl_seconds,
        expiry_grace_seconds: e.expiry_grace_seconds,
        max_holds_per_customer: e.max_holds_per_customer,
        waitlist_max_wait_seconds: e.waitlist_max_wait_seconds,
        venue: None,
        refund_policy: None,
        accessible_seating,
    }
}

/// The rule the show of `e` keeps when scheduled with `RULE` at `at`.
fn kept_when_scheduled(e: ShowEvent, at: Timestamp) -> Option<AccessibleSeating> {
    let ShowEvent::ShowScheduled(e) = e else {
        unreachable!()
    };
    let (_, events) = Show::default()
        .when(schedule(&e, Some(RULE)), at)
        .then_accepted();
    match &events[..] {
        [ShowEvent::ShowScheduled(scheduled)] => scheduled.accessible_seating,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_hall_without_accessible_seats_is_scheduled_without_a_rule() {
    assert_eq!(kept_when_scheduled(drawn(&[("A", "RRRR")]), t0()), None);
}

#[test]
fn a_show_scheduled_after_its_release_time_keeps_nothing_back() {
    // The show starts three hours after t0; the rule releases two hours before.
    assert_eq!(kept_when_scheduled(hall(&ROWS, None), t0()), Some(RULE));
    let late = t0() + Duration::hours(1);
    assert_eq!(kept_when_scheduled(hall(&ROWS, None), late), None);
}

#[test]
fn a_rule_out_of_range_is_refused_when_scheduling() {
    let bad = AccessibleSeating {
        release_hours_before: Some(721),
        release_when_rest_sold: false,
        companions_per_wheelchair: 5,
    };
    assert_eq!(
        fields(bad.validate("accessible_seating").unwrap_err()),
        [
            "accessible_seating.release_hours_before",
            "accessible_seating.companions_per_wheelchair"
        ]
    );
    assert!(RULE.validate("accessible_seating").is_ok());
}

#[test]
fn best_available_offers_kept_seats_only_when_asked_and_only_as_whole_parties() {
    let show = given(vec![hall(&ROWS, Some(RULE))]);
    // Never to a plain request: with row B (the best row) broken up, four go past row A's
    // aisle, and five nowhere.
    assert_eq!(best(&show, 4, None), ["B1", "B2", "B3", "B4"]);
    let mut events = vec![hall(&ROWS, Some(RULE))];
    events.push(held(1, "ann", &["B2"], 4500));
    let broken = given(events);
    assert_eq!(best(&broken, 4, None), ["A4", "A5", "A6", "A7"]);
    assert!(best(&broken, 5, None).is_empty());
    // Asked for: the space and one companion; the pair nearer the row's centre.
    assert_eq!(best(&show, 2, Some("accessible")), ["A2", "A3"]);
    assert_eq!(best(&show, 1, Some("accessible")), ["A2"]);
    // Two companions for one space is more than the rule allows.
    assert!(best(&show, 3, Some("accessible")).is_empty());
    // With the space taken, a companion seat alone is never offered.
    let mut events = vec![hall(&ROWS, Some(RULE))];
    events.push(held(1, "ann", &["A2"], 3000));
    assert!(best(&given(events), 1, Some("accessible")).is_empty());
}

#[test]
fn the_first_hold_after_the_release_time_records_the_release_then_takes_the_seats() {
    let show = given(vec![hall(&ROWS, Some(RULE))]);
    let release_at = t0() + Duration::hours(1);
    show.when(hold(1, "bob", &["A2"]), release_at - Duration::seconds(1))
        .then_code("seats_reserved");
    let (after, events) = show
        .when(hold(1, "bob", &["A2"]), release_at)
        .then_accepted();
    assert_eq!(
        events[0],
        released(AccessibleRelease::ReleaseTime, release_at)
    );
    assert!(matches!(&events[1], ShowEvent::SeatsHeld(h) if h.seats == seats(&["A2"])));
    assert_eq!(events.len(), 2);
    assert!(after.accessible_kept().is_none());
    // Released, a companion seat may go alone, to anyone.
    after
        .when(hold(2, "cat", &["A1"]), release_at)
        .then_accepted();
}

#[test]
fn the_scheduler_releases_at_the_release_time_and_staff_at_any_time() {
    let show = given(vec![hall(&ROWS, Some(RULE))]);
    let release_at = t0() + Duration::hours(1);
    show.when(release_by(false), release_at - Duration::seconds(1))
        .then_error(DomainError::NotReleasedYet {
            release_at: Some(release_at),
        });
    show.when(release_by(false), release_at)
        .then_expect(vec![released(AccessibleRelease::ReleaseTime, release_at)]);
    // Staff before the time is staff's release; at or after it, the time's.
    show.when(release_by(true), t0())
        .then_expect(vec![released(AccessibleRelease::Staff, t0())]);
    show.when(release_by(true), release_at)
        .then_expect(vec![released(AccessibleRelease::ReleaseTime, release_at)]);
    // Once released there is nothing more to release, for staff or the scheduler.
    let after = given(vec![
        hall(&ROWS, Some(RULE)),
        released(AccessibleRelease::Staff, t0()),
    ]);
    after.when(release_by(true), t0()).then_expect(vec![]);
    after
        .when(release_by(false), release_at)
        .then_expect(vec![]);
    after.when(hold(1, "bob", &["A2"]), t0()).then_accepted();
}

#[test]
fn selling_the_rest_of_the_hall_releases_the_kept_seats_in_the_same_decision() {
    // Row A: a space, its companion, two regular seats; kept until the rest is sold only.
    let rule = AccessibleSeating {
        release_hours_before: None,
        ..RULE
    };
    let mut events = vec![hall(&[("A", "WCRR")], Some(rule))];
    events.push(held(1, "ann", &["A3"], 4500));
    events.push(confirmed(1, "ann", &["A3"], 4500));
    events.push(held(2, "bob", &["A4"], 4500));
    let show = given(events);
    // Late in the day, nothing is released by time.
    show.when(release_by(false), t0() + Duration::hours(2))
        .then_error(DomainError::NotReleasedYet { release_at: None });
    // Holding the last seat sells nothing; paying for it does.
    let (after, decided) = show.when(confirm(2, "bob", 4500), t0()).then_accepted();
    assert!(matches!(decided[0], ShowEvent::HoldConfirmed(_)));
    assert_eq!(decided[1..], [released(AccessibleRelease::RestSold, t0())]);
    assert!(after.accessible_kept().is_none());
    after.when(hold(3, "cat", &["A2"]), t0()).then_accepted();
    // Not while a seat of the rest is only held.
    let mut events = vec![hall(&[("A", "WCRR")], Some(rule))];
    events.push(held(1, "ann", &["A3", "A4"], 9000));
    assert!(given(events).accessible_kept().is_some());
}

#[test]
fn only_a_wheelchair_users_party_moves_into_kept_seats() {
    let mut events = vec![hall(&ROWS, Some(RULE))];
    events.push(held(1, "ann", &["B1"], 4500));
    events.push(confirmed(1, "ann", &["B1"], 4500));
    let show = given(events);
    let exchange = |give_back: &[&str], take: &[&str]| ShowCommand::ExchangeSeats {
        order_id: order_id(1),
        exchange_id: uuid::Uuid::from_u128(77),
        requester: Requester::Customer(customer("ann")),
        give_back: seats(give_back),
        take: seats(take),
    };
    show.when(exchange(&["B1"], &["A2"]), t0())
        .then_code("seats_reserved");
    // A party that booked a wheelchair space may move a friend to a companion seat beside
    // it, but not two friends to both (one companion per space).
    let mut events = vec![hall(&ROWS, Some(RULE))];
    events.push(held(1, "ann", &["A2", "B1", "B2"], 12000));
    events.push(confirmed(1, "ann", &["A2", "B1", "B2"], 12000));
    let show = given(events);
    show.when(exchange(&["B1", "B2"], &["A1", "A3"]), t0())
        .then_invalid(&["seats"]);
    show.when(exchange(&["B1"], &["A3"]), t0()).then_accepted();
}
