//! `plexus data`: data tasks, the Gaussian copula, offline scoring, submissions,
//! the validator duty, and dataset downloads.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand};
use futures::future::BoxFuture;
use plexus_api::{DataFiles, DataFilesError, DatasetFormat, DatasetWanted, wire::DataTask};
use plexus_client::weights::{CommitFile, Weights, WeightsSet};
use plexus_datastore::{
    CredibilityBook, DataStore, PublicReference, PublishedError, ReferenceError, StoreError,
    Submission, TaskInput, content_hash, public_split, run_duty,
};
use plexus_synth::{
    GateParams, GaussianCopula, Schema, Table, data_validity, dcr, new_row_synthesis,
    score_submission, seed_from,
};
use plexus_types::{
    Hash, Keypair, Netuid, Payload, data::SignedReport, format_plx, tx::data_commit_hash,
};
use plexus_wallet::Wallet;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    chain::{Amount, KeyArgs, Receipt, send},
    context::{Context, read_json, write_json},
    output,
};

/// How often `data submit` checks whether the reveal window opened.
const POLL: Duration = Duration::from_millis(500);

/// Where datasets and submissions are stored.
#[derive(Debug, Clone, Args)]
pub(crate) struct StoreArg {
    /// The dataset store: a directory, file:///path, or s3://bucket/prefix (credentials
    /// and endpoint from AWS_* variables). Default: $PLEXUS_HOME/datasets, else
    /// ~/.plexus/datasets.
    #[arg(long, env = "PLEXUS_DATA_STORE")]
    store: Option<String>,
}

impl StoreArg {
    fn open(&self, ctx: &Context) -> anyhow::Result<DataStore> {
        open_store(ctx, self.store.as_deref())
    }
}

/// The dataset store at `url`, else `$PLEXUS_HOME/datasets` (or `~/.plexus/datasets`).
pub(crate) fn open_store(ctx: &Context, url: Option<&str>) -> anyhow::Result<DataStore> {
    Ok(match url {
        Some(url) => DataStore::open(url)?,
        None => DataStore::local(&ctx.state_dir("datasets", None)?)?,
    })
}

/// A dataset store served by the node's API: files are checked against the chain
/// before they leave (see [`DataFiles`]).
pub(crate) struct StoreFiles(pub(crate) DataStore);

impl DataFiles for StoreFiles {
    fn dataset(
        &self,
        wanted: DatasetWanted,
        format: DatasetFormat,
    ) -> BoxFuture<'static, Result<Vec<u8>, DataFilesError>> {
        let store = self.0.clone();
        Box::pin(async move {
            let (DatasetWanted::Published { schema_hash, .. }
            | DatasetWanted::TrainingHalf { schema_hash, .. }) = wanted;
            let schema = store.schema(&schema_hash).await.map_err(published_error)?;
            let csv = match wanted {
                DatasetWanted::Published {
                    merkle_root, rows, ..
                } => store
                    .published_dataset(&schema, &merkle_root, rows)
                    .await
                    .map_err(published_error)?,
                DatasetWanted::TrainingHalf {
                    reference_commitment,
                    ..
                } => {
                    let manifest = match store.public_reference(&reference_commitment).await {
                        Ok(Some(manifest)) => manifest,
                        Ok(None) => {
                            return Err(DataFilesError::NotFound(format!(
                                "the task's reference {reference_commitment} is private or not in this node's dataset store"
                            )));
                        }
                        Err(ReferenceError::Store(e)) => return Err(store_error(e)),
                        Err(e) => return Err(DataFilesError::Corrupt(e.to_string())),
                    };
                    store.training_half(&manifest).await.map_err(store_error)?
                }
            };
            match format {
                DatasetFormat::Csv => Ok(csv),
                DatasetFormat::Parquet => tokio::task::spawn_blocking(move || {
                    csv_as_parquet(&schema, &csv).map_err(|e| format!("{e:#}"))
                })
                .await
                .map_err(|e| DataFilesError::Unavailable(e.to_string()))?
                .map_err(|e| {
                    DataFilesError::Corrupt(format!(
                        "the dataset cannot be written as Parquet: {e}"
                    ))
                }),
            }
        })
    }

    fn reports(&self, task: u64) -> BoxFuture<'static, Result<Vec<SignedReport>, DataFilesError>> {
        let store = self.0.clone();
        Box::pin(async move {
            let reports = store.reports(task).await.map_err(store_error)?;
            if reports.rejected > 0 {
                tracing::warn!(
                    task,
                    rejected = reports.rejected,
                    "data: the dataset store holds reports that are not validly signed for this task"
                );
            }
            Ok(reports.valid)
        })
    }
}

/// A store failure as API clients see it: what is missing or wrong, never the store's
/// location or the backend's error text (those go to the node's log).
fn store_error(e: StoreError) -> DataFilesError {
    match e {
        StoreError::NotFound { what, hash, .. } => {
            DataFilesError::NotFound(format!("this node's dataset store has no {what} {hash}"))
        }
        StoreError::Corrupt { .. } => DataFilesError::Corrupt(e.to_string()),
        other => {
            tracing::warn!(error = %other, "data: the dataset store failed");
            DataFilesError::Unavailable(
                "this node's dataset store cannot be read right now: retry later".into(),
            )
        }
    }
}

fn published_error(e: PublishedError) -> DataFilesError {
    match e {
        PublishedError::Store(e) => store_error(e),
        other => DataFilesError::Corrupt(other.to_string()),
    }
}

/// `plexus data ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Post, list and inspect data tasks.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Sample synthetic rows with the Gaussian copula.
    Generate(GenerateArgs),
    /// Score synthetic data against real data offline (SDMetrics-style report).
    Score(ScoreArgs),
    /// Commit to a submission, wait for the commit deadline, then reveal it.
    Submit(SubmitArgs),
    /// Run the validator duty once for a task: score, set weights, publish the dataset.
    Validate(ValidateArgs),
    /// Download a task's published dataset and check its Merkle root against the chain.
    Download(DownloadArgs),
}

/// `plexus data task ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TaskCommand {
    /// Post a task on a data subnet, escrowing the bounty from the wallet's coldkey.
    Create {
        /// Wallet name (its coldkey pays the bounty).
        #[arg(long, default_value = "default")]
        name: String,
        /// The data subnet.
        #[arg(long)]
        netuid: Netuid,
        /// SDV metadata JSON of the table (its blake3 goes on chain).
        #[arg(long)]
        metadata: PathBuf,
        /// The reference CSV validators score against. It is split 50/50 here: the
        /// training half goes into the store for contributors, the holdout stays with
        /// you and the validators, and the chain gets the hash of the split's manifest.
        #[arg(long)]
        reference: PathBuf,
        /// Keep the whole reference private: only its blake3 goes on chain, contributors
        /// see none of it, and validators split it after the reveal deadline.
        #[arg(long)]
        private: bool,
        /// Bounty in PLX.
        #[arg(long)]
        bounty: Amount,
        /// Blocks from now until the commit deadline.
        #[arg(long, default_value_t = 30)]
        commit_blocks: u64,
        /// Blocks after the commit deadline until the reveal deadline.
        #[arg(long, default_value_t = 30)]
        reveal_blocks: u64,
        /// Fewest rows per submission (default: a quarter of the reference).
        #[arg(long)]
        min_rows: Option<u64>,
        /// Most rows per submission (default: the reference's row count).
        #[arg(long)]
        max_rows: Option<u64>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// List tasks, newest first.
    List {
        /// Only the tasks of this subnet.
        #[arg(long)]
        netuid: Option<Netuid>,
    },
    /// Show one task with its commits and reveals.
    Show {
        /// The task id.
        id: u64,
    },
}

/// `plexus data generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// SDV metadata JSON.
    #[arg(long)]
    metadata: PathBuf,
    /// Real rows to fit the copula on (default with --task: the task's public training half).
    #[arg(long)]
    real: Option<PathBuf>,
    /// Rows to sample (default: the size of the task's training half with --task, the
    /// size validators expect; otherwise half the real rows).
    #[arg(long)]
    rows: Option<usize>,
    /// Seed (default: derived from --task, else 0).
    #[arg(long)]
    seed: Option<u64>,
    /// Fit one copula per value of this categorical column.
    #[arg(long)]
    stratify: Option<String>,
    /// Check the metadata against this task's schema hash, seed from it, and fit on its
    /// public training half unless --real is given.
    #[arg(long)]
    task: Option<u64>,
    /// Output CSV.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    store: StoreArg,
}

/// `plexus data score`.
#[derive(Debug, Args)]
pub(crate) struct ScoreArgs {
    /// SDV metadata JSON.
    #[arg(long)]
    metadata: PathBuf,
    /// Real rows (the training half when --holdout is given).
    #[arg(long)]
    real: PathBuf,
    /// Synthetic rows.
    #[arg(long)]
    synthetic: PathBuf,
    /// Held-out real rows: enables the gates, privacy and the score.
    #[arg(long)]
    holdout: Option<PathBuf>,
    /// Seed for the noise baseline.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

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

/// `plexus data validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// The task.
    #[arg(long)]
    task: u64,
    /// SDV metadata JSON (must match the task's schema hash).
    #[arg(long)]
    metadata: PathBuf,
    /// The private reference CSV (must match the task's reference commitment).
    #[arg(long)]
    reference: PathBuf,
    /// Score and print only: set no weights, publish nothing, record no credibility.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// `plexus data download`.
#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// The task.
    #[arg(long)]
    task: u64,
    /// Output file: CSV, or Parquet when it ends in `.parquet`.
    #[arg(long)]
    out: PathBuf,
    /// Download the task's public training half (what contributors fit on) instead of
    /// its published dataset.
    #[arg(long)]
    training_half: bool,
    /// SDV metadata JSON (default: the task's schema from the store).
    #[arg(long)]
    metadata: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

pub(crate) async fn run(ctx: &Context, cmd: DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Task(cmd) => run_task(ctx, cmd).await,
        DataCommand::Generate(args) => generate(ctx, &args).await,
        DataCommand::Score(args) => score(ctx, &args),
        DataCommand::Submit(args) => submit(ctx, &args).await,
        DataCommand::Validate(args) => validate(ctx, &args).await,
        DataCommand::Download(args) => download(ctx, &args).await,
    }
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

fn schema_from(bytes: &[u8], path: &str) -> anyhow::Result<Schema> {
    let text = std::str::from_utf8(bytes).with_context(|| format!("{path} is not UTF-8"))?;
    Schema::from_metadata_json(text)
        .with_context(|| format!("{path} is not SDV metadata JSON for one table"))
}

fn table(schema: &Schema, path: &Path, what: &str) -> anyhow::Result<Table> {
    Table::from_csv(schema, &read(path, what)?).with_context(|| {
        format!(
            "{what} {} does not parse against the schema: fix the file or the metadata",
            path.display()
        )
    })
}

async fn fetch_task(ctx: &Context, id: u64) -> anyhow::Result<(u64, DataTask)> {
    let at = ctx.client()?.data_task(id).await.with_context(|| {
        format!("cannot read data task {id}: list tasks with `plexus data task list`")
    })?;
    Ok((at.height, at.task))
}

/// The task's schema: from `--metadata` (checked against the chain) or from the store.
async fn task_schema(
    ctx: &Context,
    task: &DataTask,
    metadata: Option<&Path>,
    store: &DataStore,
) -> anyhow::Result<Schema> {
    let Some(path) = metadata else {
        // The store checks the blob against its hash and parses it.
        return store.schema(&task.schema_hash).await.with_context(|| {
            format!(
                "the task's schema {} is not usable from the store {}: pass --metadata",
                task.schema_hash,
                store.describe()
            )
        });
    };
    let bytes = read(path, "metadata")?;
    if content_hash(&bytes) != task.schema_hash {
        bail!(
            "{} hashes to {}, but task {} was posted with schema {}: use the task's metadata file",
            path.display(),
            content_hash(&bytes),
            task.id,
            task.schema_hash
        );
    }
    schema_from(&bytes, &path.display().to_string())
}

async fn run_task(ctx: &Context, cmd: TaskCommand) -> anyhow::Result<()> {
    match cmd {
        TaskCommand::Create {
            name,
            netuid,
            metadata,
            reference,
            private,
            bounty,
            commit_blocks,
            reveal_blocks,
            min_rows,
            max_rows,
            store,
        } => {
            let meta = read(&metadata, "metadata")?;
            let schema = schema_from(&meta, &metadata.display().to_string())?;
            let reference_bytes = read(&reference, "reference")?;
            let rows = Table::from_csv(&schema, &reference_bytes)
                .with_context(|| {
                    format!(
                        "reference {} does not parse against the schema",
                        reference.display()
                    )
                })?
                .num_rows() as u64;
            if rows < 4 {
                bail!(
                    "reference {} has {rows} rows: validators need at least 4 to split it into training and holdout halves",
                    reference.display()
                );
            }
            let store = store.open(ctx)?;
            let schema_hash = store.put(meta).await?;
            let (reference_commitment, public) = if private {
                (content_hash(&reference_bytes), None)
            } else {
                let split = public_split(&schema, &reference_bytes)?;
                (store.publish_reference(&split).await?, Some(split.manifest))
            };
            let coldkey = ctx.coldkey(&name)?;
            let client = ctx.client()?;
            let height = client
                .status()
                .await
                .context("cannot reach the node")?
                .tip
                .map_or(0, |t| t.height);
            let commit_deadline = height.saturating_add(commit_blocks.max(1));
            let reveal_deadline = commit_deadline.saturating_add(reveal_blocks.max(1));
            let receipt = send(
                ctx,
                &coldkey,
                Payload::CreateDataTask {
                    netuid,
                    schema_hash,
                    reference_commitment,
                    bounty: bounty.0,
                    commit_deadline,
                    reveal_deadline,
                    min_rows: min_rows.unwrap_or((rows / 4).max(1)),
                    max_rows: max_rows.unwrap_or(rows.max(1)),
                },
                None,
            )
            .await?;
            let tasks = client.data_tasks(Some(netuid), Some(20)).await?;
            let task = tasks
                .tasks
                .into_iter()
                .find(|t| t.creator == coldkey.account() && t.created_at == receipt.height)
                .ok_or_else(|| {
                    anyhow!(
                        "the task was created but is not listed yet: run `plexus data task list`"
                    )
                })?;
            let shared = match &public {
                Some(m) => format!(
                    "The training half ({} rows, {}) is in the store {} for contributors; the holdout ({} rows) stays private.
Contributors: `plexus data generate --task {} --out SYN.csv`, then `plexus data submit --task {} --file SYN.csv`.",
                    m.train_rows,
                    m.train,
                    store.describe(),
                    m.holdout_rows,
                    task.id,
                    task.id
                ),
                None => format!(
                    "The reference is private: contributors see none of it.
Contributors: `plexus data submit --task {} --file SYN.csv`.",
                    task.id
                ),
            };
            output::print(
                ctx,
                &json!({ "receipt": receipt, "task": task, "public_reference": public }),
                || {
                    format!(
                        "Created data task {} on subnet {netuid} with a bounty of {} PLX (block {}).
Commits until block {commit_deadline}, reveals until block {reveal_deadline}.
{shared}",
                        task.id,
                        format_plx(task.bounty),
                        receipt.height,
                    )
                },
            );
            Ok(())
        }
        TaskCommand::List { netuid } => {
            let tasks = ctx.client()?.data_tasks(netuid, None).await?;
            output::print(ctx, &tasks, || {
                if tasks.tasks.is_empty() {
                    return "No data tasks yet: post one with `plexus data task create`.".into();
                }
                let rows: Vec<Vec<String>> = tasks
                    .tasks
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            t.netuid.to_string(),
                            t.phase.clone(),
                            format_plx(t.bounty),
                            t.commit_deadline.to_string(),
                            t.reveal_deadline.to_string(),
                            format!("{}/{}", t.reveals, t.commits),
                        ]
                    })
                    .collect();
                output::table(
                    &[
                        "id",
                        "netuid",
                        "phase",
                        "bounty",
                        "commit by",
                        "reveal by",
                        "revealed",
                    ],
                    &rows,
                )
            });
            Ok(())
        }
        TaskCommand::Show { id } => {
            let (height, task) = fetch_task(ctx, id).await?;
            output::print(ctx, &task, || show(&task, height));
            Ok(())
        }
    }
}

fn show(t: &DataTask, height: u64) -> String {
    let mut out = format!(
        "Data task {} on subnet {} ({} at block {height})
  creator    {}
  bounty     {} PLX (in escrow: {} PLX)
  schema     {}
  reference  {}
  commit by  block {}
  reveal by  block {}
  rows       {}..={} per submission",
        t.id,
        t.netuid,
        t.phase,
        t.creator,
        format_plx(t.bounty),
        format_plx(t.escrow),
        t.schema_hash,
        t.reference_commitment,
        t.commit_deadline,
        t.reveal_deadline,
        t.min_rows,
        t.max_rows
    );
    if let Some(p) = &t.published {
        out.push_str(&format!(
            "\n  published  {} rows, root {} (block {}, by {})",
            p.rows, p.merkle_root, p.block, p.validator
        ));
    }
    if !t.contributions.is_empty() {
        let rows: Vec<Vec<String>> = t
            .contributions
            .iter()
            .map(|c| {
                vec![
                    c.uid.map_or("-".into(), |u| u.to_string()),
                    c.hotkey.to_string(),
                    c.committed_at.to_string(),
                    c.content_hash.map_or("-".into(), |h| h.to_hex()),
                    c.rows.map_or("-".into(), |r| r.to_string()),
                ]
            })
            .collect();
        out.push_str("\n\n");
        out.push_str(&output::table(
            &["uid", "hotkey", "committed", "content", "rows"],
            &rows,
        ));
    }
    out
}

/// A public task's manifest from the store, or a clear error for a private one.
async fn public_reference(
    ctx: &Context,
    task: &DataTask,
    store: &DataStore,
) -> anyhow::Result<PublicReference> {
    store.public_reference(&task.reference_commitment).await?
        .with_context(|| {
            format!(
                "task {} has no public training half in the store {}: its reference is private, or the store is not the task's (pass --store)",
                task.id,
                store.describe()
            )
        })
}

async fn generate(ctx: &Context, args: &GenerateArgs) -> anyhow::Result<()> {
    let meta = read(&args.metadata, "metadata")?;
    let schema = schema_from(&meta, &args.metadata.display().to_string())?;
    let mut seed_u64 = args.seed.unwrap_or(0);
    let mut training_half = None;
    if let Some(id) = args.task {
        let (_, task) = fetch_task(ctx, id).await?;
        if content_hash(&meta) != task.schema_hash {
            bail!(
                "{} is not the schema of task {id} (it hashes to {}, the task's is {})",
                args.metadata.display(),
                content_hash(&meta),
                task.schema_hash
            );
        }
        seed_u64 = args.seed.unwrap_or(id);
        if args.real.is_none() {
            let store = args.store.open(ctx)?;
            let manifest = public_reference(ctx, &task, &store).await?;
            let csv = store.training_half(&manifest).await?;
            let half = Table::from_csv(&schema, &csv)
                .context("the task's training half does not parse against its schema")?;
            training_half = Some(half);
        }
    }
    let (real, default_rows) = match (&args.real, training_half) {
        (Some(path), _) => {
            let real = table(&schema, path, "real data")?;
            let rows = real.num_rows() / 2;
            (real, rows)
        }
        (None, Some(half)) => {
            let rows = half.num_rows();
            (half, rows)
        }
        (None, None) => {
            bail!("pass --real REAL.csv, or --task ID to fit on a public task's training half")
        }
    };
    let rows = args.rows.unwrap_or(default_rows.max(1));
    let seed = seed_from(b"plexus data generate", seed_u64);
    let model = match &args.stratify {
        Some(column) => GaussianCopula::fit_stratified(&schema, &real, column, seed),
        None => GaussianCopula::fit(&schema, &real, seed),
    }
    .context("cannot fit the Gaussian copula to the real data")?;
    let csv = model.sample(rows, seed).to_csv(&schema);
    std::fs::write(&args.out, &csv)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    output::print(
        ctx,
        &json!({ "rows": rows, "out": args.out, "content_hash": content_hash(&csv) }),
        || format!("Wrote {rows} synthetic rows to {}", args.out.display()),
    );
    Ok(())
}

/// The JSON `plexus data score --json` prints.
#[derive(Debug, Serialize)]
struct ScoreOutput {
    quality: QualityOut,
    diagnostic: serde_json::Value,
    privacy: serde_json::Value,
    gates: Option<serde_json::Value>,
    score: Option<f64>,
    details: Option<plexus_synth::SubmissionScore>,
}

#[derive(Debug, Serialize)]
struct QualityOut {
    overall: f64,
    column_shapes: f64,
    column_pair_trends: f64,
    details: serde_json::Value,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| !x.is_nan());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn score(ctx: &Context, args: &ScoreArgs) -> anyhow::Result<()> {
    let meta = read(&args.metadata, "metadata")?;
    let schema = schema_from(&meta, &args.metadata.display().to_string())?;
    let real = table(&schema, &args.real, "real data")?;
    let synthetic = table(&schema, &args.synthetic, "synthetic data")?;
    let report = plexus_synth::quality_report(&schema, &real, &synthetic);
    let validity = data_validity(&schema, &real, &synthetic);
    let new_rows = new_row_synthesis(&schema, &real, &synthetic);
    let mut out = ScoreOutput {
        quality: QualityOut {
            overall: report.overall,
            column_shapes: report.column_shapes,
            column_pair_trends: report.column_pair_trends,
            details: json!({ "shapes": report.shapes, "pairs": report.pairs }),
        },
        diagnostic: json!({ "data_validity": validity, "new_row_synthesis": new_rows }),
        privacy: json!({ "median_dcr_synthetic_to_real": median(dcr(&schema, &synthetic, &real)) }),
        gates: None,
        score: None,
        details: None,
    };
    if let Some(path) = &args.holdout {
        let holdout = table(&schema, path, "holdout")?;
        let seed = seed_from(b"plexus data score", args.seed);
        let s = score_submission(
            &schema,
            &real,
            &holdout,
            &synthetic,
            &[],
            &GateParams::default(),
            seed,
        );
        out.privacy = json!({
            "privacy": s.privacy,
            "privacy_factor": s.privacy_factor,
            "median_dcr_synthetic": s.median_dcr_synthetic,
            "median_dcr_holdout": s.median_dcr_holdout,
            "near_copy_threshold": s.near_copy_threshold,
        });
        out.gates = Some(json!({ "passed": s.passed, "gates": s.gates }));
        out.score = Some(s.score);
        out.details = Some(s);
    }
    output::print(ctx, &out, || human_score(&out, &report));
    Ok(())
}

fn human_score(out: &ScoreOutput, report: &plexus_synth::QualityReport) -> String {
    let pct = |x: f64| {
        if x.is_nan() {
            "n/a".to_string()
        } else {
            format!("{:.2}%", x * 100.0)
        }
    };
    let mut s = format!(
        "Overall Score (Average): {}\n\nProperties:\n- Column Shapes: {}\n- Column Pair Trends: {}\n",
        pct(out.quality.overall),
        pct(out.quality.column_shapes),
        pct(out.quality.column_pair_trends)
    );
    let shapes: Vec<Vec<String>> = report
        .shapes
        .iter()
        .map(|d| {
            vec![
                d.column.clone(),
                format!("{:?}", d.metric),
                format!("{:.6}", d.score),
            ]
        })
        .collect();
    s.push('\n');
    s.push_str(&output::table(&["Column", "Metric", "Score"], &shapes));
    s.push('\n');
    if let Some(d) = &out.details {
        s.push_str(&format!(
            "\nGates ({}):\n",
            if d.passed { "all passed" } else { "FAILED" }
        ));
        let rows: Vec<Vec<String>> = d
            .gates
            .iter()
            .map(|g| {
                vec![
                    g.name.clone(),
                    format!("{:.6}", g.statistic),
                    format!("{:.6}", g.limit),
                    if g.passed { "pass" } else { "FAIL" }.to_string(),
                ]
            })
            .collect();
        s.push_str(&output::table(&["gate", "statistic", "limit", ""], &rows));
        s.push_str(&format!(
            "\n\nF (fidelity) {:.6}  U (utility) {}  P (privacy) {:.6} (factor {:.6})\nScore: {:.6}\n",
            d.fidelity,
            d.utility.map_or("n/a".into(), |u| format!("{u:.6}")),
            d.privacy,
            d.privacy_factor,
            d.score
        ));
    } else {
        s.push_str("\nPass --holdout HOLD.csv for the gates and the F/U/P score.\n");
    }
    s
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
        let height = client
            .status()
            .await
            .context("cannot reach the node while waiting for the reveal window")?
            .tip
            .map_or(0, |t| t.height);
        if height >= target {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn submit(ctx: &Context, args: &SubmitArgs) -> anyhow::Result<()> {
    let store = args.store.open(ctx)?;
    let (_, task) = fetch_task(ctx, args.task).await?;
    let schema = task_schema(ctx, &task, args.metadata.as_deref(), &store).await?;
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
    let csv = table.to_csv(&schema);
    let content = store.put(csv).await?;
    let wallet = args.key.wallet(ctx)?;
    let hotkey = args.key.hotkey_key(ctx)?;
    let path = pending_path(&wallet, &args.key.hotkey, task.id);
    let pending = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<PendingSubmission>(&bytes)
            .ok()
            .filter(|p| p.content_hash == content),
        Err(_) => None,
    };
    let (salt, committed) = match pending {
        Some(p) => {
            let mut salt = [0u8; 32];
            hex::decode_to_slice(&p.salt, &mut salt).context("the saved salt is not hex")?;
            (salt, true)
        }
        None => {
            let mut salt = [0u8; 32];
            rand::fill(&mut salt);
            (salt, false)
        }
    };
    let commitment = data_commit_hash(task.id, &hotkey.account(), &salt, &content);
    let mut receipts = Vec::new();
    if !committed {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let saved = PendingSubmission {
            task: task.id,
            content_hash: content,
            salt: hex::encode(salt),
            rows,
        };
        // Save the salt before committing: without it the commit can never be revealed.
        plexus_wallet::write_private(&path, &serde_json::to_vec_pretty(&saved)?)?;
        let receipt = send(
            ctx,
            &hotkey,
            Payload::CommitData {
                task: task.id,
                commitment,
            },
            None,
        )
        .await?;
        if !ctx.json {
            eprintln!(
                "Committed {rows} rows ({content}) to task {} in block {}; revealing after block {}…",
                task.id, receipt.height, task.commit_deadline
            );
        }
        receipts.push(receipt);
    }
    wait_for_height(ctx, task.commit_deadline).await?;
    let receipt = send(
        ctx,
        &hotkey,
        Payload::RevealData {
            task: task.id,
            content_hash: content,
            salt,
            rows,
        },
        None,
    )
    .await?;
    std::fs::remove_file(&path).ok();
    receipts.push(receipt);
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

async fn validate(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<()> {
    let store = args.store.open(ctx)?;
    let (height, task) = fetch_task(ctx, args.task).await?;
    if height <= task.reveal_deadline && !args.dry_run {
        bail!(
            "task {} is still in its {} window (until block {}): validate after the reveal deadline",
            task.id,
            task.phase,
            task.reveal_deadline
        );
    }
    let schema = task_schema(ctx, &task, Some(&args.metadata), &store).await?;
    let reference_bytes = read(&args.reference, "reference")?;
    let reference = Table::from_csv(&schema, &reference_bytes)
        .context("the reference does not parse against the task schema")?;
    let kind = store
        .resolve_reference(
            &schema,
            &task.reference_commitment,
            &reference_bytes,
            &reference,
        )
        .await
        .with_context(|| {
            format!(
                "{} is not task {}'s reference",
                args.reference.display(),
                task.id
            )
        })?;
    let submissions: Vec<Submission> = task
        .contributions
        .iter()
        .filter_map(|c| {
            Some(Submission {
                hotkey: c.hotkey,
                uid: c.uid,
                content_hash: c.content_hash?,
                rows: c.rows?,
                committed_at: c.committed_at,
            })
        })
        .collect();
    // Credibility carries over between this validator's tasks on the subnet.
    let book_path = match args.key.wallet(ctx) {
        Ok(wallet) => Some(credibility_path(&wallet, &args.key.hotkey, task.netuid)),
        Err(e) if args.dry_run => {
            tracing::debug!(error = %e, "no wallet: scoring with newcomer credibility");
            None
        }
        Err(e) => return Err(e),
    };
    let mut book = match &book_path {
        Some(path) => load_book(path)?,
        None => CredibilityBook::default(),
    };
    let hotkeys: Vec<_> = submissions.iter().map(|s| s.hotkey).collect();
    let credibility = book.before(task.id, &hotkeys);
    let report = run_duty(
        &store,
        TaskInput {
            task: task.id,
            reveal_deadline: task.reveal_deadline,
            schema: &schema,
            reference: &reference,
            kind,
            submissions,
            params: GateParams::default(),
            credibility,
        },
    )
    .await?;

    let mut receipts = Vec::new();
    let mut notes = Vec::new();
    if !args.dry_run {
        if let Some(path) = &book_path {
            book.record(&report);
            write_json(path, &book)?;
        }
        let hotkey = args.key.hotkey_key(ctx)?;
        if report.weights.is_empty() {
            notes.push("No submission earns: no weights set.".to_string());
        } else {
            let wallet = args.key.wallet(ctx)?;
            let file = CommitFile::in_folder(
                &wallet.path().join("commits"),
                &args.key.hotkey,
                task.netuid,
            );
            let set = ctx
                .client()?
                .set_weights(
                    &hotkey,
                    task.netuid,
                    Weights::from_pairs(&report.weights),
                    0,
                    &file,
                    crate::chain::reveal_progress(ctx),
                )
                .await?;
            match set {
                WeightsSet::Direct(sent) => {
                    notes.push(format!("Set weights in block {}.", sent.height));
                    receipts.push(Receipt::from(sent));
                }
                WeightsSet::Revealed { commit, reveal } => {
                    notes.push(format!(
                        "Committed weights in block {} and revealed them in block {}.",
                        commit.height, reveal.height
                    ));
                    receipts.push(Receipt::from(commit));
                    receipts.push(Receipt::from(reveal));
                }
            }
        }
        if task.published.is_none() {
            let receipt = send(
                ctx,
                &hotkey,
                Payload::PublishDataset {
                    task: task.id,
                    merkle_root: report.merkle_root,
                    rows: report.rows,
                },
                None,
            )
            .await?;
            notes.push(format!(
                "Published {} rows with root {} in block {}.",
                report.rows, report.merkle_root, receipt.height
            ));
            receipts.push(receipt);
        } else {
            notes.push("The dataset was already published.".into());
        }
        // The breakdown behind the weights, for anyone to check (the web app's data
        // market shows it): signed, so a store cannot make it up.
        let signed = SignedReport::sign(&hotkey, task.id, serde_json::to_string(&report)?);
        store.put_report(&signed).await?;
        notes.push(format!(
            "Stored the signed score report in {}.",
            store.describe()
        ));
    }
    output::print(
        ctx,
        &json!({ "report": report, "receipts": receipts }),
        || {
            let rows: Vec<Vec<String>> = report
                .submissions
                .iter()
                .map(|s| {
                    let sc = s.score.as_ref();
                    vec![
                        s.uid.map_or("-".into(), |u| u.to_string()),
                        s.hotkey.to_string(),
                        sc.map_or("-".into(), |x| {
                            if x.passed {
                                "pass".into()
                            } else {
                                "fail".into()
                            }
                        }),
                        sc.map_or("-".into(), |x| format!("{:.4}", x.fidelity)),
                        sc.and_then(|x| x.utility)
                            .map_or("-".into(), |u| format!("{u:.4}")),
                        sc.map_or("-".into(), |x| format!("{:.4}", x.privacy)),
                        sc.map_or("-".into(), |x| format!("{:.4}", x.score)),
                        format!("{:.4}", s.weight),
                        s.error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            format!(
                "Task {} (seed {}):\n{}\n\n{}",
                task.id,
                report.seed,
                output::table(
                    &[
                        "uid", "hotkey", "gates", "F", "U", "P", "score", "weight", "error"
                    ],
                    &rows
                ),
                notes.join("\n")
            )
        },
    );
    Ok(())
}

/// A verified dataset CSV as Parquet, typed by the task's schema.
fn csv_as_parquet(schema: &Schema, csv: &[u8]) -> anyhow::Result<Vec<u8>> {
    Ok(Table::from_csv(schema, csv)
        .context("the dataset does not parse against the task schema")?
        .to_parquet(schema)?)
}

/// Write a verified CSV to `out`, converted to Parquet when `out` ends in `.parquet`.
fn write_dataset(schema: &Schema, csv: &[u8], out: &Path) -> anyhow::Result<()> {
    let parquet = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let bytes = if parquet {
        csv_as_parquet(schema, csv)?
    } else {
        csv.to_vec()
    };
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))
}

fn credibility_path(wallet: &Wallet, hotkey: &str, netuid: Netuid) -> PathBuf {
    wallet
        .path()
        .join("data")
        .join(format!("{hotkey}-subnet{netuid}-credibility.json"))
}

fn load_book(path: &Path) -> anyhow::Result<CredibilityBook> {
    Ok(read_json(
        path,
        "is not a credibility book: move it away to start from zero",
    )?
    .unwrap_or_default())
}

async fn download(ctx: &Context, args: &DownloadArgs) -> anyhow::Result<()> {
    let store = args.store.open(ctx)?;
    let (_, task) = fetch_task(ctx, args.task).await?;
    if args.training_half {
        // The chain commits to the manifest, the manifest to the half: both checked on read.
        let manifest = public_reference(ctx, &task, &store).await?;
        let csv = store.training_half(&manifest).await?;
        let schema = task_schema(ctx, &task, args.metadata.as_deref(), &store).await?;
        write_dataset(&schema, &csv, &args.out)?;
        output::print(
            ctx,
            &json!({ "task": task.id, "rows": manifest.train_rows, "training_half": manifest.train, "out": args.out, "verified": true }),
            || {
                format!(
                    "Downloaded the training half of task {} ({} rows, {}) to {}; it matches the task's reference commitment.",
                    task.id,
                    manifest.train_rows,
                    manifest.train,
                    args.out.display()
                )
            },
        );
        return Ok(());
    }
    let Some(published) = &task.published else {
        bail!(
            "task {} has no published dataset yet (phase: {}): a validator publishes after block {}",
            task.id,
            task.phase,
            task.reveal_deadline
        );
    };
    let schema = task_schema(ctx, &task, args.metadata.as_deref(), &store).await?;
    let csv = store
        .published_dataset(&schema, &published.merkle_root, published.rows)
        .await?;
    let (rows, root) = (published.rows, published.merkle_root);
    write_dataset(&schema, &csv, &args.out)?;
    output::print(
        ctx,
        &json!({ "task": task.id, "rows": rows, "merkle_root": root, "out": args.out, "verified": true }),
        || {
            format!(
                "Downloaded {rows} rows of task {} to {}; Merkle root {root} matches the chain.",
                task.id,
                args.out.display()
            )
        },
    );
    Ok(())
}
