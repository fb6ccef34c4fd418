//! The acceptance test of a validator set that follows stake, in the deterministic
//! simulator: four genesis validators and a fifth that bonds; one genesis validator
//! signs two proposals in a round and is slashed; another unbonds and leaves.

use std::{path::PathBuf, time::Duration};

use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_consensus::simplex::types::{Notarize, Vote};
use commonware_cryptography::ed25519;
use commonware_p2p::{
    Receiver as _, Recipients, Sender as _,
    simulated::{Link, Oracle},
    utils::mux::{Builder as _, Muxer},
};
use commonware_runtime::{Clock as _, Runner as _, Spawner as _, Supervisor as _, deterministic};
use commonware_utils::{ordered::Set, probability};
use plexus_ledger::{Genesis, genesis::GenesisValidator, params::ConsensusParams, validators};
use plexus_node::{
    NodeHandle,
    engine::{self, Digest, PublicKey, Scheme, VOTES},
};
use plexus_types::{AccountId, Hash, Keypair, PLX, Payload, Transaction};

use crate::harness::{
    Running, chain_of, config, genesis, network, start, user_keys, validator_keys,
};

const EPOCH: u64 = 20;
const BLOCKS: u64 = 200;
/// Validators 0 to 3 are the genesis set; 4 bonds.
const VALIDATORS: usize = 5;
const CHEAT: usize = 2;
const LEAVER: usize = 3;
const NEWCOMER: usize = 4;

fn links() -> Link {
    Link {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(10),
        success_rate: probability!(0.98),
    }
}

/// Four genesis validators bonding 1,000 PLX each in epochs of 20 blocks, sets of
/// three to five, every validator funded to pay fees and bond.
fn chain(keys: &[Keypair]) -> Genesis {
    let users = user_keys(2);
    let mut g = genesis(&keys[..4], &users);
    g.params.consensus = ConsensusParams {
        epoch_length: EPOCH,
        min_validators: 3,
        max_validators: 5,
        min_bond: 1_000 * PLX,
        unbonding_delay: 30,
        slash_bps: 1_000,
    };
    for v in &mut g.validators {
        *v = GenesisValidator {
            public_key: v.public_key,
            bond: 1_000 * PLX,
        };
    }
    for k in keys {
        g.add_account(k.account(), 10_000 * PLX).expect("funded");
    }
    g
}

fn send(genesis: &Genesis, via: &NodeHandle, from: &Keypair, payload: Payload) {
    let nonce = plexus_ledger::query::account(via.store().as_ref(), &from.account())
        .expect("reads")
        .nonce;
    let tx = Transaction {
        chain_id: genesis.chain_id,
        sender: from.account(),
        nonce,
        fee: genesis.params.min_fee_for(&payload),
        payload,
    }
    .sign(from);
    via.submit(tx).expect("admitted");
}

/// The double signer: it runs no node, only answers every notarize vote of epoch 0
/// with two of its own in the same round, one for the proposal and one for another
/// payload (as two instances started with one key would).
fn double_signer(
    context: &deterministic::Context,
    oracle: &Oracle<PublicKey, deterministic::Context>,
    genesis: &Genesis,
    key: &Keypair,
) {
    let public = engine::public_key(&key.account()).expect("key");
    let private = {
        use commonware_codec::DecodeExt as _;
        ed25519::PrivateKey::decode(key.secret_bytes().to_vec()).expect("key")
    };
    let set: Vec<PublicKey> = genesis
        .validators
        .iter()
        .map(|v| engine::public_key(&v.public_key).expect("key"))
        .collect();
    let namespace = plexus_types::finality::consensus_namespace(genesis.chain_id);
    let scheme = Scheme::signer(&namespace, Set::from_iter_dedup(set), private).expect("in set");
    let control = oracle.control(public);
    context
        .child("double_signer")
        .spawn(move |context| async move {
            let (sender, receiver) = control
                .register(VOTES, engine::channel_quota())
                .await
                .expect("channel");
            let (mux, mut handle) = Muxer::builder(context.child("mux"), sender, receiver).build();
            mux.start();
            let (mut sender, mut receiver) = handle.register(0).await.expect("epoch 0");
            while let Ok((_, message)) = receiver.recv().await {
                let Ok(Vote::Notarize(vote)) = Vote::<Scheme, Digest>::decode(message) else {
                    continue;
                };
                let mut other = vote.proposal.clone();
                other.payload = engine::block::to_digest(Hash([0xee; 32]));
                for proposal in [other, vote.proposal] {
                    let signed =
                        Notarize::<Scheme, Digest>::sign(&scheme, proposal).expect("signs");
                    let _ = sender.send(Recipients::All, Vote::Notarize(signed).encode(), true);
                }
            }
        });
}

/// Wait until every handle committed `height`.
async fn wait_for(context: &deterministic::Context, nodes: &[&NodeHandle], height: u64) {
    let mut ticks = 0u64;
    while nodes.iter().any(|n| n.status().finalized_height < height) {
        for n in nodes {
            assert_eq!(n.status().halted, None, "a validator halted");
        }
        context.sleep(Duration::from_millis(50)).await;
        ticks += 1;
        if std::env::var_os("PLEXUS_SIM_TRACE").is_some() && ticks.is_multiple_of(100) {
            let heights: Vec<u64> = nodes.iter().map(|n| n.status().finalized_height).collect();
            eprintln!("t={}s heights={heights:?}", ticks / 20);
        }
    }
}

/// What a run ends with: each honest node's chain, the sets of the first epochs,
/// who proposed each block, and the records of the cheat and the leaver.
#[derive(Debug, PartialEq)]
struct Outcome {
    chains: Vec<Vec<(u64, Hash, Hash)>>,
    sets: Vec<Vec<AccountId>>,
    proposers: Vec<AccountId>,
    cheat: validators::Validator,
    leaver: validators::Validator,
}

fn run(seed: u64) -> Outcome {
    let keys = validator_keys(VALIDATORS);
    let genesis = chain(&keys);
    let dirs: Vec<tempfile::TempDir> = (0..VALIDATORS)
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();
    let paths: Vec<PathBuf> = dirs.iter().map(|d| d.path().to_path_buf()).collect();
    let runtime = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(3_600)));
    deterministic::Runner::new(runtime).start(|context| async move {
        let oracle = network(&context, &keys, Some(links())).await;
        let mut nodes: Vec<(usize, Running)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if i == CHEAT {
                double_signer(&context, &oracle, &genesis, key);
                continue;
            }
            let node = start(&context, &oracle, i, config(&paths[i], &genesis, key)).await;
            nodes.push((i, node));
        }
        let handle = |i: usize| &nodes.iter().find(|(j, _)| *j == i).expect("node").1.handle;
        let all: Vec<&NodeHandle> = nodes.iter().map(|(_, n)| &n.handle).collect();

        // The newcomer bonds in epoch 0 through validator 0.
        send(
            &genesis,
            handle(0),
            &keys[NEWCOMER],
            Payload::Bond {
                consensus_key: keys[NEWCOMER].account(),
                amount: 2_000 * PLX,
            },
        );
        // In epoch 1 the leaver unbonds everything.
        wait_for(&context, &all, EPOCH + 2).await;
        send(
            &genesis,
            handle(0),
            &keys[LEAVER],
            Payload::Unbond {
                amount: 1_000 * PLX,
            },
        );
        // The set of the last epochs runs the chain to 200 blocks; the leaver, no
        // longer a peer once its bond is released, stops somewhere past its epoch.
        let members: Vec<&NodeHandle> = [0, 1, NEWCOMER].into_iter().map(handle).collect();
        wait_for(&context, &members, BLOCKS).await;
        let height = members
            .iter()
            .map(|n| n.status().finalized_height)
            .min()
            .unwrap_or(BLOCKS);
        let mut chains: Vec<_> = members.iter().map(|n| chain_of(n, height)).collect();
        let left_at = handle(LEAVER).status().finalized_height;
        assert!(
            left_at >= 2 * EPOCH - 1,
            "the leaver stopped before its last epoch ended"
        );
        chains.push(chain_of(handle(LEAVER), left_at));
        let store = handle(0).store();
        let sets = (0..=3)
            .map(|e| {
                validators::set(store.as_ref(), e)
                    .expect("reads")
                    .expect("set chosen")
            })
            .collect();
        let proposers = (1..=height)
            .map(|h| {
                store
                    .block(h)
                    .expect("reads")
                    .expect("committed")
                    .header
                    .proposer
            })
            .collect();
        let record = |i: usize| {
            validators::validator(store.as_ref(), &keys[i].account())
                .expect("reads")
                .expect("an operator")
        };
        let outcome = Outcome {
            chains,
            sets,
            proposers,
            cheat: record(CHEAT),
            leaver: record(LEAVER),
        };
        drop(nodes);
        drop(dirs);
        outcome
    })
}

fn sorted(keys: &[Keypair], which: &[usize]) -> Vec<AccountId> {
    let mut v: Vec<AccountId> = which.iter().map(|&i| keys[i].account()).collect();
    v.sort_unstable();
    v
}

#[test]
fn the_validator_set_follows_stake_bonds_unbonds_and_slashes_across_epochs() {
    let keys = validator_keys(VALIDATORS);
    let seeds: Vec<u64> = match std::env::var("PLEXUS_SIM_SEED") {
        Ok(seed) => vec![seed.parse().expect("a seed")],
        Err(_) => (0..5).collect(),
    };
    for seed in seeds {
        let outcome = run(seed);
        // Every honest node holds the same blocks and roots at every height it has.
        for chain in &outcome.chains[1..] {
            assert_eq!(
                chain[..],
                outcome.chains[0][..chain.len()],
                "seed {seed}: nodes disagree"
            );
        }
        assert!(outcome.chains[0].len() as u64 > BLOCKS, "seed {seed}");
        // Epoch 1: the double signer is out, the newcomer is in.
        assert_eq!(outcome.sets[0], sorted(&keys, &[0, 1, 2, 3]), "seed {seed}");
        assert_eq!(outcome.sets[1], sorted(&keys, &[0, 1, 3, 4]), "seed {seed}");
        // Epoch 2 on: the leaver is out too; three validators finalize the rest.
        assert_eq!(outcome.sets[2], sorted(&keys, &[0, 1, 4]), "seed {seed}");
        assert_eq!(outcome.sets[3], outcome.sets[2], "seed {seed}");
        assert!(
            outcome.cheat.slashed,
            "seed {seed}: the double signer was not slashed"
        );
        assert_eq!(outcome.cheat.bond, 900 * PLX, "seed {seed}");
        // The leaver's bond came back after the delay.
        assert_eq!(
            (outcome.leaver.bond, outcome.leaver.unbonding.len()),
            (0, 0),
            "seed {seed}"
        );
        // The newcomer proposed blocks from epoch 1 on, and only then; nobody out of
        // the set proposed.
        let proposed = |i: usize, range: std::ops::Range<u64>| {
            range
                .filter(|h| outcome.proposers[(*h - 1) as usize] == keys[i].account())
                .count()
        };
        let end = outcome.proposers.len() as u64 + 1;
        assert_eq!(proposed(NEWCOMER, 1..EPOCH), 0, "seed {seed}");
        assert!(
            proposed(NEWCOMER, EPOCH..end) > 0,
            "seed {seed}: the newcomer never proposed"
        );
        assert_eq!(proposed(CHEAT, 1..end), 0, "seed {seed}");
        assert_eq!(proposed(LEAVER, 2 * EPOCH..end), 0, "seed {seed}");
    }
    // The same seed ends identically.
    assert_eq!(run(3), run(3), "the same seed must end identically");
}
