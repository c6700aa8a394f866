//! Recording changes of access (roles set on accounts, API keys made and revoked) in the
//! log's `access` stream, so auditors see them beside the actions they allowed.
//!
//! The accounts and keys tables stay what the server checks; a change is recorded here
//! first and then made in the table, so no change made through the API goes unrecorded. A
//! change whose table update then fails is recorded and takes effect when the request is
//! tried again (under the same idempotency key the record is not repeated).

use crate::streams::Streams;
use crate::{CommandContext, CommandError, Outcome};
use boxoffice_domain::access::{Access, AccessCommand, AccessEvent};
use boxoffice_domain::StreamName;

#[derive(Clone)]
pub struct AccessRecords {
    streams: Streams,
}

impl AccessRecords {
    pub fn new(streams: Streams) -> Self {
        Self { streams }
    }

    /// Records `command` (nothing when it changes nothing, or was recorded before).
    pub async fn record(
        &self,
        command: AccessCommand,
        context: &CommandContext,
    ) -> Result<Outcome<AccessEvent>, CommandError> {
        self.streams
            .execute::<Access>(&StreamName::Access.to_string(), command, context)
            .await
    }
}
