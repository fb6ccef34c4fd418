//! The directory is every neuron serving an endpoint URL on every subnet, read from
//! a node through the typed client; other sources (credit issuers) merge in; and a
//! node that fails leaves the last good directory in place, counted in the metrics.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use futures::future::BoxFuture;
use plexus_client::{
    Client,
    wire::{ErrorBody, ErrorDetail, Metagraph, Neuron, Subnet, Subnets},
};
use plexus_relay::{
    ChainTargets, Listed, Refresher, SourceError, TargetSource, source::listing_from_metagraphs,
};
use plexus_types::{AccountId, Endpoint, Hash, Hyperparams, Mechanism, Netuid};

use crate::support::{hotkey, local_config, relay, sample, serve};

fn subnet(netuid: Netuid) -> Subnet {
    Subnet {
        netuid,
        name: format!("subnet {netuid}"),
        mechanism: Mechanism::Inference,
        owner: hotkey(200),
        created_at: 0,
        hyperparams: Hyperparams::default(),
        n: 0,
        burn_price: 0,
        pending_emission: 0,
        last_epoch_block: 0,
        epoch_index: 0,
        next_epoch_block: 0,
        last_epoch_emission: 0,
    }
}

fn neuron(uid: u16, hotkey: AccountId, url: Option<&str>) -> Neuron {
    Neuron {
        uid,
        hotkey,
        coldkey: AccountId([250; 32]),
        stake: 0,
        rank: 0,
        trust: 0,
        consensus: 0,
        incentive: 0,
        dividends: 0,
        emission: 0,
        validator_trust: 0,
        validator_permit: false,
        last_update: 0,
        registered_at: 0,
        endpoint: url.map(|url| Endpoint {
            url: url.to_owned(),
            ohttp_keys: Vec::new(),
            model: "m".to_owned(),
            weights_hash: Hash::ZERO,
            operator: "op".to_owned(),
        }),
    }
}

/// Two subnets; hotkey 1 serves on both with different URLs (subnet 1 wins).
fn metagraphs() -> Vec<Metagraph> {
    vec![
        Metagraph {
            height: 7,
            netuid: 2,
            neurons: vec![
                neuron(0, hotkey(1), Some("http://127.0.0.1:9002/")),
                neuron(1, hotkey(3), Some("http://127.0.0.1:9003")),
                neuron(2, hotkey(4), Some("  ")),
            ],
        },
        Metagraph {
            height: 7,
            netuid: 1,
            neurons: vec![
                neuron(0, hotkey(1), Some("http://127.0.0.1:9001")),
                neuron(1, hotkey(2), None),
                neuron(2, hotkey(5), Some("ftp://bad.example")),
            ],
        },
    ]
}

#[derive(Clone)]
struct FakeNode {
    metagraphs: Arc<Vec<Metagraph>>,
    down: Arc<AtomicBool>,
}

fn down() -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "internal".to_owned(),
            message: "down".to_owned(),
        },
    };
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

async fn subnets(State(node): State<FakeNode>) -> Response {
    if node.down.load(Ordering::SeqCst) {
        return down();
    }
    let mut subnets: Vec<Subnet> = node.metagraphs.iter().map(|m| subnet(m.netuid)).collect();
    // Subnet 9 is listed but dissolved before its metagraph is read.
    subnets.push(subnet(9));
    Json(Subnets { height: 7, subnets }).into_response()
}

async fn metagraph(State(node): State<FakeNode>, Path(netuid): Path<Netuid>) -> Response {
    if node.down.load(Ordering::SeqCst) {
        return down();
    }
    match node.metagraphs.iter().find(|m| m.netuid == netuid) {
        Some(m) => Json(m.clone()).into_response(),
        None => {
            let body = ErrorBody {
                error: ErrorDetail {
                    code: "unknown_subnet".to_owned(),
                    message: format!("subnet {netuid} does not exist"),
                },
            };
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        }
    }
}

/// Credit issuers, as another engineer's source will list them.
struct Issuers(Vec<Listed>);

impl TargetSource for Issuers {
    fn name(&self) -> &'static str {
        "issuers"
    }
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Listed>, SourceError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

#[test]
fn the_listing_is_every_neuron_with_a_url_in_netuid_then_uid_order() {
    let listing = listing_from_metagraphs(&metagraphs());
    let got: Vec<(AccountId, &str)> = listing.iter().map(|l| (l.hotkey, l.url.as_str())).collect();
    assert_eq!(
        got,
        [
            (hotkey(1), "http://127.0.0.1:9001"),
            (hotkey(5), "ftp://bad.example"),
            (hotkey(1), "http://127.0.0.1:9002/"),
            (hotkey(3), "http://127.0.0.1:9003"),
        ]
    );
}

#[tokio::test]
async fn a_refresh_reads_every_subnet_merges_issuers_and_keeps_the_last_good_list() {
    let node = FakeNode {
        metagraphs: Arc::new(metagraphs()),
        down: Arc::default(),
    };
    let app = Router::new()
        .route("/v1/subnets", get(subnets))
        .route("/v1/subnets/{netuid}/metagraph", get(metagraph))
        .with_state(node.clone());
    let url = serve(app).await;
    let relay = relay(local_config(), &[]);
    let chain = Arc::new(ChainTargets::new(Client::new(&url).unwrap()));
    let issuers = Arc::new(Issuers(vec![
        Listed {
            hotkey: hotkey(3),
            url: "http://127.0.0.1:1".to_owned(),
        },
        Listed {
            hotkey: hotkey(6),
            url: "http://127.0.0.1:9006".to_owned(),
        },
    ]));
    let mut refresher = Refresher::new(&relay, chain).with_source(issuers);

    let report = refresher.refresh(&relay).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.targets, 3);
    assert_eq!(report.skipped.bad_url, 1, "the ftp URL");
    assert_eq!(
        report.skipped.conflicting, 2,
        "hotkey 1 on subnet 2, hotkey 3 as issuer"
    );
    let directory = relay.directory();
    let targets: Vec<(AccountId, &str)> = directory.iter().map(|(k, u)| (*k, u.as_str())).collect();
    assert_eq!(
        targets,
        [
            (hotkey(1), "http://127.0.0.1:9001/"),
            (hotkey(3), "http://127.0.0.1:9003/"),
            (hotkey(6), "http://127.0.0.1:9006/"),
        ]
    );

    // The node goes down: the directory stays, the failure is counted.
    node.down.store(true, Ordering::SeqCst);
    let report = refresher.refresh(&relay).await;
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, "chain");
    assert_eq!(report.targets, 3);
    assert_eq!(*relay.directory(), *directory);
    let metrics = relay.metrics();
    assert_eq!(
        sample(
            &metrics,
            "plexus_relay_directory_refresh_errors_total{source=\"chain\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(&metrics, "plexus_relay_directory_refreshes_total"),
        1.0
    );
    assert_eq!(sample(&metrics, "plexus_relay_directory_targets"), 3.0);

    // Back up: refreshed again.
    node.down.store(false, Ordering::SeqCst);
    assert!(refresher.refresh(&relay).await.failed.is_empty());
    assert_eq!(
        sample(&relay.metrics(), "plexus_relay_directory_refreshes_total"),
        2.0
    );
}

#[tokio::test]
async fn a_public_relay_leaves_private_registrations_out() {
    let relay = relay(plexus_relay::RelayConfig::default(), &[]);
    let source = Arc::new(Issuers(vec![
        Listed {
            hotkey: hotkey(1),
            url: "http://127.0.0.1:9001".to_owned(),
        },
        Listed {
            hotkey: hotkey(2),
            url: "https://gateway.example".to_owned(),
        },
    ]));
    let report = Refresher::new(&relay, source).refresh(&relay).await;
    assert_eq!((report.targets, report.skipped.bad_url), (1, 1));
    assert!(relay.directory().get(&hotkey(2)).is_some());
}
