use plexus_ledger::{BlockError, TxError, build_block, execute_block};
use plexus_types::{PLX, Payload};

use crate::support::{Chain, key};

#[test]
fn a_block_is_valid_only_if_every_transaction_applies() {
    let mut chain = Chain::new();
    let (alice, bob) = (key("alice"), key("bob"));
    chain.fund(&alice.account(), 10 * PLX);
    let good0 = chain.tx_n(
        &alice,
        Payload::Transfer {
            to: bob.account(),
            amount: PLX,
        },
        0,
    );
    let bad = chain.tx_n(
        &alice,
        Payload::Transfer {
            to: bob.account(),
            amount: 100 * PLX,
        },
        1,
    );
    let good1 = chain.tx_n(
        &alice,
        Payload::Transfer {
            to: bob.account(),
            amount: PLX,
        },
        1,
    );
    let good2 = chain.tx_n(
        &alice,
        Payload::Transfer {
            to: bob.account(),
            amount: PLX,
        },
        2,
    );

    let txs = vec![good0.clone(), bad.clone(), good1.clone()];
    match execute_block(&chain.store, &chain.env(), &txs) {
        Err(BlockError::Tx {
            index: 1,
            hash,
            error: TxError::InsufficientBalance { .. },
        }) => {
            assert_eq!(hash, bad.hash());
        }
        other => panic!("{other:?}"),
    }

    // The proposer leaves the bad one out; verifiers agree with its output.
    let candidates = vec![good0.clone(), bad.clone(), good1.clone(), good2.clone()];
    let built = build_block(&chain.store, &chain.env(), candidates.clone(), 100).unwrap();
    assert_eq!(built.included, vec![good0.clone(), good1.clone(), good2]);
    assert_eq!(built.rejected.len(), 1);
    assert_eq!(built.rejected[0].0, bad.hash());
    let again = execute_block(&chain.store, &chain.env(), &built.included).unwrap();
    assert_eq!(again, built.output);

    // max_txs bounds what is included.
    let built = build_block(&chain.store, &chain.env(), candidates, 2).unwrap();
    assert_eq!(built.included, vec![good0, good1]);

    chain.block(built.included).unwrap();
    assert_eq!(chain.balance(&bob.account()), 2 * PLX);
}
