//! Best available: which `count` adjacent seats to offer someone who did not pick them.
//!
//! Candidates are runs of `count` free seats in one row with consecutive numbers (and of the
//! requested category). They are ranked by, in order:
//! 1. not leaving a single free seat between the block and a taken seat (an orphan nobody
//!    can buy with a friend), when a block without one exists;
//! 2. the row: rows are ranked by distance from the best row, two thirds of the way from the
//!    screen to the back (rows in layout order, the first nearest the screen); between two
//!    rows equally far, the one further back;
//! 3. the distance of the block's centre from the row's centre;
//! 4. the lower seat number.

use super::{SeatStatus, Show};
use crate::{SeatId, Timestamp};
use std::collections::BTreeMap;

/// One seat of a row, as best-available sees it.
struct Place<'a> {
    number: u32,
    id: &'a SeatId,
    free: bool,
    wanted: bool,
}

/// How good a block is; smaller is better (see the module documentation).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    orphan: bool,
    row_distance: usize,
    rows_from_back: usize,
    centre_distance: u64,
    first_number: u32,
}

/// The best block of `count` seats, or `None` when no row has one.
pub fn best_available(
    show: &Show,
    count: usize,
    category: Option<&str>,
    now: Timestamp,
) -> Option<Vec<SeatId>> {
    let info = show.info()?;
    // Rows in layout order, each with its seats sorted by number.
    let mut row_order: Vec<&str> = Vec::new();
    let mut rows: BTreeMap<&str, Vec<Place>> = BTreeMap::new();
    for spec in info.layout.iter() {
        if !rows.contains_key(spec.row.as_str()) {
            row_order.push(&spec.row);
        }
        let free = is_free(show, &spec.seat_id, now);
        let wanted = category.is_none_or(|c| spec.category == c);
        rows.entry(&spec.row).or_default().push(Place {
            number: spec.number,
            id: &spec.seat_id,
            free,
            wanted,
        });
    }
    let best_row = (row_order.len() * 2) / 3;
    for seats in rows.values_mut() {
        seats.sort_by_key(|place| place.number);
    }
    let mut best: Option<(Rank, &[Place])> = None;
    for (row_index, row) in row_order.iter().enumerate() {
        let seats = &rows[row];
        if seats.len() < count {
            continue;
        }
        let (first, last) = (seats[0].number, seats[seats.len() - 1].number);
        for start in 0..=seats.len() - count {
            let block = &seats[start..start + count];
            let adjacent = block.windows(2).all(|w| w[1].number == w[0].number + 1);
            if !adjacent || !block.iter().all(|place| place.free && place.wanted) {
                continue;
            }
            let rank = Rank {
                orphan: leaves_orphan(seats, start, start + count - 1),
                row_distance: row_index.abs_diff(best_row),
                rows_from_back: row_order.len() - row_index,
                // Twice the distance between the centres, to stay in integers.
                centre_distance: u64::from(block[0].number + block[count - 1].number)
                    .abs_diff(u64::from(first + last)),
                first_number: block[0].number,
            };
            if best.as_ref().is_none_or(|(current, _)| rank < *current) {
                best = Some((rank, block));
            }
        }
    }
    best.map(|(_, block)| block.iter().map(|place| place.id.clone()).collect())
}

/// Whether holding seats `from..=to` of a sorted row leaves exactly one free seat between the
/// block and a taken seat, on either side.
fn leaves_orphan(seats: &[Place], from: usize, to: usize) -> bool {
    let adjacent = |a: usize, b: usize| seats[b].number == seats[a].number + 1;
    let left = from >= 2
        && adjacent(from - 1, from)
        && seats[from - 1].free
        && adjacent(from - 2, from - 1)
        && !seats[from - 2].free;
    let right = to + 2 < seats.len()
        && adjacent(to, to + 1)
        && seats[to + 1].free
        && adjacent(to + 1, to + 2)
        && !seats[to + 2].free;
    left || right
}

/// Free, or held by a hold that has lapsed (past its expiry plus the grace), which the same
/// decision expires.
pub(crate) fn is_free(show: &Show, seat: &SeatId, now: Timestamp) -> bool {
    match show.seat_status(seat) {
        Some(SeatStatus::Available) => true,
        Some(SeatStatus::Held(hold_id)) => show
            .hold(&hold_id)
            .is_some_and(|hold| now >= hold.expires_at + show.grace()),
        Some(SeatStatus::Sold(_)) | None => false,
    }
}
