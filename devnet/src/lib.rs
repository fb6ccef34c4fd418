//! Start a whole local network on loopback: node, relay, provider, issuer, validator and a funded proxy.
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
        if !(1024..=u16::MAX - 7).contains(&base) {
            return Err(DevnetError::PortBase { max: u16::MAX - 7 });
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
            netuid = self.netuid,
            models = config.models.display(),
        )
    }
}

/// A devnet's children. Dropping it kills them; [`Devnet::stop`] stops them in order.
#[derive(Debug)]
pub struct Devnet {
    config: Config,
    ports: Ports,
    children: Vec<(&'static str, Child)>,
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
        let ports = Ports::from_base(config.port_base)?;
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
    fn spawn(&mut self, name: &'static str, args: &[String]) -> Result<(), DevnetError> {
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
            .map_err(|source| DevnetError::Spawn { name, source })?;
        self.children.push((name, child));
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
                    name,
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
    pub async fn stop(&mut self) -> Vec<&'static str> {
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
    ) -> (Result<(), E>, Vec<&'static str>)
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
        let node_dir = self.config.dir.join("node").display().to_string();
        let (api, p2p) = (
            format!("127.0.0.1:{}", p.api),
            format!("127.0.0.1:{}", p.p2p),
        );
        self.spawn(
            "node",
            &args(&["node", "--dir", &node_dir, "--api", &api, "--p2p", &p2p]),
        )?;
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
