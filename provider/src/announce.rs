//! Put a provider on chain: register its hotkey on the subnet if it is not yet, and
//! publish `Serve` with its endpoint, model id and weights hash if the chain does not
//! already show exactly that.

use std::time::Duration;

use plexus_client::{Client, ClientError, wire::Neuron};
use plexus_types::{AccountId, Endpoint, Hash, Keypair, Netuid, Payload, Uid};
use thiserror::Error;

/// Why the provider could not announce itself.
#[derive(Debug, Error)]
pub enum AnnounceError {
    /// The node refused a transaction or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The registration was finalized but the hotkey is not in the metagraph (it was
    /// pruned at once: the subnet is full of better-scoring neurons).
    #[error("hotkey {hotkey} registered on subnet {netuid} but is not in its metagraph")]
    NotRegistered {
        /// The subnet.
        netuid: Netuid,
        /// The hotkey.
        hotkey: AccountId,
    },
}

/// What [`announce`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// The provider's UID on the subnet.
    pub uid: Uid,
    /// The registration transaction, if this call registered the hotkey.
    pub registered: Option<Hash>,
    /// The `Serve` transaction, if this call published the endpoint.
    pub served: Option<Hash>,
}

async fn neuron(
    client: &Client,
    netuid: Netuid,
    hotkey: &AccountId,
) -> Result<Option<Neuron>, ClientError> {
    let metagraph = client.metagraph(netuid).await?;
    Ok(metagraph.neurons.into_iter().find(|n| n.hotkey == *hotkey))
}

/// Make the chain show `hotkey` on `netuid` serving `endpoint`. The coldkey pays the
/// registration burn if the hotkey is not registered yet; the hotkey signs `Serve`
/// (fee-free for registered hotkeys). Each transaction waits up to `timeout` to be
/// finalized. Calling it again with nothing changed sends nothing.
pub async fn announce(
    client: &Client,
    coldkey: &Keypair,
    hotkey: &Keypair,
    netuid: Netuid,
    endpoint: &Endpoint,
    timeout: Duration,
) -> Result<Announced, AnnounceError> {
    let id = hotkey.account();
    let mut registered = None;
    let current = match neuron(client, netuid, &id).await? {
        Some(n) => n,
        None => {
            let payload = Payload::Register { netuid, hotkey: id };
            let sent = client.send_tx(coldkey, payload, None, timeout).await?;
            registered = Some(sent.hash);
            neuron(client, netuid, &id)
                .await?
                .ok_or(AnnounceError::NotRegistered { netuid, hotkey: id })?
        }
    };
    let mut served = None;
    if current.endpoint.as_ref() != Some(endpoint) {
        let payload = Payload::Serve {
            netuid,
            endpoint: endpoint.clone(),
        };
        served = Some(client.send_tx(hotkey, payload, None, timeout).await?.hash);
    }
    Ok(Announced {
        uid: current.uid,
        registered,
        served,
    })
}
