//! The waiting list: customers queue for a number of seats; when seats come free, the
//! longest-waiting entry whose request can now be met gets a hold on the best available
//! seats, in the same decision that freed them. An entry that cannot be met yet keeps its
//! place and does not block smaller requests behind it.

use super::best::best_available;
use super::command::Requester;
use super::event::*;
use super::holds::check_request;
use super::{HoldStatus, SeatStatus, Show, WaitlistStatus};
use crate::{CustomerId, DomainError, HoldId, SeatId, Timestamp, WaitlistEntryId};
use chrono::Duration;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The hold offered to an entry: derived from the entry, so a re-decided batch offers the
/// same hold.
pub(crate) fn offer_hold_id(entry_id: &WaitlistEntryId) -> HoldId {
    HoldId(Uuid::new_v5(&entry_id.0, b"offer"))
}

pub(crate) fn join(
    show: &Show,
    entry_id: WaitlistEntryId,
    customer_id: &CustomerId,
    count: u32,
    category: Option<&str>,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    info.before_start(now)?;
    // The waiting room is the line while there is one: joining the list (which offers free
    // seats at once) would skip it.
    super::onsale::check(show, None, now)?;
    if show.waitlist_entry(&entry_id).is_some() {
        return Err(DomainError::DuplicateId(format!(
            "waitlist entry {entry_id}"
        )));
    }
    check_request(info, count, category)?;
    if let Some(entry) = show
        .waitlist()
        .iter()
        .find(|e| &e.customer_id == customer_id && e.status != WaitlistStatus::Ended)
    {
        return Err(DomainError::WaitlistEntryExists {
            entry_id: entry.entry_id,
        });
    }
    if unsold(show, category) < count as usize {
        return Err(DomainError::WaitlistCannotBeMet);
    }
    let waiting = show
        .waitlist()
        .iter()
        .filter(|e| e.status == WaitlistStatus::Waiting)
        .count();
    Ok(vec![ShowEvent::WaitlistJoined(WaitlistJoined {
        entry_id,
        customer_id: customer_id.clone(),
        count,
        category: category.map(str::to_owned),
        joined_at: now,
        place: u32::try_from(waiting + 1).unwrap_or(u32::MAX),
        waits_until: now + Duration::seconds(i64::from(info.waitlist_max_wait_seconds)),
    })])
}

pub(crate) fn leave(
    show: &Show,
    entry_id: &WaitlistEntryId,
    requester: &Requester,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let entry = show
        .waitlist_entry(entry_id)
        .filter(|e| requester.may_act_for(&e.customer_id))
        .ok_or(DomainError::WaitlistEntryNotFound)?;
    let mut events = Vec::new();
    match entry.status {
        WaitlistStatus::Ended => return Err(DomainError::WaitlistEntryEnded),
        WaitlistStatus::Waiting => {}
        WaitlistStatus::Offered(hold_id) => {
            // Leaving gives the offered seats back, to the next in the queue.
            if let Some(hold) = show.hold(&hold_id) {
                if hold.status == HoldStatus::Active {
                    events.push(ShowEvent::HoldReleased(HoldReleased {
                        hold_id,
                        seats: hold.seats.clone(),
                        released_at: now,
                        promo_code: hold.discount.as_ref().map(|d| d.code.clone()),
                    }));
                }
            }
        }
    }
    events.push(ShowEvent::WaitlistLeft(WaitlistLeft {
        entry_id: *entry_id,
        left_at: now,
    }));
    Ok(events)
}

pub(crate) fn expire_entry(
    show: &Show,
    entry_id: &WaitlistEntryId,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    let entry = show
        .waitlist_entry(entry_id)
        .ok_or(DomainError::WaitlistEntryNotFound)?;
    if entry.status != WaitlistStatus::Waiting {
        return Err(DomainError::WaitlistEntryEnded);
    }
    let expirable_at =
        entry.joined_at + Duration::seconds(i64::from(info.waitlist_max_wait_seconds));
    if now < expirable_at {
        return Err(DomainError::WaitlistEntryNotExpirable { expirable_at });
    }
    Ok(vec![ShowEvent::WaitlistClosed(WaitlistClosed {
        entry_id: *entry_id,
        reason: WaitlistCloseReason::TimedOut,
        closed_at: now,
    })])
}

/// What follows from `events` for the waiting list: entries whose offer was paid, declined
/// or expired end; free seats go to waiting entries in joining order; entries the show can
/// no longer meet end. Returns `events` with the consequences appended.
pub(crate) fn follow_up(show: &Show, mut events: Vec<ShowEvent>, now: Timestamp) -> Vec<ShowEvent> {
    let active = |s: &Show| {
        s.waitlist()
            .iter()
            .any(|e| e.status != WaitlistStatus::Ended)
    };
    if !active(show)
        && !events
            .iter()
            .any(|e| matches!(e, ShowEvent::WaitlistJoined(_)))
    {
        return events;
    }
    let Some(info) = show.info() else {
        return events;
    };
    let ttl = Duration::seconds(i64::from(info.hold_ttl_seconds));
    let mut state = show.clone();
    for event in &events {
        state = state.evolve(event);
    }
    let mut consequences = Vec::new();

    // 1. Offers that ended.
    for event in &events {
        let (hold_id, reason) = match event {
            ShowEvent::HoldConfirmed(e) => (e.hold_id, WaitlistCloseReason::Fulfilled),
            ShowEvent::HoldExpired(e) => (e.hold_id, WaitlistCloseReason::OfferExpired),
            ShowEvent::HoldReleased(e) => (e.hold_id, WaitlistCloseReason::OfferDeclined),
            _ => continue,
        };
        if let Some(entry_id) = open_offer(&state, &hold_id) {
            push(
                &mut state,
                &mut consequences,
                ShowEvent::WaitlistClosed(WaitlistClosed {
                    entry_id,
                    reason,
                    closed_at: now,
                }),
            );
        }
    }

    // 2. Free seats to waiting entries, first come first served (until the show starts).
    let started = now >= info.starts_at;
    let waiting: Vec<_> = state
        .waitlist()
        .iter()
        .filter(|e| e.status == WaitlistStatus::Waiting && !started)
        .cloned()
        .collect();
    for entry in waiting {
        if state
            .active_holds_of(&entry.customer_id, now)
            .next()
            .is_some()
        {
            continue; // one hold at a time: the entry keeps its place
        }
        let Some(seats) =
            best_available(&state, entry.count as usize, entry.category.as_deref(), now)
        else {
            continue;
        };
        let Some(total) = price(&state, &seats) else {
            continue;
        };
        let hold_id = offer_hold_id(&entry.entry_id);
        if state.hold(&hold_id).is_some() {
            continue;
        }
        // Seats of lapsed holds among them are expired first, as a hold would; a lapsed
        // hold that was itself an offer ends its entry.
        for lapsed in lapsed_holds(&state, &seats, now) {
            let seats = state
                .hold(&lapsed)
                .map(|h| h.seats.clone())
                .unwrap_or_default();
            let promo_code = state
                .hold(&lapsed)
                .and_then(|h| h.discount.as_ref())
                .map(|d| d.code.clone());
            push(
                &mut state,
                &mut consequences,
                ShowEvent::HoldExpired(HoldExpired {
                    hold_id: lapsed,
                    seats,
                    expired_at: now,
                    promo_code,
                }),
            );
            if let Some(offered_to) = open_offer(&state, &lapsed) {
                push(
                    &mut state,
                    &mut consequences,
                    ShowEvent::WaitlistClosed(WaitlistClosed {
                        entry_id: offered_to,
                        reason: WaitlistCloseReason::OfferExpired,
                        closed_at: now,
                    }),
                );
            }
        }
        push(
            &mut state,
            &mut consequences,
            ShowEvent::SeatsHeld(SeatsHeld {
                admission: None,
                hold_id,
                customer_id: entry.customer_id.clone(),
                seats: seats.clone(),
                total: total.clone(),
                held_at: now,
                expires_at: now + ttl,
                discount: None,
                ticket_types: BTreeMap::new(),
            }),
        );
        push(
            &mut state,
            &mut consequences,
            ShowEvent::WaitlistOffered(WaitlistOffered {
                entry_id: entry.entry_id,
                hold_id,
                seats,
                total,
                expires_at: now + ttl,
                offered_at: now,
            }),
        );
    }

    // 3. Entries the show can no longer meet: too few unsold seats, or it has started.
    let hopeless: Vec<WaitlistEntryId> = state
        .waitlist()
        .iter()
        .filter(|e| e.status == WaitlistStatus::Waiting)
        .filter(|e| started || unsold(&state, e.category.as_deref()) < e.count as usize)
        .map(|e| e.entry_id)
        .collect();
    for entry_id in hopeless {
        push(
            &mut state,
            &mut consequences,
            ShowEvent::WaitlistClosed(WaitlistClosed {
                entry_id,
                reason: WaitlistCloseReason::CannotBeMet,
                closed_at: now,
            }),
        );
    }
    events.extend(consequences);
    events
}

/// The entry `hold_id` was offered to, if that offer is still open.
fn open_offer(state: &Show, hold_id: &HoldId) -> Option<WaitlistEntryId> {
    let entry_id = *state.offer_of(hold_id)?;
    state
        .waitlist_entry(&entry_id)
        .is_some_and(|e| e.status == WaitlistStatus::Offered(*hold_id))
        .then_some(entry_id)
}

fn push(state: &mut Show, events: &mut Vec<ShowEvent>, event: ShowEvent) {
    *state = std::mem::take(state).evolve(&event);
    events.push(event);
}

/// Seats not sold (free or held), of `category` if given.
fn unsold(show: &Show, category: Option<&str>) -> usize {
    show.seat_statuses()
        .filter(|(spec, _)| category.is_none_or(|c| spec.category == c))
        .filter(|(_, status)| !matches!(status, SeatStatus::Sold(_)))
        .count()
}

fn price(show: &Show, seats: &[SeatId]) -> Option<crate::Money> {
    let currency = show.info()?.prices.values().next()?.currency.clone();
    seats
        .iter()
        .try_fold(crate::Money::zero(currency), |sum, seat| {
            sum.checked_add(show.price_of(seat, super::ADULT)?)
        })
}

fn lapsed_holds(show: &Show, seats: &[SeatId], now: Timestamp) -> Vec<HoldId> {
    let mut lapsed: Vec<HoldId> = seats
        .iter()
        .filter_map(|seat| match show.seat_status(seat) {
            Some(SeatStatus::Held(hold_id)) => show
                .hold(&hold_id)
                .filter(|h| now >= h.expires_at + show.grace())
                .map(|_| hold_id),
            _ => None,
        })
        .collect();
    lapsed.sort();
    lapsed.dedup();
    lapsed
}
