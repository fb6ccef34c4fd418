//! The dishonest issuer on a real devnet: `plexus devnet` runs its node, relay,
//! issuer, provider, validator and proxy as separate processes, and the attacker and
//! its victims act only through the node's public HTTP API (mempool admission, a
//! proposed block, finality). An issuer bonds, registers a key, sells credits to two
//! honest buyers, tries to take its bond back, over-issues tokens to its own provider
//! and settles them; the honest buyers take their deposits back in full and the
//! issuer's bond pays what its key paid out.

use std::time::Duration;

use plexus_client::{Client, ClientError};
use plexus_privacy::{
    oblivious::{GatewayKey, encode_key_list},
    token::{IssuerKey, TokenChallenge},
};
use plexus_types::{AccountId, Keypair, Mechanism, Netuid, PLX, Payload, credits::IssuerKeySpec};
use plexus_wallet::Mnemonic;

use crate::support::Devnet;

const WAIT: Duration = Duration::from_secs(60);

/// `n` tokens of `key` for `provider`, blind-signed as the issuer would.
fn tokens(key: &IssuerKey, issuer: &AccountId, provider: &AccountId, n: usize) -> Vec<Vec<u8>> {
    let challenge = TokenChallenge::for_origin(&issuer.to_string(), &provider.to_string());
    (0..n)
        .map(|_| key.issue_locally(&challenge).unwrap().encode())
        .collect()
}

async fn send(client: &Client, key: &Keypair, payload: Payload) -> Result<u64, ClientError> {
    client
        .send_tx(key, payload, None, WAIT)
        .await
        .map(|sent| sent.fee)
}

async fn balance(client: &Client, who: &AccountId) -> u64 {
    client.account(who).await.unwrap().balance
}

#[test]
fn a_dishonest_issuer_on_a_devnet_leaves_honest_buyers_whole() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(dir.path());
    let rsa = IssuerKey::generate().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = Client::new(devnet.ready["node"].as_str().unwrap()).unwrap();
        let faucet = Mnemonic::parse(devnet.ready["faucet_mnemonic"].as_str().unwrap())
            .unwrap()
            .keypair();
        let [issuer_cold, provider_cold, alice, bob] =
            ["issuer cold", "provider cold", "alice", "bob"].map(Keypair::from_label);
        for who in [&issuer_cold, &provider_cold, &alice, &bob] {
            let fund = Payload::Transfer {
                to: who.account(),
                amount: 500 * PLX,
            };
            send(&client, &faucet, fund).await.unwrap();
        }
        let netuid: Netuid = client
            .subnets()
            .await
            .unwrap()
            .subnets
            .iter()
            .find(|s| s.mechanism == Mechanism::Inference)
            .expect("the devnet's inference subnet")
            .netuid;
        let issuer = Keypair::from_label("dishonest issuer");
        let own_provider = Keypair::from_label("its own provider");
        let provider = Keypair::from_label("honest provider");
        for (cold, hot) in [
            (&issuer_cold, &issuer),
            (&issuer_cold, &own_provider),
            (&provider_cold, &provider),
        ] {
            let register = Payload::Register {
                netuid,
                hotkey: hot.account(),
            };
            send(&client, cold, register).await.unwrap();
        }
        let params = client.chain().await.unwrap().params;
        let stake = Payload::AddStake {
            hotkey: issuer.account(),
            amount: 2 * params.issuer_bond.max(PLX),
        };
        send(&client, &issuer_cold, stake).await.unwrap();

        // The validator permit comes with the subnet's next epoch: retry until then.
        let ohttp = GatewayKey::derive(1, &[7u8; 32])
            .unwrap()
            .public_config()
            .unwrap();
        let register = Payload::RegisterIssuer {
            netuid,
            url: "http://127.0.0.1:9".into(),
            ohttp_keys: encode_key_list(&[ohttp]).unwrap(),
            keys: vec![IssuerKeySpec {
                denomination: 1,
                key_epoch: 0,
                spki: rsa.public().spki().to_vec(),
            }],
        };
        let mut tries = 0;
        while let Err(e) = send(&client, &issuer, register.clone()).await {
            tries += 1;
            assert!(tries < 120, "the issuer never registered: {e}");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }

        // Two honest buyers pay deposits; an honest provider settles 40 of Alice's.
        for buyer in [&alice, &bob] {
            let buy = Payload::BuyCredits {
                issuer: issuer.account(),
                denomination: 1,
                key_epoch: 0,
                credits: 100,
            };
            send(&client, buyer, buy).await.unwrap();
        }
        let settle = |t: &[Vec<u8>]| Payload::SettleCredits {
            netuid,
            tokens: t.to_vec(),
        };
        let alices = tokens(&rsa, &issuer.account(), &provider.account(), 100);
        send(&client, &provider, settle(&alices[..40]))
            .await
            .unwrap();

        // The issuer cannot take its bond back: the node refuses it at admission.
        let staked = client.stakes(&issuer_cold.account()).await.unwrap();
        let all = staked
            .stakes
            .iter()
            .find(|s| s.hotkey == issuer.account())
            .unwrap()
            .amount;
        let unstake = Payload::RemoveStake {
            hotkey: issuer.account(),
            amount: all,
        };
        let refused = send(&client, &issuer_cold, unstake).await.unwrap_err();
        assert_eq!(refused.code(), Some("stake_bonded"), "{refused}");

        // It over-issues 200 tokens to its own provider and settles them.
        let forged = tokens(&rsa, &issuer.account(), &own_provider.account(), 200);
        for chunk in forged.chunks(100) {
            send(&client, &own_provider, settle(chunk)).await.unwrap();
        }
        let view = client.issuer(&issuer.account()).await.unwrap().issuer;
        assert!(view.retired, "an over-issuing issuer is retired");
        assert!(view.keys[0].over_issued);

        // Both honest buyers take back their whole deposits.
        let price = client.issuers().await.unwrap().credit_price;
        for buyer in [&alice, &bob] {
            let deposit = client.deposits_of(&buyer.account()).await.unwrap().deposits[0].id;
            let before = balance(&client, &buyer.account()).await;
            let fee = send(&client, buyer, Payload::RefundCredits { deposit })
                .await
                .unwrap();
            assert_eq!(
                balance(&client, &buyer.account()).await,
                before + 100 * price - fee
            );
        }
        // The bond paid what the key paid out beyond its escrow: the honest 40 and
        // 160 of the forged credits, 200 in all.
        let key = &client.issuer(&issuer.account()).await.unwrap().issuer.keys[0];
        assert_eq!(key.slashed, 200 * price);
        assert_eq!(key.escrow, 0);
    });
    drop(devnet);
}
