//! `plexus sim`: offline simulations of the incentive mechanism.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use crate::{context::Context, output};

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
    /// Simulate an inference subnet over many epochs (honest, lazy and offline
    /// providers; honest and weight-copying validators) and print each strategy's
    /// share of emission.
    Network(NetworkArgs),
}

/// `plexus sim network`: flags override the scenario file, which overrides the defaults.
#[derive(Debug, clap::Args)]
pub(crate) struct NetworkArgs {
    /// A JSON scenario (`-` for standard input): every field of
    /// `plexus_validator::sim::Scenario`, each optional.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Epochs to run [default: 100].
    #[arg(long)]
    epochs: Option<u64>,
    /// Seed of every random draw [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Honest providers [default: 4].
    #[arg(long)]
    honest: Option<u64>,
    /// Lazy providers, serving a cheaper model than declared [default: 2].
    #[arg(long)]
    lazy: Option<u64>,
    /// Providers that stop answering [default: 1].
    #[arg(long)]
    offline: Option<u64>,
    /// First epoch in which offline providers answer nothing [default: half the run].
    #[arg(long)]
    offline_from: Option<u64>,
    /// Honest validators [default: 3].
    #[arg(long)]
    validators: Option<u64>,
    /// Weight-copying validators [default: 1].
    #[arg(long)]
    copiers: Option<u64>,
    /// Set weights directly instead of through commit-reveal.
    #[arg(long)]
    no_commit_reveal: bool,
}

pub(crate) fn run(ctx: &Context, cmd: SimCommand) -> anyhow::Result<()> {
    match cmd {
        SimCommand::Network(args) => network(ctx, &args),
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

fn network(ctx: &Context, args: &NetworkArgs) -> anyhow::Result<()> {
    use plexus_validator::sim;
    let mut scenario = match &args.scenario {
        Some(path) => sim::scenario_from_json(&read_bounded(path)?)
            .with_context(|| format!("scenario {} is invalid", path.display()))?,
        None => sim::Scenario::default(),
    };
    let set = |field: &mut u64, flag: Option<u64>| {
        if let Some(v) = flag {
            *field = v;
        }
    };
    set(&mut scenario.epochs, args.epochs);
    set(&mut scenario.seed, args.seed);
    set(&mut scenario.honest, args.honest);
    set(&mut scenario.lazy, args.lazy);
    set(&mut scenario.offline, args.offline);
    set(&mut scenario.validators, args.validators);
    set(&mut scenario.copiers, args.copiers);
    if args.offline_from.is_some() {
        scenario.offline_from = args.offline_from;
    }
    if args.no_commit_reveal {
        scenario.subnet.commit_reveal = Some(false);
    }
    let report = sim::run(&scenario).context("cannot run the simulation")?;
    output::print(ctx, &report, || network_table(&scenario, &report));
    Ok(())
}

fn plx(base_units: u64) -> String {
    format!("{:.2} PLX", base_units as f64 / 1e9)
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{:.2} %", x * 100.0))
}

fn times(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{x:.3}×"))
}

fn network_table(
    scenario: &plexus_validator::sim::Scenario,
    r: &plexus_validator::sim::Report,
) -> String {
    use plexus_validator::sim::Earnings;
    fn rows<S: serde::Serialize>(side: &[Earnings<S>]) -> Vec<Vec<String>> {
        side.iter()
            .map(|e| {
                let name = serde_json::to_value(&e.strategy)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                vec![
                    name,
                    e.count.to_string(),
                    plx(e.emission),
                    percent(Some(e.share)),
                    percent(e.per_capita),
                    percent(e.late_per_capita),
                ]
            })
            .collect()
    }
    let late = format!("last {} per capita", r.late_epochs);
    let headers = [
        "strategy",
        "count",
        "earned",
        "share",
        "per capita",
        late.as_str(),
    ];
    let yuma = serde_json::to_value(r.yuma)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut out = format!(
        "{} epochs, seed {}, {yuma}, commit-reveal {}; {} paid per epoch; \
         offline providers answer nothing from epoch {}\n\n",
        r.epochs,
        r.seed,
        if r.commit_reveal { "on" } else { "off" },
        plx(r.emission_per_epoch),
        r.offline_from,
    );
    out.push_str(&format!(
        "providers: incentive, {} ({} answers re-executed: {} passed, {} failed)\n",
        plx(r.miner_emission),
        r.checks.passed + r.checks.failed,
        r.checks.passed,
        r.checks.failed,
    ));
    out.push_str(&output::table(&headers, &rows(&r.providers)));
    out.push_str(&format!(
        "\n\nvalidators: dividends, {} (stake {} per honest validator, {} per copier)\n",
        plx(r.validator_emission),
        plx(scenario.validator_stake),
        plx(scenario.copier_stake),
    ));
    out.push_str(&output::table(&headers, &rows(&r.validators)));
    out.push_str(&format!(
        "\n\nlazy provider / honest provider, per capita: {}\n\
         probe detector ({} per mille of probes recognised) / honest provider, per capita: {}\n\
         copier / honest validator, per capita and unit of stake: {} (last {} epochs: {})\n",
        times(r.lazy_over_honest),
        scenario.probe_detection_per_mille,
        times(r.detector_over_honest),
        times(r.copier_over_honest),
        r.late_epochs,
        times(r.late_copier_over_honest),
    ));
    out
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
