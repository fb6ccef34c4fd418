//! `plexus sim`: offline simulations of the incentive mechanism.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use crate::context::Context;

/// Largest scenario file read, in bytes.
const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;

/// Offline simulations.
#[derive(Debug, Subcommand)]
pub(crate) enum SimCommand {
    /// Run Yuma epochs from a JSON scenario; prints one JSON object per epoch and line.
    Yuma {
        /// The scenario file (`-` for standard input).
        #[arg(long)]
        scenario: PathBuf,
    },
}

pub(crate) fn run(_ctx: &Context, cmd: SimCommand) -> anyhow::Result<()> {
    match cmd {
        SimCommand::Yuma { scenario } => {
            let text = read_bounded(&scenario)?;
            let lines = plexus_ledger::yuma::scenario::run_json(&text)
                .with_context(|| format!("scenario {} is invalid", scenario.display()))?;
            print!("{lines}");
            if !lines.is_empty() && !lines.ends_with('\n') {
                println!();
            }
            Ok(())
        }
    }
}

fn read_bounded(path: &PathBuf) -> anyhow::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_SCENARIO_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .take(MAX_SCENARIO_BYTES + 1)
            .read_to_string(&mut text)
    };
    read.with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    anyhow::ensure!(
        text.len() as u64 <= MAX_SCENARIO_BYTES,
        "{} is larger than {} MiB",
        path.display(),
        MAX_SCENARIO_BYTES >> 20
    );
    Ok(text)
}
