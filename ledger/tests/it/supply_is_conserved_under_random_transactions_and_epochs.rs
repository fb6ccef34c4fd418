use plexus_ledger::{build_block, execute_block, query};
use plexus_types::{
    Hash, Hyperparams, Keypair, Mechanism, PLX, Payload,
    tx::{data_commit_hash, weights_commit_hash},
};
use proptest::prelude::*;

use crate::support::{Chain, key, total_held};

#[derive(Debug, Clone)]
enum Op {
    Transfer(usize, usize, u64),
    CreateSubnet(usize, bool),
    Register(usize, usize, u16),
    AddStake(usize, usize, u64),
    RemoveStake(usize, usize, u64),
    SetTake(usize, usize, u16),
    SetWeights(usize, u16, Vec<(u16, u16)>),
    Commit(usize, u16),
    Reveal(usize, u16),
    CreateDataSubnet(usize),
    CreateTask(usize, u16, u64, u64),
    CommitData(usize, u64),
    RevealData(usize, u64),
    Publish(usize, u64),
    Empty(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0usize..4;
    let amount = prop_oneof![1u64..1_000, 1u64..100 * PLX, Just(u64::MAX)];
    prop_oneof![
        (who.clone(), who.clone(), amount.clone()).prop_map(|(a, b, x)| Op::Transfer(a, b, x)),
        (who.clone(), any::<bool>()).prop_map(|(a, cr)| Op::CreateSubnet(a, cr)),
        (who.clone(), 0usize..6, 1u16..3).prop_map(|(a, h, n)| Op::Register(a, h, n)),
        (who.clone(), 0usize..6, amount.clone()).prop_map(|(a, h, x)| Op::AddStake(a, h, x)),
        (who.clone(), 0usize..6, amount).prop_map(|(a, h, x)| Op::RemoveStake(a, h, x)),
        (who, 0usize..6, any::<u16>()).prop_map(|(a, h, t)| Op::SetTake(a, h, t)),
        (
            0usize..6,
            1u16..3,
            prop::collection::vec((0u16..6, any::<u16>()), 0..5)
        )
            .prop_map(|(h, n, w)| Op::SetWeights(h, n, w)),
        (0usize..6, 1u16..3).prop_map(|(h, n)| Op::Commit(h, n)),
        (0usize..6, 1u16..3).prop_map(|(h, n)| Op::Reveal(h, n)),
        (0usize..4).prop_map(Op::CreateDataSubnet),
        (
            0usize..4,
            1u16..4,
            prop_oneof![1u64..100 * PLX, Just(u64::MAX)],
            1u64..6
        )
            .prop_map(|(a, n, b, w)| Op::CreateTask(a, n, b, w)),
        (0usize..6, 0u64..3).prop_map(|(h, t)| Op::CommitData(h, t)),
        (0usize..6, 0u64..3).prop_map(|(h, t)| Op::RevealData(h, t)),
        (0usize..6, 0u64..3).prop_map(|(h, t)| Op::Publish(h, t)),
        (1u8..8).prop_map(Op::Empty),
    ]
}

fn hp(commit_reveal: bool) -> Hyperparams {
    Hyperparams {
        tempo: 3,
        max_uids: 4,
        immunity_period: 2,
        min_burn: 1_000,
        max_burn: 10 * PLX,
        commit_reveal,
        ..Hyperparams::default()
    }
}

fn weights_of(w: &[(u16, u16)]) -> (Vec<u16>, Vec<u16>) {
    (
        w.iter().map(|e| e.0).collect(),
        w.iter().map(|e| e.1).collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn supply_is_conserved_under_random_transactions_and_epochs(ops in prop::collection::vec(op(), 1..40)) {
        let mut chain = Chain::new();
        let colds: Vec<Keypair> = (0..4).map(|i| key(&format!("cold{i}"))).collect();
        let hots: Vec<Keypair> = (0..6).map(|i| key(&format!("hot{i}"))).collect();
        for c in &colds {
            chain.fund(&c.account(), 1_000 * PLX);
        }
        let salt = [3u8; 32];
        for op in ops {
            let payload_and_signer: Option<(&Keypair, Payload)> = match &op {
                Op::Transfer(a, b, x) => Some((&colds[*a], Payload::Transfer { to: colds[*b].account(), amount: *x })),
                Op::CreateSubnet(a, cr) => Some((&colds[*a], Payload::CreateSubnet {
                    name: "s".into(), mechanism: Mechanism::Generic, hyperparams: hp(*cr),
                })),
                Op::Register(a, h, n) => Some((&colds[*a], Payload::Register { netuid: *n, hotkey: hots[*h].account() })),
                Op::AddStake(a, h, x) => Some((&colds[*a], Payload::AddStake { hotkey: hots[*h].account(), amount: *x })),
                Op::RemoveStake(a, h, x) => Some((&colds[*a], Payload::RemoveStake { hotkey: hots[*h].account(), amount: *x })),
                Op::SetTake(a, h, t) => Some((&colds[*a], Payload::SetTake { hotkey: hots[*h].account(), take: *t })),
                Op::SetWeights(h, n, w) => {
                    let (uids, weights) = weights_of(w);
                    Some((&hots[*h], Payload::SetWeights { netuid: *n, uids, weights, version: 0 }))
                }
                Op::Commit(h, n) => {
                    let commit = weights_commit_hash(&hots[*h].account(), *n, &[0], &[1], &salt, 0);
                    Some((&hots[*h], Payload::CommitWeights { netuid: *n, commit }))
                }
                Op::Reveal(h, n) => Some((&hots[*h], Payload::RevealWeights {
                    netuid: *n, uids: vec![0], weights: vec![1], salt, version: 0,
                })),
                Op::CreateDataSubnet(a) => Some((&colds[*a], Payload::CreateSubnet {
                    name: "d".into(), mechanism: Mechanism::Data, hyperparams: hp(false),
                })),
                Op::CreateTask(a, n, bounty, w) => Some((&colds[*a], Payload::CreateDataTask {
                    netuid: *n,
                    schema_hash: Hash([1; 32]),
                    reference_commitment: Hash([2; 32]),
                    bounty: *bounty,
                    commit_deadline: chain.height + w,
                    reveal_deadline: chain.height + 2 * w,
                    min_rows: 1,
                    max_rows: 100,
                })),
                Op::CommitData(h, t) => Some((&hots[*h], Payload::CommitData {
                    task: *t,
                    commitment: data_commit_hash(*t, &hots[*h].account(), &salt, &Hash([5; 32])),
                })),
                Op::RevealData(h, t) => Some((&hots[*h], Payload::RevealData {
                    task: *t, content_hash: Hash([5; 32]), salt, rows: 10,
                })),
                Op::Publish(h, t) => Some((&hots[*h], Payload::PublishDataset {
                    task: *t, merkle_root: Hash([6; 32]), rows: 10,
                })),
                Op::Empty(k) => {
                    chain.advance(u64::from(*k));
                    None
                }
            };
            if let Some((signer, payload)) = payload_and_signer {
                let tx = chain.tx(signer, payload);
                let built = build_block(&chain.store, &chain.env(), vec![tx], 10).unwrap();
                // The proposer's output is exactly what verifiers compute.
                let again = execute_block(&chain.store, &chain.env(), &built.included).unwrap();
                prop_assert_eq!(&again, &built.output);
                chain.store.commit(built.output.writes);
                chain.height += 1;
            }
            let supply = query::supply(&chain.store).unwrap();
            prop_assert_eq!(total_held(&chain.store), u128::from(supply.total_issuance));
            prop_assert_eq!(supply.total_issuance, supply.genesis + supply.emitted - supply.burned);
        }
    }
}
