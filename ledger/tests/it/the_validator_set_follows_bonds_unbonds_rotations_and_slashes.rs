use plexus_ledger::{
    Event, Genesis, TxError,
    genesis::GenesisValidator,
    params::ConsensusParams,
    validators::{self, Validator},
};
use plexus_types::{
    AccountId, Hash, Keypair, PLX, Payload,
    finality::{DoubleSign, SignedVote, VoteKind, vote_message},
};

use crate::support::{Chain, key};

const EPOCH: u64 = 10;
const DELAY: u64 = 15;

fn validator_key(i: usize) -> Keypair {
    key(&format!("consensus validator {i}"))
}

/// Four genesis validators with 1,000 PLX bonded each; epochs of 10 blocks; sets of
/// three to five.
fn chain() -> Chain {
    let mut g = Genesis::development(validator_key(0).account());
    g.params.consensus = ConsensusParams {
        epoch_length: EPOCH,
        min_validators: 3,
        max_validators: 5,
        min_bond: 1_000 * PLX,
        unbonding_delay: DELAY,
        slash_bps: 1_000,
    };
    g.validators = (0..4)
        .map(|i| GenesisValidator {
            public_key: validator_key(i).account(),
            bond: 1_000 * PLX,
        })
        .collect();
    let mut chain = Chain::with_genesis(g);
    for i in 0..6 {
        chain.fund(&validator_key(i).account(), 10_000 * PLX);
    }
    chain
}

fn set(chain: &Chain, epoch: u64) -> Vec<AccountId> {
    validators::set(&chain.store, epoch)
        .unwrap()
        .expect("set chosen")
}

fn sorted(keys: &[&Keypair]) -> Vec<AccountId> {
    let mut v: Vec<AccountId> = keys.iter().map(|k| k.account()).collect();
    v.sort_unstable();
    v
}

/// Run empty blocks until the block at `height` is committed.
fn advance_to(chain: &mut Chain, height: u64) {
    chain.advance(height - chain.height);
}

fn record(chain: &Chain, operator: &Keypair) -> Validator {
    validators::validator(&chain.store, &operator.account())
        .unwrap()
        .expect("an operator")
}

/// A signed vote of `signer` for `payload` at (epoch, view).
fn vote(
    chain: &Chain,
    signer: &Keypair,
    kind: VoteKind,
    epoch: u64,
    view: u64,
    payload: u8,
) -> SignedVote {
    let payload = Hash([payload; 32]);
    let message = vote_message(chain.chain_id, kind, epoch, view, view - 1, &payload);
    SignedVote {
        parent_view: view - 1,
        payload,
        signature: signer.sign(&message),
    }
}

fn double_sign(chain: &Chain, signer: &Keypair, epoch: u64) -> DoubleSign {
    DoubleSign {
        kind: VoteKind::Notarize,
        epoch,
        view: 7,
        signer: signer.account(),
        first: vote(chain, signer, VoteKind::Notarize, epoch, 7, 1),
        second: vote(chain, signer, VoteKind::Notarize, epoch, 7, 2),
    }
}

#[test]
fn a_bonded_validator_enters_at_the_next_boundary_and_an_unbonded_one_leaves() {
    let mut chain = chain();
    let (v, newcomer) = (
        (0..4).map(validator_key).collect::<Vec<_>>(),
        validator_key(4),
    );
    assert_eq!(set(&chain, 0), sorted(&v.iter().collect::<Vec<_>>()));

    chain
        .submit(
            &newcomer,
            Payload::Bond {
                consensus_key: newcomer.account(),
                amount: 2_000 * PLX,
            },
        )
        .unwrap();
    chain
        .submit(
            &v[3],
            Payload::Unbond {
                amount: 1_000 * PLX,
            },
        )
        .unwrap();
    let unbonded_at = chain.height;
    let balance = chain.balance(&v[3].account());
    // Nothing changes inside the epoch; the boundary at height 9 chooses epoch 1.
    assert!(validators::set(&chain.store, 1).unwrap().is_none());
    advance_to(&mut chain, EPOCH - 1);
    assert_eq!(set(&chain, 1), sorted(&[&v[0], &v[1], &v[2], &newcomer]));

    // The unbonded amount comes back after the delay, not before.
    advance_to(&mut chain, unbonded_at + DELAY - 1);
    assert_eq!(chain.balance(&v[3].account()), balance);
    chain.advance(1);
    assert_eq!(chain.balance(&v[3].account()), balance + 1_000 * PLX);
    assert!(record(&chain, &v[3]).unbonding.is_empty());
}

#[test]
fn the_largest_bonds_win_a_full_set_and_too_few_eligible_keep_the_current_one() {
    let mut chain = chain();
    let v: Vec<Keypair> = (0..6).map(validator_key).collect();
    // Two newcomers with more than anyone: the set is capped at five, and the
    // genesis validator with the largest key among equal bonds is the one left out.
    for (i, amount) in [(4, 3_000 * PLX), (5, 1_500 * PLX)] {
        chain
            .submit(
                &v[i],
                Payload::Bond {
                    consensus_key: v[i].account(),
                    amount,
                },
            )
            .unwrap();
    }
    advance_to(&mut chain, EPOCH - 1);
    let mut genesis: Vec<AccountId> = v[..4].iter().map(|k| k.account()).collect();
    genesis.sort_unstable();
    let mut expected = vec![v[4].account(), v[5].account()];
    expected.extend_from_slice(&genesis[..3]);
    expected.sort_unstable();
    assert_eq!(set(&chain, 1), expected);

    // Everyone but two unbonds: fewer than three are eligible, the set is kept.
    for k in &v[..4] {
        chain
            .submit(
                k,
                Payload::Unbond {
                    amount: 1_000 * PLX,
                },
            )
            .unwrap();
    }
    advance_to(&mut chain, 2 * EPOCH - 2);
    let boundary = chain.block(Vec::new()).unwrap();
    assert!(boundary.events.iter().any(|e| matches!(
        e,
        Event::ValidatorSetChosen {
            epoch: 2,
            kept: true,
            ..
        }
    )));
    assert_eq!(set(&chain, 2), expected);
}

#[test]
fn a_rotated_key_votes_from_the_next_epoch_and_the_old_one_stays_slashable() {
    let mut chain = chain();
    let operator = validator_key(1);
    let fresh = key("fresh consensus key");
    chain
        .submit(
            &operator,
            Payload::RotateConsensusKey {
                new_key: fresh.account(),
            },
        )
        .unwrap();
    assert_eq!(record(&chain, &operator).consensus_key, operator.account());
    advance_to(&mut chain, EPOCH - 1);
    assert_eq!(record(&chain, &operator).consensus_key, fresh.account());
    assert!(set(&chain, 1).contains(&fresh.account()));
    assert!(!set(&chain, 1).contains(&operator.account()));

    // Another operator cannot take either key.
    let thief = validator_key(5);
    for taken in [fresh.account(), operator.account()] {
        let err = chain
            .submit(
                &thief,
                Payload::Bond {
                    consensus_key: taken,
                    amount: 1_000 * PLX,
                },
            )
            .unwrap_err();
        assert!(matches!(err, TxError::ConsensusKeyTaken { .. }), "{err}");
    }
    // A double sign with the old key in epoch 0 still slashes the operator.
    let reporter = validator_key(4);
    let evidence = double_sign(&chain, &operator, 0);
    chain
        .submit(&reporter, Payload::ReportDoubleSign { evidence })
        .unwrap();
    assert!(record(&chain, &operator).slashed);
}

#[test]
fn a_double_signer_is_slashed_once_and_removed_at_the_next_boundary() {
    let mut chain = chain();
    let cheat = validator_key(2);
    let reporter = validator_key(5);
    let issuance = plexus_ledger::query::supply(&chain.store)
        .unwrap()
        .total_issuance;
    chain
        .submit(&cheat, Payload::Unbond { amount: 400 * PLX })
        .unwrap();
    let out = chain
        .submit(
            &reporter,
            Payload::ReportDoubleSign {
                evidence: double_sign(&chain, &cheat, 0),
            },
        )
        .unwrap();
    // 10 % of the bond (600 PLX) and of what is unbonding (400 PLX) is burned.
    let burned = 100 * PLX;
    assert!(out.events.iter().any(|e| matches!(
        e,
        Event::ValidatorSlashed { burned: b, .. } if *b == burned
    )));
    let after = plexus_ledger::query::supply(&chain.store)
        .unwrap()
        .total_issuance;
    assert!(after + burned <= issuance, "the slash was not burned");
    let r = record(&chain, &cheat);
    assert_eq!(
        (r.bond, r.unbonding[0].1, r.slashed),
        (540 * PLX, 360 * PLX, true)
    );

    // The same evidence again, or a second one, slashes nothing more.
    let err = chain
        .submit(
            &reporter,
            Payload::ReportDoubleSign {
                evidence: double_sign(&chain, &cheat, 0),
            },
        )
        .unwrap_err();
    assert_eq!(err, TxError::ValidatorSlashed(cheat.account()));
    // A slashed operator cannot bond back in.
    let err = chain
        .submit(
            &cheat,
            Payload::Bond {
                consensus_key: cheat.account(),
                amount: 5_000 * PLX,
            },
        )
        .unwrap_err();
    assert_eq!(err, TxError::ValidatorSlashed(cheat.account()));

    advance_to(&mut chain, EPOCH - 1);
    assert!(!set(&chain, 1).contains(&cheat.account()));
    assert_eq!(set(&chain, 1).len(), 3);
}

#[test]
fn forged_or_misdirected_evidence_slashes_nobody() {
    let mut chain = chain();
    let honest = validator_key(1);
    let reporter = validator_key(5);
    let outsider = validator_key(4);
    // The same proposal twice is not a double sign.
    let mut same = double_sign(&chain, &honest, 0);
    same.second = same.first.clone();
    // A signature by someone else over the honest key's name.
    let mut forged = double_sign(&chain, &honest, 0);
    forged.second = vote(&chain, &outsider, VoteKind::Notarize, 0, 7, 2);
    // A finalize signature passed off as a notarize.
    let mut relabelled = double_sign(&chain, &honest, 0);
    relabelled.second = vote(&chain, &honest, VoteKind::Finalize, 0, 7, 2);
    // Another chain's votes.
    let mut other_chain = double_sign(&chain, &honest, 0);
    other_chain.first.signature = honest.sign(&vote_message(
        chain.chain_id + 1,
        VoteKind::Notarize,
        0,
        7,
        6,
        &other_chain.first.payload,
    ));
    for evidence in [same, forged, relabelled, other_chain] {
        let err = chain
            .submit(&reporter, Payload::ReportDoubleSign { evidence })
            .unwrap_err();
        assert!(matches!(err, TxError::InvalidEvidence(_)), "{err}");
    }
    // A real double sign by a key that was never in the set.
    let err = chain
        .submit(
            &reporter,
            Payload::ReportDoubleSign {
                evidence: double_sign(&chain, &outsider, 0),
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::NotInValidatorSet { .. }), "{err}");
    // An epoch whose set is not chosen yet.
    let err = chain
        .submit(
            &reporter,
            Payload::ReportDoubleSign {
                evidence: double_sign(&chain, &honest, 3),
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::NotInValidatorSet { .. }), "{err}");
    assert!(!record(&chain, &honest).slashed);
}

#[test]
fn a_chain_with_a_fixed_set_refuses_bonding() {
    let mut chain = Chain::new();
    let k = validator_key(0);
    chain.fund(&k.account(), 10 * PLX);
    for payload in [
        Payload::Bond {
            consensus_key: k.account(),
            amount: PLX,
        },
        Payload::Unbond { amount: PLX },
        Payload::RotateConsensusKey {
            new_key: key("other").account(),
        },
    ] {
        assert_eq!(
            chain.submit(&k, payload).unwrap_err(),
            TxError::FixedValidatorSet
        );
    }
}
