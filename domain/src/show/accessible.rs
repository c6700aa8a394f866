//! Accessible seating: wheelchair spaces and the companion seats beside them are kept for
//! the people who need them until a release point, then sold to anyone.
//!
//! A cinema's rule ([`AccessibleSeating`]) is copied into each show it schedules. While the
//! seats are kept back, only a hold that says it is for a wheelchair user (`accessible`) may
//! take them, and only as a party: each companion seat with the wheelchair space beside it,
//! at most the rule's number of companions per space. They are released, once, by the first
//! of: the show's release time (so many hours before the start), the rest of the hall being
//! sold, or staff. The release is a fact ([`AccessibleSeatsReleased`]) with its reason, and
//! it is decided here, in the same decision as the command that reaches the release point:
//! a hold asked for after the release time records the release first, and the payment that
//! sells the hall's last ordinary seat records the release after it. Shows scheduled before
//! this rule existed (or with no accessible seats) keep nothing back.

use super::event::{AccessibleRelease, AccessibleSeatsReleased, ShowEvent};
use super::{SeatKind, SeatSpec, Show};
use crate::error::Problems;
use crate::{DomainError, SeatId, Timestamp};
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// The most hours before the start a rule may release at (30 days).
const MAX_RELEASE_HOURS: u32 = 30 * 24;
/// The most companion seats a rule may give one wheelchair space.
const MAX_COMPANIONS: u32 = 4;

/// How a cinema keeps its wheelchair spaces and companion seats for those who need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccessibleSeating {
    /// Released to everyone this many hours before the start (0 to 720); absent: not by time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_hours_before: Option<u32>,
    /// Released to everyone once every other seat is sold.
    pub release_when_rest_sold: bool,
    /// Companion seats one wheelchair booking may take beside its space (0 to 4).
    pub companions_per_wheelchair: u32,
}

impl Default for AccessibleSeating {
    /// What a cinema gets unless it says otherwise: kept until two hours before the start
    /// or until the rest is sold, one companion per wheelchair space.
    fn default() -> Self {
        Self {
            release_hours_before: Some(2),
            release_when_rest_sold: true,
            companions_per_wheelchair: 1,
        }
    }
}

impl AccessibleSeating {
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        let mut problems = Problems::default();
        problems.check(
            self.release_hours_before
                .is_none_or(|hours| hours <= MAX_RELEASE_HOURS),
            format!("{field}.release_hours_before"),
            format!("must be 0 to {MAX_RELEASE_HOURS} (30 days)"),
        );
        problems.check(
            self.companions_per_wheelchair <= MAX_COMPANIONS,
            format!("{field}.companions_per_wheelchair"),
            format!("must be 0 to {MAX_COMPANIONS}"),
        );
        problems.into_result()
    }

    /// When the seats are released by time, for a show starting at `starts_at`.
    pub fn release_at(&self, starts_at: Timestamp) -> Option<Timestamp> {
        self.release_hours_before
            .map(|hours| starts_at - Duration::hours(i64::from(hours)))
    }
}

/// Whether `spec` is a wheelchair space or a companion seat.
pub(crate) fn is_accessible(spec: &SeatSpec) -> bool {
    spec.kind.is_some()
}

impl Show {
    /// Whether a seat is a wheelchair space or a companion seat (none: an ordinary seat, or
    /// no seat of this show).
    pub fn seat_kind(&self, seat: &SeatId) -> Option<SeatKind> {
        self.info()?.layout.spec(seat)?.kind
    }

    /// The rule keeping the show's accessible seats back, while it does (none once released,
    /// or for a show that keeps nothing back).
    pub fn accessible_kept(&self) -> Option<&AccessibleSeating> {
        if self.accessible_released {
            return None;
        }
        self.info()?.accessible_seating.as_ref()
    }
}

/// The release a command decided at `now` must record before its own events: the release
/// time has come and nobody has recorded it yet.
pub(super) fn due(show: &Show, now: Timestamp) -> Option<ShowEvent> {
    (now >= release_at(show)?).then(|| released(show, AccessibleRelease::ReleaseTime, now))
}

/// When the seats the show still keeps are released by time (none: nothing is kept, or not
/// by time).
fn release_at(show: &Show) -> Option<Timestamp> {
    show.accessible_kept()?.release_at(show.info()?.starts_at)
}

fn released(show: &Show, reason: AccessibleRelease, now: Timestamp) -> ShowEvent {
    ShowEvent::AccessibleSeatsReleased(AccessibleSeatsReleased {
        show_id: show.info().map(|i| i.show_id).unwrap_or_default(),
        reason,
        released_at: now,
    })
}

/// Staff (`by_staff`) or the scheduler at the release time release the kept seats. Nothing
/// to release is no event (the scheduler and staff may both ask); the scheduler asking
/// before the release time is refused.
pub(super) fn release(
    show: &Show,
    by_staff: bool,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    if show.accessible_kept().is_none() {
        return Ok(Vec::new());
    }
    if let Some(event) = due(show, now) {
        return Ok(vec![event]);
    }
    if !by_staff {
        return Err(DomainError::NotReleasedYet {
            release_at: release_at(show),
        });
    }
    Ok(vec![released(show, AccessibleRelease::Staff, now)])
}

/// Refuses `seats` for a hold while the show keeps its accessible seats back, unless the
/// hold is for a wheelchair user's party (`accessible`) and takes them as a party: every
/// companion seat beside a wheelchair space the party has (in `seats` or already in
/// `owned`, the seats it keeps), at most the rule's number of companions per space.
pub(super) fn check_hold(
    show: &Show,
    seats: &[SeatId],
    accessible: bool,
    owned: &[SeatId],
) -> Result<(), DomainError> {
    let (Some(rule), Some(info)) = (show.accessible_kept(), show.info()) else {
        return Ok(());
    };
    let spec = |seat: &SeatId| info.layout.spec(seat);
    let taken: Vec<&SeatSpec> = seats
        .iter()
        .filter_map(spec)
        .filter(|spec| is_accessible(spec))
        .collect();
    if taken.is_empty() {
        return Ok(());
    }
    if !accessible {
        return Err(DomainError::SeatsReserved(
            taken.iter().map(|spec| spec.seat_id.clone()).collect(),
        ));
    }
    let party: Vec<&SeatSpec> = taken
        .iter()
        .copied()
        .chain(owned.iter().filter_map(spec).filter(|s| is_accessible(s)))
        .collect();
    let of_kind = |kind| party.iter().filter(move |spec| spec.kind == Some(kind));
    let mut problems = Problems::default();
    for companion in taken.iter().filter(|s| s.kind == Some(SeatKind::Companion)) {
        problems.check(
            of_kind(SeatKind::Wheelchair).any(|space| side_by_side(space, companion)),
            "seats",
            format!(
                "companion seat {} goes with the wheelchair space beside it until accessible \
                 seats are released",
                companion.seat_id
            ),
        );
    }
    let (spaces, companions) = (
        of_kind(SeatKind::Wheelchair).count() as u32,
        of_kind(SeatKind::Companion).count() as u32,
    );
    problems.check(
        // (No space at all is the companion rule's refusal above.)
        spaces == 0 || companions <= rule.companions_per_wheelchair.saturating_mul(spaces),
        "seats",
        format!(
            "{companions} companion seats for {spaces} wheelchair spaces; this cinema allows {} \
             per space",
            rule.companions_per_wheelchair
        ),
    );
    problems.into_result()
}

/// Whether two seats of a layout stand next to each other in one row.
pub(crate) fn side_by_side(a: &SeatSpec, b: &SeatSpec) -> bool {
    a.row == b.row
        && a.column
            .unwrap_or(a.number)
            .abs_diff(b.column.unwrap_or(b.number))
            == 1
}

/// The release the command's `events` bring about by selling the rest of the hall, to be
/// recorded after them.
pub(super) fn follow_up(show: &Show, mut events: Vec<ShowEvent>, now: Timestamp) -> Vec<ShowEvent> {
    let Some(rule) = show.accessible_kept() else {
        return events;
    };
    if !rule.release_when_rest_sold {
        return events;
    }
    // Only seats sold by these events can sell the rest: look closer only when they could.
    let newly_sold: usize = events
        .iter()
        .map(|event| match event {
            ShowEvent::HoldConfirmed(e) => e.seats.len(),
            ShowEvent::SeatsExchanged(e) => e.moves.len(),
            ShowEvent::TransferReverted(e) => e.seats.len(),
            _ => 0,
        })
        .sum();
    if newly_sold == 0 || show.ordinary_unsold > newly_sold {
        return events;
    }
    let after = events
        .iter()
        .fold(show.clone(), |state, event| state.evolve(event));
    if after.ordinary_unsold == 0 {
        events.push(released(show, AccessibleRelease::RestSold, now));
    }
    events
}
