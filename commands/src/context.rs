//! Who asks for a command, under which idempotency key, and as part of which request: the
//! context every command carries into its events' metadata, and the ids derived from it so
//! that a retried command is recognised as the same command.

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
    /// The request id, recorded as the events' correlation id: every event that follows
    /// from one request, however many streams and process steps later, carries it.
    pub correlation_id: Option<String>,
    /// What directly caused this command when the system issues it as a step of something
    /// else (the command of the request it belongs to, or the event a process follows);
    /// `None` for a client's own command, which is its own cause.
    pub causation_id: Option<String>,
    /// The only cinemas the caller may act on (staff of some cinemas); None: any. Checked
    /// against the stream the command goes to before it is decided
    /// ([`CommandContext::may_act_on`]).
    pub cinemas: Option<std::collections::BTreeSet<Uuid>>,
}

/// What a step the system takes on its own follows from: the request it belongs to (its
/// correlation id) and the command or event that caused it. Recorded in the step's events,
/// so an auditor can tie a promo use, a payment notification's settlement or an exchange's
/// second step back to the request that started it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
}

impl Cause {
    /// Caused by a recorded event (a process manager following the log).
    pub fn of_event(event_id: Uuid, metadata: &Metadata) -> Self {
        Self {
            correlation_id: metadata.correlation_id.clone(),
            causation_id: Some(event_id.to_string()),
        }
    }
}

impl CommandContext {
    /// A client's command.
    pub fn request(
        actor: impl Into<String>,
        idempotency_key: impl Into<String>,
        correlation_id: Option<String>,
    ) -> Self {
        Self {
            actor: actor.into(),
            idempotency_key: idempotency_key.into(),
            correlation_id,
            causation_id: None,
            cinemas: None,
        }
    }

    /// The same, for a caller who may act on these cinemas only.
    pub fn limited_to(mut self, cinemas: Option<std::collections::BTreeSet<Uuid>>) -> Self {
        self.cinemas = cinemas;
        self
    }

    /// Refuses a command on a stream of `cinema` (None: of no cinema, such as a show with
    /// an inline layout, or of the whole chain: cities, movies, promo codes) when the caller
    /// may act on some cinemas only, and not this one.
    pub fn may_act_on(&self, cinema: Option<Uuid>) -> Result<(), crate::CommandError> {
        match (&self.cinemas, cinema) {
            (None, _) => Ok(()),
            (Some(cinemas), Some(cinema)) if cinemas.contains(&cinema) => Ok(()),
            (Some(_), _) => Err(crate::CommandError::Forbidden(
                "this account does not act for this cinema".into(),
            )),
        }
    }

    /// A step the system takes as `actor` (`system:{component}`), keyed so that it is
    /// taken once however often it is tried, because of `cause`.
    pub fn system(actor: &str, idempotency_key: String, cause: &Cause) -> Self {
        Self {
            actor: actor.to_owned(),
            idempotency_key,
            correlation_id: cause.correlation_id.clone(),
            causation_id: cause.causation_id.clone(),
            cinemas: None,
        }
    }

    /// The cause of the steps this command leads to.
    pub fn cause(&self) -> Cause {
        Cause {
            correlation_id: self.correlation_id.clone(),
            causation_id: Some(self.command_id()),
        }
    }

    /// The id of this command (the same for every retry).
    fn command_id(&self) -> String {
        self.derive_id("command").to_string()
    }

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
            causation_id: Some(
                self.causation_id
                    .clone()
                    .unwrap_or_else(|| self.command_id()),
            ),
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
        let context = |actor: &str, key: &str| CommandContext::request(actor, key, None);
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
