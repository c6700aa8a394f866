//! Holding seats, and how holds end unpaid.
//!
//! A hold takes chosen seats, or the best available block, all or nothing, for the show's
//! hold time; it ends released by its customer (or staff), expired by the server after its
//! expiry plus the grace, or paid (see [`payments`](super::payments)). A seat still held by
//! a lapsed hold counts as free: the decision that takes it expires that hold first, so a
//! late expiry run never keeps seats from anyone. The checks on holds and seat lists that
//! payments and orders share live here too.

use super::accessible;
use super::best::best_available;
use super::command::Requester;
use super::event::*;
use super::onsale::{self, Admission};
use super::{Hold, HoldStatus, SeatStatus, Show, ShowInfo, ADULT};
use crate::promo::{PromoCode, PromoOffer};
use crate::{CustomerId, DomainError, HoldId, Money, SeatId, Timestamp, Unavailability};
use chrono::Duration;
use std::collections::{BTreeMap, BTreeSet};

/// A hold takes at most this many seats (seed 003: "at most ten seats per booking").
pub const MAX_SEATS_PER_HOLD: usize = 10;

/// What a hold asks for: the seats the customer chose (with the ticket type of those not
/// `adult`), or the best block of `count` adjacent seats (of `category`, if given; see
/// [`best`](super::best)) with how many of each ticket type other than `adult`.
pub(super) enum Wanted<'a> {
    Seats {
        seats: &'a [SeatId],
        ticket_types: &'a BTreeMap<SeatId, String>,
        /// For a wheelchair user (see [`accessible`](super::accessible)).
        accessible: bool,
    },
    Best {
        count: u32,
        category: Option<&'a str>,
        ticket_types: &'a BTreeMap<String, u32>,
    },
}

/// Holds every wanted seat or none, less a promo code's discount.
pub(super) fn hold(
    show: &Show,
    hold_id: HoldId,
    customer_id: &CustomerId,
    wanted: Wanted<'_>,
    (promo, admission): (Option<&PromoOffer>, Option<&Admission>),
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    info.before_start(now)?;
    onsale::check(show, admission, now)?;
    if show.hold(&hold_id).is_some() {
        return Err(DomainError::DuplicateId(format!("hold {hold_id}")));
    }
    // A bad request is refused before the customer's hold limit is looked at...
    match wanted {
        Wanted::Seats {
            seats,
            ticket_types,
            accessible,
        } => {
            validate_seat_selection(show, "seats", seats)?;
            accessible::check_hold(show, seats, accessible, &[])?;
            for (seat, ticket_type) in ticket_types {
                let field = format!("ticket_types.{seat}");
                if !seats.contains(seat) {
                    return Err(DomainError::invalid(
                        field,
                        "is not one of the seats to hold",
                    ));
                }
                priced(show, seat, ticket_type, field)?;
            }
        }
        Wanted::Best {
            count,
            category,
            ticket_types,
        } => {
            check_request(info, count, category)?;
            check_type_counts(info, count, ticket_types)?;
        }
    }
    within_hold_limit(show, customer_id, now)?;
    // ... and the best block is looked for only once the customer may hold.
    let best;
    let (seats, ticket_types) = match wanted {
        Wanted::Seats {
            seats,
            ticket_types,
            ..
        } => (seats, standard_left_out(ticket_types)),
        Wanted::Best {
            count,
            category,
            ticket_types,
        } => {
            best = best_available(show, count as usize, category, now)
                .ok_or_else(|| unavailable(show, Vec::new(), now))?;
            let typed = types_in_order(&best, ticket_types);
            for (seat, ticket_type) in &typed {
                priced(
                    show,
                    seat,
                    ticket_type,
                    format!("ticket_types.{ticket_type}"),
                )?;
            }
            (&best[..], typed)
        }
    };
    let lapsed =
        lapsed_holds_on(show, seats, None, now).map_err(|taken| unavailable(show, taken, now))?;
    let currency = &info
        .prices
        .values()
        .next()
        .ok_or(DomainError::ShowNotFound)?
        .currency;
    let gross = total_price(show, seats, &ticket_types, currency)?;
    let discount = match promo {
        None => None,
        Some(offer) => Some(discount_for(show, offer, &gross)?),
    };
    let total = Money::new(
        gross.amount_minor - discount.as_ref().map_or(0, |d| d.amount.amount_minor),
        gross.currency.clone(),
    );
    let ttl = Duration::seconds(i64::from(info.hold_ttl_seconds));
    let mut events = expire_lapsed(show, &lapsed, now);
    events.push(ShowEvent::SeatsHeld(SeatsHeld {
        hold_id,
        customer_id: customer_id.clone(),
        seats: seats.to_vec(),
        total,
        held_at: now,
        expires_at: now + ttl,
        discount,
        ticket_types,
        admission: show.queued.and(admission.copied()),
    }));
    Ok(events)
}

/// Refuses a ticket type the show does not sell on `seat`.
fn priced(show: &Show, seat: &SeatId, ticket_type: &str, field: String) -> Result<(), DomainError> {
    match show.price_of(seat, ticket_type) {
        Some(_) => Ok(()),
        None => Err(DomainError::invalid(
            field,
            format!("this show sells no `{ticket_type}` ticket on seat {seat}"),
        )),
    }
}

/// Ticket type counts for a best-available hold: types the show sells, no more seats than
/// `count` in all.
fn check_type_counts(
    info: &ShowInfo,
    count: u32,
    ticket_types: &BTreeMap<String, u32>,
) -> Result<(), DomainError> {
    let mut typed: u32 = 0;
    for (ticket_type, n) in ticket_types {
        if ticket_type != ADULT && !info.ticket_prices.contains_key(ticket_type) {
            return Err(DomainError::invalid(
                format!("ticket_types.{ticket_type}"),
                format!("this show sells no `{ticket_type}` tickets"),
            ));
        }
        typed = typed.saturating_add(*n);
    }
    if typed > count {
        return Err(DomainError::invalid(
            "ticket_types",
            format!("names {typed} seats, more than count ({count})"),
        ));
    }
    Ok(())
}

/// Seats' ticket types as events keep them: `adult` is left out.
fn standard_left_out(ticket_types: &BTreeMap<SeatId, String>) -> BTreeMap<SeatId, String> {
    ticket_types
        .iter()
        .filter(|(_, t)| *t != ADULT)
        .map(|(seat, t)| (seat.clone(), t.clone()))
        .collect()
}

/// Gives the block's first seats the counted ticket types, in the types' order.
fn types_in_order(seats: &[SeatId], counts: &BTreeMap<String, u32>) -> BTreeMap<SeatId, String> {
    let mut seats = seats.iter();
    let mut typed = BTreeMap::new();
    for (ticket_type, n) in counts {
        for seat in seats.by_ref().take(*n as usize) {
            if ticket_type != ADULT {
                typed.insert(seat.clone(), ticket_type.clone());
            }
        }
    }
    typed
}

/// The customer (or staff) gives a hold's seats back.
pub(super) fn release(
    show: &Show,
    hold_id: &HoldId,
    requester: &Requester,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let hold = active_hold(show, hold_id, requester, None)?;
    Ok(vec![ShowEvent::HoldReleased(HoldReleased {
        hold_id: *hold_id,
        seats: hold.seats.clone(),
        released_at: now,
        promo_code: promo_of(hold),
    })])
}

/// The server ends an unpaid hold, but only after its expiry plus the grace.
pub(super) fn expire(
    show: &Show,
    hold_id: &HoldId,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let hold = active_hold(show, hold_id, &Requester::Staff, None)?;
    let expirable_at = hold.expires_at + show.grace();
    if now < expirable_at {
        return Err(DomainError::HoldNotExpirable { expirable_at });
    }
    Ok(vec![ShowEvent::HoldExpired(HoldExpired {
        hold_id: *hold_id,
        seats: hold.seats.clone(),
        expired_at: now,
        promo_code: promo_of(hold),
    })])
}

/// A request for `count` seats (of `category`, if given) that one hold of this show could
/// meet: for the best available now, or from the waiting list later.
pub(super) fn check_request(
    info: &ShowInfo,
    count: u32,
    category: Option<&str>,
) -> Result<(), DomainError> {
    if !(1..=MAX_SEATS_PER_HOLD as u32).contains(&count) {
        return Err(DomainError::invalid(
            "count",
            format!("must be 1 to {MAX_SEATS_PER_HOLD}"),
        ));
    }
    if let Some(category) = category {
        if !info.prices.contains_key(category) {
            return Err(DomainError::invalid(
                "category",
                format!("this show has no seats of category `{category}`"),
            ));
        }
    }
    Ok(())
}

/// The promo code a hold took a use of.
pub(super) fn promo_of(hold: &Hold) -> Option<PromoCode> {
    hold.discount.as_ref().map(|d| d.code.clone())
}

/// A customer may have only so many active holds on a show at once.
fn within_hold_limit(
    show: &Show,
    customer: &CustomerId,
    now: Timestamp,
) -> Result<(), DomainError> {
    let limit = show.info().map_or(1, |i| i.max_holds_per_customer) as usize;
    let mut active = show.active_holds_of(customer, now);
    match active.nth(limit.saturating_sub(1)) {
        Some((hold_id, _)) => Err(DomainError::HoldExists { hold_id: *hold_id }),
        None => Ok(()),
    }
}

/// Finds a hold the requester may act on and that is still active. With `payable_at`, the
/// hold must also still be payable then: until its expiry plus the grace, so a payment the
/// client made before the expiry it was shown is never refused for network delay.
pub(super) fn active_hold<'a>(
    show: &'a Show,
    hold_id: &HoldId,
    requester: &Requester,
    payable_at: Option<Timestamp>,
) -> Result<&'a Hold, DomainError> {
    let hold = show
        .hold(hold_id)
        .filter(|hold| requester.may_act_for(&hold.customer_id))
        .ok_or(DomainError::HoldNotFound)?;
    match hold.status {
        HoldStatus::Active => {}
        HoldStatus::Released => return Err(DomainError::HoldReleased),
        HoldStatus::Expired => {
            return Err(DomainError::HoldExpired {
                expires_at: hold.expires_at,
            })
        }
        HoldStatus::Confirmed(order_id) => {
            return Err(DomainError::HoldAlreadyConfirmed { order_id })
        }
    }
    if let Some(now) = payable_at {
        if now >= hold.expires_at + show.grace() {
            return Err(DomainError::HoldExpired {
                expires_at: hold.expires_at,
            });
        }
    }
    Ok(hold)
}

/// The holds to expire first so `seats` can be taken now, or the seats that cannot be: a
/// seat still held by a hold past its expiry plus grace counts as free (that hold is
/// expired in the same decision), so a late expiry run never keeps seats from anyone.
/// The refusal of `seats` (taken), saying whether any other seat is free now (a hold past
/// its expiry and grace counts as free), and if not whether some are held and may come back.
/// Refusals are common on a hot show: this stops at the first free seat, and otherwise looks
/// only at the active holds.
pub(super) fn unavailable(show: &Show, seats: Vec<SeatId>, now: Timestamp) -> DomainError {
    let grace = show.grace();
    let reason = if show.any_seat_available() {
        Unavailability::SeatsTaken
    } else {
        let (mut lapsed, mut active) = (false, false);
        for (_, hold) in show.active_holds() {
            if now >= hold.expires_at + grace {
                lapsed = true;
            } else {
                active = true;
            }
        }
        match (lapsed, active) {
            (true, _) => Unavailability::SeatsTaken,
            (false, true) => Unavailability::HeldByOthers,
            (false, false) => Unavailability::ShowFull,
        }
    };
    DomainError::SeatsUnavailable { seats, reason }
}

pub(super) fn lapsed_holds_on(
    show: &Show,
    seats: &[SeatId],
    own: Option<HoldId>,
    now: Timestamp,
) -> Result<BTreeSet<HoldId>, Vec<SeatId>> {
    let grace = show.grace();
    let mut lapsed: BTreeSet<HoldId> = BTreeSet::new();
    let mut unavailable = Vec::new();
    for seat in seats {
        match show.seat_status(seat) {
            Some(SeatStatus::Available) => {}
            Some(SeatStatus::Held(other)) if Some(other) == own => {}
            Some(SeatStatus::Held(other)) => {
                let expirable = show
                    .hold(&other)
                    .is_some_and(|hold| now >= hold.expires_at + grace);
                if expirable {
                    lapsed.insert(other);
                } else {
                    unavailable.push(seat.clone());
                }
            }
            Some(SeatStatus::Sold(_)) | None => unavailable.push(seat.clone()),
        }
    }
    if unavailable.is_empty() {
        Ok(lapsed)
    } else {
        Err(unavailable)
    }
}

pub(super) fn expire_lapsed(
    show: &Show,
    lapsed: &BTreeSet<HoldId>,
    now: Timestamp,
) -> Vec<ShowEvent> {
    lapsed
        .iter()
        .filter_map(|id| show.hold(id).map(|hold| (id, hold)))
        .map(|(id, hold)| {
            ShowEvent::HoldExpired(HoldExpired {
                hold_id: *id,
                seats: hold.seats.clone(),
                expired_at: now,
                promo_code: promo_of(hold),
            })
        })
        .collect()
}

/// A promo code's discount on `gross`, if the code may be used on this show.
fn discount_for(
    show: &Show,
    offer: &PromoOffer,
    gross: &Money,
) -> Result<AppliedDiscount, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let scope = &offer.scope;
    let venue = show.venue();
    let not_here = |what: &str| {
        DomainError::PromoNotApplicable(format!("the code is not valid for this {what}"))
    };
    if scope.show_id.is_some_and(|s| s.0 != info.show_id) {
        return Err(not_here("show"));
    }
    if scope.movie_id.is_some_and(|m| m.0 != info.movie_id) {
        return Err(not_here("movie"));
    }
    if let Some(cinema) = scope.cinema_id {
        if venue.map(|v| v.cinema_id) != Some(cinema) {
            return Err(not_here("cinema"));
        }
    }
    let amount = offer.discount.on(gross).ok_or_else(|| {
        DomainError::PromoNotApplicable("the code's amount is in another currency".into())
    })?;
    Ok(AppliedDiscount {
        code: offer.code.clone(),
        amount,
    })
}

fn total_price(
    show: &Show,
    seats: &[SeatId],
    ticket_types: &BTreeMap<SeatId, String>,
    currency: &crate::Currency,
) -> Result<Money, DomainError> {
    seats
        .iter()
        .try_fold(Money::zero(currency.clone()), |sum, seat| {
            let ticket_type = ticket_types.get(seat).map_or(ADULT, String::as_str);
            show.price_of(seat, ticket_type)
                .and_then(|price| sum.checked_add(price))
                .ok_or_else(|| DomainError::invalid("seats", "the total price cannot be computed"))
        })
}

/// A list of one to `max` seats, none named twice.
pub(super) fn validate_seat_list(
    field: &str,
    seats: &[SeatId],
    max: usize,
) -> Result<(), DomainError> {
    if seats.is_empty() {
        return Err(DomainError::invalid(field, "at least one seat is required"));
    }
    if seats.len() > max {
        return Err(DomainError::invalid(
            field,
            format!(
                "at most {max} seats may be held at once, {} were requested",
                seats.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    refuse_seats(field, "seats are listed twice", seats, |seat| {
        !seen.insert(seat)
    })
}

/// A list of seats to take: one to [`MAX_SEATS_PER_HOLD`] seats of this show, none named
/// twice.
pub(super) fn validate_seat_selection(
    show: &Show,
    field: &str,
    seats: &[SeatId],
) -> Result<(), DomainError> {
    validate_seat_list(field, seats, MAX_SEATS_PER_HOLD)?;
    refuse_seats(field, "no such seats in this show", seats, |seat| {
        show.seat_status(seat).is_none()
    })
}

/// Refuses the list if any of its seats is `wrong`, naming them all: `{problem}: A1, A2`.
fn refuse_seats<'a>(
    field: &str,
    problem: &str,
    seats: &'a [SeatId],
    mut wrong: impl FnMut(&'a SeatId) -> bool,
) -> Result<(), DomainError> {
    let named: Vec<&str> = seats
        .iter()
        .filter(|seat| wrong(seat))
        .map(SeatId::as_str)
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    Err(DomainError::invalid(
        field,
        format!("{problem}: {}", named.join(", ")),
    ))
}
