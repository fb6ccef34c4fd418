//! Every long-running service reads its settings from a TOML file alone (`--config`),
//! flags and environment variables win over the file, and a malformed file or an
//! unknown key is refused with the file, the line and the key.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use crate::support::{Service, fails, free_port, ok, plexus};

const SERVICES: [&str; 6] = ["node", "provider", "relay", "issuer", "validator", "proxy"];

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// GET `url` until it answers 200, or panic with `service`'s log.
fn wait_for(url: &str, service: &Service, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if reqwest::blocking::get(url).is_ok_and(|r| r.status().is_success()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{url} never answered; the log:\n{}", service.log());
}

#[test]
fn every_service_starts_from_a_toml_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let wallets = dir.path().join("wallets");
    let (api, p2p) = (free_port(), free_port());
    let node_file = write(
        dir.path(),
        "node.toml",
        &format!(
            "dir = {:?}\napi = \"127.0.0.1:{api}\"\np2p = \"127.0.0.1:{p2p}\"\nno_data_store = true\n\n[mempool]\nmax_txs = 500\n",
            dir.path().join("node").display().to_string()
        ),
    );
    let mut cmd = plexus(&wallets);
    cmd.args(["node", "--config", &node_file]);
    let node = Service::spawn(cmd, dir.path(), "node");
    let node_url = format!("http://127.0.0.1:{api}");
    wait_for(
        &format!("{node_url}/v1/status"),
        &node,
        Duration::from_secs(60),
    );

    // The relay finds the node through the file's `node` key, not a flag.
    let relay_port = free_port();
    let relay_file = write(
        dir.path(),
        "relay.toml",
        &format!(
            "node = \"{node_url}\"\nlisten = \"127.0.0.1:{relay_port}\"\nrefresh_secs = 1\nallow_private_targets = true\n"
        ),
    );
    let mut cmd = plexus(&wallets);
    cmd.args(["relay", "--config", &relay_file]);
    let relay = Service::spawn(cmd, dir.path(), "relay");
    wait_for(
        &format!("http://127.0.0.1:{relay_port}/healthz"),
        &relay,
        Duration::from_secs(30),
    );

    // The provider serves the default model off chain from its file.
    let provider_port = free_port();
    let provider_file = write(
        dir.path(),
        "provider.toml",
        &format!("listen = \"127.0.0.1:{provider_port}\"\nno_embeddings = true\nqueue = 8\n"),
    );
    let mut cmd = plexus(&wallets);
    cmd.args(["provider", "--config", &provider_file]);
    let provider = Service::spawn(cmd, dir.path(), "provider");
    wait_for(
        &format!("http://127.0.0.1:{provider_port}/v1/models"),
        &provider,
        Duration::from_secs(120),
    );

    // The ones that need a funded wallet show what they would run with.
    let validator_file = write(
        dir.path(),
        "validator.toml",
        &format!("node = \"{node_url}\"\nnetuid = 3\nthreads = 2\nprobe_timeout_secs = 30\n"),
    );
    let shown =
        ok(plexus(&wallets).args(["validator", "--config", &validator_file, "--print-config"]));
    assert!(
        shown.contains("netuid = 3") && shown.contains("probe_timeout_secs = 30"),
        "{shown}"
    );
    assert!(shown.contains(&format!("node = \"{node_url}\"")), "{shown}");
    // A flag wins over the file, and the environment over the file too.
    let shown = ok(plexus(&wallets)
        .env("PLEXUS_RELAY", "http://127.0.0.1:9")
        .args([
            "validator",
            "--config",
            &validator_file,
            "--threads",
            "4",
            "--print-config",
        ]));
    assert!(shown.contains("threads = 4"), "{shown}");
    assert!(shown.contains("relay = \"http://127.0.0.1:9\""), "{shown}");
    for service in ["issuer", "proxy"] {
        let file = write(
            dir.path(),
            &format!("{service}.toml"),
            "listen = \"127.0.0.1:9\"\n",
        );
        let shown = ok(plexus(&wallets).args([service, "--config", &file, "--print-config"]));
        assert!(
            shown.contains("listen = \"127.0.0.1:9\""),
            "{service}: {shown}"
        );
    }
    drop((node, relay, provider));
}

#[test]
fn a_malformed_file_or_an_unknown_key_is_refused_with_its_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let wallets = dir.path().join("wallets");
    for service in SERVICES {
        let file = write(
            dir.path(),
            &format!("{service}.toml"),
            "# settings\n\nlisten_address = \"127.0.0.1:1\"\n",
        );
        let stderr = fails(plexus(&wallets).args([service, "--config", &file]));
        assert!(stderr.contains(&file), "{service}: {stderr}");
        assert!(stderr.contains("line 3"), "{service}: {stderr}");
        assert!(stderr.contains("listen_address"), "{service}: {stderr}");

        let file = write(dir.path(), &format!("{service}-bad.toml"), "[unclosed\n");
        let stderr = fails(plexus(&wallets).args([service, "--config", &file]));
        assert!(
            stderr.contains(&file) && stderr.contains("line 1"),
            "{service}: {stderr}"
        );

        let stderr =
            fails(plexus(&wallets).args([service, "--config", "/nonexistent/plexus.toml"]));
        assert!(
            stderr.contains("/nonexistent/plexus.toml"),
            "{service}: {stderr}"
        );
    }
}
