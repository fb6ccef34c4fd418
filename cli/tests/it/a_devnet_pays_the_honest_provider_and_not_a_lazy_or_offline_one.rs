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
    time::{Duration, Instant},
};

use crate::support::{Devnet, free_port, json, ok, wait_until};

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

/// The validator's probes: conversations of the shapes clients send (single and
/// multi-turn, with and without a system prompt, greedy and sampled, streamed and
/// whole), with short answers. The private corpus drawn from ShareGPT asks for up to
/// 2,048 tokens, and four models sharing two cores in a debug build then need minutes
/// per round; this test is about the incentive loop, not the corpus.
fn short_corpus() -> String {
    let asks = [
        "What is the capital of France?",
        "Give me two tips for sleeping better.",
        "Write one sentence about the sea.",
        "Explain what a prime number is.",
        "Translate 'good morning' into Spanish.",
        "Suggest a name for a grey cat.",
        "How do I boil an egg?",
        "What does HTTP stand for?",
        "Summarize the plot of Cinderella in one line.",
        "Why is the sky blue?",
        "Write a haiku about autumn.",
        "List three fruits that are red.",
    ];
    let system = serde_json::json!({"role": "system", "content": "You are a helpful assistant."});
    let mut lines = String::new();
    for (i, ask) in asks.iter().enumerate() {
        let user = serde_json::json!({"role": "user", "content": ask});
        let messages = match i % 3 {
            0 => vec![user],
            1 => vec![system.clone(), user],
            _ => vec![
                serde_json::json!({"role": "user", "content": "Hello!"}),
                serde_json::json!({"role": "assistant", "content": "Hello! How can I help you today?"}),
                user,
            ],
        };
        // Greedy, sampled at 0.7, and the server's default temperature (drawn by the
        // validator from the client distribution).
        let mut line = serde_json::json!({"messages": messages, "max_tokens": 40 + 8 * (i % 4)});
        match i % 4 {
            0 | 1 => line["temperature"] = 0.into(),
            2 => line["temperature"] = 0.7.into(),
            _ => {}
        }
        if i % 2 == 0 {
            line["stream"] = true.into();
        }
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    lines
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
    let corpus = dir.path().join("corpus.jsonl");
    std::fs::write(&corpus, short_corpus()).unwrap();
    let devnet = Devnet::start_with(
        dir.path(),
        &["--validator-corpus", corpus.to_str().unwrap()],
    );
    let netuid = "1";
    // The port of the URL on chain: the provider's published listener (its gateway).
    let honest_port = devnet.port("gateway");
    let declared = devnet.declared_weights(netuid);
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
        Duration::from_secs(1200),
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
        Duration::from_secs(1200),
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
    assert_eq!(
        lazy.incentive,
        0,
        "the lazy provider is paid nothing now\n{}",
        logs()
    );
    assert!(
        lazy.stake * 10 < honest.stake,
        "the lazy provider earned about nothing over the run: {seen:?}"
    );
    assert!(gone.incentive < before[2].incentive, "{seen:?}");
}
