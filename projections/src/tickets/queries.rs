//! Reads of the tickets: an order's tickets as its customer is shown them, and a show's
//! attendance as its door manager sees it. Other crates read the tickets' tables through
//! these functions only.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

/// An order's tickets, before they are signed and drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTickets {
    pub show_id: Uuid,
    pub customer_id: String,
    pub pickup_code: Option<String>,
    /// The valid tickets, by seat (none once every seat left the order).
    pub tickets: Vec<TicketRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRow {
    pub seat_id: String,
    pub ticket_id: Uuid,
    pub version: u32,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub door: Option<String>,
    /// `adult`, `child`, ...
    pub ticket_type: String,
}

const ORDER_TICKETS_SQL: &str = include_str!("sql/order_tickets.sql");
const SHOW_TICKETS_SQL: &str = include_str!("sql/show_tickets.sql");
const ORDERS_WITH_CODE_SQL: &str = include_str!("sql/orders_with_code.sql");

/// The orders a pickup code was given to.
pub async fn orders_with_code(
    client: &impl GenericClient,
    pickup_code: &str,
) -> Result<Vec<Uuid>, tokio_postgres::Error> {
    let rows = client.query(ORDERS_WITH_CODE_SQL, &[&pickup_code]).await?;
    Ok(rows.iter().map(|row| row.get("order_id")).collect())
}

/// An order's tickets; None for an order the read model does not know (yet).
pub async fn tickets_of(
    client: &impl GenericClient,
    order_id: Uuid,
) -> Result<Option<OrderTickets>, tokio_postgres::Error> {
    let rows = client.query(ORDER_TICKETS_SQL, &[&order_id]).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut order = OrderTickets {
        show_id: first.get("show_id"),
        customer_id: first.get("customer_id"),
        pickup_code: first.get("pickup_code"),
        tickets: Vec::new(),
    };
    for row in &rows {
        let (Some(seat_id), Some(ticket_id)) = (
            row.get::<_, Option<String>>("seat_id"),
            row.get::<_, Option<Uuid>>("ticket_id"),
        ) else {
            continue;
        };
        order.tickets.push(TicketRow {
            seat_id,
            ticket_id,
            version: u32::try_from(row.get::<_, i32>("issued")).unwrap_or(0),
            checked_in_at: row.get("checked_in_at"),
            door: row.get("door"),
            ticket_type: row
                .get::<_, Option<String>>("ticket_type")
                .unwrap_or_else(|| boxoffice_domain::show::ADULT.to_owned()),
        });
    }
    Ok(Some(order))
}

/// Who is in and who is still expected at a show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attendance {
    /// Valid tickets (seats sold and not refunded).
    pub sold: i64,
    /// Of those, let in.
    pub checked_in: i64,
    /// Sold and not let in: after the show, its no-shows.
    pub not_checked_in: i64,
    /// The tickets not let in yet, by seat.
    pub expected: Vec<ExpectedTicket>,
    /// The tickets let in, by seat.
    pub admitted: Vec<AdmittedView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpectedTicket {
    pub seat_id: String,
    pub order_id: Uuid,
    pub pickup_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdmittedView {
    pub seat_id: String,
    pub order_id: Uuid,
    pub checked_in_at: DateTime<Utc>,
    pub door: String,
}

pub async fn attendance(
    client: &impl GenericClient,
    show_id: Uuid,
) -> Result<Attendance, tokio_postgres::Error> {
    let rows = client.query(SHOW_TICKETS_SQL, &[&show_id]).await?;
    let mut attendance = Attendance {
        sold: 0,
        checked_in: 0,
        not_checked_in: 0,
        expected: Vec::new(),
        admitted: Vec::new(),
    };
    for row in rows {
        attendance.sold += 1;
        let seat_id: String = row.get("seat_id");
        let order_id: Uuid = row.get("order_id");
        match row.get::<_, Option<DateTime<Utc>>>("checked_in_at") {
            Some(at) => attendance.admitted.push(AdmittedView {
                seat_id,
                order_id,
                checked_in_at: at,
                door: row.get::<_, Option<String>>("door").unwrap_or_default(),
            }),
            None => attendance.expected.push(ExpectedTicket {
                seat_id,
                order_id,
                pickup_code: row.get("pickup_code"),
            }),
        }
    }
    attendance.checked_in = i64::try_from(attendance.admitted.len()).unwrap_or(i64::MAX);
    attendance.not_checked_in = attendance.sold - attendance.checked_in;
    Ok(attendance)
}
