use std::{
    net::TcpListener,
    sync::mpsc,
    time::{Duration, Instant},
};

use plexus_node::{NodeConfig, run_blocking};

/// Run the node in `dir` until it has committed `target`, and return the committed
/// height it started from and the one it stopped at.
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
        config.genesis.validators[0].address = format!("127.0.0.1:{port}");
        config.genesis.params.block_interval_ms = 50;
        config.listen = ([127, 0, 0, 1], port).into();
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

    // Same key, same chain: it resumes from its committed height.
    let second = configure();
    assert_eq!(second.key.account(), key);
    let (from, reached_again) = run_until(second, reached + 2);
    assert!(from >= reached);
    assert!(reached_again >= reached + 2);
    assert!(started.elapsed() < Duration::from_secs(60));
}
