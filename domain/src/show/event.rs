//! Events of the show stream: facts in the past tense.
//!
//! Each event is stored as its type name, a schema version and its JSON body, through
//! [`StoredEvent`](crate::StoredEvent). A stored event must stay readable for ever: when a
//! body changes shape, bump its schema version and keep reading the old one (upcasting: the
//! `stored_events!` impl below then gives way to a hand-written one), and never rename a type.

use crate::aggregate::stored_events;
use crate::payment::PaymentMethod;
use crate::promo::PromoCode;
use crate::{
    CinemaId, CustomerId, HallId, HoldId, Money, OrderId, RefundId, SeatId, Timestamp,
    WaitlistEntryId,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::{AccessibleSeating, Layout};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowScheduled {
    pub show_id: Uuid,
    pub movie_id: Uuid,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// The hall's layout at scheduling time: later hall edits never change this show.
    /// Shared with the aggregate built from it and with every show of an equal layout (a
    /// layout never changes once scheduled).
    pub seats: Layout,
    /// Price per seat category: the standard (`adult`) ticket's.
    pub prices: BTreeMap<String, Money>,
    /// The other ticket types' prices (`child`, `student`, ...): type, then category. A type
    /// without a price for a category cannot be had on its seats. Absent in events written
    /// before ticket types: every seat is `adult`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ticket_prices: BTreeMap<String, BTreeMap<String, Money>>,
    /// How long a hold lasts, and the extra time the server waits before expiring it.
    pub hold_ttl_seconds: u32,
    pub expiry_grace_seconds: u32,
    /// Active holds one customer may have at once (absent in the earliest events: 1).
    #[serde(default = "one")]
    pub max_holds_per_customer: u32,
    /// How long a waiting-list entry may wait for an offer (absent in the earliest: 1 h).
    #[serde(default = "an_hour")]
    pub waitlist_max_wait_seconds: u32,
    /// The cinema hall it plays in, when scheduled from the catalogue (absent for shows
    /// scheduled with an inline layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<Venue>,
    /// What customers get back when they return tickets (absent: everything, until the
    /// show starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_policy: Option<RefundPolicy>,
    /// How its wheelchair spaces and companion seats are kept for those who need them
    /// (absent: nothing kept back, as for every show scheduled before the rule existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessible_seating: Option<AccessibleSeating>,
}

/// A cinema's refund policy, copied into each show when it is scheduled: a full refund
/// until `full_refund_until_minutes` before the start, then the price less `fee_percent`
/// until the start, nothing after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundPolicy {
    /// Minutes before the start until which a refund is in full (at most 30 days).
    pub full_refund_until_minutes: u32,
    /// Percent of the price kept as a fee closer to the start (0 to 100).
    pub fee_percent: u32,
}

impl RefundPolicy {
    pub fn validate(&self, field: &str) -> Result<(), crate::DomainError> {
        let mut problems = crate::error::Problems::default();
        problems.check(
            self.full_refund_until_minutes <= 30 * 24 * 60,
            format!("{field}.full_refund_until_minutes"),
            "must be at most 43200 (30 days)",
        );
        problems.check(
            self.fee_percent <= 100,
            format!("{field}.fee_percent"),
            "must be 0 to 100",
        );
        problems.into_result()
    }
}

/// Where a show scheduled from the catalogue plays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Venue {
    pub cinema_id: CinemaId,
    pub hall_id: HallId,
    /// The show's number among its cinema's shows of the day, which starts its pickup codes
    /// (absent for shows booked before numbers existed: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_number: Option<u32>,
}

/// The show's wheelchair spaces and companion seats, kept back until now for those who
/// need them, may be sold to anyone from here on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessibleSeatsReleased {
    pub show_id: Uuid,
    pub reason: AccessibleRelease,
    pub released_at: Timestamp,
}

/// Staff put the show under an on-sale's waiting room: from here on a customer's hold needs
/// an admission from that on-sale's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnSaleQueueSet {
    pub show_id: Uuid,
    pub onsale_id: Uuid,
    /// When the on-sale opens (the queue admits nobody before).
    pub opens_at: Timestamp,
    pub set_at: Timestamp,
}

/// The show's waiting room was lifted: holds need no admission any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnSaleQueueLifted {
    pub show_id: Uuid,
    pub onsale_id: Uuid,
    pub lifted_at: Timestamp,
}

/// Why kept accessible seats were released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessibleRelease {
    /// The show's release time (so many hours before the start) came.
    ReleaseTime,
    /// Every other seat was sold.
    RestSold,
    /// Staff released them.
    Staff,
}

impl AccessibleRelease {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReleaseTime => "release_time",
            Self::RestSold => "rest_sold",
            Self::Staff => "staff",
        }
    }
}

/// Staff cancelled the show: its active holds were released, its waiting list closed and
/// every order refunded in full (by the events just before this one); nothing more can be
/// held or paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowCancelled {
    pub show_id: Uuid,
    pub reason: String,
    pub cancelled_at: Timestamp,
}

fn one() -> u32 {
    1
}

fn an_hour() -> u32 {
    3600
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatsHeld {
    pub hold_id: HoldId,
    pub customer_id: CustomerId,
    pub seats: Vec<SeatId>,
    pub total: Money,
    pub held_at: Timestamp,
    /// The expiry the client is told; the server expires the hold only after the grace.
    pub expires_at: Timestamp,
    /// A promo code's discount, already taken off `total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<AppliedDiscount>,
    /// The ticket type of each seat that is not `adult` (`{"A2": "child"}`), priced so.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ticket_types: BTreeMap<SeatId, String>,
    /// While the show was under an on-sale's waiting room: what let the hold through (the
    /// room's admission and until when it was valid, or staff at the counter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<super::Admission>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AppliedDiscount {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: PromoCode,
    pub amount: Money,
}

/// The customer started paying for a hold through the payment provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequested {
    pub hold_id: HoldId,
    pub payment_id: Uuid,
    pub customer_id: CustomerId,
    pub method: PaymentMethod,
    pub amount: Money,
    pub requested_at: Timestamp,
}

/// A provider payment succeeded but could not buy its hold's seats (they were sold after
/// the hold lapsed, the hold was already paid, or the show is off): it is to be refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRefused {
    pub hold_id: HoldId,
    pub payment_id: Uuid,
    /// The refund that pays it back.
    pub refund_id: RefundId,
    pub customer_id: CustomerId,
    pub amount: Money,
    pub reason: PaymentRefusal,
    /// With `seats_taken`: which seats were gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable_seats: Vec<SeatId>,
    pub refused_at: Timestamp,
}

/// Why a provider payment could not buy its hold's seats; it is refunded in full either way.
/// Stored (and shown to clients) as the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentRefusal {
    /// The hold had lapsed and some of its seats were sold or held by someone else.
    SeatsTaken,
    /// The hold had already been paid, by another payment.
    HoldAlreadyPaid,
    /// The show was cancelled.
    ShowCancelled,
    /// The show had started.
    ShowStarted,
}

impl PaymentRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SeatsTaken => "seats_taken",
            Self::HoldAlreadyPaid => "hold_already_paid",
            Self::ShowCancelled => "show_cancelled",
            Self::ShowStarted => "show_started",
        }
    }
}

impl std::fmt::Display for PaymentRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seats of an order moved to other seats of the same show, the difference settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatsExchanged {
    pub order_id: OrderId,
    pub exchange_id: Uuid,
    pub customer_id: CustomerId,
    /// The provider payment the difference is settled through, if the order was paid so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Uuid>,
    pub moves: Vec<SeatMove>,
    /// What the customer pays more (dearer seats) ...
    pub charge: Money,
    /// ... or gets back (cheaper seats); at most one of the two is not zero.
    pub refund: Money,
    pub exchanged_at: Timestamp,
}

/// Seats left an order for another show of the same movie (an exchange across shows);
/// their paid value is the credit the new order there is paid with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderTransferredOut {
    pub order_id: OrderId,
    pub exchange_id: Uuid,
    pub customer_id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Uuid>,
    pub seats: Vec<SeatId>,
    /// What each seat counted as paid, in the order's currency's minor unit.
    pub paid_minor: Vec<i64>,
    pub credit: Money,
    pub movie_id: Uuid,
    pub to_show_id: Uuid,
    pub to_hold_id: HoldId,
    pub transferred_at: Timestamp,
    /// The seats' ticket types other than `adult`: the new show's seats take them, pairwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ticket_types: BTreeMap<SeatId, String>,
}

/// The other half: a hold of this show became an order paid by a credit from another show
/// (its `HoldConfirmed` comes just before), the difference settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderTransferredIn {
    pub order_id: OrderId,
    pub hold_id: HoldId,
    pub exchange_id: Uuid,
    pub customer_id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Uuid>,
    pub from_show_id: Uuid,
    pub from_order_id: OrderId,
    pub credit: Money,
    pub charge: Money,
    pub refund: Money,
    pub transferred_at: Timestamp,
}

/// An exchange across shows failed after the seats left this order: they came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferReverted {
    pub order_id: OrderId,
    pub exchange_id: Uuid,
    pub seats: Vec<SeatId>,
    pub paid_minor: Vec<i64>,
    pub credit: Money,
    pub reverted_at: Timestamp,
    /// The ticket types (other than `adult`) of the seats given back to the order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ticket_types: BTreeMap<SeatId, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatMove {
    pub from: SeatId,
    pub to: SeatId,
    /// What the new seat counts as paid, in the order's currency's minor unit.
    pub paid_minor: i64,
    /// The seat's ticket type when not `adult` (it keeps it on the new seat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldReleased {
    pub hold_id: HoldId,
    pub seats: Vec<SeatId>,
    pub released_at: Timestamp,
    /// The promo code whose use the hold held, to be given back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<PromoCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldExpired {
    pub hold_id: HoldId,
    pub seats: Vec<SeatId>,
    pub expired_at: Timestamp,
    /// The promo code whose use the hold held, to be given back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<PromoCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldConfirmed {
    pub hold_id: HoldId,
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub seats: Vec<SeatId>,
    pub total: Money,
    pub payment_reference: String,
    pub confirmed_at: Timestamp,
    /// The provider payment that paid it (absent for sales at the counter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Uuid>,
    /// Paid after the hold had lapsed, its seats still free.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_expiry: bool,
    /// What the customer types at the ticket machine or tells the door (absent for orders
    /// paid before pickup codes existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_code: Option<String>,
    /// The hold's ticket types (seats not named are `adult`), so the sale's prices can be
    /// told from this event and the show's price list alone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ticket_types: BTreeMap<SeatId, String>,
}

/// Tickets of one order let in at a door (a QR code admits its ticket, a pickup code
/// every ticket of the order not in yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsCheckedIn {
    pub order_id: OrderId,
    pub tickets: Vec<AdmittedTicket>,
    pub door: String,
    pub method: CheckInMethod,
    pub checked_in_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmittedTicket {
    pub ticket_id: Uuid,
    pub seat_id: SeatId,
    pub version: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckInMethod {
    Qr,
    PickupCode,
}

impl CheckInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qr => "qr",
            Self::PickupCode => "pickup_code",
        }
    }
}

/// How a confirmation paid by credit from another show names its payment:
/// `exchange:{exchange_id}`.
pub(crate) const TRANSFER_REFERENCE: &str = "exchange:";

impl HoldConfirmed {
    /// Whether the order was paid by the credit of seats given up on another show (an
    /// exchange between shows) rather than by a payment of its own.
    pub fn by_transfer(&self) -> bool {
        self.payment_reference.starts_with(TRANSFER_REFERENCE)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRefunded {
    pub order_id: OrderId,
    pub refund_id: RefundId,
    pub customer_id: CustomerId,
    pub seats: Vec<SeatId>,
    pub amount: Money,
    /// True when no seat of the order is left after this refund.
    pub fully_refunded: bool,
    pub refunded_at: Timestamp,
    /// The fee kept under the show's refund policy (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Money>,
    #[serde(default)]
    pub reason: RefundReason,
    /// The provider payment to pay it back through (absent: at the counter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// The customer returned tickets (the policy's fee may apply).
    #[default]
    CustomerRequest,
    /// Staff refunded at the counter, in full.
    Staff,
    /// The show was cancelled: every order is refunded in full.
    ShowCancelled,
    /// An exchange to another show failed and the seats were sold meanwhile: the credit is
    /// refunded in full.
    ExchangeFailed,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerRequest => "customer_request",
            Self::Staff => "staff",
            Self::ShowCancelled => "show_cancelled",
            Self::ExchangeFailed => "exchange_failed",
        }
    }
}

/// A customer joined the waiting list for `count` seats (of `category`, if given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistJoined {
    pub entry_id: WaitlistEntryId,
    pub customer_id: CustomerId,
    pub count: u32,
    pub category: Option<String>,
    pub joined_at: Timestamp,
    /// Its place among the entries waiting when it joined (1 = next in line).
    pub place: u32,
    /// When it is closed if no offer has come by then.
    pub waits_until: Timestamp,
}

/// Seats came free and went to this entry: the hold (created by the `SeatsHeld` just before
/// this event, in the same decision) is the customer's to pay for until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistOffered {
    pub entry_id: WaitlistEntryId,
    pub hold_id: HoldId,
    pub seats: Vec<SeatId>,
    /// The hold's total, to pay before `expires_at`.
    pub total: Money,
    pub expires_at: Timestamp,
    pub offered_at: Timestamp,
}

/// The customer left the waiting list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistLeft {
    pub entry_id: WaitlistEntryId,
    pub left_at: Timestamp,
}

/// Why a waiting-list entry ended without the customer leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitlistCloseReason {
    /// The offer was paid for.
    Fulfilled,
    /// The offer's hold expired unpaid; its seats went on to the next entry.
    OfferExpired,
    /// The customer released the offered hold.
    OfferDeclined,
    /// It waited longer than the show allows without an offer.
    TimedOut,
    /// The show can no longer meet it: fewer unsold seats (of the category) than requested.
    CannotBeMet,
}

impl WaitlistCloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fulfilled => "fulfilled",
            Self::OfferExpired => "offer_expired",
            Self::OfferDeclined => "offer_declined",
            Self::TimedOut => "timed_out",
            Self::CannotBeMet => "cannot_be_met",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistClosed {
    pub entry_id: WaitlistEntryId,
    pub reason: WaitlistCloseReason,
    pub closed_at: Timestamp,
}

/// Everything that can happen to a show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowEvent {
    ShowScheduled(ShowScheduled),
    SeatsHeld(SeatsHeld),
    HoldReleased(HoldReleased),
    HoldExpired(HoldExpired),
    HoldConfirmed(HoldConfirmed),
    OrderRefunded(OrderRefunded),
    WaitlistJoined(WaitlistJoined),
    WaitlistOffered(WaitlistOffered),
    WaitlistLeft(WaitlistLeft),
    WaitlistClosed(WaitlistClosed),
    ShowCancelled(ShowCancelled),
    PaymentRequested(PaymentRequested),
    PaymentRefused(PaymentRefused),
    SeatsExchanged(SeatsExchanged),
    OrderTransferredOut(OrderTransferredOut),
    OrderTransferredIn(OrderTransferredIn),
    TransferReverted(TransferReverted),
    TicketsCheckedIn(TicketsCheckedIn),
    AccessibleSeatsReleased(AccessibleSeatsReleased),
    OnSaleQueueSet(OnSaleQueueSet),
    OnSaleQueueLifted(OnSaleQueueLifted),
}

stored_events!(ShowEvent, "not a show event", {
    ShowScheduled,
    SeatsHeld,
    HoldReleased,
    HoldExpired,
    HoldConfirmed,
    OrderRefunded,
    WaitlistJoined,
    WaitlistOffered,
    WaitlistLeft,
    WaitlistClosed,
    ShowCancelled,
    PaymentRequested,
    PaymentRefused,
    SeatsExchanged,
    OrderTransferredOut,
    OrderTransferredIn,
    TransferReverted,
    TicketsCheckedIn,
    AccessibleSeatsReleased,
    OnSaleQueueSet,
    OnSaleQueueLifted,
});
