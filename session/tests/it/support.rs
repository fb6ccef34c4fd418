//! What the session's tests share: an in-process node and loopback servers.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::StatusCode, response::IntoResponse};
use plexus_client::Client;
use plexus_node::{ApiOptions, NodeConfig};
use plexus_types::{Keypair, Payload};
use tokio::sync::oneshot;

/// A free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A one-validator node with its API, in a thread of its own; dropping the sender
/// stops it.
pub(crate) fn start_node(dir: &std::path::Path) -> (SocketAddr, oneshot::Sender<()>) {
    let mut config = NodeConfig::load(dir, None).unwrap();
    config.p2p.listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (stop, stopped) = oneshot::channel::<()>();
    let (bound_tx, bound_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let options = ApiOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_files: None,
            limits: plexus_api::ApiConfig::default(),
            dev: false,
            metrics: None,
        };
        plexus_node::serve_api(
            config,
            options,
            move |addr| {
                let _ = bound_tx.send(addr);
            },
            async {
                let _ = stopped.await;
            },
        )
        .unwrap();
    });
    (
        bound_rx.recv_timeout(Duration::from_secs(60)).unwrap(),
        stop,
    )
}

/// Serve `app` on a loopback port; its base URL.
pub(crate) async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Sign `payload` with `key` and wait until a block includes it.
pub(crate) async fn send(node: &Client, key: &Keypair, payload: Payload) {
    node.send_tx(key, payload, None, Duration::from_secs(60))
        .await
        .unwrap();
}

/// A relay that lists `listed` hotkeys as targets and only counts the requests it is
/// asked to forward (each answered 502).
pub(crate) async fn counting_relay(listed: &[String], count: Arc<AtomicUsize>) -> String {
    let targets = serde_json::json!({
        "count": listed.len(),
        "targets": listed
            .iter()
            .map(|h| serde_json::json!({"hotkey": h, "url": "http://127.0.0.1:9"}))
            .collect::<Vec<_>>(),
    });
    let app = Router::new()
        .route(
            "/v1/relay/targets",
            axum::routing::get(move || {
                let targets = targets.clone();
                async move { axum::Json(targets) }
            }),
        )
        .fallback(
            |State(count): State<Arc<AtomicUsize>>, _body: Bytes| async move {
                count.fetch_add(1, Ordering::SeqCst);
                StatusCode::BAD_GATEWAY.into_response()
            },
        )
        .with_state(count);
    serve(app).await
}

/// Fund `coldkey` from the dev faucet, create an inference subnet, register
/// `provider` on it and serve model "m" with the OHTTP key `key`; the subnet.
pub(crate) async fn serving_provider(
    node: &Client,
    coldkey: &Keypair,
    provider: &Keypair,
    key: &plexus_privacy::oblivious::GatewayKey,
) -> plexus_types::Netuid {
    use plexus_types::{Endpoint, Hash, Hyperparams, Mechanism, PLX};
    let fund = Payload::Transfer {
        to: coldkey.account(),
        amount: 10_000 * PLX,
    };
    send(node, &plexus_ledger::genesis::dev_faucet(), fund).await;
    let subnet = Payload::CreateSubnet {
        name: "inference".into(),
        mechanism: Mechanism::Inference,
        hyperparams: Hyperparams::default(),
    };
    send(node, coldkey, subnet).await;
    let netuid = node.subnets().await.unwrap().subnets[0].netuid;
    let register = Payload::Register {
        netuid,
        hotkey: provider.account(),
    };
    send(node, coldkey, register).await;
    let endpoint = Endpoint {
        url: "http://127.0.0.1:9".into(),
        ohttp_keys: plexus_privacy::oblivious::encode_key_list(&[key.public_config().unwrap()])
            .unwrap(),
        model: "m".into(),
        weights_hash: Hash::ZERO,
        operator: "provider".into(),
    };
    send(node, provider, Payload::Serve { netuid, endpoint }).await;
    netuid
}
