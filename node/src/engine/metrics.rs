//! The node's own metrics, registered with the runtime so the API can expose them
//! next to consensus's.

use commonware_runtime::{
    Metrics,
    telemetry::metrics::{Gauge, GaugeExt as _, MetricsExt as _, histogram::Timed},
};

/// Gauges and timers the node updates.
pub struct NodeMetrics {
    finalized_height: Gauge,
    mempool_size: Gauge,
    pub(crate) build_duration: Timed,
    pub(crate) verify_duration: Timed,
    pub(crate) finalize_duration: Timed,
    encode: Box<dyn Fn() -> String + Send + Sync>,
}

impl std::fmt::Debug for NodeMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeMetrics").finish_non_exhaustive()
    }
}

impl NodeMetrics {
    /// Register the node's metrics under `context`.
    pub(crate) fn new<M: Metrics>(context: &M) -> Self {
        let node = context.child("plexus");
        // Every context of a runtime encodes the runtime's whole registry.
        let encoder = context.child("metrics");
        Self {
            finalized_height: node.gauge("finalized_height", "Height of the last committed block"),
            mempool_size: node.gauge("mempool_size", "Transactions waiting in the mempool"),
            build_duration: Timed::register(
                &node,
                "block_build_duration",
                "Time to build a proposed block, in seconds",
            ),
            verify_duration: Timed::register(
                &node,
                "block_verify_duration",
                "Time to re-execute a peer's block, in seconds",
            ),
            finalize_duration: Timed::register(
                &node,
                "block_finalize_duration",
                "Time to commit a finalized block durably, in seconds",
            ),
            encode: Box::new(move || encoder.encode()),
        }
    }

    /// Record the committed height.
    pub(crate) fn set_finalized_height(&self, height: u64) {
        let _ = self.finalized_height.try_set(height);
    }

    /// Record the mempool's size.
    pub(crate) fn set_mempool_size(&self, size: usize) {
        let _ = self.mempool_size.try_set(size);
    }

    /// Every metric of the runtime, in the Prometheus text format.
    pub fn encode(&self) -> String {
        (self.encode)()
    }
}
