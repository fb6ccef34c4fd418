use std::{
    net::TcpListener,
    sync::mpsc,
    time::{Duration, Instant},
};

use plexus_node::{NodeConfig, NodeHandle, run_blocking};
use plexus_types::finality::verify_finality;

/// Check every committed block's finality certificate the way a light client does:
/// against its header digest, signed by the genesis validators.
async fn check_certificates(handle: &NodeHandle) -> usize {
    let genesis = handle.genesis();
    let validators: Vec<_> = genesis.validators.iter().map(|v| v.public_key).collect();
    let store = handle.store();
    let tip = handle.status().finalized_height;
    assert_eq!(
        handle.finalization(0).await,
        None,
        "genesis has no certificate"
    );
    let mut checked = 0;
    for height in 1..=tip {
        let header = store
            .header(height)
            .expect("store reads")
            .expect("committed");
        let cert = handle
            .finalization(height)
            .await
            .unwrap_or_else(|| panic!("no certificate for height {height}"));
        verify_finality(genesis.chain_id, &validators, &header.digest(), &cert)
            .unwrap_or_else(|e| panic!("height {height}: {e}"));
        // It proves this block only.
        if height > 1 {
            let parent = store.header(height - 1).expect("reads").expect("committed");
            assert!(
                verify_finality(genesis.chain_id, &validators, &parent.digest(), &cert).is_err()
            );
        }
        let mut forged = cert.clone();
        forged.view += 1;
        assert!(verify_finality(genesis.chain_id, &validators, &header.digest(), &forged).is_err());
        assert!(
            verify_finality(genesis.chain_id + 1, &validators, &header.digest(), &cert).is_err()
        );
        checked += 1;
    }
    assert_eq!(handle.finalization(tip + 1_000).await, None);
    checked
}

/// Run the node in `dir` until it has committed `target`, check every block's
/// certificate, and return the committed height it started from and the one it
/// stopped at.
fn run_until(config: NodeConfig, target: u64) -> (u64, u64) {
    let (sender, receiver) = mpsc::channel();
    run_blocking(config, move |handle| async move {
        let start = handle.status().finalized_height;
        let mut blocks = handle.subscribe();
        let deadline = tokio::time::sleep(Duration::from_secs(30));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                block = blocks.recv() => match block {
                    Ok(block) if block.height >= target => break,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => break,
                },
                () = &mut deadline => break,
            }
        }
        let checked = check_certificates(&handle).await;
        assert!(checked as u64 >= target.min(handle.status().finalized_height));
        let _ = sender.send((start, handle.status().finalized_height));
    })
    .expect("node runs");
    receiver.recv().expect("node reported")
}

#[test]
fn a_development_node_on_the_tokio_runtime_finalizes_blocks_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let configure = || {
        // No configuration: a development genesis for a fresh key, saved for reuse.
        let mut config = NodeConfig::load(dir.path(), None).expect("config loads");
        config.genesis.params.block_interval_ms = 50;
        config.p2p.listen = ([127, 0, 0, 1], port).into();
        config
    };
    let first = configure();
    let key = first.key.account();
    assert_eq!(first.genesis.validators.len(), 1);
    assert_eq!(first.genesis.validators[0].public_key, key);

    let started = Instant::now();
    let (from, reached) = run_until(first, 3);
    assert_eq!(from, 0);
    assert!(reached >= 3, "reached only height {reached}");

    // Same key, same chain: it resumes from its committed height (and still serves the
    // certificates of the blocks it finalized before).
    let second = configure();
    assert_eq!(second.key.account(), key);
    let (from, reached_again) = run_until(second, reached + 2);
    assert!(from >= reached);
    assert!(reached_again >= reached + 2);
    assert!(started.elapsed() < Duration::from_secs(60));
    each_finalized_block_is_stored_once(dir.path(), reached_again);
}

/// The node's finalized blocks are in its store alone: consensus keeps no archive of
/// blocks beside it, and the store holds every committed block exactly in its archive.
fn each_finalized_block_is_stored_once(data_dir: &std::path::Path, committed: u64) {
    let partitions: Vec<String> = std::fs::read_dir(data_dir.join("consensus"))
        .expect("consensus storage")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(
        partitions.iter().any(|p| p.contains("-finalizations-")),
        "consensus keeps its certificates: {partitions:?}"
    );
    assert!(
        !partitions.iter().any(|p| p.contains("-blocks-")),
        "consensus keeps no second copy of the blocks: {partitions:?}"
    );
    let store = plexus_storage::Store::open(data_dir.join(plexus_node::STATE_FILE))
        .expect("the stopped node's store opens");
    let tip = store.committed_height().expect("committed");
    assert!(tip >= committed);
    for height in 0..=tip {
        assert!(
            store.block(height).expect("reads").is_some(),
            "block {height} is archived"
        );
    }
    // Blocks finalized but not yet committed when the node stopped are held, above the
    // tip only.
    let ranges = store.finalized_ranges().expect("ranges");
    assert_eq!(ranges.ranges()[0], (0, tip));
    assert_eq!(ranges.last(), Some(tip + store.held_count() as u64));
}
