//! Prometheus metrics: requests by outcome, bytes each way, requests in flight,
//! upstream latency, rate limiting and directory refreshes. No label names a target
//! or a client.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// How a relayed request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Outcome {
    /// The gateway's answer was streamed back.
    Forwarded,
    /// The client was over its rate.
    RateLimited,
    /// The target is not a hotkey address.
    InvalidTarget,
    /// The target is not in the directory.
    UnknownTarget,
    /// The body is not an encapsulated request.
    UnsupportedMediaType,
    /// The body is over the limit.
    TooLarge,
    /// The body could not be read in time or at all.
    BadBody,
    /// The gateway could not be reached.
    UpstreamUnreachable,
    /// The gateway did not answer in time.
    UpstreamTimeout,
    /// The gateway answered something other than an encapsulated response.
    BadUpstreamResponse,
    /// The relay itself failed.
    Internal,
}

impl Outcome {
    /// Every outcome, so each series exists from the start.
    const ALL: [Self; 11] = [
        Self::Forwarded,
        Self::RateLimited,
        Self::InvalidTarget,
        Self::UnknownTarget,
        Self::UnsupportedMediaType,
        Self::TooLarge,
        Self::BadBody,
        Self::UpstreamUnreachable,
        Self::UpstreamTimeout,
        Self::BadUpstreamResponse,
        Self::Internal,
    ];

    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Forwarded => "forwarded",
            Self::RateLimited => "rate_limited",
            Self::InvalidTarget => "invalid_target",
            Self::UnknownTarget => "unknown_target",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooLarge => "too_large",
            Self::BadBody => "bad_body",
            Self::UpstreamUnreachable => "upstream_unreachable",
            Self::UpstreamTimeout => "upstream_timeout",
            Self::BadUpstreamResponse => "bad_upstream_response",
            Self::Internal => "internal",
        }
    }
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

/// The relay's metrics.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<OutcomeLabels, Counter>,
    pub(crate) bytes_in: Counter,
    pub(crate) bytes_out: Counter,
    pub(crate) in_flight: Gauge,
    pub(crate) upstream_latency: Histogram,
    pub(crate) rate_limited: Counter,
    pub(crate) tracked_clients: Gauge,
    pub(crate) targets: Gauge,
    refreshes: Counter,
    refresh_errors: Family<SourceLabels, Counter>,
    last_refresh: Gauge,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("plexus_relay");
        let requests = Family::<OutcomeLabels, Counter>::default();
        for outcome in Outcome::ALL {
            drop(requests.get_or_create(&OutcomeLabels { outcome }));
        }
        registry.register("requests", "Relayed requests by outcome", requests.clone());
        let bytes_in = Counter::default();
        registry.register(
            "request_bytes",
            "Encapsulated request bytes forwarded to gateways",
            bytes_in.clone(),
        );
        let bytes_out = Counter::default();
        registry.register(
            "response_bytes",
            "Encapsulated response bytes streamed back to clients",
            bytes_out.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight",
            "Relayed requests being read, forwarded or streamed",
            in_flight.clone(),
        );
        let upstream_latency = Histogram::new([
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
        ]);
        registry.register(
            "upstream_latency_seconds",
            "Time from forwarding a request to the gateway's response headers",
            upstream_latency.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited",
            "Requests refused because their client was over its rate",
            rate_limited.clone(),
        );
        let tracked_clients = Gauge::default();
        registry.register(
            "rate_limiter_tracked_clients",
            "Client addresses the rate limiter holds a bucket for",
            tracked_clients.clone(),
        );
        let targets = Gauge::default();
        registry.register(
            "directory_targets",
            "Gateways the relay forwards to",
            targets.clone(),
        );
        let refreshes = Counter::default();
        registry.register(
            "directory_refreshes",
            "Directory refreshes in which every source answered",
            refreshes.clone(),
        );
        let refresh_errors = Family::<SourceLabels, Counter>::default();
        registry.register(
            "directory_refresh_errors",
            "Failed fetches of a target source (its last good list stays in use)",
            refresh_errors.clone(),
        );
        let last_refresh = Gauge::default();
        registry.register(
            "directory_last_refresh_timestamp_seconds",
            "Unix time of the last refresh in which every source answered",
            last_refresh.clone(),
        );
        Self {
            registry,
            requests,
            bytes_in,
            bytes_out,
            in_flight,
            upstream_latency,
            rate_limited,
            tracked_clients,
            targets,
            refreshes,
            refresh_errors,
            last_refresh,
        }
    }

    pub(crate) fn outcome(&self, outcome: Outcome) {
        self.requests
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        if outcome == Outcome::RateLimited {
            self.rate_limited.inc();
        }
    }

    pub(crate) fn latency(&self, took: Duration) {
        self.upstream_latency.observe(took.as_secs_f64());
    }

    pub(crate) fn refreshed(&self) {
        self.refreshes.inc();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.last_refresh
            .set(i64::try_from(now).unwrap_or(i64::MAX));
    }

    pub(crate) fn refresh_failed(&self, source: &str) {
        self.refresh_errors
            .get_or_create(&SourceLabels {
                source: source.to_owned(),
            })
            .inc();
    }

    /// The text exposition format.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "relay: encoding metrics failed");
        }
        out
    }
}
