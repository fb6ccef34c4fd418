//! `plexus devnet`: a whole local network on loopback, from one command.
//!
//! One-validator node, a provider serving the default model, a relay, a validator
//! with its credit issuer, and a `plexus proxy` already funded with credits, each a
//! child process of this one with its log under `DIR/logs/`. The first start creates
//! and funds the development wallets and the inference subnet and records them in
//! `DIR/devnet.json`; a later start with the same `--dir` resumes. SIGINT or SIGTERM
//! stops the children in reverse order, each with SIGTERM first.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::{
    context::{Context, read_json, write_json},
    node::shutdown_signal,
    output,
};

/// The password of every devnet wallet (development only; printed).
pub(crate) const DEVNET_PASSWORD: &str = "devnet";

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
    /// First of six consecutive loopback ports: node API, p2p, relay, provider, issuer,
    /// proxy.
    #[arg(long, default_value_t = 7070)]
    port_base: u16,
    /// CPU threads for the provider's generations and the validator's re-execution.
    #[arg(long, default_value_t = 1)]
    threads: u32,
}

/// What the first start set up.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Setup {
    netuid: u16,
    faucet_mnemonic: String,
}

/// The ports of one devnet.
#[derive(Debug, Clone, Copy)]
struct Ports {
    api: u16,
    p2p: u16,
    relay: u16,
    provider: u16,
    issuer: u16,
    proxy: u16,
}

impl Ports {
    fn from_base(base: u16) -> anyhow::Result<Self> {
        if !(1024..=u16::MAX - 6).contains(&base) {
            bail!("--port-base must be between 1024 and {}", u16::MAX - 6);
        }
        Ok(Self {
            api: base,
            p2p: base + 1,
            relay: base + 2,
            provider: base + 3,
            issuer: base + 4,
            proxy: base + 5,
        })
    }
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

pub(crate) async fn run(ctx: &Context, args: &DevnetArgs) -> anyhow::Result<()> {
    let dir = ctx.state_dir("devnet", args.dir.as_ref())?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let ports = Ports::from_base(args.port_base)?;
    Devnet::new(dir, ports, args.threads)
        .run(args.ready_file.as_deref(), ctx)
        .await
}

struct Devnet {
    dir: PathBuf,
    ports: Ports,
    threads: u32,
    exe: PathBuf,
    /// The models this process sees, for children whose `PLEXUS_HOME` is the devnet.
    models: PathBuf,
    children: Vec<(&'static str, Child)>,
    http: reqwest::Client,
}

impl Devnet {
    fn new(dir: PathBuf, ports: Ports, threads: u32) -> Self {
        Self {
            dir,
            ports,
            threads,
            exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("plexus")),
            models: plexus_inference::models::models_dir(),
            children: Vec::new(),
            http: reqwest::Client::new(),
        }
    }

    /// A `plexus` command with the devnet's environment.
    fn plexus(&self) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.env("PLEXUS_HOME", &self.dir)
            .env("PLEXUS_MODELS", &self.models)
            .env("PLEXUS_WALLETS", self.dir.join("wallets"))
            .env("PLEXUS_PASSWORD", DEVNET_PASSWORD)
            .env("PLEXUS_NODE", url(self.ports.api))
            .env("PLEXUS_RELAY", url(self.ports.relay))
            .env_remove("PLEXUS_NODE_DIR")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Run a one-shot `plexus --json ARGS` and return its JSON output.
    async fn cli(&self, args: &[&str]) -> anyhow::Result<Value> {
        let out = self
            .plexus()
            .arg("--json")
            .args(args)
            .output()
            .await
            .with_context(|| format!("cannot run {}", self.exe.display()))?;
        if !out.status.success() {
            bail!(
                "`plexus {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(serde_json::from_str(text.trim()).unwrap_or(Value::String(text.trim().to_owned())))
    }

    /// Start a long-running `plexus ARGS` with its output in `logs/NAME.log`.
    fn spawn(&mut self, name: &'static str, args: &[String]) -> anyhow::Result<()> {
        let logs = self.dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logs.join(format!("{name}.log")))?;
        let child = self
            .plexus()
            .args(args)
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a terminal's Ctrl-C reaches only us, and we stop
            // the children in order.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start the {name}"))?;
        self.children.push((name, child));
        Ok(())
    }

    /// Wait until `probe` holds, failing early when a child exits.
    async fn wait_for<F, Fut>(
        &mut self,
        what: &str,
        limit: Duration,
        mut probe: F,
    ) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if probe().await {
                return Ok(());
            }
            self.check_children()?;
            if Instant::now() >= deadline {
                bail!(
                    "{what} did not come up within {limit:?}: see the logs in {}",
                    self.dir.join("logs").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn check_children(&mut self) -> anyhow::Result<()> {
        for (name, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                bail!(
                    "the {name} exited ({status}): see {}",
                    self.dir.join("logs").join(format!("{name}.log")).display()
                );
            }
        }
        Ok(())
    }
}

/// Whether `url` answers 2xx.
async fn answers(http: reqwest::Client, url: String) -> bool {
    http.get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

impl Devnet {
    async fn run(mut self, ready_file: Option<&Path>, ctx: &Context) -> anyhow::Result<()> {
        let started = Instant::now();
        let result = tokio::select! {
            r = self.start(ready_file, ctx, started) => r,
            () = shutdown_signal() => Ok(false),
        };
        let keep_running = match result {
            Ok(up) => up,
            Err(e) => {
                self.stop().await;
                return Err(e);
            }
        };
        if keep_running {
            let failed = tokio::select! {
                () = shutdown_signal() => None,
                e = self.watch() => Some(e),
            };
            self.stop().await;
            if let Some(e) = failed {
                return Err(e);
            }
        } else {
            self.stop().await;
        }
        eprintln!("Devnet stopped; state kept in {}.", self.dir.display());
        Ok(())
    }

    /// Resolve when a child exits on its own.
    async fn watch(&mut self) -> anyhow::Error {
        loop {
            if let Err(e) = self.check_children() {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Stop the children, newest first: SIGTERM, then SIGKILL after 10 s.
    async fn stop(&mut self) {
        while let Some((name, mut child)) = self.children.pop() {
            if let Some(pid) = child.id() {
                let pid = nix::unistd::Pid::from_raw(pid as i32);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                eprintln!("the {name} did not stop within 10 s; killed");
                let _ = child.kill().await;
            }
        }
    }

    /// Start everything; `Ok(true)` once the network is up.
    async fn start(
        &mut self,
        ready_file: Option<&Path>,
        ctx: &Context,
        started: Instant,
    ) -> anyhow::Result<bool> {
        let p = self.ports;
        let node_dir = self.dir.join("node");
        self.spawn(
            "node",
            &[
                "node".into(),
                "--dir".into(),
                node_dir.display().to_string(),
                "--api".into(),
                format!("127.0.0.1:{}", p.api),
                "--p2p".into(),
                format!("127.0.0.1:{}", p.p2p),
            ],
        )?;
        let chain = format!("{}/v1/chain", url(p.api));
        let http = self.http.clone();
        self.wait_for("the node", Duration::from_secs(60), || {
            answers(http.clone(), chain.clone())
        })
        .await?;

        let setup = self.setup().await?;
        let netuid = setup.netuid.to_string();

        self.spawn(
            "provider",
            &[
                "provider".into(),
                "--name".into(),
                "devnet".into(),
                "--hotkey".into(),
                "provider".into(),
                "--netuid".into(),
                netuid.clone(),
                "--threads".into(),
                self.threads.to_string(),
                "--listen".into(),
                format!("127.0.0.1:{}", p.provider),
                "--settle-secs".into(),
                "5".into(),
            ],
        )?;
        self.spawn(
            "relay",
            &[
                "relay".into(),
                "--listen".into(),
                format!("127.0.0.1:{}", p.relay),
                "--allow-private-targets".into(),
                "--refresh-secs".into(),
                "1".into(),
                // The web app the node serves calls the relay from the browser.
                "--allow-origin".into(),
                url(p.api),
                "--allow-origin".into(),
                format!("http://localhost:{}", p.api),
            ],
        )?;
        // The issuer needs the validator permit the subnet's first epoch grants.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let show = self.cli(&["subnet", "show", &netuid]).await?;
            let permitted = show["metagraph"]["neurons"]
                .as_array()
                .is_some_and(|n| n.iter().any(|n| n["validator_permit"] == true));
            if permitted {
                break;
            }
            self.check_children()?;
            if Instant::now() >= deadline {
                bail!("the devnet validator got no permit within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.spawn(
            "issuer",
            &[
                "issuer".into(),
                "--name".into(),
                "devnet".into(),
                "--hotkey".into(),
                "validator".into(),
                "--netuid".into(),
                netuid.clone(),
                "--listen".into(),
                format!("127.0.0.1:{}", p.issuer),
            ],
        )?;
        let models = format!("{}/v1/models", url(p.provider));
        self.wait_for("the provider", Duration::from_secs(180), || {
            answers(http.clone(), models.clone())
        })
        .await?;
        // The relay lists the provider and the issuer once both are on chain.
        let targets = format!("{}/v1/relay/targets", url(p.relay));
        self.wait_for("the relay's targets", Duration::from_secs(120), || {
            let http = http.clone();
            let targets = targets.clone();
            async move {
                let Ok(r) = http.get(targets).send().await else {
                    return false;
                };
                r.json::<Value>()
                    .await
                    .is_ok_and(|v| v["count"].as_u64() >= Some(2))
            }
        })
        .await?;

        // The user's proxy, with credits.
        let balance = self.cli(&["credits", "balance", "--name", "user"]).await?;
        if balance["credits"].as_u64().unwrap_or(0) < 10 {
            self.cli(&["credits", "buy", "--name", "user", "--credits", "100"])
                .await?;
        }
        self.spawn(
            "validator",
            &[
                "validator".into(),
                "--name".into(),
                "devnet".into(),
                "--hotkey".into(),
                "validator".into(),
                "--netuid".into(),
                netuid.clone(),
                "--threads".into(),
                self.threads.to_string(),
            ],
        )?;
        self.spawn(
            "proxy",
            &[
                "proxy".into(),
                "--name".into(),
                "user".into(),
                "--listen".into(),
                format!("127.0.0.1:{}", p.proxy),
            ],
        )?;
        let proxy_models = format!("{}/v1/models", url(p.proxy));
        self.wait_for("the proxy", Duration::from_secs(60), || {
            answers(http.clone(), proxy_models.clone())
        })
        .await?;

        let ready = json!({
            "node": url(p.api),
            "provider_api": url(p.provider),
            "gateway": format!("{}/ohttp", url(p.provider)),
            "relay": url(p.relay),
            "proxy": url(p.proxy),
            "web": url(p.api),
            "faucet_mnemonic": setup.faucet_mnemonic,
        });
        if let Some(path) = ready_file {
            write_json(path, &ready)?;
        }
        let secs = started.elapsed().as_secs_f64();
        output::print(
            ctx,
            &json!({"ready": ready, "seconds": secs, "netuid": setup.netuid, "dir": self.dir}),
            || {
                let dir = self.dir.display();
                format!(
                    "Plexus devnet up in {secs:.1} s (state in {dir}, logs in {dir}/logs):\n\
                 \x20 node       {node}/v1   (web app at {node}/, OpenAPI at /openapi.json)\n\
                 \x20 provider   {provider}/v1   (plain OpenAI API, for its operator)\n\
                 \x20 relay      {relay}\n\
                 \x20 proxy      {proxy}/v1   (OpenAI API over the private path, funded)\n\
                 \x20 subnet     {netuid} (inference), validator and issuer on hotkey devnet/validator\n\n\
                 Try, in another terminal:\n\
                 \x20 export PLEXUS_HOME={dir} PLEXUS_WALLETS={dir}/wallets PLEXUS_NODE={node} PLEXUS_RELAY={relay} PLEXUS_PASSWORD={DEVNET_PASSWORD} PLEXUS_MODELS={models}\n\
                 \x20 plexus chat --name user                 # a private chat, history encrypted on this machine\n\
                 \x20 plexus credits balance --name user\n\
                 \x20 plexus subnet show {netuid}                   # the validator's scores become incentive\n\
                 \x20 curl {proxy}/v1/chat/completions -H 'content-type: application/json' \\\n\
                 \x20      -d '{{\"model\":\"SmolLM2-135M-Instruct\",\"messages\":[{{\"role\":\"user\",\"content\":\"Hi!\"}}]}}'\n\n\
                 Stop with Ctrl-C; `plexus devnet` again resumes.",
                    node = url(p.api),
                    provider = url(p.provider),
                    relay = url(p.relay),
                    proxy = url(p.proxy),
                    netuid = setup.netuid,
                    models = self.models.display(),
                )
            },
        );
        Ok(true)
    }

    /// Create the wallets and the subnet on first start; read them back after.
    async fn setup(&self) -> anyhow::Result<Setup> {
        let path = self.dir.join("devnet.json");
        if let Some(setup) = read_json(
            &path,
            "is not a devnet record: remove the folder to start afresh",
        )? {
            return Ok(setup);
        }
        let faucet = self
            .cli(&["wallet", "create", "--name", "faucet", "--overwrite"])
            .await?;
        let faucet_mnemonic = faucet["coldkey_mnemonic"]
            .as_str()
            .context("wallet create printed no mnemonic")?
            .to_owned();
        self.cli(&[
            "wallet",
            "create",
            "--name",
            "devnet",
            "--hotkey",
            "validator",
            "--overwrite",
        ])
        .await?;
        self.cli(&[
            "wallet", "create", "--name", "devnet", "--hotkey", "provider",
        ])
        .await?;
        self.cli(&["wallet", "create", "--name", "user", "--overwrite"])
            .await?;
        for (name, amount) in [("faucet", "100000"), ("devnet", "1000"), ("user", "100")] {
            self.cli(&["wallet", "faucet", "--name", name, "--amount", amount])
                .await?;
        }
        let subnet = self
            .cli(&[
                "subnet",
                "create",
                "--name",
                "devnet",
                "--subnet-name",
                "inference",
                "--mechanism",
                "inference",
            ])
            .await?;
        let netuid = subnet["netuid"]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .context("subnet create printed no netuid")?;
        let n = netuid.to_string();
        self.cli(&[
            "subnet",
            "register",
            "--name",
            "devnet",
            "--hotkey",
            "validator",
            "--netuid",
            &n,
        ])
        .await?;
        self.cli(&[
            "stake",
            "add",
            "--name",
            "devnet",
            "--hotkey",
            "validator",
            "--amount",
            "100",
        ])
        .await?;
        let setup = Setup {
            netuid,
            faucet_mnemonic,
        };
        write_json(&path, &setup)?;
        Ok(setup)
    }
}
