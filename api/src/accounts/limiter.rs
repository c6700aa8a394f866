//! Failed logins, counted per account and per client address over a sliding window: past
//! the limit, logins are refused with 429 and `Retry-After` until the oldest failure ages
//! out. In memory, per process (a restart forgets; several processes each count their own).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `None` if a login for these keys may be tried now, else how long to wait.
    pub fn blocked(&self, keys: &[&str], now: Instant) -> Option<Duration> {
        let mut failures = self.lock();
        keys.iter()
            .filter_map(|key| {
                let times = failures.get_mut(*key)?;
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                let oldest = *times.front()?;
                (times.len() >= self.max_failures)
                    .then(|| self.window.saturating_sub(now.duration_since(oldest)))
            })
            .max()
    }

    pub fn failed(&self, keys: &[&str], now: Instant) {
        let mut failures = self.lock();
        if failures.len() > 100_000 {
            // Bounded memory: forget keys whose failures have all aged out.
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        for key in keys {
            failures
                .entry((*key).to_owned())
                .or_default()
                .push_back(now);
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn succeeded(&self, account_key: &str) {
        self.lock().remove(account_key);
    }
}

impl Default for LoginLimiter {
    /// 5 failures in 15 minutes.
    fn default() -> Self {
        Self::new(5, Duration::from_secs(15 * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_until_the_oldest_ages_out() {
        let limiter = LoginLimiter::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..4 {
            limiter.failed(&["email:a", "ip:1"], t0 + Duration::from_secs(i));
        }
        assert_eq!(
            limiter.blocked(&["email:a", "ip:1"], t0 + Duration::from_secs(5)),
            None
        );
        limiter.failed(&["email:a", "ip:1"], t0 + Duration::from_secs(5));
        let wait = limiter
            .blocked(&["email:a"], t0 + Duration::from_secs(10))
            .expect("blocked");
        assert_eq!(wait, Duration::from_secs(50));
        // The address is blocked for other accounts too; another address is not.
        assert!(limiter
            .blocked(&["email:b", "ip:1"], t0 + Duration::from_secs(10))
            .is_some());
        assert_eq!(
            limiter.blocked(&["email:b", "ip:2"], t0 + Duration::from_secs(10)),
            None
        );
        // After the window the oldest failure no longer counts.
        assert_eq!(
            limiter.blocked(&["email:a"], t0 + Duration::from_secs(60)),
            None
        );
        // Success clears the account, not the address.
        limiter.failed(&["email:a"], t0 + Duration::from_secs(61));
        limiter.succeeded("email:a");
        assert_eq!(
            limiter.blocked(&["email:a"], t0 + Duration::from_secs(62)),
            None
        );
    }
}
