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
    /// The last connected-peers count and when (wall clock) it was taken.
    peers: std::sync::Mutex<Option<(std::time::Instant, usize)>>,
}

/// How long a connected-peers count is reused: counting encodes the runtime's whole
/// registry, far too much work for every status request.
const PEERS_TTL: std::time::Duration = std::time::Duration::from_secs(1);

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
            peers: std::sync::Mutex::new(None),
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

    /// Peers the p2p network holds a connection to now: the per-peer
    /// `directory_connected` gauges of commonware's peer tracker (each the time the
    /// peer became active; removed when it disconnects). None on a p2p without a
    /// tracker, such as the simulated one.
    /// Counted at most once a second (counting encodes the whole registry).
    pub fn connected_peers(&self) -> usize {
        let mut cached = self
            .peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match *cached {
            Some((at, count)) if at.elapsed() < PEERS_TTL => count,
            _ => {
                let count = connected_peers(&self.encode());
                *cached = Some((std::time::Instant::now(), count));
                count
            }
        }
    }

    /// Every metric of the runtime, in the Prometheus text format.
    pub fn encode(&self) -> String {
        (self.encode)()
    }
}

/// Count the per-peer tracker gauges `..._tracker_directory_connected{peer="..."} V`
/// with V ≠ 0.
fn connected_peers(metrics: &str) -> usize {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('{'))
        .filter(|(name, _)| name.ends_with("tracker_directory_connected"))
        .filter(|(_, rest)| {
            rest.rsplit_once(' ')
                .and_then(|(_, value)| value.trim().parse::<f64>().ok())
                .is_some_and(|value| value != 0.0)
        })
        .count()
}

#[cfg(test)]
mod tests {
    #[test]
    fn connected_peers_count_the_trackers_non_zero_per_peer_gauges() {
        let text = "# HELP node_network_tracker_directory_connected When each peer became active.\n\
            # TYPE node_network_tracker_directory_connected gauge\n\
            node_network_tracker_directory_connected{peer=\"aa\"} 1796672685525\n\
            node_network_tracker_directory_connected{peer=\"bb\"} 0\n\
            node_network_tracker_directory_connected{peer=\"cc\"} 1796672685999\n\
            node_network_tracker_directory_reserved 3\n\
            node_network_spawner_connected{peer=\"dd\"} 1\n";
        assert_eq!(super::connected_peers(text), 2);
        assert_eq!(super::connected_peers(""), 0);
    }
}
