//! A queued on-sale: while a show sells through a virtual waiting room, only customers the
//! room let in may hold its seats.
//!
//! The waiting room itself (who is in line, in which order, who is let in when) lives
//! outside the aggregate: it is a line of people, not a fact about seats. What the show
//! decides is whether a hold comes through the room: staff put the show under an on-sale's
//! queue ([`OnSaleQueueSet`]) and lift it ([`OnSaleQueueLifted`]); in between a customer's
//! hold must carry an admission to that on-sale that is still valid at the hold's instant,
//! and is refused ([`DomainError::QueueRequired`]) otherwise. Staff selling at the counter
//! have a line of their own and need none. Joining the waiting list is refused too while
//! the queue is set (its offers would skip the line); entries that joined before keep their
//! place and their offers. An on-sale's queue once lifted is never set again on the show
//! (a late retry of the setting must not undo the end).

use super::event::{OnSaleQueueLifted, OnSaleQueueSet, ShowEvent};
use super::Show;
use crate::{DomainError, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a hold may be made while the show sells through a waiting room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Admission {
    /// The on-sale's waiting room let the customer in, until `until`.
    Queue { onsale_id: Uuid, until: Timestamp },
    /// Staff selling at the box office.
    Counter,
}

/// The queue a show is under, while it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Queued {
    pub onsale_id: Uuid,
    pub opens_at: Timestamp,
}

/// Puts the show under `onsale_id`'s queue (nothing if it is already; refused while
/// another on-sale's queue is set).
pub(super) fn set(
    show: &Show,
    onsale_id: Uuid,
    opens_at: Timestamp,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    if show.lifted.contains(&onsale_id) {
        return Ok(Vec::new());
    }
    match show.queued {
        Some(queued) if queued.onsale_id == onsale_id => Ok(Vec::new()),
        Some(queued) => Err(DomainError::OnSaleConflict {
            onsale_id: queued.onsale_id,
        }),
        None => Ok(vec![ShowEvent::OnSaleQueueSet(OnSaleQueueSet {
            show_id: info.show_id,
            onsale_id,
            opens_at,
            set_at: now,
        })]),
    }
}

/// Lifts `onsale_id`'s queue (nothing if the show is not under it).
pub(super) fn lift(
    show: &Show,
    onsale_id: Uuid,
    now: Timestamp,
) -> Result<Vec<ShowEvent>, DomainError> {
    let info = show.info().ok_or(DomainError::ShowNotFound)?;
    Ok(match show.queued {
        Some(queued) if queued.onsale_id == onsale_id => {
            vec![ShowEvent::OnSaleQueueLifted(OnSaleQueueLifted {
                show_id: info.show_id,
                onsale_id,
                lifted_at: now,
            })]
        }
        _ => Vec::new(),
    })
}

/// Whether a hold with `admission` may be made at `now`.
pub(super) fn check(
    show: &Show,
    admission: Option<&Admission>,
    now: Timestamp,
) -> Result<(), DomainError> {
    let Some(queued) = show.queued else {
        return Ok(());
    };
    let refused = |reason: &'static str| DomainError::QueueRequired {
        onsale_id: queued.onsale_id,
        opens_at: queued.opens_at,
        reason,
    };
    match admission {
        Some(Admission::Counter) => Ok(()),
        None => Err(refused(
            "this show sells through a waiting room; join its queue",
        )),
        Some(Admission::Queue { onsale_id, .. }) if *onsale_id != queued.onsale_id => {
            Err(refused("the admission is for another on-sale"))
        }
        Some(Admission::Queue { until, .. }) if *until <= now => {
            Err(refused("the admission has run out; join the queue again"))
        }
        Some(Admission::Queue { .. }) => Ok(()),
    }
}
