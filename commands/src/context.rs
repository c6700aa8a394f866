use boxoffice_eventstore::Metadata;
use uuid::Uuid;

/// Identifies ids derived from idempotency keys (a fixed, random namespace).
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x5d0c_2a8e_41b7_4f0e_9c3e_7b1f_a4d2_6e90);

/// Who sends a command, under which idempotency key, as part of which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    /// The caller: a customer id, `staff:{sub}` or `system:{component}`. Idempotency keys
    /// are scoped to it, so two clients can never collide on a key.
    pub actor: String,
    /// The client's `Idempotency-Key`, or a fresh random one when it sent none.
    pub idempotency_key: String,
    /// The request id, recorded as the events' correlation id.
    pub correlation_id: Option<String>,
}

impl CommandContext {
    /// An id for something this command creates (`purpose` says what), the same for every
    /// retry of the command, so a retry is recognised as the same command.
    pub fn derive_id(&self, purpose: &str) -> Uuid {
        let name = format!(
            "{}\u{1f}{}\u{1f}{purpose}",
            self.actor, self.idempotency_key
        );
        Uuid::new_v5(&ID_NAMESPACE, name.as_bytes())
    }

    /// An id for something this command creates inside `stream`: as [`Self::derive_id`], and
    /// different per stream, so a client reusing a key on two shows never makes one id twice.
    pub fn derive_id_in(&self, stream: &str, purpose: &str) -> Uuid {
        self.derive_id(&format!("{purpose}\u{1f}{stream}"))
    }

    /// What every event this command appends carries: who asked, under which key, as part
    /// of which request, and which command (its name and `digest`), so an auditor can tie
    /// each event to its cause and a retry is recognised.
    pub(crate) fn metadata(&self, command: &str, digest: &str) -> Metadata {
        Metadata {
            correlation_id: self.correlation_id.clone(),
            causation_id: Some(self.derive_id("command").to_string()),
            actor: Some(self.actor.clone()),
            idempotency_key: Some(self.idempotency_key.clone()),
            command_digest: Some(digest.to_owned()),
            command: Some(command.to_owned()),
            other: Default::default(),
        }
    }

    /// The id of the `index`th event this command appends to `stream`: deterministic, so an
    /// append retried after a crash collides with itself instead of doubling.
    pub(crate) fn event_id(&self, stream: &str, index: usize) -> Uuid {
        self.derive_id(&format!("event\u{1f}{stream}\u{1f}{index}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_depend_on_actor_key_and_purpose() {
        let context = |actor: &str, key: &str| CommandContext {
            actor: actor.into(),
            idempotency_key: key.into(),
            correlation_id: None,
        };
        let a = context("alice", "k1");
        assert_eq!(
            a.derive_id("hold"),
            context("alice", "k1").derive_id("hold")
        );
        assert_ne!(a.derive_id("hold"), a.derive_id("order"));
        assert_ne!(a.derive_id("hold"), context("bob", "k1").derive_id("hold"));
        assert_ne!(
            a.derive_id("hold"),
            context("alice", "k2").derive_id("hold")
        );
        assert_ne!(a.event_id("show-1", 0), a.event_id("show-1", 1));
    }
}
