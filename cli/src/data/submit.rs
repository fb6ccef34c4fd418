//! `plexus data submit`: commit to a submission, wait for the commit deadline, reveal.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use plexus_api::wire::DataTask;
use plexus_datastore::{
    Contributor, DataStore, SubmissionFile, SubmitError, SubmitProgress, table_input,
};
use serde_json::json;

use super::{StoreArg, fetch_task};
use crate::{
    chain::{KeyArgs, client_error},
    context::Context,
    output,
};

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

pub(super) async fn run(ctx: &Context, args: &SubmitArgs) -> anyhow::Result<()> {
    let store = args.store.open(ctx)?;
    let task = fetch_task(ctx, args.task).await?.task;
    let (csv, rows) = checked_csv(args, &task, &store).await?;
    let content = store.put(csv).await?;
    let wallet = args.key.wallet(ctx)?;
    let hotkey = args.key.hotkey_key(ctx)?;
    let file = SubmissionFile::in_wallet(&wallet.path(), &args.key.hotkey, task.id);
    let client = ctx.client()?;
    let id = task.id;
    let progress = |step| match step {
        SubmitProgress::Committed {
            height,
            reveal_after,
        } if !ctx.json => eprintln!(
            "Committed {rows} rows ({content}) to task {id} in block {height}; revealing after block {reveal_after}…"
        ),
        SubmitProgress::Committed { .. } => {}
    };
    let sent = Contributor::new(&client, &hotkey)
        .submit(&task, content, rows, &file, progress)
        .await
        .map_err(|e| match e {
            SubmitError::Send(e) => client_error(e),
            e => anyhow::Error::new(e),
        })?;
    let receipts: Vec<_> = sent.commit.into_iter().chain([sent.reveal]).collect();
    let value = json!({ "task": id, "content_hash": content, "rows": rows, "commitment": sent.commitment, "receipts": receipts });
    let (height, deadline) = (
        receipts.last().map_or(0, |r| r.height),
        task.reveal_deadline,
    );
    output::print(ctx, &value, || {
        format!(
            "Revealed {rows} rows ({content}) to task {id} in block {height}.\nValidators score after block {deadline}; follow with `plexus data task show {id}`."
        )
    });
    Ok(())
}

/// The submission's CSV, checked against the task's schema and row limits, and its
/// row count.
async fn checked_csv(
    args: &SubmitArgs,
    task: &DataTask,
    store: &DataStore,
) -> anyhow::Result<(Vec<u8>, u64)> {
    let schema = store.task_schema(task, args.metadata.as_deref()).await?;
    let table = table_input(&schema, &args.file, "submission")?;
    let rows = table.num_rows() as u64;
    if let Err(e) = Contributor::check_rows(task, rows) {
        let file = args.file.display();
        bail!("{file} has {e}: generate another size with `plexus data generate --rows`");
    }
    Ok((table.to_csv(&schema), rows))
}
