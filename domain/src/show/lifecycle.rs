//! A show's life: scheduled once, possibly cancelled, started at its time; and the checks
//! every command passes because of where the show is in that life.
//!
//! Scheduling fixes what the show will keep (its layout, prices and rules); cancelling ends
//! everything still open in one decision. Every other command first passes [`admit`]: a show
//! that does not exist decides nothing, and a cancelled one only settles what had already
//! begun. Most rules then refuse to act once the show has started
//! (`ShowInfo::before_start`).

use super::command::ShowCommand;
use super::event::*;
use super::holds::{promo_of, MAX_SEATS_PER_HOLD};
use super::{SeatSpec, Show, WaitlistStatus};
use crate::error::Problems;
use crate::{DomainError, Money, RefundId, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Upper bound on a hall, far above the largest auditorium we know of.
const MAX_SEATS_PER_SHOW: usize = 10_000;
const MAX_LABEL_CHARS: usize = 32;
const MAX_TITLE_CHARS: usize = 300;
const MAX_REASON_CHARS: usize = 200;

/// The checks every command passes before its own rules: nothing but scheduling happens to
/// a show that does not exist, and a cancelled show only settles what had already begun
/// (refunds, provider payments that arrive late, exchanges being undone). Scheduling and
/// cancelling check the show themselves.
pub(super) fn admit(show: &Show, command: &ShowCommand) -> Result<(), DomainError> {
    match command {
        ShowCommand::ScheduleShow { .. } | ShowCommand::CancelShow { .. } => return Ok(()),
        ShowCommand::RefundOrder { .. }
        | ShowCommand::SettlePayment { .. }
        | ShowCommand::RevertTransferOut { .. } => {}
        ShowCommand::HoldSeats { .. }
        | ShowCommand::HoldBestAvailable { .. }
        | ShowCommand::JoinWaitlist { .. }
        | ShowCommand::LeaveWaitlist { .. }
        | ShowCommand::ExpireWaitlistEntry { .. }
        | ShowCommand::ReleaseHold { .. }
        | ShowCommand::ExpireHold { .. }
        | ShowCommand::ConfirmPayment { .. }
        | ShowCommand::RequestPayment { .. }
        | ShowCommand::ExchangeSeats { .. }
        | ShowCommand::TransferOut { .. }
        | ShowCommand::TransferIn { .. }
        | ShowCommand::CheckIn { .. }
        | ShowCommand::ReleaseAccessibleSeats { .. }
        | ShowCommand::QueueOnSale { .. }
        | ShowCommand::LiftOnSaleQueue { .. } => {
            if show.is_cancelled() {
                return Err(DomainError::ShowCancelled);
            }
        }
    }
    if !show.is_scheduled() {
        return Err(DomainError::ShowNotFound);
    }
    Ok(())
}

/// Schedules the show as `requested`, once: the layout, prices and rules it keeps.
pub(super) fn schedule(
    show: &Show,
    requested: ShowScheduled,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    if show.is_scheduled() {
        return Err(DomainError::ShowAlreadyScheduled);
    }
    validate_schedule(
        &requested.title,
        requested.starts_at,
        requested.ends_at,
        &requested.seats,
        &requested.prices,
        requested.hold_ttl_seconds,
        now,
    )?;
    if !(60..=7 * 24 * 3600).contains(&requested.waitlist_max_wait_seconds) {
        return Err(DomainError::invalid(
            "waitlist_max_wait_seconds",
            "must be 60 seconds to 7 days",
        ));
    }
    validate_ticket_prices(&requested.prices, &requested.ticket_prices)?;
    if let Some(policy) = requested.refund_policy {
        policy.validate("refund_policy")?;
    }
    if let Some(rule) = requested.accessible_seating {
        rule.validate("accessible_seating")?;
    }
    if !(1..=MAX_SEATS_PER_HOLD as u32).contains(&requested.max_holds_per_customer) {
        return Err(DomainError::invalid(
            "max_holds_per_customer",
            format!("must be 1 to {MAX_SEATS_PER_HOLD}"),
        ));
    }
    let title = requested.title.trim().to_owned();
    // A hall without wheelchair spaces or companion seats has nothing to keep back, and a
    // show scheduled after its release time has nothing to keep them for.
    let accessible_seating = requested
        .accessible_seating
        .filter(|_| requested.seats.iter().any(super::accessible::is_accessible))
        .filter(|rule| {
            rule.release_at(requested.starts_at)
                .is_none_or(|release_at| now < release_at)
        });
    Ok(vec![ShowEvent::ShowScheduled(ShowScheduled {
        title,
        accessible_seating,
        ..requested
    })])
}

/// Ends every active hold and open waiting-list entry, refunds every order in full, then
/// records the cancellation. The waiting list's usual consequences (offering freed seats)
/// are not drawn: the show is off.
pub(super) fn cancel(
    show: &Show,
    reason: &str,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    if !show.is_scheduled() {
        return Err(DomainError::ShowNotFound);
    }
    if show.is_cancelled() {
        return Err(DomainError::ShowCancelled);
    }
    let reason_chars = reason.trim().chars().count();
    if !(1..=MAX_REASON_CHARS).contains(&reason_chars) || reason.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "reason",
            format!("must be 1 to {MAX_REASON_CHARS} characters, none of them control characters"),
        ));
    }
    let mut events = Vec::new();
    for entry in show.waitlist() {
        if entry.status != WaitlistStatus::Ended {
            events.push(ShowEvent::WaitlistClosed(WaitlistClosed {
                entry_id: entry.entry_id,
                reason: WaitlistCloseReason::CannotBeMet,
                closed_at: now,
            }));
        }
    }
    for (hold_id, hold) in show.active_holds() {
        events.push(ShowEvent::HoldReleased(HoldReleased {
            hold_id: *hold_id,
            seats: hold.seats.clone(),
            released_at: now,
            promo_code: promo_of(hold),
        }));
    }
    for (order_id, order) in show.orders() {
        if order.seats.is_empty() {
            continue;
        }
        let paid: i64 = order.seat_paid.values().sum();
        events.push(ShowEvent::OrderRefunded(OrderRefunded {
            order_id: *order_id,
            refund_id: RefundId(Uuid::new_v5(&order_id.0, b"show-cancelled")),
            customer_id: order.customer_id.clone(),
            seats: order.seats.iter().cloned().collect(),
            amount: Money::new(paid, order.total.currency.clone()),
            fully_refunded: true,
            refunded_at: now,
            fee: None,
            reason: RefundReason::ShowCancelled,
            payment_id: order.payment_id,
        }));
    }
    events.push(ShowEvent::ShowCancelled(ShowCancelled {
        show_id: show.info().map(|i| i.show_id).unwrap_or_default(),
        reason: reason.trim().to_owned(),
        cancelled_at: now,
    }));
    Ok(events)
}

fn validate_schedule(
    title: &str,
    starts_at: Timestamp,
    ends_at: Timestamp,
    seats: &[SeatSpec],
    prices: &BTreeMap<String, Money>,
    hold_ttl_seconds: u32,
    now: Timestamp,
) -> Result<(), DomainError> {
    let mut problems = Problems::default();
    let title_chars = title.trim().chars().count();
    problems.check(
        (1..=MAX_TITLE_CHARS).contains(&title_chars),
        "title",
        format!("must be 1 to {MAX_TITLE_CHARS} characters"),
    );
    problems.check(starts_at > now, "starts_at", "must be in the future");
    problems.check(ends_at > starts_at, "ends_at", "must be after starts_at");
    problems.check(
        (1..=MAX_SEATS_PER_SHOW).contains(&seats.len()),
        "seats",
        format!("a show has 1 to {MAX_SEATS_PER_SHOW} seats"),
    );
    problems.check(hold_ttl_seconds > 0, "hold_ttl_seconds", "must be positive");
    let mut seen = BTreeSet::new();
    let mut positions = BTreeSet::new();
    for (index, seat) in seats.iter().enumerate() {
        let field = format!("seats[{index}]");
        if !valid_label(seat.seat_id.as_str()) {
            problems.add(
                format!("{field}.seat_id"),
                format!("must be 1 to {MAX_LABEL_CHARS} characters without surrounding spaces"),
            );
        } else if !seen.insert(&seat.seat_id) {
            problems.add(
                format!("{field}.seat_id"),
                format!("seat {} is listed twice", seat.seat_id),
            );
        }
        if !valid_label(&seat.row) {
            problems.add(format!("{field}.row"), "must be a short label");
        }
        if seat.number == 0 {
            problems.add(format!("{field}.number"), "must be at least 1");
        } else if !positions.insert((&seat.row, seat.number)) {
            problems.add(
                format!("{field}.number"),
                format!("row {} already has a seat number {}", seat.row, seat.number),
            );
        }
        if !prices.contains_key(&seat.category) {
            problems.add(
                format!("{field}.category"),
                format!("category `{}` has no price", seat.category),
            );
        }
    }
    if prices.is_empty() {
        problems.add("prices", "at least one category needs a price");
    }
    let currencies: BTreeSet<_> = prices.values().map(|p| &p.currency).collect();
    problems.check(
        currencies.len() <= 1,
        "prices",
        "all prices of a show must be in one currency",
    );
    for (category, price) in prices {
        if !valid_label(category) {
            problems.add(
                format!("prices.{category}"),
                "category names are short labels",
            );
        }
        if price.amount_minor < 0 {
            problems.add(
                format!("prices.{category}.amount_minor"),
                "must not be negative",
            );
        }
    }
    problems.into_result()
}

/// Most ticket types a show sells besides `adult`.
const MAX_TICKET_TYPES: usize = 10;
const MAX_TICKET_TYPE_CHARS: usize = 32;

/// Ticket types other than `adult`: short lowercase names, each priced only for categories
/// the show has, in the show's currency.
fn validate_ticket_prices(
    prices: &BTreeMap<String, Money>,
    ticket_prices: &BTreeMap<String, BTreeMap<String, Money>>,
) -> Result<(), DomainError> {
    let mut problems = Problems::default();
    problems.check(
        ticket_prices.len() <= MAX_TICKET_TYPES,
        "ticket_prices",
        format!("at most {MAX_TICKET_TYPES} ticket types besides adult"),
    );
    let currency = prices.values().next().map(|p| &p.currency);
    for (ticket_type, by_category) in ticket_prices {
        let field = format!("ticket_prices.{ticket_type}");
        if !valid_ticket_type(ticket_type) || ticket_type == super::ADULT {
            problems.add(
                field.clone(),
                format!(
                    "a ticket type is 1 to {MAX_TICKET_TYPE_CHARS} lowercase letters, digits,                      `_` or `-`, other than `adult` (the show's prices)"
                ),
            );
        }
        problems.check(
            !by_category.is_empty(),
            field.clone(),
            "price at least one category",
        );
        for (category, price) in by_category {
            let field = format!("{field}.{category}");
            if !prices.contains_key(category) {
                problems.add(
                    field.clone(),
                    format!("the show has no category `{category}`"),
                );
            }
            if Some(&price.currency) != currency {
                problems.add(
                    field.clone(),
                    "must be in the currency of the show's prices",
                );
            }
            if price.amount_minor < 0 {
                problems.add(format!("{field}.amount_minor"), "must not be negative");
            }
        }
    }
    problems.into_result()
}

/// A ticket type's name: `child`, `student`, `senior_65`.
pub fn valid_ticket_type(name: &str) -> bool {
    (1..=MAX_TICKET_TYPE_CHARS).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn valid_label(label: &str) -> bool {
    let chars = label.chars().count();
    (1..=MAX_LABEL_CHARS).contains(&chars)
        && label.trim() == label
        && !label.chars().any(char::is_control)
}
