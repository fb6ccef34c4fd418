use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use futures::future::BoxFuture;
use plexus_api::{Backend as _, DataFiles, DataFilesError, DatasetFormat, DatasetWanted};
use plexus_types::{
    Hash, Hyperparams, Keypair, Mechanism, PLX, Payload, data::SignedReport, tx::data_commit_hash,
};
use tower::ServiceExt as _;

use crate::support::{TestChain, code, get, key, send, submit};

/// Queue a data subnet (netuid 1) with `hotkey` registered and task 0 on it (schema
/// hash `[1; 32]`, reference commitment `[2; 32]`, 5 PLX bounty) for the next block.
fn post_task(chain: &TestChain, hotkey: &Keypair) {
    let owner = chain.faucet();
    let setup = [
        Payload::CreateSubnet {
            name: "data".into(),
            mechanism: Mechanism::Data,
            hyperparams: Hyperparams::default(),
        },
        Payload::Register {
            netuid: 1,
            hotkey: hotkey.account(),
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
        chain
            .submit(chain.tx(&owner, payload, offset))
            .expect("setup transaction admitted");
    }
}

#[tokio::test]
async fn data_tasks_are_listed_and_shown_with_their_contributions() {
    let chain = TestChain::new();
    let state = chain.state();
    let (status, empty) = get(&state, "/v1/data/tasks").await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty["tasks"], serde_json::json!([]));

    let miner = key("data-miner");
    post_task(&chain, &miner);
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

/// A dataset store that answers every file with its request spelled out, or as corrupt.
struct Files {
    reports: Vec<SignedReport>,
    corrupt: bool,
}

impl DataFiles for Files {
    fn dataset(
        &self,
        wanted: DatasetWanted,
        format: DatasetFormat,
    ) -> BoxFuture<'static, Result<Vec<u8>, DataFilesError>> {
        let answer = if self.corrupt {
            Err(DataFilesError::Corrupt("the copy does not match".into()))
        } else {
            Ok(format!("{wanted:?} {format:?}").into_bytes())
        };
        Box::pin(async move { answer })
    }

    fn reports(&self, _task: u64) -> BoxFuture<'static, Result<Vec<SignedReport>, DataFilesError>> {
        let reports = self.reports.clone();
        Box::pin(async move { Ok(reports) })
    }
}

#[tokio::test]
async fn a_tasks_files_and_reports_come_from_the_dataset_store_checked_and_filtered() {
    let chain = TestChain::new();
    let validator = key("data-validator");
    post_task(&chain, &validator);
    chain.produce_block();

    // Without a dataset store the node says so.
    let bare = chain.state();
    let (status, body) = get(&bare, "/v1/data/tasks/0/reports").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "no_dataset_store")
    );
    let (status, body) = get(&bare, "/v1/data/tasks/0/training").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "no_dataset_store")
    );

    let report = |signer: &str, task: u64| {
        SignedReport::sign(&key(signer), task, format!(r#"{{"task":{task}}}"#))
    };
    let mut forged = report("data-validator", 0);
    forged.report = r#"{"task":0,"weights":[[0,65535]]}"#.into();
    let files = Files {
        reports: vec![
            report("data-validator", 0),
            // Not registered on the task's subnet, another task, a forgery.
            report("stranger", 0),
            report("data-validator", 1),
            forged,
        ],
        corrupt: false,
    };
    let state = chain.state().with_data_files(Arc::new(files));
    let (status, body) = get(&state, "/v1/data/tasks/0/reports").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reports = body["reports"].as_array().expect("a list");
    assert_eq!(reports.len(), 1, "{body}");
    assert_eq!(reports[0]["validator"], validator.account().to_address());
    assert_eq!(reports[0]["uid"], 0);
    assert_eq!(reports[0]["report"], r#"{"task":0}"#);

    // Files are asked for by what the chain commits to, in the format wanted.
    let request = |path: &str| Request::get(path).body(Body::empty()).expect("request");
    let (status, bytes) = send(&state, request("/v1/data/tasks/0/training?format=parquet")).await;
    assert_eq!(status, StatusCode::OK);
    let asked = String::from_utf8(bytes).expect("text");
    assert!(asked.starts_with("TrainingHalf"), "{asked}");
    assert!(asked.contains(&format!("{:?}", Hash([2; 32]))), "{asked}");
    assert!(asked.ends_with("Parquet"), "{asked}");
    let response = plexus_api::router(state.clone())
        .oneshot(request("/v1/data/tasks/0/training"))
        .await
        .expect("infallible");
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        response.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"plexus-task-0-training.csv\""
    );
    // Nothing is published yet; bad formats and task ids are refused.
    let (status, body) = get(&state, "/v1/data/tasks/0/dataset").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "not_published")
    );
    let (status, body) = get(&state, "/v1/data/tasks/0/dataset?format=xml").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
    let (status, body) = get(&state, "/v1/data/tasks/7/reports").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_data_task")
    );

    // A store whose copy does not match is a 502, not a file.
    let corrupt = chain.state().with_data_files(Arc::new(Files {
        reports: Vec::new(),
        corrupt: true,
    }));
    let (status, body) = get(&corrupt, "/v1/data/tasks/0/training").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_GATEWAY, "dataset_corrupt")
    );
}
