//! Which facts follow from a command: the one place every show command is routed to its
//! rules.
//!
//! The rules live in modules by concern: [`lifecycle`](super::lifecycle) (scheduling,
//! cancelling, and the checks every command passes first), [`holds`](super::holds),
//! [`payments`](super::payments), [`orders`](super::orders) and the
//! [`waitlist`](super::waitlist). After a command's own rules, the waiting list draws the
//! consequences of its events in the same decision (freed seats go to the next entry), and
//! then [`accessible`](super::accessible) (selling the rest of the hall releases the kept
//! accessible seats; a hold after their release time records the release first). This
//! module must never hold a rule itself: a new command is one arm here and a function in the
//! module of its concern.

use super::command::ShowCommand;
use super::event::{ShowEvent, ShowScheduled};
use super::holds::Wanted;
use super::orders::Credit;
use super::{accessible, holds, lifecycle, onsale, orders, payments, tickets, waitlist, Show};
use crate::{DomainError, Timestamp};

/// Decides which events a command produces against the current state, at instant `now`.
pub fn decide(
    show: &Show,
    command: &ShowCommand,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    lifecycle::admit(show, command)?;
    // A command that takes seats once the kept accessible seats are due for release records
    // the release first, and is decided on the show with it applied.
    let takes_seats = matches!(
        command,
        ShowCommand::HoldSeats { .. }
            | ShowCommand::HoldBestAvailable { .. }
            | ShowCommand::ExchangeSeats { .. }
    );
    if let Some(release) = takes_seats.then(|| accessible::due(show, now)).flatten() {
        let released = show.clone().evolve(&release);
        let mut events = vec![release];
        events.extend(decide_admitted(&released, command, now)?);
        return Ok(events);
    }
    decide_admitted(show, command, now)
}

/// [`decide`] for a command [`lifecycle::admit`] let through.
fn decide_admitted(
    show: &Show,
    command: &ShowCommand,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let events = match command {
        // Neither draws the waiting list's consequences: there is no list yet, or the show
        // is off.
        ShowCommand::ScheduleShow {
            show_id,
            movie_id,
            title,
            starts_at,
            ends_at,
            seats,
            prices,
            ticket_prices,
            hold_ttl_seconds,
            expiry_grace_seconds,
            max_holds_per_customer,
            waitlist_max_wait_seconds,
            venue,
            refund_policy,
            accessible_seating,
        } => {
            return lifecycle::schedule(
                show,
                ShowScheduled {
                    show_id: *show_id,
                    movie_id: *movie_id,
                    title: title.clone(),
                    starts_at: *starts_at,
                    ends_at: *ends_at,
                    seats: seats.as_slice().into(),
                    prices: prices.clone(),
                    ticket_prices: ticket_prices.clone(),
                    hold_ttl_seconds: *hold_ttl_seconds,
                    expiry_grace_seconds: *expiry_grace_seconds,
                    max_holds_per_customer: *max_holds_per_customer,
                    waitlist_max_wait_seconds: *waitlist_max_wait_seconds,
                    venue: venue.clone(),
                    refund_policy: *refund_policy,
                    accessible_seating: *accessible_seating,
                },
                now,
            )
        }
        ShowCommand::CancelShow { reason } => return lifecycle::cancel(show, reason, now),
        ShowCommand::HoldSeats {
            hold_id,
            customer_id,
            seats,
            ticket_types,
            promo,
            accessible,
            admission,
        } => holds::hold(
            show,
            *hold_id,
            customer_id,
            Wanted::Seats {
                seats,
                ticket_types,
                accessible: *accessible,
            },
            (promo.as_ref(), admission.as_ref()),
            now,
        ),
        ShowCommand::HoldBestAvailable {
            hold_id,
            customer_id,
            count,
            category,
            ticket_types,
            promo,
            admission,
        } => holds::hold(
            show,
            *hold_id,
            customer_id,
            Wanted::Best {
                count: *count,
                category: category.as_deref(),
                ticket_types,
            },
            (promo.as_ref(), admission.as_ref()),
            now,
        ),
        ShowCommand::ReleaseHold { hold_id, requester } => {
            holds::release(show, hold_id, requester, now)
        }
        ShowCommand::ExpireHold { hold_id } => holds::expire(show, hold_id, now),
        ShowCommand::JoinWaitlist {
            entry_id,
            customer_id,
            count,
            category,
        } => waitlist::join(
            show,
            *entry_id,
            customer_id,
            *count,
            category.as_deref(),
            now,
        ),
        ShowCommand::LeaveWaitlist {
            entry_id,
            requester,
        } => waitlist::leave(show, entry_id, requester, now),
        ShowCommand::ExpireWaitlistEntry { entry_id } => {
            waitlist::expire_entry(show, entry_id, now)
        }
        ShowCommand::ConfirmPayment {
            hold_id,
            order_id,
            requester,
            payment_reference,
            amount,
        } => payments::confirm_at_counter(
            show,
            hold_id,
            order_id,
            requester,
            payment_reference,
            amount,
            now,
        ),
        ShowCommand::RequestPayment {
            hold_id,
            payment_id,
            requester,
            method,
        } => payments::request(show, hold_id, payment_id, requester, *method, now),
        ShowCommand::SettlePayment {
            payment_id,
            order_id,
        } => payments::settle(show, *payment_id, *order_id, now),
        ShowCommand::RefundOrder {
            order_id,
            refund_id,
            requester,
            seats,
        } => orders::refund(
            show,
            *order_id,
            *refund_id,
            requester,
            seats.as_deref(),
            now,
        ),
        ShowCommand::ExchangeSeats {
            order_id,
            exchange_id,
            requester,
            give_back,
            take,
        } => orders::exchange(
            show,
            *order_id,
            *exchange_id,
            requester,
            give_back,
            take,
            now,
        ),
        ShowCommand::TransferOut {
            order_id,
            exchange_id,
            requester,
            seats,
            to_show_id,
            to_hold_id,
        } => orders::transfer_out(
            show,
            *order_id,
            *exchange_id,
            requester,
            seats,
            (*to_show_id, *to_hold_id),
            now,
        ),
        ShowCommand::TransferIn {
            hold_id,
            order_id,
            exchange_id,
            customer_id,
            from_show_id,
            from_order_id,
            movie_id,
            credit,
            payment_id,
            ticket_types,
        } => orders::transfer_in(
            show,
            (hold_id, order_id),
            exchange_id,
            customer_id,
            Credit {
                from_show_id: *from_show_id,
                from_order_id: *from_order_id,
                movie_id: *movie_id,
                amount: credit,
                payment_id: *payment_id,
                ticket_types,
            },
            now,
        ),
        ShowCommand::RevertTransferOut { exchange_id } => {
            orders::revert_transfer(show, *exchange_id, now)
        }
        // Letting people in frees no seat: nothing for the waiting list.
        ShowCommand::CheckIn { presented, door } => {
            return tickets::check_in(show, presented, door, now)
        }
        // Nothing comes free for the waiting list (its entries never ask for these seats
        // unless they asked for the accessible category, which they could hold already).
        ShowCommand::ReleaseAccessibleSeats { by_staff } => {
            return accessible::release(show, *by_staff, now)
        }
        // Neither frees nor takes a seat.
        ShowCommand::QueueOnSale {
            onsale_id,
            opens_at,
        } => return onsale::set(show, *onsale_id, *opens_at, now),
        ShowCommand::LiftOnSaleQueue { onsale_id } => return onsale::lift(show, *onsale_id, now),
    }?;
    let events = waitlist::follow_up(show, events, now);
    Ok(accessible::follow_up(show, events, now))
}
