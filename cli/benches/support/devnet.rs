//! What the devnet benchmarks share: start `plexus devnet` on free loopback ports and
//! wait for its ready file.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// Ports a devnet takes from its base: node, p2p, relay, provider, issuer, proxy and
/// the provider's plain API.
const DEVNET_PORTS: u16 = 7;

/// A base with [`DEVNET_PORTS`] consecutive free loopback ports.
pub(crate) fn free_base() -> u16 {
    for base in (21000..60000).step_by(97) {
        if (0..DEVNET_PORTS).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no {DEVNET_PORTS} consecutive free ports");
}

/// `plexus devnet` in `dir` on ports from `base`.
pub(crate) fn start(dir: &std::path::Path, base: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(["devnet", "--dir"])
        .arg(dir)
        .args(["--port-base", &base.to_string(), "--ready-file"])
        .arg(dir.join("ready.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The devnet's ready file, once written (it must be within 600 s).
pub(crate) fn wait_ready(dir: &std::path::Path, child: &mut Child) -> Value {
    let path = dir.join("ready.json");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return serde_json::from_str(&text).unwrap();
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "plexus devnet exited; see {}/logs",
            dir.display()
        );
        assert!(Instant::now() < deadline, "devnet not ready in 600 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}
