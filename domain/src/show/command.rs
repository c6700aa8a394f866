//! Commands the show aggregate decides. Ids of things a command creates (holds, orders,
//! refunds) are chosen by the caller, so a retried command can be recognised.

use crate::{CustomerId, HoldId, Money, OrderId, RefundId, SeatId, Timestamp, WaitlistEntryId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::{AccessibleSeating, Admission, Door, Presented, RefundPolicy, SeatSpec, Venue};
use crate::payment::PaymentMethod;
use crate::promo::PromoOffer;

/// Who asks: a customer may act only on their own holds and orders; staff and the system
/// (expiry) act on anyone's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Requester {
    Customer(CustomerId),
    Staff,
}

impl Requester {
    pub(crate) fn may_act_for(&self, owner: &CustomerId) -> bool {
        match self {
            Self::Customer(customer) => customer == owner,
            Self::Staff => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShowCommand {
    ScheduleShow {
        show_id: Uuid,
        movie_id: Uuid,
        title: String,
        starts_at: Timestamp,
        ends_at: Timestamp,
        seats: Vec<SeatSpec>,
        prices: BTreeMap<String, Money>,
        /// The other ticket types' prices: type, then category (see `ShowScheduled`).
        ticket_prices: BTreeMap<String, BTreeMap<String, Money>>,
        hold_ttl_seconds: u32,
        expiry_grace_seconds: u32,
        /// Active holds one customer may have on this show at once.
        max_holds_per_customer: u32,
        /// How long a waiting-list entry may wait for an offer.
        waitlist_max_wait_seconds: u32,
        /// The hall it plays in, when scheduled from the catalogue.
        venue: Option<Venue>,
        /// The cinema's refund policy (absent: a full refund until the start).
        refund_policy: Option<RefundPolicy>,
        /// How the accessible seats are kept for those who need them (absent: not kept).
        accessible_seating: Option<AccessibleSeating>,
    },
    /// Staff call the show off: active holds are released, the waiting list closed, and
    /// nothing more can be held or paid.
    CancelShow {
        reason: String,
    },
    HoldSeats {
        hold_id: HoldId,
        customer_id: CustomerId,
        seats: Vec<SeatId>,
        /// The ticket type of each seat that is not `adult`.
        ticket_types: BTreeMap<SeatId, String>,
        /// A promo code use reserved for this hold.
        promo: Option<PromoOffer>,
        /// For a wheelchair user: may take kept wheelchair spaces and companion seats.
        accessible: bool,
        /// Why the hold may be made while the show sells through a waiting room.
        admission: Option<Admission>,
    },
    /// Holds the best `count` adjacent seats in one row (of `category`, if given).
    HoldBestAvailable {
        hold_id: HoldId,
        customer_id: CustomerId,
        count: u32,
        category: Option<String>,
        /// How many of the seats are of each ticket type other than `adult` (the block's
        /// first seats get them, in the types' order; the rest are `adult`).
        ticket_types: BTreeMap<String, u32>,
        promo: Option<PromoOffer>,
        /// Why the hold may be made while the show sells through a waiting room.
        admission: Option<Admission>,
    },
    /// Queues for `count` seats (of `category`): offered first-come-first-served as seats
    /// come free.
    JoinWaitlist {
        entry_id: WaitlistEntryId,
        customer_id: CustomerId,
        count: u32,
        category: Option<String>,
    },
    LeaveWaitlist {
        entry_id: WaitlistEntryId,
        requester: Requester,
    },
    /// Ends an entry that has waited longer than the show allows (the system sends it).
    ExpireWaitlistEntry {
        entry_id: WaitlistEntryId,
    },
    ReleaseHold {
        hold_id: HoldId,
        requester: Requester,
    },
    ExpireHold {
        hold_id: HoldId,
    },
    ConfirmPayment {
        hold_id: HoldId,
        order_id: OrderId,
        requester: Requester,
        payment_reference: String,
        amount: Money,
    },
    /// The customer starts paying for a hold through the payment provider.
    RequestPayment {
        hold_id: HoldId,
        payment_id: Uuid,
        requester: Requester,
        method: PaymentMethod,
    },
    /// The provider says payment `payment_id` succeeded: its hold becomes order `order_id`;
    /// if the hold lapsed and its seats are gone (or it was paid already), the payment is
    /// refused, to be refunded.
    SettlePayment {
        payment_id: Uuid,
        order_id: OrderId,
    },
    /// Moves seats of an order to other free seats of the show, pairwise (`give_back[i]`
    /// becomes `take[i]`), settling the price difference.
    ExchangeSeats {
        order_id: OrderId,
        exchange_id: Uuid,
        requester: Requester,
        give_back: Vec<SeatId>,
        take: Vec<SeatId>,
    },
    /// Step 2 of an exchange to another show of the same movie (step 1 held the new seats
    /// there): these seats leave the order, their paid value becomes a credit.
    TransferOut {
        order_id: OrderId,
        exchange_id: Uuid,
        requester: Requester,
        seats: Vec<SeatId>,
        to_show_id: Uuid,
        to_hold_id: HoldId,
    },
    /// Step 3, on the other show: the held seats become an order paid by the credit, the
    /// difference settled.
    TransferIn {
        hold_id: HoldId,
        order_id: OrderId,
        exchange_id: Uuid,
        customer_id: CustomerId,
        from_show_id: Uuid,
        from_order_id: OrderId,
        movie_id: Uuid,
        credit: Money,
        payment_id: Option<Uuid>,
        /// The ticket type of each seat given up, in order (`adult` when it had none).
        ticket_types: Vec<String>,
    },
    /// Undoes step 2 when step 3 failed: the seats go back to the order if still free,
    /// else the credit is refunded.
    RevertTransferOut {
        exchange_id: Uuid,
    },
    RefundOrder {
        order_id: OrderId,
        refund_id: RefundId,
        requester: Requester,
        /// `None` refunds every seat the order still owns.
        seats: Option<Vec<SeatId>>,
    },
    /// Door staff let in a ticket (or an order's tickets, by pickup code).
    CheckIn {
        presented: Presented,
        door: Door,
    },
    /// Releases the kept accessible seats to everyone: asked by staff at any time, or by
    /// the scheduler at the show's release time.
    ReleaseAccessibleSeats {
        by_staff: bool,
    },
    /// Staff put the show under an on-sale's waiting room: customers' holds need its
    /// admission until the queue is lifted.
    QueueOnSale {
        onsale_id: Uuid,
        opens_at: Timestamp,
    },
    /// Staff end the on-sale's waiting room for this show.
    LiftOnSaleQueue {
        onsale_id: Uuid,
    },
}

impl ShowCommand {
    /// The command's name, as metrics and logs show it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ScheduleShow { .. } => "ScheduleShow",
            Self::HoldSeats { .. } => "HoldSeats",
            Self::HoldBestAvailable { .. } => "HoldBestAvailable",
            Self::JoinWaitlist { .. } => "JoinWaitlist",
            Self::LeaveWaitlist { .. } => "LeaveWaitlist",
            Self::ExpireWaitlistEntry { .. } => "ExpireWaitlistEntry",
            Self::ReleaseHold { .. } => "ReleaseHold",
            Self::ExpireHold { .. } => "ExpireHold",
            Self::ConfirmPayment { .. } => "ConfirmPayment",
            Self::RefundOrder { .. } => "RefundOrder",
            Self::CancelShow { .. } => "CancelShow",
            Self::RequestPayment { .. } => "RequestPayment",
            Self::SettlePayment { .. } => "SettlePayment",
            Self::ExchangeSeats { .. } => "ExchangeSeats",
            Self::TransferOut { .. } => "TransferOut",
            Self::TransferIn { .. } => "TransferIn",
            Self::RevertTransferOut { .. } => "RevertTransferOut",
            Self::CheckIn { .. } => "CheckIn",
            Self::ReleaseAccessibleSeats { .. } => "ReleaseAccessibleSeats",
            Self::QueueOnSale { .. } => "QueueOnSale",
            Self::LiftOnSaleQueue { .. } => "LiftOnSaleQueue",
        }
    }
}
