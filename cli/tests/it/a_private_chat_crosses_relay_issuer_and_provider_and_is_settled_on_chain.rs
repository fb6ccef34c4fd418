//! The private path end to end on a local network, through the binary: a provider
//! serving the default model, a relay, a validator's credit issuer, a user who buys
//! credits, chats with `plexus chat` and runs the official `openai` package against
//! `plexus proxy`. Taps in front of the relay and the provider record every byte each
//! of them receives: the relay never sees the prompt or the answer, the provider never
//! sees the user's wallet. The provider's redeemed tokens are settled on chain.

use std::{
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;

use crate::support::{
    PrivateNet, Service, clients_venv, free_port, json, ok, wait_until, workspace,
};

/// A TCP forwarder that records what passes in each direction.
struct Tap {
    port: u16,
    to_upstream: Arc<Mutex<Vec<u8>>>,
    to_client: Arc<Mutex<Vec<u8>>>,
}

fn pump(mut from: TcpStream, mut to: TcpStream, log: &Mutex<Vec<u8>>) {
    let mut buf = [0u8; 16 << 10];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                log.lock().unwrap().extend_from_slice(&buf[..n]);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

impl Tap {
    fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (to_upstream, to_client) = (Arc::default(), Arc::default());
        let (up, down) = (Arc::clone(&to_upstream), Arc::clone(&to_client));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                    continue;
                };
                let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let (up, down) = (Arc::clone(&up), Arc::clone(&down));
                std::thread::spawn(move || pump(client, upstream, &up));
                std::thread::spawn(move || pump(u2, c2, &down));
            }
        });
        Self {
            port,
            to_upstream,
            to_client,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> (Vec<u8>, Vec<u8>) {
        (
            self.to_upstream.lock().unwrap().clone(),
            self.to_client.lock().unwrap().clone(),
        )
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let hay = String::from_utf8_lossy(haystack).to_ascii_lowercase();
    hay.contains(&needle.to_ascii_lowercase())
}

#[test]
fn a_private_chat_crosses_relay_issuer_and_provider_and_is_settled_on_chain() {
    let (python, _) = clients_venv();
    // The provider publishes a URL that leads through a tap.
    let mut provider_tap = None;
    let net = PrivateNet::start(|port| {
        let tap = Tap::start(port);
        let url = tap.url();
        provider_tap = Some(tap);
        url
    });
    let provider_tap = provider_tap.unwrap();
    let cli = || net.cli();
    let dir = net.dir();
    let relay_port = net.relay_port;
    let provider = &net.provider;
    let http = reqwest::blocking::Client::new();
    let relay_tap = Tap::start(relay_port);

    // A user buys credits and chats.
    let alice_address = net.user("alice", 110, 100, &relay_tap.url());
    let store = net.net.wallets.join("alice").join("credits.enc");
    let backup = std::fs::read(&store).unwrap();
    let prompt = "What is the capital of France?";
    let said = json(&ok(cli()
        .args([
            "--json",
            "chat",
            "--name",
            "alice",
            "--max-tokens",
            "24",
            "--message",
            prompt,
        ])
        .args(["--relay", &relay_tap.url()])));
    let answer = said["answer"].as_str().unwrap().to_owned();
    assert!(answer.contains("Paris"), "{said}");
    assert_eq!(said["credits"], 99);

    // A store restored from a backup holds the token just spent: the provider refuses
    // it (409) and the turn is paid again with another.
    std::fs::write(&store, &backup).unwrap();
    let again = json(&ok(cli()
        .args(["--json", "chat", "--name", "alice", "--max-tokens", "24"])
        .args(["--message", prompt, "--relay", &relay_tap.url()])));
    assert_eq!(again["answer"], said["answer"]);
    assert_eq!(again["credits"], 98, "the spent token is dropped: {again}");

    // Any OpenAI client becomes private through `plexus proxy`.
    let proxy_port = free_port();
    let mut cmd = cli();
    cmd.args([
        "proxy",
        "--name",
        "alice",
        "--listen",
        &format!("127.0.0.1:{proxy_port}"),
    ])
    .args(["--relay", &relay_tap.url()]);
    let proxy = Service::spawn(cmd, dir, "proxy");
    wait_until(
        "the proxy",
        Duration::from_secs(30),
        || {
            http.get(format!("http://127.0.0.1:{proxy_port}/v1/models"))
                .send()
                .is_ok_and(|r| r.status().is_success())
        },
        &|| proxy.log(),
    );
    let out = Command::new(&python)
        .arg(workspace().join("cli/tests/it/py/openai_client.py"))
        .arg(format!("http://127.0.0.1:{proxy_port}/v1"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the openai client failed:\n{}\nproxy log:\n{}\nprovider log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        proxy.log(),
        provider.log()
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["models"][0], "SmolLM2-135M-Instruct");
    let chat = seen["chat"].as_array().unwrap();
    let first = chat[0]["content"].as_str().unwrap();
    assert!(first.contains("Paris"), "{seen}");
    assert_eq!(chat[0], chat[1]);
    assert_eq!(seen["stream"]["content"].as_str(), Some(first));
    assert!(seen["stream"]["chunks"].as_u64().unwrap() > 1);
    assert_eq!(seen["stream"]["usage"], chat[0]["usage"]);
    assert!(!seen["completion"]["text"].as_str().unwrap().is_empty());
    assert_eq!(seen["unknown_model_error"]["code"], "model_not_found");
    // Logprobs, penalties and several choices work privately too.
    assert_eq!(
        seen["logprobs"]["tokens"].as_array().unwrap().len() as u64,
        seen["logprobs"]["completion_tokens"].as_u64().unwrap(),
        "{seen}"
    );
    assert_eq!(seen["choices"]["indexes"], serde_json::json!([0, 1, 2]));
    assert_eq!(
        seen["streamed_choices"]["contents"],
        seen["choices"]["contents"]
    );
    // 2 chat turns + 2 chats + 1 stream + 1 completion + 7 for logprobs, penalties
    // and choices (each under 512 tokens: one credit), and the token spent twice.
    let balance = json(&ok(
        cli().args(["--json", "credits", "balance", "--name", "alice"])
    ));
    assert_eq!(balance["credits"], 87, "{balance}");

    // The provider settles what it redeemed; the chain shows it against the escrow.
    wait_until(
        "settlement",
        Duration::from_secs(60),
        || {
            let issuers = json(&ok(cli().args(["--json", "credits", "issuers"])));
            issuers["issuers"][0]["keys"][0]["tokens_settled"].as_u64() == Some(13)
        },
        &|| provider.log(),
    );
    let issuers = json(&ok(cli().args(["--json", "credits", "issuers"])));
    let key = &issuers["issuers"][0]["keys"][0];
    let price = issuers["credit_price"].as_u64().unwrap();
    assert_eq!(key["deposited"].as_u64(), Some(100 * price));
    assert_eq!(key["settled"].as_u64(), Some(13 * price));

    // What each party saw. The relay: neither the prompt nor the answer, in either
    // direction. The provider: requests from the relay only, with no wallet id and no
    // forwarding headers.
    let (to_relay, from_relay) = relay_tap.seen();
    assert!(to_relay.len() > 10_000, "the tap saw the traffic");
    for text in [prompt, &answer, first, "capital of France", "Paris"] {
        assert!(!contains(&to_relay, text), "the relay received {text:?}");
        assert!(
            !contains(&from_relay, text),
            "the relay forwarded {text:?} in the clear"
        );
    }
    let (to_provider, _) = provider_tap.seen();
    assert!(
        contains(&to_provider, "message/ohttp"),
        "the provider's tap saw the traffic"
    );
    assert!(!alice_address.is_empty());
    for text in [
        alice_address.as_str(),
        "x-forwarded",
        "forwarded:",
        "user-agent",
        "cookie",
    ] {
        assert!(
            !contains(&to_provider, text),
            "the provider received {text:?}"
        );
    }
    drop(proxy);
}
