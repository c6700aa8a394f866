//! Tickets at the door: every sold seat carries a ticket, and a ticket admits once.
//!
//! A ticket is not a thing of its own in the log: it is a seat of an order. When a seat is
//! sold (an order paid, a seat exchanged into, a transfer undone) it gets the next version of
//! its ticket; when it leaves the order (refunded, exchanged away, transferred) its ticket is
//! void. So a QR code naming seat, ticket id and version is valid exactly while that version
//! is the seat's current one, and the log alone says which tickets were valid when.
//!
//! Checking in is decided here, against the show's one stream: two doors scanning the same
//! ticket at the same instant are two commands in one writer's queue, and the second sees
//! the first one's fact. A pickup code names a whole order and admits what of it is not in
//! yet.
//!
//! Pickup codes are ten digits: the show's number among its cinema's shows of the day (three
//! digits, from the cinema's booking), the order's number in the show (four digits), and
//! three digits drawn from the order id, which only its customer (and staff) know, so that a
//! neighbour's code cannot be guessed from one's own. The first seven make the code unique
//! per cinema and day (for up to 9,999 orders a show: numbers wrap after that).

use super::event::{AdmittedTicket, CheckInMethod, ShowEvent, TicketsCheckedIn};
use super::Show;
use crate::{DomainError, OrderId, SeatId, Timestamp};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The ticket of a sold seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub ticket_id: Uuid,
    pub order_id: OrderId,
    /// How many tickets the seat has had on this show, this one included.
    pub version: u32,
    pub checked_in: Option<CheckedIn>,
}

/// When and where a ticket was let in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedIn {
    pub at: Timestamp,
    pub door: String,
}

/// A seat's ticket history: the version last issued, and the ticket while it is sold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct SeatTickets {
    pub issued: u32,
    pub current: Option<Ticket>,
}

/// The id of the ticket for `seat` in `order_id` (the same again if the seat comes back to
/// the order: its version tells the tickets apart).
pub fn ticket_id(order_id: &OrderId, seat: &SeatId) -> Uuid {
    Uuid::new_v5(&order_id.0, format!("ticket:{seat}").as_bytes())
}

/// The pickup code of the `number`th order (1-based) of a show that is its cinema's
/// `day_number`th of the day; see the module documentation.
pub fn pickup_code(day_number: u32, number: usize, order_id: &OrderId) -> String {
    let drawn = order_id.0.as_u128() % 1000;
    format!("{:03}{:04}{drawn:03}", day_number % 1000, number % 10_000)
}

/// What a door scanner presents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presented {
    /// A QR code whose signature the caller checked, naming this show.
    Ticket {
        seat_id: SeatId,
        ticket_id: Uuid,
        version: u32,
    },
    PickupCode(String),
}

/// When doors open for a show, and the door scanning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Door {
    pub name: String,
    /// How long before the start tickets are let in.
    pub opens_minutes_before: u32,
}

/// Lets in the ticket, or the tickets of the order, presented at `door`.
pub(super) fn check_in(
    show: &Show,
    presented: &Presented,
    door: &Door,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    if door.name.trim().is_empty() || door.name.chars().count() > 100 {
        return Err(DomainError::invalid("door", "must be 1 to 100 characters"));
    }
    let (order_id, tickets, method) = match presented {
        Presented::Ticket {
            seat_id,
            ticket_id,
            version,
        } => {
            let ticket = show
                .ticket(seat_id)
                .filter(|t| t.ticket_id == *ticket_id && t.version == *version)
                .ok_or(DomainError::TicketVoid)?;
            (ticket.order_id, vec![(seat_id, ticket)], CheckInMethod::Qr)
        }
        Presented::PickupCode(code) => {
            let (order_id, _) = show
                .orders()
                .find(|(_, order)| order.pickup_code.as_deref() == Some(code.as_str()))
                .ok_or(DomainError::TicketNotFound)?;
            let tickets: Vec<_> = show.tickets_of(order_id).collect();
            if tickets.is_empty() {
                return Err(DomainError::TicketVoid);
            }
            (*order_id, tickets, CheckInMethod::PickupCode)
        }
    };
    let opens_at = info.starts_at - Duration::minutes(i64::from(door.opens_minutes_before));
    if now < opens_at {
        return Err(DomainError::CheckInNotOpen { opens_at });
    }
    if now >= info.ends_at {
        return Err(DomainError::ShowEnded);
    }
    let waiting: Vec<AdmittedTicket> = tickets
        .iter()
        .filter(|(_, ticket)| ticket.checked_in.is_none())
        .map(|(seat, ticket)| AdmittedTicket {
            ticket_id: ticket.ticket_id,
            seat_id: (*seat).clone(),
            version: ticket.version,
        })
        .collect();
    if waiting.is_empty() {
        let last = tickets
            .iter()
            .filter_map(|(_, t)| t.checked_in.clone())
            .max_by_key(|c| c.at)
            .ok_or(DomainError::TicketVoid)?;
        return Err(DomainError::AlreadyCheckedIn {
            at: last.at,
            door: last.door,
        });
    }
    Ok(vec![ShowEvent::TicketsCheckedIn(TicketsCheckedIn {
        order_id,
        tickets: waiting,
        door: door.name.trim().to_owned(),
        method,
        checked_in_at: now,
    })])
}

/// Refuses to take seats already let in out of an order (a refund or exchange by the
/// customer after entering).
pub(super) fn not_checked_in(show: &Show, seats: &[SeatId]) -> Result<(), DomainError> {
    let inside: Vec<SeatId> = seats
        .iter()
        .filter(|s| show.ticket(s).is_some_and(|t| t.checked_in.is_some()))
        .cloned()
        .collect();
    if inside.is_empty() {
        Ok(())
    } else {
        Err(DomainError::SeatsCheckedIn(inside))
    }
}
