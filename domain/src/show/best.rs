//! Best available: which `count` adjacent seats to offer someone who did not pick them.
//!
//! Candidates are runs of `count` free seats side by side in one row, of the requested
//! category. Side by side is where the hall's layout draws them: in consecutive columns, so an
//! aisle or a gap breaks a block (seat numbers skip aisles, so consecutive numbers can stand
//! on both sides of one); a layout given seat by seat has no columns, and there consecutive
//! numbers are side by side. With no category asked for, wheelchair spaces and companion
//! seats (category `accessible`) are never offered: they are for those who ask for them.
//! Asked for, they are offered as parties, never broken up: at least one wheelchair space,
//! each companion seat beside a wheelchair space of the block, and no more companions per
//! space than the show's rule allows (see [`accessible`](super::accessible)).
//! Candidates are ranked by, in order:
//! 1. not leaving a single free seat between the block and a wall: a taken seat, an aisle
//!    or gap, or the row's end (an orphan nobody can buy with a friend), when a block
//!    without one exists;
//! 2. the row: rows are ranked by distance from the best row, two thirds of the way from the
//!    screen to the back (rows in layout order, the first nearest the screen); between two
//!    rows equally far, the one further back;
//! 3. the distance of the block's centre from the row's centre, where the layout draws them;
//! 4. the lower seat number.

use super::{SeatKind, SeatSpec, SeatStatus, Show};
use crate::{SeatId, Timestamp};
use std::collections::BTreeMap;

/// One seat of a row, as best-available sees it.
struct Place<'a> {
    number: u32,
    /// Where it stands in the row: its column, or its number where the layout has none.
    column: u32,
    id: &'a SeatId,
    free: bool,
    wanted: bool,
    kind: Option<SeatKind>,
}

/// Whether `b` stands right of `a`, with no aisle or gap between.
fn side_by_side(a: &Place, b: &Place) -> bool {
    b.column == a.column + 1
}

/// Whether a seat may go to someone who asked for `category` (or for none).
fn wanted(spec: &SeatSpec, category: Option<&str>) -> bool {
    match category {
        Some(category) => spec.category == category,
        None => spec.kind.is_none() && spec.category != ACCESSIBLE,
    }
}

/// The category of wheelchair spaces and their companion seats.
const ACCESSIBLE: &str = "accessible";

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
        rows.entry(&spec.row).or_default().push(Place {
            number: spec.number,
            column: spec.column.unwrap_or(spec.number),
            id: &spec.seat_id,
            free: is_free(show, &spec.seat_id, now),
            wanted: wanted(spec, category),
            kind: spec.kind,
        });
    }
    let best_row = (row_order.len() * 2) / 3;
    let companions = info
        .accessible_seating
        .map_or(u32::MAX, |rule| rule.companions_per_wheelchair);
    for seats in rows.values_mut() {
        seats.sort_by_key(|place| place.number);
    }
    let mut best: Option<(Rank, &[Place])> = None;
    for (row_index, row) in row_order.iter().enumerate() {
        let seats = &rows[row];
        if seats.len() < count {
            continue;
        }
        let (first, last) = (seats[0].column, seats[seats.len() - 1].column);
        for start in 0..=seats.len() - count {
            let block = &seats[start..start + count];
            let adjacent = block.windows(2).all(|w| side_by_side(&w[0], &w[1]));
            if !adjacent
                || !block.iter().all(|place| place.free && place.wanted)
                || !a_party(block, companions)
            {
                continue;
            }
            let rank = Rank {
                orphan: leaves_orphan(seats, start, start + count - 1),
                row_distance: row_index.abs_diff(best_row),
                rows_from_back: row_order.len() - row_index,
                // Twice the distance between the centres, to stay in integers.
                centre_distance: u64::from(block[0].column + block[count - 1].column)
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

/// Whether a block with wheelchair spaces or companion seats keeps parties whole: at least
/// one wheelchair space, each companion beside one, at most `companions` per space. A block
/// of neither is one.
fn a_party(block: &[Place], companions: u32) -> bool {
    let is = |place: &Place, kind| place.kind == Some(kind);
    if block.iter().all(|place| place.kind.is_none()) {
        return true;
    }
    let spaces = block.iter().filter(|p| is(p, SeatKind::Wheelchair)).count() as u32;
    let mut seated = 0u32;
    for (at, place) in block.iter().enumerate() {
        if !is(place, SeatKind::Companion) {
            continue;
        }
        seated += 1;
        let beside = |other: Option<&Place>| {
            other.is_some_and(|o| {
                is(o, SeatKind::Wheelchair) && o.column.abs_diff(place.column) == 1
            })
        };
        if !beside(at.checked_sub(1).and_then(|i| block.get(i))) && !beside(block.get(at + 1)) {
            return false;
        }
    }
    spaces >= 1 && seated <= companions.saturating_mul(spaces)
}

/// Whether holding seats `from..=to` of a sorted row leaves exactly one free seat between the
/// block and a wall (a taken seat, an aisle or gap, the row's end), on either side.
fn leaves_orphan(seats: &[Place], from: usize, to: usize) -> bool {
    // The seat at `next` is free and alone: side by side with the block at `inner`, and
    // walled off beyond (`outer` none: the row ends).
    let alone = |inner: usize, next: usize, outer: Option<usize>| {
        let beside = |a: usize, b: usize| side_by_side(&seats[a.min(b)], &seats[a.max(b)]);
        beside(inner, next)
            && seats[next].free
            && outer.is_none_or(|outer| !beside(next, outer) || !seats[outer].free)
    };
    let left = from >= 1 && alone(from, from - 1, from.checked_sub(2));
    let right =
        to + 1 < seats.len() && alone(to, to + 1, Some(to + 2).filter(|&i| i < seats.len()));
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
