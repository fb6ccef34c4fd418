use axum::http::StatusCode;
use plexus_api::Backend as _;
use plexus_types::{Hash, Hyperparams, Mechanism, PLX, Payload, tx::data_commit_hash};

use crate::support::{TestChain, code, get, key, submit};

#[tokio::test]
async fn data_tasks_are_listed_and_shown_with_their_contributions() {
    let chain = TestChain::new();
    let state = chain.state();
    let (status, empty) = get(&state, "/v1/data/tasks").await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty["tasks"], serde_json::json!([]));

    let owner = chain.faucet();
    let miner = key("data-miner");
    let setup = [
        Payload::CreateSubnet {
            name: "data".into(),
            mechanism: Mechanism::Data,
            hyperparams: Hyperparams::default(),
        },
        Payload::Register {
            netuid: 1,
            hotkey: miner.account(),
        },
        Payload::CreateDataTask {
            netuid: 1,
            schema_hash: Hash([1; 32]),
            reference_commitment: Hash([2; 32]),
            bounty: 5 * PLX,
            commit_deadline: 50,
            reveal_deadline: 100,
            min_rows: 1,
            max_rows: 10,
        },
    ];
    for (offset, payload) in (0u64..).zip(setup) {
        let tx = chain.tx(&owner, payload, offset);
        chain.submit(tx).expect("setup transaction admitted");
    }
    chain.produce_block();
    let commitment = data_commit_hash(0, &miner.account(), &[7; 32], &Hash([3; 32]));
    let tx = chain.tx(
        &miner,
        Payload::CommitData {
            task: 0,
            commitment,
        },
        0,
    );
    let (status, body) = submit(&state, &tx).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    chain.produce_block();

    let (status, list) = get(&state, "/v1/data/tasks?netuid=1").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let task = &list["tasks"][0];
    assert_eq!(task["id"], 0);
    assert_eq!(task["bounty"], 5 * PLX);
    assert_eq!(task["escrow"], 5 * PLX);
    assert_eq!(task["phase"], "commit");
    assert_eq!(task["commits"], 1);
    assert_eq!(task["schema_hash"], Hash([1; 32]).to_hex());

    let (status, one) = get(&state, "/v1/data/tasks/0").await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let c = &one["task"]["contributions"][0];
    assert_eq!(c["hotkey"], miner.account().to_address());
    assert_eq!(c["uid"], 0);
    assert_eq!(c["commitment"], commitment.to_hex());
    assert!(c["content_hash"].is_null());

    let (_, supply) = get(&state, "/v1/supply").await;
    assert_eq!(supply["data_escrow"], 5 * PLX);

    let (status, missing) = get(&state, "/v1/data/tasks/9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&missing), "unknown_data_task");
    let (status, bad) = get(&state, "/v1/data/tasks/x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&bad), "invalid_task");
    let (status, bad) = get(&state, "/v1/data/tasks?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&bad), "invalid_parameter");
}
