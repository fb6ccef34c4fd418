//! A light client's balance read on a running node: the header comes with the
//! finality certificate commonware made for it, checked against the genesis validator
//! set, and the balance with a Merkle proof against that header's state root. Nothing
//! the node says is taken on trust but the validator set.

use plexus_client::{Client, ClientError};
use plexus_types::{AccountId, PLX};

use crate::support::{LocalNet, json, ok};

#[test]
fn a_balance_is_proven_against_a_header_a_validator_quorum_finalized() {
    let net = LocalNet::start();
    let cli = || net.cli();
    let created = json(&ok(
        cli().args(["--json", "wallet", "create", "--name", "alice"])
    ));
    let alice =
        AccountId::parse(created["coldkey"].as_str().expect("a coldkey")).expect("an address");
    ok(cli().args(["wallet", "faucet", "--name", "alice", "--amount", "42"]));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = Client::new(&net.node.url()).expect("client");
        let chain = client.chain().await.expect("chain");
        let validators: Vec<AccountId> = chain.validators.iter().map(|v| v.public_key).collect();
        let tip = client.status().await.expect("status").node.finalized_height;

        let header = client
            .certified_header(tip, chain.chain_id, &validators)
            .await
            .expect("the tip's certificate checks out");
        let proven = client
            .verified_account_at(&alice, &header)
            .await
            .expect("the balance is proven against the certified header");
        assert_eq!(proven.value.balance, 42 * PLX);

        // Every block since genesis has its certificate; genesis has none.
        for height in 1..=tip {
            client
                .certified_header(height, chain.chain_id, &validators)
                .await
                .unwrap_or_else(|e| panic!("block {height}: {e}"));
        }
        let genesis = client
            .finalization(0)
            .await
            .expect_err("genesis is not certified");
        assert!(
            matches!(&genesis, ClientError::Api { code, .. } if code == "no_certificate"),
            "{genesis}"
        );

        // A validator set the node is not run by rejects every certificate.
        let strangers = [plexus_types::Keypair::from_label("stranger").account()];
        let refused = client
            .certified_header(tip, chain.chain_id, &strangers)
            .await
            .expect_err("not signed by the trusted set");
        assert!(matches!(refused, ClientError::ProofInvalid(_)), "{refused}");
    });
}
