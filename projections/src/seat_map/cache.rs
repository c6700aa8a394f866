//! Seat maps kept in memory by show and version.
//!
//! When a popular show is on sale, customers re-read its seats after every refused hold: many
//! reads of the same few versions. Each kept map remembers the seat-map projector's position
//! at which it was last known current. The projector of this process tells the cache of
//! every batch it commits, before readers learn the new position ([`SeatMapCache::follow`]):
//! a kept map of a show the batch did not touch is current at the new position as it is, and
//! one the batch did touch with holds and payments only is brought up to date in memory, seat
//! by seat; any other (a refund, an exchange, a check-in, a cancellation) is let go. So while
//! this process applies the log, reads are answered from memory without the database. When
//! the map is not known current at the position asked for (another process applied a batch,
//! or the map was let go), a read asks the database only for the show's version (one indexed
//! row) and answers from memory if that is still the kept version; otherwise it reads the map
//! and keeps it. So a kept map is never older than the position the answer reports.

use super::queries::{seat_map, seat_map_version, seat_statuses, SeatMapView, SeatStatusesView};
use crate::ProjectionError;
use boxoffice_eventstore::Position;
use deadpool_postgres::{Client, Pool};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// What the cache keeps: one value per show, at one version.
trait Versioned {
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

/// What one committed batch did to one show, as the seat-map projector folded it.
pub(crate) struct Change<'a> {
    /// The versions of the show's first and last events in the batch.
    pub first_version: Option<i64>,
    pub last_version: i64,
    /// Only holds made and ended and payments: seat statuses and counts tell it all.
    pub followable: bool,
    pub available: i32,
    pub held: i32,
    pub sold: i32,
    /// Each seat's last status in the batch (`available`, `held`, `sold`).
    pub seats: Vec<(&'a str, &'static str)>,
}

/// A kept value that can follow a batch's change in memory.
trait Follows {
    /// Applies `change`; false when some seat is not this show's (then it is let go).
    fn follow(&mut self, change: &Change<'_>) -> bool;
}

impl Follows for SeatMapView {
    fn follow(&mut self, change: &Change<'_>) -> bool {
        for (seat_id, status) in &change.seats {
            let Some(seat) = self.seats.iter_mut().find(|s| s.seat_id == *seat_id) else {
                return false;
            };
            seat.status = (*status).to_owned();
        }
        self.counts.available += change.available;
        self.counts.held += change.held;
        self.counts.sold += change.sold;
        self.version = change.last_version;
        true
    }
}

impl Follows for SeatStatusesView {
    fn follow(&mut self, change: &Change<'_>) -> bool {
        let mut statuses = std::mem::take(&mut self.statuses).into_bytes();
        for (seat_id, status) in &change.seats {
            let Some(slot) = self
                .ordinals
                .get(*seat_id)
                .and_then(|ordinal| statuses.get_mut(*ordinal))
            else {
                return false;
            };
            *slot = match *status {
                "held" => b'h',
                "sold" => b's',
                _ => b'a',
            };
        }
        let Ok(statuses) = String::from_utf8(statuses) else {
            return false;
        };
        self.statuses = statuses;
        self.counts.available += change.available;
        self.counts.held += change.held;
        self.counts.sold += change.sold;
        self.version = change.last_version;
        true
    }
}

struct VersionCache<T> {
    inner: Mutex<Inner<T>>,
    /// Most weight kept in all values together.
    budget: usize,
}

struct Inner<T> {
    /// Each show's value, and the projector position at which it was last known current.
    values: HashMap<Uuid, (Arc<T>, Position)>,
    weight: usize,
}

impl<T: Versioned> VersionCache<T> {
    fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                values: HashMap::new(),
                weight: 0,
            }),
            budget,
        }
    }

    /// The value of `show` if it was known current at projector position `at`.
    fn fresh(&self, show: Uuid, at: Position) -> Option<Arc<T>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .values
            .get(&show)
            .filter(|(_, checked)| *checked == at)
            .map(|(value, _)| value.clone())
    }

    /// The value of `show` if it is at exactly `version`, now known current at `at`.
    fn confirm(&self, show: Uuid, version: i64, at: Position) -> Option<Arc<T>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (value, checked) = inner.values.get_mut(&show)?;
        if value.version() != version {
            return None;
        }
        *checked = (*checked).max(at);
        Some(value.clone())
    }

    /// Keeps `value`, read when the projector was at `at`, unless a newer version of its
    /// show is already kept. Over the budget, other shows' values are dropped (any of them:
    /// the hot ones return at once).
    fn put(&self, value: Arc<T>, at: Position) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let show = value.show_id();
        if let Some((kept, _)) = inner.values.get(&show) {
            if kept.version() >= value.version() {
                return;
            }
        }
        inner.weight += value.weight();
        if let Some((old, _)) = inner.values.insert(show, (value, at)) {
            inner.weight -= old.weight();
        }
        while inner.weight > self.budget {
            let Some(victim) = inner.values.keys().find(|id| **id != show).copied() else {
                break;
            };
            if let Some((old, _)) = inner.values.remove(&victim) {
                inner.weight -= old.weight();
            }
        }
    }
}

impl<T: Versioned + Follows + Clone> VersionCache<T> {
    /// The projector moved from `from` to `to` over a batch that changed `changes`' shows.
    /// Values current at `from` become current at `to`: as they are when the batch did not
    /// touch their show, followed in memory when it can be, else let go. Values not known
    /// current at `from` are left as they are (a read checks them against the database).
    fn follow(&self, from: Position, to: Position, changes: &HashMap<Uuid, Change<'_>>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut gone = Vec::new();
        for (show, (value, checked)) in inner.values.iter_mut() {
            if *checked != from {
                continue;
            }
            let Some(change) = changes.get(show) else {
                *checked = to;
                continue;
            };
            let kept = if value.version() >= change.last_version {
                // Read after the batch was committed: it already shows it.
                true
            } else {
                change.followable
                    && change.first_version == Some(value.version() + 1)
                    && Arc::make_mut(value).follow(change)
            };
            if kept {
                *checked = to;
            } else {
                gone.push(*show);
            }
        }
        for show in gone {
            if let Some((old, _)) = inner.values.remove(&show) {
                inner.weight -= old.weight();
            }
        }
    }
}

/// The server's caches: full seat maps, and the compact statuses.
pub struct SeatMapCache {
    maps: VersionCache<SeatMapView>,
    statuses: VersionCache<SeatStatusesView>,
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

impl SeatMapCache {
    /// The seat map of `show_id` as the read model has it at projector position `at` (or
    /// later); None for a show the seat map does not know.
    pub async fn seat_map(
        &self,
        pool: &Pool,
        show_id: Uuid,
        at: Position,
    ) -> Result<Option<Arc<SeatMapView>>, ProjectionError> {
        current(&self.maps, pool, show_id, at).await
    }

    /// The seat-map projector of this process committed a batch that moved it from `from`
    /// to `to` and changed `changes`' shows: what is kept follows (see the module's text).
    pub(crate) fn follow(&self, from: Position, to: Position, changes: &HashMap<Uuid, Change<'_>>) {
        self.maps.follow(from, to, changes);
        self.statuses.follow(from, to, changes);
    }

    /// Every seat's status, compactly, as the read model has it at projector position `at`
    /// (or later); None for a show the seat map does not know.
    pub async fn seat_statuses(
        &self,
        pool: &Pool,
        show_id: Uuid,
        at: Position,
    ) -> Result<Option<Arc<SeatStatusesView>>, ProjectionError> {
        current(&self.statuses, pool, show_id, at).await
    }
}

/// A kept value if it is known current at `at`, else the one the database has now (kept
/// for the next read). The pool is asked for a connection only when memory cannot answer.
async fn current<T: Versioned + Readable>(
    cache: &VersionCache<T>,
    pool: &Pool,
    show_id: Uuid,
    at: Position,
) -> Result<Option<Arc<T>>, ProjectionError> {
    if let Some(value) = cache.fresh(show_id, at) {
        return Ok(Some(value));
    }
    let client = pool.get().await?;
    let Some(version) = seat_map_version(&client, show_id).await? else {
        return Ok(None);
    };
    if let Some(value) = cache.confirm(show_id, version, at) {
        return Ok(Some(value));
    }
    let Some(value) = T::read(&client, show_id).await? else {
        return Ok(None);
    };
    let value = Arc::new(value);
    cache.put(value.clone(), at);
    Ok(Some(value))
}

/// How a kept value is read from the database.
trait Readable: Sized {
    async fn read(client: &Client, show_id: Uuid) -> Result<Option<Self>, tokio_postgres::Error>;
}

impl Readable for SeatMapView {
    async fn read(client: &Client, show_id: Uuid) -> Result<Option<Self>, tokio_postgres::Error> {
        seat_map(client, show_id).await
    }
}

impl Readable for SeatStatusesView {
    async fn read(client: &Client, show_id: Uuid) -> Result<Option<Self>, tokio_postgres::Error> {
        seat_statuses(client, show_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seat_map::{SeatCountsView, SeatView};
    use crate::MoneyView;

    fn map(show: Uuid, version: i64, seats: usize) -> Arc<SeatMapView> {
        let seat = SeatView {
            seat_id: "A1".into(),
            row: "A".into(),
            number: 1,
            category: "regular".into(),
            status: "available".into(),
            checked_in: false,
            price: MoneyView {
                amount_minor: 4500,
                currency: "CNY".into(),
            },
            column: None,
            kind: None,
            reserved_for: None,
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
                checked_in: 0,
            },
            version,
            cancelled: false,
            accessible_seats: None,
            seats: vec![seat; seats],
        })
    }

    fn at(n: u64) -> Position {
        Position::new(n, n)
    }

    #[test]
    fn answers_only_the_exact_version_and_never_goes_back() {
        let cache = VersionCache::new(100);
        let show = Uuid::new_v4();
        cache.put(map(show, 3, 10), at(1));
        assert!(cache.confirm(show, 3, at(1)).is_some());
        assert!(
            cache.confirm(show, 4, at(2)).is_none(),
            "a newer version must be read"
        );
        cache.put(map(show, 5, 10), at(3));
        cache.put(map(show, 4, 10), at(2));
        assert!(cache.confirm(show, 5, at(3)).is_some());
        assert!(
            cache.confirm(show, 4, at(3)).is_none(),
            "an older map never replaces a newer one"
        );
    }

    #[test]
    fn is_fresh_only_while_the_projector_has_not_moved() {
        let cache = VersionCache::new(100);
        let show = Uuid::new_v4();
        cache.put(map(show, 3, 10), at(7));
        assert!(cache.fresh(show, at(7)).is_some());
        assert!(
            cache.fresh(show, at(8)).is_none(),
            "the projector moved: ask again"
        );
        assert!(cache.confirm(show, 3, at(8)).is_some(), "still version 3");
        assert!(cache.fresh(show, at(8)).is_some());
        assert!(cache.fresh(Uuid::new_v4(), at(8)).is_none());
    }

    fn statuses(show: Uuid, version: i64, statuses: &str) -> Arc<SeatStatusesView> {
        let ordinals = (1..=statuses.len()).map(|n| format!("A{n}"));
        Arc::new(SeatStatusesView {
            show_id: show,
            version,
            counts: SeatCountsView {
                available: statuses.matches('a').count() as i32,
                held: statuses.matches('h').count() as i32,
                sold: statuses.matches('s').count() as i32,
                checked_in: 0,
            },
            statuses: statuses.into(),
            ordinals: Arc::new(ordinals.enumerate().map(|(i, id)| (id, i)).collect()),
        })
    }

    fn change<'a>(first: i64, last: i64, seats: &[(&'a str, &'static str)]) -> Change<'a> {
        let delta = |status| seats.iter().filter(|(_, s)| *s == status).count() as i32;
        // In these tests every seat a batch touches was available before it.
        let touched = seats.len() as i32;
        Change {
            first_version: Some(first),
            last_version: last,
            followable: true,
            available: delta("available") - touched,
            held: delta("held"),
            sold: delta("sold"),
            seats: seats.to_vec(),
        }
    }

    #[test]
    fn a_committed_batch_is_followed_in_memory() {
        let cache = VersionCache::new(100);
        let (hot, quiet) = (Uuid::new_v4(), Uuid::new_v4());
        cache.put(statuses(hot, 4, "aaaa"), at(7));
        cache.put(statuses(quiet, 2, "aas"), at(7));
        let changes = HashMap::from([(hot, change(5, 6, &[("A2", "held"), ("A3", "sold")]))]);
        cache.follow(at(7), at(9), &changes);
        let followed = cache.fresh(hot, at(9)).expect("followed, not read again");
        assert_eq!(followed.statuses, "ahsa");
        assert_eq!(followed.version, 6);
        assert_eq!(
            (
                followed.counts.available,
                followed.counts.held,
                followed.counts.sold
            ),
            (2, 1, 1)
        );
        let untouched = cache
            .fresh(quiet, at(9))
            .expect("untouched: current as it is");
        assert_eq!((untouched.statuses.as_str(), untouched.version), ("aas", 2));
    }

    #[test]
    fn what_cannot_be_followed_is_let_go_and_what_was_not_current_is_left() {
        let cache = VersionCache::new(100);
        let shows: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        cache.put(statuses(shows[0], 4, "aa"), at(7));
        cache.put(statuses(shows[1], 4, "aa"), at(7));
        cache.put(statuses(shows[2], 4, "aa"), at(7));
        cache.put(statuses(shows[3], 4, "aa"), at(5));
        cache.put(statuses(shows[4], 6, "ah"), at(7));
        let mut refund = change(5, 5, &[("A1", "available")]);
        refund.followable = false;
        let changes = HashMap::from([
            (shows[0], refund),
            // Versions 5 and 6 were not seen: 7 is not the next.
            (shows[1], change(7, 7, &[("A1", "held")])),
            (shows[2], change(5, 5, &[("Z9", "held")])),
            (shows[3], change(5, 5, &[("A1", "held")])),
            // Read after the batch committed: it shows it already.
            (shows[4], change(5, 6, &[("A2", "held")])),
        ]);
        cache.follow(at(7), at(9), &changes);
        for gone in &shows[..3] {
            assert!(cache.confirm(*gone, 4, at(9)).is_none(), "let go");
        }
        assert!(
            cache.fresh(shows[3], at(9)).is_none(),
            "not current at the batch's start: checked against the database"
        );
        assert!(cache.confirm(shows[3], 4, at(5)).is_some(), "but kept");
        assert_eq!(cache.fresh(shows[4], at(9)).expect("kept").statuses, "ah");
    }

    #[test]
    fn stays_within_its_budget() {
        let cache = VersionCache::new(100);
        let shows: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        for show in &shows {
            cache.put(map(*show, 1, 40), at(1));
        }
        let kept = shows
            .iter()
            .filter(|s| cache.fresh(**s, at(1)).is_some())
            .count();
        assert_eq!(kept, 2, "40-seat maps within a 100-seat budget");
        assert!(
            cache.fresh(shows[4], at(1)).is_some(),
            "the map just read is kept"
        );
    }
}
