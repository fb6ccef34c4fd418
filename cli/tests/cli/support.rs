//! Helpers: run the binary, parse its JSON.

use std::{path::PathBuf, process::Command};

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
    pub(crate) child: std::process::Child,
    pub(crate) dir: PathBuf,
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
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("node.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_plexus"))
            .args(["node", "--dir"])
            .arg(dir.join("node"))
            .args(["--api", &api, "--p2p", p2p])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the node starts");
        let node = Self {
            child,
            dir: dir.to_path_buf(),
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
        let log = std::fs::read_to_string(self.dir.join("node.log")).unwrap_or_default();
        panic!("the node did not become ready in {timeout:?}; its log:\n{log}");
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `plexus provider` child process on a free loopback port, killed on drop.
pub(crate) struct ProviderProcess {
    pub(crate) child: std::process::Child,
    pub(crate) url: String,
    pub(crate) log: PathBuf,
}

impl ProviderProcess {
    /// Start `plexus provider` with `args` (plus `--listen` on a free port), logging to
    /// `dir/provider.log`, and wait until it serves `/v1/models`.
    pub(crate) fn start(mut cmd: Command, dir: &std::path::Path, args: &[&str]) -> Self {
        let listen = format!("127.0.0.1:{}", free_port());
        let log_path = dir.join(format!("provider-{}.log", listen.replace(':', "-")));
        let log = std::fs::File::create(&log_path).unwrap();
        let child = cmd
            .arg("provider")
            .args(["--listen", &listen, "--threads", "1"])
            .args(args)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the provider starts");
        let mut provider = Self {
            child,
            url: format!("http://{listen}"),
            log: log_path,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        let http = reqwest::blocking::Client::new();
        loop {
            if http
                .get(format!("{}/v1/models", provider.url))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return provider;
            }
            let exited = provider.child.try_wait().unwrap();
            if exited.is_some() || std::time::Instant::now() > deadline {
                let log = std::fs::read_to_string(&provider.log).unwrap_or_default();
                panic!("the provider did not start ({exited:?}); its log:\n{log}");
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// Resident memory of the provider process, in KiB (Linux).
    pub(crate) fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

impl Drop for ProviderProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The default chat model as `scripts/setup.sh` installs it.
pub(crate) fn default_model() -> PathBuf {
    let path = plexus_inference::models::default_chat_model();
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh to install the default models",
        path.display()
    );
    path
}

/// A Python venv under the target directory with `packages` installed from PyPI,
/// built on first use (into a temporary folder, then renamed, so a half-built venv
/// is never used). Returns its python.
pub(crate) fn python_venv(name: &str, packages: &[&str]) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = dir.join("bin").join("python");
    if python.is_file() {
        return python;
    }
    let building = dir.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&building)
        .status()
        .expect("python3 runs (scripts/setup.sh installs it)");
    assert!(status.success(), "python3 -m venv failed");
    let status = Command::new(building.join("bin").join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages)
        .status()
        .expect("pip runs");
    assert!(status.success(), "pip install {packages:?} failed");
    // Another test may have won the race; either venv is complete.
    if std::fs::rename(&building, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    python
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
