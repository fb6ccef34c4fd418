//! A rate limit per deposit: a token bucket for each deposit id asked about, so that
//! replaying issuance requests (a relay can replay the encapsulated bytes at will)
//! costs the issuer a bounded amount of work per deposit.
//!
//! The table is bounded: past [`DepositLimits::max_tracked`] deposits, the one seen
//! longest ago is forgotten.

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How many issuance requests one deposit may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositLimits {
    /// Requests admitted at once (the largest bundle's batches, with room for
    /// retries).
    pub burst: u32,
    /// Time for one more request to be admitted.
    pub refill_every: Duration,
    /// Most deposits remembered at once.
    pub max_tracked: usize,
}

impl Default for DepositLimits {
    fn default() -> Self {
        Self {
            burst: 24,
            refill_every: Duration::from_secs(1),
            max_tracked: 16_384,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Requests available, as of `at`.
    available: u32,
    at: Instant,
}

/// The buckets.
#[derive(Debug)]
pub(crate) struct DepositLimiter {
    limits: DepositLimits,
    buckets: Mutex<BTreeMap<u64, Bucket>>,
}

impl DepositLimiter {
    pub(crate) fn new(limits: DepositLimits) -> Self {
        Self {
            limits: DepositLimits {
                burst: limits.burst.max(1),
                refill_every: limits.refill_every.max(Duration::from_millis(1)),
                max_tracked: limits.max_tracked.max(1),
            },
            buckets: Mutex::new(BTreeMap::new()),
        }
    }

    /// Take one request for `deposit` at `now`, or say how long until one is free.
    pub(crate) fn admit(&self, deposit: u64, now: Instant) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Err(self.limits.refill_every);
        };
        let limits = self.limits;
        if !buckets.contains_key(&deposit) && buckets.len() >= limits.max_tracked {
            let oldest = buckets.iter().min_by_key(|(_, b)| b.at).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                buckets.remove(&oldest);
            }
        }
        let bucket = buckets.entry(deposit).or_insert(Bucket {
            available: limits.burst,
            at: now,
        });
        let every = limits.refill_every.as_nanos().max(1);
        let refilled = now.saturating_duration_since(bucket.at).as_nanos() / every;
        if refilled > 0 {
            let added = u32::try_from(refilled).unwrap_or(u32::MAX);
            bucket.available = bucket.available.saturating_add(added).min(limits.burst);
            // Keep the remainder of a partial refill; a full bucket starts afresh.
            bucket.at = if bucket.available == limits.burst {
                now
            } else {
                bucket.at + limits.refill_every * added
            };
        }
        if bucket.available == 0 {
            let next = bucket.at + limits.refill_every;
            return Err(next.saturating_duration_since(now));
        }
        bucket.available -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deposit_replayed_past_its_burst_is_refused_until_its_bucket_refills() {
        let limits = DepositLimits {
            burst: 3,
            refill_every: Duration::from_secs(1),
            max_tracked: 8,
        };
        let limiter = DepositLimiter::new(limits);
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.admit(7, t0).unwrap();
        }
        let wait = limiter.admit(7, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        // Another deposit is not affected.
        limiter.admit(8, t0).unwrap();
        // One second later, exactly one more.
        let t1 = t0 + Duration::from_secs(1);
        limiter.admit(7, t1).unwrap();
        assert!(limiter.admit(7, t1).is_err());
        // Long idle: back to a full burst, never more.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..3 {
            limiter.admit(7, t2).unwrap();
        }
        assert!(limiter.admit(7, t2).is_err());
    }

    #[test]
    fn the_table_of_deposits_stays_bounded() {
        let limiter = DepositLimiter::new(DepositLimits {
            burst: 1,
            refill_every: Duration::from_secs(60),
            max_tracked: 4,
        });
        let t0 = Instant::now();
        for d in 0..100u64 {
            limiter.admit(d, t0 + Duration::from_millis(d)).unwrap();
        }
        assert_eq!(limiter.buckets.lock().unwrap().len(), 4);
    }
}
