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
