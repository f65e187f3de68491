//! The rate limit of actions: a token bucket per key (a token's name, a session id), `rate` per second with a burst
//! of `rate`.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Buckets by key.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` actions per second per key (at least 1).
    pub fn new(rate: u32) -> Self {
        RateLimiter {
            rate: f64::from(rate.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one action from every bucket of `keys` at `now`, or none when one of them is empty.
    pub fn allow(&self, keys: &[&str], now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Old full buckets are forgotten so the map stays small.
        if buckets.len() > 10_000 {
            buckets.retain(|_, (_, at)| now.duration_since(*at) < Duration::from_secs(60));
        }
        let rate = self.rate;
        let level = |entry: Option<&(f64, Instant)>| match entry {
            Some((level, at)) => (level + now.duration_since(*at).as_secs_f64() * rate).min(rate),
            None => rate,
        };
        if keys.iter().any(|k| level(buckets.get(*k)) < 1.0) {
            return false;
        }
        for key in keys {
            let next = level(buckets.get(*key)) - 1.0;
            buckets.insert((*key).to_owned(), (next, now));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_rate_then_refill_over_time() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.allow(&["token:a", "session:x"], t0));
        }
        assert!(!limiter.allow(&["token:a", "session:y"], t0), "token a is spent");
        assert!(!limiter.allow(&["token:b", "session:x"], t0), "session x is spent");
        assert!(limiter.allow(&["token:b", "session:y"], t0), "others are not");
        assert!(
            limiter.allow(&["token:a", "session:z"], t0 + Duration::from_millis(400)),
            "one refilled"
        );
        assert!(!limiter.allow(&["token:a", "session:z"], t0 + Duration::from_millis(400)));
    }
}
