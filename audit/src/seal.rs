//! Seals: signed statements of what the log held, chained to each other.
//!
//! The hash chain makes any change to a stream change its last hash, but someone able to
//! rewrite the log can rewrite the chain too. A seal fixes the chain from outside: it lists
//! the head (version and hash) of every stream changed since the previous seal, names the
//! previous seal by its digest, and is signed with Ed25519. Whoever keeps a copy of a seal
//! (or of its digest) outside the system can later prove that nothing it covers changed:
//! every stream head it lists commits to that stream's whole history, and the previous
//! seal, transitively, to every earlier head.
//!
//! What is signed is the canonical encoding of the seal's body (the chain's encoding: sorted
//! keys, no whitespace), so it can be checked with any Ed25519 library; the digest is
//! SHA-256 of the same bytes.

use boxoffice_eventstore::{EventHash, Position};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The event type of a seal in the `seals` stream.
pub const SEAL_EVENT: &str = "LogSealed";
/// Its schema version.
pub const SEAL_SCHEMA_VERSION: i32 = 1;

/// One stream's head as a seal fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SealedHead {
    pub stream: String,
    pub version: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hash: EventHash,
}

/// What a seal says, before it is signed. Unknown fields are refused by [`Seal`], which
/// holds it flattened (marking the body itself strict would also make its schema refuse the
/// seal's `signature`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealBody {
    /// 1 for the first seal, then one more each time.
    pub number: u64,
    pub sealed_at: DateTime<Utc>,
    /// The last log position it covers: every event up to it is under this seal or an
    /// earlier one.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub through: Position,
    /// The digest of the previous seal (none for the first).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub previous: Option<EventHash>,
    /// Every stream changed since the previous seal, by name, at its last version.
    pub streams: Vec<SealedHead>,
    /// The Ed25519 public key that signs it, hex.
    pub public_key: String,
}

/// A signed seal, as the `seals` stream holds it and `GET /v1/audit/seals` serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Seal {
    #[serde(flatten)]
    pub body: SealBody,
    /// The Ed25519 signature of the body's canonical encoding, hex.
    pub signature: String,
}

/// Why a seal does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("seal {0} is signed by {1}, not by the key it is checked against")]
    OtherKey(u64, String),
    #[error("seal {0}'s signature does not match its content")]
    BadSignature(u64),
    #[error("not a seal: {0}")]
    Malformed(String),
}

impl SealBody {
    /// The bytes that are signed and hashed.
    pub fn canonical(&self) -> Vec<u8> {
        let value = serde_json::to_value(self)
            .expect("a seal body is numbers, strings and lists: it always serialises");
        boxoffice_eventstore::chain::canonical_json(&value)
    }

    /// What the next seal names this one by.
    pub fn digest(&self) -> EventHash {
        EventHash(Sha256::digest(self.canonical()).into())
    }
}

impl Seal {
    /// Checks the signature with `key` (the auditor's own copy of the public key).
    pub fn verify(&self, key: &PublicKey) -> Result<(), SealError> {
        if self.body.public_key != key.to_hex() {
            return Err(SealError::OtherKey(
                self.body.number,
                self.body.public_key.clone(),
            ));
        }
        let signature = decode_hex::<64>(&self.signature)
            .map(|bytes| ed25519_dalek::Signature::from_bytes(&bytes))
            .ok_or(SealError::BadSignature(self.body.number))?;
        key.0
            .verify(&self.body.canonical(), &signature)
            .map_err(|_| SealError::BadSignature(self.body.number))
    }

    /// Reads a seal from its JSON (a file an auditor kept, or a seal event's data).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, SealError> {
        Seal::deserialize(value).map_err(|e| SealError::Malformed(e.to_string()))
    }
}

/// A seal as the event the `seals` stream holds.
impl boxoffice_domain::StoredEvent for Seal {
    fn readable() -> &'static [(&'static str, i32)] {
        &[(SEAL_EVENT, SEAL_SCHEMA_VERSION)]
    }

    fn event_type(&self) -> &'static str {
        SEAL_EVENT
    }

    fn schema_version(&self) -> i32 {
        SEAL_SCHEMA_VERSION
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .expect("a seal is numbers, strings and lists: it always serialises")
    }

    fn from_stored(
        event_type: &str,
        schema_version: i32,
        data: &serde_json::Value,
    ) -> Result<Self, boxoffice_domain::UnknownEvent> {
        let unknown = |reason: String| boxoffice_domain::UnknownEvent {
            event_type: event_type.to_owned(),
            schema_version,
            reason,
        };
        if event_type != SEAL_EVENT || schema_version != SEAL_SCHEMA_VERSION {
            return Err(unknown("not a seal".into()));
        }
        Seal::from_json(data).map_err(|e| unknown(e.to_string()))
    }
}

/// Checks seals one after the other, as the `seals` stream holds them: each signed by the
/// auditor's key, numbered one more than the one before and naming it by its digest.
pub struct SealChain<'a> {
    key: &'a PublicKey,
    /// The seal before the next one: `Some(None)` at the start of the log, `None` when the
    /// reading began somewhere after it (the first seal read can name any seal).
    before: Option<Option<(u64, EventHash)>>,
}

impl<'a> SealChain<'a> {
    /// For the `seals` stream read from its first seal.
    pub fn from_start(key: &'a PublicKey) -> Self {
        Self {
            key,
            before: Some(None),
        }
    }

    /// For seals read from somewhere in the middle of the log.
    pub fn mid_log(key: &'a PublicKey) -> Self {
        Self { key, before: None }
    }

    /// Checks the next seal: whether its signature holds, and the first thing wrong with
    /// it (its signature, its number or the seal it names), if any.
    pub fn next(&mut self, seal: &Seal) -> (bool, Option<String>) {
        let number = seal.body.number;
        let signature = seal.verify(self.key);
        let holds = signature.is_ok();
        let problem = match (signature, self.before) {
            (Err(error), _) => Some(error.to_string()),
            (Ok(()), None) => None,
            (Ok(()), Some(before)) => {
                let follows = before.map_or(0, |(n, _)| n);
                if Some(number) != follows.checked_add(1) {
                    Some(format!("seal {number} follows seal {follows}"))
                } else if seal.body.previous != before.map(|(_, digest)| digest) {
                    Some(format!("seal {number} does not name the seal before it"))
                } else {
                    None
                }
            }
        };
        self.before = Some(Some((number, seal.body.digest())));
        (holds, problem)
    }
}

/// The key the server signs seals with (and, a key of the same kind, tickets).
pub struct SigningKey(ed25519_dalek::SigningKey);

/// The key anyone checks seals with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl SigningKey {
    /// A key from its 32-byte seed, written as 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        decode_hex::<32>(text.trim()).map(|seed| Self(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// The development key: anyone can make it, so seals signed with it prove nothing.
    pub fn development() -> Self {
        Self::development_for("audit")
    }

    /// The development key for `purpose` (the server signs tickets too, with a key of their
    /// own): as public as [`SigningKey::development`].
    pub fn development_for(purpose: &str) -> Self {
        let seed: [u8; 32] =
            Sha256::digest(format!("boxoffice development {purpose} key").as_bytes()).into();
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Signs any message (a ticket's QR code): the 64 bytes of the Ed25519 signature.
    pub fn sign_message(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `body` (whose `public_key` must be this key's).
    pub fn seal(&self, body: SealBody) -> Seal {
        let signature = self.0.sign(&body.canonical());
        Seal {
            body,
            signature: to_hex(&signature.to_bytes()),
        }
    }
}

impl PublicKey {
    /// A key from 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        decode_hex::<32>(text.trim())
            .and_then(|bytes| ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok())
            .map(Self)
    }

    pub fn to_hex(&self) -> String {
        to_hex(self.0.as_bytes())
    }

    /// Whether `signature` is this key's over `message` (strictly: no malleable forms).
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verify_strict(message, &signature).is_ok()
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(key: &SigningKey) -> SealBody {
        SealBody {
            number: 1,
            sealed_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            through: Position::new(900, 12),
            previous: None,
            streams: vec![SealedHead {
                stream: "show-1".into(),
                version: 41,
                hash: EventHash([7; 32]),
            }],
            public_key: key.public_key().to_hex(),
        }
    }

    #[test]
    fn a_seal_verifies_with_its_key_and_not_after_any_change() {
        let key = SigningKey::from_hex(&"11".repeat(32)).unwrap();
        let seal = key.seal(body(&key));
        assert_eq!(seal.verify(&key.public_key()), Ok(()));
        let json = serde_json::to_value(&seal).unwrap();
        assert_eq!(Seal::from_json(&json), Ok(seal.clone()));

        let mut moved = seal.clone();
        moved.body.streams[0].version = 40;
        assert_eq!(
            moved.verify(&key.public_key()),
            Err(SealError::BadSignature(1))
        );
        let mut rehashed = seal.clone();
        rehashed.body.streams[0].hash = EventHash([8; 32]);
        assert!(rehashed.verify(&key.public_key()).is_err());

        let other = SigningKey::development();
        let forged = other.seal(SealBody {
            public_key: key.public_key().to_hex(),
            ..body(&key)
        });
        assert_eq!(
            forged.verify(&key.public_key()),
            Err(SealError::BadSignature(1))
        );
        assert!(matches!(
            other.seal(body(&other)).verify(&key.public_key()),
            Err(SealError::OtherKey(1, _))
        ));
    }

    #[test]
    fn a_seal_is_stored_and_read_as_the_one_type_and_version_it_lists() {
        use boxoffice_domain::StoredEvent;
        let key = SigningKey::development();
        let seal = key.seal(body(&key));
        assert_eq!(
            Seal::readable(),
            [(seal.event_type(), seal.schema_version())]
        );
        let stored = seal.to_json();
        let read = Seal::from_stored(SEAL_EVENT, SEAL_SCHEMA_VERSION, &stored);
        assert_eq!(read.ok(), Some(seal));
        for version in [0, SEAL_SCHEMA_VERSION + 1] {
            assert!(Seal::from_stored(SEAL_EVENT, version, &stored).is_err());
        }
        assert!(Seal::from_stored("SeatsHeld", SEAL_SCHEMA_VERSION, &stored).is_err());
    }

    #[test]
    fn a_seal_with_a_field_it_does_not_know_is_refused() {
        let key = SigningKey::development();
        let mut json = serde_json::to_value(key.seal(body(&key))).unwrap();
        assert!(Seal::from_json(&json).is_ok());
        json["note"] = serde_json::json!("added later");
        assert!(matches!(
            Seal::from_json(&json),
            Err(SealError::Malformed(_))
        ));
    }

    #[test]
    fn the_digest_names_exactly_one_body() {
        let key = SigningKey::development();
        let a = body(&key);
        let b = SealBody {
            number: 2,
            previous: Some(a.digest()),
            ..a.clone()
        };
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), a.clone().digest());
        assert!(SigningKey::from_hex("zz").is_none());
        assert!(PublicKey::from_hex(&key.public_key().to_hex()).is_some());
    }
}
