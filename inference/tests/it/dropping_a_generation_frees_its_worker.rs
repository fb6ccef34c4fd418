use std::time::{Duration, Instant};

use futures::StreamExt;
use plexus_inference::{Engine, Output, Prompt};

use crate::support::{engine, greedy, run};

#[tokio::test]
async fn dropping_a_generation_frees_its_worker() {
    // One slot: the second request can only run once the first has stopped.
    let engine = engine(8192);
    let counting = Prompt::Text("1, 2, 3, 4, 5, 6, 7,".into());
    let mut long = engine.generate(greedy(counting, 8000));
    let mut pieces = 0;
    while pieces < 3 {
        match long.next().await.unwrap().unwrap() {
            Output::Text { .. } => pieces += 1,
            Output::Finished { .. } => panic!("finished too early"),
        }
    }
    drop(long);

    // 8000 tokens would take about a minute; a freed worker answers in moments.
    let started = Instant::now();
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        run(&engine, greedy(Prompt::Text("Hello".into()), 4)),
    )
    .await
    .expect("the worker did not stop the dropped generation");
    assert_eq!(out.usage.completion_tokens, 4);
    assert!(started.elapsed() < Duration::from_secs(20));
}
