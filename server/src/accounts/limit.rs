//! A small, bounded token-bucket rate limiter keyed by strings (client IP, email).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many requests a key may make: `burst` at once, then one per `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed at once.
    pub burst: u32,
    /// Time to earn one more request.
    pub every: Duration,
}

impl Rate {
    /// `burst` requests, then one per `every`.
    pub const fn new(burst: u32, every: Duration) -> Self {
        Self { burst, every }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per key, at most `max_keys` of them (when full, buckets that refilled are dropped, then all).
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// A limiter allowing `rate` per key, remembering at most `max_keys` keys.
    pub fn new(rate: Rate, max_keys: usize) -> Self {
        Self {
            rate,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, b: Bucket, now: Instant) -> f64 {
        let every = self.rate.every.as_secs_f64().max(1e-9);
        let earned = now.saturating_duration_since(b.at).as_secs_f64() / every;
        (b.tokens + earned).min(f64::from(self.rate.burst))
    }

    /// Take one request for `key`: `Ok` if allowed, else `Err(wait)` until the next one is.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(key) && map.len() >= self.max_keys {
            let burst = f64::from(self.rate.burst);
            map.retain(|_, b| self.refilled(*b, now) < burst);
            if map.len() >= self.max_keys {
                map.clear();
            }
        }
        let full = Bucket {
            tokens: f64::from(self.rate.burst),
            at: now,
        };
        let b = map.entry(key.to_owned()).or_insert(full);
        let tokens = self.refilled(*b, now);
        if tokens >= 1.0 {
            *b = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *b = Bucket { tokens, at: now };
            Err(self.rate.every.mul_f64(1.0 - tokens))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let l = Limiter::new(Rate::new(2, Duration::from_secs(10)), 100);
        let t0 = Instant::now();
        assert!(l.check_at("a", t0).is_ok());
        assert!(l.check_at("a", t0).is_ok());
        let wait = l.check_at("a", t0).expect_err("third is limited");
        assert!(wait <= Duration::from_secs(10) && wait > Duration::from_secs(9));
        assert!(l.check_at("b", t0).is_ok(), "keys are independent");
        assert!(l.check_at("a", t0 + Duration::from_secs(11)).is_ok());
        assert!(l.check_at("a", t0 + Duration::from_secs(11)).is_err());
    }

    #[test]
    fn memory_is_bounded() {
        let l = Limiter::new(Rate::new(1, Duration::from_secs(60)), 10);
        let t0 = Instant::now();
        for i in 0..1000 {
            let _ = l.check_at(&format!("k{i}"), t0);
            assert!(l.buckets.lock().map(|m| m.len()).unwrap_or(0) <= 10);
        }
    }
}
