//! Admission: at most `concurrency` requests run at once, at most `queue` wait, and
//! the rest are turned away at once with an estimate of when to come back.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ProviderError;

/// Longest `Retry-After` the provider suggests.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The admission gate in front of the engine.
#[derive(Debug)]
pub(crate) struct Gate {
    slots: Arc<Semaphore>,
    concurrency: usize,
    max_waiting: usize,
    waiting: AtomicUsize,
    /// Moving average of how long a request holds a slot, in milliseconds.
    service_ms: AtomicU64,
}

/// A running request's slot; frees it (and records how long it was held) on drop.
#[derive(Debug)]
pub(crate) struct Ticket {
    _permit: OwnedSemaphorePermit,
    gate: Arc<Gate>,
    started: Instant,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let took = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        // An exponential moving average with weight 1/8; races only blur it.
        let old = self.gate.service_ms.load(Ordering::Relaxed);
        let new = old - old / 8 + took / 8;
        self.gate.service_ms.store(new, Ordering::Relaxed);
    }
}

/// Counts a waiting request for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    /// A gate letting `concurrency` requests run and `queue` wait.
    pub(crate) fn new(concurrency: usize, queue: usize) -> Arc<Self> {
        let concurrency = concurrency.max(1);
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            max_waiting: queue,
            waiting: AtomicUsize::new(0),
            service_ms: AtomicU64::new(1_000),
        })
    }

    /// Requests waiting for a slot.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Requests holding a slot.
    pub(crate) fn active(&self) -> usize {
        self.concurrency - self.slots.available_permits()
    }

    /// Take a slot: at once if one is free, after waiting in line if the line is not
    /// full, or [`ProviderError::Busy`] right away. Waiting is cancelled by dropping
    /// the future (the client went away, or its deadline passed).
    pub(crate) async fn enter(self: &Arc<Self>) -> Result<Ticket, ProviderError> {
        let permit = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => return Err(ProviderError::ShuttingDown),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
                let _waiting = Waiting(&self.waiting);
                if ahead >= self.max_waiting {
                    return Err(ProviderError::Busy {
                        retry_after: self.retry_after(ahead),
                    });
                }
                Arc::clone(&self.slots)
                    .acquire_owned()
                    .await
                    .map_err(|_| ProviderError::ShuttingDown)?
            }
        };
        Ok(Ticket {
            _permit: permit,
            gate: Arc::clone(self),
            started: Instant::now(),
        })
    }

    /// When a request that found `ahead` others waiting could expect a slot.
    fn retry_after(&self, ahead: usize) -> Duration {
        let rounds = u64::try_from(ahead / self.concurrency + 1).unwrap_or(u64::MAX);
        let per_round = self.service_ms.load(Ordering::Relaxed);
        Duration::from_millis(rounds.saturating_mul(per_round))
            .clamp(Duration::from_secs(1), MAX_RETRY_AFTER)
    }

    /// Refuse every request from now on; running ones finish.
    pub(crate) fn close(&self) {
        self.slots.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_line_turns_requests_away_and_a_freed_slot_admits_the_next() {
        let gate = Gate::new(1, 1);
        let first = gate.enter().await.unwrap();
        assert_eq!(gate.active(), 1);
        let g = Arc::clone(&gate);
        let second = tokio::spawn(async move { g.enter().await.map(|_| ()) });
        while gate.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        match gate.enter().await {
            Err(ProviderError::Busy { retry_after }) => {
                assert!(retry_after >= Duration::from_secs(1));
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        second.await.unwrap().unwrap();
        assert_eq!(gate.waiting(), 0);
        assert_eq!(gate.active(), 0);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_the_line() {
        let gate = Gate::new(1, 4);
        let _held = gate.enter().await.unwrap();
        let waited = tokio::time::timeout(Duration::from_millis(20), gate.enter()).await;
        assert!(waited.is_err());
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test]
    async fn a_closed_gate_refuses_new_requests() {
        let gate = Gate::new(2, 2);
        gate.close();
        assert!(matches!(
            gate.enter().await,
            Err(ProviderError::ShuttingDown)
        ));
    }
}
