//! Signing requests the way Standard Webhooks (standardwebhooks.com) does, so receivers can
//! use its libraries: the secret is `whsec_` and base64 of the key; the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`; the `webhook-signature` header is `v1,` and
//! base64 of its HMAC-SHA256.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new secret made of `key` (32 random bytes, say).
pub fn secret_of(key: &[u8]) -> String {
    format!("{PREFIX}{}", STANDARD.encode(key))
}

fn mac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let key = STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(mac)
}

/// The `webhook-signature` header's value; `None` for a secret not made by [`secret_of`].
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let tag = mac(secret, id, timestamp, body)?.finalize().into_bytes();
    Some(format!("v1,{}", STANDARD.encode(tag)))
}

/// Whether `header` (space-separated signatures) holds a good signature of this request.
pub fn verifies(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    header.split(' ').any(|signature| {
        let Some(tag) = signature
            .strip_prefix("v1,")
            .and_then(|b| STANDARD.decode(b).ok())
        else {
            return false;
        };
        mac(secret, id, timestamp, body).is_some_and(|mac| mac.verify_slice(&tag).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_for_its_request_only() {
        let secret = secret_of(&[7; 32]);
        let header = sign(&secret, "msg_1", 1_700_000_000, b"{\"a\":1}").unwrap();
        assert!(header.starts_with("v1,"));
        let checks = |secret: &str, id: &str, timestamp: i64, body: &[u8]| {
            verifies(secret, id, timestamp, body, &header)
        };
        assert!(checks(&secret, "msg_1", 1_700_000_000, b"{\"a\":1}"));
        assert!(!checks(&secret, "msg_1", 1_700_000_000, b"{\"a\":2}"));
        assert!(!checks(&secret, "msg_2", 1_700_000_000, b"{\"a\":1}"));
        assert!(!checks(&secret, "msg_1", 1_700_000_001, b"{\"a\":1}"));
        let other = secret_of(&[8; 32]);
        assert!(!checks(&other, "msg_1", 1_700_000_000, b"{\"a\":1}"));
        assert!(sign("not a secret", "msg_1", 0, b"").is_none());
    }

    /// The example of the Standard Webhooks specification, so receivers using its
    /// libraries accept our signatures.
    #[test]
    fn the_standard_webhooks_example_signs_the_same() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
