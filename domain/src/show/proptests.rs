//! Properties that must hold after any sequence of commands from any number of customers, at
//! any pace: no seat is ever held or sold twice, the seat counts always add up to capacity,
//! kept accessible seats are released as soon as the rest of the hall is sold, and replaying
//! the stored events rebuilds exactly the live state.

use super::*;
use crate::testkit::{cny, customer, hold_id, order_id, scheduled, t0};
use crate::{RefundId, SeatId, StoredEvent};
use chrono::Duration;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Hold {
        who: u8,
        seats: Vec<usize>,
        accessible: bool,
    },
    Release {
        hold: usize,
        who: u8,
    },
    Expire {
        hold: usize,
    },
    Confirm {
        hold: usize,
        who: u8,
        exact: bool,
    },
    Refund {
        order: usize,
        seats: Option<Vec<usize>>,
    },
    Wait {
        seconds: u16,
    },
    HoldBest {
        who: u8,
        count: u32,
    },
    Join {
        who: u8,
        count: u32,
    },
    Leave {
        entry: usize,
        who: u8,
    },
    ExpireEntry {
        entry: usize,
    },
    ReleaseAccessible {
        by_staff: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4, prop::collection::vec(0usize..11, 0..5), prop::bool::weighted(0.3))
            .prop_map(|(who, seats, accessible)| Op::Hold { who, seats, accessible }),
        1 => (0usize..64, 0u8..4).prop_map(|(hold, who)| Op::Release { hold, who }),
        1 => (0usize..64).prop_map(|hold| Op::Expire { hold }),
        3 => (0usize..64, 0u8..4, prop::bool::weighted(0.9))
            .prop_map(|(hold, who, exact)| Op::Confirm { hold, who, exact }),
        1 => (0usize..64, prop::option::of(prop::collection::vec(0usize..9, 1..3)))
            .prop_map(|(order, seats)| Op::Refund { order, seats }),
        2 => (0u16..400).prop_map(|seconds| Op::Wait { seconds }),
        1 => (0u8..4, 0u32..5).prop_map(|(who, count)| Op::HoldBest { who, count }),
        2 => (0u8..6, 0u32..4).prop_map(|(who, count)| Op::Join { who, count }),
        1 => (0usize..16, 0u8..6).prop_map(|(entry, who)| Op::Leave { entry, who }),
        1 => (0usize..16).prop_map(|entry| Op::ExpireEntry { entry }),
        1 => any::<bool>().prop_map(|by_staff| Op::ReleaseAccessible { by_staff }),
    ]
}

/// The example hall with a wheelchair space and its companion seat (无障碍1, 无障碍2) kept
/// until the rest is sold or an hour after [`t0`].
fn hall() -> ShowEvent {
    let ShowEvent::ShowScheduled(mut e) = scheduled() else {
        unreachable!()
    };
    let mut layout = e.seats.to_vec();
    for (number, kind) in [(1, SeatKind::Wheelchair), (2, SeatKind::Companion)] {
        layout.push(SeatSpec {
            kind: Some(kind),
            ..crate::testkit::seat("无障碍", number, "accessible")
        });
    }
    e.seats = layout.into();
    e.prices.insert("accessible".into(), cny(3000));
    e.accessible_seating = Some(AccessibleSeating {
        release_hours_before: Some(2),
        release_when_rest_sold: true,
        companions_per_wheelchair: 1,
    });
    ShowEvent::ShowScheduled(e)
}

/// Seat labels of the example hall, plus one label that is not in it.
fn label(index: usize) -> SeatId {
    const LABELS: [&str; 11] = [
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "贵宾1",
        "贵宾2",
        "贵宾3",
        "无障碍1",
        "无障碍2",
        "Z9",
    ];
    SeatId::new(LABELS[index % LABELS.len()])
}

fn check_invariants(show: &Show) -> Result<(), TestCaseError> {
    let capacity = show.info().map_or(0, |i| i.layout.len());
    let counts = show.counts();
    prop_assert_eq!(counts.available + counts.held + counts.sold, capacity);
    // Every open offer is an active hold of the entry's customer; one open entry per customer.
    let mut open = std::collections::BTreeSet::new();
    for entry in show.waitlist() {
        if entry.status != WaitlistStatus::Ended {
            prop_assert!(open.insert(entry.customer_id.clone()), "two open entries");
        }
        if let WaitlistStatus::Offered(hold_id) = entry.status {
            let hold = show.hold(&hold_id).expect("an offered hold exists");
            prop_assert_eq!(&hold.customer_id, &entry.customer_id);
            prop_assert_eq!(
                &hold.status,
                &HoldStatus::Active,
                "an open offer's hold ended"
            );
        }
    }
    for (spec, status) in show.seat_statuses() {
        match status {
            SeatStatus::Available => {}
            SeatStatus::Held(hold_id) => {
                let hold = show.hold(&hold_id).expect("a held seat's hold exists");
                prop_assert_eq!(&hold.status, &HoldStatus::Active);
                prop_assert!(hold.seats.contains(&spec.seat_id));
            }
            SeatStatus::Sold(order_id) => {
                let order = show.order(&order_id).expect("a sold seat's order exists");
                prop_assert!(order.seats.contains(&spec.seat_id));
            }
        }
    }
    // The active holds are the holds whose status is active, and the ended ones are
    // counted by how they ended.
    let active: Vec<HoldId> = show
        .holds()
        .filter(|(_, hold)| hold.status == HoldStatus::Active)
        .map(|(id, _)| *id)
        .collect();
    let listed: Vec<HoldId> = show.active_holds().map(|(id, _)| *id).collect();
    prop_assert_eq!(&listed, &active);
    let ended = show.holds_ended();
    prop_assert_eq!(
        (ended.released + ended.expired + ended.confirmed) as usize,
        show.holds().count() - active.len()
    );
    let confirmed = show
        .holds()
        .filter(|(_, hold)| matches!(hold.status, HoldStatus::Confirmed(_)))
        .count();
    prop_assert_eq!(ended.confirmed as usize, confirmed);
    // The converse: every active hold and every order owns its seats exclusively.
    for (id, hold) in show.holds() {
        if hold.status == HoldStatus::Active {
            for seat in &hold.seats {
                prop_assert_eq!(show.seat_status(seat), Some(SeatStatus::Held(*id)));
            }
        }
    }
    for (id, order) in show.orders() {
        for seat in &order.seats {
            prop_assert_eq!(show.seat_status(seat), Some(SeatStatus::Sold(*id)));
        }
    }
    // The ordinary seats left unsold are counted as they are, and accessible seats are
    // never kept once no ordinary seat is left.
    let unsold = show
        .seat_statuses()
        .filter(|(spec, status)| spec.kind.is_none() && !matches!(status, SeatStatus::Sold(_)))
        .count();
    prop_assert_eq!(show.ordinary_unsold, unsold);
    if show
        .accessible_kept()
        .is_some_and(|rule| rule.release_when_rest_sold)
    {
        prop_assert!(unsold > 0, "kept accessible seats after the rest was sold");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn seats_are_never_double_booked_and_replay_rebuilds_the_state(ops in prop::collection::vec(op(), 1..80)) {
        let mut now = t0();
        let mut log = vec![hall()];
        let mut show = Show::replay(&log);
        let mut holds = 0u128;
        let mut refunds = 0u128;
        let mut entries = 0u128;
        let entry = |n: u128| crate::WaitlistEntryId(uuid::Uuid::from_u128(0x5000 + n));
        let who = |n: u8| customer(&format!("customer-{n}"));
        for op in ops {
            let command = match op {
                Op::Wait { seconds } => {
                    now += Duration::seconds(i64::from(seconds));
                    continue;
                }
                Op::Hold { who: w, seats, accessible } => {
                    holds += 1;
                    ShowCommand::HoldSeats { admission: None, accessible, promo: None,
                        ticket_types: Default::default(),
                        hold_id: hold_id(holds),
                        customer_id: who(w),
                        seats: seats.into_iter().map(label).collect(),
                    }
                }
                Op::HoldBest { who: w, count } => {
                    holds += 1;
                    ShowCommand::HoldBestAvailable { admission: None, promo: None,
                        ticket_types: Default::default(),
                        hold_id: hold_id(holds),
                        customer_id: who(w),
                        count,
                        category: None,
                    }
                }
                Op::Join { who: w, count } => {
                    entries += 1;
                    ShowCommand::JoinWaitlist {
                        entry_id: entry(entries),
                        customer_id: who(w),
                        count,
                        category: None,
                    }
                }
                Op::Leave { entry: n, who: w } => ShowCommand::LeaveWaitlist {
                    entry_id: entry(n as u128 % (entries + 1)),
                    requester: Requester::Customer(who(w)),
                },
                Op::ExpireEntry { entry: n } => ShowCommand::ExpireWaitlistEntry {
                    entry_id: entry(n as u128 % (entries + 1)),
                },
                Op::ReleaseAccessible { by_staff } => {
                    ShowCommand::ReleaseAccessibleSeats { by_staff }
                }
                Op::Release { hold, who: w } => ShowCommand::ReleaseHold {
                    hold_id: hold_id(hold as u128 % (holds + 1)),
                    requester: Requester::Customer(who(w)),
                },
                Op::Expire { hold } => ShowCommand::ExpireHold {
                    hold_id: hold_id(hold as u128 % (holds + 1)),
                },
                Op::Confirm { hold, who: w, exact } => {
                    let id = hold_id(hold as u128 % (holds + 1));
                    let total = show.hold(&id).map_or(0, |h| h.total.amount_minor);
                    ShowCommand::ConfirmPayment {
                        hold_id: id,
                        order_id: order_id(hold as u128 % (holds + 1)),
                        requester: Requester::Customer(who(w)),
                        payment_reference: "pay".into(),
                        amount: cny(if exact { total } else { total + 1 }),
                    }
                }
                Op::Refund { order, seats } => {
                    refunds += 1;
                    let id = order_id(order as u128 % (holds + 1));
                    let owner = show.order(&id).map(|o| o.customer_id.clone());
                    ShowCommand::RefundOrder {
                        order_id: id,
                        refund_id: RefundId(uuid::Uuid::from_u128(0x9000 + refunds)),
                        requester: owner.map_or(Requester::Staff, Requester::Customer),
                        seats: seats.map(|s| s.into_iter().map(label).collect()),
                    }
                }
            };
            let before = show.counts();
            match decide(&show, &command, now) {
                Ok(events) => {
                    // Releasing what is not kept (any more) is the one no-op.
                    let release = matches!(command, ShowCommand::ReleaseAccessibleSeats { .. });
                    prop_assert!(release || !events.is_empty());
                    for event in &events {
                        show = show.evolve(event);
                    }
                    log.extend(events);
                }
                Err(_) => prop_assert_eq!(show.counts(), before),
            }
            check_invariants(&show)?;
        }
        // Rebuild from the stored form (type, version, JSON), as a restarted server would.
        let stored: Vec<ShowEvent> = log
            .iter()
            .map(|e| ShowEvent::from_stored(e.event_type(), e.schema_version(), &e.to_json()).unwrap())
            .collect();
        prop_assert_eq!(Show::replay(&stored), show);
    }

    /// Two customers' commands decided in either order: whichever comes first wins the
    /// contested seats, and the other is refused whole: never a split.
    #[test]
    fn contested_seats_go_wholly_to_one_hold(a in prop::collection::vec(0usize..8, 1..5), b in prop::collection::vec(0usize..8, 1..5)) {
        let show = Show::replay(&[scheduled()]);
        let command = |n: u128, seats: &[usize]| ShowCommand::HoldSeats { admission: None, accessible: false, promo: None,
            ticket_types: Default::default(),
            hold_id: hold_id(n),
            customer_id: customer(&n.to_string()),
            seats: seats.iter().copied().map(label).collect(),
        };
        for (first, second) in [(command(1, &a), command(2, &b)), (command(2, &b), command(1, &a))] {
            let mut state = show.clone();
            let mut won = 0;
            for c in [&first, &second] {
                if let Ok(events) = decide(&state, c, t0()) {
                    won += 1;
                    for e in &events { state = state.evolve(e); }
                }
            }
            let overlap = a.iter().any(|s| b.contains(s));
            let valid = |s: &[usize]| { let mut v = s.to_vec(); v.sort(); v.dedup(); v.len() == s.len() };
            if valid(&a) && valid(&b) {
                prop_assert_eq!(won, if overlap { 1 } else { 2 });
            }
            check_invariants(&state)?;
        }
    }
}
