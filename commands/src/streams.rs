//! Load, decide, append: how a command is carried out on a stream with no writer task.
//!
//! Catalogue streams, payments and promo codes change a few times a second at most, not
//! thousands of times, so they need no writer in memory: each command reads its stream,
//! folds it with the aggregate's own `evolve`, decides, and appends at the version it read.
//! If the stream moved meanwhile, it reads and decides again. A retry of a command (same
//! actor and idempotency key) is recognised from the events' metadata by the stream's
//! [`Ledger`] and answered as before; the same key with another command is refused.

use crate::idempotency::{digest, Ledger};
use crate::{Clock, CommandContext, CommandError, Outcome};
use boxoffice_domain::{Aggregate, StoredEvent, StreamName};
use boxoffice_eventstore::{EventLog, EventLogError, ExpectedVersion, NewEvent, Position};
use std::sync::Arc;

/// Tries at one command while other commands keep moving its stream.
const MAX_ATTEMPTS: usize = 8;
/// Events read per page when loading a stream.
const PAGE: usize = 1_000;

/// A stream folded into its aggregate.
pub struct Folded<A: Aggregate> {
    pub state: A,
    /// The version of its last event; `None` for a stream with no events.
    pub version: Option<u64>,
    /// The position of its last event.
    pub position: Position,
    ledger: Ledger<A::Event>,
}

/// Carries out commands on streams by loading, deciding and appending.
#[derive(Clone)]
pub struct Streams {
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
}

impl Streams {
    pub fn new(log: Arc<dyn EventLog>, clock: Arc<dyn Clock>) -> Self {
        Self { log, clock }
    }

    /// The event log the streams are in.
    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// Decides `command` on the aggregate of `stream` and appends its events at the version
    /// read, reading again and deciding again while other commands move the stream.
    pub async fn execute<A: Aggregate>(
        &self,
        stream: &str,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<Outcome<A::Event>, CommandError> {
        // Staff of some cinemas act on their cinemas' streams only; the chain's own (cities,
        // movies, promo codes) and anyone else's are not theirs. Roles and keys are an
        // administrator's, whatever staff roles the account also has.
        match StreamName::parse(stream) {
            _ if context.cinemas.is_none() => {}
            Some(StreamName::Access) => {}
            Some(StreamName::Cinema(cinema_id)) => context.may_act_on(Some(cinema_id.0))?,
            _ => context.may_act_on(None)?,
        }
        let digest = digest(&command);
        for _ in 0..MAX_ATTEMPTS {
            let folded = self.fold::<A>(stream, None).await?;
            if let Some(earlier) = folded.ledger.get(&context.actor, &context.idempotency_key) {
                if earlier.digest != digest {
                    return Err(CommandError::KeyReused);
                }
                return Ok(earlier.outcome.clone());
            }
            let events = folded.state.decide(&command, self.clock.now())?;
            if events.is_empty() {
                return Ok(Outcome {
                    events,
                    position: folded.position,
                    replayed: false,
                });
            }
            let metadata = context.metadata(&command_name(&command), &digest);
            let new_events = events
                .iter()
                .enumerate()
                .map(|(n, event)| NewEvent {
                    event_id: context.event_id(stream, n),
                    event_type: event.event_type().to_owned(),
                    schema_version: event.schema_version(),
                    data: event.to_json(),
                    metadata: metadata.clone(),
                    recorded_at: None,
                })
                .collect();
            match self
                .log
                .append(stream, ExpectedVersion::after(folded.version), new_events)
                .await
            {
                Ok(appended) => {
                    return Ok(Outcome {
                        events,
                        position: appended.position,
                        replayed: false,
                    })
                }
                // Someone else wrote (or our own earlier try did): read again and decide.
                Err(
                    EventLogError::WrongExpectedVersion { .. } | EventLogError::DuplicateEvent(_),
                ) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(CommandError::Unavailable(format!(
            "{stream} kept changing; try again"
        )))
    }

    /// The aggregate of `stream` as its events fold now.
    pub async fn load<A: Aggregate>(&self, stream: &str) -> Result<Folded<A>, CommandError> {
        self.fold(stream, None).await
    }

    /// The aggregate of `stream` folded up to the event at `until` (included).
    pub async fn load_until<A: Aggregate>(
        &self,
        stream: &str,
        until: Position,
    ) -> Result<Folded<A>, CommandError> {
        self.fold(stream, Some(until)).await
    }

    async fn fold<A: Aggregate>(
        &self,
        stream: &str,
        until: Option<Position>,
    ) -> Result<Folded<A>, CommandError> {
        let mut folded = Folded {
            state: A::default(),
            version: None,
            position: Position::START,
            ledger: Ledger::default(),
        };
        let mut from = 0;
        'pages: loop {
            let page = self.log.read_stream(stream, from, PAGE).await?;
            for recorded in &page {
                if until.is_some_and(|until| recorded.position > until) {
                    break 'pages;
                }
                let event = A::Event::from_stored(
                    &recorded.event_type,
                    recorded.schema_version,
                    &recorded.data,
                )
                .map_err(|e| CommandError::Failed(e.to_string()))?;
                folded.state.evolve(&event);
                folded.version = Some(recorded.version);
                folded.position = recorded.position;
                folded.ledger.learn(recorded, event);
            }
            if page.len() < PAGE {
                break;
            }
            from += PAGE as u64;
        }
        folded.ledger.finish();
        Ok(folded)
    }
}

/// A command's name as the auditors' list shows it: the variant of the command enum
/// (`OpenCinema`), which is how catalogue, payment and promo commands serialise.
fn command_name<C: serde::Serialize>(command: &C) -> String {
    match serde_json::to_value(command) {
        Ok(serde_json::Value::Object(map)) if map.len() == 1 => {
            map.keys().next().cloned().unwrap_or_default()
        }
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}
