//! The seat map of each show: every seat with its status, plus counts and the holds (the
//! expiry scheduler reads active holds from here).

use crate::projector::{etag_moved, seat_list};
use crate::{Applying, Event, Projector};
use async_trait::async_trait;
use boxoffice_domain::show::{SeatsHeld, ShowScheduled};
use boxoffice_domain::{SeatId, ShowEvent, Timestamp};
use std::collections::HashMap;
use tokio_postgres::Transaction;
use uuid::Uuid;

pub struct SeatMap;

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
        let mut fold = Fold::default();
        let mut scheduled = false;
        for applying in events {
            let Event::Show(event) = &applying.event else {
                continue;
            };
            let show_id = applying.stream_id;
            let version = applying.recorded.version as i64;
            match event {
                ShowEvent::ShowScheduled(e) => {
                    schedule(tx, show_id, e, version).await?;
                    scheduled = true;
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
                    fold.seats(show_id, &e.seats, "available", None, None);
                    fold.count(show_id, 1, 0, -1, e.seats.len());
                }
                ShowEvent::SeatsExchanged(e) => {
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
                    fold.seats(show_id, &e.seats, "available", None, None);
                    fold.count(show_id, 1, 0, -1, e.seats.len());
                }
                ShowEvent::TransferReverted(e) => {
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
                ShowEvent::ShowCancelled(_) => {
                    fold.shows.entry(show_id).or_default().cancelled = true
                }
            }
            fold.shows.entry(show_id).or_default().version = version;
        }
        let availability_moved = fold.write(tx).await?;
        if scheduled || availability_moved {
            if let Some(last) = events.last() {
                etag_moved(tx, self.name(), last.recorded.position).await?;
            }
        }
        Ok(())
    }
}

/// A batch's effect, folded in memory: the last word on each seat and hold, and each show's
/// count changes and last version.
#[derive(Default)]
struct Fold<'a> {
    new_holds: Vec<&'a SeatsHeld>,
    new_hold_shows: Vec<Uuid>,
    ended_holds: HashMap<Uuid, (&'static str, Timestamp)>,
    seats: HashMap<(Uuid, &'a str), SeatNow>,
    shows: HashMap<Uuid, ShowChange>,
}

/// A seat's last status in the batch, with its hold or order.
type SeatNow = (&'static str, Option<Uuid>, Option<Uuid>);

#[derive(Default)]
struct ShowChange {
    available: i32,
    held: i32,
    sold: i32,
    version: i64,
    cancelled: bool,
}

impl<'a> Fold<'a> {
    fn seats(
        &mut self,
        show_id: Uuid,
        seats: &'a [SeatId],
        status: &'static str,
        hold_id: Option<Uuid>,
        order_id: Option<Uuid>,
    ) {
        for seat in seats {
            self.seats
                .insert((show_id, seat.as_str()), (status, hold_id, order_id));
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
        self.ended_holds.insert(hold_id, (status, at));
    }

    /// Writes the batch; returns whether any category's availability band changed (see
    /// `queries::availability_band`), or a show was cancelled.
    async fn write(self, tx: &Transaction<'_>) -> Result<bool, tokio_postgres::Error> {
        let mut moved = false;
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
                "INSERT INTO seat_map_holds (hold_id, show_id, customer_id, seats, total_minor,
                    currency, status, held_at, expires_at)
                 SELECT h.hold_id, h.show_id, h.customer_id,
                    ARRAY(SELECT jsonb_array_elements_text(h.seats)), h.total_minor, h.currency,
                    'active', h.held_at, h.expires_at
                 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::bigint[],
                    $6::text[], $7::timestamptz[], $8::timestamptz[])
                    AS h(hold_id, show_id, customer_id, seats, total_minor, currency, held_at,
                        expires_at)",
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
            for (id, (status, when)) in &self.ended_holds {
                ids.push(*id);
                statuses.push(*status);
                at.push(*when);
            }
            tx.execute(
                "UPDATE seat_map_holds h SET status = d.status, ended_at = d.ended_at
                 FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])
                    AS d(hold_id, status, ended_at)
                 WHERE h.hold_id = d.hold_id",
                &[&ids, &statuses, &at],
            )
            .await?;
        }
        if !self.seats.is_empty() {
            let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for ((show, seat), (status, hold, order)) in &self.seats {
                columns.0.push(*show);
                columns.1.push(*seat);
                columns.2.push(*status);
                columns.3.push(*hold);
                columns.4.push(*order);
            }
            // The seats, and each category's count of available seats by the difference
            // between the seats' statuses before (read in the same snapshot) and after.
            let row = tx
                .query_one(
                    "WITH d AS (
                        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[],
                            $5::uuid[]) AS d(show_id, seat_id, status, hold_id, order_id)
                     ), before AS (
                        SELECT s.show_id, s.seat_id, s.category, s.status
                        FROM seat_map_seats s JOIN d USING (show_id, seat_id)
                     ), changed AS (
                        UPDATE seat_map_seats s SET status = d.status, hold_id = d.hold_id,
                            order_id = d.order_id
                        FROM d WHERE s.show_id = d.show_id AND s.seat_id = d.seat_id
                        RETURNING s.show_id, s.seat_id, s.status
                     ), delta AS (
                        SELECT b.show_id, b.category,
                            sum((c.status = 'available')::int - (b.status = 'available')::int)
                                AS available
                        FROM before b JOIN changed c USING (show_id, seat_id)
                        GROUP BY b.show_id, b.category
                     ), counted AS (
                        UPDATE seat_map_categories k SET available = k.available + delta.available
                        FROM delta
                        WHERE k.show_id = delta.show_id AND k.category = delta.category
                            AND delta.available <> 0
                        RETURNING availability_band((k.available - delta.available)::int, k.capacity)
                            <> availability_band(k.available, k.capacity) AS band_moved
                     )
                     SELECT coalesce(bool_or(band_moved), false) FROM counted",
                    &[&columns.0, &columns.1, &columns.2, &columns.3, &columns.4],
                )
                .await?;
            moved |= row.get::<_, bool>(0);
        }
        if !self.shows.is_empty() {
            let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut cancelled = Vec::new();
            for (show, change) in &self.shows {
                columns.0.push(*show);
                columns.1.push(change.available);
                columns.2.push(change.held);
                columns.3.push(change.sold);
                columns.4.push(change.version);
                cancelled.push(change.cancelled);
            }
            tx.execute(
                "UPDATE seat_map_shows s SET available = s.available + d.available,
                    held = s.held + d.held, sold = s.sold + d.sold,
                    version = GREATEST(s.version, d.version),
                    cancelled = s.cancelled OR d.cancelled
                 FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::bigint[],
                    $6::bool[]) AS d(show_id, available, held, sold, version, cancelled)
                 WHERE s.show_id = d.show_id",
                &[
                    &columns.0, &columns.1, &columns.2, &columns.3, &columns.4, &cancelled,
                ],
            )
            .await?;
            moved |= cancelled.contains(&true);
        }
        Ok(moved)
    }
}

/// A new show: its row, and one row per seat of its layout.
async fn schedule(
    tx: &Transaction<'_>,
    show_id: Uuid,
    e: &ShowScheduled,
    version: i64,
) -> Result<(), tokio_postgres::Error> {
    let capacity = e.seats.len() as i32;
    tx.execute(
        "INSERT INTO seat_map_shows (show_id, movie_id, title, starts_at, ends_at,
            capacity, available, held, sold, version, expiry_grace_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $6, 0, 0, $7, $8)",
        &[
            &show_id,
            &e.movie_id,
            &e.title,
            &e.starts_at,
            &e.ends_at,
            &capacity,
            &version,
            &i32::try_from(e.expiry_grace_seconds).unwrap_or(i32::MAX),
        ],
    )
    .await?;
    let mut ids = Vec::with_capacity(e.seats.len());
    let mut ordinals = Vec::with_capacity(e.seats.len());
    let mut rows = Vec::with_capacity(e.seats.len());
    let mut numbers = Vec::with_capacity(e.seats.len());
    let mut categories = Vec::with_capacity(e.seats.len());
    let mut prices = Vec::with_capacity(e.seats.len());
    let mut currencies = Vec::with_capacity(e.seats.len());
    let mut grid_columns = Vec::with_capacity(e.seats.len());
    let mut kinds = Vec::with_capacity(e.seats.len());
    let mut by_category: std::collections::BTreeMap<&str, i32> = Default::default();
    for (ordinal, seat) in e.seats.iter().enumerate() {
        grid_columns.push(seat.column.map(|c| i32::try_from(c).unwrap_or(i32::MAX)));
        kinds.push(seat.kind.map(|k| k.as_str()));
        *by_category.entry(seat.category.as_str()).or_default() += 1;
        let price = e.prices.get(&seat.category);
        ids.push(seat.seat_id.as_str());
        ordinals.push(ordinal as i32);
        rows.push(seat.row.as_str());
        numbers.push(i32::try_from(seat.number).unwrap_or(i32::MAX));
        categories.push(seat.category.as_str());
        prices.push(price.map_or(0, |p| p.amount_minor));
        currencies.push(price.map_or("", |p| p.currency.as_str()));
    }
    tx.execute(
        "INSERT INTO seat_map_seats (show_id, seat_id, ordinal, row_label, number,
            category, price_minor, currency, grid_column, kind, status)
         SELECT $1, s.*, 'available'
         FROM unnest($2::text[], $3::int[], $4::text[], $5::int[], $6::text[],
            $7::bigint[], $8::text[], $9::int[], $10::text[]) AS s",
        &[
            &show_id,
            &ids,
            &ordinals,
            &rows,
            &numbers,
            &categories,
            &prices,
            &currencies,
            &grid_columns,
            &kinds,
        ],
    )
    .await?;
    let (mut categories, mut capacities, mut amounts, mut units) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (category, seats) in by_category {
        let price = e.prices.get(category);
        categories.push(category);
        capacities.push(seats);
        amounts.push(price.map_or(0, |p| p.amount_minor));
        units.push(price.map_or("", |p| p.currency.as_str()));
    }
    tx.execute(
        "INSERT INTO seat_map_categories (show_id, category, capacity, available, price_minor,
            currency)
         SELECT $1, c.category, c.capacity, c.capacity, c.price_minor, c.currency
         FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[])
            AS c(category, capacity, price_minor, currency)",
        &[&show_id, &categories, &capacities, &amounts, &units],
    )
    .await?;
    Ok(())
}
