//! `plexus data submit`: commit to a submission, wait for the commit deadline, reveal.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail};
use clap::Args;
use plexus_api::wire::DataTask;
use plexus_datastore::DataStore;
use plexus_types::{Hash, Keypair, Payload, tx::data_commit_hash};
use plexus_wallet::Wallet;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{StoreArg, fetch_task, table, task_schema, tip_height};
use crate::{
    chain::{KeyArgs, Receipt, send},
    context::Context,
    output,
};

/// How often `data submit` checks whether the reveal window opened.
const POLL: Duration = Duration::from_millis(500);

/// `plexus data submit`.
#[derive(Debug, Args)]
pub(crate) struct SubmitArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// The task.
    #[arg(long)]
    task: u64,
    /// The synthetic CSV to submit.
    #[arg(long)]
    file: PathBuf,
    /// SDV metadata JSON (default: the task's schema from the store).
    #[arg(long)]
    metadata: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

/// A submission's salt, saved before the commit so it can always be revealed.
#[derive(Debug, Serialize, Deserialize)]
struct PendingSubmission {
    task: u64,
    content_hash: Hash,
    salt: String,
    rows: u64,
}

fn pending_path(wallet: &Wallet, hotkey: &str, task: u64) -> PathBuf {
    wallet
        .path()
        .join("data")
        .join(format!("{hotkey}-task{task}.json"))
}

async fn wait_for_height(ctx: &Context, target: u64) -> anyhow::Result<()> {
    let client = ctx.client()?;
    loop {
        let height = tip_height(&client)
            .await
            .context("cannot reach the node while waiting for the reveal window")?;
        if height >= target {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The submission's salt: the one saved for this content (already committed), or a
/// fresh one (not committed yet).
fn salt_for(path: &Path, content: Hash) -> anyhow::Result<([u8; 32], bool)> {
    let pending = match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<PendingSubmission>(&bytes)
            .ok()
            .filter(|p| p.content_hash == content),
        Err(_) => None,
    };
    let mut salt = [0u8; 32];
    match pending {
        Some(p) => {
            hex::decode_to_slice(&p.salt, &mut salt).context("the saved salt is not hex")?;
            Ok((salt, true))
        }
        None => {
            rand::fill(&mut salt);
            Ok((salt, false))
        }
    }
}

pub(super) async fn run(ctx: &Context, args: &SubmitArgs) -> anyhow::Result<()> {
    let store = args.store.open(ctx)?;
    let (_, task) = fetch_task(ctx, args.task).await?;
    let (csv, rows) = checked_csv(args, &task, &store).await?;
    let content = store.put(csv).await?;
    let wallet = args.key.wallet(ctx)?;
    let hotkey = args.key.hotkey_key(ctx)?;
    let path = pending_path(&wallet, &args.key.hotkey, task.id);
    let (salt, committed) = salt_for(&path, content)?;
    let commitment = data_commit_hash(task.id, &hotkey.account(), &salt, &content);
    let mut receipts = Vec::new();
    if !committed {
        let saved = PendingSubmission {
            task: task.id,
            content_hash: content,
            salt: hex::encode(salt),
            rows,
        };
        receipts.push(commit(ctx, &hotkey, &path, &saved, commitment).await?);
        if !ctx.json {
            eprintln!(
                "Committed {rows} rows ({content}) to task {} in block {}; revealing after block {}…",
                task.id, receipts[0].height, task.commit_deadline
            );
        }
    }
    wait_for_height(ctx, task.commit_deadline).await?;
    let payload = Payload::RevealData {
        task: task.id,
        content_hash: content,
        salt,
        rows,
    };
    receipts.push(send(ctx, &hotkey, payload, None).await?);
    std::fs::remove_file(&path).ok();
    output::print(
        ctx,
        &json!({ "task": task.id, "content_hash": content, "rows": rows, "commitment": commitment, "receipts": receipts }),
        || {
            format!(
                "Revealed {rows} rows ({content}) to task {} in block {}.
Validators score after block {}; follow with `plexus data task show {}`.",
                task.id,
                receipts.last().map_or(0, |r| r.height),
                task.reveal_deadline,
                task.id
            )
        },
    );
    Ok(())
}

/// Save the salt, then commit (without the salt the commit could never be revealed).
async fn commit(
    ctx: &Context,
    hotkey: &Keypair,
    path: &Path,
    saved: &PendingSubmission,
    commitment: Hash,
) -> anyhow::Result<Receipt> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    plexus_wallet::write_private(path, &serde_json::to_vec_pretty(saved)?)?;
    let payload = Payload::CommitData {
        task: saved.task,
        commitment,
    };
    send(ctx, hotkey, payload, None).await
}

/// The submission's CSV, checked against the task's schema and row limits, and its
/// row count.
async fn checked_csv(
    args: &SubmitArgs,
    task: &DataTask,
    store: &DataStore,
) -> anyhow::Result<(Vec<u8>, u64)> {
    let schema = task_schema(task, args.metadata.as_deref(), store).await?;
    let table = table(&schema, &args.file, "submission")?;
    let rows = table.num_rows() as u64;
    if rows < task.min_rows || rows > task.max_rows {
        bail!(
            "{} has {rows} rows; task {} accepts {}..={}: generate another size with `plexus data generate --rows`",
            args.file.display(),
            task.id,
            task.min_rows,
            task.max_rows
        );
    }
    Ok((table.to_csv(&schema), rows))
}
