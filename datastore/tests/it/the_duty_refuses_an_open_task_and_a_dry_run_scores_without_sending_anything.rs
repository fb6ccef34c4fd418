//! The validator duty reads its task from the node. While the task still takes reveals
//! it refuses to act; a dry run scores it anyway, from the store, without a hotkey, and
//! sends nothing: no transaction reaches the node, and no credibility, pending commit
//! or report is written. Metadata or a reference that is not the task's is refused.
//! The node here serves the task and nothing else, so any transaction would fail.

use plexus_client::wire::{DataContribution, DataTask, DataTaskAt};
use plexus_datastore::{
    DataStore, DutyConfig, DutyMode, ValidateError, ValidatorDuty, ValidatorFiles, content_hash,
    public_split,
};
use plexus_synth::{GateParams, GaussianCopula, seed_from};
use plexus_types::{Hash, Keypair};

use crate::support::{TaskNode, penguins, penguins_metadata};

/// Task 7 on subnet 2, in its reveal window at block 25 (reveals until block 30), with
/// one revealed submission.
fn task(schema_hash: Hash, reference_commitment: Hash, content: Hash, rows: u64) -> DataTaskAt {
    let contribution = DataContribution {
        hotkey: Keypair::from_label("contributor").account(),
        uid: Some(1),
        commitment: Hash([1; 32]),
        committed_at: 10,
        content_hash: Some(content),
        salt: Some(Hash([2; 32])),
        rows: Some(rows),
        revealed_at: Some(21),
    };
    let task = DataTask {
        id: 7,
        netuid: 2,
        creator: Keypair::from_label("requester").account(),
        schema_hash,
        reference_commitment,
        bounty: 50,
        escrow: 50,
        commit_deadline: 20,
        reveal_deadline: 30,
        min_rows: 1,
        max_rows: 1_000,
        created_at: 3,
        commits: 1,
        reveals: 1,
        revealed_rows: rows,
        phase: "reveal".into(),
        published: None,
        contributions: vec![contribution],
    };
    DataTaskAt { height: 25, task }
}

#[tokio::test]
async fn the_duty_refuses_an_open_task_and_a_dry_run_scores_without_sending_anything() {
    let (schema, reference) = penguins();
    let metadata = penguins_metadata();
    let store = DataStore::memory();
    let split = public_split(&schema, &reference).unwrap();
    let commitment = store.publish_reference(&split).await.unwrap();
    let rows = split.train.num_rows();
    let seed = seed_from(b"contributor", 1);
    let sample = GaussianCopula::fit_stratified(&schema, &split.train, "species", seed)
        .unwrap()
        .sample(rows, seed)
        .to_csv(&schema);
    let content = store.put(sample).await.unwrap();
    let node = TaskNode::serving(task(
        content_hash(&metadata),
        commitment,
        content,
        rows as u64,
    ))
    .await;
    let duty = ValidatorDuty::new(node.client(), store.clone());
    let wallet = tempfile::tempdir().unwrap();
    let files = ValidatorFiles {
        folder: wallet.path().to_path_buf(),
        hotkey: "validator".into(),
    };
    let config = DutyConfig {
        task: 7,
        metadata,
        reference,
        params: GateParams::default(),
    };

    // Before the reveal deadline the duty refuses to act.
    let send = DutyMode::Send {
        hotkey: Box::new(Keypair::from_label("validator")),
        files: files.clone(),
    };
    let early = duty.run(&config, &send, |_| {}).await.unwrap_err();
    assert!(
        matches!(
            early,
            ValidateError::Early {
                task: 7,
                reveal_deadline: 30,
                ..
            }
        ),
        "{early}"
    );
    assert!(
        early
            .to_string()
            .contains("task 7 is still in its reveal window (until block 30)"),
        "{early}"
    );

    // A dry run scores now, with the wallet's (empty) credibility book.
    let dry_run = DutyMode::DryRun {
        files: Some(files.clone()),
    };
    let outcome = duty
        .run(&config, &dry_run, |_| panic!("a dry run sets no weights"))
        .await
        .unwrap();
    assert!(outcome.sent.is_none());
    assert_eq!(outcome.task.id, 7);
    let scored = outcome.report.submissions[0].score.as_ref().unwrap();
    assert!(scored.passed, "{:?}", scored.gates);
    assert_eq!(outcome.report.weights, vec![(1, 65535)]);
    assert!(outcome.report.public_reference);

    // Nothing was sent or recorded.
    assert_eq!(
        node.other_requests(),
        0,
        "the node saw only reads of the task"
    );
    assert!(!files.book(2).path().exists());
    assert!(!files.commits(2).path().exists());
    assert!(store.reports(7).await.unwrap().valid.is_empty());

    // Metadata or a reference that is not the task's is refused by name.
    let no_files = DutyMode::DryRun { files: None };
    let wrong_schema = DutyConfig {
        metadata: br#"{"columns": {}}"#.to_vec(),
        ..config.clone()
    };
    let refused = duty.run(&wrong_schema, &no_files, |_| {}).await;
    assert!(
        matches!(refused, Err(ValidateError::SchemaMismatch { task: 7, expected, .. }) if expected == content_hash(&config.metadata)),
        "{refused:?}"
    );
    let half = DutyConfig {
        reference: split.train_csv.clone(),
        ..config.clone()
    };
    let refused = duty.run(&half, &no_files, |_| {}).await;
    assert!(
        matches!(refused, Err(ValidateError::NotTheReference { task: 7, .. })),
        "{refused:?}"
    );
}
