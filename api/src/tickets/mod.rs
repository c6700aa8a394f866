//! What a ticket looks like outside the server: a QR code a door scanner can check offline,
//! and its drawings (SVG, PNG).
//!
//! The QR code holds `BOXT1.<body>.<signature>`: the body is the JSON object
//! `{"show_id","seat_id","ticket_id","version"}` and the signature is Ed25519 over the
//! body's bytes, both base64url without padding. A scanner that has the public key
//! (`GET /v1/tickets/public-key`) knows the ticket was issued here and for which seat; only
//! the server knows whether it is still valid (a refund or exchange voids it), so the door
//! asks it once the code has been read (`POST /v1/shows/{show_id}/check-ins`).
//!
//! The drawings of a code are in [`draw`]; printable tickets, a page per seat, in [`pdf`].

pub mod draw;
pub mod pdf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use boxoffice_audit::seal::{PublicKey, SigningKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a ticket's QR code names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrTicket {
    pub show_id: Uuid,
    pub seat_id: String,
    pub ticket_id: Uuid,
    pub version: u32,
}

const PREFIX: &str = "BOXT1.";

/// The server's ticket key (and whether it is the development one), and the font tickets
/// are printed with.
pub struct TicketKeys {
    key: SigningKey,
    pub public_key: PublicKey,
    pub development: bool,
    pub font: pdf::Font,
}

impl TicketKeys {
    /// From the configured seed (64 hex digits); None: the development key.
    pub fn new(seed: Option<&str>, font: pdf::Font) -> Option<Self> {
        let (key, development) = match seed {
            Some(hex) => (SigningKey::from_hex(hex)?, false),
            None => (SigningKey::development_for("ticket"), true),
        };
        Some(Self {
            public_key: key.public_key(),
            key,
            development,
            font,
        })
    }

    /// The QR code's text for a ticket.
    pub fn sign(&self, ticket: &QrTicket) -> String {
        let body = serde_json::to_vec(ticket).unwrap_or_default();
        let signature = self.key.sign_message(&body);
        format!(
            "{PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// The ticket a QR code's text names, if this server signed it.
    pub fn verify(&self, payload: &str) -> Option<QrTicket> {
        let (body, signature) = payload.trim().strip_prefix(PREFIX)?.split_once('.')?;
        let body = URL_SAFE_NO_PAD.decode(body).ok()?;
        let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
        if !self.public_key.verifies(&body, &signature) {
            return None;
        }
        serde_json::from_slice(&body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> QrTicket {
        QrTicket {
            show_id: Uuid::from_u128(1),
            seat_id: "贵宾3".into(),
            ticket_id: Uuid::from_u128(2),
            version: 2,
        }
    }

    #[test]
    fn a_signed_ticket_verifies_and_a_changed_one_does_not() {
        let keys = TicketKeys::new(None, pdf::Font::Builtin).unwrap();
        let payload = keys.sign(&ticket());
        assert_eq!(keys.verify(&payload), Some(ticket()));
        let (head, signature) = payload.rsplit_once('.').unwrap();
        let mut other = ticket();
        other.version = 3;
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap());
        assert_eq!(
            keys.verify(&format!("{PREFIX}{forged_body}.{signature}")),
            None
        );
        assert_eq!(keys.verify(head), None);
        assert_eq!(keys.verify("not a ticket"), None);
        let elsewhere = TicketKeys::new(Some(&"11".repeat(32)), pdf::Font::Builtin).unwrap();
        assert_eq!(elsewhere.verify(&payload), None);
    }
}
