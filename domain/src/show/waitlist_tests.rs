//! Examples for the waiting list, as given / when / then: who is offered freed seats, in
//! which order, and how entries end.

use super::*;
use crate::testkit::*;
use crate::{DomainError, WaitlistEntryId};
use chrono::Duration;

/// One row A of `seats` regular seats, 45.00 CNY each.
fn row_of(seats: u32) -> Show {
    given(vec![scheduled_with(
        (1..=seats).map(|n| seat("A", n, "regular")).collect(),
    )])
}

fn entry(n: u128) -> WaitlistEntryId {
    WaitlistEntryId(Uuid::from_u128(0x7000 + n))
}

fn join(n: u128, who: &str, count: u32) -> ShowCommand {
    ShowCommand::JoinWaitlist {
        entry_id: entry(n),
        customer_id: customer(who),
        count,
        category: None,
    }
}

fn offers(events: &[ShowEvent]) -> Vec<(WaitlistEntryId, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            ShowEvent::WaitlistOffered(o) => {
                Some((o.entry_id, o.seats.iter().map(|s| s.0.clone()).collect()))
            }
            _ => None,
        })
        .collect()
}

fn closed(events: &[ShowEvent]) -> Vec<(WaitlistEntryId, WaitlistCloseReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            ShowEvent::WaitlistClosed(c) => Some((c.entry_id, c.reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn freed_seats_go_to_the_longest_waiting_entry_that_fits_and_bigger_ones_keep_their_place() {
    // Given a row of 6 seats held by three customers, and a queue of ann (4 seats) then
    // bob (2 seats),
    let (show, _) = row_of(6)
        .when(hold(1, "x", &["A1", "A2"]), t0())
        .then_accepted();
    let (show, _) = show.when(hold(2, "y", &["A3", "A4"]), t0()).then_accepted();
    let (show, _) = show.when(hold(3, "z", &["A5", "A6"]), t0()).then_accepted();
    let (show, _) = show.when(join(1, "ann", 4), t0()).then_accepted();
    let (show, _) = show.when(join(2, "bob", 2), t0()).then_accepted();
    // when two seats come free, then bob gets them (ann's four do not fit) in the same decision,
    let (show, events) = show.when(release(3, "z"), t0()).then_accepted();
    assert_eq!(
        offers(&events),
        [(entry(2), vec!["A5".into(), "A6".into()])]
    );
    assert!(matches!(events[1], ShowEvent::SeatsHeld(ref h) if h.customer_id == customer("bob")));
    // and when four more come free, ann gets them.
    let (show, _) = show.when(release(1, "x"), t0()).then_accepted();
    let (_, events) = show.when(release(2, "y"), t0()).then_accepted();
    assert_eq!(
        offers(&events),
        [(
            entry(1),
            vec!["A1".into(), "A2".into(), "A3".into(), "A4".into()]
        )]
    );
}

#[test]
fn an_expired_offer_passes_to_the_next_entry() {
    let (show, _) = row_of(2)
        .when(hold(1, "x", &["A1", "A2"]), t0())
        .then_accepted();
    let (show, _) = show.when(join(1, "ann", 2), t0()).then_accepted();
    let (show, _) = show.when(join(2, "bob", 2), t0()).then_accepted();
    let (show, events) = show.when(release(1, "x"), t0()).then_accepted();
    assert_eq!(offers(&events)[0].0, entry(1));
    let offered = super::waitlist::offer_hold_id(&entry(1));
    // Ann does not pay: once her offer lapses it is expired and bob is offered the seats.
    let later = t0() + Duration::seconds(305);
    let (show, events) = show
        .when(ShowCommand::ExpireHold { hold_id: offered }, later)
        .then_accepted();
    assert_eq!(
        closed(&events),
        [(entry(1), WaitlistCloseReason::OfferExpired)]
    );
    assert_eq!(offers(&events)[0].0, entry(2));
    // Bob pays: his entry is fulfilled.
    let bob_hold = super::waitlist::offer_hold_id(&entry(2));
    let (_, events) = show
        .when(
            ShowCommand::ConfirmPayment {
                hold_id: bob_hold,
                order_id: order_id(99),
                requester: Requester::Customer(customer("bob")),
                payment_reference: "p".into(),
                amount: cny(9000),
            },
            later,
        )
        .then_accepted();
    assert_eq!(
        closed(&events),
        [(entry(2), WaitlistCloseReason::Fulfilled)]
    );
}

#[test]
fn an_entry_the_show_can_never_meet_closes_with_its_reason() {
    // Given 3 seats, one sold and two held, and carol waiting for two,
    let (show, _) = row_of(3).when(hold(1, "x", &["A1"]), t0()).then_accepted();
    let (show, _) = show.when(confirm(1, "x", 4500), t0()).then_accepted();
    let (show, _) = show.when(hold(2, "y", &["A2", "A3"]), t0()).then_accepted();
    let (show, _) = show.when(join(1, "carol", 2), t0()).then_accepted();
    // waiting for three can never be met, so joining is refused;
    show.when(join(2, "dan", 3), t0())
        .then_error(DomainError::WaitlistCannotBeMet);
    // when y pays for A2 and A3, carol's two can never be had: her entry closes.
    let (_, events) = show.when(confirm(2, "y", 9000), t0()).then_accepted();
    assert_eq!(
        closed(&events),
        [(entry(1), WaitlistCloseReason::CannotBeMet)]
    );
}

#[test]
fn a_customer_waits_in_one_entry_at_a_time_which_only_they_may_leave_and_which_times_out() {
    let (show, _) = row_of(2)
        .when(hold(1, "x", &["A1", "A2"]), t0())
        .then_accepted();
    let (show, _) = show.when(join(1, "ann", 1), t0()).then_accepted();
    show.when(join(2, "ann", 1), t0())
        .then_error(DomainError::WaitlistEntryExists { entry_id: entry(1) });
    let expire = ShowCommand::ExpireWaitlistEntry { entry_id: entry(1) };
    show.when(expire.clone(), t0() + Duration::seconds(3599))
        .then_code("waitlist_entry_not_expirable");
    let (show, events) = show
        .when(expire, t0() + Duration::seconds(3600))
        .then_accepted();
    assert_eq!(closed(&events), [(entry(1), WaitlistCloseReason::TimedOut)]);
    // Rejoining an hour later, when x's hold has long lapsed, ann is offered a seat at once.
    let later = t0() + Duration::seconds(3600);
    let (show, events) = show.when(join(3, "ann", 1), later).then_accepted();
    assert_eq!(offers(&events).len(), 1, "{events:?}");
    // Someone else cannot make ann leave; ann can, and the offered seat goes back.
    let leave = |who: &str| ShowCommand::LeaveWaitlist {
        entry_id: entry(3),
        requester: Requester::Customer(customer(who)),
    };
    show.when(leave("bob"), later)
        .then_error(DomainError::WaitlistEntryNotFound);
    let (show, events) = show.when(leave("ann"), later).then_accepted();
    let offered = super::waitlist::offer_hold_id(&entry(3));
    assert!(
        matches!(events.as_slice(), [ShowEvent::HoldReleased(r), ShowEvent::WaitlistLeft(_)] if r.hold_id == offered),
        "{events:?}"
    );
    show.when(leave("ann"), later)
        .then_error(DomainError::WaitlistEntryEnded);
}

#[test]
fn fifty_customers_are_served_in_exactly_the_order_they_joined() {
    // Given a sold-out row of 100 seats (50 holders of two seats each) and 50 customers
    // waiting for two seats each, joined in a known order,
    let mut show = row_of(100);
    for n in 0..50u32 {
        let seats = [format!("A{}", 2 * n + 1), format!("A{}", 2 * n + 2)];
        let labels: Vec<&str> = seats.iter().map(String::as_str).collect();
        show = show
            .when(
                hold(u128::from(n) + 1, &format!("holder-{n}"), &labels),
                t0(),
            )
            .then_accepted()
            .0;
    }
    for n in 0..50u128 {
        show = show
            .when(join(n, &format!("waiter-{n}"), 2), t0())
            .then_accepted()
            .0;
    }
    // when the holds are released one at a time, in an unrelated order,
    let mut served = Vec::new();
    for k in 0..50u32 {
        let n = (k * 17) % 50;
        let (next, events) = show
            .when(release(u128::from(n) + 1, &format!("holder-{n}")), t0())
            .then_accepted();
        show = next;
        served.extend(offers(&events).into_iter().map(|(id, _)| id));
    }
    // then the waiters are offered seats in exactly the order they joined.
    assert_eq!(served, (0..50u128).map(entry).collect::<Vec<_>>());
}

#[test]
fn a_lapsed_offer_whose_seats_go_to_the_next_entry_ends_its_own_entry() {
    // Given ann's offer on the only two seats, and bob waiting behind her,
    let (show, _) = row_of(2)
        .when(hold(1, "x", &["A1", "A2"]), t0())
        .then_accepted();
    let (show, _) = show.when(join(1, "ann", 2), t0()).then_accepted();
    let (show, _) = show.when(join(2, "bob", 2), t0()).then_accepted();
    let (show, _) = show.when(release(1, "x"), t0()).then_accepted();
    // when ann's offer lapses and, before the scheduler expires it, someone else's command
    // makes the show look at its waiting list,
    let later = t0() + Duration::seconds(306);
    let (show, events) = show.when(join(3, "carol", 1), later).then_accepted();
    // then ann's offer is expired and her entry closed, and bob is offered the seats.
    assert_eq!(
        closed(&events),
        [(entry(1), WaitlistCloseReason::OfferExpired)]
    );
    assert_eq!(offers(&events)[0].0, entry(2));
    let ann = show.waitlist_entry(&entry(1)).unwrap();
    assert_eq!(ann.status, WaitlistStatus::Ended);
}

#[test]
fn once_the_show_starts_nothing_is_offered_and_waiting_entries_close() {
    let ShowEvent::ShowScheduled(e) = scheduled() else {
        unreachable!()
    };
    let (show, _) = row_of(2)
        .when(hold(1, "x", &["A1", "A2"]), t0())
        .then_accepted();
    let (show, _) = show.when(join(1, "ann", 2), t0()).then_accepted();
    // x's hold lapses only after the start; expiring it then offers nothing.
    let after_start = e.starts_at + Duration::seconds(1);
    let (_, events) = show
        .when(
            ShowCommand::ExpireHold {
                hold_id: hold_id(1),
            },
            after_start,
        )
        .then_accepted();
    assert!(offers(&events).is_empty(), "{events:?}");
    assert_eq!(
        closed(&events),
        [(entry(1), WaitlistCloseReason::CannotBeMet)]
    );
}
