//! What every handler shares: the backend, the configuration, the API's metrics, the
//! recently accepted transactions and the live event streams.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use plexus_types::Hash;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use tokio::sync::watch;

use crate::{
    backend::{Backend, DataFiles},
    error::ApiError,
};

/// Largest request body accepted by default: 256 KiB (a transaction is at most 64 KiB,
/// hex doubles it).
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;
/// How long a request may take by default before it is answered `503 timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most concurrent event streams by default.
pub const DEFAULT_MAX_STREAMS: usize = 256;
/// Most open connections by default; further ones wait in the listen backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// How long a connection may take to send a request's headers (or sit idle between
/// requests) by default.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How many accepted transaction ids the API remembers as pending.
const PENDING_CAPACITY: usize = 8_192;
/// How long an accepted transaction counts as pending before it is forgotten.
const PENDING_TTL: Duration = Duration::from_secs(600);

/// Which browser origins may call the API (CORS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cors {
    /// Pages served from loopback (`http://127.0.0.1:*`, `http://localhost:*`,
    /// `http://[::1]:*`), such as the devnet's web UI: the default.
    #[default]
    Loopback,
    /// Any origin. Safe for a public read API: no request carries credentials, and
    /// transactions authenticate themselves by signature.
    Any,
    /// No cross-origin access.
    Disabled,
}

/// Tunables of the HTTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Longest a request may take before it is answered `503 timeout` (event
    /// streams are exempt once started).
    pub request_timeout: Duration,
    /// Most concurrent `GET /v1/events` streams.
    pub max_streams: usize,
    /// Most open connections ([`crate::serve`] only); further ones wait to be accepted.
    pub max_connections: usize,
    /// Longest a connection may take to send a request's headers, or sit idle
    /// between requests, before it is closed ([`crate::serve`] only).
    pub header_timeout: Duration,
    /// Cross-origin policy.
    pub cors: Cors,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_streams: DEFAULT_MAX_STREAMS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            cors: Cors::default(),
        }
    }
}

/// The state every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Arc<dyn Backend>,
    data: Option<Arc<dyn DataFiles>>,
    config: ApiConfig,
    metrics: ApiMetrics,
    pending: Mutex<Pending>,
    streams: AtomicUsize,
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("config", &self.inner.config)
            .field("streams", &self.inner.streams.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ApiState {
    /// State over `backend` with the default configuration.
    pub fn new(backend: impl Backend) -> Self {
        Self::with_config(Arc::new(backend), ApiConfig::default())
    }

    /// State over a shared `backend` with `config`.
    pub fn with_config(backend: Arc<dyn Backend>, config: ApiConfig) -> Self {
        let (closing, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                backend,
                data: None,
                config,
                metrics: ApiMetrics::new(),
                pending: Mutex::new(Pending::default()),
                streams: AtomicUsize::new(0),
                closing,
            }),
        }
    }

    /// This state serving data tasks' files and score reports from `files`. Call it
    /// before the server starts: a state already shared is left as it is, with a warning.
    pub fn with_data_files(mut self, files: Arc<dyn DataFiles>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.data = Some(files),
            None => tracing::warn!("api: the state is already shared; data files not attached"),
        }
        self
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.inner.backend
    }

    /// The dataset store, when the node serves one.
    pub(crate) fn data_files(&self) -> Option<&Arc<dyn DataFiles>> {
        self.inner.data.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// End every open event stream (and refuse new ones), so a graceful shutdown
    /// does not wait on clients that never hang up.
    pub fn close_streams(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Event streams open now.
    pub fn open_streams(&self) -> usize {
        self.inner.streams.load(Ordering::Relaxed)
    }

    pub(crate) fn metrics(&self) -> &ApiMetrics {
        &self.inner.metrics
    }

    /// Resolves once [`ApiState::close_streams`] is called.
    pub(crate) fn closed(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut rx = self.inner.closing.subscribe();
        async move {
            // An error means the sender is gone, which also means: stop.
            let _ = rx.wait_for(|closing| *closing).await;
        }
    }

    /// Reserve an event stream slot, released when the guard drops.
    pub(crate) fn open_stream(&self) -> Result<StreamGuard, ApiError> {
        if *self.inner.closing.borrow() {
            return Err(ApiError::Unavailable {
                code: "shutting_down",
                message: "the node is shutting down".into(),
            });
        }
        let max = self.inner.config.max_streams;
        self.inner
            .streams
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| ApiError::Unavailable {
                code: "too_many_streams",
                message: "too many event streams are open on this node: retry later".into(),
            })?;
        self.inner.metrics.streams.inc();
        Ok(StreamGuard {
            state: self.clone(),
        })
    }

    /// Remember that the mempool accepted `hash`.
    pub(crate) fn remember_pending(&self, hash: Hash) {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(hash, Instant::now());
    }

    /// Whether `hash` was accepted recently.
    pub(crate) fn is_pending(&self, hash: &Hash) -> bool {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(hash, Instant::now())
    }
}

/// Holds one event stream slot.
pub(crate) struct StreamGuard {
    state: ApiState,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.state.inner.streams.fetch_sub(1, Ordering::AcqRel);
        self.state.inner.metrics.streams.dec();
    }
}

/// Recently accepted transaction ids, oldest first, bounded in count and age.
#[derive(Debug, Default)]
struct Pending {
    at: BTreeMap<Hash, Instant>,
    order: VecDeque<(Hash, Instant)>,
}

impl Pending {
    fn insert(&mut self, hash: Hash, now: Instant) {
        self.expire(now);
        while self.order.len() >= PENDING_CAPACITY {
            self.pop_oldest();
        }
        self.at.insert(hash, now);
        self.order.push_back((hash, now));
    }

    fn contains(&mut self, hash: &Hash, now: Instant) -> bool {
        self.expire(now);
        self.at.contains_key(hash)
    }

    fn expire(&mut self, now: Instant) {
        while self
            .order
            .front()
            .is_some_and(|(_, at)| now.duration_since(*at) > PENDING_TTL)
        {
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((hash, at)) = self.order.pop_front() {
            // A re-submission refreshed the entry: keep the newer one.
            if self.at.get(&hash) == Some(&at) {
                self.at.remove(&hash);
            }
        }
    }
}

/// Labels of a finished request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    /// The matched route template, e.g. `/v1/accounts/{address}`.
    pub(crate) route: String,
    /// The HTTP method.
    pub(crate) method: String,
    /// The status code.
    pub(crate) status: u16,
}

/// Labels of a latency observation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    /// The matched route template.
    pub(crate) route: String,
    /// The HTTP method.
    pub(crate) method: String,
}

/// Labels of a submission outcome.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct SubmitLabels {
    /// `accepted`, or the rejection code.
    pub(crate) result: String,
}

/// The API's own metrics, appended to the node's.
pub(crate) struct ApiMetrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) latency: Family<RouteLabels, Histogram>,
    pub(crate) submissions: Family<SubmitLabels, Counter>,
    pub(crate) streams: Gauge,
}

impl ApiMetrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("plexus_api");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| {
                Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                    0.000_25, 2.0, 16,
                ))
            }) as fn() -> Histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time to produce a response (not to stream its body), by route and method",
            latency.clone(),
        );
        let submissions = Family::<SubmitLabels, Counter>::default();
        registry.register(
            "transactions_submitted",
            "Transactions submitted, by result (`accepted` or the rejection code)",
            submissions.clone(),
        );
        let streams = Gauge::default();
        registry.register("event_streams", "Open event streams", streams.clone());
        Self {
            registry,
            requests,
            latency,
            submissions,
            streams,
        }
    }

    /// The API's metrics in the OpenMetrics text format (ending in `# EOF`).
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "api: could not encode metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_ids_are_bounded_in_count_and_forgotten_after_their_ttl() {
        let mut p = Pending::default();
        let t0 = Instant::now();
        for i in 0..(PENDING_CAPACITY + 10) {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&(i as u64).to_le_bytes());
            p.insert(Hash(h), t0);
        }
        assert_eq!(p.order.len(), PENDING_CAPACITY);
        assert_eq!(p.at.len(), PENDING_CAPACITY);
        assert!(!p.contains(&Hash([0; 32]), t0));
        let mut last = [0u8; 32];
        last[..8].copy_from_slice(&((PENDING_CAPACITY + 9) as u64).to_le_bytes());
        assert!(p.contains(&Hash(last), t0));
        assert!(!p.contains(&Hash(last), t0 + PENDING_TTL + Duration::from_secs(1)));
        assert!(p.at.is_empty());
    }

    #[test]
    fn a_resubmitted_id_survives_the_expiry_of_its_first_entry() {
        let mut p = Pending::default();
        let t0 = Instant::now();
        p.insert(Hash([1; 32]), t0);
        p.insert(Hash([1; 32]), t0 + Duration::from_secs(300));
        assert!(p.contains(&Hash([1; 32]), t0 + PENDING_TTL + Duration::from_secs(1)));
    }
}
