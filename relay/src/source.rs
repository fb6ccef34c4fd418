//! Where targets come from, and the loop that keeps the relay's directory fresh.
//!
//! A [`TargetSource`] lists gateways; [`ChainTargets`] lists every neuron that
//! serves an endpoint, on every subnet. More sources (credit issuers, which register
//! their own URL on chain) plug in with [`Refresher::with_source`]. A source that
//! fails keeps its last good listing, so a node that is briefly down never empties
//! the directory; the failure is logged and counted.

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;
use plexus_client::{Client, ClientError, wire::Metagraph};

use crate::{
    Relay,
    directory::{Directory, Listed, Skipped},
};

/// Why a source could not list its targets.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The node could not be asked or answered with an error.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Any other failure of a source defined elsewhere.
    #[error("{0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// Something that lists gateways the relay may forward to.
pub trait TargetSource: Send + Sync {
    /// A short name for logs and metrics, e.g. `chain`.
    fn name(&self) -> &'static str;

    /// Every gateway it knows now.
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Listed>, SourceError>>;
}

/// Every neuron with a non-empty endpoint URL, on every subnet, from a node.
#[derive(Debug, Clone)]
pub struct ChainTargets {
    client: Client,
}

impl ChainTargets {
    /// List targets from the node `client` talks to.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl TargetSource for ChainTargets {
    fn name(&self) -> &'static str {
        "chain"
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Listed>, SourceError>> {
        Box::pin(async move {
            let subnets = self.client.subnets().await?;
            let mut metagraphs = Vec::with_capacity(subnets.subnets.len());
            for subnet in &subnets.subnets {
                match self.client.metagraph(subnet.netuid).await {
                    Ok(metagraph) => metagraphs.push(metagraph),
                    // Dissolved between the two reads: nothing to serve there.
                    Err(e) if e.code() == Some("unknown_subnet") => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(listing_from_metagraphs(&metagraphs))
        })
    }
}

/// Every credit issuer's issuance gateway registered on chain (`RegisterIssuer`).
#[derive(Debug, Clone)]
pub struct IssuerTargets {
    client: Client,
}

impl IssuerTargets {
    /// List issuers from the node `client` talks to.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl TargetSource for IssuerTargets {
    fn name(&self) -> &'static str {
        "issuers"
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Listed>, SourceError>> {
        Box::pin(async move {
            Ok(self
                .client
                .issuers()
                .await?
                .issuers
                .into_iter()
                .filter(|i| !i.url.trim().is_empty())
                .map(|i| Listed {
                    hotkey: i.hotkey,
                    url: i.url,
                })
                .collect())
        })
    }
}

/// The gateways of some metagraphs, in netuid then UID order: every neuron whose
/// endpoint has a non-empty URL.
pub fn listing_from_metagraphs(metagraphs: &[Metagraph]) -> Vec<Listed> {
    let mut ordered: Vec<&Metagraph> = metagraphs.iter().collect();
    ordered.sort_by_key(|m| m.netuid);
    ordered
        .into_iter()
        .flat_map(|m| &m.neurons)
        .filter_map(|neuron| {
            let endpoint = neuron.endpoint.as_ref()?;
            (!endpoint.url.trim().is_empty()).then(|| Listed {
                hotkey: neuron.hotkey,
                url: endpoint.url.clone(),
            })
        })
        .collect()
}

/// What one refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Targets in the directory now.
    pub targets: usize,
    /// Listings left out, and why.
    pub skipped: Skipped,
    /// The sources that failed this time (their last good listing was used), with
    /// the error.
    pub failed: Vec<(&'static str, String)>,
}

/// A source and the last listing it gave.
struct Tracked {
    source: Arc<dyn TargetSource>,
    last_good: Option<Vec<Listed>>,
}

impl Tracked {
    fn new(source: Arc<dyn TargetSource>) -> Self {
        Self {
            source,
            last_good: None,
        }
    }
}

/// Fetches every source and installs the directory they make together.
pub struct Refresher {
    sources: Vec<Tracked>,
    allow_private: bool,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field(
                "sources",
                &self
                    .sources
                    .iter()
                    .map(|t| t.source.name())
                    .collect::<Vec<_>>(),
            )
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

impl Refresher {
    /// A refresher over `source` alone, for `relay`'s target policy.
    pub fn new(relay: &Relay, source: Arc<dyn TargetSource>) -> Self {
        Self {
            sources: vec![Tracked::new(source)],
            allow_private: relay.config().allow_private_targets,
        }
    }

    /// The same, also listing `source`'s targets. Earlier sources win a hotkey two
    /// sources list.
    pub fn with_source(mut self, source: Arc<dyn TargetSource>) -> Self {
        self.sources.push(Tracked::new(source));
        self
    }

    /// Fetch every source once and install the result on `relay`. Never fails: a
    /// failing source keeps its last good listing.
    pub async fn refresh(&mut self, relay: &Relay) -> RefreshReport {
        let mut failed = Vec::new();
        for Tracked { source, last_good } in &mut self.sources {
            match source.fetch().await {
                Ok(listing) => *last_good = Some(listing),
                Err(e) => {
                    tracing::warn!(source = source.name(), error = %e, "relay: refreshing targets failed; keeping the last good list");
                    relay.counters().refresh_failed(source.name());
                    failed.push((source.name(), e.to_string()));
                }
            }
        }
        let (directory, skipped) = Directory::build(
            self.sources
                .iter()
                .flat_map(|t| t.last_good.iter().flatten()),
            self.allow_private,
        );
        if skipped.bad_url > 0 || skipped.conflicting > 0 {
            tracing::debug!(
                bad_url = skipped.bad_url,
                conflicting = skipped.conflicting,
                "relay: some registered targets were left out"
            );
        }
        let targets = directory.len();
        relay.set_directory(directory);
        if failed.is_empty() {
            relay.counters().refreshed();
        }
        tracing::debug!(targets, "relay: directory refreshed");
        RefreshReport {
            targets,
            skipped,
            failed,
        }
    }

    /// Refresh every `every` (the first right away), forever: spawn it and abort the
    /// task to stop.
    pub async fn run(mut self, relay: Relay, every: Duration) {
        let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.refresh(&relay).await;
        }
    }
}
