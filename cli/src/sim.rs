//! `plexus sim`: offline simulations of the incentive mechanism.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use plexus_sim::{Overrides, Scenario, read_scenario};

use crate::{context::Context, output};

/// Offline simulations.
#[derive(Debug, Subcommand)]
pub(crate) enum SimCommand {
    /// Run Yuma epochs from a JSON scenario; prints one JSON object per epoch and line.
    Yuma {
        /// The scenario file (`-` for standard input).
        #[arg(long)]
        scenario: PathBuf,
    },
    /// Simulate an inference subnet over many epochs (honest, lazy and offline
    /// providers; honest and weight-copying validators) and print each strategy's
    /// share of emission.
    Network {
        /// A JSON scenario (`-` for standard input): every field of
        /// `plexus_sim::Scenario`, each optional. Flags override it, and it the
        /// defaults.
        #[arg(long)]
        scenario: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
    },
}

pub(crate) fn run(ctx: &Context, cmd: SimCommand) -> anyhow::Result<()> {
    match cmd {
        SimCommand::Network {
            scenario,
            overrides,
        } => {
            let scenario = match &scenario {
                Some(path) => plexus_sim::scenario_from_json(&read_scenario(path)?)
                    .with_context(|| format!("scenario {} is invalid", path.display()))?,
                None => Scenario::default(),
            };
            let scenario = overrides.apply(scenario);
            let report = plexus_sim::run(&scenario).context("cannot run the simulation")?;
            output::print(ctx, &report, || plexus_sim::report_text(&scenario, &report));
            Ok(())
        }
        SimCommand::Yuma { scenario } => {
            let text = read_scenario(&scenario)?;
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
