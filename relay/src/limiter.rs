//! Per-client token buckets in bounded memory, free of I/O: the caller passes the time.
//!
//! Each client key holds a bucket of `burst` tokens that refills at `per_second`
//! tokens a second; a request takes one token or is denied with the time until one
//! is back. A bucket that has refilled to full behaves exactly like a missing one,
//! so full buckets are dropped as soon as they are full again: the memory held is
//! that of the clients active within the last `burst / per_second` seconds, and at
//! most `max_tracked` keys. Past that cap the bucket closest to full is dropped (its
//! client gets a fresh, full bucket: the least generous choice the cap allows).
//!
//! The arithmetic is exact: a token is [`UNITS_PER_TOKEN`] units and a bucket gains
//! `per_second` units every nanosecond.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::IpAddr,
    time::{Duration, Instant},
};

use thiserror::Error;

/// Units of one token: a bucket refilling at `r` tokens a second gains `r` units a
/// nanosecond.
pub const UNITS_PER_TOKEN: u64 = 1_000_000_000;

/// How fast each client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    /// Tokens a bucket regains per second: the sustained request rate.
    pub per_second: u32,
    /// Tokens a full bucket holds: the most requests sent at once.
    pub burst: u32,
    /// Most client keys tracked at once.
    pub max_tracked: usize,
}

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            per_second: 5,
            burst: 20,
            max_tracked: 65_536,
        }
    }
}

/// Why a [`RateConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RateConfigError {
    /// The rate is zero: no request would ever pass.
    #[error("the rate must be at least 1 request per second")]
    ZeroRate,
    /// The burst is zero: no request would ever pass.
    #[error("the burst must be at least 1 request")]
    ZeroBurst,
    /// The cap on tracked clients is zero.
    #[error("at least one client address must be tracked")]
    ZeroTracked,
}

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Serve it; a token was taken.
    Allow,
    /// Refuse it; a token is back after `retry_after`.
    Deny {
        /// Time until the client's bucket holds a whole token again.
        retry_after: Duration,
    },
}

/// The key a client address is limited under: an IPv4 address, or the /64 prefix of
/// an IPv6 address (one subscriber usually holds a whole /64). IPv4-mapped IPv6
/// addresses count as their IPv4 address.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Units held at `updated`.
    level: u64,
    updated: Instant,
    /// When the bucket is full again if nothing more is taken.
    full_at: Instant,
}

/// Token buckets for many clients. Plain data: put it behind a lock to share it.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: u64,
    capacity: u64,
    max_tracked: usize,
    buckets: BTreeMap<IpAddr, Bucket>,
    /// Every bucket by the time it is full again: the front is the next to drop.
    by_full_at: BTreeSet<(Instant, IpAddr)>,
}

impl RateLimiter {
    /// Buckets as `config` says.
    pub fn new(config: RateConfig) -> Result<Self, RateConfigError> {
        if config.per_second == 0 {
            return Err(RateConfigError::ZeroRate);
        }
        if config.burst == 0 {
            return Err(RateConfigError::ZeroBurst);
        }
        if config.max_tracked == 0 {
            return Err(RateConfigError::ZeroTracked);
        }
        Ok(Self {
            per_second: u64::from(config.per_second),
            capacity: u64::from(config.burst) * UNITS_PER_TOKEN,
            max_tracked: config.max_tracked,
            buckets: BTreeMap::new(),
            by_full_at: BTreeSet::new(),
        })
    }

    /// Take a token for `key` at `now`, or say how long until one is back. Times
    /// earlier than the bucket's last update count as that update (no refill).
    pub fn check(&mut self, key: IpAddr, now: Instant) -> Decision {
        self.sweep(now);
        let (level, at) = match self.buckets.get(&key) {
            Some(bucket) => {
                self.by_full_at.remove(&(bucket.full_at, key));
                (self.level_at(bucket, now), now.max(bucket.updated))
            }
            None => {
                if self.buckets.len() >= self.max_tracked {
                    self.evict_closest_to_full();
                }
                (self.capacity, now)
            }
        };
        let (level, decision) = match level.checked_sub(UNITS_PER_TOKEN) {
            Some(rest) => (rest, Decision::Allow),
            None => (
                level,
                Decision::Deny {
                    retry_after: self.time_to_gain(UNITS_PER_TOKEN - level),
                },
            ),
        };
        // Never full here: either a token was just taken or less than one is held.
        let full_at = at + self.time_to_gain(self.capacity - level);
        self.buckets.insert(
            key,
            Bucket {
                level,
                updated: at,
                full_at,
            },
        );
        self.by_full_at.insert((full_at, key));
        decision
    }

    /// Drop every bucket that is full at `now` (it behaves like a missing one).
    pub fn sweep(&mut self, now: Instant) {
        while let Some(&(full_at, key)) = self.by_full_at.first() {
            if full_at > now {
                break;
            }
            self.by_full_at.pop_first();
            self.buckets.remove(&key);
        }
    }

    /// Client keys tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }

    fn evict_closest_to_full(&mut self) {
        if let Some((_, key)) = self.by_full_at.pop_first() {
            self.buckets.remove(&key);
        }
    }

    fn level_at(&self, bucket: &Bucket, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(bucket.updated).as_nanos();
        let gained = elapsed.saturating_mul(u128::from(self.per_second));
        let level = u128::from(bucket.level).saturating_add(gained);
        u64::try_from(level.min(u128::from(self.capacity))).unwrap_or(self.capacity)
    }

    /// The time a bucket takes to gain `units`, rounded up to the nanosecond.
    fn time_to_gain(&self, units: u64) -> Duration {
        Duration::from_nanos(units.div_ceil(self.per_second))
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::*;

    fn limiter(per_second: u32, burst: u32, max_tracked: usize) -> RateLimiter {
        RateLimiter::new(RateConfig {
            per_second,
            burst,
            max_tracked,
        })
        .unwrap()
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))
    }

    /// The same buckets with no eviction and no sweeping: the definition.
    struct Reference {
        per_second: u128,
        capacity: u128,
        buckets: BTreeMap<IpAddr, (u128, Instant)>,
    }

    impl Reference {
        fn check(&mut self, key: IpAddr, now: Instant) -> bool {
            let (level, updated) = self
                .buckets
                .get(&key)
                .copied()
                .unwrap_or((self.capacity, now));
            let elapsed = now.saturating_duration_since(updated).as_nanos();
            let level = (level + elapsed * self.per_second).min(self.capacity);
            let unit = u128::from(UNITS_PER_TOKEN);
            let (level, allowed) = if level >= unit {
                (level - unit, true)
            } else {
                (level, false)
            };
            self.buckets.insert(key, (level, now.max(updated)));
            allowed
        }
    }

    #[test]
    fn zero_rates_bursts_and_caps_are_refused() {
        let config = RateConfig::default();
        for (bad, error) in [
            (
                RateConfig {
                    per_second: 0,
                    ..config
                },
                RateConfigError::ZeroRate,
            ),
            (
                RateConfig { burst: 0, ..config },
                RateConfigError::ZeroBurst,
            ),
            (
                RateConfig {
                    max_tracked: 0,
                    ..config
                },
                RateConfigError::ZeroTracked,
            ),
        ] {
            assert_eq!(RateLimiter::new(bad).unwrap_err(), error);
        }
    }

    #[test]
    fn a_fresh_client_gets_its_burst_then_waits_one_token_time() {
        let mut l = limiter(2, 3, 16);
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check(ip(1), t), Decision::Allow);
        }
        assert_eq!(
            l.check(ip(1), t),
            Decision::Deny {
                retry_after: Duration::from_millis(500)
            }
        );
        assert_eq!(
            l.check(ip(2), t),
            Decision::Allow,
            "others are not affected"
        );
        assert_eq!(l.check(ip(1), t + Duration::from_millis(499)), {
            Decision::Deny {
                retry_after: Duration::from_millis(1),
            }
        });
        assert_eq!(
            l.check(ip(1), t + Duration::from_millis(500)),
            Decision::Allow
        );
    }

    #[test]
    fn idle_clients_are_forgotten_once_their_bucket_is_full() {
        let mut l = limiter(1, 2, 16);
        let t = Instant::now();
        l.check(ip(1), t);
        l.check(ip(2), t);
        l.check(ip(2), t);
        assert_eq!(l.tracked(), 2);
        l.sweep(t + Duration::from_secs(1));
        assert_eq!(l.tracked(), 1, "one token taken: full after 1 s");
        l.sweep(t + Duration::from_secs(2));
        assert_eq!(l.tracked(), 0, "two tokens taken: full after 2 s");
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64_and_mapped_ipv4_is_ipv4() {
        let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a.into()), client_key(b.into()));
        assert_ne!(client_key(a.into()), client_key(c.into()));
        let mapped: Ipv6Addr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            client_key(mapped.into()),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))
        );
    }

    /// Request times: increasing offsets from a start, in microseconds.
    fn times(max_gap_us: u64, len: usize) -> impl Strategy<Value = Vec<u64>> {
        proptest::collection::vec(0..max_gap_us, 1..len).prop_map(|gaps| {
            gaps.iter()
                .scan(0u64, |t, g| {
                    *t += g;
                    Some(*t)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn a_client_never_gets_more_than_its_burst_plus_what_its_rate_refilled(
            per_second in 1u32..200,
            burst in 1u32..50,
            offsets in times(100_000, 400),
        ) {
            let mut l = limiter(per_second, burst, 4);
            let start = Instant::now();
            let mut allowed = 0u128;
            for &us in &offsets {
                if l.check(ip(1), start + Duration::from_micros(us)) == Decision::Allow {
                    allowed += 1;
                }
                // Over [start, now]: at most burst + per_second * elapsed tokens.
                let bound = u128::from(burst)
                    + u128::from(us) * u128::from(per_second) / 1_000_000;
                prop_assert!(allowed <= bound, "{allowed} allowed, bound {bound}");
            }
        }

        #[test]
        fn a_denied_client_is_served_once_its_retry_after_has_passed(
            per_second in 1u32..200,
            burst in 1u32..20,
            offsets in times(50_000, 200),
        ) {
            let mut l = limiter(per_second, burst, 4);
            let start = Instant::now();
            for &us in &offsets {
                let now = start + Duration::from_micros(us);
                if let Decision::Deny { retry_after } = l.check(ip(1), now) {
                    prop_assert!(retry_after > Duration::ZERO);
                    prop_assert!(retry_after <= Duration::from_secs(1) / per_second + Duration::from_nanos(1));
                    prop_assert_eq!(l.check(ip(1), now + retry_after), Decision::Allow);
                    return Ok(());
                }
            }
        }

        #[test]
        fn an_idle_client_regains_its_whole_burst(
            per_second in 1u32..200,
            burst in 1u32..20,
            offsets in times(50_000, 100),
        ) {
            let mut l = limiter(per_second, burst, 4);
            let start = Instant::now();
            for &us in &offsets {
                l.check(ip(1), start + Duration::from_micros(us));
            }
            let refill = Duration::from_nanos(
                (u64::from(burst) * UNITS_PER_TOKEN).div_ceil(u64::from(per_second)),
            );
            let later = start + Duration::from_micros(*offsets.last().unwrap()) + refill;
            for _ in 0..burst {
                prop_assert_eq!(l.check(ip(1), later), Decision::Allow);
            }
            let denied = matches!(l.check(ip(1), later), Decision::Deny { .. });
            prop_assert!(denied, "the burst is spent");
        }

        #[test]
        fn forgetting_full_buckets_never_changes_a_decision(
            per_second in 1u32..100,
            burst in 1u32..10,
            requests in proptest::collection::vec((0u8..6, 0u64..400_000), 1..300),
        ) {
            // Six keys, a cap of six: nothing is ever evicted, only swept.
            let mut l = limiter(per_second, burst, 6);
            let mut reference = Reference {
                per_second: u128::from(per_second),
                capacity: u128::from(burst) * u128::from(UNITS_PER_TOKEN),
                buckets: BTreeMap::new(),
            };
            let start = Instant::now();
            let mut t = 0;
            for (key, gap) in requests {
                t += gap;
                let now = start + Duration::from_micros(t);
                let allowed = l.check(ip(key), now) == Decision::Allow;
                prop_assert_eq!(allowed, reference.check(ip(key), now));
            }
        }

        #[test]
        fn the_number_of_tracked_clients_never_exceeds_the_cap(
            cap in 1usize..8,
            requests in proptest::collection::vec((0u8..40, 0u64..1_000), 1..300),
        ) {
            let mut l = limiter(1, 3, cap);
            let start = Instant::now();
            let mut t = 0;
            for (key, gap) in requests {
                t += gap;
                l.check(ip(key), start + Duration::from_micros(t));
                prop_assert!(l.tracked() <= cap);
                prop_assert_eq!(l.tracked(), l.by_full_at.len());
            }
        }
    }
}
