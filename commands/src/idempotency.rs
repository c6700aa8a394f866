//! What a show's writer remembers of commands it has already carried out, rebuilt from the
//! events' metadata whenever the stream is loaded, so it survives restarts without a table.

use crate::writer::Outcome;
use boxoffice_eventstore::{Position, RecordedEvent};
use std::collections::HashMap;
use uuid::Uuid;

const DIGEST_NAMESPACE: Uuid = Uuid::from_u128(0x8f2e_0b6c_93a1_4d55_b0c7_1e9a_24f3_58d1);

/// A digest of a command, to tell a retry from a different command under the same key.
pub(crate) fn digest<C: serde::Serialize>(command: &C) -> String {
    let body = serde_json::to_vec(command).unwrap_or_default();
    Uuid::new_v5(&DIGEST_NAMESPACE, &body).simple().to_string()
}

pub(crate) struct Remembered {
    pub digest: String,
    pub outcome: Outcome,
}

/// Commands carried out on one show, by (actor, idempotency key).
#[derive(Default)]
pub(crate) struct Ledger {
    done: HashMap<(String, String), Remembered>,
}

impl Ledger {
    pub fn get(&self, actor: &str, key: &str) -> Option<&Remembered> {
        self.done.get(&(actor.to_owned(), key.to_owned()))
    }

    pub fn remember(&mut self, actor: String, key: String, remembered: Remembered) {
        self.done.insert((actor, key), remembered);
    }

    /// Learns from one stored event; returns the command it belongs to, if any. Consecutive
    /// events with the same actor and key are one command's outcome.
    pub fn learn(
        &mut self,
        event: &RecordedEvent,
        show_event: boxoffice_domain::ShowEvent,
    ) -> Option<(String, String)> {
        let (Some(actor), Some(key)) = (&event.metadata.actor, &event.metadata.idempotency_key)
        else {
            return None;
        };
        let id = (actor.clone(), key.clone());
        let entry = self.done.entry(id.clone()).or_insert_with(|| Remembered {
            digest: event.metadata.command_digest.clone().unwrap_or_default(),
            outcome: Outcome {
                events: Vec::new(),
                position: event.position,
                version: event.version,
                replayed: true,
            },
        });
        entry.outcome.events.push(show_event);
        entry.outcome.version = event.version;
        Some(id)
    }

    /// The writer answered every command of an append with the append's end position; give
    /// the remembered outcomes the same, so a retry gets the original answer.
    pub fn finish_append(&mut self, commands: &[(String, String)], end: Position) {
        for id in commands {
            if let Some(remembered) = self.done.get_mut(id) {
                remembered.outcome.position = end;
            }
        }
    }
}
