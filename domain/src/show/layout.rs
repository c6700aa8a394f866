//! A hall's seat layout as shows and halls hold it: one shared copy per distinct layout.
//!
//! Thousands of shows sell at once, each kept in memory by its writer, and most of them play
//! in a few hundred halls: a copy of the layout per show (seat labels, rows, categories) was
//! most of a show's memory. A [`Layout`] is interned: every layout built or decoded (a
//! `ShowScheduled` read from the log, a hall added to a cinema) is looked up by its content in
//! a process-wide table of weak references, and an equal one already alive is shared instead.
//! A layout never changes once made, so sharing it changes nothing but memory.
//!
//! It also indexes its seats by label (ordinals sorted by label, searched by bisection, with
//! no second copy of the labels), so a show keeps its seats' states as a dense vector by
//! ordinal instead of a map keyed by label.

use super::SeatSpec;
use crate::SeatId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Deref;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

/// A seat layout: its seats in layout order, shared by every holder of an equal layout.
#[derive(Clone)]
pub struct Layout(Arc<Seats>);

struct Seats {
    specs: Box<[SeatSpec]>,
    /// Ordinals of `specs`, sorted by seat label (then ordinal, for layouts not yet checked
    /// for repeated labels).
    by_label: Box<[u32]>,
}

impl Layout {
    /// The ordinal of a seat (its place in layout order), if the layout has it.
    pub fn ordinal(&self, seat: &SeatId) -> Option<usize> {
        let specs = &self.0.specs;
        let found = self
            .0
            .by_label
            .binary_search_by(|&ordinal| specs[ordinal as usize].seat_id.cmp(seat))
            .ok()?;
        Some(self.0.by_label[found] as usize)
    }

    /// A seat's place in the layout, if the layout has it.
    pub fn spec(&self, seat: &SeatId) -> Option<&SeatSpec> {
        self.ordinal(seat).map(|ordinal| &self.0.specs[ordinal])
    }

    /// Whether two layouts are one shared copy (as equal layouts made in one process are).
    pub fn is_shared_with(&self, other: &Layout) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Layouts alive in this process, by a hash of their seats.
static INTERNED: LazyLock<Mutex<Interned>> = LazyLock::new(Mutex::default);

#[derive(Default)]
struct Interned {
    by_hash: HashMap<u64, Vec<Weak<Seats>>>,
    /// The table's size at which dropped layouts are next swept out.
    sweep_at: usize,
}

impl From<Vec<SeatSpec>> for Layout {
    fn from(specs: Vec<SeatSpec>) -> Self {
        let mut hasher = DefaultHasher::new();
        specs.hash(&mut hasher);
        let hash = hasher.finish();
        let mut interned = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
        let alive = interned
            .by_hash
            .get(&hash)
            .into_iter()
            .flatten()
            .filter_map(Weak::upgrade)
            .find(|seats| *seats.specs == *specs);
        if let Some(seats) = alive {
            return Self(seats);
        }
        let mut by_label: Vec<u32> = (0..specs.len() as u32).collect();
        by_label.sort_by(|&a, &b| specs[a as usize].seat_id.cmp(&specs[b as usize].seat_id));
        let seats = Arc::new(Seats {
            specs: specs.into_boxed_slice(),
            by_label: by_label.into_boxed_slice(),
        });
        if interned.by_hash.len() >= interned.sweep_at {
            interned.by_hash.retain(|_, layouts| {
                layouts.retain(|layout| layout.strong_count() > 0);
                !layouts.is_empty()
            });
            interned.sweep_at = 2 * interned.by_hash.len() + 64;
        }
        interned
            .by_hash
            .entry(hash)
            .or_default()
            .push(Arc::downgrade(&seats));
        Self(seats)
    }
}

impl From<&[SeatSpec]> for Layout {
    fn from(specs: &[SeatSpec]) -> Self {
        specs.to_vec().into()
    }
}

impl Deref for Layout {
    type Target = [SeatSpec];

    fn deref(&self) -> &[SeatSpec] {
        &self.0.specs
    }
}

impl Default for Layout {
    fn default() -> Self {
        Vec::new().into()
    }
}

impl PartialEq for Layout {
    fn eq(&self, other: &Self) -> bool {
        self.is_shared_with(other) || self.0.specs == other.0.specs
    }
}

impl Eq for Layout {}

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Layout {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.specs.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Layout {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<SeatSpec>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(label: &str, row: &str, number: u32) -> SeatSpec {
        SeatSpec {
            seat_id: SeatId(label.into()),
            row: row.into(),
            number,
            category: "regular".into(),
            column: None,
            kind: None,
        }
    }

    #[test]
    fn equal_layouts_are_one_copy_and_seats_are_found_by_label() {
        let seats = vec![
            seat("贵宾2", "贵宾", 2),
            seat("A10", "A", 10),
            seat("A9", "A", 9),
        ];
        let one = Layout::from(seats.clone());
        let other: Layout = serde_json::from_value(serde_json::to_value(&one).unwrap()).unwrap();
        assert!(one.is_shared_with(&other));
        assert_eq!(&*other, &seats[..]);
        assert_eq!(one.ordinal(&SeatId("A9".into())), Some(2));
        assert_eq!(one.ordinal(&SeatId("贵宾2".into())), Some(0));
        assert_eq!(one.spec(&SeatId("A10".into())).map(|s| s.number), Some(10));
        assert_eq!(one.ordinal(&SeatId("A1".into())), None);
        let different = Layout::from(vec![seat("A9", "A", 9)]);
        assert!(!one.is_shared_with(&different));
        assert_ne!(one, different);
    }

    #[test]
    fn a_layout_no_one_holds_is_made_anew() {
        let seats = vec![seat("Z1", "Z", 1)];
        let weak = Arc::downgrade(&Layout::from(seats.clone()).0);
        assert_eq!(weak.strong_count(), 0);
        let again = Layout::from(seats);
        assert_eq!(again.ordinal(&SeatId("Z1".into())), Some(0));
    }
}
