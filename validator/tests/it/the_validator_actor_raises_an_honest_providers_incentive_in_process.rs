//! The whole inference subnet in one process: a node (consensus and API), a relay, a
//! credit issuer, a provider serving the default model and the validator actor with its
//! private-path session, no child processes. The validator buys credits, probes the
//! provider through the relay, re-executes a sample, commits and reveals its weights,
//! and the provider's incentive rises from zero.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use plexus_client::Client;
use plexus_inference::{
    Engine, LlamaConfig, LlamaEngine,
    models::{default_chat_model, weights_hash},
};
use plexus_node::{ApiOptions, NodeConfig};
use plexus_session::{Session, store::CreditStore};
use plexus_types::{Hyperparams, Keypair, Mechanism, Netuid, PLX, Payload};
use plexus_validator::service::{
    Config, Event, PrivatePath, ProbeError, Timed, Transport, Validator,
};
use tokio::sync::oneshot;

/// The operator's probe corpus: OpenAI chat request bodies, one per line.
const CORPUS: &str = r#"{"messages":[{"role":"user","content":"What is the capital of France?"}],"max_tokens":48}
{"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Give me two tips for sleeping better."}],"max_tokens":48,"temperature":0,"stream":false}
{"messages":[{"role":"user","content":"Name a fruit."},{"role":"assistant","content":"An apple."},{"role":"user","content":"Another one, please?"}],"max_tokens":32,"temperature":0,"stream":true}
{"model":"ignored","messages":[{"role":"user","content":"Write one sentence about the sea."}],"max_tokens":48,"temperature":0.7}
"#;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start a one-validator node with its API in a thread of its own (consensus brings
/// its own runtime); the API's address and the sender that stops it.
fn start_node(dir: &std::path::Path) -> (SocketAddr, oneshot::Sender<()>) {
    let mut config = NodeConfig::load(dir, None).unwrap();
    config.p2p.listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (stop, stopped) = oneshot::channel::<()>();
    let (bound_tx, bound_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let options = ApiOptions {
            listen: loopback(),
            data_files: None,
            limits: plexus_api::ApiConfig::default(),
            dev: false,
            metrics: None,
        };
        let on_listening = move |addr| {
            let _ = bound_tx.send(addr);
        };
        plexus_node::serve_api(config, options, on_listening, async {
            let _ = stopped.await;
        })
        .unwrap();
    });
    let addr = bound_rx.recv_timeout(Duration::from_secs(60)).unwrap();
    (addr, stop)
}

async fn send(node: &Client, key: &Keypair, payload: Payload) {
    node.send_tx(key, payload, None, Duration::from_secs(60))
        .await
        .unwrap();
}

/// Fund a coldkey, create an inference subnet without commit-reveal delays beyond one
/// epoch, register the provider and the validator, stake to the validator.
async fn set_up_subnet(
    node: &Client,
    coldkey: &Keypair,
    provider: &Keypair,
    validator: &Keypair,
) -> Netuid {
    let faucet = plexus_ledger::genesis::dev_faucet();
    send(
        node,
        &faucet,
        Payload::Transfer {
            to: coldkey.account(),
            amount: 10_000 * PLX,
        },
    )
    .await;
    send(
        node,
        coldkey,
        Payload::CreateSubnet {
            name: "in-process".into(),
            mechanism: Mechanism::Inference,
            hyperparams: Hyperparams::default(),
        },
    )
    .await;
    let netuid = node
        .subnets()
        .await
        .unwrap()
        .subnets
        .iter()
        .map(|s| s.netuid)
        .max()
        .unwrap();
    for hotkey in [provider, validator] {
        send(
            node,
            coldkey,
            Payload::Register {
                netuid,
                hotkey: hotkey.account(),
            },
        )
        .await;
    }
    send(
        node,
        coldkey,
        Payload::AddStake {
            hotkey: validator.account(),
            amount: 1_000 * PLX,
        },
    )
    .await;
    netuid
}

async fn wait_for_permit(node: &Client, netuid: Netuid, hotkey: &Keypair) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !node
        .metagraph(netuid)
        .await
        .unwrap()
        .neurons
        .iter()
        .any(|n| n.hotkey == hotkey.account() && n.validator_permit)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no validator permit"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn incentive(node: &Client, netuid: Netuid, hotkey: &Keypair) -> u16 {
    node.metagraph(netuid)
        .await
        .unwrap()
        .neurons
        .iter()
        .find(|n| n.hotkey == hotkey.account())
        .map_or(0, |n| n.incentive)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_validator_actor_raises_an_honest_providers_incentive_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let (api, stop_node) = start_node(&dir.path().join("node"));
    let node = Client::new(&format!("http://{api}")).unwrap();
    let coldkey = Keypair::from_seed([1; 32]);
    let provider_key = Keypair::from_seed([2; 32]);
    let validator_key = Keypair::from_seed([3; 32]);
    let netuid = set_up_subnet(&node, &coldkey, &provider_key, &validator_key).await;
    wait_for_permit(&node, netuid, &validator_key).await;

    let model = default_chat_model();
    let engine = Arc::new(LlamaEngine::load(&model, LlamaConfig::default()).unwrap());
    let provider = plexus_provider::ProviderService::start(
        plexus_provider::ServiceConfig {
            listen: loopback(),
            public_url: None,
            provider: plexus_provider::ProviderConfig::default(),
            on_chain: Some(plexus_provider::OnChain {
                node: node.clone(),
                netuid,
                coldkey: coldkey.clone(),
                hotkey: provider_key.clone(),
                data_dir: dir.path().join("provider"),
                settle_every: Duration::from_secs(2),
                tx_timeout: Duration::from_secs(60),
            }),
            api: plexus_provider::ApiAccess::default(),
            gateway: plexus_provider::private::GatewayLimits::default(),
        },
        engine.clone() as Arc<dyn Engine>,
        None,
    )
    .await
    .unwrap();
    let (stop_provider, provider_stopped) = oneshot::channel::<()>();
    tokio::spawn(provider.run(async {
        let _ = provider_stopped.await;
    }));
    let issuer = plexus_issuer::IssuerService::start(plexus_issuer::ServiceConfig {
        node: node.clone(),
        hotkey: validator_key.clone(),
        netuid,
        listen: loopback(),
        public_url: None,
        data_dir: dir.path().join("issuer"),
        tx_timeout: Duration::from_secs(60),
    })
    .await
    .unwrap();
    let (stop_issuer, issuer_stopped) = oneshot::channel::<()>();
    tokio::spawn(issuer.run(async {
        let _ = issuer_stopped.await;
    }));
    let relay = plexus_relay::RelayService::start(plexus_relay::ServiceConfig {
        listen: loopback(),
        relay: plexus_relay::RelayConfig {
            allow_private_targets: true,
            ..plexus_relay::RelayConfig::default()
        },
        node: node.clone(),
        refresh_every: Duration::from_secs(1),
        allow_origins: Vec::new(),
    })
    .await
    .unwrap();
    let relay_url = format!("http://{}", relay.local_addr());
    let (stop_relay, relay_stopped) = oneshot::channel::<()>();
    tokio::spawn(relay.run(async {
        let _ = relay_stopped.await;
    }));

    assert_eq!(incentive(&node, netuid, &provider_key).await, 0);
    let store = CreditStore::open(&dir.path().join("credits.enc"), &coldkey).unwrap();
    let anchor = plexus_client::trust::TrustAnchor::served(&node)
        .await
        .unwrap();
    let session = Session::new(node.clone(), relay_url, store, anchor);
    let corpus = dir.path().join("corpus.jsonl");
    std::fs::write(&corpus, CORPUS).unwrap();
    let validator = Validator::new(
        Config {
            netuid,
            hotkey: validator_key.clone(),
            declared: weights_hash(&model).unwrap(),
            seed: [9; 32],
            state_path: dir.path().join("validator/state.json"),
            commit_path: dir.path().join("validator/commit.json"),
            epochs: Some(3),
            // An operator's corpus (`--corpus`) of short requests, so the epochs stay
            // short on a test machine: multi-turn, system prompts, streamed and whole,
            // greedy and sampled (the default corpus is tested on its own).
            corpus: Some(corpus),
        },
        node.clone(),
        FirstPurchaseFails {
            inner: PrivatePath::new(session, coldkey.clone()),
            failed: std::sync::atomic::AtomicBool::new(false),
        },
        engine,
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    tokio::time::timeout(
        Duration::from_secs(600),
        validator.run(move |event| seen.lock().unwrap().push(event)),
    )
    .await
    .expect("three epochs within ten minutes")
    .unwrap();

    let events = events.lock().unwrap().clone();
    let probed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Probed { providers, .. } => Some(providers.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        probed
            .iter()
            .any(|r| r.hotkey == provider_key.account() && r.score > 0.0),
        "the provider answered the probes: {probed:?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Revealed { .. })),
        "a commit was revealed: {events:?}"
    );
    // The failed purchase cost an attempt, not the validator.
    assert!(
        events.iter().any(
            |e| matches!(e, Event::Retrying { error, .. } if error.contains("already waiting"))
        ),
        "the failed purchase was retried: {events:?}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while incentive(&node, netuid, &provider_key).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the incentive never rose"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for stop in [stop_provider, stop_issuer, stop_relay, stop_node] {
        let _ = stop.send(());
    }
}

/// The private path, but the first credit purchase fails as it does when another
/// transaction of the coldkey holds its nonce: the actor must try the epoch again, not
/// stop.
struct FirstPurchaseFails {
    inner: PrivatePath,
    failed: std::sync::atomic::AtomicBool,
}

impl Transport for FirstPurchaseFails {
    fn chat<'a>(
        &'a self,
        target: &'a plexus_session::providers::ProviderTarget,
        body: Vec<u8>,
        stream: bool,
    ) -> futures::future::BoxFuture<'a, Result<Timed, ProbeError>> {
        self.inner.chat(target, body, stream)
    }

    fn top_up<'a>(
        &'a self,
        targets: &'a [plexus_types::AccountId],
        need: u64,
    ) -> futures::future::BoxFuture<'a, Result<(), ProbeError>> {
        if !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Box::pin(async {
                Err(ProbeError::Refused {
                    status: 409,
                    body: "a transaction with this nonce is already waiting".into(),
                })
            });
        }
        self.inner.top_up(targets, need)
    }
}
