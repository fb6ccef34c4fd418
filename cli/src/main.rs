//! The plexus binary: flags, configuration files, prompts and printing over the libraries.
//!
//! Owns argument parsing, password prompts and human or JSON output. The work is the
//! libraries', the services' settings too (each service library's `settings`, layered
//! over a `--config` file by `plexus_serve::settings`): it may depend on
//! `plexus-provider` and `plexus-validator` only to start their services.

mod chain;
mod chat;
mod consensus;
mod context;
mod credits;
mod data;
mod devnet;
mod genesis;
mod issuer;
mod models;
mod node;
mod output;
mod provider;
mod proxy;
mod relay;
mod sim;
mod state_sync;
mod validator;
mod wallet;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::Context;

/// Plexus: an open, private, incentivized network for AI.
#[derive(Debug, Parser)]
#[command(name = "plexus", version, about, propagate_version = true)]
struct Cli {
    /// The node's HTTP API [default: http://127.0.0.1:7070, or a service's `node` key in
    /// its --config file].
    #[arg(long, global = true, env = "PLEXUS_NODE")]
    node: Option<String>,
    /// Where wallets live (default: ~/.plexus/wallets).
    #[arg(long, global = true, env = "PLEXUS_WALLETS")]
    wallets: Option<std::path::PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// How services log on stderr: `text`, or `json` (one object per line, for log
    /// collectors).
    #[arg(long, global = true, env = "PLEXUS_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create, restore and use wallets (coldkey and hotkeys).
    #[command(subcommand)]
    Wallet(wallet::WalletCommand),
    /// Create, inspect and join subnets.
    #[command(subcommand)]
    Subnet(chain::SubnetCommand),
    /// Stake to hotkeys and withdraw stake.
    #[command(subcommand)]
    Stake(chain::StakeCommand),
    /// Commit, reveal and set a validator's weights.
    #[command(subcommand)]
    Weights(chain::WeightsCommand),
    /// Bond, unbond and rotate a consensus validator's key; show the validator set.
    #[command(subcommand)]
    Consensus(consensus::ConsensusCommand),
    /// Data tasks: post, generate, score, submit, validate, download.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Start a whole local network on loopback: node, provider, relay, validator and
    /// issuer, a funded proxy; Ctrl-C stops it, a second start resumes.
    Devnet(devnet::DevnetArgs),
    /// Build a chain's genesis file from validator keys and balances; print its hash.
    #[command(subcommand)]
    Genesis(genesis::GenesisCommand),
    /// Run a validator or (--full) a full node; with no configuration a one-validator
    /// devnet on 127.0.0.1.
    Node(node::NodeArgs),
    /// Serve a language model over the OpenAI API and publish it on a subnet.
    Provider(Box<provider::ProviderArgs>),
    /// List, install and hash the models a provider serves.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Run a validator's credit issuer: publish its keys, sign tokens for paid deposits.
    Issuer(issuer::IssuerArgs),
    /// Buy private-inference credits and see what is left.
    #[command(subcommand)]
    Credits(credits::CreditsCommand),
    /// Chat privately in the terminal (history stays on this machine, encrypted).
    Chat(chat::ChatArgs),
    /// Serve an OpenAI-compatible API on 127.0.0.1 that sends every request privately.
    Proxy(proxy::ProxyArgs),
    /// Forward encapsulated requests to the gateways registered on chain (OHTTP relay).
    Relay(relay::RelayArgs),
    /// Validate an inference subnet: probe providers privately, check answers, set weights.
    Validator(Box<validator::ValidatorArgs>),
    /// Offline simulations.
    #[command(subcommand)]
    Sim(sim::SimCommand),
}

/// How services log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The log format `main` chose, read by [`init_logging`].
static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = LOG_FORMAT.set(cli.log_format);
    let ctx = Context::new(cli.node, cli.wallets, cli.json);
    let result = match cli.command {
        // The node runs on commonware's runtime, which it starts itself.
        Command::Node(args) => node::run(&ctx, &args),
        command => runtime().and_then(|runtime| runtime.block_on(dispatch(&ctx, command))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::error(&ctx, &error);
            ExitCode::FAILURE
        }
    }
}

/// The process's one async runtime (every command but `node`, whose consensus engine
/// brings its own).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    let built = builder.worker_threads(2).enable_all().build();
    built.map_err(|e| anyhow::Error::new(e).context("cannot start the async runtime"))
}

async fn dispatch(ctx: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Wallet(cmd) => wallet::run(ctx, cmd).await,
        Command::Subnet(cmd) => chain::run_subnet(ctx, cmd).await,
        Command::Stake(cmd) => chain::run_stake(ctx, cmd).await,
        Command::Weights(cmd) => chain::run_weights(ctx, cmd).await,
        Command::Consensus(cmd) => consensus::run(ctx, cmd).await,
        Command::Data(cmd) => data::run(ctx, cmd).await,
        Command::Devnet(args) => devnet::run(ctx, &args).await,
        // Started by `main` before any runtime exists.
        Command::Node(_) => anyhow::bail!("`plexus node` cannot start inside a running runtime"),
        Command::Provider(args) => provider::run(ctx, &args).await,
        Command::Relay(args) => relay::run(ctx, &args).await,
        Command::Issuer(args) => issuer::run(ctx, &args).await,
        Command::Chat(args) => chat::run(ctx, &args).await,
        Command::Proxy(args) => proxy::run(ctx, &args).await,
        Command::Credits(cmd) => credits::run(ctx, cmd).await,
        Command::Validator(args) => validator::run(ctx, &args).await,
        Command::Sim(cmd) => sim::run(ctx, cmd),
        Command::Genesis(cmd) => genesis::run(ctx, cmd),
        Command::Models(cmd) => models::run(ctx, cmd),
    }
}

/// Logs on stderr for the services, filtered by `PLEXUS_LOG`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLEXUS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,plexus=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match LOG_FORMAT.get() {
        Some(LogFormat::Json) => builder.json().try_init(),
        _ => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

/// A service's listen address could not be bound: say which flag picks another.
fn cannot_listen(addr: std::net::SocketAddr, source: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(source).context(format!(
        "cannot listen on {addr}: pass --listen 127.0.0.1:PORT"
    ))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
