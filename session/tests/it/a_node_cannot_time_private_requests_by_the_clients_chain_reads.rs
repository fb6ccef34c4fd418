//! The node a client reads the chain from sees its address. Were every private
//! request preceded by reads of the provider list, the node could time a user's
//! requests (and join them with what a relay or a provider sees). The session reads
//! the list at most every `DIRECTORY_TTL`, and once it has one, in the background: a
//! burst of requests costs the node's view nothing, and an expired list still answers
//! at once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, extract::Request, http::StatusCode};
use plexus_client::{Client, trust::TrustAnchor};
use plexus_privacy::oblivious::GatewayKey;
use plexus_session::{DIRECTORY_TTL, Session, store::CreditStore};
use plexus_types::Keypair;

use crate::support::{serve, serving_provider, start_node};

/// Each read of a slow node takes this long.
const SLOW: Duration = Duration::from_secs(3);

/// The node's API, forwarded, counting every request; each takes [`SLOW`] once `slow`.
async fn counting_node(honest: String, reads: Arc<AtomicUsize>, slow: Arc<AtomicBool>) -> String {
    let app = Router::new().fallback(move |request: Request| {
        let (honest, reads, slow) = (honest.clone(), reads.clone(), slow.clone());
        async move {
            reads.fetch_add(1, Ordering::SeqCst);
            if slow.load(Ordering::SeqCst) {
                tokio::time::sleep(SLOW).await;
            }
            let path = request.uri().to_string();
            let answer = reqwest::get(format!("{honest}{path}")).await.unwrap();
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            (status, answer.bytes().await.unwrap())
        }
    });
    serve(app).await
}

#[test]
fn a_node_cannot_time_private_requests_by_the_clients_chain_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (api, _stop) = start_node(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let honest_url = format!("http://{api}");
        let honest = Client::new(&honest_url).unwrap();
        let (coldkey, provider) = (Keypair::from_label("owner"), Keypair::from_label("p"));
        let key = GatewayKey::derive(1, &[1; 32]).unwrap();
        serving_provider(&honest, &coldkey, &provider, &key).await;

        let anchor = TrustAnchor::served(&honest).await.unwrap();
        let reads = Arc::new(AtomicUsize::new(0));
        let slow = Arc::new(AtomicBool::new(false));
        let node = counting_node(honest_url, reads.clone(), slow.clone()).await;
        let node = Client::new(&node).unwrap();
        let store = CreditStore::open(&dir.path().join("credits.enc"), &coldkey).unwrap();
        let session = Session::new(node, "http://127.0.0.1:9".into(), store, anchor);

        // What `plexus proxy` does per request before sealing: list the models, pick.
        let first = session.models().await.unwrap();
        assert_eq!(first, ["m"]);
        let one_read = reads.load(Ordering::SeqCst);
        assert!(one_read > 0);
        for _ in 0..50 {
            assert_eq!(session.models().await.unwrap(), first);
            assert!(
                session
                    .provider(&provider.account())
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        assert_eq!(
            reads.load(Ordering::SeqCst),
            one_read,
            "a burst of requests read nothing more"
        );

        // Expired, the list still answers while it is read again behind it: a request
        // that waited for the (now slow) node would take several reads of SLOW each.
        tokio::time::sleep(DIRECTORY_TTL + Duration::from_millis(100)).await;
        slow.store(true, Ordering::SeqCst);
        let started = Instant::now();
        assert_eq!(session.models().await.unwrap(), first);
        let waited = started.elapsed();
        assert!(waited < SLOW, "the request waited {waited:?} for the chain");
        let deadline = Instant::now() + 20 * SLOW;
        while reads.load(Ordering::SeqCst) < 2 * one_read {
            assert!(Instant::now() < deadline, "the list was never read again");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}
