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

#[tokio::test]
async fn two_slots_serve_two_requests_at_once_with_the_same_tokens() {
    use plexus_inference::{Engine, LlamaConfig, LlamaEngine};

    use crate::support::{chat_model, collect};

    let engine = LlamaEngine::load(
        chat_model(),
        LlamaConfig {
            threads: 1,
            context_length: Some(512),
            slots: 2,
            ..LlamaConfig::default()
        },
    )
    .unwrap();
    let a = greedy(chat("Say hello to Alice."), 24);
    let b = greedy(chat("Count to five."), 24);
    let (both_a, both_b) = tokio::join!(
        collect(engine.generate(a.clone())),
        collect(engine.generate(b.clone()))
    );
    let alone_a = run(&engine, a).await;
    let alone_b = run(&engine, b).await;
    assert_eq!(both_a.tokens, alone_a.tokens);
    assert_eq!(both_b.tokens, alone_b.tokens);
}
