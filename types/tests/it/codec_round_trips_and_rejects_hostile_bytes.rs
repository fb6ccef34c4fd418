//! Every decodable type round-trips, has a pinned encoding, and rejects hostile bytes.

use plexus_types::finality::{DoubleSign, SignedVote, VoteKind};
use plexus_types::{
    AccountId, Block, BlockHeader, Decode, Encode, Endpoint, Hash, Hyperparams, Keypair, Mechanism,
    Payload, SignedTransaction, Transaction,
    block::tx_root,
    credits::{IssuerKeySpec, MAX_SETTLE_TOKENS, TOKEN_BYTES},
    tx::{MAX_DATA_ROWS, data_commit_hash, weights_commit_hash},
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
        (
            any::<u16>(),
            any::<[u8; 32]>(),
            any::<u64>(),
            any::<(u64, u64)>(),
            (0..=MAX_DATA_ROWS, 0..=MAX_DATA_ROWS)
        )
            .prop_map(
                |(netuid, h, bounty, (commit_deadline, reveal_deadline), (min_rows, max_rows))| {
                    Payload::CreateDataTask {
                        netuid,
                        schema_hash: Hash(h),
                        reference_commitment: Hash(h.map(|b| b ^ 1)),
                        bounty,
                        commit_deadline,
                        reveal_deadline,
                        min_rows,
                        max_rows,
                    }
                }
            ),
        (any::<u64>(), any::<[u8; 32]>()).prop_map(|(task, c)| Payload::CommitData {
            task,
            commitment: Hash(c)
        }),
        (
            any::<u64>(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            0..=MAX_DATA_ROWS
        )
            .prop_map(|(task, c, salt, rows)| Payload::RevealData {
                task,
                content_hash: Hash(c),
                salt,
                rows
            }),
        (any::<u64>(), any::<[u8; 32]>(), 0..=MAX_DATA_ROWS).prop_map(|(task, r, rows)| {
            Payload::PublishDataset {
                task,
                merkle_root: Hash(r),
                rows,
            }
        }),
        (
            any::<u16>(),
            "[a-z:/.0-9]{0,40}",
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(
                (
                    any::<u32>(),
                    any::<u32>(),
                    proptest::collection::vec(any::<u8>(), 0..300)
                ),
                0..4
            )
        )
            .prop_map(|(netuid, url, ohttp_keys, keys)| Payload::RegisterIssuer {
                netuid,
                url,
                ohttp_keys,
                keys: keys
                    .into_iter()
                    .map(|(denomination, key_epoch, spki)| IssuerKeySpec {
                        denomination,
                        key_epoch,
                        spki
                    })
                    .collect(),
            }),
        (account(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
            |(issuer, denomination, key_epoch, credits)| Payload::BuyCredits {
                issuer,
                denomination,
                key_epoch,
                credits
            }
        ),
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..8)).prop_map(|(netuid, seeds)| {
            Payload::SettleCredits {
                netuid,
                tokens: seeds.into_iter().map(|b| vec![b; TOKEN_BYTES]).collect(),
            }
        }),
        any::<u64>().prop_map(|deposit| Payload::RefundCredits { deposit }),
        (account(), any::<u64>()).prop_map(|(consensus_key, amount)| Payload::Bond {
            consensus_key,
            amount
        }),
        any::<u64>().prop_map(|amount| Payload::Unbond { amount }),
        account().prop_map(|new_key| Payload::RotateConsensusKey { new_key }),
        (
            any::<bool>(),
            any::<u64>(),
            any::<u64>(),
            account(),
            any::<[u8; 32]>(),
            any::<u64>()
        )
            .prop_map(|(finalize, epoch, view, signer, payload, parent_view)| {
                let vote = |byte: u8| SignedVote {
                    parent_view,
                    payload: Hash(payload),
                    signature: plexus_types::Signature([byte; 64]),
                };
                Payload::ReportDoubleSign {
                    evidence: DoubleSign {
                        kind: if finalize {
                            VoteKind::Finalize
                        } else {
                            VoteKind::Notarize
                        },
                        epoch,
                        view,
                        signer,
                        first: vote(1),
                        second: vote(2),
                    },
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

#[test]
fn the_data_payload_encodings_are_pinned() {
    // Changing these encodings is a consensus break: update the pins only with a new version.
    let h = |b: u8| Hash([b; 32]);
    let create = Payload::CreateDataTask {
        netuid: 2,
        schema_hash: h(0xaa),
        reference_commitment: h(0xbb),
        bounty: 5,
        commit_deadline: 10,
        reveal_deadline: 20,
        min_rows: 1,
        max_rows: 1000,
    };
    let bytes = create.encode();
    assert_eq!(bytes.len(), 1 + 2 + 32 + 32 + 8 * 5);
    assert_eq!(&bytes[..3], &[11, 2, 0]);
    assert_eq!(
        hex::encode(&bytes[67..]),
        "05000000000000000a000000000000001400000000000000\
         0100000000000000e803000000000000"
    );
    let commit = Payload::CommitData {
        task: 1,
        commitment: h(0xcc),
    };
    assert_eq!(
        hex::encode(commit.encode()),
        format!("0c0100000000000000{}", "cc".repeat(32))
    );
    let reveal = Payload::RevealData {
        task: 1,
        content_hash: h(0xdd),
        salt: [0xee; 32],
        rows: 300,
    };
    assert_eq!(
        hex::encode(reveal.encode()),
        format!(
            "0d0100000000000000{}{}2c01000000000000",
            "dd".repeat(32),
            "ee".repeat(32)
        )
    );
    let publish = Payload::PublishDataset {
        task: 1,
        merkle_root: h(0x11),
        rows: 2,
    };
    assert_eq!(
        hex::encode(publish.encode()),
        format!("0e0100000000000000{}0200000000000000", "11".repeat(32))
    );
    for p in [create, commit, reveal, publish] {
        assert_eq!(Payload::decode(&p.encode()).unwrap(), p);
    }
}

#[test]
fn a_data_payload_above_the_row_limit_is_rejected() {
    let mut bytes = Payload::PublishDataset {
        task: 0,
        merkle_root: Hash::ZERO,
        rows: 0,
    }
    .encode();
    let n = bytes.len();
    bytes[n - 8..].copy_from_slice(&(MAX_DATA_ROWS + 1).to_le_bytes());
    assert!(Payload::decode(&bytes).is_err());
}

#[test]
fn a_data_commit_depends_on_every_field() {
    let a = Keypair::from_label("a").account();
    let b = Keypair::from_label("b").account();
    let base = data_commit_hash(1, &a, &[1; 32], &Hash([2; 32]));
    assert_ne!(base, data_commit_hash(2, &a, &[1; 32], &Hash([2; 32])));
    assert_ne!(base, data_commit_hash(1, &b, &[1; 32], &Hash([2; 32])));
    assert_ne!(base, data_commit_hash(1, &a, &[3; 32], &Hash([2; 32])));
    assert_ne!(base, data_commit_hash(1, &a, &[1; 32], &Hash([4; 32])));
}

#[test]
fn credit_payload_encodings_are_pinned() {
    let issuer = AccountId([0xab; 32]);
    let buy = Payload::BuyCredits {
        issuer,
        denomination: 1,
        key_epoch: 2,
        credits: 100,
    };
    assert_eq!(
        hex::encode(buy.encode()),
        format!("10{}010000000200000064000000", "ab".repeat(32))
    );
    let register = Payload::RegisterIssuer {
        netuid: 1,
        url: "u".into(),
        ohttp_keys: vec![9],
        keys: vec![IssuerKeySpec {
            denomination: 1,
            key_epoch: 0,
            spki: vec![7, 7],
        }],
    };
    assert_eq!(
        hex::encode(register.encode()),
        "0f01000100000075010000000901000000010000000000000002000000\
0707"
    );
    let settle = Payload::SettleCredits {
        netuid: 3,
        tokens: vec![vec![5; TOKEN_BYTES]],
    };
    assert_eq!(
        hex::encode(settle.encode()),
        format!(
            "11030001000000{}{}",
            hex::encode(354u32.to_le_bytes()),
            "05".repeat(354)
        )
    );
    for p in [buy, register, settle] {
        assert_eq!(Payload::decode(&p.encode()).unwrap(), p);
    }
}

#[test]
fn a_settlement_with_a_short_token_or_too_many_tokens_is_rejected() {
    let short = Payload::SettleCredits {
        netuid: 0,
        tokens: vec![vec![0; TOKEN_BYTES - 1]],
    };
    assert!(Payload::decode(&short.encode()).is_err());
    let many = Payload::SettleCredits {
        netuid: 0,
        tokens: vec![vec![0; TOKEN_BYTES]; MAX_SETTLE_TOKENS + 1],
    };
    assert!(Payload::decode(&many.encode()).is_err());
}
