//! One given/when/then kit for the tests of every aggregate, and the fixtures they share, so
//! each test reads as a rule: given these past events, when this command arrives at this
//! instant, then exactly these events follow (or this refusal).
//!
//! The kit knows aggregates only through [`Aggregate`] and [`StoredEvent`]: it folds and
//! decides the way the log's readers do, and on the way checks that every event a rule
//! produces is one its type lists as readable and survives the trip through storage. It is
//! compiled for tests only.

use crate::access::{Access, AccessEvent};
use crate::catalogue::{Cinema, CinemaEvent, Cities, CitiesEvent, Movie, MovieEvent};
use crate::payment::{Payment, PaymentEvent};
use crate::promo::{Promo, PromoEvent};
use crate::show::{HoldConfirmed, OrderRefunded, SeatsHeld, ShowScheduled};
use crate::{
    Aggregate, Currency, CustomerId, DomainError, HoldId, Money, OrderId, RefundId, Requester,
    SeatId, SeatSpec, Show, ShowCommand, ShowEvent, StoredEvent, Timestamp,
};
use chrono::{Duration, TimeZone, Utc};
use std::fmt::Debug;
use uuid::Uuid;

/// An event, and the aggregate whose stream it belongs to (so `given` needs no annotation).
pub(crate) trait Fact: StoredEvent + PartialEq + Debug {
    type Of: Aggregate<Event = Self> + Clone;
}

macro_rules! facts {
    ($($event:ty => $aggregate:ty),* $(,)?) => {
        $(impl Fact for $event {
            type Of = $aggregate;
        })*
    };
}

facts!(
    ShowEvent => Show,
    CitiesEvent => Cities,
    CinemaEvent => Cinema,
    MovieEvent => Movie,
    PaymentEvent => Payment,
    PromoEvent => Promo,
    AccessEvent => Access,
);

/// The state `events` leave behind, folded as any reader of the log folds them.
pub(crate) fn given<E: Fact>(events: impl IntoIterator<Item = E>) -> E::Of {
    let mut state = E::Of::default();
    for event in events {
        state.evolve(&event);
    }
    state
}

/// A command arriving at an aggregate.
pub(crate) trait When: Aggregate + Clone
where
    Self::Event: Fact,
{
    fn when(&self, command: Self::Command, at: Timestamp) -> Then<'_, Self> {
        Then {
            state: self,
            result: self.decide(&command, at),
        }
    }
}

impl<A: Aggregate + Clone> When for A where A::Event: Fact {}

/// What a command decided, to be checked.
pub(crate) struct Then<'a, A: Aggregate> {
    state: &'a A,
    result: Result<Vec<A::Event>, DomainError>,
}

impl<A: Aggregate + Clone> Then<'_, A>
where
    A::Event: Fact,
{
    /// Exactly these events follow (none: the command asked for what is already so).
    #[track_caller]
    pub(crate) fn then_expect(self, expected: Vec<A::Event>) {
        assert_eq!(self.result, Ok(expected));
        self.then_accepted();
    }

    #[track_caller]
    pub(crate) fn then_error(self, expected: DomainError) {
        assert_eq!(self.result, Err(expected));
    }

    /// Refused with the error clients see as `code`.
    #[track_caller]
    pub(crate) fn then_code(self, code: &str) {
        match self.result {
            Err(e) => assert_eq!(e.code(), code, "{e}"),
            Ok(events) => panic!("expected {code}, got events {events:?}"),
        }
    }

    /// Refused as invalid, naming exactly these fields, in this order.
    #[track_caller]
    pub(crate) fn then_invalid(self, expected: &[&str]) {
        match self.result {
            Err(error) => assert_eq!(fields(error), expected),
            Ok(events) => panic!("expected a validation error, got events {events:?}"),
        }
    }

    /// Accepted: the state after its events, and the events (each read back from its stored
    /// form first).
    #[track_caller]
    pub(crate) fn then_accepted(self) -> (A, Vec<A::Event>) {
        let events = match self.result {
            Ok(events) => events,
            Err(e) => panic!("expected the command to be accepted, it was refused: {e}"),
        };
        let mut state = self.state.clone();
        for event in &events {
            let written = (event.event_type(), event.schema_version());
            assert!(
                A::Event::readable().contains(&written),
                "{written:?} is written but not listed as readable"
            );
            let stored = event.to_json();
            let read = A::Event::from_stored(event.event_type(), event.schema_version(), &stored)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&read, event, "changed on the way through storage");
            state.evolve(&read);
        }
        (state, events)
    }
}

/// The fields a validation error names, in order.
#[track_caller]
pub(crate) fn fields(error: DomainError) -> Vec<String> {
    match error {
        DomainError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// Fixtures.

/// The instant the examples happen at (the shows they schedule start three hours later).
pub(crate) fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

pub(crate) fn cny(amount_minor: i64) -> Money {
    Money::new(amount_minor, Currency::parse("CNY").unwrap())
}

pub(crate) fn seats(labels: &[&str]) -> Vec<SeatId> {
    labels.iter().map(|s| SeatId::new(*s)).collect()
}

pub(crate) fn customer(name: &str) -> CustomerId {
    CustomerId(name.to_owned())
}

pub(crate) fn hold_id(n: u128) -> HoldId {
    HoldId(Uuid::from_u128(n))
}

pub(crate) fn order_id(n: u128) -> OrderId {
    OrderId(Uuid::from_u128(0x1000 + n))
}

/// Seat `number` of `row`, with its id spelled row then number (`A3`).
pub(crate) fn seat(row: &str, number: u32, category: &str) -> SeatSpec {
    SeatSpec {
        seat_id: SeatId(format!("{row}{number}")),
        row: row.into(),
        number,
        category: category.into(),
        column: None,
        kind: None,
    }
}

/// A show of `layout`, starting three hours after [`t0`]: regular seats at 45 CNY, premium
/// at 80 CNY; holds last 300 s with a 5 s grace, one at a time per customer.
pub(crate) fn scheduled_with(layout: Vec<SeatSpec>) -> ShowEvent {
    ShowEvent::ShowScheduled(ShowScheduled {
        accessible_seating: None,
        ticket_prices: Default::default(),
        refund_policy: None,
        show_id: Uuid::from_u128(1),
        movie_id: Uuid::from_u128(2),
        title: "流浪地球".into(),
        starts_at: t0() + Duration::hours(3),
        ends_at: t0() + Duration::hours(5),
        seats: layout.into(),
        prices: [("regular".into(), cny(4500)), ("premium".into(), cny(8000))].into(),
        hold_ttl_seconds: 300,
        expiry_grace_seconds: 5,
        max_holds_per_customer: 1,
        waitlist_max_wait_seconds: 3600,
        venue: None,
    })
}

/// A show in a hall drawn as staff draw it: `(label, cells)` rows, the first nearest the
/// screen (`R` regular, `P` premium, `W` wheelchair, `C` companion, `_` aisle or gap).
pub(crate) fn drawn(rows: &[(&str, &str)]) -> ShowEvent {
    let layout = crate::catalogue::HallLayout {
        rows: rows
            .iter()
            .map(|(label, cells)| crate::catalogue::LayoutRow {
                label: (*label).to_owned(),
                cells: (*cells).to_owned(),
            })
            .collect(),
    };
    scheduled_with(layout.seats("layout").expect("a valid layout"))
}

/// A hall of two rows: A1-A5 regular (45 CNY), 贵宾1-贵宾3 premium (80 CNY).
pub(crate) fn scheduled() -> ShowEvent {
    let mut layout: Vec<SeatSpec> = (1..=5).map(|n| seat("A", n, "regular")).collect();
    layout.extend((1..=3).map(|n| seat("贵宾", n, "premium")));
    scheduled_with(layout)
}

/// Hold `id` of `who` on `labels`, made at [`t0`].
pub(crate) fn held(id: u128, who: &str, labels: &[&str], total: i64) -> ShowEvent {
    ShowEvent::SeatsHeld(SeatsHeld {
        admission: None,
        ticket_types: Default::default(),
        discount: None,
        hold_id: hold_id(id),
        customer_id: customer(who),
        seats: seats(labels),
        total: cny(total),
        held_at: t0(),
        expires_at: t0() + Duration::seconds(300),
    })
}

/// Hold `id` paid at the counter a minute after [`t0`], as order `id`.
pub(crate) fn confirmed(id: u128, who: &str, labels: &[&str], total: i64) -> ShowEvent {
    ShowEvent::HoldConfirmed(HoldConfirmed {
        ticket_types: Default::default(),
        after_expiry: false,
        payment_id: None,
        hold_id: hold_id(id),
        order_id: order_id(id),
        customer_id: customer(who),
        seats: seats(labels),
        total: cny(total),
        payment_reference: "pay-1".into(),
        confirmed_at: t0() + Duration::seconds(60),
        pickup_code: None,
    })
}

/// `who` got `amount` back for `labels` of order `id` (refund 9, no fee) at [`t0`].
pub(crate) fn refunded(
    id: u128,
    who: &str,
    labels: &[&str],
    amount: i64,
    fully_refunded: bool,
) -> ShowEvent {
    ShowEvent::OrderRefunded(OrderRefunded {
        fee: None,
        payment_id: None,
        reason: Default::default(),
        order_id: order_id(id),
        refund_id: RefundId(Uuid::from_u128(9)),
        customer_id: customer(who),
        seats: seats(labels),
        amount: cny(amount),
        fully_refunded,
        refunded_at: t0(),
    })
}

/// `who` holds `labels` as hold `id`.
pub(crate) fn hold(id: u128, who: &str, labels: &[&str]) -> ShowCommand {
    holding(id, who, labels, false)
}

/// [`hold`], for a wheelchair user's party: it may take the kept accessible seats.
pub(crate) fn hold_for_wheelchair(id: u128, who: &str, labels: &[&str]) -> ShowCommand {
    holding(id, who, labels, true)
}

fn holding(id: u128, who: &str, labels: &[&str], accessible: bool) -> ShowCommand {
    ShowCommand::HoldSeats {
        admission: None,
        accessible,
        ticket_types: Default::default(),
        promo: None,
        hold_id: hold_id(id),
        customer_id: customer(who),
        seats: seats(labels),
    }
}

/// The seats best available offers for `count` (of `category`) at [`t0`], by id.
pub(crate) fn best(show: &Show, count: usize, category: Option<&str>) -> Vec<String> {
    crate::show::best::best_available(show, count, category, t0())
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.0)
        .collect()
}

/// `who` pays `amount` for hold `id` at the counter, making order `id`.
pub(crate) fn confirm(id: u128, who: &str, amount: i64) -> ShowCommand {
    ShowCommand::ConfirmPayment {
        hold_id: hold_id(id),
        order_id: order_id(id),
        requester: Requester::Customer(customer(who)),
        payment_reference: "pay-1".into(),
        amount: cny(amount),
    }
}

/// `who` gives hold `id` back.
pub(crate) fn release(id: u128, who: &str) -> ShowCommand {
    ShowCommand::ReleaseHold {
        hold_id: hold_id(id),
        requester: Requester::Customer(customer(who)),
    }
}
