//! The box-office fold: a batch's sales, refunds, exchanges and funnel steps turned into
//! changes of the facts (per show and seat category), the funnel (per show) and the sales
//! timeline (per show and hour), in log order, in memory. What it must remember between
//! batches (what each seat in an order counts as paid, transfers under way, waiting-list
//! offers, payments' shows) is loaded before and written back after by the projector; the
//! definitions it follows are docs/reports.md's.

use crate::{Applying, Event};
use boxoffice_domain::payment::PaymentEvent;
use boxoffice_domain::show::{share_out, HoldConfirmed, OrderRefunded, RefundReason};
use boxoffice_domain::{ShowEvent, Timestamp};
use std::collections::HashMap;
use uuid::Uuid;

/// Where a show sits and how it is priced, as the reports need it to fold its sales.
pub(super) struct ShowPlace {
    pub movie_id: Uuid,
    pub cinema_id: Option<Uuid>,
    pub city_id: Option<Uuid>,
    pub currency: String,
    /// Each seat's category.
    pub seats: HashMap<String, String>,
    /// Adult list price per category.
    pub prices: HashMap<String, i64>,
    /// The other ticket types' list prices: type, then category.
    pub ticket_prices: HashMap<String, HashMap<String, i64>>,
}

impl ShowPlace {
    fn category(&self, seat: &str) -> String {
        self.seats.get(seat).cloned().unwrap_or_default()
    }

    /// The list price of a ticket of `ticket_type` (`None`: adult) on a seat of `category`.
    fn price(&self, category: &str, ticket_type: Option<&str>) -> i64 {
        let prices = match ticket_type {
            None => Some(&self.prices),
            Some(ticket_type) => self.ticket_prices.get(ticket_type),
        };
        prices.and_then(|p| p.get(category)).copied().unwrap_or(0)
    }
}

/// A seat in an order: its category and what it counts as paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PaidSeat {
    pub category: String,
    pub paid_minor: i64,
}

/// Seats given up for another show, in the order the transfer named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Transfer {
    pub seats: Vec<String>,
    pub categories: Vec<String>,
    pub paid_minor: Vec<i64>,
}

/// Changes of one (show, category)'s facts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct FactChange {
    pub tickets_sold: i32,
    pub tickets_refunded: i32,
    pub tickets_exchanged_in: i32,
    pub tickets_exchanged_out: i32,
    pub gross_minor: i64,
    pub discounts_minor: i64,
    pub refunds_minor: i64,
    pub fees_minor: i64,
    pub exchanged_in_minor: i64,
    pub exchanged_out_minor: i64,
    /// Tickets let in at the door.
    pub tickets_checked_in: i32,
}

/// Changes of one show's funnel.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct FunnelChange {
    pub holds_made: i32,
    pub holds_released: i32,
    pub holds_expired: i32,
    pub holds_paid: i32,
    pub paid_after_expiry: i32,
    pub payments_started: i32,
    pub payments_failed: i32,
    pub payments_refused: i32,
    pub waitlist_joined: i32,
    pub waitlist_offers: i32,
    pub offers_taken: i32,
    pub offers_lapsed: i32,
    pub promo_holds: i32,
    pub promo_orders: i32,
}

/// Changes in one (show, hour of sale time).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct TimelineChange {
    pub tickets_sold: i32,
    pub tickets_refunded: i32,
    pub tickets_net: i32,
    pub net_revenue_minor: i64,
}

/// The state a batch folds against, loaded by the projector for the keys the batch names,
/// and the changes it makes. Entries set to `None` were removed.
#[derive(Default)]
pub(super) struct Fold {
    pub shows: HashMap<Uuid, ShowPlace>,
    pub seats: HashMap<(Uuid, String), Option<PaidSeat>>,
    pub transfers: HashMap<(Uuid, Uuid), Option<Transfer>>,
    pub offers: HashMap<Uuid, Option<Uuid>>,
    pub payments: HashMap<Uuid, Uuid>,
    pub new_payments: Vec<(Uuid, Uuid)>,
    pub facts: HashMap<(Uuid, String), FactChange>,
    pub funnel: HashMap<Uuid, FunnelChange>,
    pub timeline: HashMap<(Uuid, i64), TimelineChange>,
}

/// What a batch needs loaded before it is folded.
#[derive(Default)]
pub(super) struct Wanted {
    /// Shows with sales, refunds or exchanges (their layout and place).
    pub shows: Vec<Uuid>,
    /// Seats leaving orders: (show, seat).
    pub seats: Vec<(Uuid, String)>,
    /// Transfers undone: (show, exchange).
    pub transfers: Vec<(Uuid, Uuid)>,
    /// Holds that ended (are they offers?).
    pub holds: Vec<Uuid>,
    /// Payments that failed (for which show?).
    pub payments: Vec<Uuid>,
}

/// Whether the box office counts `event`.
pub(super) fn counts(event: &Event) -> bool {
    match event {
        Event::Payment(e) => matches!(
            e,
            PaymentEvent::PaymentStarted(_) | PaymentEvent::PaymentFailed(_)
        ),
        Event::Show(_) | Event::Cities(_) | Event::Cinema(_) | Event::Movie(_) => true,
        Event::Promo(_) | Event::Access(_) => false,
    }
}

pub(super) fn wanted(events: &[Applying<'_>]) -> Wanted {
    let mut wanted = Wanted::default();
    for applying in events {
        let show = applying.stream_id;
        match applying.event {
            Event::Show(event) => match event {
                ShowEvent::HoldConfirmed(e) => {
                    wanted.shows.push(show);
                    wanted.holds.push(e.hold_id.0);
                }
                ShowEvent::OrderRefunded(e) => {
                    wanted.shows.push(show);
                    wanted
                        .seats
                        .extend(e.seats.iter().map(|s| (show, s.0.clone())));
                }
                ShowEvent::SeatsExchanged(e) => {
                    wanted.shows.push(show);
                    wanted
                        .seats
                        .extend(e.moves.iter().map(|m| (show, m.from.0.clone())));
                }
                ShowEvent::OrderTransferredOut(e) => {
                    wanted.shows.push(show);
                    wanted
                        .seats
                        .extend(e.seats.iter().map(|s| (show, s.0.clone())));
                }
                ShowEvent::TransferReverted(e) => {
                    wanted.shows.push(show);
                    wanted.transfers.push((show, e.exchange_id));
                }
                ShowEvent::TicketsCheckedIn(_) => wanted.shows.push(show),
                ShowEvent::HoldReleased(e) => wanted.holds.push(e.hold_id.0),
                ShowEvent::HoldExpired(e) => wanted.holds.push(e.hold_id.0),
                _ => {}
            },
            Event::Payment(PaymentEvent::PaymentFailed(_)) => wanted.payments.push(show),
            _ => {}
        }
    }
    wanted.shows.sort_unstable();
    wanted.shows.dedup();
    wanted
}

impl Fold {
    /// Folds the batch's events, in log order.
    pub fn apply(&mut self, events: &[Applying<'_>]) {
        for applying in events {
            let show = applying.stream_id;
            match applying.event {
                Event::Show(event) => self.show_event(show, event),
                Event::Payment(PaymentEvent::PaymentStarted(e)) => {
                    self.payments.insert(e.payment_id, e.show_id.0);
                    self.new_payments.push((e.payment_id, e.show_id.0));
                }
                Event::Payment(PaymentEvent::PaymentFailed(_)) => {
                    if let Some(show) = self.payments.get(&show).copied() {
                        self.funnel.entry(show).or_default().payments_failed += 1;
                    }
                }
                _ => {}
            }
        }
    }

    fn show_event(&mut self, show: Uuid, event: &ShowEvent) {
        match event {
            ShowEvent::SeatsHeld(e) => {
                let funnel = self.funnel.entry(show).or_default();
                funnel.holds_made += 1;
                funnel.promo_holds += i32::from(e.discount.is_some());
            }
            ShowEvent::HoldReleased(e) => {
                self.funnel.entry(show).or_default().holds_released += 1;
                self.offer_lapsed(show, e.hold_id.0);
            }
            ShowEvent::HoldExpired(e) => {
                self.funnel.entry(show).or_default().holds_expired += 1;
                self.offer_lapsed(show, e.hold_id.0);
            }
            ShowEvent::HoldConfirmed(e) => self.confirmed(show, e),
            ShowEvent::PaymentRequested(_) => {
                self.funnel.entry(show).or_default().payments_started += 1;
            }
            ShowEvent::PaymentRefused(_) => {
                self.funnel.entry(show).or_default().payments_refused += 1;
            }
            ShowEvent::WaitlistJoined(_) => {
                self.funnel.entry(show).or_default().waitlist_joined += 1;
            }
            ShowEvent::WaitlistOffered(e) => {
                self.funnel.entry(show).or_default().waitlist_offers += 1;
                self.offers.insert(e.hold_id.0, Some(show));
            }
            ShowEvent::OrderRefunded(e) => self.refunded(show, e),
            ShowEvent::SeatsExchanged(e) => {
                let mut revenue = 0;
                for seat_move in &e.moves {
                    let old = self.take_seat(show, &seat_move.from.0);
                    let out = self.fact(show, &old.category);
                    out.tickets_exchanged_out += 1;
                    out.exchanged_out_minor += old.paid_minor;
                    let category = self.place(show).map(|p| p.category(&seat_move.to.0));
                    let category = category.unwrap_or_default();
                    let into = self.fact(show, &category);
                    into.tickets_exchanged_in += 1;
                    into.exchanged_in_minor += seat_move.paid_minor;
                    revenue += seat_move.paid_minor - old.paid_minor;
                    self.seats.insert(
                        (show, seat_move.to.0.clone()),
                        Some(PaidSeat {
                            category,
                            paid_minor: seat_move.paid_minor,
                        }),
                    );
                }
                self.sold_at(show, e.exchanged_at).net_revenue_minor += revenue;
            }
            ShowEvent::OrderTransferredOut(e) => {
                let mut transfer = Transfer {
                    seats: Vec::with_capacity(e.seats.len()),
                    categories: Vec::with_capacity(e.seats.len()),
                    paid_minor: e.paid_minor.clone(),
                };
                for (seat, paid) in e.seats.iter().zip(&e.paid_minor) {
                    let old = self.take_seat(show, &seat.0);
                    let out = self.fact(show, &old.category);
                    out.tickets_exchanged_out += 1;
                    out.exchanged_out_minor += paid;
                    transfer.seats.push(seat.0.clone());
                    transfer.categories.push(old.category);
                }
                self.transfers.insert((show, e.exchange_id), Some(transfer));
                let at = self.sold_at(show, e.transferred_at);
                at.tickets_net -= e.seats.len() as i32;
                at.net_revenue_minor -= e.credit.amount_minor;
            }
            ShowEvent::TransferReverted(e) => {
                let transfer = self.transfers.insert((show, e.exchange_id), None).flatten();
                let Some(transfer) = transfer else {
                    tracing::warn!(%show, exchange_id = %e.exchange_id,
                        "box office: a transfer undone that was never seen leaving");
                    return;
                };
                let (mut back, mut lost) = (0, 0);
                for ((seat, category), paid) in transfer
                    .seats
                    .iter()
                    .zip(&transfer.categories)
                    .zip(&transfer.paid_minor)
                {
                    let fact = self.fact(show, category);
                    fact.tickets_exchanged_out -= 1;
                    fact.exchanged_out_minor -= paid;
                    if e.seats.iter().any(|s| &s.0 == seat) {
                        back += 1;
                        self.seats.insert(
                            (show, seat.clone()),
                            Some(PaidSeat {
                                category: category.clone(),
                                paid_minor: *paid,
                            }),
                        );
                    } else {
                        // Sold to someone else meanwhile: refunded (by the refund that
                        // follows in the same decision, which names no seats).
                        lost += 1;
                        fact.tickets_refunded += 1;
                        fact.refunds_minor += paid;
                    }
                }
                let at = self.sold_at(show, e.reverted_at);
                at.tickets_net += back;
                at.tickets_refunded += lost;
                at.net_revenue_minor += e.credit.amount_minor;
            }
            ShowEvent::ShowScheduled(_)
            | ShowEvent::OrderTransferredIn(_)
            | ShowEvent::WaitlistLeft(_)
            | ShowEvent::WaitlistClosed(_)
            | ShowEvent::ShowCancelled(_)
            | ShowEvent::AccessibleSeatsReleased(_)
            | ShowEvent::OnSaleQueueSet(_)
            | ShowEvent::OnSaleQueueLifted(_) => {}
            ShowEvent::TicketsCheckedIn(e) => {
                for admitted in &e.tickets {
                    let category = self.place(show).map(|p| p.category(&admitted.seat_id.0));
                    let category = category.unwrap_or_default();
                    self.fact(show, &category).tickets_checked_in += 1;
                }
            }
        }
    }

    fn confirmed(&mut self, show: Uuid, e: &HoldConfirmed) {
        let funnel = self.funnel.entry(show).or_default();
        funnel.holds_paid += 1;
        funnel.paid_after_expiry += i32::from(e.after_expiry);
        if self.end_offer(e.hold_id.0) {
            self.funnel.entry(show).or_default().offers_taken += 1;
        }
        let Some(place) = self.shows.get(&show) else {
            tracing::warn!(%show, "box office: a sale on a show never scheduled");
            return;
        };
        let categories: Vec<String> = e.seats.iter().map(|s| place.category(&s.0)).collect();
        let prices: Vec<i64> = e
            .seats
            .iter()
            .zip(&categories)
            .map(|(seat, c)| place.price(c, e.ticket_types.get(seat).map(String::as_str)))
            .collect();
        let shares = share_out(&prices, e.total.amount_minor);
        let list: i64 = prices.iter().sum();
        let by_transfer = e.by_transfer();
        if !by_transfer && list > e.total.amount_minor {
            self.funnel.entry(show).or_default().promo_orders += 1;
        }
        for (((seat, category), price), share) in
            e.seats.iter().zip(categories).zip(prices).zip(shares)
        {
            let fact = self.fact(show, &category);
            if by_transfer {
                fact.tickets_exchanged_in += 1;
                fact.exchanged_in_minor += share;
            } else {
                fact.tickets_sold += 1;
                fact.gross_minor += price;
                fact.discounts_minor += price - share;
            }
            self.seats.insert(
                (show, seat.0.clone()),
                Some(PaidSeat {
                    category,
                    paid_minor: share,
                }),
            );
        }
        let at = self.sold_at(show, e.confirmed_at);
        if !by_transfer {
            at.tickets_sold += e.seats.len() as i32;
        }
        at.tickets_net += e.seats.len() as i32;
        at.net_revenue_minor += e.total.amount_minor;
    }

    fn refunded(&mut self, show: Uuid, e: &OrderRefunded) {
        if e.seats.is_empty() {
            // A failed transfer's refund of seats sold meanwhile: counted when the transfer
            // was undone, just before it in the same decision.
            if e.reason != RefundReason::ExchangeFailed {
                tracing::warn!(%show, refund_id = %e.refund_id.0,
                    "box office: a refund naming no seats");
            }
            return;
        }
        let seats: Vec<PaidSeat> = e.seats.iter().map(|s| self.take_seat(show, &s.0)).collect();
        let paid: Vec<i64> = seats.iter().map(|s| s.paid_minor).collect();
        let fee = e.fee.as_ref().map_or(0, |f| f.amount_minor);
        for (seat, fee_share) in seats.iter().zip(share_out(&paid, fee)) {
            let fact = self.fact(show, &seat.category);
            fact.tickets_refunded += 1;
            fact.refunds_minor += seat.paid_minor - fee_share;
            fact.fees_minor += fee_share;
        }
        let at = self.sold_at(show, e.refunded_at);
        at.tickets_refunded += e.seats.len() as i32;
        at.tickets_net -= e.seats.len() as i32;
        at.net_revenue_minor -= e.amount.amount_minor;
    }

    fn offer_lapsed(&mut self, show: Uuid, hold: Uuid) {
        if self.end_offer(hold) {
            self.funnel.entry(show).or_default().offers_lapsed += 1;
        }
    }

    /// Ends the waiting-list offer that `hold` is, if it is one (only those are written
    /// back: most holds are not offers).
    fn end_offer(&mut self, hold: Uuid) -> bool {
        match self.offers.get_mut(&hold) {
            Some(offer @ Some(_)) => {
                *offer = None;
                true
            }
            _ => false,
        }
    }

    /// A seat leaving its order: what it counted as paid (a seat the box office never saw
    /// sold counts as nothing, in its layout category).
    fn take_seat(&mut self, show: Uuid, seat: &str) -> PaidSeat {
        match self.seats.insert((show, seat.to_owned()), None).flatten() {
            Some(paid) => paid,
            None => {
                tracing::warn!(%show, seat, "box office: a seat left an order it was not in");
                PaidSeat {
                    category: self
                        .place(show)
                        .map(|p| p.category(seat))
                        .unwrap_or_default(),
                    paid_minor: 0,
                }
            }
        }
    }

    fn place(&self, show: Uuid) -> Option<&ShowPlace> {
        self.shows.get(&show)
    }

    fn fact(&mut self, show: Uuid, category: &str) -> &mut FactChange {
        self.facts.entry((show, category.to_owned())).or_default()
    }

    fn sold_at(&mut self, show: Uuid, at: Timestamp) -> &mut TimelineChange {
        let hour = at.timestamp().div_euclid(3600);
        self.timeline.entry((show, hour)).or_default()
    }
}
