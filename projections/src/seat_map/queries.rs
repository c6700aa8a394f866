//! Reads of the seat map: what ticket clients see of a show's seats, and what the expiry
//! scheduler, the metrics and the exchange between shows need to know of holds and shows.
//! Other crates read the seat map's tables through these functions only, so the tables can
//! change with the projector that writes them.

use crate::MoneyView;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatCountsView {
    pub available: i32,
    pub held: i32,
    pub sold: i32,
    /// Sold seats whose tickets were let in at the door (attendance: `checked_in / sold`).
    pub checked_in: i32,
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
    /// A sold seat whose ticket was let in at the door.
    pub checked_in: bool,
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
    /// `wheelchair` while the show keeps this wheelchair space or companion seat for
    /// wheelchair users and their companions (hold it as `accessible`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^wheelchair$"))]
    pub reserved_for: Option<String>,
}

/// How a show keeps its wheelchair spaces and companion seats for those who need them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessibleSeatsView {
    /// Whether they are still kept (only holds marked `accessible` may take them).
    pub kept: bool,
    /// The rule, as the cinema set it when the show was scheduled.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub rule: serde_json::Value,
    /// When they are released by time, if the rule says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_at: Option<DateTime<Utc>>,
    /// Why they were released: `release_time`, `rest_sold` or `staff`; absent while kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(release_time|rest_sold|staff)$")
    )]
    pub released_because: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released_at: Option<DateTime<Utc>>,
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
    /// Absent when the show keeps no seats back for wheelchair users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessible_seats: Option<AccessibleSeatsView>,
    pub seats: Vec<SeatView>,
}

/// Every seat's status as one character, in layout order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatStatusesView {
    pub show_id: Uuid,
    pub version: i64,
    pub counts: SeatCountsView,
    /// `a` available, `h` held, `s` sold, one per seat by ordinal.
    pub statuses: String,
    /// Each seat's place in `statuses`, by seat id.
    pub(crate) ordinals: Arc<HashMap<String, usize>>,
}

/// A hold whose time (expiry plus its show's grace) is up: the scheduler expires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LapsedHold {
    pub show_id: Uuid,
    pub hold_id: Uuid,
}

/// Which movie a show is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShowMovie {
    pub show_id: Uuid,
    pub movie_id: Uuid,
}

const SEAT_MAP_VERSION_SQL: &str = include_str!("sql/seat_map_version.sql");
const SEAT_STATUSES_SQL: &str = include_str!("sql/seat_statuses.sql");
const SEAT_MAP_SQL: &str = include_str!("sql/seat_map.sql");
const LAPSED_HOLDS_SQL: &str = include_str!("sql/lapsed_holds.sql");
const ACTIVE_HOLDS_SQL: &str = include_str!("sql/active_holds.sql");
const MOVIES_OF_SHOWS_SQL: &str = include_str!("sql/movies_of_shows.sql");
const ACCESSIBLE_RELEASES_DUE_SQL: &str = include_str!("sql/accessible_releases_due.sql");

/// The version of the show's stream its seat map reflects; None for an unknown show.
pub async fn seat_map_version(
    client: &impl GenericClient,
    show_id: Uuid,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let row = client.query_opt(SEAT_MAP_VERSION_SQL, &[&show_id]).await?;
    Ok(row.map(|row| row.get("version")))
}

pub async fn seat_statuses(
    client: &impl GenericClient,
    show_id: Uuid,
) -> Result<Option<SeatStatusesView>, tokio_postgres::Error> {
    let row = client.query_opt(SEAT_STATUSES_SQL, &[&show_id]).await?;
    Ok(row.map(|row| SeatStatusesView {
        show_id,
        version: row.get("version"),
        counts: counts_of(&row, row.get("checked_in")),
        statuses: row.get("statuses"),
        ordinals: Arc::new(
            row.get::<_, Vec<String>>("seat_ids")
                .into_iter()
                .enumerate()
                .map(|(ordinal, seat)| (seat, ordinal))
                .collect(),
        ),
    }))
}

pub async fn seat_map(
    client: &impl GenericClient,
    show_id: Uuid,
) -> Result<Option<SeatMapView>, tokio_postgres::Error> {
    let rows = client.query(SEAT_MAP_SQL, &[&show_id]).await?;
    let Some(show) = rows.first() else {
        return Ok(None);
    };
    let accessible_seats = show
        .get::<_, Option<serde_json::Value>>("accessible_seating")
        .map(|rule| AccessibleSeatsView {
            kept: show.get("accessible_kept"),
            rule,
            release_at: show.get("accessible_release_at"),
            released_because: show.get("accessible_released_reason"),
            released_at: show.get("accessible_released_at"),
        });
    let kept = accessible_seats.as_ref().is_some_and(|a| a.kept);
    let seats = rows
        .iter()
        .filter(|row| row.get::<_, Option<String>>("seat_id").is_some())
        .map(|row| SeatView {
            seat_id: row.get("seat_id"),
            row: row.get("row_label"),
            number: row.get("number"),
            category: row.get("category"),
            status: row.get("status"),
            checked_in: row.get("checked_in"),
            price: MoneyView {
                amount_minor: row.get("price_minor"),
                currency: row.get("currency"),
            },
            column: row.get("grid_column"),
            reserved_for: row
                .get::<_, Option<String>>("kind")
                .filter(|_| kept)
                .map(|_| "wheelchair".to_owned()),
            kind: row.get("kind"),
        })
        .collect::<Vec<SeatView>>();
    let checked_in = seats.iter().filter(|seat| seat.checked_in).count();
    Ok(Some(SeatMapView {
        show_id,
        movie_id: show.get("movie_id"),
        title: show.get("title"),
        starts_at: show.get("starts_at"),
        ends_at: show.get("ends_at"),
        capacity: show.get("capacity"),
        counts: SeatCountsView {
            checked_in: i32::try_from(checked_in).unwrap_or(i32::MAX),
            ..counts_of(show, 0)
        },
        version: show.get("version"),
        cancelled: show.get("cancelled"),
        accessible_seats,
        seats,
    }))
}

fn counts_of(row: &tokio_postgres::Row, checked_in: i32) -> SeatCountsView {
    SeatCountsView {
        available: row.get("available"),
        held: row.get("held"),
        sold: row.get("sold"),
        checked_in,
    }
}

/// Up to `limit` holds whose expiry plus their show's grace is at or before `now`, the
/// longest expired first: the expiry scheduler's timetable.
pub async fn lapsed_holds(
    client: &impl GenericClient,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<LapsedHold>, tokio_postgres::Error> {
    let rows = client.query(LAPSED_HOLDS_SQL, &[&now, &limit]).await?;
    Ok(rows
        .iter()
        .map(|row| LapsedHold {
            show_id: row.get("show_id"),
            hold_id: row.get("hold_id"),
        })
        .collect())
}

/// Up to `limit` shows still keeping accessible seats back whose release time is at or
/// before `now`, the earliest first: the scheduler releases them.
pub async fn accessible_releases_due(
    client: &impl GenericClient,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, tokio_postgres::Error> {
    let rows = client
        .query(ACCESSIBLE_RELEASES_DUE_SQL, &[&now, &limit])
        .await?;
    Ok(rows.iter().map(|row| row.get("show_id")).collect())
}

/// How many holds are active, in every show.
pub async fn active_holds(client: &impl GenericClient) -> Result<i64, tokio_postgres::Error> {
    let row = client.query_one(ACTIVE_HOLDS_SQL, &[]).await?;
    Ok(row.get("active"))
}

/// The movie of each of `show_ids` the seat map knows (unknown shows are left out).
pub async fn movies_of_shows(
    client: &impl GenericClient,
    show_ids: &[Uuid],
) -> Result<Vec<ShowMovie>, tokio_postgres::Error> {
    let rows = client.query(MOVIES_OF_SHOWS_SQL, &[&show_ids]).await?;
    Ok(rows
        .iter()
        .map(|row| ShowMovie {
            show_id: row.get("show_id"),
            movie_id: row.get("movie_id"),
        })
        .collect())
}
