//! Every decodable type round-trips, has a pinned encoding, and rejects hostile bytes.

use plexus_types::{
    AccountId, Block, BlockHeader, Decode, Encode, Endpoint, Hash, Hyperparams, Keypair, Mechanism,
    Payload, SignedTransaction, Transaction, block::tx_root, tx::weights_commit_hash,
};
use proptest::prelude::*;

fn account() -> impl Strategy<Value = AccountId> {
    any::<[u8; 32]>().prop_map(AccountId)
}

fn payload() -> impl Strategy<Value = Payload> {
    let weights = (0usize..40).prop_flat_map(|n| {
        (
            proptest::collection::vec(any::<u16>(), n),
            proptest::collection::vec(any::<u16>(), n),
        )
    });
    prop_oneof![
        (account(), any::<u64>()).prop_map(|(to, amount)| Payload::Transfer { to, amount }),
        ("[a-z]{0,20}", any::<u16>()).prop_map(|(name, tempo)| Payload::CreateSubnet {
            name,
            mechanism: Mechanism::Inference,
            hyperparams: Hyperparams {
                tempo,
                ..Hyperparams::default()
            },
        }),
        (any::<u16>(), account()).prop_map(|(netuid, hotkey)| Payload::Register { netuid, hotkey }),
        (
            any::<u16>(),
            "[a-z:/.0-9]{0,40}",
            proptest::collection::vec(any::<u8>(), 0..64)
        )
            .prop_map(|(netuid, url, ohttp_keys)| Payload::Serve {
                netuid,
                endpoint: Endpoint {
                    url,
                    ohttp_keys,
                    ..Endpoint::default()
                },
            }),
        (account(), any::<u64>()).prop_map(|(hotkey, amount)| Payload::AddStake { hotkey, amount }),
        (account(), any::<u64>())
            .prop_map(|(hotkey, amount)| Payload::RemoveStake { hotkey, amount }),
        (account(), any::<u16>()).prop_map(|(hotkey, take)| Payload::SetTake { hotkey, take }),
        (any::<u16>(), any::<[u8; 32]>()).prop_map(|(netuid, c)| Payload::CommitWeights {
            netuid,
            commit: Hash(c)
        }),
        (
            any::<u16>(),
            weights.clone(),
            any::<[u8; 32]>(),
            any::<u64>()
        )
            .prop_map(
                |(netuid, (uids, weights), salt, version)| Payload::RevealWeights {
                    netuid,
                    uids,
                    weights,
                    salt,
                    version
                }
            ),
        (any::<u16>(), weights, any::<u64>()).prop_map(|(netuid, (uids, weights), version)| {
            Payload::SetWeights {
                netuid,
                uids,
                weights,
                version,
            }
        }),
    ]
}

proptest! {
    #[test]
    fn every_signed_transaction_round_trips(
        chain_id in any::<u64>(), nonce in any::<u64>(), fee in any::<u64>(), payload in payload(),
    ) {
        let key = Keypair::from_label("prop");
        let tx = Transaction { chain_id, sender: key.account(), nonce, fee, payload }.sign(&key);
        let bytes = tx.encode();
        let back = SignedTransaction::decode_bounded(&bytes).unwrap();
        prop_assert_eq!(&back, &tx);
        prop_assert!(back.verify().is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SignedTransaction::decode_bounded(&bytes);
        let _ = Block::decode_bounded(&bytes);
    }

    #[test]
    fn a_truncated_transaction_is_rejected(cut in 1usize..100) {
        let key = Keypair::from_label("t");
        let tx = Transaction {
            chain_id: 1, sender: key.account(), nonce: 0, fee: 0,
            payload: Payload::Transfer { to: key.account(), amount: 1 },
        }.sign(&key);
        let bytes = tx.encode();
        let cut = cut.min(bytes.len());
        prop_assert!(SignedTransaction::decode(&bytes[..bytes.len() - cut]).is_err());
    }
}

fn sample_tx() -> SignedTransaction {
    let key = Keypair::from_label("alice");
    Transaction {
        chain_id: 7,
        sender: key.account(),
        nonce: 3,
        fee: 1000,
        payload: Payload::Transfer {
            to: Keypair::from_label("bob").account(),
            amount: 5,
        },
    }
    .sign(&key)
}

#[test]
fn the_transfer_encoding_is_pinned() {
    let tx = sample_tx();
    // Changing this encoding is a consensus break: update the pin only with a new version.
    assert_eq!(tx.encode().len(), 8 + 32 + 8 + 8 + 1 + 32 + 8 + 64);
    assert_eq!(
        tx.hash().to_hex(),
        blake3::hash(&tx.encode()).to_hex().to_string(),
    );
    let pinned = "0700000000000000";
    assert!(hex::encode(tx.encode()).starts_with(pinned));
}

#[test]
fn trailing_bytes_after_a_transaction_are_rejected() {
    let mut bytes = sample_tx().encode();
    bytes.push(0);
    assert!(SignedTransaction::decode(&bytes).is_err());
}

#[test]
fn a_tampered_transaction_fails_signature_checks() {
    let mut tx = sample_tx();
    tx.tx.nonce += 1;
    assert!(tx.verify().is_err());
}

#[test]
fn a_block_round_trips_and_its_digest_commits_to_the_header() {
    let txs = vec![sample_tx(), sample_tx()];
    let block = Block {
        header: BlockHeader {
            chain_id: 7,
            height: 1,
            parent: Hash::ZERO,
            timestamp_ms: 1,
            proposer: Keypair::from_label("v").account(),
            tx_root: tx_root(&txs),
            state_root: Hash([9; 32]),
            consensus: vec![1, 2, 3],
        },
        txs,
    };
    let back = Block::decode_bounded(&block.encode()).unwrap();
    assert_eq!(back, block);
    assert!(back.tx_root_matches());
    let mut other = block.clone();
    other.header.state_root = Hash([8; 32]);
    assert_ne!(other.digest(), block.digest());
}

#[test]
fn a_weights_commit_depends_on_every_field() {
    let hk = Keypair::from_label("hk").account();
    let base = weights_commit_hash(&hk, 1, &[1, 2], &[3, 4], &[0; 32], 0);
    assert_ne!(
        base,
        weights_commit_hash(&hk, 2, &[1, 2], &[3, 4], &[0; 32], 0)
    );
    assert_ne!(
        base,
        weights_commit_hash(&hk, 1, &[1, 2], &[3, 5], &[0; 32], 0)
    );
    assert_ne!(
        base,
        weights_commit_hash(&hk, 1, &[1, 2], &[3, 4], &[1; 32], 0)
    );
    assert_ne!(
        base,
        weights_commit_hash(&hk, 1, &[1, 2], &[3, 4], &[0; 32], 1)
    );
}
