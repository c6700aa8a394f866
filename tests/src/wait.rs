//! Waiting for something the server does in its own time (a projector catching up, the
//! expiry scheduler, the payment provider's notification): the one way the tests wait.
//!
//! A test waits for a condition, polled, with a deadline generous enough for a loaded
//! machine ([`PATIENCE`]); it never sleeps a fixed time and hopes, and never asserts how
//! long something took. A deadline that passes is a failure that says what never happened
//! and what was seen last.

use crate::reply::Reply;
use chrono::{DateTime, Utc};
use std::fmt::Display;
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen at once or within a second or
/// so: long, so that only a real failure (never a slow machine) reaches it.
pub const PATIENCE: Duration = Duration::from_secs(60);

const POLL: Duration = Duration::from_millis(50);

/// Polls `probe` until it answers `Ok`, and returns that; `Err` means "not yet" and carries
/// what the probe saw, for the failure message if [`PATIENCE`] runs out first.
pub async fn eventually<T, E: Display>(
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = match probe().await {
            Ok(done) => return done,
            Err(seen) => seen,
        };
        assert!(
            Instant::now() < deadline,
            "{what}: not within {PATIENCE:?}; last seen: {seen}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Returns once the hold `held` (a hold's 201) has lapsed: the wall clock is past its
/// `expires_at` plus `grace_seconds`.
pub async fn until_lapsed(held: &Reply, grace_seconds: i64) {
    let expires_at: DateTime<Utc> = held
        .text("expires_at")
        .parse()
        .unwrap_or_else(|e| panic!("expires_at is not a time ({e}): {held}"));
    until_past(expires_at + chrono::Duration::seconds(grace_seconds)).await;
}

/// Returns once the wall clock has passed `moment`.
pub async fn until_past(moment: DateTime<Utc>) {
    while Utc::now() <= moment {
        let left = (moment - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(left.max(Duration::from_millis(1))).await;
    }
}
