//! What carrying out a command answers: its events and where they are in the log, or why it
//! was not carried out. Shared by the show writers and the load-decide-append runner, so
//! every caller reads an answer the same way.

use boxoffice_domain::{DomainError, ShowEvent};
use boxoffice_eventstore::{EventLogError, Position};

/// What a command did: its events, and where in the log they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<E = ShowEvent> {
    /// Its events: none when the command asked for what already was so.
    pub events: Vec<E>,
    /// The log position after the command's events (or of the stream's last event, if it
    /// appended none); read models that reached it show them.
    pub position: Position,
    /// True when this is the remembered answer to an earlier try of the same command.
    pub replayed: bool,
}

impl<E> Outcome<E> {
    /// The first of the command's events that `pick` recognises, as `pick` returns it.
    pub fn find<'a, T>(&'a self, pick: impl FnMut(&'a E) -> Option<T>) -> Option<T> {
        self.events.iter().find_map(pick)
    }

    /// As [`Self::find`], for an event the command must have produced: its absence is a
    /// failure naming `what` was missing.
    pub fn expect<'a, T>(
        &'a self,
        what: &str,
        pick: impl FnMut(&'a E) -> Option<T>,
    ) -> Result<T, CommandError> {
        self.find(pick)
            .ok_or_else(|| CommandError::Failed(format!("the command produced no {what} event")))
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Rejected(#[from] DomainError),
    #[error("this idempotency key was already used for a different command")]
    KeyReused,
    #[error("the event log is unavailable: {0}")]
    Unavailable(String),
    #[error("the command could not be carried out: {0}")]
    Failed(String),
    /// The caller may not act here (staff of other cinemas); nothing was decided.
    #[error("{0}")]
    Forbidden(String),
}

impl From<EventLogError> for CommandError {
    fn from(error: EventLogError) -> Self {
        match error {
            EventLogError::Unavailable(reason) => Self::Unavailable(reason),
            other => Self::Failed(other.to_string()),
        }
    }
}
