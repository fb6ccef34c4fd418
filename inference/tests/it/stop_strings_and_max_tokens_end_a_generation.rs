use plexus_inference::{FinishReason, Prompt};

use crate::support::{engine, greedy, run};

fn counting() -> Prompt {
    Prompt::Text("1, 2, 3, 4, 5, 6, 7,".into())
}

#[tokio::test]
async fn max_tokens_ends_a_generation_with_length() {
    let engine = engine(512);
    let out = run(&engine, greedy(counting(), 5)).await;
    assert_eq!(out.reason, FinishReason::Length);
    assert_eq!(out.usage.completion_tokens, 5);
    assert_eq!(out.tokens.len(), 5);
}

#[tokio::test]
async fn a_stop_string_ends_a_generation_and_is_left_out() {
    let engine = engine(512);
    let free = run(&engine, greedy(counting(), 24)).await;
    assert!(free.text.contains(" 10,"), "{:?}", free.text);

    let mut request = greedy(counting(), 24);
    request.sampling.stop = vec!["10".into(), "never".into()];
    let out = run(&engine, request).await;
    assert_eq!(out.reason, FinishReason::Stop);
    assert!(!out.text.contains("10"), "{:?}", out.text);
    let cut = free.text.find("10").unwrap();
    assert_eq!(out.text, free.text[..cut]);
    // The tokens behind the stop string were generated and are reported.
    assert_eq!(out.tokens[..], free.tokens[..out.tokens.len()]);
}

#[tokio::test]
async fn absurd_sampling_values_are_refused() {
    use futures::StreamExt;
    use plexus_inference::{Engine, EngineError};
    let engine = engine(512);
    for patch in [
        |r: &mut plexus_inference::GenerationRequest| r.sampling.max_tokens = 0,
        |r: &mut plexus_inference::GenerationRequest| r.sampling.max_tokens = 1_000_000,
        |r: &mut plexus_inference::GenerationRequest| r.sampling.top_p = 0.0,
        |r: &mut plexus_inference::GenerationRequest| r.sampling.temperature = f32::NAN,
    ] {
        let mut request = greedy(counting(), 4);
        patch(&mut request);
        let mut stream = engine.generate(request);
        assert!(matches!(
            stream.next().await,
            Some(Err(EngineError::InvalidRequest(_)))
        ));
        assert!(stream.next().await.is_none());
    }
}
