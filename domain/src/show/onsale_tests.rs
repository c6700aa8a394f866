//! Examples for a show under an on-sale's waiting room: customers' holds need a valid
//! admission to that on-sale; staff at the counter need none; setting and lifting the queue
//! are facts recorded once.

use super::*;
use crate::testkit::*;
use chrono::Duration;
use uuid::Uuid;

fn onsale(n: u128) -> Uuid {
    Uuid::from_u128(0xA000 + n)
}

fn queued(n: u128) -> ShowEvent {
    ShowEvent::OnSaleQueueSet(OnSaleQueueSet {
        show_id: Uuid::from_u128(1),
        onsale_id: onsale(n),
        opens_at: t0(),
        set_at: t0() - Duration::hours(1),
    })
}

fn with(command: ShowCommand, admission: Option<Admission>) -> ShowCommand {
    match command {
        ShowCommand::HoldSeats {
            hold_id,
            customer_id,
            seats,
            ticket_types,
            promo,
            accessible,
            ..
        } => ShowCommand::HoldSeats {
            hold_id,
            customer_id,
            seats,
            ticket_types,
            promo,
            accessible,
            admission,
        },
        other => other,
    }
}

fn admitted(n: u128, until: Timestamp) -> Option<Admission> {
    Some(Admission::Queue {
        onsale_id: onsale(n),
        until,
    })
}

fn best_of(count: u32, admission: Option<Admission>) -> ShowCommand {
    ShowCommand::HoldBestAvailable {
        hold_id: hold_id(9),
        customer_id: customer("bo"),
        count,
        category: None,
        ticket_types: Default::default(),
        promo: None,
        admission,
    }
}

#[test]
fn a_queued_show_refuses_holds_without_a_valid_admission_to_its_on_sale() {
    let show = given(vec![scheduled(), queued(1)]);
    let until = t0() + Duration::minutes(10);
    show.when(hold(1, "ann", &["A1"]), t0())
        .then_code("queue_required");
    show.when(best_of(2, None), t0())
        .then_code("queue_required");
    // Another on-sale's admission, or one that has run out, is no admission here.
    show.when(with(hold(1, "ann", &["A1"]), admitted(2, until)), t0())
        .then_code("queue_required");
    show.when(with(hold(1, "ann", &["A1"]), admitted(1, until)), until)
        .then_code("queue_required");
    // A valid one holds, and the hold records what let it through; so does the counter.
    let (_, events) = show
        .when(with(hold(1, "ann", &["A1"]), admitted(1, until)), t0())
        .then_accepted();
    let ShowEvent::SeatsHeld(held) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(held.admission, admitted(1, until));
    show.when(best_of(2, admitted(1, until)), t0())
        .then_accepted();
    show.when(
        with(hold(1, "ann", &["A1"]), Some(Admission::Counter)),
        t0(),
    )
    .then_accepted();
}

#[test]
fn a_show_not_queued_holds_as_before_whatever_the_admission() {
    let show = given(vec![scheduled()]);
    show.when(hold(1, "ann", &["A1"]), t0()).then_accepted();
    // Nothing to record either: the admission is not what let the hold through.
    let stale = admitted(7, t0() - Duration::hours(1));
    let (_, events) = show
        .when(with(hold(1, "ann", &["A1"]), stale), t0())
        .then_accepted();
    assert!(matches!(&events[0], ShowEvent::SeatsHeld(held) if held.admission.is_none()));
}

#[test]
fn the_queue_is_set_once_lifted_once_and_one_on_sale_at_a_time() {
    let show = given(vec![scheduled()]);
    let set = ShowCommand::QueueOnSale {
        onsale_id: onsale(1),
        opens_at: t0(),
    };
    let (show, events) = show
        .when(set.clone(), t0() - Duration::hours(1))
        .then_accepted();
    assert_eq!(events, vec![queued(1)]);
    // Again: nothing new.
    show.when(set, t0()).then_expect(vec![]);
    show.when(
        ShowCommand::QueueOnSale {
            onsale_id: onsale(2),
            opens_at: t0(),
        },
        t0(),
    )
    .then_error(DomainError::OnSaleConflict {
        onsale_id: onsale(1),
    });
    // Lifting another on-sale's queue changes nothing; lifting its own frees the holds.
    show.when(
        ShowCommand::LiftOnSaleQueue {
            onsale_id: onsale(2),
        },
        t0(),
    )
    .then_expect(vec![]);
    let (show, _) = show
        .when(
            ShowCommand::LiftOnSaleQueue {
                onsale_id: onsale(1),
            },
            t0(),
        )
        .then_accepted();
    show.when(hold(1, "ann", &["A1"]), t0()).then_accepted();
    show.when(
        ShowCommand::LiftOnSaleQueue {
            onsale_id: onsale(1),
        },
        t0(),
    )
    .then_expect(vec![]);
}

#[test]
fn joining_the_waiting_list_is_refused_under_a_queue_and_earlier_entries_keep_their_offers() {
    let join = |n: u128, who: &str| ShowCommand::JoinWaitlist {
        entry_id: WaitlistEntryId(Uuid::from_u128(n)),
        customer_id: customer(who),
        count: 2,
        category: Some("regular".into()),
    };
    // The list would offer free seats at once: under a queue, that is skipping the line.
    let show = given(vec![scheduled(), queued(1)]);
    show.when(join(77, "cy"), t0()).then_code("queue_required");
    // bo joined before the queue was set (ann held the regular seats); ann's release
    // offers bo the seats, queue or not.
    let show = given(vec![
        scheduled(),
        held(1, "ann", &["A1", "A2", "A3", "A4", "A5"], 22500),
    ]);
    let (show, _) = show.when(join(78, "bo"), t0()).then_accepted();
    let (show, _) = show
        .when(
            ShowCommand::QueueOnSale {
                onsale_id: onsale(1),
                opens_at: t0(),
            },
            t0(),
        )
        .then_accepted();
    let (_, events) = show.when(release(1, "ann"), t0()).then_accepted();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ShowEvent::WaitlistOffered(_))),
        "{events:?}"
    );
}

#[test]
fn a_lifted_queue_is_not_set_again_by_a_late_retry() {
    let lifted = ShowEvent::OnSaleQueueLifted(OnSaleQueueLifted {
        show_id: Uuid::from_u128(1),
        onsale_id: onsale(1),
        lifted_at: t0(),
    });
    let show = given(vec![scheduled(), queued(1), lifted]);
    show.when(
        ShowCommand::QueueOnSale {
            onsale_id: onsale(1),
            opens_at: t0(),
        },
        t0(),
    )
    .then_expect(vec![]);
    show.when(hold(1, "ann", &["A1"]), t0()).then_accepted();
}
