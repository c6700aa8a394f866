//! How much memory a show's state takes, as the writers keep it: each show decoded from its
//! stored `ShowScheduled` body (as the log hands it over), folded, with one hold made, its
//! events kept (as a writer's idempotency ledger keeps them). Thousands of shows sell at
//! once, each held in memory by its writer, so a 2,000-seat show must cost tens of KiB, and
//! shows of the same hall must share its layout rather than each keep a copy.
//!
//! Counted by a global allocator that tracks live bytes (this test binary's only test, so
//! nothing else allocates while it measures).

use boxoffice_domain::{
    Aggregate, CustomerId, HoldId, SeatId, SeatStatus, Show, ShowCommand, ShowEvent, StoredEvent,
};
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicIsize, Ordering};
use uuid::Uuid;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// A stored `ShowScheduled` body for a hall of `rows` rows of `per_row` seats, as the
/// benchmark schedules them (a fresh value each time, as each stream read decodes anew).
fn scheduled_body(rows: usize, per_row: u32) -> serde_json::Value {
    let starts_at = Utc.with_ymd_and_hms(2030, 1, 1, 20, 0, 0).unwrap();
    let mut seats = Vec::new();
    for r in 0..rows {
        let row = char::from(b'A' + (r % 26) as u8).to_string() + &"A".repeat(r / 26);
        let category = if r < rows / 4 { "premium" } else { "regular" };
        for n in 1..=per_row {
            seats.push(json!({"seat_id": format!("{row}{n}"), "row": row, "number": n, "category": category}));
        }
    }
    json!({
        "show_id": Uuid::new_v4(),
        "movie_id": Uuid::new_v4(),
        "title": "长安三万里 (Chang'an)",
        "starts_at": starts_at,
        "ends_at": starts_at + Duration::minutes(150),
        "seats": seats,
        "prices": {
            "premium": {"amount_minor": 9000, "currency": "CNY"},
            "regular": {"amount_minor": 6000, "currency": "CNY"},
        },
        "hold_ttl_seconds": 600,
        "expiry_grace_seconds": 5,
    })
}

/// A show as a writer keeps it: its state and the events of the commands carried out.
fn one_show(rows: usize, per_row: u32) -> (Show, Vec<ShowEvent>) {
    let body = scheduled_body(rows, per_row);
    let scheduled = ShowEvent::from_stored("ShowScheduled", 1, &body).expect("a valid body");
    drop(body);
    let mut show = Show::default();
    Aggregate::evolve(&mut show, &scheduled);
    let now = Utc.with_ymd_and_hms(2029, 12, 31, 20, 0, 0).unwrap();
    let hold = ShowCommand::HoldSeats {
        hold_id: HoldId(Uuid::new_v4()),
        customer_id: CustomerId("customer-1".into()),
        seats: vec![SeatId("B7".into()), SeatId("B8".into())],
        ticket_types: BTreeMap::new(),
        promo: None,
        accessible: false,
        admission: None,
    };
    let held = show.decide(&hold, now).expect("the seats are free");
    for event in &held {
        Aggregate::evolve(&mut show, event);
    }
    let mut events = vec![scheduled];
    events.extend(held);
    (show, events)
}

/// Live bytes taken by `count` shows of one hall, each with one hold, per show.
fn bytes_per_show(count: usize, rows: usize, per_row: u32) -> (isize, Vec<(Show, Vec<ShowEvent>)>) {
    let before = live();
    let shows: Vec<_> = (0..count).map(|_| one_show(rows, per_row)).collect();
    ((live() - before) / count as isize, shows)
}

#[test]
fn a_2000_seat_show_takes_tens_of_kib_and_shows_of_one_hall_share_its_layout() {
    // The first show of the hall pays for its layout; the next ones share it.
    let before = live();
    let first = one_show(40, 50);
    let first_bytes = live() - before;
    let (per_show, shows) = bytes_per_show(50, 40, 50);
    eprintln!(
        "first 2,000-seat show: {} KiB; each further show of the same hall: {} KiB",
        first_bytes / 1024,
        per_show / 1024
    );
    assert!(
        per_show <= 40 * 1024,
        "a 2,000-seat show takes {} KiB (want at most 40)",
        per_show / 1024
    );
    assert!(
        per_show * 2 < first_bytes,
        "a further show of the hall ({per_show} B) should not copy its layout ({first_bytes} B for the first)"
    );
    // Every seat still answers by its label, and the hold's seats are held.
    let (show, _) = &shows[0];
    let counts = show.counts();
    assert_eq!((counts.available, counts.held, counts.sold), (1998, 2, 0));
    assert!(matches!(
        show.seat_status(&SeatId("B7".into())),
        Some(SeatStatus::Held(_))
    ));
    // The last row of 40 (rows A..Z, then AA..NA).
    assert_eq!(
        show.seat_status(&SeatId("NA50".into())),
        Some(SeatStatus::Available)
    );
    assert_eq!(show.seat_status(&SeatId("Z99".into())), None);
    drop(first);
}
