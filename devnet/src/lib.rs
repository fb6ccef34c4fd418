//! Start a whole local network on loopback: node (or several validators and a full node), relay, provider, issuer, validator and a funded proxy.
//!
//! This crate owns the orchestration behind `plexus devnet`: the seven consecutive ports,
//! the children (each a `plexus` subcommand of the executable named in [`Config`], with
//! its log under `DIR/logs/`), waiting for each to answer, the first-start setup
//! (wallets, faucet funding, the inference subnet, stake and the validator permit)
//! recorded in `DIR/devnet.json` and read back on a later start, the ready-file JSON
//! ([`Ready::to_json`]) and banner ([`Ready::text`]), and stopping the children in
//! reverse order, SIGTERM first ([`Devnet::run`] does it all until a shutdown).
//!
//! It spawns processes and calls the `plexus` command line for the setup, so it may not
//! depend on an engine or a server crate (node, api, inference, provider, relay, issuer,
//! validator): the binary passes the models folder and its own path in [`Config`].

mod error;
mod setup;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

pub use error::DevnetError;

/// The password of every devnet wallet (development only; printed).
pub const DEVNET_PASSWORD: &str = "devnet";
/// Most validators a devnet starts.
pub const MAX_VALIDATORS: usize = 16;

/// How to start a devnet.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where all state lives (node, wallets, provider, issuer, validator, logs); absolute.
    pub dir: PathBuf,
    /// First of seven consecutive loopback ports: node API, p2p, relay, provider,
    /// issuer, proxy, the provider's plain API.
    pub port_base: u16,
    /// CPU threads for the provider's generations and the validator's re-execution.
    pub threads: u32,
    /// The validator's operator corpus (`--corpus`), if not its private default.
    pub validator_corpus: Option<PathBuf>,
    /// Consensus validators, each its own `plexus node` process. With more than one,
    /// a full node follows them on the node ports and everything else reads from it.
    pub validators: usize,
    /// The `plexus` executable every child and setup step runs.
    pub exe: PathBuf,
    /// The models folder the children see (`PLEXUS_MODELS`).
    pub models: PathBuf,
}

/// The ports of one devnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// The node's HTTP API (and web app).
    pub api: u16,
    /// The node's peer-to-peer port.
    pub p2p: u16,
    /// The relay.
    pub relay: u16,
    /// The provider's published listener: its OHTTP gateway (and health check).
    pub provider: u16,
    /// The credit issuer.
    pub issuer: u16,
    /// The user's funded proxy.
    pub proxy: u16,
    /// The provider's plain OpenAI API, for its operator.
    pub provider_api: u16,
}

impl Ports {
    /// Seven consecutive ports from `base`, which must lie in 1024..=65528.
    pub fn from_base(base: u16) -> Result<Self, DevnetError> {
        Self::with_validators(base, 1)
    }

    /// The seven ports from `base`, and two more (API, p2p) per validator when there
    /// are several; all must fit below 65536.
    pub fn with_validators(base: u16, validators: usize) -> Result<Self, DevnetError> {
        let extra = match validators {
            0 | 1 => 0,
            n => u16::try_from(2 * n).unwrap_or(u16::MAX),
        };
        let max = (u16::MAX - 7).saturating_sub(extra);
        if !(1024..=max).contains(&base) {
            return Err(DevnetError::PortBase { max });
        }
        Ok(Self {
            api: base,
            p2p: base + 1,
            relay: base + 2,
            provider: base + 3,
            issuer: base + 4,
            proxy: base + 5,
            provider_api: base + 6,
        })
    }

    /// Validator `k`'s API and p2p ports, in a devnet of several validators.
    pub fn validator(&self, k: usize) -> (u16, u16) {
        let offset = u16::try_from(7 + 2 * k).unwrap_or(u16::MAX);
        (
            self.api.saturating_add(offset),
            self.api.saturating_add(offset + 1),
        )
    }
}

/// `http://127.0.0.1:PORT`.
pub fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// What a devnet that is up offers: the URLs of the ready file and the subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// The ports it listens on.
    pub ports: Ports,
    /// The inference subnet.
    pub netuid: u16,
    /// The mnemonic of the funded faucet wallet.
    pub faucet_mnemonic: String,
}

impl Ready {
    /// The ready file's JSON object (ARCHITECTURE.md, "Contracts for scripts and tests").
    pub fn to_json(&self) -> Value {
        let p = self.ports;
        json!({
            "node": url(p.api),
            "provider_api": url(p.provider_api),
            "gateway": format!("{}/ohttp", url(p.provider)),
            "relay": url(p.relay),
            "proxy": url(p.proxy),
            "web": url(p.api),
            "faucet_mnemonic": self.faucet_mnemonic,
        })
    }

    /// What `plexus devnet` prints once up after `secs` seconds: where everything
    /// is, and what to try.
    pub fn text(&self, config: &Config, secs: f64) -> String {
        let p = self.ports;
        let dir = config.dir.display();
        format!(
            "Plexus devnet up in {secs:.1} s (state in {dir}, logs in {dir}/logs):\n\
         \x20 node       {node}/v1   (web app at {node}/, OpenAPI at /openapi.json)\n\
         \x20 provider   {provider}/v1   (plain OpenAI API, for its operator)\n\
         \x20 relay      {relay}\n\
         \x20 proxy      {proxy}/v1   (OpenAI API over the private path, funded)\n\
         \x20 subnet     {netuid} (inference), validator and issuer on hotkey devnet/validator\n{network}\n\
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
            netuid = self.netuid,
            models = config.models.display(),
            network = match config.validators {
                1 => String::new(),
                n => format!(
                    "\x20 consensus  {n} validator processes (APIs from {}, two ports each); the node URL is a full node following them\n",
                    url(p.validator(0).0)
                ),
            },
        )
    }
}

/// A devnet's children. Dropping it kills them; [`Devnet::stop`] stops them in order.
#[derive(Debug)]
pub struct Devnet {
    config: Config,
    ports: Ports,
    children: Vec<(String, Child)>,
    http: reqwest::Client,
}

/// Whether `url` answers 2xx.
async fn answers(http: reqwest::Client, url: String) -> bool {
    http.get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// `--flag value` pairs and bare flags as owned arguments.
fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

impl Devnet {
    /// A devnet with no child yet; fails on a port base too close to 65535.
    pub fn new(config: Config) -> Result<Self, DevnetError> {
        if !(1..=MAX_VALIDATORS).contains(&config.validators) {
            return Err(DevnetError::Validators {
                max: MAX_VALIDATORS,
            });
        }
        let ports = Ports::with_validators(config.port_base, config.validators)?;
        Ok(Self {
            config,
            ports,
            children: Vec::new(),
            http: reqwest::Client::new(),
        })
    }

    /// Where its state lives.
    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    /// How it was configured.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Its ports.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// A `plexus` command with the devnet's environment.
    fn plexus(&self) -> Command {
        let mut cmd = Command::new(&self.config.exe);
        cmd.env("PLEXUS_HOME", &self.config.dir)
            .env("PLEXUS_MODELS", &self.config.models)
            .env("PLEXUS_WALLETS", self.config.dir.join("wallets"))
            .env("PLEXUS_PASSWORD", DEVNET_PASSWORD)
            .env("PLEXUS_NODE", url(self.ports.api))
            .env("PLEXUS_RELAY", url(self.ports.relay))
            .env_remove("PLEXUS_NODE_DIR")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Run a one-shot `plexus --json ARGS` and return its JSON output.
    async fn cli(&self, args: &[&str]) -> Result<Value, DevnetError> {
        let out = self
            .plexus()
            .arg("--json")
            .args(args)
            .output()
            .await
            .map_err(|source| DevnetError::Run {
                exe: self.config.exe.clone(),
                source,
            })?;
        if !out.status.success() {
            return Err(DevnetError::Command {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(serde_json::from_str(text.trim()).unwrap_or(Value::String(text.trim().to_owned())))
    }

    /// Start a long-running `plexus ARGS` with its output in `logs/NAME.log`.
    fn spawn(&mut self, name: &str, args: &[String]) -> Result<(), DevnetError> {
        let logs = self.config.dir.join("logs");
        let path = logs.join(format!("{name}.log"));
        let log_error = |source| DevnetError::Log {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&logs).map_err(log_error)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(log_error)?;
        let child = self
            .plexus()
            .args(args)
            .stdout(log.try_clone().map_err(log_error)?)
            .stderr(log)
            // Its own process group: a terminal's Ctrl-C reaches only us, and we stop
            // the children in order.
            .process_group(0)
            .spawn()
            .map_err(|source| DevnetError::Spawn {
                name: name.to_owned(),
                source,
            })?;
        self.children.push((name.to_owned(), child));
        Ok(())
    }

    /// Wait until `probe` holds, failing early when a child exits.
    async fn wait_for<F, Fut>(
        &mut self,
        what: &str,
        limit: Duration,
        mut probe: F,
    ) -> Result<(), DevnetError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if probe().await {
                return Ok(());
            }
            self.check_children()?;
            if Instant::now() >= deadline {
                return Err(DevnetError::Timeout {
                    what: what.to_owned(),
                    limit,
                    logs: self.config.dir.join("logs"),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Wait until `url` answers 2xx.
    async fn wait_answers(
        &mut self,
        what: &str,
        limit: Duration,
        url: String,
    ) -> Result<(), DevnetError> {
        let http = self.http.clone();
        self.wait_for(what, limit, || answers(http.clone(), url.clone()))
            .await
    }

    fn check_children(&mut self) -> Result<(), DevnetError> {
        for (name, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(DevnetError::Exited {
                    name: name.clone(),
                    status,
                    log: self.config.dir.join("logs").join(format!("{name}.log")),
                });
            }
        }
        Ok(())
    }

    /// Resolve, with the reason, when a child exits on its own.
    pub async fn watch(&mut self) -> DevnetError {
        loop {
            if let Err(e) = self.check_children() {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Stop the children, newest first: SIGTERM, then SIGKILL after 10 s. Returns the
    /// names of those that had to be killed.
    pub async fn stop(&mut self) -> Vec<String> {
        let mut killed = Vec::new();
        while let Some((name, mut child)) = self.children.pop() {
            if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
                let pid = nix::unistd::Pid::from_raw(pid);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                killed.push(name);
                let _ = child.kill().await;
            }
        }
        killed
    }

    /// Start, hand the devnet to `ready` once every component answers, then run until
    /// `shutdown()` resolves or a child exits on its own. The children are stopped in
    /// every case; the names of those that had to be killed come back with the outcome.
    pub async fn run<E, F>(
        &mut self,
        shutdown: impl Fn() -> F,
        ready: impl FnOnce(&Config, &Ready) -> Result<(), E>,
    ) -> (Result<(), E>, Vec<String>)
    where
        E: From<DevnetError>,
        F: std::future::Future<Output = ()>,
    {
        let result = async {
            let up = tokio::select! {
                r = self.start() => Some(r?),
                () = shutdown() => None,
            };
            let Some(up) = up else { return Ok(()) };
            ready(&self.config, &up)?;
            tokio::select! {
                () = shutdown() => Ok(()),
                e = self.watch() => Err(e.into()),
            }
        }
        .await;
        (result, self.stop().await)
    }

    /// Start everything, set up on first start; returns once every component answers.
    /// On an error the children started so far keep running until [`Devnet::stop`].
    pub async fn start(&mut self) -> Result<Ready, DevnetError> {
        let p = self.ports;
        // A one-validator devnet keeps its genesis in the node's folder; a network's
        // is DIR/genesis.json. Refuse to resume one as the other.
        let network_genesis = self.config.dir.join("genesis.json");
        let lone_state = self.config.dir.join("node").join("state.redb");
        let asked = self.config.validators;
        if network_genesis.exists() {
            let file = network_genesis.display().to_string();
            let shown = self.cli(&["genesis", "show", "--file", &file]).await?;
            let listed = shown["validators"].as_array().map_or(0, Vec::len);
            if listed != asked {
                return Err(DevnetError::ValidatorCount {
                    genesis: network_genesis,
                    listed,
                    asked,
                });
            }
        } else if asked > 1 && lone_state.exists() {
            return Err(DevnetError::ValidatorCount {
                genesis: self.config.dir.join("node").join("genesis.json"),
                listed: 1,
                asked,
            });
        }
        match self.config.validators {
            1 => {
                let node_dir = self.config.dir.join("node").display().to_string();
                let (api, p2p) = (
                    format!("127.0.0.1:{}", p.api),
                    format!("127.0.0.1:{}", p.p2p),
                );
                self.spawn(
                    "node",
                    &args(&["node", "--dir", &node_dir, "--api", &api, "--p2p", &p2p]),
                )?;
            }
            n => self.start_network(n).await?,
        }
        let chain = format!("{}/v1/chain", url(p.api));
        self.wait_answers("the node", Duration::from_secs(60), chain)
            .await?;

        let setup = self.setup().await?;
        let netuid = setup.netuid.to_string();
        self.start_provider_and_relay(&netuid)?;
        self.wait_for_permit(&netuid).await?;
        let issuer = format!("127.0.0.1:{}", p.issuer);
        self.spawn(
            "issuer",
            &args(&[
                "issuer",
                "--name",
                "devnet",
                "--hotkey",
                "validator",
                "--netuid",
                &netuid,
                "--listen",
                &issuer,
            ]),
        )?;
        let models = format!("{}/v1/models", url(p.provider_api));
        self.wait_answers("the provider", Duration::from_secs(180), models)
            .await?;
        self.wait_for_targets().await?;
        self.start_validator_and_proxy(&netuid).await?;
        Ok(Ready {
            ports: p,
            netuid: setup.netuid,
            faucet_mnemonic: setup.faucet_mnemonic,
        })
    }

    /// `n` validator processes from a genesis with their keys (made with `plexus
    /// genesis` on the first start), and a full node on the node ports that follows
    /// them and serves everyone else.
    async fn start_network(&mut self, n: usize) -> Result<(), DevnetError> {
        let dir = self.config.dir.clone();
        let genesis = dir.join("genesis.json");
        let genesis_arg = genesis.display().to_string();
        let full_dir = dir.join("node").display().to_string();
        let full_p2p = format!("127.0.0.1:{}", self.ports.p2p);
        let mut validators = Vec::new();
        for k in 0..n {
            let (api, p2p) = self.ports.validator(k);
            let folder = dir.join("validators").join(format!("v{k}"));
            let folder = folder.display().to_string();
            let p2p = format!("127.0.0.1:{p2p}");
            let shown = self
                .cli(&["node", "--dir", &folder, "--p2p", &p2p, "--show-key"])
                .await?;
            let bootstrapper = shown["bootstrapper"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let key = shown["public_key"].as_str().unwrap_or_default().to_owned();
            validators.push((folder, format!("127.0.0.1:{api}"), p2p, key, bootstrapper));
        }
        // Checked against `n` in `start`.
        if !genesis.exists() {
            self.cli(&[
                "genesis",
                "init",
                "--file",
                &genesis_arg,
                "--chain-id",
                "1337",
                "--dev-faucet",
            ])
            .await?;
            for (_, _, _, key, _) in &validators {
                self.cli(&["genesis", "add-validator", key, "--file", &genesis_arg])
                    .await?;
            }
        }
        let full_key = self
            .cli(&[
                "node",
                "--dir",
                &full_dir,
                "--genesis",
                &genesis_arg,
                "--full",
                "--show-key",
            ])
            .await?["public_key"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        // `plexus node` on one genesis, loopback addresses, the local p2p profile.
        let node = |dir: &str, api: &str, p2p: &str, rest: &[&str]| {
            let mut all = vec!["node", "--dir", dir, "--genesis", &genesis_arg];
            all.extend(["--api", api, "--p2p", p2p, "--local-p2p"]);
            all.extend(rest);
            args(&all)
        };
        for (k, (folder, api, p2p, _, _)) in validators.iter().enumerate() {
            let next = &validators[(k + 1) % n].4;
            let rest = [
                "--bootstrapper",
                next,
                "--follower",
                &full_key,
                "--no-data-store",
            ];
            self.spawn(
                &format!("validator-node-{k}"),
                &node(folder, api, p2p, &rest),
            )?;
        }
        let api = format!("127.0.0.1:{}", self.ports.api);
        let mut rest = vec!["--full"];
        for (_, _, _, _, bootstrapper) in validators.iter().take(2) {
            rest.extend(["--bootstrapper", bootstrapper.as_str()]);
        }
        let full = node(&full_dir, &api, &full_p2p, &rest);
        self.spawn("node", &full)
    }

    fn start_provider_and_relay(&mut self, netuid: &str) -> Result<(), DevnetError> {
        let p = self.ports;
        let threads = self.config.threads.to_string();
        let provider = format!("127.0.0.1:{}", p.provider);
        let provider_api = format!("127.0.0.1:{}", p.provider_api);
        self.spawn(
            "provider",
            &args(&[
                "provider",
                "--name",
                "devnet",
                "--hotkey",
                "provider",
                "--netuid",
                netuid,
                "--threads",
                &threads,
                "--listen",
                &provider,
                "--api-listen",
                &provider_api,
                "--settle-secs",
                "5",
            ]),
        )?;
        let relay = format!("127.0.0.1:{}", p.relay);
        // The web app the node serves calls the relay from the browser.
        let (origin, localhost) = (url(p.api), format!("http://localhost:{}", p.api));
        self.spawn(
            "relay",
            &args(&[
                "relay",
                "--listen",
                &relay,
                "--allow-private-targets",
                "--refresh-secs",
                "1",
                "--allow-origin",
                &origin,
                "--allow-origin",
                &localhost,
            ]),
        )
    }

    /// The issuer needs the validator permit the subnet's first epoch grants.
    async fn wait_for_permit(&mut self, netuid: &str) -> Result<(), DevnetError> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let show = self.cli(&["subnet", "show", netuid]).await?;
            let permitted = show["metagraph"]["neurons"]
                .as_array()
                .is_some_and(|n| n.iter().any(|n| n["validator_permit"] == true));
            if permitted {
                return Ok(());
            }
            self.check_children()?;
            if Instant::now() >= deadline {
                return Err(DevnetError::NoPermit);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The relay lists the provider and the issuer once both are on chain.
    async fn wait_for_targets(&mut self) -> Result<(), DevnetError> {
        let targets = format!("{}/v1/relay/targets", url(self.ports.relay));
        let http = self.http.clone();
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
        .await
    }

    /// Fund the user with credits, then start the validator and the user's proxy.
    async fn start_validator_and_proxy(&mut self, netuid: &str) -> Result<(), DevnetError> {
        let balance = self.cli(&["credits", "balance", "--name", "user"]).await?;
        if balance["credits"].as_u64().unwrap_or(0) < 10 {
            self.cli(&[
                "credits",
                "buy",
                "--name",
                "user",
                "--credits",
                "100",
                "--now",
            ])
            .await?;
        }
        let threads = self.config.threads.to_string();
        let mut validator = args(&[
            "validator",
            "--name",
            "devnet",
            "--hotkey",
            "validator",
            "--netuid",
            netuid,
            "--threads",
            &threads,
        ]);
        if let Some(corpus) = &self.config.validator_corpus {
            validator.push("--corpus".into());
            validator.push(corpus.to_string_lossy().into_owned());
        }
        self.spawn("validator", &validator)?;
        let proxy = format!("127.0.0.1:{}", self.ports.proxy);
        self.spawn(
            "proxy",
            &args(&["proxy", "--name", "user", "--listen", &proxy]),
        )?;
        let proxy_models = format!("{}/v1/models", url(self.ports.proxy));
        self.wait_answers("the proxy", Duration::from_secs(60), proxy_models)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_seven_consecutive_from_the_base() {
        let p = Ports::from_base(7070).expect("valid base");
        assert_eq!(
            [
                p.api,
                p.p2p,
                p.relay,
                p.provider,
                p.issuer,
                p.proxy,
                p.provider_api
            ],
            [7070, 7071, 7072, 7073, 7074, 7075, 7076]
        );
    }

    #[test]
    fn a_base_too_close_to_65535_or_privileged_is_refused() {
        assert!(Ports::from_base(u16::MAX - 7).is_ok());
        for base in [u16::MAX - 6, u16::MAX, 1023, 0] {
            let err = Ports::from_base(base).expect_err("invalid base");
            assert_eq!(
                err.to_string(),
                "--port-base must be between 1024 and 65528"
            );
        }
    }

    #[test]
    fn validator_ports_follow_the_seven_two_by_two_and_must_fit() {
        let p = Ports::with_validators(7070, 4).expect("fits");
        assert_eq!(p.validator(0), (7077, 7078));
        assert_eq!(p.validator(3), (7083, 7084));
        assert!(Ports::with_validators(u16::MAX - 7 - 8, 4).is_ok());
        let err = Ports::with_validators(u16::MAX - 7 - 7, 4).expect_err("too high");
        assert_eq!(
            err.to_string(),
            format!("--port-base must be between 1024 and {}", u16::MAX - 15)
        );
    }

    #[test]
    fn the_ready_file_has_the_contracted_shape() {
        let ready = Ready {
            ports: Ports::from_base(7070).expect("valid base"),
            netuid: 1,
            faucet_mnemonic: "abandon".into(),
        };
        assert_eq!(
            ready.to_json(),
            json!({
                "node": "http://127.0.0.1:7070",
                "provider_api": "http://127.0.0.1:7076",
                "gateway": "http://127.0.0.1:7073/ohttp",
                "relay": "http://127.0.0.1:7072",
                "proxy": "http://127.0.0.1:7075",
                "web": "http://127.0.0.1:7070",
                "faucet_mnemonic": "abandon",
            })
        );
    }
}
