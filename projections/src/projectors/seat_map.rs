//! The seat map of each show: every seat with its status, plus counts and the holds (the
//! expiry scheduler reads active holds from here).

use super::{seat_labels, Projector};
use async_trait::async_trait;
use boxoffice_domain::ShowEvent;
use boxoffice_eventstore::RecordedEvent;
use tokio_postgres::Transaction;
use uuid::Uuid;

pub struct SeatMap;

#[async_trait]
impl Projector for SeatMap {
    fn name(&self) -> &'static str {
        "seat_map"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["seat_map_shows", "seat_map_seats", "seat_map_holds"]
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        show_id: Uuid,
        event: &ShowEvent,
        recorded: &RecordedEvent,
    ) -> Result<(), tokio_postgres::Error> {
        let version = recorded.version as i64;
        match event {
            ShowEvent::ShowScheduled(e) => {
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
                for (ordinal, seat) in e.seats.iter().enumerate() {
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
                        category, price_minor, currency, status)
                     SELECT $1, s.*, 'available'
                     FROM unnest($2::text[], $3::int[], $4::text[], $5::int[], $6::text[],
                        $7::bigint[], $8::text[]) AS s",
                    &[
                        &show_id,
                        &ids,
                        &ordinals,
                        &rows,
                        &numbers,
                        &categories,
                        &prices,
                        &currencies,
                    ],
                )
                .await?;
            }
            ShowEvent::SeatsHeld(e) => {
                tx.execute(
                    "INSERT INTO seat_map_holds (hold_id, show_id, customer_id, seats, total_minor,
                        currency, status, held_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)",
                    &[
                        &e.hold_id.0,
                        &show_id,
                        &e.customer_id.0,
                        &seat_labels(&e.seats),
                        &e.total.amount_minor,
                        &e.total.currency.as_str(),
                        &e.held_at,
                        &e.expires_at,
                    ],
                )
                .await?;
                set_seats(
                    tx,
                    show_id,
                    &seat_labels(&e.seats),
                    "held",
                    Some(e.hold_id.0),
                    None,
                    version,
                )
                .await?;
            }
            ShowEvent::HoldReleased(e) => {
                end_hold(tx, e.hold_id.0, "released", e.released_at).await?;
                set_seats(
                    tx,
                    show_id,
                    &seat_labels(&e.seats),
                    "available",
                    None,
                    None,
                    version,
                )
                .await?;
            }
            ShowEvent::HoldExpired(e) => {
                end_hold(tx, e.hold_id.0, "expired", e.expired_at).await?;
                set_seats(
                    tx,
                    show_id,
                    &seat_labels(&e.seats),
                    "available",
                    None,
                    None,
                    version,
                )
                .await?;
            }
            ShowEvent::HoldConfirmed(e) => {
                end_hold(tx, e.hold_id.0, "confirmed", e.confirmed_at).await?;
                set_seats(
                    tx,
                    show_id,
                    &seat_labels(&e.seats),
                    "sold",
                    None,
                    Some(e.order_id.0),
                    version,
                )
                .await?;
            }
            ShowEvent::OrderRefunded(e) => {
                set_seats(
                    tx,
                    show_id,
                    &seat_labels(&e.seats),
                    "available",
                    None,
                    None,
                    version,
                )
                .await?;
            }
            // The waiting list has its own read model; its holds arrive as SeatsHeld.
            ShowEvent::WaitlistJoined(_)
            | ShowEvent::WaitlistOffered(_)
            | ShowEvent::WaitlistLeft(_)
            | ShowEvent::WaitlistClosed(_) => {}
        }
        Ok(())
    }
}

async fn end_hold(
    tx: &Transaction<'_>,
    hold_id: Uuid,
    status: &str,
    at: boxoffice_domain::Timestamp,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "UPDATE seat_map_holds SET status = $2, ended_at = $3 WHERE hold_id = $1",
        &[&hold_id, &status, &at],
    )
    .await?;
    Ok(())
}

/// Moves seats to a status and adjusts the show's counts by exactly the seats that moved
/// from each status, in one statement.
async fn set_seats(
    tx: &Transaction<'_>,
    show_id: Uuid,
    seats: &[&str],
    status: &str,
    hold_id: Option<Uuid>,
    order_id: Option<Uuid>,
    version: i64,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        include_str!("../sql/set_seats.sql"),
        &[&show_id, &seats, &status, &hold_id, &order_id, &version],
    )
    .await?;
    Ok(())
}
