//! The seat-map projector: a batch of show events becomes the last status of each seat it
//! touched, the holds it began and ended, and each show's count changes, written with a few
//! `unnest` statements however many events the batch holds.

use super::cache::{Change, SeatMapCache};
use crate::projector::seat_list;
use crate::runner::etag_moved;
use crate::watchers::ShowWatchers;
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::show::{SeatsHeld, ShowScheduled};
use boxoffice_domain::{SeatId, ShowEvent, Timestamp};
use boxoffice_eventstore::Position;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio_postgres::Transaction;
use uuid::Uuid;

const INSERT_HOLDS_SQL: &str = include_str!("sql/insert_holds.sql");
const END_HOLDS_SQL: &str = include_str!("sql/end_holds.sql");
const SET_SEATS_SQL: &str = include_str!("sql/set_seats.sql");
const CHECK_IN_SEATS_SQL: &str = include_str!("sql/check_in_seats.sql");
const COUNT_SHOWS_SQL: &str = include_str!("sql/count_shows.sql");
const SCHEDULE_SHOW_SQL: &str = include_str!("sql/schedule_show.sql");
const SCHEDULE_SEATS_SQL: &str = include_str!("sql/schedule_seats.sql");
const SCHEDULE_CATEGORIES_SQL: &str = include_str!("sql/schedule_categories.sql");
const RELEASE_ACCESSIBLE_SQL: &str = include_str!("sql/release_accessible.sql");

/// Seat rows written by one statement when shows are scheduled: a batch of a hundred
/// 2,000-seat shows in one statement is a message of tens of MB, and a pooled connection
/// keeps a buffer as large as the largest message it ever sent.
const SEAT_ROWS_PER_STATEMENT: usize = 4096;

/// The seat-map projector; a server's also keeps its in-memory seat maps current and wakes
/// the live streams of the shows each batch changed.
#[derive(Default)]
pub struct SeatMap {
    cache: Option<Arc<SeatMapCache>>,
    watchers: Option<Arc<ShowWatchers>>,
}

impl SeatMap {
    /// A projector that, after each batch it commits, brings the seat maps kept in `cache`
    /// up to date (or lets them go) itself, and wakes the streams in `watchers` of the shows
    /// the batch changed.
    pub fn serving(cache: Arc<SeatMapCache>, watchers: Arc<ShowWatchers>) -> Self {
        Self {
            cache: Some(cache),
            watchers: Some(watchers),
        }
    }
}

#[async_trait]
impl Projector for SeatMap {
    fn name(&self) -> &'static str {
        "seat_map"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "seat_map_shows",
            "seat_map_seats",
            "seat_map_holds",
            "seat_map_categories",
        ]
    }

    /// Every show event moves the show's version, which the seat map reports.
    fn cares_about(&self, event: &Event) -> bool {
        matches!(event, Event::Show(_))
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[Applying<'_>],
    ) -> Result<(), tokio_postgres::Error> {
        let (fold, scheduled) = Fold::of(events);
        let mut scheduling = Scheduling::default();
        for (show_id, e, version) in &scheduled {
            scheduling.add(*show_id, e, *version);
        }
        scheduling.write(tx).await?;
        let availability_moved = fold.write(tx).await?;
        if !scheduled.is_empty() || availability_moved {
            if let Some(last) = events.last() {
                etag_moved(tx, self.name(), last.recorded.position).await?;
            }
        }
        Ok(())
    }

    fn committed(&self, events: &[Applying<'_>], from: Position, to: Position) {
        let (fold, _) = Fold::of(events);
        if let Some(watchers) = &self.watchers {
            watchers.wake(fold.shows.keys());
        }
        let Some(cache) = &self.cache else { return };
        let mut changes: HashMap<Uuid, Change<'_>> = fold
            .shows
            .iter()
            .map(|(show, c)| {
                let change = Change {
                    first_version: c.first_version,
                    last_version: c.version,
                    followable: c.followable,
                    available: c.available,
                    held: c.held,
                    sold: c.sold,
                    seats: Vec::new(),
                };
                (*show, change)
            })
            .collect();
        for ((show, seat), now) in &fold.seats {
            if let Some(change) = changes.get_mut(show) {
                change.seats.push((seat, now.status));
            }
        }
        cache.follow(from, to, &changes);
    }

    fn passed(&self, _from: Position, _to: Position) {
        if let Some(watchers) = &self.watchers {
            watchers.wake_all();
        }
    }
}

/// A batch's effect, folded in memory: the last word on each seat and hold, and each show's
/// count changes and last version.
#[derive(Default)]
struct Fold<'a> {
    new_holds: Vec<&'a SeatsHeld>,
    new_hold_shows: Vec<Uuid>,
    ended_holds: HashMap<Uuid, HoldEnd>,
    seats: HashMap<(Uuid, &'a str), SeatNow>,
    /// Seats let in during the batch, and not changed hands after.
    checked_in: HashSet<(Uuid, &'a str)>,
    /// Shows that released their kept accessible seats: why and when.
    accessible_released: Vec<(Uuid, &'static str, Timestamp)>,
    shows: HashMap<Uuid, ShowChange>,
}

/// How and when a hold ended.
struct HoldEnd {
    status: &'static str,
    at: Timestamp,
}

/// A seat's last status in the batch, with its hold or order.
struct SeatNow {
    status: &'static str,
    hold_id: Option<Uuid>,
    order_id: Option<Uuid>,
}

struct ShowChange {
    available: i32,
    held: i32,
    sold: i32,
    /// The version of the show's first and last event in the batch.
    first_version: Option<i64>,
    version: i64,
    cancelled: bool,
    /// Whether in-memory copies can follow the batch's change of this show (see
    /// [`Change`]).
    followable: bool,
}

impl Default for ShowChange {
    fn default() -> Self {
        Self {
            available: 0,
            held: 0,
            sold: 0,
            first_version: None,
            version: 0,
            cancelled: false,
            followable: true,
        }
    }
}

/// The batch's seats as the columns of `set_seats.sql`.
#[derive(Default)]
struct SeatColumns<'a> {
    show_ids: Vec<Uuid>,
    seat_ids: Vec<&'a str>,
    statuses: Vec<&'static str>,
    hold_ids: Vec<Option<Uuid>>,
    order_ids: Vec<Option<Uuid>>,
}

/// The batch's shows as the columns of `count_shows.sql`.
#[derive(Default)]
struct ShowColumns {
    show_ids: Vec<Uuid>,
    available: Vec<i32>,
    held: Vec<i32>,
    sold: Vec<i32>,
    versions: Vec<i64>,
    cancelled: Vec<bool>,
}

impl<'a> Fold<'a> {
    /// The batch folded, and the shows it schedules (written first, seat by seat).
    #[allow(clippy::type_complexity)]
    fn of(events: &'a [Applying<'a>]) -> (Self, Vec<(Uuid, &'a ShowScheduled, i64)>) {
        let mut fold = Fold::default();
        let mut scheduled = Vec::new();
        for applying in events {
            let Event::Show(event) = applying.event else {
                continue;
            };
            let show_id = applying.stream_id;
            let version = applying.recorded.version as i64;
            // Holds made and ended and payments: what in-memory copies can follow.
            let mut followable = true;
            match event {
                ShowEvent::ShowScheduled(e) => {
                    scheduled.push((show_id, e, version));
                    continue;
                }
                ShowEvent::SeatsHeld(e) => {
                    fold.new_holds.push(e);
                    fold.new_hold_shows.push(show_id);
                    fold.seats(show_id, &e.seats, "held", Some(e.hold_id.0), None);
                    fold.count(show_id, -1, 1, 0, e.seats.len());
                }
                ShowEvent::HoldReleased(e) => {
                    fold.end_hold(e.hold_id.0, "released", e.released_at);
                    fold.seats(show_id, &e.seats, "available", None, None);
                    fold.count(show_id, 1, -1, 0, e.seats.len());
                }
                ShowEvent::HoldExpired(e) => {
                    fold.end_hold(e.hold_id.0, "expired", e.expired_at);
                    fold.seats(show_id, &e.seats, "available", None, None);
                    fold.count(show_id, 1, -1, 0, e.seats.len());
                }
                ShowEvent::HoldConfirmed(e) => {
                    fold.end_hold(e.hold_id.0, "confirmed", e.confirmed_at);
                    fold.seats(show_id, &e.seats, "sold", None, Some(e.order_id.0));
                    fold.count(show_id, 0, -1, 1, e.seats.len());
                }
                ShowEvent::OrderRefunded(e) => {
                    followable = false;
                    fold.seats(show_id, &e.seats, "available", None, None);
                    fold.count(show_id, 1, 0, -1, e.seats.len());
                }
                ShowEvent::SeatsExchanged(e) => {
                    followable = false;
                    for seat_move in &e.moves {
                        let (from, to) = (&seat_move.from, &seat_move.to);
                        fold.seats(show_id, std::slice::from_ref(from), "available", None, None);
                        fold.seats(
                            show_id,
                            std::slice::from_ref(to),
                            "sold",
                            None,
                            Some(e.order_id.0),
                        );
                    }
                }
                ShowEvent::OrderTransferredOut(e) => {
                    followable = false;
                    fold.seats(show_id, &e.seats, "available", None, None);
                    fold.count(show_id, 1, 0, -1, e.seats.len());
                }
                ShowEvent::TransferReverted(e) => {
                    followable = false;
                    fold.seats(show_id, &e.seats, "sold", None, Some(e.order_id.0));
                    fold.count(show_id, -1, 0, 1, e.seats.len());
                }
                // Payments change no seat; the waiting list has its own read model (its
                // holds arrive as SeatsHeld).
                ShowEvent::PaymentRequested(_)
                | ShowEvent::PaymentRefused(_)
                | ShowEvent::OrderTransferredIn(_)
                | ShowEvent::WaitlistJoined(_)
                | ShowEvent::WaitlistOffered(_)
                | ShowEvent::WaitlistLeft(_)
                | ShowEvent::WaitlistClosed(_) => {}
                ShowEvent::TicketsCheckedIn(e) => {
                    followable = false;
                    for admitted in &e.tickets {
                        fold.checked_in.insert((show_id, admitted.seat_id.as_str()));
                    }
                }
                ShowEvent::ShowCancelled(_) => {
                    followable = false;
                    fold.shows.entry(show_id).or_default().cancelled = true
                }
                ShowEvent::AccessibleSeatsReleased(e) => {
                    followable = false;
                    fold.accessible_released
                        .push((show_id, e.reason.as_str(), e.released_at));
                }
                // The waiting room is the hold's business, not the seat map's.
                ShowEvent::OnSaleQueueSet(_) | ShowEvent::OnSaleQueueLifted(_) => {}
            }
            let change = fold.shows.entry(show_id).or_default();
            change.first_version.get_or_insert(version);
            change.version = version;
            change.followable &= followable;
        }
        (fold, scheduled)
    }

    fn seats(
        &mut self,
        show_id: Uuid,
        seats: &'a [SeatId],
        status: &'static str,
        hold_id: Option<Uuid>,
        order_id: Option<Uuid>,
    ) {
        for seat in seats {
            self.checked_in.remove(&(show_id, seat.as_str()));
            self.seats.insert(
                (show_id, seat.as_str()),
                SeatNow {
                    status,
                    hold_id,
                    order_id,
                },
            );
        }
    }

    /// Seats moved between statuses: each count changes by `sign` times the seats.
    fn count(&mut self, show_id: Uuid, available: i32, held: i32, sold: i32, seats: usize) {
        let seats = i32::try_from(seats).unwrap_or(i32::MAX);
        let change = self.shows.entry(show_id).or_default();
        change.available += available * seats;
        change.held += held * seats;
        change.sold += sold * seats;
    }

    fn end_hold(&mut self, hold_id: Uuid, status: &'static str, at: Timestamp) {
        self.ended_holds.insert(hold_id, HoldEnd { status, at });
    }

    /// Writes the batch; returns whether any category's availability band changed (see
    /// `availability_band` in the schema), or a show was cancelled.
    async fn write(self, tx: &Transaction<'_>) -> Result<bool, tokio_postgres::Error> {
        let mut moved = false;
        if !self.accessible_released.is_empty() {
            let shows: Vec<Uuid> = self.accessible_released.iter().map(|r| r.0).collect();
            let reasons: Vec<&str> = self.accessible_released.iter().map(|r| r.1).collect();
            let at: Vec<Timestamp> = self.accessible_released.iter().map(|r| r.2).collect();
            tx.execute(RELEASE_ACCESSIBLE_SQL, &[&shows, &reasons, &at])
                .await?;
        }
        if !self.new_holds.is_empty() {
            let holds = &self.new_holds;
            let ids: Vec<Uuid> = holds.iter().map(|h| h.hold_id.0).collect();
            let customers: Vec<&str> = holds.iter().map(|h| h.customer_id.0.as_str()).collect();
            let seats: Vec<serde_json::Value> = holds.iter().map(|h| seat_list(&h.seats)).collect();
            let totals: Vec<i64> = holds.iter().map(|h| h.total.amount_minor).collect();
            let currencies: Vec<&str> = holds.iter().map(|h| h.total.currency.as_str()).collect();
            let held_at: Vec<Timestamp> = holds.iter().map(|h| h.held_at).collect();
            let expires_at: Vec<Timestamp> = holds.iter().map(|h| h.expires_at).collect();
            tx.execute(
                INSERT_HOLDS_SQL,
                &[
                    &ids,
                    &self.new_hold_shows,
                    &customers,
                    &seats,
                    &totals,
                    &currencies,
                    &held_at,
                    &expires_at,
                ],
            )
            .await?;
        }
        if !self.ended_holds.is_empty() {
            let (mut ids, mut statuses, mut at) = (Vec::new(), Vec::new(), Vec::new());
            for (id, end) in &self.ended_holds {
                ids.push(*id);
                statuses.push(end.status);
                at.push(end.at);
            }
            tx.execute(END_HOLDS_SQL, &[&ids, &statuses, &at]).await?;
        }
        if !self.seats.is_empty() {
            let mut c = SeatColumns::default();
            for ((show, seat), now) in &self.seats {
                c.show_ids.push(*show);
                c.seat_ids.push(*seat);
                c.statuses.push(now.status);
                c.hold_ids.push(now.hold_id);
                c.order_ids.push(now.order_id);
            }
            let row = tx
                .query_one(
                    SET_SEATS_SQL,
                    &[
                        &c.show_ids,
                        &c.seat_ids,
                        &c.statuses,
                        &c.hold_ids,
                        &c.order_ids,
                    ],
                )
                .await?;
            moved |= row.get::<_, bool>("band_moved");
        }
        if !self.checked_in.is_empty() {
            let (shows, seats): (Vec<Uuid>, Vec<&str>) = self.checked_in.iter().copied().unzip();
            tx.execute(CHECK_IN_SEATS_SQL, &[&shows, &seats]).await?;
        }
        if !self.shows.is_empty() {
            let mut c = ShowColumns::default();
            for (show, change) in &self.shows {
                c.show_ids.push(*show);
                c.available.push(change.available);
                c.held.push(change.held);
                c.sold.push(change.sold);
                c.versions.push(change.version);
                c.cancelled.push(change.cancelled);
            }
            tx.execute(
                COUNT_SHOWS_SQL,
                &[
                    &c.show_ids,
                    &c.available,
                    &c.held,
                    &c.sold,
                    &c.versions,
                    &c.cancelled,
                ],
            )
            .await?;
            moved |= c.cancelled.contains(&true);
        }
        Ok(moved)
    }
}

/// The batch's new shows as the columns of `schedule_show.sql`, `schedule_seats.sql` and
/// `schedule_categories.sql`: one statement each however many shows the batch schedules (a
/// seed schedules thousands, each with hundreds of seats).
#[derive(Default)]
struct Scheduling<'a> {
    shows: ShowRows<'a>,
    seats: LayoutColumns<'a>,
    categories: CategoryColumns<'a>,
}

#[derive(Default)]
struct ShowRows<'a> {
    show_ids: Vec<Uuid>,
    movie_ids: Vec<Uuid>,
    titles: Vec<&'a str>,
    starts_at: Vec<Timestamp>,
    ends_at: Vec<Timestamp>,
    capacities: Vec<i32>,
    versions: Vec<i64>,
    grace_seconds: Vec<i32>,
    accessible_seating: Vec<Option<serde_json::Value>>,
    accessible_release_at: Vec<Option<Timestamp>>,
}

#[derive(Default)]
struct LayoutColumns<'a> {
    show_ids: Vec<Uuid>,
    seat_ids: Vec<&'a str>,
    ordinals: Vec<i32>,
    rows: Vec<&'a str>,
    numbers: Vec<i32>,
    categories: Vec<&'a str>,
    prices: Vec<i64>,
    currencies: Vec<&'a str>,
    grid_columns: Vec<Option<i32>>,
    kinds: Vec<Option<&'static str>>,
}

#[derive(Default)]
struct CategoryColumns<'a> {
    show_ids: Vec<Uuid>,
    categories: Vec<&'a str>,
    capacities: Vec<i32>,
    prices: Vec<i64>,
    currencies: Vec<&'a str>,
    ticket_prices: Vec<serde_json::Value>,
}

impl<'a> Scheduling<'a> {
    /// A new show: its row, one row per seat of its layout, and one per seat category.
    fn add(&mut self, show_id: Uuid, e: &'a ShowScheduled, version: i64) {
        let shows = &mut self.shows;
        shows.show_ids.push(show_id);
        shows.movie_ids.push(e.movie_id);
        shows.titles.push(&e.title);
        shows.starts_at.push(e.starts_at);
        shows.ends_at.push(e.ends_at);
        shows.capacities.push(e.seats.len() as i32);
        shows.versions.push(version);
        shows
            .grace_seconds
            .push(i32::try_from(e.expiry_grace_seconds).unwrap_or(i32::MAX));
        shows.accessible_seating.push(
            e.accessible_seating
                .map(|rule| serde_json::to_value(rule).unwrap_or_default()),
        );
        shows.accessible_release_at.push(
            e.accessible_seating
                .and_then(|rule| rule.release_at(e.starts_at)),
        );
        let seats = &mut self.seats;
        let mut by_category: std::collections::BTreeMap<&str, i32> = Default::default();
        for (ordinal, seat) in e.seats.iter().enumerate() {
            let price = e.prices.get(&seat.category);
            *by_category.entry(seat.category.as_str()).or_default() += 1;
            seats.show_ids.push(show_id);
            seats.seat_ids.push(seat.seat_id.as_str());
            seats.ordinals.push(ordinal as i32);
            seats.rows.push(seat.row.as_str());
            seats
                .numbers
                .push(i32::try_from(seat.number).unwrap_or(i32::MAX));
            seats.categories.push(seat.category.as_str());
            seats.prices.push(price.map_or(0, |p| p.amount_minor));
            seats
                .currencies
                .push(price.map_or("", |p| p.currency.as_str()));
            seats
                .grid_columns
                .push(seat.column.map(|c| i32::try_from(c).unwrap_or(i32::MAX)));
            seats.kinds.push(seat.kind.map(|k| k.as_str()));
        }
        let categories = &mut self.categories;
        for (category, capacity) in by_category {
            let price = e.prices.get(category);
            categories.show_ids.push(show_id);
            categories.categories.push(category);
            categories.capacities.push(capacity);
            categories.prices.push(price.map_or(0, |p| p.amount_minor));
            categories
                .currencies
                .push(price.map_or("", |p| p.currency.as_str()));
            categories.ticket_prices.push(serde_json::Value::Object(
                e.ticket_prices
                    .iter()
                    .filter_map(|(ticket_type, by_category)| {
                        let price = by_category.get(category)?;
                        Some((ticket_type.clone(), price.amount_minor.into()))
                    })
                    .collect(),
            ));
        }
    }

    async fn write(&self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if self.shows.show_ids.is_empty() {
            return Ok(());
        }
        let shows = &self.shows;
        tx.execute(
            SCHEDULE_SHOW_SQL,
            &[
                &shows.show_ids,
                &shows.movie_ids,
                &shows.titles,
                &shows.starts_at,
                &shows.ends_at,
                &shows.capacities,
                &shows.versions,
                &shows.grace_seconds,
                &shows.accessible_seating,
                &shows.accessible_release_at,
            ],
        )
        .await?;
        let seats = &self.seats;
        for from in (0..seats.show_ids.len()).step_by(SEAT_ROWS_PER_STATEMENT) {
            let rows = from..(from + SEAT_ROWS_PER_STATEMENT).min(seats.show_ids.len());
            tx.execute(
                SCHEDULE_SEATS_SQL,
                &[
                    &&seats.show_ids[rows.clone()],
                    &&seats.seat_ids[rows.clone()],
                    &&seats.ordinals[rows.clone()],
                    &&seats.rows[rows.clone()],
                    &&seats.numbers[rows.clone()],
                    &&seats.categories[rows.clone()],
                    &&seats.prices[rows.clone()],
                    &&seats.currencies[rows.clone()],
                    &&seats.grid_columns[rows.clone()],
                    &&seats.kinds[rows],
                ],
            )
            .await?;
        }
        let categories = &self.categories;
        tx.execute(
            SCHEDULE_CATEGORIES_SQL,
            &[
                &categories.show_ids,
                &categories.categories,
                &categories.capacities,
                &categories.prices,
                &categories.currencies,
                &categories.ticket_prices,
            ],
        )
        .await?;
        Ok(())
    }
}
