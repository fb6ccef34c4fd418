//! `plexus data validate`: run the validator's data duty once
//! ([`plexus_datastore::ValidatorDuty`]) and print what it did.

use std::path::PathBuf;

use clap::Args;
use plexus_datastore::{DutyConfig, DutyMode, ValidatorDuty, ValidatorFiles, read_input};
use plexus_synth::GateParams;
use serde_json::json;

use super::{StoreArg, named};
use crate::{
    chain::{KeyArgs, reveal_progress},
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
        metadata: read_input(&args.metadata, "metadata")?,
        reference: read_input(&args.reference, "reference")?,
        params: GateParams::default(),
    };
    let mode = mode(ctx, args)?;
    let outcome = duty
        .run(&config, &mode, reveal_progress(ctx))
        .await
        .map_err(|e| named(e, &args.metadata, Some(&args.reference)))?;
    let value = json!({ "report": outcome.report, "receipts": outcome.receipts() });
    output::print(ctx, &value, || outcome.text(duty.store().describe()));
    Ok(())
}

/// The duty's mode: a dry run reads the wallet's credibility book when there is a
/// wallet (without one, everyone scores as a newcomer); otherwise the hotkey is
/// unlocked.
fn mode(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<DutyMode> {
    let hotkey = args.key.hotkey.clone();
    let files = |wallet: plexus_wallet::Wallet| ValidatorFiles {
        folder: wallet.path(),
        hotkey,
    };
    if args.dry_run {
        let files = args.key.wallet(ctx).ok().map(files);
        return Ok(DutyMode::DryRun { files });
    }
    let files = files(args.key.wallet(ctx)?);
    let hotkey = Box::new(args.key.hotkey_key(ctx)?);
    Ok(DutyMode::Send { files, hotkey })
}
