use crate::support::{chat, engine, greedy, run};

#[tokio::test]
async fn greedy_generation_gives_the_same_tokens_twice() {
    let engine = engine(1024);
    let request = greedy(chat("Write a short poem about the sea."), 48);
    let first = run(&engine, request.clone()).await;
    let second = run(&engine, request).await;
    assert!(!first.tokens.is_empty());
    assert_eq!(first.tokens, second.tokens);
    assert_eq!(first.text, second.text);
    assert_eq!(first.usage, second.usage);
}

#[tokio::test]
async fn seeded_sampling_is_reproducible() {
    let engine = engine(1024);
    let mut request = greedy(chat("Name three colours."), 32);
    request.sampling.temperature = 0.9;
    request.sampling.top_p = 0.95;
    request.sampling.seed = 42;
    let first = run(&engine, request.clone()).await;
    let second = run(&engine, request).await;
    assert_eq!(first.tokens, second.tokens);
}
