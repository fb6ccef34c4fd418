//! Helpers: run the binary, parse its JSON.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use nix::unistd::Pid;

/// The workspace root.
pub(crate) fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A `plexus` command with an isolated wallet folder and a non-interactive password.
pub(crate) fn plexus(wallets: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plexus"));
    cmd.env("PLEXUS_WALLETS", wallets)
        .env("PLEXUS_PASSWORD", "correct horse battery staple");
    cmd.env_remove("PLEXUS_NODE");
    cmd
}

/// Run `cmd`, require success, and return stdout.
pub(crate) fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the binary runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Run `cmd`, require failure, and return stderr.
pub(crate) fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the binary runs");
    assert!(!out.status.success(), "{cmd:?} unexpectedly succeeded");
    String::from_utf8(out.stderr).expect("UTF-8 output")
}

/// A `plexus node` child process on free loopback ports, killed on drop.
pub(crate) struct NodeProcess {
    service: Service,
    pub(crate) api: String,
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl NodeProcess {
    /// Start a node in `dir` (a development genesis is created on first start).
    pub(crate) fn start(dir: &std::path::Path) -> Self {
        let api = format!("127.0.0.1:{}", free_port());
        let p2p = format!("127.0.0.1:{}", free_port());
        Self::start_on(dir, api, &p2p)
    }

    /// Start a node in `dir` on the given addresses.
    pub(crate) fn start_on(dir: &std::path::Path, api: String, p2p: &str) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plexus"));
        cmd.args(["node", "--dir"])
            .arg(dir.join("node"))
            .args(["--api", &api, "--p2p", p2p])
            .arg("--data-store")
            .arg(dir.join("store"));
        let node = Self {
            service: Service::spawn(cmd, dir, "node"),
            api,
        };
        node.wait_ready(std::time::Duration::from_secs(60));
        node
    }

    /// The API base URL.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.api)
    }

    /// Wait until the API answers and a block past genesis is finalized.
    pub(crate) fn wait_ready(&self, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.height().is_some_and(|height| height >= 1) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "the node did not become ready in {timeout:?}; its log:\n{}",
            self.service.log()
        );
    }

    /// The finalized height, if the API answers.
    pub(crate) fn height(&self) -> Option<u64> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let client = plexus_client::Client::new(&self.url())
                .ok()?
                .with_timeout(std::time::Duration::from_secs(2));
            client.status().await.ok().map(|s| s.node.finalized_height)
        })
    }

    /// SIGKILL the node.
    pub(crate) fn kill(&mut self) {
        self.service.kill();
    }
}

/// A `plexus provider` child process on a free loopback port, killed on drop.
pub(crate) struct ProviderProcess {
    service: Service,
    /// The URL it listens on (published on chain when it serves on chain).
    pub(crate) url: String,
    /// Its plain OpenAI API: `url` off chain; on chain a second loopback listener
    /// (`--api-listen`), as the published one serves only `/ohttp`.
    pub(crate) api_url: String,
}

impl ProviderProcess {
    /// Start `plexus provider` with `args` (plus `--listen` and `--api-listen` on free
    /// ports), logging to `dir/provider.log`, and wait until its plain API serves
    /// `/v1/models` (or refuses it for want of the API key it requires).
    pub(crate) fn start(mut cmd: Command, dir: &std::path::Path, args: &[&str]) -> Self {
        let listen = format!("127.0.0.1:{}", free_port());
        let api_listen = format!("127.0.0.1:{}", free_port());
        cmd.arg("provider")
            .args(["--listen", &listen, "--api-listen", &api_listen])
            .args(["--threads", "1"])
            .args(args);
        let name = format!("provider-{}", listen.replace(':', "-"));
        let on_chain = args.contains(&"--netuid");
        let mut provider = Self {
            service: Service::spawn(cmd, dir, &name),
            url: format!("http://{listen}"),
            api_url: format!("http://{}", if on_chain { &api_listen } else { &listen }),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        let http = reqwest::blocking::Client::new();
        loop {
            if http
                .get(format!("{}/v1/models", provider.api_url))
                .send()
                // Serving: the models, or a 401 from a provider that requires a key.
                .is_ok_and(|r| r.status().is_success() || r.status().as_u16() == 401)
            {
                return provider;
            }
            let exited = provider.service.exited();
            if exited.is_some() || std::time::Instant::now() > deadline {
                panic!(
                    "the provider did not start ({exited:?}); its log:\n{}",
                    provider.service.log()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// What it has logged so far.
    pub(crate) fn log(&self) -> String {
        self.service.log()
    }

    /// Resident memory of the provider process, in KiB (Linux).
    pub(crate) fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.service.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

pub(crate) use plexus_testing::default_model;

/// A Python venv under the target directory with `packages` installed from PyPI.
/// The real clients people point at an OpenAI endpoint, pinned, in one venv that every
/// client test shares (one install per run).
pub(crate) const CLIENT_PACKAGES: &[&str] = &["openai==3.57.0", "langchain-openai==1.8.1"];

/// The shared venv with [`CLIENT_PACKAGES`], and the `TIKTOKEN_CACHE_DIR` holding
/// OpenAI's `cl100k_base` file that tiktoken would otherwise download (this machine
/// reaches no blob store): the same bytes `tiktoken-rs` vendors, which the provider
/// decodes token-id inputs with.
pub(crate) fn clients_venv() -> (PathBuf, PathBuf) {
    let python = python_venv("clients-venv", CLIENT_PACKAGES);
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tiktoken-cache");
    std::fs::create_dir_all(&cache).unwrap();
    // tiktoken names its cache entry by the sha1 of the file's URL.
    let entry = cache.join("9b5ad71b2ce5302211f9c61530b329a4922fc6a4");
    if !entry.is_file() {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap();
        let vendored = std::fs::read_dir(home.join("registry/src"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|index| {
                index
                    .path()
                    .join("tiktoken-rs-0.12.0/assets/cl100k_base.tiktoken")
            })
            .find(|path| path.is_file())
            .expect("tiktoken-rs 0.12.0 is in cargo's registry (a provider dependency)");
        let tmp = cache.join(format!("entry.{}", std::process::id()));
        std::fs::copy(vendored, &tmp).unwrap();
        std::fs::rename(tmp, &entry).unwrap();
    }
    (python, cache)
}

pub(crate) fn python_venv(name: &str, packages: &[&str]) -> PathBuf {
    plexus_testing::python_venv(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
        name,
        packages,
    )
}

/// A node in a temporary folder with its own wallet folder: the set-up every
/// end-to-end test starts from.
pub(crate) struct LocalNet {
    /// Declared first so the node is stopped before its folder is removed.
    pub(crate) node: NodeProcess,
    pub(crate) wallets: PathBuf,
    pub(crate) dir: tempfile::TempDir,
}

impl LocalNet {
    /// Start a development node in a fresh temporary folder.
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let node = NodeProcess::start(dir.path());
        Self {
            node,
            wallets: dir.path().join("wallets"),
            dir,
        }
    }

    /// A `plexus` command with the test's wallets, pointed at the node.
    pub(crate) fn cli(&self) -> Command {
        let mut cmd = plexus(&self.wallets);
        cmd.args(["--node", &self.node.url()]);
        cmd
    }
}

/// A child process killed on drop, logging to a file.
pub(crate) struct Service {
    child: std::process::Child,
    log: PathBuf,
}

impl Service {
    /// Start `cmd` with its output appended to `dir/NAME.log`.
    pub(crate) fn spawn(mut cmd: Command, dir: &std::path::Path, name: &str) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = cmd
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Self { child, log }
    }

    /// What it has logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How it exited, if it has.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Wait up to `limit` for it to exit by itself.
    pub(crate) fn wait(&mut self, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// SIGKILL it now.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Poll `ready` every 250 ms; panic with `logs()` after `timeout`.
pub(crate) fn wait_until(
    what: &str,
    timeout: std::time::Duration,
    mut ready: impl FnMut() -> bool,
    logs: &dyn Fn() -> String,
) {
    let deadline = std::time::Instant::now() + timeout;
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// Parse a command's JSON output.
pub(crate) fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Whether `url` answers 2xx to a GET.
pub(crate) fn answers(url: &str) -> bool {
    reqwest::blocking::get(url).is_ok_and(|r| r.status().is_success())
}

/// An inference subnet with the private path on a local node: wallet `op` owns the
/// subnet, its hotkey `provider` serves the default model with its state in
/// `dir/provider-state`, its hotkey `validator` holds a validator permit and runs the
/// credit issuer, and a relay forwards to both.
pub(crate) struct PrivateNet {
    /// Services first: they stop before the node and their folder go.
    pub(crate) provider: Service,
    pub(crate) relay: Service,
    pub(crate) issuer: Service,
    pub(crate) netuid: String,
    pub(crate) relay_port: u16,
    pub(crate) net: LocalNet,
}

impl PrivateNet {
    /// Start it; the provider publishes `public_url(its port)` on chain (a tap or a
    /// recorder in front of it, say).
    pub(crate) fn start(public_url: impl FnOnce(u16) -> String) -> Self {
        let net = LocalNet::start();
        let cli = || net.cli();
        let dir = net.dir.path();
        ok(cli().args(["wallet", "create", "--name", "op", "--hotkey", "provider"]));
        ok(cli().args(["wallet", "create", "--name", "op", "--hotkey", "validator"]));
        ok(cli().args(["wallet", "faucet", "--name", "op", "--amount", "500"]));
        let subnet = json(&ok(cli().args([
            "--json",
            "subnet",
            "create",
            "--name",
            "op",
            "--subnet-name",
            "inference",
            "--mechanism",
            "inference",
        ])));
        let netuid = subnet["netuid"].as_u64().unwrap().to_string();
        ok(cli().args([
            "subnet",
            "register",
            "--name",
            "op",
            "--hotkey",
            "validator",
            "--netuid",
            &netuid,
        ]));
        ok(cli().args([
            "stake",
            "add",
            "--name",
            "op",
            "--hotkey",
            "validator",
            "--amount",
            "50",
        ]));

        let provider_port = free_port();
        let mut cmd = cli();
        cmd.args([
            "provider",
            "--threads",
            "1",
            "--listen",
            &format!("127.0.0.1:{provider_port}"),
        ])
        .args(["--netuid", &netuid, "--name", "op", "--hotkey", "provider"])
        .args([
            "--public-url",
            &public_url(provider_port),
            "--settle-secs",
            "1",
            "--data-dir",
        ])
        .arg(dir.join("provider-state"));
        let provider = Service::spawn(cmd, dir, "provider");
        let timeout = std::time::Duration::from_secs;
        wait_until(
            "the provider",
            timeout(180),
            // The published listener serves only /ohttp and the health check.
            || answers(&format!("http://127.0.0.1:{provider_port}/health")),
            &|| provider.log(),
        );

        let relay_port = free_port();
        let mut cmd = cli();
        cmd.args(["relay", "--listen", &format!("127.0.0.1:{relay_port}")])
            .args(["--allow-private-targets", "--refresh-secs", "1"]);
        let relay = Service::spawn(cmd, dir, "relay");

        // The issuer needs a validator permit: it comes with the subnet's next epoch.
        wait_until(
            "a validator permit",
            timeout(90),
            || {
                let show = json(&ok(cli().args(["--json", "subnet", "show", &netuid])));
                show["metagraph"]["neurons"]
                    .as_array()
                    .is_some_and(|n| n.iter().any(|n| n["validator_permit"] == true))
            },
            &String::new,
        );
        let mut cmd = cli();
        cmd.args([
            "issuer",
            "--name",
            "op",
            "--hotkey",
            "validator",
            "--netuid",
            &netuid,
        ])
        .args([
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--data-dir",
        ])
        .arg(dir.join("issuer-state"));
        let issuer = Service::spawn(cmd, dir, "issuer");
        // The relay lists the provider and the issuer once both are on chain.
        wait_until(
            "the relay's targets",
            timeout(60),
            || {
                reqwest::blocking::get(format!("http://127.0.0.1:{relay_port}/v1/relay/targets"))
                    .ok()
                    .and_then(|r| r.json::<serde_json::Value>().ok())
                    .is_some_and(|v| v["count"].as_u64() == Some(2))
            },
            &|| format!("{}\n{}", relay.log(), issuer.log()),
        );
        Self {
            provider,
            relay,
            issuer,
            netuid,
            relay_port,
            net,
        }
    }

    /// A `plexus` command with the test's wallets, pointed at the node.
    pub(crate) fn cli(&self) -> Command {
        self.net.cli()
    }

    /// The logs of the provider, the relay and the issuer.
    pub(crate) fn logs(&self) -> String {
        format!(
            "provider log:\n{}\nrelay log:\n{}\nissuer log:\n{}",
            self.provider.log(),
            self.relay.log(),
            self.issuer.log()
        )
    }

    /// The test's folder.
    pub(crate) fn dir(&self) -> &std::path::Path {
        self.net.dir.path()
    }

    /// A fresh wallet `name` with `plx` from the faucet and `credits` bought through
    /// `relay` and issued at once; returns its coldkey address.
    pub(crate) fn user(&self, name: &str, plx: u32, credits: u32, relay: &str) -> String {
        let made = json(&ok(self
            .cli()
            .args(["--json", "wallet", "create", "--name", name])));
        ok(self.cli().args([
            "wallet",
            "faucet",
            "--name",
            name,
            "--amount",
            &plx.to_string(),
        ]));
        let bought = json(&ok(self.cli().args([
            "--json",
            "credits",
            "buy",
            "--name",
            name,
            "--credits",
            &credits.to_string(),
            "--relay",
            relay,
            // The tests chat right after buying: they accept that the relay can link
            // the purchase to the client (see `credits buy --now`).
            "--now",
        ])));
        assert_eq!(bought["credits"], credits, "{bought}");
        made["coldkey"].as_str().unwrap_or_default().to_owned()
    }
}

/// One HTTP request as a [`Recorder`] received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Header fields in the order received.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
}

/// An HTTP forwarder on 127.0.0.1 that records every request it passes on, and
/// streams each answer back as it comes.
pub(crate) struct Recorder {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Recorded>>>,
}

/// What a [`Recorder`]'s interceptor makes of a request: `None` forwards it (as the
/// interceptor may have rewritten it), `Some((content_type, body))` answers it with
/// status 200 instead.
pub(crate) type Intercept = dyn Fn(&mut Recorded) -> Option<(String, Vec<u8>)> + Send + Sync;

impl Recorder {
    /// Forward to `http://127.0.0.1:{upstream_port}`.
    pub(crate) fn start(upstream_port: u16) -> Self {
        Self::intercepting(upstream_port, std::sync::Arc::new(|_: &mut Recorded| None))
    }

    /// Forward to `http://127.0.0.1:{upstream_port}` what `intercept` lets through.
    pub(crate) fn intercepting(upstream_port: u16, intercept: std::sync::Arc<Intercept>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::default();
        let state = (
            upstream_port,
            std::sync::Arc::clone(&seen),
            reqwest::Client::new(),
            intercept,
        );
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(forward).with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        Self { port, seen }
    }

    /// Its URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far.
    pub(crate) fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

type RecorderState = (
    u16,
    std::sync::Arc<std::sync::Mutex<Vec<Recorded>>>,
    reqwest::Client,
    std::sync::Arc<Intercept>,
);

async fn forward(
    axum::extract::State((upstream, seen, http, intercept)): axum::extract::State<RecorderState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    let headers: Vec<(String, Vec<u8>)> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    let mut recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: headers.clone(),
        body: body.to_vec(),
    };
    seen.lock().unwrap().push(recorded.clone());
    if let Some((content_type, answer)) = intercept(&mut recorded) {
        return axum::response::Response::builder()
            .header("content-type", content_type)
            .body(axum::body::Body::from(answer))
            .unwrap();
    }
    let body = recorded.body;
    let mut out = http.request(
        parts.method.clone(),
        format!("http://127.0.0.1:{upstream}{}", parts.uri),
    );
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            out = out.header(name.as_str(), value.as_slice());
        }
    }
    let answer = out.body(body).send().await.unwrap();
    let mut response = axum::response::Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name.as_str(), value.as_bytes());
        }
    }
    response
        .body(axum::body::Body::from_stream(answer.bytes_stream()))
        .unwrap()
}

use serde_json::Value;

/// `plexus devnet` as a child process; SIGINT on drop, so it stops its children.
pub(crate) struct Devnet {
    pub(crate) service: Service,
    pub(crate) dir: PathBuf,
    pub(crate) ready: Value,
}

impl Devnet {
    pub(crate) fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[])
    }

    /// A devnet started with more flags of `plexus devnet`.
    pub(crate) fn start_with(dir: &Path, args: &[&str]) -> Self {
        let base = free_base();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plexus"));
        cmd.args(["devnet", "--dir"])
            .arg(dir)
            .args(["--port-base", &base.to_string(), "--ready-file"])
            .arg(dir.join("ready.json"))
            .args(args);
        let service = Service::spawn(cmd, dir, "devnet");
        let ready_file = dir.join("ready.json");
        wait_until(
            "the devnet",
            Duration::from_secs(600),
            || ready_file.is_file(),
            &|| service.log(),
        );
        let ready = json(&std::fs::read_to_string(&ready_file).unwrap());
        Self {
            service,
            dir: dir.to_path_buf(),
            ready,
        }
    }

    /// A `plexus` command with the environment the devnet prints.
    pub(crate) fn cli(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plexus"));
        cmd.env("PLEXUS_HOME", &self.dir)
            .env("PLEXUS_MODELS", plexus_inference::models::models_dir())
            .env("PLEXUS_WALLETS", self.dir.join("wallets"))
            .env("PLEXUS_PASSWORD", "devnet")
            .env("PLEXUS_NODE", self.ready["node"].as_str().unwrap())
            .env("PLEXUS_RELAY", self.ready["relay"].as_str().unwrap());
        cmd
    }

    /// The weights hash the devnet's provider published on subnet `netuid`: what a
    /// provider that claims to serve the same model declares.
    pub(crate) fn declared_weights(&self, netuid: &str) -> String {
        let show = json(&ok(self.cli().args(["--json", "subnet", "show", netuid])));
        show["metagraph"]["neurons"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|n| n["endpoint"]["weights_hash"].as_str())
            .expect("the devnet provider's weights on chain")
            .to_owned()
    }

    /// The port of one of the URLs in the devnet's ready file (`gateway` is the port of
    /// the provider's URL on chain).
    pub(crate) fn port(&self, key: &str) -> u16 {
        port_of(self.ready[key].as_str().unwrap())
    }

    /// A provider started by this test, logging under the devnet's folder.
    pub(crate) fn provider(&self, name: &str, port: u16, args: &[&str]) -> Service {
        let mut cmd = self.cli();
        cmd.args(["provider", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--threads", "1", "--no-embeddings", "--settle-secs", "5"])
            .args(args);
        let service = Service::spawn(cmd, &self.dir, name);
        wait_until(
            name,
            Duration::from_secs(180),
            // On chain the listener serves only /ohttp and the health check.
            || answers(&format!("http://127.0.0.1:{port}/health")),
            &|| service.log(),
        );
        service
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.service.pid() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        self.service.wait(Duration::from_secs(60));
    }
}

/// The port of `http://host:port[/ohttp]`.
pub(crate) fn port_of(url: &str) -> u16 {
    url.trim_end_matches("/ohttp")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The first of seven consecutive free loopback ports.
fn free_base() -> u16 {
    let start = free_port();
    // Below Linux's ephemeral range (32768 and up): a devnet starts its services one
    // after the other, and a port checked free here must not be taken meanwhile as the
    // source port of some other test's connection or by another test's free_port().
    (0..400u16)
        .map(|i| 20_000 + (start.wrapping_add(i * 97)) % 12_000)
        .find(|&base| (0..7).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()))
        .expect("seven consecutive free ports")
}

/// One `plexus node` process of a multi-node network: its folder, addresses and
/// `KEY@P2P` bootstrapper.
pub(crate) struct Node {
    pub(crate) dir: PathBuf,
    pub(crate) api: String,
    pub(crate) p2p: String,
    pub(crate) bootstrapper: String,
    pub(crate) service: Option<Service>,
}

impl Node {
    /// Make its key (`plexus node --show-key`), as an operator would.
    pub(crate) fn create(dir: PathBuf) -> Self {
        let p2p = format!("127.0.0.1:{}", free_port());
        let shown = json(&ok(Command::new(env!("CARGO_BIN_EXE_plexus"))
            .args(["--json", "node", "--dir"])
            .arg(&dir)
            .args(["--p2p", &p2p, "--show-key"])));
        Self {
            dir,
            api: format!("127.0.0.1:{}", free_port()),
            p2p,
            bootstrapper: shown["bootstrapper"].as_str().unwrap().to_owned(),
            service: None,
        }
    }

    pub(crate) fn key(&self) -> &str {
        self.bootstrapper.split('@').next().unwrap()
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.api)
    }

    pub(crate) fn pid(&self) -> Pid {
        let service = self.service.as_ref().expect("running");
        Pid::from_raw(i32::try_from(service.pid()).expect("pid"))
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default()
    }

    pub(crate) fn start(
        &mut self,
        genesis: &Path,
        hash: &str,
        bootstrappers: &[&str],
        extra: &[&str],
    ) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plexus"));
        cmd.args(["node", "--dir"])
            .arg(&self.dir)
            .arg("--genesis")
            .arg(genesis)
            .args([
                "--genesis-hash",
                hash,
                "--api",
                &self.api,
                "--p2p",
                &self.p2p,
            ])
            .args(["--local-p2p", "--no-data-store"])
            .args(extra)
            .env("PLEXUS_LOG", "warn,plexus=info");
        for b in bootstrappers {
            cmd.args(["--bootstrapper", b]);
        }
        let parent = self.dir.parent().expect("parent");
        let name = self.dir.file_name().and_then(|n| n.to_str()).expect("name");
        self.service = Some(Service::spawn(cmd, parent, name));
    }
}

/// Write `root/genesis.json` as operators do (`plexus genesis init` with `init`, then
/// `add-validator` for each of `validators`) and return it with the hash they compare
/// (`plexus genesis show`).
pub(crate) fn genesis_file(root: &Path, init: &[&str], validators: &[&str]) -> (PathBuf, String) {
    let exe = env!("CARGO_BIN_EXE_plexus");
    let genesis = root.join("genesis.json");
    ok(Command::new(exe)
        .args(["genesis", "init"])
        .args(init)
        .arg("--file")
        .arg(&genesis));
    for key in validators {
        ok(Command::new(exe)
            .args(["genesis", "add-validator", key, "--file"])
            .arg(&genesis));
    }
    let hash = json(&ok(Command::new(exe)
        .args(["--json", "genesis", "show", "--file"])
        .arg(&genesis)))["hash"]
        .as_str()
        .expect("a hash")
        .to_owned();
    (genesis, hash)
}

/// The finalized height and connected peers `url` reports, if it answers.
pub(crate) fn status(url: &str) -> Option<(u64, usize)> {
    let body = reqwest::blocking::Client::new()
        .get(format!("{url}/v1/status"))
        .timeout(Duration::from_secs(2))
        .send()
        .ok()?
        .json::<serde_json::Value>()
        .ok()?;
    let node = &body["node"];
    Some((
        node["finalized_height"].as_u64()?,
        usize::try_from(node["peers"].as_u64()?).ok()?,
    ))
}

pub(crate) fn wait_for(
    what: &str,
    limit: Duration,
    nodes: &[Node],
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            let logs: Vec<String> = nodes
                .iter()
                .map(|n| {
                    let log = n.log();
                    let lines: Vec<&str> = log.lines().collect();
                    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
                    format!("--- {}:\n{tail}", n.dir.display())
                })
                .collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A small deterministic generator for randomized tests, so a failing seed can be
/// replayed.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    /// Seeded from the environment variable `var` when set, else from the clock; the
    /// seed is printed with the variable to set to replay it.
    pub(crate) fn from_env(var: &str) -> Self {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
            });
        eprintln!("seed {seed} (set {var} to replay)");
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `count` faucet transfers with consecutive nonces from `nonce`, each of 1,000 to
/// 1,999 base units to one of `recipients` labelled accounts; `counter` numbers them
/// across bursts.
pub(crate) fn faucet_burst(
    chain: &plexus_client::wire::Chain,
    nonce: u64,
    count: u64,
    counter: &mut u64,
    recipients: u64,
) -> Vec<plexus_types::SignedTransaction> {
    let faucet = plexus_ledger::genesis::dev_faucet();
    (0..count)
        .map(|k| {
            *counter += 1;
            let to =
                plexus_types::Keypair::from_label(&format!("recipient-{}", *counter % recipients));
            plexus_types::Transaction {
                chain_id: chain.chain_id,
                sender: faucet.account(),
                nonce: nonce + k,
                fee: chain.params.min_fee,
                payload: plexus_types::Payload::Transfer {
                    to: to.account(),
                    amount: 1_000 + *counter % 1_000,
                },
            }
            .sign(&faucet)
        })
        .collect()
}
