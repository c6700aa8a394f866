//! Seat maps kept in memory by show and version.
//!
//! When a popular show is on sale, customers re-read its seat map after every refused hold:
//! many reads of the same few versions. A read asks the database only for the show's current
//! version (one indexed row) and answers from memory when that version is here; otherwise it
//! reads the map and keeps it. The version is the read model's own, so a cached map is never
//! newer or older than what the database would have answered at that moment.

use boxoffice_projections::queries::SeatMapView;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

pub struct SeatMapCache {
    inner: Mutex<Inner>,
    /// Most seats kept in all cached maps together.
    max_seats: usize,
}

#[derive(Default)]
struct Inner {
    maps: HashMap<Uuid, Arc<SeatMapView>>,
    seats: usize,
}

impl SeatMapCache {
    pub fn new(max_seats: usize) -> Self {
        Self {
            inner: Mutex::default(),
            max_seats,
        }
    }

    /// The map of `show` at exactly `version`, if it is kept.
    pub fn get(&self, show: Uuid, version: i64) -> Option<Arc<SeatMapView>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .maps
            .get(&show)
            .filter(|map| map.version == version)
            .cloned()
    }

    /// Keeps `map` unless a newer version of its show is already kept. When the budget is
    /// exceeded, other shows' maps are dropped (any of them: the hot ones return at once).
    pub fn put(&self, map: Arc<SeatMapView>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = inner.maps.get(&map.show_id) {
            if kept.version >= map.version {
                return;
            }
        }
        let show = map.show_id;
        inner.seats += map.seats.len();
        if let Some(old) = inner.maps.insert(show, map) {
            inner.seats -= old.seats.len();
        }
        while inner.seats > self.max_seats {
            let Some(victim) = inner.maps.keys().find(|id| **id != show).copied() else {
                break;
            };
            if let Some(old) = inner.maps.remove(&victim) {
                inner.seats -= old.seats.len();
            }
        }
    }
}

impl Default for SeatMapCache {
    /// Room for about 25 maps of a 2,000-seat hall (some 12 MB).
    fn default() -> Self {
        Self::new(50_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxoffice_projections::queries::SeatCountsView;

    fn map(show: Uuid, version: i64, seats: usize) -> Arc<SeatMapView> {
        let seat = boxoffice_projections::queries::SeatView {
            seat_id: "A1".into(),
            row: "A".into(),
            number: 1,
            category: "regular".into(),
            status: "available".into(),
            price: boxoffice_projections::queries::MoneyView {
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
        let cache = SeatMapCache::new(100);
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
    fn stays_within_its_seat_budget() {
        let cache = SeatMapCache::new(100);
        let shows: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        for show in &shows {
            cache.put(map(*show, 1, 40));
        }
        let kept = shows.iter().filter(|s| cache.get(**s, 1).is_some()).count();
        assert_eq!(kept, 2, "40-seat maps within a 100-seat budget");
        assert!(
            cache.get(shows[4], 1).is_some(),
            "the map just read is kept"
        );
    }
}
