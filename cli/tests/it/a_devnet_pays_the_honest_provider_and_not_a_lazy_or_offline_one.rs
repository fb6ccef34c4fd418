//! The incentive loop on a real devnet. `plexus devnet` brings its honest provider;
//! two more providers join the subnet: a lazy one that declares the default model's
//! weights but forwards every request to the same model cut to half its layers
//! (cheaper, plausible text, not the declared model), and an honest one that goes
//! offline once it earns. The devnet's validator probes all three over the private
//! path and sets weights every epoch; `plexus subnet show` must then show the honest
//! provider earning, the lazy one earning about nothing, and the offline one's
//! incentive decaying.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::support::{Service, answers, free_port, json, ok, wait_until};

/// `plexus devnet` as a child process; SIGINT on drop, so it stops its children.
struct Devnet {
    service: Service,
    dir: PathBuf,
    ready: Value,
}

impl Devnet {
    fn start(dir: &Path) -> Self {
        let base = free_base();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plexus"));
        cmd.args(["devnet", "--dir"])
            .arg(dir)
            .args(["--port-base", &base.to_string(), "--ready-file"])
            .arg(dir.join("ready.json"));
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
    fn cli(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plexus"));
        cmd.env("PLEXUS_HOME", &self.dir)
            .env("PLEXUS_MODELS", plexus_inference::models::models_dir())
            .env("PLEXUS_WALLETS", self.dir.join("wallets"))
            .env("PLEXUS_PASSWORD", "devnet")
            .env("PLEXUS_NODE", self.ready["node"].as_str().unwrap())
            .env("PLEXUS_RELAY", self.ready["relay"].as_str().unwrap());
        cmd
    }

    /// A provider started by this test, logging under the devnet's folder.
    fn provider(&self, name: &str, port: u16, args: &[&str]) -> Service {
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

/// The first of seven consecutive free loopback ports.
fn free_base() -> u16 {
    let start = free_port();
    (0..400u16)
        .map(|i| 20_000 + (start.wrapping_add(i * 97)) % 40_000)
        .find(|&base| (0..7).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()))
        .expect("seven consecutive free ports")
}

/// The default model cut to its first `layers` blocks, linked under the default
/// model's file name (so it is served as "SmolLM2-135M-Instruct").
fn lazy_model(dir: &Path, layers: u32) -> PathBuf {
    let built = plexus_testing::truncated_model(Path::new(env!("CARGO_TARGET_TMPDIR")), layers);
    let link = dir
        .join("lazy")
        .join(plexus_inference::models::DEFAULT_CHAT_FILE);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(built, &link).unwrap();
    link
}

/// Incentive, dividends and stake of the neuron whose endpoint is on `port`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Standing {
    incentive: u64,
    stake: u64,
}

fn standings(devnet: &Devnet, netuid: &str, ports: &[u16]) -> (u64, Vec<Standing>) {
    let show = json(&ok(devnet.cli().args(["--json", "subnet", "show", netuid])));
    let epoch = show["subnet"]["epoch_index"].as_u64().unwrap_or_default();
    let by_port: BTreeMap<u16, Standing> = show["metagraph"]["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| {
            let url = n["endpoint"]["url"].as_str()?;
            let port = url.rsplit(':').next()?.parse().ok()?;
            Some((
                port,
                Standing {
                    incentive: n["incentive"].as_u64()?,
                    stake: n["stake"].as_u64()?,
                },
            ))
        })
        .collect();
    let at = ports
        .iter()
        .map(|p| by_port.get(p).copied().unwrap_or_default())
        .collect();
    (epoch, at)
}

#[test]
fn a_devnet_pays_the_honest_provider_and_not_a_lazy_or_offline_one() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(dir.path());
    let netuid = "1";
    // The port of the URL on chain: the provider's published listener (its gateway).
    let honest_port: u16 = devnet.ready["gateway"]
        .as_str()
        .unwrap()
        .trim_end_matches("/ohttp")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let show = json(&ok(devnet.cli().args(["--json", "subnet", "show", netuid])));
    let declared = show["metagraph"]["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n["endpoint"]["weights_hash"].as_str())
        .expect("the devnet provider's weights on chain")
        .to_owned();
    eprintln!("devnet up in {:.0} s", started.elapsed().as_secs_f64());

    for hotkey in ["lazy", "offline"] {
        ok(devnet
            .cli()
            .args(["wallet", "create", "--name", "devnet", "--hotkey", hotkey]));
    }
    // The lazy provider: the cheap model behind a plain provider, and a provider on
    // chain that declares the default model's weights and forwards to it.
    let cheap_port = free_port();
    let model = lazy_model(dir.path(), 15);
    let _cheap = devnet.provider("cheap", cheap_port, &["--model", model.to_str().unwrap()]);
    let lazy_port = free_port();
    let _lazy = devnet.provider(
        "lazy",
        lazy_port,
        &[
            "--name",
            "devnet",
            "--hotkey",
            "lazy",
            "--netuid",
            netuid,
            "--upstream",
            &format!("http://127.0.0.1:{cheap_port}"),
            "--upstream-model",
            plexus_inference::models::DEFAULT_CHAT_MODEL,
            "--weights-hash",
            &declared,
        ],
    );
    let offline_port = free_port();
    let mut offline = devnet.provider(
        "offline",
        offline_port,
        &[
            "--name", "devnet", "--hotkey", "offline", "--netuid", netuid,
        ],
    );
    let ports = [honest_port, lazy_port, offline_port];
    let logs = || {
        let read = |name: &str| {
            std::fs::read_to_string(dir.path().join("logs").join(format!("{name}.log")))
                .unwrap_or_default()
        };
        format!(
            "validator log:\n{}\nsubnet:\n{}",
            read("validator"),
            ok(devnet.cli().args(["subnet", "show", netuid]))
        )
    };

    // Until the offline provider has earned while it was up.
    let mut seen = Vec::new();
    wait_until(
        "the honest providers to earn",
        Duration::from_secs(900),
        || {
            let (epoch, s) = standings(&devnet, netuid, &ports);
            seen.push((epoch, s.clone()));
            s[0].incentive > 0 && s[2].incentive > 0
        },
        &logs,
    );
    let (_, before) = seen.last().cloned().unwrap();
    eprintln!(
        "all earning after {:.0} s: {before:?}",
        started.elapsed().as_secs_f64()
    );
    offline.kill();
    let peak = before[2].incentive;
    wait_until(
        "the offline provider to decay",
        Duration::from_secs(900),
        || {
            let (epoch, s) = standings(&devnet, netuid, &ports);
            seen.push((epoch, s.clone()));
            s[2].incentive * 4 < peak * 3
        },
        &logs,
    );
    let (_, after) = seen.last().cloned().unwrap();
    eprintln!(
        "{}\nafter {:.0} s",
        ok(devnet.cli().args(["subnet", "show", netuid])),
        started.elapsed().as_secs_f64()
    );

    let [honest, lazy, gone] = [after[0], after[1], after[2]];
    assert!(honest.incentive > gone.incentive, "{after:?}");
    assert!(honest.stake > 0, "the honest provider earned: {after:?}");
    assert_eq!(lazy.incentive, 0, "the lazy provider is paid nothing now");
    assert!(
        lazy.stake * 10 < honest.stake,
        "the lazy provider earned about nothing over the run: {seen:?}"
    );
    assert!(gone.incentive < before[2].incentive, "{seen:?}");
}
