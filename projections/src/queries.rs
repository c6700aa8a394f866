//! Reads of the read models, shaped the way the API returns them.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyView {
    pub amount_minor: i64,
    pub currency: String,
}

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

/// One purchase of a customer: a hold, and the order it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    pub hold_id: Uuid,
    /// Set once paid.
    pub order_id: Option<Uuid>,
    pub show_id: Uuid,
    pub show_title: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    /// The seats it holds or owns now.
    pub seats: Vec<String>,
    pub refunded_seats: Vec<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(held|released|expired|paid|partially_refunded|refunded|exchanged)$")
    )]
    pub status: String,
    /// What it costs: list prices less the discount, plus what exchanges charged.
    pub total: MoneyView,
    pub discount: MoneyView,
    pub promo_code: Option<String>,
    /// Paid back so far (after fees).
    pub refunded: MoneyView,
    /// Kept as refund fees.
    pub fees: MoneyView,
    pub payment_reference: Option<String>,
    pub payment_id: Option<Uuid>,
    /// The last provider payment's status: `pending`, `succeeded` or `failed`.
    pub payment_status: Option<String>,
    /// Until when the hold may be paid.
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What happened, newest first.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `held`, `payment_started`, `payment_succeeded`, `payment_failed`, `paid`,
    /// `paid_after_expiry`, `payment_refused`, `released`, `expired`, `refunded`,
    /// `refund_paid_out`, `exchanged`, `charge_collected`, `payment_notification_ignored`.
    pub kind: String,
    /// The facts of the step (amounts in minor units of the order's currency).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

/// Where the next page of a customer's orders starts: after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: DateTime<Utc>,
    pub hold_id: Uuid,
}

impl OrderCursor {
    pub fn encode(&self) -> String {
        format!(
            "{}_{}",
            self.created_at.timestamp_micros(),
            self.hold_id.simple()
        )
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('_')?;
        Some(Self {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            hold_id: Uuid::try_parse(id).ok()?,
        })
    }
}

/// A customer's orders, newest first, each with its timeline; `limit` per page.
pub async fn orders_of(
    client: &impl GenericClient,
    customer_id: &str,
    after: Option<OrderCursor>,
    limit: i64,
) -> Result<(Vec<OrderView>, Option<OrderCursor>), tokio_postgres::Error> {
    let (created_at, hold_id) =
        after.map_or((None, None), |c| (Some(c.created_at), Some(c.hold_id)));
    let rows = client
        .query(
            "SELECT o.hold_id, o.order_id, o.show_id, s.title, s.starts_at, o.seats,
                o.refunded_seats, o.status, o.total_minor, o.discount_minor, o.promo_code,
                o.refunded_minor, o.fees_minor, o.currency, o.payment_reference, o.payment_id,
                o.payment_status, o.expires_at, o.created_at, o.updated_at,
                (SELECT jsonb_agg(jsonb_build_object('at', t.at, 'kind', t.kind,
                        'detail', t.detail) ORDER BY t.c DESC, t.p DESC)
                    FROM (
                        SELECT at, kind, detail, commit_position AS c, prepare_position AS p
                        FROM order_history_timeline WHERE hold_id = o.hold_id
                        UNION ALL
                        SELECT o.created_at, 'held', o.held_detail, o.held_commit,
                            o.held_prepare
                        UNION ALL
                        SELECT o.paid_at,
                            CASE WHEN o.paid_after_expiry THEN 'paid_after_expiry'
                                ELSE 'paid' END,
                            jsonb_build_object('order_id', o.order_id,
                                'total_minor', o.paid_total_minor),
                            o.paid_commit, o.paid_prepare
                        WHERE o.paid_at IS NOT NULL
                        UNION ALL
                        SELECT o.ended_at, o.ended_as, '{}'::jsonb, o.ended_commit,
                            o.ended_prepare
                        WHERE o.ended_at IS NOT NULL) t)
             FROM order_history o
             LEFT JOIN order_history_shows s ON s.show_id = o.show_id
             WHERE o.customer_id = $1
                AND ($2::timestamptz IS NULL OR (o.created_at, o.hold_id) < ($2, $3::uuid))
             ORDER BY o.created_at DESC, o.hold_id DESC
             LIMIT $4",
            &[&customer_id, &created_at, &hold_id, &(limit + 1)],
        )
        .await?;
    let mut orders: Vec<OrderView> = rows
        .iter()
        .map(|row| {
            let currency: String = row.get(13);
            let money = |minor: i64| MoneyView {
                amount_minor: minor,
                currency: currency.clone(),
            };
            let timeline: serde_json::Value = row.get(20);
            OrderView {
                hold_id: row.get(0),
                order_id: row.get(1),
                show_id: row.get(2),
                show_title: row.get(3),
                starts_at: row.get(4),
                seats: row.get(5),
                refunded_seats: row.get(6),
                status: row.get(7),
                total: money(row.get(8)),
                discount: money(row.get(9)),
                promo_code: row.get(10),
                refunded: money(row.get(11)),
                fees: money(row.get(12)),
                payment_reference: row.get(14),
                payment_id: row.get(15),
                payment_status: row.get(16),
                expires_at: row.get(17),
                created_at: row.get(18),
                updated_at: row.get(19),
                timeline: timeline_of(timeline),
            }
        })
        .collect();
    let next = if orders.len() as i64 > limit {
        orders.truncate(limit.max(0) as usize);
        orders.last().map(|o| OrderCursor {
            created_at: o.created_at,
            hold_id: o.hold_id,
        })
    } else {
        None
    };
    Ok((orders, next))
}

fn timeline_of(value: serde_json::Value) -> Vec<TimelineEntry> {
    let serde_json::Value::Array(entries) = value else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|mut entry| {
            let at = entry.get("at")?.as_str()?.parse().ok()?;
            let kind = entry.get("kind")?.as_str()?.to_owned();
            Some(TimelineEntry {
                at,
                kind,
                detail: entry.get_mut("detail").map(serde_json::Value::take)?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesRow {
    pub show_id: Uuid,
    pub movie_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub orders: i32,
    pub tickets_sold: i32,
    pub tickets_refunded: i32,
    pub gross: MoneyView,
    pub refunds: MoneyView,
    pub net: MoneyView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesTotal {
    pub currency: String,
    pub shows: i64,
    pub orders: i64,
    pub tickets_sold: i64,
    pub tickets_refunded: i64,
    pub gross_minor: i64,
    pub refunds_minor: i64,
    pub net_minor: i64,
}

#[derive(Debug, Clone, Default)]
pub struct SalesFilter {
    pub show_id: Option<Uuid>,
    pub movie_id: Option<Uuid>,
    pub starts_from: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
}

/// Sales per show (by start time) and totals per currency.
pub async fn sales(
    client: &impl GenericClient,
    filter: &SalesFilter,
) -> Result<(Vec<SalesRow>, Vec<SalesTotal>), tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT show_id, movie_id, title, starts_at, currency, orders, tickets_sold,
                tickets_refunded, gross_minor, refunds_minor
             FROM sales_by_show
             WHERE ($1::uuid IS NULL OR show_id = $1)
                AND ($2::uuid IS NULL OR movie_id = $2)
                AND ($3::timestamptz IS NULL OR starts_at >= $3)
                AND ($4::timestamptz IS NULL OR starts_at < $4)
             ORDER BY starts_at, show_id
             LIMIT 10000",
            &[
                &filter.show_id,
                &filter.movie_id,
                &filter.starts_from,
                &filter.starts_before,
            ],
        )
        .await?;
    let mut shows = Vec::with_capacity(rows.len());
    let mut totals: Vec<SalesTotal> = Vec::new();
    for row in rows {
        let currency: String = row.get(4);
        let gross: i64 = row.get(8);
        let refunds: i64 = row.get(9);
        let money = |amount_minor| MoneyView {
            amount_minor,
            currency: currency.clone(),
        };
        let show = SalesRow {
            show_id: row.get(0),
            movie_id: row.get(1),
            title: row.get(2),
            starts_at: row.get(3),
            orders: row.get(5),
            tickets_sold: row.get(6),
            tickets_refunded: row.get(7),
            gross: money(gross),
            refunds: money(refunds),
            net: money(gross - refunds),
        };
        let index = match totals.iter().position(|t| t.currency == currency) {
            Some(index) => index,
            None => {
                totals.push(SalesTotal {
                    currency: currency.clone(),
                    shows: 0,
                    orders: 0,
                    tickets_sold: 0,
                    tickets_refunded: 0,
                    gross_minor: 0,
                    refunds_minor: 0,
                    net_minor: 0,
                });
                totals.len() - 1
            }
        };
        let total = &mut totals[index];
        total.shows += 1;
        total.orders += i64::from(show.orders);
        total.tickets_sold += i64::from(show.tickets_sold);
        total.tickets_refunded += i64::from(show.tickets_refunded);
        total.gross_minor += gross;
        total.refunds_minor += refunds;
        total.net_minor += gross - refunds;
        shows.push(show);
    }
    Ok((shows, totals))
}

/// A waiting-list entry as its customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistEntryView {
    pub entry_id: Uuid,
    pub show_id: Uuid,
    pub customer_id: String,
    pub count: i32,
    pub category: Option<String>,
    /// `waiting` or `offered` while open; else why it ended: `left`, `fulfilled`,
    /// `offer_expired`, `offer_declined`, `timed_out`, `cannot_be_met`.
    pub status: String,
    /// While waiting: 1 for the next in line.
    pub place: Option<i64>,
    pub joined_at: DateTime<Utc>,
    /// When it is closed if no offer has come.
    pub waits_until: DateTime<Utc>,
    /// The hold offered: pay for it before `expires_at`.
    pub offer: Option<WaitlistOfferView>,
    /// Bumped on every change; pass it back as `version` to long-poll for the next one.
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistOfferView {
    pub hold_id: Uuid,
    pub seats: Vec<String>,
    pub total: MoneyView,
    pub expires_at: DateTime<Utc>,
}

pub async fn waitlist_entry(
    client: &impl GenericClient,
    show_id: Uuid,
    entry_id: Uuid,
) -> Result<Option<WaitlistEntryView>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT e.entry_id, e.show_id, e.customer_id, e.count, e.category, e.status,
                CASE WHEN e.status = 'waiting' THEN 1 + (
                    SELECT count(*) FROM waitlist_entries w
                    WHERE w.show_id = e.show_id AND w.status = 'waiting'
                      AND w.joined_version < e.joined_version) END,
                e.joined_at, e.waits_until, e.hold_id, e.seats, e.total_minor, e.currency,
                e.offer_expires_at, e.version
             FROM waitlist_entries e WHERE e.entry_id = $1 AND e.show_id = $2",
            &[&entry_id, &show_id],
        )
        .await?;
    Ok(row.map(|row| {
        let hold_id: Option<Uuid> = row.get(9);
        let offer = hold_id.map(|hold_id| WaitlistOfferView {
            hold_id,
            seats: row.get::<_, Option<Vec<String>>>(10).unwrap_or_default(),
            total: MoneyView {
                amount_minor: row.get::<_, Option<i64>>(11).unwrap_or_default(),
                currency: row.get::<_, Option<String>>(12).unwrap_or_default(),
            },
            expires_at: row.get::<_, Option<DateTime<Utc>>>(13).unwrap_or_default(),
        });
        WaitlistEntryView {
            entry_id: row.get(0),
            show_id: row.get(1),
            customer_id: row.get(2),
            count: row.get(3),
            category: row.get(4),
            status: row.get(5),
            place: row.get(6),
            joined_at: row.get(7),
            waits_until: row.get(8),
            offer,
            version: row.get(14),
        }
    }))
}
