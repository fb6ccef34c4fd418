//! `plexus node`: run a validator or a full node and serve its HTTP API.

use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use plexus_node::{NodeSettings, ServeError};
use plexus_serve::{settings::Layered, shutdown_signal};
use serde_json::json;

use crate::{context::Context, output};

/// Flags of `plexus node` (each but `--show-key` also a key of its `--config` file).
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    #[command(flatten)]
    settings: Layered<NodeSettings>,
    /// Print this node's validator public key (creating the key if needed) and the
    /// `--bootstrapper` value other nodes reach it with, and exit.
    #[arg(long)]
    show_key: bool,
    #[command(subcommand)]
    command: Option<NodeCommand>,
}

/// `plexus node …` commands beside running one.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum NodeCommand {
    /// Write the state at the tip of a node's API to a file, checked against the
    /// genesis validators' certificates on the way; `plexus node --state-sync FILE`
    /// starts a new node from it (a backup that needs no trust).
    Snapshot {
        /// The node API to read (any node: a validator or a full node).
        #[arg(long)]
        from: String,
        /// The chain's genesis file.
        #[arg(long)]
        genesis: std::path::PathBuf,
        /// Where to write the snapshot.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

pub(crate) fn run(ctx: &Context, flags: &NodeArgs) -> anyhow::Result<()> {
    if let Some(NodeCommand::Snapshot { from, genesis, out }) = &flags.command {
        let text = std::fs::read_to_string(genesis)
            .with_context(|| format!("cannot read {}", genesis.display()))?;
        let genesis = plexus_ledger::Genesis::from_json(&text)
            .with_context(|| format!("{} is not a genesis", genesis.display()))?;
        let taken = crate::runtime()?.block_on(crate::state_sync::snapshot(&genesis, from, out))?;
        let value = json!({
            "snapshot": out, "height": taken.height, "entries": taken.entries,
            "chunks": taken.chunks, "seconds": taken.seconds,
        });
        output::print(ctx, &value, || {
            format!(
                "{}: the state at height {} ({} entries in {} chunks, {:.1} s); start a node from it with --state-sync {}",
                out.display(),
                taken.height,
                taken.entries,
                taken.chunks,
                taken.seconds,
                out.display()
            )
        });
        return Ok(());
    }
    let Some((args, ctx)) = ctx.service(&flags.settings, |_| None)? else {
        return Ok(());
    };
    let (dir, mut config) = args.node_config()?;
    if flags.show_key {
        let (key, p2p) = (config.key.account(), config.p2p.dialable());
        let bootstrapper = format!("{key}@{p2p}");
        let value =
            json!({ "public_key": key, "p2p": p2p.to_string(), "bootstrapper": bootstrapper });
        output::print(&ctx, &value, || {
            format!("{key}\np2p {p2p}\nothers bootstrap from it with --bootstrapper {bootstrapper}")
        });
        return Ok(());
    }
    if let Some(url) = &args.state_sync {
        let synced = crate::runtime()?.block_on(crate::state_sync::sync(
            &config.data_dir,
            &config.genesis,
            url,
        ))?;
        if let Some(s) = synced {
            eprintln!(
                "state synced from {url}: height {}, {} entries in {} chunks, {:.1} s",
                s.height, s.entries, s.chunks, s.seconds
            );
            config.floor = Some(std::fs::read(dir.join(plexus_node::FLOOR_FILE))?);
        }
    }
    let data_files = match args.no_data_store {
        true => None,
        false => Some(crate::data::open_store(&ctx, args.data_store.as_deref())?),
    };
    crate::init_logging();
    let data_store = data_files.as_ref().map(|s| s.describe().to_string());
    let (json, text) = args.summary(&dir, &config, data_store.as_deref());
    let files = data_files.map(|store| -> Arc<dyn plexus_api::DataFiles> {
        Arc::new(crate::data::StoreFiles(store))
    });
    let json_mode = ctx.json;
    let on_listening = move |_| match json_mode {
        true => println!("{json}"),
        false => println!("{text}"),
    };
    let options = args.api_options(files);
    let served = plexus_node::serve_api(config, options, on_listening, shutdown_signal());
    served.map_err(|error| match error {
        ServeError::Bind { addr, source } => anyhow::Error::new(source).context(format!(
            "cannot serve the API on {addr}: is another node running? pass --api 127.0.0.1:PORT"
        )),
        other => other.into(),
    })
}
