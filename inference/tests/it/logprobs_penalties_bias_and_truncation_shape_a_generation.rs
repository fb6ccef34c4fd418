use futures::StreamExt as _;
use plexus_inference::{Engine as _, EngineError, LlamaEngine};

use crate::support::{chat, engine, greedy, run};

/// The error a request fails with.
async fn refusal(engine: &LlamaEngine, request: plexus_inference::GenerationRequest) -> String {
    match engine.generate(request).next().await {
        Some(Err(EngineError::InvalidRequest(why))) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn greedy_logprobs_are_the_models_own_and_rank_the_chosen_token_first() {
    let engine = engine(1024);
    let plain = run(&engine, greedy(chat("Name a colour."), 16)).await;
    let mut request = greedy(chat("Name a colour."), 16);
    request.sampling.logprobs = Some(5);
    let with = run(&engine, request).await;
    assert_eq!(
        with.tokens, plain.tokens,
        "asking for logprobs changes no token"
    );
    assert_eq!(
        with.logprobs.len(),
        with.tokens.len(),
        "one entry per token"
    );
    assert!(plain.logprobs.is_empty(), "none unless asked");

    let mut bytes = Vec::new();
    for (entry, &token) in with.logprobs.iter().zip(&with.tokens) {
        assert_eq!(entry.token.id, Some(token));
        assert!(entry.token.logprob.is_finite() && entry.token.logprob <= 0.0);
        assert_eq!(entry.top.len(), 5);
        assert!(
            entry.top.windows(2).all(|w| w[0].logprob >= w[1].logprob),
            "most likely first"
        );
        // Greedy takes the most likely token.
        assert_eq!(entry.top[0].id, Some(token));
        assert_eq!(entry.top[0].logprob, entry.token.logprob);
        let mass: f32 = entry.top.iter().map(|t| t.logprob.exp()).sum();
        assert!(mass > 0.0 && mass <= 1.0 + 1e-4, "top-5 mass {mass}");
        bytes.extend_from_slice(&entry.token.bytes);
    }
    if with.reason == plexus_inference::FinishReason::Length {
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            with.text,
            "the tokens' bytes spell the text"
        );
    }
}

#[tokio::test]
async fn a_logit_bias_bans_or_forces_a_token() {
    let engine = engine(1024);
    let plain = run(&engine, greedy(chat("Say hello."), 8)).await;
    let first = plain.tokens[0];

    let mut banned = greedy(chat("Say hello."), 8);
    banned.sampling.logit_bias = vec![(first, -100.0)];
    let banned = run(&engine, banned).await;
    assert_ne!(banned.tokens[0], first, "-100 bans the greedy token");

    let forced_token = plain.tokens[plain.tokens.len() - 1];
    let mut forced = greedy(chat("Say hello."), 8);
    forced.sampling.logit_bias = vec![(forced_token, 100.0)];
    let forced = run(&engine, forced).await;
    assert_eq!(forced.tokens[0], forced_token, "+100 forces a token");
}

#[tokio::test]
async fn penalties_change_a_repetitive_answer_and_truncation_to_one_token_is_greedy() {
    let engine = engine(1024);
    let question = "Write the word cat ten times, separated by spaces.";
    let plain = run(&engine, greedy(chat(question), 32)).await;
    let most_repeated = |tokens: &[u32]| {
        let mut counts = std::collections::BTreeMap::new();
        for t in tokens {
            *counts.entry(t).or_insert(0) += 1;
        }
        counts.into_values().max().unwrap_or(0)
    };
    let mut penalised = greedy(chat(question), 32);
    penalised.sampling.frequency_penalty = 2.0;
    penalised.sampling.presence_penalty = 1.0;
    let penalised = run(&engine, penalised).await;
    assert_ne!(penalised.tokens, plain.tokens);
    assert!(most_repeated(&penalised.tokens) < most_repeated(&plain.tokens));

    let mut repeat = greedy(chat(question), 32);
    repeat.sampling.repeat_penalty = 1.5;
    assert_ne!(run(&engine, repeat).await.tokens, plain.tokens);

    // Sampling at temperature 1 from the single most likely token is greedy.
    for (top_k, min_p) in [(1, 0.0), (0, 1.0)] {
        let mut truncated = greedy(chat(question), 32);
        truncated.sampling.temperature = 1.0;
        truncated.sampling.seed = 7;
        truncated.sampling.top_k = top_k;
        truncated.sampling.min_p = min_p;
        assert_eq!(
            run(&engine, truncated).await.tokens,
            plain.tokens,
            "top_k {top_k}, min_p {min_p}"
        );
    }
}

#[tokio::test]
async fn out_of_range_sampling_values_are_refused_with_the_field_named() {
    let engine = engine(512);
    type Set = fn(&mut plexus_inference::Sampling);
    let cases: [(&str, Set); 6] = [
        ("presence_penalty", |s| s.presence_penalty = 2.5),
        ("frequency_penalty", |s| s.frequency_penalty = f32::NAN),
        ("repeat_penalty", |s| s.repeat_penalty = 0.0),
        ("min_p", |s| s.min_p = 1.5),
        ("top_logprobs", |s| s.logprobs = Some(21)),
        ("logit_bias", |s| s.logit_bias = vec![(u32::MAX, 1.0)]),
    ];
    for (field, set) in cases {
        let mut request = greedy(chat("Hi"), 4);
        set(&mut request.sampling);
        let why = refusal(&engine, request).await;
        assert!(why.contains(field), "{field}: {why}");
    }
    // The engine keeps serving.
    assert!(!run(&engine, greedy(chat("Hi"), 4)).await.tokens.is_empty());
}

#[tokio::test]
async fn a_token_id_prompt_continues_like_the_text_it_tokenizes_to() {
    use plexus_inference::Prompt;
    let engine = engine(512);
    let text = run(&engine, greedy(Prompt::Text("The sky is".into()), 8)).await;
    let ids = engine.tokenize("The sky is");
    let tokens = run(&engine, greedy(Prompt::Tokens(ids), 8)).await;
    assert_eq!(tokens.tokens, text.tokens);
    assert_eq!(tokens.usage, text.usage);
    let why = refusal(&engine, greedy(Prompt::Tokens(vec![1, u32::MAX]), 4)).await;
    assert!(why.contains("vocabulary"), "{why}");
}
