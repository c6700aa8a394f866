//! Reads of the seat map.

use crate::MoneyView;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatCountsView {
    pub available: i32,
    pub held: i32,
    pub sold: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatView {
    pub seat_id: String,
    pub row: String,
    pub number: i32,
    pub category: String,
    #[cfg_attr(feature = "openapi", schema(pattern = "^(available|held|sold)$"))]
    pub status: String,
    pub price: MoneyView,
    /// Where to draw the seat in its row (1-based, gaps and aisles counted); absent when
    /// the show's layout was given seat by seat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<i32>,
    /// `wheelchair` (a wheelchair space) or `companion` (the seat beside one); absent for
    /// ordinary seats.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^(wheelchair|companion)$"))]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatMapView {
    pub show_id: Uuid,
    pub movie_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i32,
    pub counts: SeatCountsView,
    /// The version of the show's stream this map reflects.
    pub version: i64,
    /// Staff cancelled the show: nothing can be held or paid.
    pub cancelled: bool,
    pub seats: Vec<SeatView>,
}

/// The version of the show's stream its seat map reflects; None for an unknown show.
pub async fn seat_map_version(
    client: &impl GenericClient,
    show_id: Uuid,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT version FROM seat_map_shows WHERE show_id = $1",
            &[&show_id],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}

/// Every seat's status as one character, in layout order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatStatusesView {
    pub show_id: Uuid,
    pub version: i64,
    pub counts: SeatCountsView,
    /// `a` available, `h` held, `s` sold, one per seat by ordinal.
    pub statuses: String,
}

pub async fn seat_statuses(
    client: &impl GenericClient,
    show_id: Uuid,
) -> Result<Option<SeatStatusesView>, tokio_postgres::Error> {
    // One statement: one row, the statuses folded into a string by the database.
    let row = client
        .query_opt(
            "SELECT s.version, s.available, s.held, s.sold,
                (SELECT coalesce(string_agg(CASE seat.status WHEN 'held' THEN 'h'
                        WHEN 'sold' THEN 's' ELSE 'a' END, '' ORDER BY seat.ordinal), '')
                 FROM seat_map_seats seat WHERE seat.show_id = s.show_id)
             FROM seat_map_shows s
             WHERE s.show_id = $1",
            &[&show_id],
        )
        .await?;
    Ok(row.map(|row| SeatStatusesView {
        show_id,
        version: row.get(0),
        counts: SeatCountsView {
            available: row.get(1),
            held: row.get(2),
            sold: row.get(3),
        },
        statuses: row.get(4),
    }))
}

pub async fn seat_map(
    client: &impl GenericClient,
    show_id: Uuid,
) -> Result<Option<SeatMapView>, tokio_postgres::Error> {
    // One statement, so the counts, the seats and the version are of one moment.
    let rows = client
        .query(
            "SELECT s.movie_id, s.title, s.starts_at, s.ends_at, s.capacity, s.available,
                s.held, s.sold, s.version,
                seat.seat_id, seat.row_label, seat.number, seat.category, seat.status,
                seat.price_minor, seat.currency, seat.grid_column, seat.kind, s.cancelled
             FROM seat_map_shows s
             LEFT JOIN seat_map_seats seat ON seat.show_id = s.show_id
             WHERE s.show_id = $1
             ORDER BY seat.ordinal",
            &[&show_id],
        )
        .await?;
    let Some(show) = rows.first() else {
        return Ok(None);
    };
    let seats = rows
        .iter()
        .filter(|row| row.get::<_, Option<String>>(9).is_some())
        .map(|row| SeatView {
            seat_id: row.get(9),
            row: row.get(10),
            number: row.get(11),
            category: row.get(12),
            status: row.get(13),
            price: MoneyView {
                amount_minor: row.get(14),
                currency: row.get(15),
            },
            column: row.get(16),
            kind: row.get(17),
        })
        .collect();
    Ok(Some(SeatMapView {
        show_id,
        movie_id: show.get(0),
        title: show.get(1),
        starts_at: show.get(2),
        ends_at: show.get(3),
        capacity: show.get(4),
        counts: SeatCountsView {
            available: show.get(5),
            held: show.get(6),
            sold: show.get(7),
        },
        version: show.get(8),
        cancelled: show.get(18),
        seats,
    }))
}
