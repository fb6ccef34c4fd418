//! `/v1/credits` shows what a client needs to judge an issuer key: its age, its
//! distinct buyers, its sale window and the issuer's bond.

use plexus_privacy::{
    oblivious::{GatewayKey, encode_key_list},
    token::IssuerKey,
};
use plexus_types::{PLX, Payload, credits::IssuerKeySpec};

use plexus_api::Backend as _;

use crate::support::{TestChain, get, key};

#[tokio::test]
async fn credit_issuers_show_each_keys_age_buyers_sale_window_and_bond() {
    let chain = TestChain::new();
    let setup = chain.setup_subnet();
    // The hotkey's validator permit comes with the subnet's first epoch.
    chain.produce_blocks(12);
    let rsa = IssuerKey::generate().unwrap();
    let config = GatewayKey::derive(1, &[7u8; 32])
        .unwrap()
        .public_config()
        .unwrap();
    let register = Payload::RegisterIssuer {
        netuid: setup.netuid,
        url: "http://127.0.0.1:9100".into(),
        ohttp_keys: encode_key_list(&[config]).unwrap(),
        keys: vec![IssuerKeySpec {
            denomination: 1,
            key_epoch: 0,
            spki: rsa.public().spki().to_vec(),
        }],
    };
    chain
        .submit(chain.tx(&setup.hotkey, register, 0))
        .expect("issuer admitted");
    chain.produce_block();
    let bob = key("bob");
    let buy = || Payload::BuyCredits {
        issuer: setup.hotkey.account(),
        denomination: 1,
        key_epoch: 0,
        credits: 100,
    };
    let faucet = chain.faucet();
    for (offset, payload) in (0u64..).zip([
        buy(),
        buy(),
        Payload::Transfer {
            to: bob.account(),
            amount: PLX,
        },
    ]) {
        chain
            .submit(chain.tx(&faucet, payload, offset))
            .expect("admitted");
    }
    chain.produce_block();
    chain.submit(chain.tx(&bob, buy(), 0)).expect("admitted");
    chain.produce_block();
    chain.produce_blocks(3);

    let state = chain.state();
    let (status, body) = get(&state, "/v1/credits/issuers").await;
    assert_eq!(status, 200, "{body}");
    let issuer = &body["issuers"][0];
    let k = &issuer["keys"][0];
    // Three purchases by two coldkeys: two distinct buyers share the key.
    assert_eq!(k["buyers"], 2, "{k}");
    assert_eq!(k["on_sale"], true);
    assert_eq!(k["on_sale_from"], 0);
    assert!(k["age_blocks"].as_u64().unwrap() >= 5, "{k}");
    assert!(k["closes_at"].as_u64().unwrap() > k["on_sale_until"].as_u64().unwrap());
    assert_eq!(k["over_issued"], false);
    // The bond: the least issuer bond covers 0.3 PLX of deposits.
    assert_eq!(issuer["bond_required"].as_u64(), Some(10 * PLX));
    assert!(issuer["self_stake"].as_u64().unwrap() >= 10 * PLX);
    assert_eq!(issuer["retired"], false);
    let (status, body) = get(&state, "/v1/credits/deposits/0").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deposit"]["refunded"], serde_json::Value::Null);
}
