//! The show aggregate: every seat of one showing, its holds, orders, refunds and tickets.
//!
//! All seat invariants live here, so no command needs a lock beyond this one stream: a seat is
//! free, held by exactly one hold, or sold to exactly one order; free + held + sold is always
//! the capacity. The state is only ever changed by [`Show::evolve`], which applies a fact and
//! never fails or checks rules (the rules were checked when the fact was decided).
//!
//! The rules are in [`decide`], which routes each command to the module of its concern:
//! `lifecycle` (scheduling, cancelling, the checks every command passes), `holds`,
//! `payments`, `orders`, `tickets` (the door) and `waitlist`; [`best`] ranks seats for
//! best-available holds.

mod accessible;
pub mod best;
mod command;
mod decide;
mod event;
mod holds;
mod layout;
mod lifecycle;
mod onsale;
mod orders;
mod payments;
mod tickets;
mod waitlist;

#[cfg(test)]
mod accessible_tests;
#[cfg(test)]
mod best_tests;
#[cfg(test)]
mod onsale_tests;
#[cfg(test)]
mod payment_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod ticket_tests;
#[cfg(test)]
mod ticket_type_tests;
#[cfg(test)]
mod waitlist_tests;

pub use accessible::AccessibleSeating;
pub use command::{Requester, ShowCommand};
pub use decide::decide;
pub use event::{
    AccessibleRelease, AccessibleSeatsReleased, AdmittedTicket, AppliedDiscount, CheckInMethod,
    HoldConfirmed, HoldExpired, HoldReleased, OnSaleQueueLifted, OnSaleQueueSet, OrderRefunded,
    OrderTransferredIn, OrderTransferredOut, PaymentRefusal, PaymentRefused, PaymentRequested,
    RefundPolicy, RefundReason, SeatMove, SeatsExchanged, SeatsHeld, ShowCancelled, ShowEvent,
    ShowScheduled, TicketsCheckedIn, TransferReverted, Venue, WaitlistCloseReason, WaitlistClosed,
    WaitlistJoined, WaitlistLeft, WaitlistOffered,
};
pub use holds::MAX_SEATS_PER_HOLD;
pub use layout::Layout;
pub use lifecycle::valid_ticket_type;
pub use onsale::Admission;
pub use tickets::{pickup_code, ticket_id, CheckedIn, Door, Presented, Ticket};

/// Shares `paid` out over items in proportion to their `prices` (rounded down, the
/// remainder to the last item), so a discount taken off a hold is refunded in the same
/// proportion as it was given. Each seat of an order counts as paid its share of the
/// order's total; the box-office reports share refund fees out the same way.
pub fn share_out(prices: &[i64], paid: i64) -> Vec<i64> {
    let gross: i128 = prices.iter().map(|&p| i128::from(p)).sum();
    let mut shares = Vec::with_capacity(prices.len());
    let mut given: i64 = 0;
    for (index, price) in prices.iter().enumerate() {
        let share = if index + 1 == prices.len() {
            paid - given
        } else if gross == 0 {
            0
        } else {
            i64::try_from(i128::from(paid) * i128::from(*price) / gross).unwrap_or(0)
        };
        given += share;
        shares.push(share);
    }
    shares
}

use crate::{
    Aggregate, CustomerId, DomainError, HoldId, Money, OrderId, SeatId, Timestamp, WaitlistEntryId,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use uuid::Uuid;

/// One seat of the hall's layout as the show was scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SeatSpec {
    pub seat_id: SeatId,
    pub row: String,
    pub number: u32,
    pub category: String,
    /// Where the seat is drawn in its row (1-based, counting gaps and aisles); absent for
    /// layouts given seat by seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// A wheelchair space or a companion seat beside one; absent for ordinary seats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SeatKind>,
}

/// Seats that are more than a place to sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeatKind {
    /// A space for a wheelchair user.
    Wheelchair,
    /// A seat for the companion of the wheelchair user beside it.
    Companion,
}

impl SeatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wheelchair => "wheelchair",
            Self::Companion => "companion",
        }
    }
}

/// What a show is, fixed when it was scheduled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowInfo {
    pub show_id: Uuid,
    pub movie_id: Uuid,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// The layout as scheduled, shared with the `ShowScheduled` event it came from and with
    /// every other show of an equal layout.
    pub layout: Layout,
    pub prices: BTreeMap<String, Money>,
    /// The other ticket types' prices: type, then category.
    pub ticket_prices: BTreeMap<String, BTreeMap<String, Money>>,
    pub hold_ttl_seconds: u32,
    pub expiry_grace_seconds: u32,
    pub max_holds_per_customer: u32,
    pub waitlist_max_wait_seconds: u32,
    pub refund_policy: Option<RefundPolicy>,
    /// How the accessible seats are kept back (none: they are not).
    pub accessible_seating: Option<AccessibleSeating>,
    pub venue: Option<Venue>,
}

/// The standard ticket type: the show's `prices`. Every seat held without a type is one.
pub const ADULT: &str = "adult";

impl ShowInfo {
    /// The price of a ticket of `ticket_type` on a seat of `category`, if the show sells
    /// that type there.
    pub fn price(&self, category: &str, ticket_type: &str) -> Option<&Money> {
        if ticket_type == ADULT {
            self.prices.get(category)
        } else {
            self.ticket_prices.get(ticket_type)?.get(category)
        }
    }

    /// Refuses what may only be done before the show starts.
    fn before_start(&self, now: Timestamp) -> Result<(), DomainError> {
        if now >= self.starts_at {
            return Err(DomainError::ShowStarted);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatStatus {
    Available,
    Held(HoldId),
    Sold(OrderId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldStatus {
    Active,
    Released,
    Expired,
    Confirmed(OrderId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub customer_id: CustomerId,
    pub seats: Vec<SeatId>,
    pub total: Money,
    pub expires_at: Timestamp,
    pub status: HoldStatus,
    pub discount: Option<AppliedDiscount>,
    /// Provider payments started for it, with their amounts.
    pub payments: BTreeMap<Uuid, Money>,
    /// Seats held as a ticket type other than `adult`.
    pub ticket_types: BTreeMap<SeatId, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub customer_id: CustomerId,
    /// Seats the order still owns (refunded seats are removed).
    pub seats: BTreeSet<SeatId>,
    pub total: Money,
    pub refunded: Money,
    /// What the refund policy kept of the seats refunded (their price less `refunded`).
    pub fees: Money,
    /// The provider payment that paid it (none: paid at the counter).
    pub payment_id: Option<Uuid>,
    /// What each seat it owns counts as paid (its share of a discount taken off), in minor
    /// units: what refunding it gives back before any fee.
    pub seat_paid: BTreeMap<SeatId, i64>,
    /// What the customer shows at the door instead of a QR code (see [`pickup_code`]).
    pub pickup_code: Option<String>,
    /// Seats it owns as a ticket type other than `adult` (an exchanged seat keeps its type).
    pub ticket_types: BTreeMap<SeatId, String>,
}

impl Order {
    /// The ticket type of a seat of the order.
    pub fn ticket_type(&self, seat: &SeatId) -> &str {
        self.ticket_types.get(seat).map_or(ADULT, String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitlistStatus {
    Waiting,
    Offered(HoldId),
    Ended,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistEntry {
    pub entry_id: WaitlistEntryId,
    pub customer_id: CustomerId,
    pub count: u32,
    pub category: Option<String>,
    pub joined_at: Timestamp,
    pub status: WaitlistStatus,
}

/// The state of one show, rebuilt by folding its events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Show {
    info: Option<ShowInfo>,
    /// Each seat's status, by its ordinal in the layout: an index into `statuses`.
    seats: Vec<u32>,
    /// The statuses seats are in, each kept once for all the seats one fact gave it (so a
    /// seat costs four bytes, not a copy of a hold or order id): `Available` first.
    statuses: Vec<SeatStatus>,
    /// Every hold ever made here (ended ones stay, to answer late commands about them),
    /// shared: a copy of the show (an auditor's snapshot, a writer's state kept across a
    /// retry) copies the map, not the holds.
    holds: BTreeMap<HoldId, Arc<Hold>>,
    /// The holds still active: what deciding a hold or cancelling the show looks at,
    /// however many holds ended before.
    active: BTreeSet<HoldId>,
    /// How many holds ended, by how.
    ended: HoldsEnded,
    orders: BTreeMap<OrderId, Order>,
    /// Every entry in the order it joined (ended ones stay, for lookups).
    waitlist: Vec<WaitlistEntry>,
    /// The entry each offered hold was made for.
    offers: BTreeMap<HoldId, WaitlistEntryId>,
    /// The hold each provider payment was started for.
    payments: BTreeMap<Uuid, HoldId>,
    /// Exchanges to other shows that took seats out of orders here, until reverted.
    transfers: BTreeMap<Uuid, OrderTransferredOut>,
    /// Exchanges from other shows that made orders here.
    transfers_in: BTreeMap<Uuid, OrderId>,
    /// The ticket history of every seat ever sold.
    tickets: BTreeMap<SeatId, tickets::SeatTickets>,
    cancelled: bool,
    /// Whether the kept accessible seats were released (see [`accessible`]).
    accessible_released: bool,
    /// Seats other than wheelchair spaces and companion seats that are not sold: when none
    /// is left, kept accessible seats may be released.
    ordinary_unsold: usize,
    /// The on-sale whose waiting room a hold must come through, while there is one (see
    /// [`onsale`]).
    queued: Option<onsale::Queued>,
    /// On-sales whose queue was lifted here: never set again.
    lifted: Vec<Uuid>,
}

/// How many holds ended, by how (a hold that expired and was then paid late counts as
/// confirmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldsEnded {
    pub released: u64,
    pub expired: u64,
    pub confirmed: u64,
}

impl HoldsEnded {
    fn count(&mut self, status: &HoldStatus) -> Option<&mut u64> {
        match status {
            HoldStatus::Active => None,
            HoldStatus::Released => Some(&mut self.released),
            HoldStatus::Expired => Some(&mut self.expired),
            HoldStatus::Confirmed(_) => Some(&mut self.confirmed),
        }
    }
}

/// How many seats are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatCounts {
    pub available: usize,
    pub held: usize,
    pub sold: usize,
}

impl Show {
    /// Folds a whole stream.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a ShowEvent>) -> Self {
        events.into_iter().fold(Self::default(), Self::evolve)
    }

    pub fn info(&self) -> Option<&ShowInfo> {
        self.info.as_ref()
    }

    pub fn is_scheduled(&self) -> bool {
        self.info.is_some()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// The status of every seat, in layout order.
    pub fn seat_statuses(&self) -> impl Iterator<Item = (&SeatSpec, SeatStatus)> {
        let layout = self.info.as_ref().map(|i| &i.layout[..]).unwrap_or(&[]);
        layout
            .iter()
            .zip(&self.seats)
            .map(|(spec, &status)| (spec, self.statuses[status as usize]))
    }

    pub fn seat_status(&self, seat: &SeatId) -> Option<SeatStatus> {
        let ordinal = self.info.as_ref()?.layout.ordinal(seat)?;
        Some(self.statuses[self.seats[ordinal] as usize])
    }

    /// Whether any seat is free (slot 0 of `statuses` is `Available`).
    pub(crate) fn any_seat_available(&self) -> bool {
        self.seats.contains(&0)
    }

    pub fn counts(&self) -> SeatCounts {
        let mut counts = SeatCounts::default();
        for &status in &self.seats {
            match self.statuses[status as usize] {
                SeatStatus::Available => counts.available += 1,
                SeatStatus::Held(_) => counts.held += 1,
                SeatStatus::Sold(_) => counts.sold += 1,
            }
        }
        counts
    }

    pub fn hold(&self, hold_id: &HoldId) -> Option<&Hold> {
        self.holds.get(hold_id).map(|hold| &**hold)
    }

    /// Every hold ever made here, ended ones included.
    pub fn holds(&self) -> impl Iterator<Item = (&HoldId, &Hold)> {
        self.holds.iter().map(|(hold_id, hold)| (hold_id, &**hold))
    }

    /// The holds still active, in id order.
    pub fn active_holds(&self) -> impl Iterator<Item = (&HoldId, &Hold)> {
        self.active
            .iter()
            .filter_map(|hold_id| Some((hold_id, self.hold(hold_id)?)))
    }

    pub fn holds_ended(&self) -> HoldsEnded {
        self.ended
    }

    pub fn order(&self, order_id: &OrderId) -> Option<&Order> {
        self.orders.get(order_id)
    }

    pub fn orders(&self) -> impl Iterator<Item = (&OrderId, &Order)> {
        self.orders.iter()
    }

    /// The valid ticket of a seat: none unless it is sold.
    pub fn ticket(&self, seat: &SeatId) -> Option<&Ticket> {
        self.tickets.get(seat)?.current.as_ref()
    }

    /// The valid tickets of an order, by seat.
    pub fn tickets_of<'a>(
        &'a self,
        order_id: &'a OrderId,
    ) -> impl Iterator<Item = (&'a SeatId, &'a Ticket)> + 'a {
        let seats = self.orders.get(order_id).map(|o| &o.seats);
        seats
            .into_iter()
            .flatten()
            .filter_map(|seat| Some((seat, self.ticket(seat)?)))
    }

    /// The pickup code the next order here gets.
    pub(crate) fn next_pickup_code(&self, order_id: &OrderId) -> String {
        let day_number = self.venue().and_then(|v| v.day_number).unwrap_or(0);
        pickup_code(day_number, self.orders.len() + 1, order_id)
    }

    /// How long after a hold's expiry the server waits before it may expire it.
    pub fn grace(&self) -> chrono::Duration {
        let seconds = self.info.as_ref().map_or(0, |i| i.expiry_grace_seconds);
        chrono::Duration::seconds(i64::from(seconds))
    }

    /// The customer's holds that still count: active and not past expiry plus grace.
    pub fn active_holds_of<'a>(
        &'a self,
        customer: &'a CustomerId,
        now: Timestamp,
    ) -> impl Iterator<Item = (&'a HoldId, &'a Hold)> + 'a {
        let grace = self.grace();
        self.active_holds()
            .filter(move |(_, hold)| &hold.customer_id == customer && now < hold.expires_at + grace)
    }

    /// A transfer of seats out of an order here, not reverted.
    pub fn transfer(&self, exchange_id: &Uuid) -> Option<&OrderTransferredOut> {
        self.transfers.get(exchange_id)
    }

    /// The order an exchange from another show made here.
    pub fn transferred_in(&self, exchange_id: &Uuid) -> Option<&OrderId> {
        self.transfers_in.get(exchange_id)
    }

    /// The hall it plays in, if scheduled from the catalogue.
    pub fn venue(&self) -> Option<&Venue> {
        self.info.as_ref()?.venue.as_ref()
    }

    /// The hold a provider payment was started for.
    pub fn hold_of_payment(&self, payment_id: &Uuid) -> Option<(&HoldId, &Hold)> {
        let hold_id = self.payments.get(payment_id)?;
        Some((hold_id, self.hold(hold_id)?))
    }

    /// The waiting list in joining order, ended entries included.
    pub fn waitlist(&self) -> &[WaitlistEntry] {
        &self.waitlist
    }

    pub fn waitlist_entry(&self, entry_id: &WaitlistEntryId) -> Option<&WaitlistEntry> {
        self.waitlist.iter().find(|e| &e.entry_id == entry_id)
    }

    /// The entry a hold was offered to, if it was an offer.
    pub fn offer_of(&self, hold_id: &HoldId) -> Option<&WaitlistEntryId> {
        self.offers.get(hold_id)
    }

    fn end_entry(&mut self, entry_id: &WaitlistEntryId) {
        if let Some(entry) = self.waitlist.iter_mut().find(|e| &e.entry_id == entry_id) {
            entry.status = WaitlistStatus::Ended;
        }
    }

    /// The price of a ticket of `ticket_type` on `seat`, if the show sells that type there.
    pub(crate) fn price_of(&self, seat: &SeatId, ticket_type: &str) -> Option<&Money> {
        let info = self.info.as_ref()?;
        info.price(&info.layout.spec(seat)?.category, ticket_type)
    }

    /// Shares `paid` out over `seats` in proportion to their prices as `ticket_types` (the
    /// seats not named are `adult`; see [`share_out`]).
    pub(crate) fn split(
        &self,
        seats: &[SeatId],
        ticket_types: &BTreeMap<SeatId, String>,
        paid: i64,
    ) -> BTreeMap<SeatId, i64> {
        let prices: Vec<i64> = seats
            .iter()
            .map(|s| {
                let ticket_type = ticket_types.get(s).map_or(ADULT, String::as_str);
                self.price_of(s, ticket_type).map_or(0, |p| p.amount_minor)
            })
            .collect();
        seats
            .iter()
            .cloned()
            .zip(share_out(&prices, paid))
            .collect()
    }

    /// Sets seats' status; a seat sold gets its next ticket, any other loses its ticket.
    fn set_seats(&mut self, seats: &[SeatId], status: SeatStatus) {
        let Some(info) = self.info.as_ref() else {
            return;
        };
        // Only the newest statuses are looked for: a fact's seats that are already in this
        // status got it from a fact just before (a hold's seats, then its order's).
        let recent = self.statuses.len().saturating_sub(8).max(1);
        let slot = if status == SeatStatus::Available {
            0
        } else if let Some(slot) = self.statuses[recent..].iter().rposition(|s| *s == status) {
            (recent + slot) as u32
        } else {
            self.statuses.push(status);
            (self.statuses.len() - 1) as u32
        };
        for seat in seats {
            if let Some(ordinal) = info.layout.ordinal(seat) {
                let ordinary = !accessible::is_accessible(&info.layout[ordinal]);
                let was_sold = matches!(
                    self.statuses[self.seats[ordinal] as usize],
                    SeatStatus::Sold(_)
                );
                let sold = matches!(status, SeatStatus::Sold(_));
                if ordinary && was_sold != sold {
                    self.ordinary_unsold = if sold {
                        self.ordinary_unsold.saturating_sub(1)
                    } else {
                        self.ordinary_unsold + 1
                    };
                }
                self.seats[ordinal] = slot;
            }
            match status {
                SeatStatus::Sold(order_id) => {
                    let history = self.tickets.entry(seat.clone()).or_default();
                    history.issued += 1;
                    history.current = Some(Ticket {
                        ticket_id: ticket_id(&order_id, seat),
                        order_id,
                        version: history.issued,
                        checked_in: None,
                    });
                }
                SeatStatus::Available | SeatStatus::Held(_) => {
                    if let Some(history) = self.tickets.get_mut(seat) {
                        history.current = None;
                    }
                }
            }
        }
    }

    /// Seats leave an order (refunded, or transferred to another show): they are free again
    /// and no longer count as the order's. Returns the order, if it exists.
    fn leave_order(&mut self, order_id: &OrderId, seats: &[SeatId]) -> Option<&mut Order> {
        self.set_seats(seats, SeatStatus::Available);
        let order = self.orders.get_mut(order_id)?;
        for seat in seats {
            order.seats.remove(seat);
            order.seat_paid.remove(seat);
            order.ticket_types.remove(seat);
        }
        Some(order)
    }

    fn end_hold(&mut self, hold_id: &HoldId, status: HoldStatus) {
        if let Some(hold) = self.holds.get_mut(hold_id) {
            match self.ended.count(&hold.status) {
                Some(count) => *count -= 1,
                None => {
                    self.active.remove(hold_id);
                }
            }
            if let Some(count) = self.ended.count(&status) {
                *count += 1;
            }
            Arc::make_mut(hold).status = status;
        }
    }

    /// Applies one fact. Never fails: facts were checked when they were decided.
    pub fn evolve(mut self, event: &ShowEvent) -> Self {
        match event {
            ShowEvent::ShowScheduled(e) => {
                self.seats = vec![0; e.seats.len()];
                self.statuses = vec![SeatStatus::Available];
                self.info = Some(ShowInfo {
                    show_id: e.show_id,
                    movie_id: e.movie_id,
                    title: e.title.clone(),
                    starts_at: e.starts_at,
                    ends_at: e.ends_at,
                    layout: e.seats.clone(),
                    prices: e.prices.clone(),
                    ticket_prices: e.ticket_prices.clone(),
                    hold_ttl_seconds: e.hold_ttl_seconds,
                    expiry_grace_seconds: e.expiry_grace_seconds,
                    max_holds_per_customer: e.max_holds_per_customer,
                    waitlist_max_wait_seconds: e.waitlist_max_wait_seconds,
                    refund_policy: e.refund_policy,
                    accessible_seating: e.accessible_seating,
                    venue: e.venue.clone(),
                });
                self.ordinary_unsold = e
                    .seats
                    .iter()
                    .filter(|spec| !accessible::is_accessible(spec))
                    .count();
            }
            ShowEvent::SeatsHeld(e) => {
                self.set_seats(&e.seats, SeatStatus::Held(e.hold_id));
                self.active.insert(e.hold_id);
                self.holds.insert(
                    e.hold_id,
                    Arc::new(Hold {
                        customer_id: e.customer_id.clone(),
                        seats: e.seats.clone(),
                        total: e.total.clone(),
                        expires_at: e.expires_at,
                        status: HoldStatus::Active,
                        discount: e.discount.clone(),
                        payments: BTreeMap::new(),
                        ticket_types: e.ticket_types.clone(),
                    }),
                );
            }
            ShowEvent::PaymentRequested(e) => {
                self.payments.insert(e.payment_id, e.hold_id);
                if let Some(hold) = self.holds.get_mut(&e.hold_id) {
                    Arc::make_mut(hold)
                        .payments
                        .insert(e.payment_id, e.amount.clone());
                }
            }
            ShowEvent::PaymentRefused(_) => {}
            ShowEvent::OrderTransferredOut(e) => {
                self.leave_order(&e.order_id, &e.seats);
                self.transfers.insert(e.exchange_id, e.clone());
            }
            ShowEvent::TransferReverted(e) => {
                self.set_seats(&e.seats, SeatStatus::Sold(e.order_id));
                self.transfers.remove(&e.exchange_id);
                if let Some(order) = self.orders.get_mut(&e.order_id) {
                    for (seat, paid) in e.seats.iter().zip(&e.paid_minor) {
                        order.seats.insert(seat.clone());
                        order.seat_paid.insert(seat.clone(), *paid);
                    }
                    order.ticket_types.extend(e.ticket_types.clone());
                }
            }
            ShowEvent::OrderTransferredIn(e) => {
                self.transfers_in.insert(e.exchange_id, e.order_id);
            }
            ShowEvent::SeatsExchanged(e) => {
                for seat_move in &e.moves {
                    self.set_seats(std::slice::from_ref(&seat_move.from), SeatStatus::Available);
                    self.set_seats(
                        std::slice::from_ref(&seat_move.to),
                        SeatStatus::Sold(e.order_id),
                    );
                }
                if let Some(order) = self.orders.get_mut(&e.order_id) {
                    for seat_move in &e.moves {
                        order.seats.remove(&seat_move.from);
                        order.seat_paid.remove(&seat_move.from);
                        order.ticket_types.remove(&seat_move.from);
                        if let Some(ticket_type) = &seat_move.ticket_type {
                            order
                                .ticket_types
                                .insert(seat_move.to.clone(), ticket_type.clone());
                        }
                        order.seats.insert(seat_move.to.clone());
                        order
                            .seat_paid
                            .insert(seat_move.to.clone(), seat_move.paid_minor);
                    }
                    order.total.amount_minor += e.charge.amount_minor;
                    order.refunded.amount_minor += e.refund.amount_minor;
                }
            }
            ShowEvent::HoldReleased(e) => {
                self.set_seats(&e.seats, SeatStatus::Available);
                self.end_hold(&e.hold_id, HoldStatus::Released);
            }
            ShowEvent::HoldExpired(e) => {
                self.set_seats(&e.seats, SeatStatus::Available);
                self.end_hold(&e.hold_id, HoldStatus::Expired);
            }
            ShowEvent::HoldConfirmed(e) => {
                self.set_seats(&e.seats, SeatStatus::Sold(e.order_id));
                self.end_hold(&e.hold_id, HoldStatus::Confirmed(e.order_id));
                let seat_paid = self.split(&e.seats, &e.ticket_types, e.total.amount_minor);
                self.orders.insert(
                    e.order_id,
                    Order {
                        customer_id: e.customer_id.clone(),
                        seats: e.seats.iter().cloned().collect(),
                        total: e.total.clone(),
                        refunded: Money::zero(e.total.currency.clone()),
                        fees: Money::zero(e.total.currency.clone()),
                        payment_id: e.payment_id,
                        seat_paid,
                        pickup_code: e.pickup_code.clone(),
                        ticket_types: e.ticket_types.clone(),
                    },
                );
            }
            ShowEvent::OrderRefunded(e) => {
                if let Some(order) = self.leave_order(&e.order_id, &e.seats) {
                    order.refunded.amount_minor += e.amount.amount_minor;
                    order.fees.amount_minor += e.fee.as_ref().map_or(0, |fee| fee.amount_minor);
                }
            }
            ShowEvent::WaitlistJoined(e) => self.waitlist.push(WaitlistEntry {
                entry_id: e.entry_id,
                customer_id: e.customer_id.clone(),
                count: e.count,
                category: e.category.clone(),
                joined_at: e.joined_at,
                status: WaitlistStatus::Waiting,
            }),
            ShowEvent::WaitlistOffered(e) => {
                self.offers.insert(e.hold_id, e.entry_id);
                if let Some(entry) = self.waitlist.iter_mut().find(|x| x.entry_id == e.entry_id) {
                    entry.status = WaitlistStatus::Offered(e.hold_id);
                }
            }
            ShowEvent::WaitlistLeft(e) => self.end_entry(&e.entry_id),
            ShowEvent::WaitlistClosed(e) => self.end_entry(&e.entry_id),
            ShowEvent::ShowCancelled(_) => self.cancelled = true,
            ShowEvent::AccessibleSeatsReleased(_) => self.accessible_released = true,
            ShowEvent::OnSaleQueueSet(e) => {
                self.queued = Some(onsale::Queued {
                    onsale_id: e.onsale_id,
                    opens_at: e.opens_at,
                });
            }
            ShowEvent::OnSaleQueueLifted(e) => {
                self.queued = None;
                self.lifted.push(e.onsale_id);
            }
            ShowEvent::TicketsCheckedIn(e) => {
                for admitted in &e.tickets {
                    let ticket = self
                        .tickets
                        .get_mut(&admitted.seat_id)
                        .and_then(|t| t.current.as_mut());
                    if let Some(ticket) = ticket {
                        ticket.checked_in = Some(CheckedIn {
                            at: e.checked_in_at,
                            door: e.door.clone(),
                        });
                    }
                }
            }
        }
        self
    }
}

/// The show in the shape every aggregate shares, so its stream folds like any other. The
/// writers keep calling the consuming [`Show::evolve`] directly: it moves the state instead
/// of borrowing it.
impl Aggregate for Show {
    type Command = ShowCommand;
    type Event = ShowEvent;

    fn evolve(&mut self, event: &ShowEvent) {
        *self = std::mem::take(self).evolve(event);
    }

    fn decide(&self, command: &ShowCommand, now: Timestamp) -> Result<Vec<ShowEvent>, DomainError> {
        decide(self, command, now)
    }
}
