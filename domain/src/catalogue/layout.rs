//! A hall's seat layout as staff draw it: rows of cells, each a seat or a gap.
//!
//! Each row is a label and a string of cells read left to right:
//!
//! | cell | meaning |
//! |---|---|
//! | `R` | a regular seat |
//! | `P` | a premium seat |
//! | `W` | a wheelchair space (category `accessible`) |
//! | `C` | a companion seat beside a wheelchair space (category `accessible`) |
//! | `_` | no seat: an aisle, a gap or a step |
//!
//! Seats are numbered from 1 in each row, left to right, skipping gaps; a seat's id is its
//! row label followed by its number (`F7`). Each seat keeps its column (1-based, gaps
//! counted), so a client can draw the hall exactly as laid out.

use crate::error::Problems;
use crate::{DomainError, SeatId, SeatKind, SeatSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const MAX_ROWS: usize = 100;
pub const MAX_CELLS_PER_ROW: usize = 120;
pub const MAX_SEATS_PER_HALL: usize = 5_000;
const MAX_ROW_LABEL_CHARS: usize = 8;

/// The seat categories a layout can use.
pub const CATEGORIES: [&str; 3] = ["regular", "premium", "accessible"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"rows": [
    {"label": "A", "cells": "RRRR_RRRRRR_RRRR"},
    {"label": "B", "cells": "WC__RRRRRR__CW"},
    {"label": "C", "cells": "PPPP_PPPPPP_PPPP"}
]})))]
pub struct HallLayout {
    /// Front (nearest the screen) to back; 1 to 100 rows.
    pub rows: Vec<LayoutRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LayoutRow {
    /// 1 to 8 characters, unique in the hall, such as `F` or `12排`.
    pub label: String,
    /// Left to right: `R` regular, `P` premium, `W` wheelchair space, `C` companion seat
    /// (next to a `W`), `_` no seat. 1 to 120 cells with at least one seat.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[RPWC_]+$", example = "RRRR_RRRRRR_RRRR")
    )]
    pub cells: String,
}

impl HallLayout {
    /// The seats of the layout in order (front row first, left to right), or every problem
    /// found, each naming its field under `field` (such as `layout.rows[3].cells`).
    pub fn seats(&self, field: &str) -> Result<Vec<SeatSpec>, DomainError> {
        let mut problems = Problems::default();
        if !(1..=MAX_ROWS).contains(&self.rows.len()) {
            problems.add(
                format!("{field}.rows"),
                format!("a hall has 1 to {MAX_ROWS} rows"),
            );
        }
        let mut labels = BTreeSet::new();
        let mut ids = BTreeSet::new();
        let mut seats = Vec::new();
        for (index, row) in self.rows.iter().enumerate() {
            let here = format!("{field}.rows[{index}]");
            let label = row.label.as_str();
            let label_chars = label.chars().count();
            if !(1..=MAX_ROW_LABEL_CHARS).contains(&label_chars)
                || label.trim() != label
                || label.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                problems.add(
                    format!("{here}.label"),
                    format!("must be 1 to {MAX_ROW_LABEL_CHARS} characters without spaces"),
                );
            } else if !labels.insert(label) {
                problems.add(
                    format!("{here}.label"),
                    format!("row {label} appears twice"),
                );
            }
            let cells: Vec<char> = row.cells.chars().collect();
            if !(1..=MAX_CELLS_PER_ROW).contains(&cells.len()) {
                problems.add(
                    format!("{here}.cells"),
                    format!("a row has 1 to {MAX_CELLS_PER_ROW} cells"),
                );
                continue;
            }
            if let Some((at, bad)) = cells
                .iter()
                .enumerate()
                .find(|(_, c)| !matches!(c, 'R' | 'P' | 'W' | 'C' | '_'))
            {
                problems.add(
                    format!("{here}.cells"),
                    format!(
                        "cell {} is `{bad}`; use R (regular), P (premium), W (wheelchair space), \
                         C (companion seat) or _ (no seat)",
                        at + 1
                    ),
                );
                continue;
            }
            if cells.iter().all(|c| *c == '_') {
                problems.add(format!("{here}.cells"), "a row needs at least one seat");
                continue;
            }
            for (at, cell) in cells.iter().enumerate() {
                let beside_wheelchair = (at > 0 && cells[at - 1] == 'W')
                    || cells.get(at + 1).is_some_and(|c| *c == 'W');
                if *cell == 'C' && !beside_wheelchair {
                    problems.add(
                        format!("{here}.cells"),
                        format!(
                            "cell {} is a companion seat (C) with no wheelchair space (W) beside it",
                            at + 1
                        ),
                    );
                }
            }
            let mut number = 0u32;
            let mut collided = false;
            for (at, cell) in cells.iter().enumerate() {
                let (category, kind) = match cell {
                    'R' => ("regular", None),
                    'P' => ("premium", None),
                    'W' => ("accessible", Some(SeatKind::Wheelchair)),
                    'C' => ("accessible", Some(SeatKind::Companion)),
                    _ => continue,
                };
                number += 1;
                let seat_id = format!("{label}{number}");
                if !ids.insert(seat_id.clone()) && !collided {
                    collided = true;
                    problems.add(
                        format!("{here}.label"),
                        format!("seat id {seat_id} would be made by two rows; rename a row"),
                    );
                }
                seats.push(SeatSpec {
                    seat_id: SeatId::new(seat_id),
                    row: label.to_owned(),
                    number,
                    category: category.to_owned(),
                    column: Some(at as u32 + 1),
                    kind,
                });
            }
        }
        problems.check(
            seats.len() <= MAX_SEATS_PER_HALL,
            format!("{field}.rows"),
            format!("a hall has at most {MAX_SEATS_PER_HALL} seats"),
        );
        problems.into_result().map(|()| seats)
    }
}

/// The categories `seats` use, in a fixed order.
pub fn categories_of(seats: &[SeatSpec]) -> BTreeSet<&str> {
    seats.iter().map(|s| s.category.as_str()).collect()
}
