//! Seat maps kept in memory by show and version.
//!
//! When a popular show is on sale, customers re-read its seats after every refused hold: many
//! reads of the same few versions. A read asks the database only for the show's current
//! version (one indexed row) and answers from memory when that version is here; otherwise it
//! reads the map and keeps it. The version is the read model's own, so a kept map is never
//! newer or older than what the database would have answered at that moment.

use boxoffice_projections::queries::{SeatMapView, SeatStatusesView};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// What the cache keeps: one value per show, at one version.
pub trait Versioned {
    fn show_id(&self) -> Uuid;
    fn version(&self) -> i64;
    /// Its share of the cache's budget (seats it describes).
    fn weight(&self) -> usize;
}

impl Versioned for SeatMapView {
    fn show_id(&self) -> Uuid {
        self.show_id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn weight(&self) -> usize {
        self.seats.len()
    }
}

impl Versioned for SeatStatusesView {
    fn show_id(&self) -> Uuid {
        self.show_id
    }
    fn version(&self) -> i64 {
        self.version
    }
    /// A status is one byte where a full seat is a dozen small strings.
    fn weight(&self) -> usize {
        self.statuses.len() / 32 + 1
    }
}

pub struct VersionCache<T> {
    inner: Mutex<Inner<T>>,
    /// Most weight kept in all values together.
    budget: usize,
}

struct Inner<T> {
    values: HashMap<Uuid, Arc<T>>,
    weight: usize,
}

impl<T: Versioned> VersionCache<T> {
    pub fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                values: HashMap::new(),
                weight: 0,
            }),
            budget,
        }
    }

    /// The value of `show` at exactly `version`, if it is kept.
    pub fn get(&self, show: Uuid, version: i64) -> Option<Arc<T>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .values
            .get(&show)
            .filter(|value| value.version() == version)
            .cloned()
    }

    /// Keeps `value` unless a newer version of its show is already kept. Over the budget,
    /// other shows' values are dropped (any of them: the hot ones return at once).
    pub fn put(&self, value: Arc<T>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let show = value.show_id();
        if let Some(kept) = inner.values.get(&show) {
            if kept.version() >= value.version() {
                return;
            }
        }
        inner.weight += value.weight();
        if let Some(old) = inner.values.insert(show, value) {
            inner.weight -= old.weight();
        }
        while inner.weight > self.budget {
            let Some(victim) = inner.values.keys().find(|id| **id != show).copied() else {
                break;
            };
            if let Some(old) = inner.values.remove(&victim) {
                inner.weight -= old.weight();
            }
        }
    }
}

/// The server's caches: full seat maps, and the compact statuses.
pub struct SeatMapCache {
    pub maps: VersionCache<SeatMapView>,
    pub statuses: VersionCache<SeatStatusesView>,
}

impl Default for SeatMapCache {
    /// Room for about 25 full maps of a 2,000-seat hall (some 12 MB), and the statuses of
    /// some 800 such shows (under 2 MB).
    fn default() -> Self {
        Self {
            maps: VersionCache::new(50_000),
            statuses: VersionCache::new(50_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxoffice_projections::queries::{MoneyView, SeatCountsView, SeatView};

    fn map(show: Uuid, version: i64, seats: usize) -> Arc<SeatMapView> {
        let seat = SeatView {
            seat_id: "A1".into(),
            row: "A".into(),
            number: 1,
            category: "regular".into(),
            status: "available".into(),
            price: MoneyView {
                amount_minor: 4500,
                currency: "CNY".into(),
            },
        };
        Arc::new(SeatMapView {
            show_id: show,
            movie_id: Uuid::nil(),
            title: "影".into(),
            starts_at: chrono::Utc::now(),
            ends_at: chrono::Utc::now(),
            capacity: seats as i32,
            counts: SeatCountsView {
                available: seats as i32,
                held: 0,
                sold: 0,
            },
            version,
            seats: vec![seat; seats],
        })
    }

    #[test]
    fn answers_only_the_exact_version_and_never_goes_back() {
        let cache = VersionCache::new(100);
        let show = Uuid::new_v4();
        cache.put(map(show, 3, 10));
        assert!(cache.get(show, 3).is_some());
        assert!(cache.get(show, 4).is_none(), "a newer version must be read");
        cache.put(map(show, 5, 10));
        cache.put(map(show, 4, 10));
        assert!(cache.get(show, 5).is_some());
        assert!(
            cache.get(show, 4).is_none(),
            "an older map never replaces a newer one"
        );
    }

    #[test]
    fn stays_within_its_budget() {
        let cache = VersionCache::new(100);
        let shows: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        for show in &shows {
            cache.put(map(*show, 1, 40));
        }
        let kept = shows.iter().filter(|s| cache.get(**s, 1).is_some()).count();
        assert_eq!(kept, 2, "40-seat maps within a 100-seat budget");
        assert!(cache.get(shows[4], 1).is_some(), "the map just read is kept");
    }
}
