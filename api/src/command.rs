//! The parts of a command request that are not its body: the idempotency key and the
//! request id.

use crate::auth::Identity;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use boxoffice_commands::CommandContext;
use uuid::Uuid;

const MAX_KEY_CHARS: usize = 200;

/// `Idempotency-Key` and `X-Request-Id` of a command request.
pub struct CommandHeaders {
    idempotency_key: Option<String>,
    request_id: Option<String>,
}

impl CommandHeaders {
    /// The command's context for `caller`. Without an `Idempotency-Key` a fresh key is used,
    /// so the command is carried out once but cannot be retried safely.
    pub fn context(&self, caller: &Identity) -> CommandContext {
        CommandContext::request(
            caller.sub.clone(),
            self.idempotency_key
                .clone()
                .unwrap_or_else(|| Uuid::new_v4().to_string()),
            self.request_id.clone(),
        )
        .limited_to(caller.cinemas.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let idempotency_key = match parts.headers.get("idempotency-key") {
            None => None,
            Some(value) => {
                let key = value
                    .to_str()
                    .ok()
                    .map(str::trim)
                    .filter(|k| {
                        !k.is_empty()
                            && k.len() <= MAX_KEY_CHARS
                            && k.bytes().all(|b| b.is_ascii_graphic())
                    })
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid_idempotency_key",
                            format!(
                                "Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
                            ),
                        )
                    })?;
                Some(key.to_owned())
            }
        };
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self {
            idempotency_key,
            request_id,
        })
    }
}
