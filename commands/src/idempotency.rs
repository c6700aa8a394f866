//! What a stream remembers of the commands already carried out on it, rebuilt from the
//! events' metadata whenever the stream is read, so it survives restarts without a table.
//!
//! Each command's events carry its actor, idempotency key and a digest of the command. A
//! command whose (actor, key) is known is answered with the remembered outcome (same
//! events, same position) and appends nothing; one with the same key but another digest is
//! refused. The show writers and the load-decide-append runner keep one [`Ledger`] each.

use crate::Outcome;
use boxoffice_eventstore::{Position, RecordedEvent};
use std::collections::HashMap;
use uuid::Uuid;

const DIGEST_NAMESPACE: Uuid = Uuid::from_u128(0x8f2e_0b6c_93a1_4d55_b0c7_1e9a_24f3_58d1);

/// A digest of a command, to tell a retry from a different command under the same key.
pub(crate) fn digest<C: serde::Serialize>(command: &C) -> String {
    let body = serde_json::to_vec(command)
        .expect("commands are plain data with string map keys: they always serialise");
    Uuid::new_v5(&DIGEST_NAMESPACE, &body).simple().to_string()
}

pub(crate) struct Remembered<E> {
    pub digest: String,
    pub outcome: Outcome<E>,
}

/// An (actor, idempotency key) pair.
type Key = (String, String);

/// Commands carried out on one stream, by (actor, idempotency key).
pub(crate) struct Ledger<E> {
    done: HashMap<Key, Remembered<E>>,
    /// The append being read: its commit, the commands in it, and its last position.
    reading: Option<(u64, Vec<Key>, Position)>,
}

impl<E> Default for Ledger<E> {
    fn default() -> Self {
        Self {
            done: HashMap::new(),
            reading: None,
        }
    }
}

impl<E> Ledger<E> {
    pub fn get(&self, actor: &str, key: &str) -> Option<&Remembered<E>> {
        self.done.get(&(actor.to_owned(), key.to_owned()))
    }

    /// Remembers a command just appended, answered with `outcome`.
    pub fn remember(&mut self, actor: String, key: String, digest: String, outcome: Outcome<E>) {
        self.done.insert(
            (actor, key),
            Remembered {
                digest,
                outcome: Outcome {
                    replayed: true,
                    ..outcome
                },
            },
        );
    }

    /// Learns from one stored event, read in stream order. Consecutive events with the same
    /// actor and key are one command's outcome; every command of one append was answered
    /// with the append's end position, so that is what a retry gets (see [`Self::finish`]).
    pub fn learn(&mut self, stored: &RecordedEvent, event: E) {
        if self
            .reading
            .as_ref()
            .is_some_and(|(commit, _, _)| *commit != stored.position.commit)
        {
            self.finish();
        }
        let reading = self
            .reading
            .get_or_insert_with(|| (stored.position.commit, Vec::new(), stored.position));
        reading.2 = stored.position;
        let (Some(actor), Some(key)) = (&stored.metadata.actor, &stored.metadata.idempotency_key)
        else {
            return;
        };
        let id = (actor.clone(), key.clone());
        if !reading.1.contains(&id) {
            reading.1.push(id.clone());
        }
        let entry = self.done.entry(id).or_insert_with(|| Remembered {
            digest: stored.metadata.command_digest.clone().unwrap_or_default(),
            outcome: Outcome {
                events: Vec::new(),
                position: stored.position,
                replayed: true,
            },
        });
        entry.outcome.events.push(event);
    }

    /// The end of a read: the commands of the last append read get its end position.
    pub fn finish(&mut self) {
        if let Some((_, commands, end)) = self.reading.take() {
            for id in commands {
                if let Some(remembered) = self.done.get_mut(&id) {
                    remembered.outcome.position = end;
                }
            }
        }
    }
}
