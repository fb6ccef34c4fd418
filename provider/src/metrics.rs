//! Prometheus metrics: requests by route and status, tokens, generation speed,
//! queue depth and running requests.

use std::sync::Arc;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::gate::Gate;

/// Labels of the request counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    /// The route, e.g. `/v1/chat/completions`.
    pub(crate) route: String,
    /// The HTTP status.
    pub(crate) status: u16,
}

/// The provider's metrics.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) prompt_tokens: Counter,
    pub(crate) completion_tokens: Counter,
    pub(crate) tokens_per_second: Histogram,
    pub(crate) queue_depth: Gauge,
    pub(crate) running: Gauge,
    gate: Arc<Gate>,
}

impl Metrics {
    pub(crate) fn new(gate: Arc<Gate>) -> Self {
        let mut registry = Registry::with_prefix("plexus_provider");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("requests", "Requests by route and status", requests.clone());
        let prompt_tokens = Counter::default();
        registry.register("prompt_tokens", "Prompt tokens read", prompt_tokens.clone());
        let completion_tokens = Counter::default();
        registry.register(
            "completion_tokens",
            "Completion tokens generated",
            completion_tokens.clone(),
        );
        let tokens_per_second = Histogram::new([
            1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0,
        ]);
        registry.register(
            "generation_tokens_per_second",
            "Generation speed of each completed request",
            tokens_per_second.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Requests waiting for a slot",
            queue_depth.clone(),
        );
        let running = Gauge::default();
        registry.register("running", "Requests holding a slot", running.clone());
        Self {
            registry,
            requests,
            prompt_tokens,
            completion_tokens,
            tokens_per_second,
            queue_depth,
            running,
            gate,
        }
    }

    /// The text exposition format.
    pub(crate) fn encode(&self) -> String {
        self.queue_depth
            .set(i64::try_from(self.gate.waiting()).unwrap_or(i64::MAX));
        self.running
            .set(i64::try_from(self.gate.active()).unwrap_or(i64::MAX));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "provider: encoding metrics failed");
        }
        out
    }
}
