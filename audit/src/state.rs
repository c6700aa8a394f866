//! The state of any stream at any point, folded from the log by the domain's own `evolve`
//! — never read from a read model.
//!
//! A point is a version of the stream, a position of the log, or an instant: the state
//! after the stream's last event at or before it. Folding a show of 50,000 events from the
//! start would take too long to answer interactively, so this process keeps snapshots of
//! the shows it folded (every [`SNAPSHOT_EVERY`] events, in memory only: nothing an
//! operator could edit).
//!
//! Every event folded is checked against the hash chain as it is applied: versions follow
//! each other from 0 and each stored hash is that of the event's contents chained to the
//! one before. Where the chain breaks before the point, no state is given (the stream is
//! named with the version, as `audit verify-log` would): a state is only ever folded from
//! the events the chain commits to. A snapshot is taken during such a checked fold and
//! records the hash of its event; it is used only after the log shows that event with that
//! hash still there, and folding on from it checks the chain from that hash. An event
//! before a snapshot changed later does not change the answer (it is the state the chain
//! committed to); finding that change is `verify-log`'s work.

use crate::seal::Seal;
use boxoffice_domain::access::Access;
use boxoffice_domain::catalogue::{Cinema, Cities, Movie};
use boxoffice_domain::payment::Payment;
use boxoffice_domain::promo::Promo;
use boxoffice_domain::show::AppliedDiscount;
use boxoffice_domain::{
    Aggregate, CustomerId, HoldId, HoldsEnded, Money, OrderId, SeatCounts, SeatId, SeatStatus,
    Show, ShowId, StoredEvent, StreamName, WaitlistEntryId, WaitlistStatus,
};
use boxoffice_eventstore::{EventHash, EventLog, EventLogError, Position, RecordedEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Events between two snapshots of a show.
pub const SNAPSHOT_EVERY: u64 = 250;
/// Snapshots kept at most, over all shows (the least recently asked-about show goes first).
const MAX_SNAPSHOTS: usize = 128;
/// Events read per page while folding, at most.
const PAGE: usize = 5_000;
/// The first page when the point does not say how many events it needs.
const FIRST_PAGE: usize = 64;

/// Where in a stream's history to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// After every event.
    Latest,
    /// After the event of this version.
    Version(u64),
    /// After the stream's last event at or before this log position.
    Position(Position),
    /// After the stream's events recorded at or before this instant (up to the first one
    /// recorded after it).
    Time(DateTime<Utc>),
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("no such stream")]
    NotFound,
    #[error("{0}")]
    OutOfRange(String),
    #[error(transparent)]
    Log(#[from] EventLogError),
    #[error("{stream} v{version} cannot be read: {reason}")]
    Unreadable {
        stream: String,
        version: u64,
        reason: String,
    },
    /// The stream's chain breaks before the point: no state is given from events that
    /// are not the ones the chain commits to (`audit verify-log` says more).
    #[error("{stream}: version {version}: {problem}")]
    Broken {
        stream: String,
        version: u64,
        problem: String,
    },
}

/// The last event a state includes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct At {
    pub version: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub position: Position,
    pub recorded_at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub hash: Option<EventHash>,
    /// The latest position and time among the events up to here (what a snapshot may stand
    /// in for).
    #[serde(skip)]
    reach: (Position, DateTime<Utc>),
}

impl At {
    fn of(event: &RecordedEvent, before: Option<&At>) -> Self {
        let (position, time) = before.map_or((event.position, event.recorded_at), |b| b.reach);
        Self {
            version: event.version,
            position: event.position,
            recorded_at: event.recorded_at,
            hash: event.hash,
            reach: (position.max(event.position), time.max(event.recorded_at)),
        }
    }

    /// Whether the state after this event is a state at or before `point`.
    fn within(&self, point: Point) -> bool {
        match point {
            Point::Latest => true,
            Point::Version(version) => self.version <= version,
            Point::Position(position) => self.reach.0 <= position,
            Point::Time(time) => self.reach.1 <= time,
        }
    }
}

/// Folds streams to points, keeping snapshots of shows.
#[derive(Default)]
pub struct States {
    snapshots: Mutex<Snapshots>,
}

#[derive(Default)]
struct Snapshots {
    by_show: HashMap<ShowId, Vec<(Show, At)>>,
    /// Shows in the order they were last asked about, oldest first.
    recent: Vec<ShowId>,
}

impl Snapshots {
    fn total(&self) -> usize {
        self.by_show.values().map(Vec::len).sum()
    }
}

impl States {
    /// A show at `point`, with the snapshot taken nearest before it.
    pub async fn show(
        &self,
        log: &dyn EventLog,
        show_id: ShowId,
        point: Point,
    ) -> Result<ShowState, StateError> {
        let (show, at) = self.aggregate(log, show_id, point).await?;
        Ok(ShowState::of(show_id, &show, at))
    }

    /// The show aggregate itself at `point`, as the domain folds it: what a question
    /// decided by the domain without a command (a refund's quote) is asked of.
    pub async fn show_aggregate(
        &self,
        log: &dyn EventLog,
        show_id: ShowId,
        point: Point,
    ) -> Result<Show, StateError> {
        Ok(self.aggregate(log, show_id, point).await?.0)
    }

    async fn aggregate(
        &self,
        log: &dyn EventLog,
        show_id: ShowId,
        point: Point,
    ) -> Result<(Show, At), StateError> {
        let start = self.nearest(show_id, point);
        let stream = show_id.stream();
        let mut taken: Vec<(Show, At)> = Vec::new();
        let mut keep = |show: &Show, at: &At| {
            if (at.version + 1).is_multiple_of(SNAPSHOT_EVERY) {
                taken.push((show.clone(), *at));
            }
        };
        let folded = match fold::<Show>(log, &stream, point, start, &mut keep).await {
            Err(FoldError::StaleSnapshot) => {
                self.forget(show_id);
                fold::<Show>(log, &stream, point, None, &mut keep).await
            }
            other => other,
        };
        self.keep(show_id, taken);
        folded.map_err(FoldError::into_state)
    }

    /// Any stream at `point`, its state as the aggregate serialises it (a show as
    /// [`ShowState`]).
    pub async fn stream(
        &self,
        log: &dyn EventLog,
        name: StreamName,
        point: Point,
    ) -> Result<StreamState, StateError> {
        let stream = name.to_string();
        let (state, at) = match name {
            StreamName::Show(show_id) => {
                let show = self.show(log, show_id, point).await?;
                let at = show.at;
                (to_value(&show), at)
            }
            StreamName::Cities => folded::<Cities>(log, &stream, point).await?,
            StreamName::Cinema(_) => folded::<Cinema>(log, &stream, point).await?,
            StreamName::Movie(_) => folded::<Movie>(log, &stream, point).await?,
            StreamName::Payment(_) => folded::<Payment>(log, &stream, point).await?,
            StreamName::Promo(_) => folded::<Promo>(log, &stream, point).await?,
            StreamName::Seals => folded::<Sealed>(log, &stream, point).await?,
            StreamName::Access => folded::<Access>(log, &stream, point).await?,
        };
        Ok(StreamState {
            stream,
            kind: name.kind(),
            at,
            state,
        })
    }

    fn nearest(&self, show_id: ShowId, point: Point) -> Option<(Show, At)> {
        let snapshots = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        snapshots
            .by_show
            .get(&show_id)?
            .iter()
            .rev()
            .find(|(_, at)| at.within(point))
            .cloned()
    }

    fn keep(&self, show_id: ShowId, taken: Vec<(Show, At)>) {
        let mut snapshots = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        snapshots.recent.retain(|id| *id != show_id);
        snapshots.recent.push(show_id);
        let kept = snapshots.by_show.entry(show_id).or_default();
        for (show, at) in taken {
            if !kept.iter().any(|(_, k)| k.version == at.version) {
                kept.push((show, at));
            }
        }
        kept.sort_by_key(|(_, at)| at.version);
        while snapshots.total() > MAX_SNAPSHOTS && snapshots.recent.len() > 1 {
            let oldest = snapshots.recent.remove(0);
            snapshots.by_show.remove(&oldest);
        }
    }

    fn forget(&self, show_id: ShowId) {
        let mut snapshots = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        snapshots.by_show.remove(&show_id);
    }
}

/// Any stream's state at a point.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamState {
    pub stream: String,
    /// `show`, `cinema`, `movie`, `cities`, `payment`, `promo`, `seals` or `access`.
    pub kind: &'static str,
    #[serde(flatten)]
    pub at: At,
    /// The aggregate as the domain folds it.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub state: serde_json::Value,
}

fn to_value(state: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(state)
        .expect("aggregate states are plain data with string map keys: they always serialise")
}

/// A stream's state, folded event by event: every aggregate's `evolve`, and the seals.
trait Fold: Default {
    type Event: StoredEvent;
    fn apply(&mut self, event: &Self::Event);
}

macro_rules! fold_as_aggregates {
    ($($aggregate:ty),*) => {
        $(impl Fold for $aggregate {
            type Event = <$aggregate as Aggregate>::Event;
            fn apply(&mut self, event: &Self::Event) {
                Aggregate::evolve(self, event);
            }
        })*
    };
}

fold_as_aggregates!(Show, Cities, Cinema, Movie, Payment, Promo, Access);

/// The seals stream: every seal so far.
#[derive(Debug, Default, Serialize)]
struct Sealed {
    seals: Vec<Seal>,
}

impl Fold for Sealed {
    type Event = Seal;
    fn apply(&mut self, seal: &Seal) {
        self.seals.push(seal.clone());
    }
}

async fn folded<A: Fold + Serialize>(
    log: &dyn EventLog,
    stream: &str,
    point: Point,
) -> Result<(serde_json::Value, At), StateError> {
    let (state, at) = fold::<A>(log, stream, point, None, &mut |_: &A, _: &At| {})
        .await
        .map_err(FoldError::into_state)?;
    Ok((to_value(&state), at))
}

enum FoldError {
    State(StateError),
    /// The snapshot's event is no longer in the log as it was.
    StaleSnapshot,
}

impl FoldError {
    fn into_state(self) -> StateError {
        match self {
            Self::State(error) => error,
            Self::StaleSnapshot => StateError::OutOfRange("the stream changed while read".into()),
        }
    }
}

impl From<EventLogError> for FoldError {
    fn from(error: EventLogError) -> Self {
        Self::State(error.into())
    }
}

/// Folds `stream` from `start` (a snapshot, checked against the log) or from its first
/// event up to `point`, calling `keep` after every event.
async fn fold<A: Fold>(
    log: &dyn EventLog,
    stream: &str,
    point: Point,
    start: Option<(A, At)>,
    keep: &mut impl FnMut(&A, &At),
) -> Result<(A, At), FoldError> {
    let (mut state, mut at, mut from) = match start {
        Some((state, at)) => (state, Some(at), at.version),
        None => (A::default(), None, 0),
    };
    // Every event folded is checked against the chain: its version follows the one before
    // and its hash is that of its contents chained to the one before (from the snapshot's,
    // which its own fold checked, or from the start).
    let mut previous = at.map_or(Some(EventHash::GENESIS), |a| a.hash);
    let broken = |version: u64, problem: &str| {
        FoldError::State(StateError::Broken {
            stream: stream.to_owned(),
            version,
            problem: problem.to_owned(),
        })
    };
    let mut first = true;
    // Read what the point needs, not a full page: a version says how many events; a
    // position or an instant does not, so pages grow from small (a snapshot is near).
    let mut grow = FIRST_PAGE;
    'pages: loop {
        let limit = match point {
            Point::Version(version) if version < from => break,
            Point::Version(version) => {
                usize::try_from(version - from + 1).map_or(PAGE, |n| n.min(PAGE))
            }
            _ => grow,
        };
        grow = (grow * 2).min(PAGE);
        let page = log.read_stream(stream, from, limit).await?;
        for event in &page {
            from = event.version + 1;
            if first {
                first = false;
                if let Some(snapshot) = &at {
                    // The snapshot's own event: still there, with the same hash?
                    if event.version != snapshot.version || event.hash != snapshot.hash {
                        return Err(FoldError::StaleSnapshot);
                    }
                    continue;
                }
            }
            // A missing version may be at or before the point: checked before the point is.
            let expected = at.map_or(0, |a| a.version + 1);
            if event.version != expected {
                return Err(broken(
                    expected,
                    "is missing from the log: no state is given past it",
                ));
            }
            let next = At::of(event, at.as_ref());
            if !next.within(point) {
                break 'pages;
            }
            match (previous, event.hash) {
                (Some(before), Some(stored)) if event.chained().hash(&before) == stored => {
                    previous = Some(stored);
                }
                (_, None) => return Err(broken(event.version, "has no hash")),
                _ => {
                    return Err(broken(
                        event.version,
                        "its hash does not match its contents and the event before it: \
                         no state is given from it",
                    ))
                }
            }
            let decoded =
                A::Event::from_stored(&event.event_type, event.schema_version, &event.data)
                    .map_err(|e| {
                        FoldError::State(StateError::Unreadable {
                            stream: stream.to_owned(),
                            version: event.version,
                            reason: e.to_string(),
                        })
                    })?;
            state.apply(&decoded);
            keep(&state, &next);
            at = Some(next);
        }
        if page.len() < limit {
            break;
        }
    }
    if first && at.is_some() {
        // The snapshot's event is gone.
        return Err(FoldError::StaleSnapshot);
    }
    match (at, point) {
        (Some(at), Point::Version(version)) if at.version < version => Err(FoldError::State(
            StateError::OutOfRange(format!("the stream ends at version {}", at.version)),
        )),
        (Some(at), _) => Ok((state, at)),
        (None, _) if log.read_stream(stream, 0, 1).await?.is_empty() => {
            Err(FoldError::State(StateError::NotFound))
        }
        (None, _) => Err(FoldError::State(StateError::OutOfRange(
            "the point is before the stream's first event".into(),
        ))),
    }
}

/// A show as an auditor sees it: every seat, hold, order and waiting-list entry, counts and
/// money, as of one event of its stream.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShowState {
    pub show_id: ShowId,
    #[serde(flatten)]
    pub at: At,
    pub title: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub cancelled: bool,
    /// Whether its wheelchair spaces and companion seats were still kept for wheelchair
    /// users' parties then (false once released, or if it never kept any).
    pub accessible_seats_kept: bool,
    pub counts: SeatCounts,
    pub seats: Vec<SeatState>,
    /// The holds active at that point (the ones that ended are in `holds_ended`, and each
    /// in the stream's events).
    pub holds: Vec<HoldState>,
    /// How many holds had ended by then: `released`, `expired`, `confirmed`.
    pub holds_ended: HoldsEnded,
    /// Every order made by then, fully refunded ones included.
    pub orders: Vec<OrderState>,
    pub waitlist: Vec<WaitlistState>,
    /// Per currency: what orders paid, what was refunded, the fees kept, and the net.
    pub money: Vec<MoneyTotals>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatState {
    pub seat_id: SeatId,
    pub row: String,
    pub number: u32,
    pub category: String,
    /// `available`, `held` or `sold`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<HoldId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldState {
    pub hold_id: HoldId,
    pub customer_id: CustomerId,
    pub seats: Vec<SeatId>,
    pub total: Money,
    pub expires_at: DateTime<Utc>,
    /// The promo code and what it took off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promo: Option<AppliedDiscount>,
    /// Provider payments started for it, with their amounts.
    pub payments: BTreeMap<Uuid, Money>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderState {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    /// The seats it still owns.
    pub seats: Vec<SeatId>,
    pub paid: Money,
    pub refunded: Money,
    pub fees: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistState {
    pub entry_id: WaitlistEntryId,
    pub customer_id: CustomerId,
    pub count: u32,
    pub category: Option<String>,
    pub joined_at: DateTime<Utc>,
    /// `waiting`, `offered` or `ended`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<HoldId>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyTotals {
    pub currency: String,
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub fees_minor: i64,
    /// Paid less refunded.
    pub net_minor: i64,
}

impl ShowState {
    fn of(show_id: ShowId, show: &Show, at: At) -> Self {
        let seats = show
            .seat_statuses()
            .map(|(spec, status)| {
                let (status, hold_id, order_id) = match status {
                    SeatStatus::Available => ("available", None, None),
                    SeatStatus::Held(hold) => ("held", Some(hold), None),
                    SeatStatus::Sold(order) => ("sold", None, Some(order)),
                };
                SeatState {
                    seat_id: spec.seat_id.clone(),
                    row: spec.row.clone(),
                    number: spec.number,
                    category: spec.category.clone(),
                    status,
                    hold_id,
                    order_id,
                }
            })
            .collect();
        let holds = show
            .active_holds()
            .map(|(hold_id, hold)| HoldState {
                hold_id: *hold_id,
                customer_id: hold.customer_id.clone(),
                seats: hold.seats.clone(),
                total: hold.total.clone(),
                expires_at: hold.expires_at,
                promo: hold.discount.clone(),
                payments: hold.payments.clone(),
            })
            .collect();
        let mut money: BTreeMap<String, MoneyTotals> = BTreeMap::new();
        let orders = show
            .orders()
            .map(|(order_id, order)| {
                let currency = order.total.currency.as_str().to_owned();
                let totals = money.entry(currency.clone()).or_insert(MoneyTotals {
                    currency,
                    paid_minor: 0,
                    refunded_minor: 0,
                    fees_minor: 0,
                    net_minor: 0,
                });
                totals.paid_minor += order.total.amount_minor;
                totals.refunded_minor += order.refunded.amount_minor;
                totals.fees_minor += order.fees.amount_minor;
                totals.net_minor = totals.paid_minor - totals.refunded_minor;
                OrderState {
                    order_id: *order_id,
                    customer_id: order.customer_id.clone(),
                    seats: order.seats.iter().cloned().collect(),
                    paid: order.total.clone(),
                    refunded: order.refunded.clone(),
                    fees: order.fees.clone(),
                    payment_id: order.payment_id,
                }
            })
            .collect();
        let waitlist = show
            .waitlist()
            .iter()
            .map(|entry| {
                let (status, hold_id) = match entry.status {
                    WaitlistStatus::Waiting => ("waiting", None),
                    WaitlistStatus::Offered(hold) => ("offered", Some(hold)),
                    WaitlistStatus::Ended => ("ended", None),
                };
                WaitlistState {
                    entry_id: entry.entry_id,
                    customer_id: entry.customer_id.clone(),
                    count: entry.count,
                    category: entry.category.clone(),
                    joined_at: entry.joined_at,
                    status,
                    hold_id,
                }
            })
            .collect();
        let info = show.info();
        Self {
            show_id,
            at,
            title: info.map(|i| i.title.clone()),
            starts_at: info.map(|i| i.starts_at),
            cancelled: show.is_cancelled(),
            accessible_seats_kept: show.accessible_kept().is_some(),
            counts: show.counts(),
            seats,
            holds,
            holds_ended: show.holds_ended(),
            orders,
            waitlist,
            money: money.into_values().collect(),
        }
    }
}

/// Shared by the state of every show a process folds.
pub type SharedStates = Arc<States>;
