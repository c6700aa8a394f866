//! Why an aggregate (a show, the catalogue, a payment, a promo code) refused a command, in
//! one error type for the whole model, so every layer above maps refusals the same way.
//! Each variant has a stable `code` that the HTTP layer exposes to clients unchanged.

use crate::{HoldId, Money, OrderId, SeatId, Timestamp, WaitlistEntryId};
use serde::Serialize;

/// One invalid field of a command, named the way the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Which of the three cases a refusal of seats is, so that a client knows what to offer
/// next: pick other seats, join the waiting list, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Unavailability {
    /// No seat is free or held: sold out.
    ShowFull,
    /// Other seats are free: pick again.
    SeatsTaken,
    /// No seat is free, but some are held and may come back: the waiting list.
    HeldByOthers,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the show does not exist")]
    ShowNotFound,
    #[error("the show is already scheduled")]
    ShowAlreadyScheduled,
    #[error("the command is invalid: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    #[error("some seats are not available: {}", join(seats))]
    SeatsUnavailable {
        /// The seats asked for that are taken (none when best available found no block).
        seats: Vec<SeatId>,
        reason: Unavailability,
    },
    #[error("the show has started")]
    ShowStarted,
    #[error("the show was cancelled")]
    ShowCancelled,
    #[error("the hold does not exist")]
    HoldNotFound,
    #[error("the hold expired at {expires_at}")]
    HoldExpired { expires_at: Timestamp },
    #[error("the hold was released")]
    HoldReleased,
    #[error("the hold was already paid for by order {order_id}")]
    HoldAlreadyConfirmed { order_id: OrderId },
    #[error("the hold may be expired only after {expirable_at}")]
    HoldNotExpirable { expirable_at: Timestamp },
    #[error("the payment of {paid} does not match the hold's total of {expected}")]
    AmountMismatch { expected: Money, paid: Money },
    #[error("an identifier is already in use: {0}")]
    DuplicateId(String),
    #[error("the order does not exist")]
    OrderNotFound,
    #[error("these seats do not belong to the order (or were refunded): {}", join(.0))]
    SeatsNotInOrder(Vec<SeatId>),
    #[error("the order has been refunded in full")]
    OrderFullyRefunded,
    #[error("the customer already holds seats on this show (hold {hold_id}); pay for or release it first")]
    HoldExists { hold_id: HoldId },
    #[error("the customer is already on this show's waiting list (entry {entry_id})")]
    WaitlistEntryExists { entry_id: WaitlistEntryId },
    #[error("the waiting-list entry does not exist")]
    WaitlistEntryNotFound,
    #[error("the waiting-list entry has ended")]
    WaitlistEntryEnded,
    #[error("the show has fewer unsold seats than requested: waiting cannot help")]
    WaitlistCannotBeMet,
    #[error("the waiting-list entry may be ended only after {expirable_at}")]
    WaitlistEntryNotExpirable { expirable_at: Timestamp },
    #[error("the city does not exist")]
    CityNotFound,
    #[error("the cinema does not exist")]
    CinemaNotFound,
    #[error("the hall does not exist")]
    HallNotFound,
    #[error("the movie does not exist")]
    MovieNotFound,
    #[error("the {0} is retired")]
    Retired(&'static str),
    #[error(
        "the hall is busy from {starts_at} until {free_at} (show {show_id}, cleaning included)"
    )]
    ShowOverlaps {
        show_id: uuid::Uuid,
        starts_at: Timestamp,
        free_at: Timestamp,
    },
    #[error("no such promo code")]
    PromoNotFound,
    #[error("the promo code cannot be used here: {0}")]
    PromoNotApplicable(String),
    #[error("the promo code has been used as often as it may be")]
    PromoUsedUp,
    #[error("the customer has used this promo code as often as one customer may ({limit})")]
    PromoCustomerLimit { limit: u32 },
    #[error("no such payment")]
    PaymentNotFound,
    #[error("no ticket has this pickup code on this show")]
    TicketNotFound,
    #[error("the ticket is void (refunded, exchanged or replaced)")]
    TicketVoid,
    #[error("the ticket was already checked in at {at} at door {door}")]
    AlreadyCheckedIn { at: Timestamp, door: String },
    #[error("the doors open at {opens_at}")]
    CheckInNotOpen { opens_at: Timestamp },
    #[error("the show has ended")]
    ShowEnded,
    #[error("these seats were already let in at the door: {}", join(.0))]
    SeatsCheckedIn(Vec<SeatId>),
    #[error("these seats are kept for wheelchair users and their companions until they are released: {}; hold them as `accessible` if you need them", join(.0))]
    SeatsReserved(Vec<SeatId>),
    #[error("the accessible seats are not due for release yet{}", .release_at.map(|at| format!(" (due at {at})")).unwrap_or_default())]
    NotReleasedYet { release_at: Option<Timestamp> },
    #[error("{reason}")]
    QueueRequired {
        onsale_id: uuid::Uuid,
        opens_at: Timestamp,
        reason: &'static str,
    },
    #[error("the show is already under on-sale {onsale_id}'s waiting room")]
    OnSaleConflict { onsale_id: uuid::Uuid },
}

fn join(seats: &[SeatId]) -> String {
    seats
        .iter()
        .map(SeatId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl DomainError {
    /// The stable, machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ShowNotFound => "show_not_found",
            Self::ShowAlreadyScheduled => "show_already_scheduled",
            Self::Validation(_) => "validation_failed",
            Self::SeatsUnavailable { .. } => "seats_unavailable",
            Self::ShowStarted => "show_started",
            Self::ShowCancelled => "show_cancelled",
            Self::HoldNotFound => "hold_not_found",
            Self::HoldExpired { .. } => "hold_expired",
            Self::HoldReleased => "hold_released",
            Self::HoldAlreadyConfirmed { .. } => "hold_already_confirmed",
            Self::HoldNotExpirable { .. } => "hold_not_expirable",
            Self::AmountMismatch { .. } => "amount_mismatch",
            Self::DuplicateId(_) => "duplicate_id",
            Self::OrderNotFound => "order_not_found",
            Self::SeatsNotInOrder(_) => "seats_not_in_order",
            Self::OrderFullyRefunded => "order_fully_refunded",
            Self::HoldExists { .. } => "hold_exists",
            Self::WaitlistEntryExists { .. } => "waitlist_entry_exists",
            Self::WaitlistEntryNotFound => "waitlist_entry_not_found",
            Self::WaitlistEntryEnded => "waitlist_entry_ended",
            Self::WaitlistCannotBeMet => "waitlist_cannot_be_met",
            Self::WaitlistEntryNotExpirable { .. } => "waitlist_entry_not_expirable",
            Self::CityNotFound => "city_not_found",
            Self::CinemaNotFound => "cinema_not_found",
            Self::HallNotFound => "hall_not_found",
            Self::MovieNotFound => "movie_not_found",
            Self::Retired(_) => "retired",
            Self::ShowOverlaps { .. } => "show_overlaps",
            Self::PromoNotFound => "promo_not_found",
            Self::PromoNotApplicable(_) => "promo_not_applicable",
            Self::PromoUsedUp => "promo_used_up",
            Self::PromoCustomerLimit { .. } => "promo_customer_limit",
            Self::PaymentNotFound => "payment_not_found",
            Self::SeatsReserved(_) => "seats_reserved",
            Self::NotReleasedYet { .. } => "not_released_yet",
            Self::QueueRequired { .. } => "queue_required",
            Self::OnSaleConflict { .. } => "onsale_conflict",
            Self::TicketNotFound => "ticket_not_found",
            Self::TicketVoid => "ticket_void",
            Self::AlreadyCheckedIn { .. } => "already_checked_in",
            Self::CheckInNotOpen { .. } => "check_in_not_open",
            Self::ShowEnded => "show_ended",
            Self::SeatsCheckedIn(_) => "seats_checked_in",
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

/// Collects field errors so a client learns about every bad field at once.
#[derive(Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn check(&mut self, ok: bool, field: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }

    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.0))
        }
    }
}
