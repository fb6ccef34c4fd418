//! Relay admitted transactions to the other validators, so whichever one leads next
//! can include them.
//!
//! Validators are fully connected, so one hop suffices: a transaction is sent to every
//! peer when it is admitted locally (through the API), and a transaction received
//! from a peer is admitted but not relayed again. Transactions are sent in batches.

use commonware_macros::select;
use commonware_p2p::{Receiver, Recipients, Sender};
use futures::{StreamExt as _, channel::mpsc};
use plexus_types::{
    CodecError, Decode as _, Encode as _, SignedTransaction,
    codec::{Reader, WriteExt as _},
    tx::MAX_TX_BYTES,
};
use tracing::debug;

use super::PublicKey;
use crate::Admission;

/// Most transactions in one gossip message.
pub(crate) const MAX_BATCH: usize = 64;

/// The largest gossip message.
pub(crate) const MAX_GOSSIP_BYTES: usize = 4 + MAX_BATCH * (4 + MAX_TX_BYTES);

/// Encode a batch of transactions.
fn encode(batch: &[SignedTransaction]) -> Vec<u8> {
    let mut out = Vec::new();
    out.put_len(batch.len());
    for tx in batch {
        out.put_bytes(&tx.encode());
    }
    out
}

/// Decode a batch of transactions from untrusted bytes.
fn decode(bytes: &[u8]) -> Result<Vec<SignedTransaction>, CodecError> {
    let mut reader = Reader::new(bytes);
    let batch = reader.list(MAX_BATCH, "transactions", |r| {
        let bytes = r.bytes(MAX_TX_BYTES, "transaction")?;
        SignedTransaction::decode(&bytes)
    })?;
    reader.finish()?;
    Ok(batch)
}

/// Send locally admitted transactions to every peer and admit the peers' ones, until
/// either side closes.
pub(crate) async fn run<S, R>(
    (mut sender, mut receiver): (S, R),
    mut outbound: mpsc::UnboundedReceiver<SignedTransaction>,
    admission: Admission,
) where
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    loop {
        select! {
            next = outbound.next() => {
                let Some(first) = next else { return };
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match outbound.try_recv() {
                        Ok(tx) => batch.push(tx),
                        Err(_) => break,
                    }
                }
                sender.send(Recipients::All, encode(&batch), false);
            },
            message = receiver.recv() => {
                let Ok((peer, bytes)) = message else { return };
                match decode(bytes.as_ref()) {
                    Ok(batch) => {
                        for tx in batch {
                            // Duplicates and transactions the ledger refuses are normal here.
                            if let Err(error) = admission.admit(tx) {
                                debug!(%error, "gossiped transaction not admitted");
                            }
                        }
                    }
                    Err(error) => debug!(?peer, %error, "undecodable transaction gossip"),
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use plexus_types::Keypair;

    use super::*;
    use crate::testing::transfer;

    #[test]
    fn a_batch_round_trips_and_trailing_or_oversized_input_is_refused() {
        let key = Keypair::from_label("gossip");
        let batch: Vec<SignedTransaction> = (0..3)
            .map(|nonce| transfer(&key, key.account(), 1, nonce, 1))
            .collect();
        let bytes = encode(&batch);
        assert_eq!(decode(&bytes).unwrap(), batch);
        let mut trailing = bytes;
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        let mut huge = Vec::new();
        huge.put_len(MAX_BATCH + 1);
        assert!(decode(&huge).is_err());
    }
}
