use axum::http::StatusCode;

use crate::support::{TestChain, code, get, key};

#[tokio::test]
async fn a_registered_staked_serving_hotkey_shows_everywhere() {
    let chain = TestChain::new();
    let state = chain.state();
    let (_, before) = get(&state, "/v1/subnets").await;
    assert_eq!(before["subnets"], serde_json::json!([]));

    let setup = chain.setup_subnet();
    let owner = setup.owner.account();
    let hotkey = setup.hotkey.account();

    let (status, subnets) = get(&state, "/v1/subnets").await;
    assert_eq!(status, StatusCode::OK, "{subnets}");
    assert_eq!(subnets["height"], 2);
    assert_eq!(subnets["subnets"][0]["netuid"], 1);
    assert_eq!(subnets["subnets"][0]["name"], "inference");
    assert_eq!(subnets["subnets"][0]["mechanism"], "inference");
    assert_eq!(subnets["subnets"][0]["owner"], owner.to_address());
    assert_eq!(subnets["subnets"][0]["n"], 1);

    let (status, subnet) = get(&state, "/v1/subnets/1").await;
    assert_eq!(status, StatusCode::OK, "{subnet}");
    assert_eq!(subnet["subnet"], subnets["subnets"][0]);
    assert_eq!(subnet["subnet"]["hyperparams"]["tempo"], 10);
    assert!(subnet["subnet"]["burn_price"].as_u64().unwrap() > 0);

    let (status, graph) = get(&state, "/v1/subnets/1/metagraph").await;
    assert_eq!(status, StatusCode::OK, "{graph}");
    let neuron = &graph["neurons"][0];
    assert_eq!(neuron["uid"], 0);
    assert_eq!(neuron["hotkey"], hotkey.to_address());
    assert_eq!(neuron["coldkey"], owner.to_address());
    assert_eq!(neuron["stake"], setup.stake);
    assert_eq!(neuron["registered_at"], 1);
    assert_eq!(neuron["endpoint"]["url"], "http://127.0.0.1:8090");
    for field in [
        "incentive",
        "dividends",
        "emission",
        "consensus",
        "validator_trust",
        "validator_permit",
        "trust",
        "rank",
    ] {
        assert!(!neuron[field].is_null(), "metagraph lacks {field}");
    }

    let (status, hk) = get(&state, &format!("/v1/hotkeys/{hotkey}")).await;
    assert_eq!(status, StatusCode::OK, "{hk}");
    assert_eq!(hk["owner"], owner.to_address());
    assert_eq!(hk["total_stake"], setup.stake);
    assert_eq!(
        hk["registrations"],
        serde_json::json!([{"netuid": 1, "uid": 0}])
    );

    let (_, stakes) = get(&state, &format!("/v1/accounts/{owner}/stakes")).await;
    assert_eq!(stakes["total"], setup.stake);
    assert_eq!(stakes["stakes"][0]["hotkey"], hotkey.to_address());
    let (_, owned) = get(&state, &format!("/v1/accounts/{owner}/hotkeys")).await;
    assert_eq!(owned["hotkeys"], serde_json::json!([hotkey.to_address()]));

    let (status, weights) = get(&state, "/v1/subnets/1/weights/0").await;
    assert_eq!(status, StatusCode::OK, "{weights}");
    assert_eq!(weights["weights"], serde_json::json!([]));
    assert!(weights["pending_commit"].is_null());

    let (_, supply) = get(&state, "/v1/supply").await;
    assert_eq!(supply["total_stake"], setup.stake);
    assert_eq!(
        supply["total_issuance"].as_u64().unwrap(),
        supply["genesis"].as_u64().unwrap() + supply["emitted"].as_u64().unwrap()
            - supply["burned"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn unknown_things_are_json_404s_and_bad_parameters_json_400s() {
    let chain = TestChain::new();
    let state = chain.state();
    let cases = [
        ("/v1/subnets/7", StatusCode::NOT_FOUND, "unknown_subnet"),
        (
            "/v1/subnets/7/metagraph",
            StatusCode::NOT_FOUND,
            "unknown_subnet",
        ),
        (
            "/v1/subnets/7/weights/0",
            StatusCode::NOT_FOUND,
            "unknown_subnet",
        ),
        (
            "/v1/subnets/70000",
            StatusCode::BAD_REQUEST,
            "invalid_netuid",
        ),
        (
            "/v1/subnets/-1/metagraph",
            StatusCode::BAD_REQUEST,
            "invalid_netuid",
        ),
        (
            "/v1/subnets/1/weights/x",
            StatusCode::BAD_REQUEST,
            "invalid_uid",
        ),
        (
            "/v1/accounts/plx1notanaddress",
            StatusCode::BAD_REQUEST,
            "invalid_address",
        ),
        (
            "/v1/accounts/abcd/stakes",
            StatusCode::BAD_REQUEST,
            "invalid_address",
        ),
        (
            "/v1/hotkeys/bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            StatusCode::BAD_REQUEST,
            "invalid_address",
        ),
    ];
    for (path, status, expected) in cases {
        let (got, body) = get(&state, path).await;
        assert_eq!((got, code(&body)), (status, expected), "{path}: {body}");
    }
    let (status, body) = get(&state, &format!("/v1/hotkeys/{}", key("ghost").account())).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_hotkey")
    );

    chain.setup_subnet();
    let (status, body) = get(&state, "/v1/subnets/1/weights/5").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_uid")
    );
}

#[tokio::test]
async fn chain_and_status_describe_the_chain_and_its_tip() {
    let chain = TestChain::new();
    let state = chain.state();
    chain.produce_block();
    let (status, body) = get(&state, "/v1/chain").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["chain_id"], 1337);
    assert_eq!(body["params"]["min_fee"], 1000);
    assert_eq!(
        body["validators"][0]["public_key"],
        crate::support::validator().account().to_address()
    );
    let store = plexus_api::Backend::store(&chain);
    assert_eq!(
        body["genesis_digest"],
        store.header(0).unwrap().unwrap().digest().to_hex()
    );

    let (status, body) = get(&state, "/v1/status").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["node"]["finalized_height"], 1);
    assert_eq!(body["tip"]["height"], 1);
    assert_eq!(
        body["tip"]["digest"],
        store.committed().unwrap().digest.to_hex()
    );
    assert!(body["node"]["halted"].is_null());
}

#[tokio::test]
async fn a_subnets_history_lists_its_past_epochs_newest_first_from_the_versioned_state() {
    let chain = TestChain::new();
    let state = chain.state();
    chain.setup_subnet();
    chain.produce_blocks(45);

    let (status, subnet) = get(&state, "/v1/subnets/1").await;
    assert_eq!(status, StatusCode::OK, "{subnet}");
    let (status, history) = get(&state, "/v1/subnets/1/history").await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["oldest_height"], 0);
    let epochs = history["epochs"].as_array().unwrap();
    assert!(epochs.len() >= 3, "{history}");
    // The newest is the subnet's last epoch.
    assert_eq!(epochs[0]["height"], subnet["subnet"]["last_epoch_block"]);
    assert_eq!(
        epochs[0]["emission"],
        subnet["subnet"]["last_epoch_emission"]
    );
    assert_eq!(
        epochs[0]["epoch"].as_u64().unwrap() + 1,
        subnet["subnet"]["epoch_index"].as_u64().unwrap()
    );
    for pair in epochs.windows(2) {
        assert_eq!(
            pair[0]["epoch"].as_u64().unwrap(),
            pair[1]["epoch"].as_u64().unwrap() + 1
        );
        assert!(pair[0]["height"].as_u64() > pair[1]["height"].as_u64());
    }
    assert_eq!(epochs[0]["neurons"][0]["uid"], 0);
    assert!(!epochs[0]["neurons"][0]["incentive"].is_null());

    // The next page starts below the last epoch shown.
    let last = epochs.last().unwrap()["height"].as_u64().unwrap();
    let (_, page) = get(
        &state,
        &format!(
            "/v1/subnets/1/history?before={}&limit=1",
            epochs[0]["height"]
        ),
    )
    .await;
    assert_eq!(page["epochs"].as_array().unwrap().len(), 1);
    assert_eq!(page["epochs"][0], epochs[1]);
    let (_, older) = get(&state, &format!("/v1/subnets/1/history?before={last}")).await;
    assert!(
        older["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["height"].as_u64() < Some(last))
    );

    let (status, body) = get(&state, "/v1/subnets/9/history").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_subnet")
    );
    let (status, body) = get(&state, "/v1/subnets/1/history?limit=0").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_limit")
    );
}
