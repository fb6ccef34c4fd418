//! `plexus devnet`: a whole local network on loopback, from one command.
//!
//! The flags, the summary and the ready file; [`plexus_devnet`] starts the children,
//! sets up the first start and stops them in reverse order on SIGINT or SIGTERM.

use std::{path::PathBuf, time::Instant};

use anyhow::Context as _;
use clap::Args;
use plexus_devnet::{Config, Devnet, Ready};
use serde_json::json;

use plexus_serve::shutdown_signal;

use crate::{context::Context, output};

/// Flags of `plexus devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// Where all state lives (node, wallets, provider, issuer, validator, logs).
    /// Default: ~/.plexus/devnet.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Once every component answers, write the URLs here as one JSON object.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// First of seven consecutive loopback ports: node API, p2p, relay, provider, issuer,
    /// proxy, the provider's plain API.
    #[arg(long, default_value_t = 7070)]
    port_base: u16,
    /// CPU threads for the provider's generations and the validator's re-execution.
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// Consensus validators, each its own `plexus node` process (on the ports after
    /// the seven, two each). With more than one, a full node follows them on the node
    /// ports and every other component reads from it.
    #[arg(long, default_value_t = 1)]
    validators: usize,
    /// The validator's probes from this JSONL corpus (`plexus validator --corpus`)
    /// instead of its private corpus drawn from the public data set.
    #[arg(long, value_name = "FILE")]
    validator_corpus: Option<PathBuf>,
}

pub(crate) async fn run(ctx: &Context, args: &DevnetArgs) -> anyhow::Result<()> {
    let dir = ctx.state_dir("devnet", args.dir.as_ref())?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let mut devnet = Devnet::new(Config {
        dir: dir.clone(),
        port_base: args.port_base,
        threads: args.threads,
        validators: args.validators,
        validator_corpus: args
            .validator_corpus
            .as_ref()
            .map(|p| {
                let path = p
                    .canonicalize()
                    .with_context(|| format!("cannot read the corpus {}", p.display()))?;
                anyhow::ensure!(
                    path.to_str().is_some(),
                    "the corpus path {} is not UTF-8",
                    path.display()
                );
                Ok(path)
            })
            .transpose()?,
        exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("plexus")),
        models: plexus_inference::models::models_dir(),
    })?;
    let started = Instant::now();
    let announce = |config: &Config, ready: &Ready| announce(ctx, args, config, ready, started);
    let (result, killed) = devnet.run(shutdown_signal, announce).await;
    for name in killed {
        eprintln!("the {name} did not stop within 10 s; killed");
    }
    result?;
    eprintln!("Devnet stopped; state kept in {}.", dir.display());
    Ok(())
}

/// Write the ready file and print the summary.
fn announce(
    ctx: &Context,
    args: &DevnetArgs,
    config: &Config,
    ready: &Ready,
    started: Instant,
) -> anyhow::Result<()> {
    let json = ready.to_json();
    if let Some(path) = &args.ready_file {
        // Atomically (a crash leaves the old file or the new one), for this user only.
        plexus_wallet::write_private(path, &serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let secs = started.elapsed().as_secs_f64();
    let value = json!({"ready": json, "seconds": secs, "netuid": ready.netuid, "dir": config.dir});
    output::print(ctx, &value, || ready.text(config, secs));
    Ok(())
}
