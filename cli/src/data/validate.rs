//! `plexus data validate`: run the validator's data duty once
//! ([`plexus_datastore::ValidatorDuty`]) and print what it did.

use std::path::PathBuf;

use clap::Args;
use plexus_client::weights::WeightsSet;
use plexus_datastore::{DutyConfig, DutyMode, DutyOutcome, ValidatorDuty, ValidatorFiles};
use plexus_synth::GateParams;
use serde_json::json;

use super::{StoreArg, named, read};
use crate::{
    chain::{KeyArgs, Receipt, reveal_progress},
    context::Context,
    output,
};

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

pub(super) async fn run(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<()> {
    let duty = ValidatorDuty::new(ctx.client()?, args.store.open(ctx)?);
    let config = DutyConfig {
        task: args.task,
        metadata: read(&args.metadata, "metadata")?,
        reference: read(&args.reference, "reference")?,
        params: GateParams::default(),
    };
    let mode = mode(ctx, args)?;
    let outcome = duty
        .run(&config, &mode, reveal_progress(ctx))
        .await
        .map_err(|e| named(e, &args.metadata, Some(&args.reference)))?;
    let (receipts, notes) = sent(&outcome, duty.store().describe());
    let report = &outcome.report;
    output::print(
        ctx,
        &json!({ "report": report, "receipts": receipts }),
        || human(&outcome, &notes),
    );
    Ok(())
}

/// The duty's mode: a dry run reads the wallet's credibility book when there is a
/// wallet; otherwise the hotkey is unlocked.
fn mode(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<DutyMode> {
    let files = |wallet: plexus_wallet::Wallet| ValidatorFiles {
        folder: wallet.path(),
        hotkey: args.key.hotkey.clone(),
    };
    if args.dry_run {
        let files = match args.key.wallet(ctx) {
            Ok(wallet) => Some(files(wallet)),
            Err(e) => {
                tracing::debug!(error = %e, "no wallet: scoring with newcomer credibility");
                None
            }
        };
        return Ok(DutyMode::DryRun { files });
    }
    Ok(DutyMode::Send {
        files: files(args.key.wallet(ctx)?),
        hotkey: Box::new(args.key.hotkey_key(ctx)?),
    })
}

/// The receipts of what the duty sent, and a line on each step.
fn sent(outcome: &DutyOutcome, store: &str) -> (Vec<Receipt>, Vec<String>) {
    let (mut receipts, mut notes) = (Vec::new(), Vec::new());
    let Some(sent) = &outcome.sent else {
        return (receipts, notes);
    };
    match &sent.weights {
        None => notes.push("No submission earns: no weights set.".to_string()),
        Some(WeightsSet::Direct(set)) => {
            notes.push(format!("Set weights in block {}.", set.height));
            receipts.push(Receipt::from(*set));
        }
        Some(WeightsSet::Revealed { commit, reveal }) => {
            notes.push(format!(
                "Committed weights in block {} and revealed them in block {}.",
                commit.height, reveal.height
            ));
            receipts.push(Receipt::from(*commit));
            receipts.push(Receipt::from(*reveal));
        }
    }
    let report = &outcome.report;
    match &sent.published {
        Some(published) => {
            notes.push(format!(
                "Published {} rows with root {} in block {}.",
                report.rows, report.merkle_root, published.height
            ));
            receipts.push(Receipt::from(*published));
        }
        None => notes.push("The dataset was already published.".into()),
    }
    notes.push(format!("Stored the signed score report in {store}."));
    (receipts, notes)
}

/// What `data validate` prints: every submission's scores and weight, then the notes.
fn human(outcome: &DutyOutcome, notes: &[String]) -> String {
    let report = &outcome.report;
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
        outcome.task.id,
        report.seed,
        output::table(
            &[
                "uid", "hotkey", "gates", "F", "U", "P", "score", "weight", "error"
            ],
            &rows
        ),
        notes.join("\n")
    )
}
