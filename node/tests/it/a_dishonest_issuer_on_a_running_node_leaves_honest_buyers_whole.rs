//! The dishonest-issuer scenario through a running validator: every step goes through
//! mempool admission, a proposed block and finality. An issuer registers, tries to
//! unstake, over-issues tokens to its own provider and settles them; the honest buyers
//! take their deposits back in full and the issuer's bond pays the difference.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use commonware_runtime::{Clock as _, Runner as _, deterministic};
use plexus_ledger::{TxError, query};
use plexus_node::{MempoolError, NodeHandle};
use plexus_privacy::{
    oblivious::{GatewayKey, encode_key_list},
    token::{IssuerKey, TokenChallenge},
};
use plexus_types::{
    AccountId, Hyperparams, Keypair, Mechanism, Netuid, PLX, Payload, Transaction,
    credits::IssuerKeySpec,
};

use crate::harness::{config, genesis, network, start, user_keys, validator_keys};

/// Sign `payload` from `signer` with its next committed nonce, submit it and wait
/// until a finalized block applied it; the admission refusal otherwise.
async fn send(
    context: &deterministic::Context,
    node: &NodeHandle,
    chain_id: u64,
    signer: &Keypair,
    payload: Payload,
) -> Result<(), MempoolError> {
    let store = node.store();
    let params = query::chain(store.as_ref()).unwrap().params;
    let nonce = query::account(store.as_ref(), &signer.account())
        .unwrap()
        .nonce;
    let tx = Transaction {
        chain_id,
        sender: signer.account(),
        nonce,
        fee: params.min_fee_for(&payload),
        payload,
    }
    .sign(signer);
    node.submit(tx)?;
    loop {
        let now = query::account(node.store().as_ref(), &signer.account())
            .unwrap()
            .nonce;
        if now > nonce {
            return Ok(());
        }
        context.sleep(Duration::from_millis(50)).await;
    }
}

fn tokens(key: &IssuerKey, issuer: &AccountId, provider: &AccountId, n: usize) -> Vec<Vec<u8>> {
    let challenge = TokenChallenge::for_origin(&issuer.to_string(), &provider.to_string());
    (0..n)
        .map(|_| key.issue_locally(&challenge).unwrap().encode())
        .collect()
}

fn balance(node: &NodeHandle, who: &AccountId) -> u64 {
    query::account(node.store().as_ref(), who).unwrap().balance
}

#[test]
fn a_dishonest_issuer_on_a_running_node_leaves_honest_buyers_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rsa = IssuerKey::generate().unwrap();
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(15)
            .with_timeout(Some(Duration::from_secs(600))),
    );
    runner.start(|context| async move {
        let keys = validator_keys(1);
        let users = user_keys(5);
        let (owner, issuer_cold, provider_cold, alice, bob) =
            (&users[0], &users[1], &users[2], &users[3], &users[4]);
        let mut genesis = genesis(&keys, &users);
        genesis.params.issuer_bond = 5 * PLX;
        let id = genesis.chain_id;
        let oracle = network(&context, &keys, None).await;
        let node = start(&context, &oracle, 0, config(dir.path(), &genesis, &keys[0])).await;
        let node = &node.handle;
        let ctx = &context;

        let hp = Hyperparams {
            tempo: 5,
            min_burn: PLX / 100,
            max_burn: 1_000 * PLX,
            ..Hyperparams::default()
        };
        let create = Payload::CreateSubnet {
            name: "inference".into(),
            mechanism: Mechanism::Generic,
            hyperparams: hp,
        };
        send(ctx, node, id, owner, create).await.unwrap();
        let netuid: Netuid = query::subnets(node.store().as_ref(), 0).unwrap()[0].netuid;
        let issuer = Keypair::from_label("dishonest issuer");
        let own_provider = Keypair::from_label("its own provider");
        let provider = Keypair::from_label("honest provider");
        for (cold, hot) in [
            (issuer_cold, &issuer),
            (issuer_cold, &own_provider),
            (provider_cold, &provider),
        ] {
            let register = Payload::Register {
                netuid,
                hotkey: hot.account(),
            };
            send(ctx, node, id, cold, register).await.unwrap();
        }
        let stake = Payload::AddStake {
            hotkey: issuer.account(),
            amount: 20 * PLX,
        };
        send(ctx, node, id, issuer_cold, stake).await.unwrap();
        // The issuer's validator permit comes with the next epoch.
        let config = GatewayKey::derive(1, &[7u8; 32])
            .unwrap()
            .public_config()
            .unwrap();
        let register = Payload::RegisterIssuer {
            netuid,
            url: "http://127.0.0.1:9100".into(),
            ohttp_keys: encode_key_list(&[config]).unwrap(),
            keys: vec![IssuerKeySpec {
                denomination: 1,
                key_epoch: 0,
                spki: rsa.public().spki().to_vec(),
            }],
        };
        while send(ctx, node, id, &issuer, register.clone())
            .await
            .is_err()
        {
            context.sleep(Duration::from_millis(500)).await;
        }

        // Two honest buyers; an honest provider settles 40 of Alice's credits.
        let price = genesis.params.credit_price;
        for buyer in [alice, bob] {
            let buy = Payload::BuyCredits {
                issuer: issuer.account(),
                denomination: 1,
                key_epoch: 0,
                credits: 100,
            };
            send(ctx, node, id, buyer, buy).await.unwrap();
        }
        let alices = tokens(&rsa, &issuer.account(), &provider.account(), 100);
        let settle = |t: &[Vec<u8>]| Payload::SettleCredits {
            netuid,
            tokens: t.to_vec(),
        };
        send(ctx, node, id, &provider, settle(&alices[..40]))
            .await
            .unwrap();

        // The issuer cannot take its bond back: the node refuses at admission.
        let all = plexus_ledger::staking::stake(
            node.store().as_ref(),
            &issuer.account(),
            &issuer_cold.account(),
        )
        .unwrap();
        let unstake = Payload::RemoveStake {
            hotkey: issuer.account(),
            amount: all,
        };
        assert!(matches!(
            send(ctx, node, id, issuer_cold, unstake).await,
            Err(MempoolError::Rejected(TxError::StakeBonded { .. }))
        ));

        // It over-issues 200 tokens to its own provider and settles them.
        let fakes = tokens(&rsa, &issuer.account(), &own_provider.account(), 200);
        for chunk in fakes.chunks(100) {
            send(ctx, node, id, &own_provider, settle(chunk))
                .await
                .unwrap();
        }
        let view = query::issuer(node.store().as_ref(), &issuer.account())
            .unwrap()
            .unwrap();
        assert!(view.issuer.retired && view.keys[0].over_issued);

        // Both honest buyers take back their whole deposits.
        for (buyer, deposit) in [(alice, 0), (bob, 1)] {
            let before = balance(node, &buyer.account());
            send(ctx, node, id, buyer, Payload::RefundCredits { deposit })
                .await
                .unwrap();
            assert_eq!(
                balance(node, &buyer.account()),
                before + 100 * price - genesis.params.min_fee
            );
        }
        // The bond paid what the key paid out: 40 honest + 160 forged credits.
        let key = &query::issuer(node.store().as_ref(), &issuer.account())
            .unwrap()
            .unwrap()
            .keys[0];
        assert_eq!(key.slashed, 200 * price);
        assert_eq!(key.escrow(), 0);
    });
}
