//! Which providers serve privately, and the OHTTP route to one through a relay.

use plexus_client::{
    Client, ClientError,
    private::{PrivateError, Route},
    wire::Neuron,
};
use plexus_privacy::{
    oblivious::{PublicKeyConfig, decode_key_list},
    rotation::pick_key,
};
use plexus_types::{AccountId, Mechanism, Netuid, Uid};
use reqwest::Url;

/// Why a route could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The relay URL does not parse.
    #[error("invalid relay URL {0}")]
    InvalidRelay(String),
    /// The route could not be formed from the relay and the key.
    #[error(transparent)]
    Private(#[from] PrivateError),
}

/// A provider the private path can reach.
#[derive(Debug, Clone)]
pub struct ProviderTarget {
    /// The subnet it serves on.
    pub netuid: Netuid,
    /// Its UID there.
    pub uid: Uid,
    /// Its hotkey.
    pub hotkey: AccountId,
    /// The model it serves.
    pub model: String,
    /// Its OHTTP key, as registered on chain.
    pub config: PublicKeyConfig,
    /// Its operator, as published.
    pub operator: String,
}

impl ProviderTarget {
    /// `neuron` of subnet `netuid` as a target, if it serves with an OHTTP key that
    /// decodes (the last published key: the newest after a rotation). As a node listed
    /// it: [`crate::Session`] proves the key against the chain before sealing to it.
    pub fn from_neuron(netuid: Netuid, neuron: &Neuron) -> Option<Self> {
        let keys = decode_key_list(&neuron.endpoint.as_ref()?.ohttp_keys).ok()?;
        Self::with_key(netuid, neuron, keys.into_iter().last()?)
    }

    /// Like [`ProviderTarget::from_neuron`], with the key valid at `height` under key
    /// period `period` (the next epoch's, else the current one's; see
    /// [`plexus_privacy::rotation`]): none if its keys' windows are over (a provider
    /// that stopped rotating).
    pub fn from_neuron_at(
        netuid: Netuid,
        neuron: &Neuron,
        height: u64,
        period: u64,
    ) -> Option<Self> {
        let keys = decode_key_list(&neuron.endpoint.as_ref()?.ohttp_keys).ok()?;
        Self::with_key(netuid, neuron, pick_key(&keys, height, period)?)
    }

    fn with_key(netuid: Netuid, neuron: &Neuron, config: PublicKeyConfig) -> Option<Self> {
        let endpoint = neuron.endpoint.as_ref()?;
        Some(Self {
            netuid,
            uid: neuron.uid,
            hotkey: neuron.hotkey,
            model: endpoint.model.clone(),
            config,
            operator: endpoint.operator.clone(),
        })
    }
}

/// Every provider with an OHTTP key valid now on chain (on any subnet but data
/// subnets), as the node lists them (unproven).
pub async fn providers(client: &Client) -> Result<Vec<ProviderTarget>, ClientError> {
    let period = client.chain().await?.params.issuer_key_period;
    let height = client.tip_height().await?;
    let mut out = Vec::new();
    for subnet in client.subnets().await?.subnets {
        if subnet.mechanism == Mechanism::Data {
            continue;
        }
        let neurons = client.metagraph(subnet.netuid).await?.neurons;
        out.extend(
            neurons
                .iter()
                .filter_map(|n| ProviderTarget::from_neuron_at(subnet.netuid, n, height, period)),
        );
    }
    Ok(out)
}

/// The route to `target` (a provider or an issuer) through `relay`.
pub fn route(
    relay: &str,
    target: &AccountId,
    config: PublicKeyConfig,
) -> Result<Route, RouteError> {
    let relay = Url::parse(relay).map_err(|_| RouteError::InvalidRelay(relay.to_owned()))?;
    Ok(Route::via_relay(&relay, target, config)?)
}
