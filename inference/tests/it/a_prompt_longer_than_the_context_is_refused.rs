use futures::StreamExt;
use plexus_inference::{Engine, EngineError, FinishReason, Prompt};

use crate::support::{engine, greedy, run};

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_refused() {
    let engine = engine(256);
    let long = Prompt::Text("lorem ipsum dolor sit amet ".repeat(200));
    let mut stream = engine.generate(greedy(long, 16));
    match stream.next().await {
        Some(Err(EngineError::InvalidRequest(message))) => {
            assert!(message.contains("context"), "{message}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    assert!(stream.next().await.is_none());

    // The engine keeps serving.
    let out = run(&engine, greedy(Prompt::Text("Hello".into()), 4)).await;
    assert_eq!(out.usage.completion_tokens, 4);
}

#[tokio::test]
async fn generation_stops_at_the_end_of_the_context() {
    let engine = engine(64);
    let prompt = Prompt::Text("1, 2, 3, 4, 5, 6, 7, 8, 9,".into());
    let out = run(&engine, greedy(prompt, 64)).await;
    assert_eq!(out.reason, FinishReason::Length);
    assert_eq!(out.usage.prompt_tokens + out.usage.completion_tokens, 64);
}
