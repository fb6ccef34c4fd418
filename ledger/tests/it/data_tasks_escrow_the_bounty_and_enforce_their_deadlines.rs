use plexus_ledger::{TxError, query};
use plexus_types::{Hash, Keypair, Mechanism, Netuid, PLX, Payload, tx::data_commit_hash};

use crate::support::{Chain, fast_hp, key};

fn data_subnet(chain: &mut Chain, owner: &Keypair) -> Netuid {
    chain
        .submit(
            owner,
            Payload::CreateSubnet {
                name: "data".into(),
                mechanism: Mechanism::Data,
                hyperparams: plexus_types::Hyperparams {
                    commit_reveal: false,
                    weights_rate_limit: 0,
                    ..fast_hp()
                },
            },
        )
        .unwrap();
    query::subnets(&chain.store, chain.height)
        .unwrap()
        .last()
        .unwrap()
        .netuid
}

fn create(netuid: Netuid, bounty: u64, commit_deadline: u64, reveal_deadline: u64) -> Payload {
    Payload::CreateDataTask {
        netuid,
        schema_hash: Hash([1; 32]),
        reference_commitment: Hash([2; 32]),
        bounty,
        commit_deadline,
        reveal_deadline,
        min_rows: 10,
        max_rows: 1000,
    }
}

fn reveal(task: u64, content: Hash, salt: [u8; 32], rows: u64) -> Payload {
    Payload::RevealData {
        task,
        content_hash: content,
        salt,
        rows,
    }
}

/// A data subnet with a staked validator (with a permit) and two miners.
struct Setup {
    chain: Chain,
    netuid: Netuid,
    requester: Keypair,
    validator: Keypair,
    miners: [Keypair; 2],
}

fn setup() -> Setup {
    let mut chain = Chain::new();
    let (owner, cold, requester) = (key("owner"), key("cold"), key("requester"));
    for k in [&owner, &cold, &requester] {
        chain.fund(&k.account(), 1_000 * PLX);
    }
    let generic = chain.create_subnet(&owner, fast_hp());
    let netuid = data_subnet(&mut chain, &owner);
    assert_ne!(generic, netuid);
    let validator = key("vhot");
    let miners = [key("m0"), key("m1")];
    for h in [&validator, &miners[0], &miners[1]] {
        chain.register(&cold, netuid, &h.account()).unwrap();
    }
    chain
        .add_stake(&cold, &validator.account(), 10 * PLX)
        .unwrap();
    chain.next_epoch(netuid);
    // A task on the generic subnet is refused.
    let h = chain.height;
    let err = chain
        .submit(&requester, create(generic, PLX, h + 5, h + 10))
        .unwrap_err();
    assert!(matches!(err, TxError::NotADataSubnet { .. }), "{err}");
    assert_eq!(err.code(), "not_a_data_subnet");
    Setup {
        chain,
        netuid,
        requester,
        validator,
        miners,
    }
}

#[test]
fn data_tasks_escrow_the_bounty_and_enforce_their_deadlines() {
    let Setup {
        mut chain,
        netuid,
        requester,
        validator,
        miners,
    } = setup();
    let h = chain.height;

    // Typed rejections at creation: stateless, unknown subnet, past deadline, funds.
    let err = chain
        .submit(&requester, create(netuid, PLX, h + 5, h + 5))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_data_task");
    let err = chain
        .submit(&requester, create(999, PLX, h + 5, h + 10))
        .unwrap_err();
    assert!(
        matches!(err, TxError::UnknownSubnet { netuid: 999 }),
        "{err}"
    );
    let err = chain
        .submit(&requester, create(netuid, PLX, 1, h + 10))
        .unwrap_err();
    assert_eq!(err.code(), "deadline_passed");
    let err = chain
        .submit(&requester, create(netuid, 10_000 * PLX, h + 5, h + 10))
        .unwrap_err();
    assert!(matches!(err, TxError::InsufficientBalance { .. }), "{err}");

    // Creation escrows the bounty.
    let before = chain.balance(&requester.account());
    let h = chain.height;
    let (commit_deadline, reveal_deadline) = (h + 6, h + 12);
    chain
        .submit(
            &requester,
            create(netuid, 50 * PLX, commit_deadline, reveal_deadline),
        )
        .unwrap();
    assert_eq!(
        chain.balance(&requester.account()),
        before - 50 * PLX - chain.min_fee()
    );
    assert_eq!(query::supply(&chain.store).unwrap().data_escrow, 50 * PLX);
    let task = 0;

    // Commits: registered hotkeys only; fee-free.
    let stranger = key("stranger");
    let err = chain
        .submit(
            &stranger,
            Payload::CommitData {
                task,
                commitment: Hash([0; 32]),
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::NotRegistered { .. }), "{err}");
    let err = chain
        .submit(
            &miners[0],
            Payload::CommitData {
                task: 7,
                commitment: Hash([0; 32]),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "unknown_data_task");
    let salts = [[3u8; 32], [4u8; 32]];
    let contents = [Hash([5; 32]), Hash([6; 32])];
    for i in 0..2 {
        let commitment = data_commit_hash(task, &miners[i].account(), &salts[i], &contents[i]);
        chain
            .submit(&miners[i], Payload::CommitData { task, commitment })
            .unwrap();
    }

    // Too early to reveal, and a publication too early too.
    let err = chain
        .submit(&miners[0], reveal(task, contents[0], salts[0], 100))
        .unwrap_err();
    assert!(
        matches!(err, TxError::RevealNotOpen { opens_at, .. } if opens_at == commit_deadline + 1),
        "{err}"
    );
    assert!(err.is_retryable());
    while chain.height < commit_deadline {
        chain.advance(1);
    }
    // The commit window is closed now (the next block is past the deadline).
    let err = chain
        .submit(
            &miners[0],
            Payload::CommitData {
                task,
                commitment: Hash([0; 32]),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "commit_closed");

    // Reveals: must open the commit, within the row bounds, once.
    let err = chain
        .submit(&miners[0], reveal(task, contents[1], salts[0], 100))
        .unwrap_err();
    assert_eq!(err, TxError::DataCommitMismatch);
    // Another hotkey cannot reveal someone else's commitment.
    let err = chain
        .submit(&validator, reveal(task, contents[0], salts[0], 100))
        .unwrap_err();
    assert_eq!(err.code(), "no_data_commit");
    let err = chain
        .submit(&miners[0], reveal(task, contents[0], salts[0], 5))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TxError::RowsOutOfBounds {
                rows: 5,
                min: 10,
                max: 1000
            }
        ),
        "{err}"
    );
    chain
        .submit(&miners[0], reveal(task, contents[0], salts[0], 100))
        .unwrap();
    let err = chain
        .submit(&miners[0], reveal(task, contents[0], salts[0], 100))
        .unwrap_err();
    assert_eq!(err.code(), "already_revealed");
    let err = chain
        .submit(
            &validator,
            Payload::PublishDataset {
                task,
                merkle_root: Hash([9; 32]),
                rows: 100,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "publish_too_early");

    // Past the reveal deadline the second miner is too late.
    while chain.height < reveal_deadline {
        chain.advance(1);
    }
    let err = chain
        .submit(&miners[1], reveal(task, contents[1], salts[1], 100))
        .unwrap_err();
    assert_eq!(err.code(), "reveal_closed");

    // Publication: a validator with a permit, rows within what was revealed, once.
    let err = chain
        .submit(
            &miners[0],
            Payload::PublishDataset {
                task,
                merkle_root: Hash([9; 32]),
                rows: 100,
            },
        )
        .unwrap_err();
    assert!(matches!(err, TxError::NoValidatorPermit { .. }), "{err}");
    let err = chain
        .submit(
            &validator,
            Payload::PublishDataset {
                task,
                merkle_root: Hash([9; 32]),
                rows: 101,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "rows_out_of_bounds");
    let pending_before = query::subnet(&chain.store, netuid, chain.height)
        .unwrap()
        .unwrap()
        .pending_emission;
    chain
        .submit(
            &validator,
            Payload::PublishDataset {
                task,
                merkle_root: Hash([9; 32]),
                rows: 100,
            },
        )
        .unwrap();
    let view = query::data_task(&chain.store, task, chain.height)
        .unwrap()
        .unwrap();
    assert_eq!(view.phase, "published");
    assert_eq!(view.task.escrow, 0);
    assert_eq!(view.task.published.unwrap().merkle_root, Hash([9; 32]));
    assert_eq!(view.contributions.len(), 2);
    assert_eq!(view.contributions[0].content_hash, Some(contents[0]));
    assert_eq!(view.contributions[1].content_hash, None);
    assert_eq!(query::supply(&chain.store).unwrap().data_escrow, 0);
    let pending_after = query::subnet(&chain.store, netuid, chain.height)
        .unwrap()
        .unwrap()
        .pending_emission;
    // The bounty joined the subnet's pending emission (plus one block's accrual, or
    // less if an epoch ran in that block).
    assert!(pending_after >= 50 * PLX || pending_after < pending_before);
    let err = chain
        .submit(
            &validator,
            Payload::PublishDataset {
                task,
                merkle_root: Hash([9; 32]),
                rows: 100,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "already_published");
}

#[test]
fn a_published_bounty_pays_miners_by_weight_at_the_next_epoch() {
    let Setup {
        mut chain,
        netuid,
        requester,
        validator,
        miners,
    } = setup();
    let h = chain.height;
    chain
        .submit(&requester, create(netuid, 100 * PLX, h + 3, h + 6))
        .unwrap();
    let salt = [1u8; 32];
    for (i, m) in miners.iter().enumerate() {
        let content = Hash([u8::try_from(i).unwrap(); 32]);
        let commitment = data_commit_hash(0, &m.account(), &salt, &content);
        chain
            .submit(
                m,
                Payload::CommitData {
                    task: 0,
                    commitment,
                },
            )
            .unwrap();
    }
    for (i, m) in miners.iter().enumerate() {
        let content = Hash([u8::try_from(i).unwrap(); 32]);
        chain.submit(m, reveal(0, content, salt, 50)).unwrap();
    }
    chain.advance(1);
    // Weights 3:1 for the two miners (uids 1 and 2).
    chain
        .submit(
            &validator,
            Payload::SetWeights {
                netuid,
                uids: vec![1, 2],
                weights: vec![3, 1],
                version: 0,
            },
        )
        .unwrap();
    chain
        .submit(
            &validator,
            Payload::PublishDataset {
                task: 0,
                merkle_root: Hash([7; 32]),
                rows: 100,
            },
        )
        .unwrap();
    chain.next_epoch(netuid);
    let m = query::metagraph(&chain.store, netuid).unwrap();
    let (e1, e2) = (m.neurons[1].emission, m.neurons[2].emission);
    // The epoch paid the bounty: the miners' half of it and more, 3:1 within rounding.
    assert!(e1 + e2 > 100 * PLX * 4 / 10, "{e1} {e2}");
    assert!(e1.abs_diff(3 * e2) <= 4, "{e1} vs 3 × {e2}");
}

#[test]
fn a_task_nobody_revealed_refunds_its_creator() {
    let Setup {
        mut chain,
        netuid,
        requester,
        validator,
        ..
    } = setup();
    let h = chain.height;
    chain
        .submit(&requester, create(netuid, 20 * PLX, h + 2, h + 3))
        .unwrap();
    chain.advance(3);
    let before = chain.balance(&requester.account());
    chain
        .submit(
            &validator,
            Payload::PublishDataset {
                task: 0,
                merkle_root: Hash([0; 32]),
                rows: 0,
            },
        )
        .unwrap();
    assert_eq!(chain.balance(&requester.account()), before + 20 * PLX);
}
