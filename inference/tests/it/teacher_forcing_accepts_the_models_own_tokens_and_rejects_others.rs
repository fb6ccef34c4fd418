use crate::support::{chat, engine, greedy, run};

#[tokio::test]
async fn teacher_forcing_accepts_the_models_own_tokens_and_rejects_others() {
    let engine = engine(1024);
    let prompt = chat("Explain what a volcano is in two sentences.");
    let out = run(&engine, greedy(prompt.clone(), 32)).await;
    assert!(out.tokens.len() >= 16, "{out:?}");
    assert_eq!(out.tokens.len(), out.usage.completion_tokens as usize);

    let scores = engine
        .score_tokens(prompt.clone(), out.tokens.clone(), 1.0)
        .await
        .unwrap();
    assert_eq!(scores.len(), out.tokens.len());
    for (s, &t) in scores.iter().zip(&out.tokens) {
        assert_eq!(s.token, t);
        assert!(s.is_argmax, "{s:?}");
        assert_eq!(s.logprob_margin, 0.0);
    }

    // Someone else's text: most positions are not the model's choice.
    let other = engine.tokenize("Bananas are yellow fruit that monkeys enjoy eating daily.");
    let scores = engine.score_tokens(prompt, other, 1.0).await.unwrap();
    let matched = scores.iter().filter(|s| s.is_argmax).count();
    assert!(matched * 2 < scores.len(), "{matched} of {}", scores.len());
    assert!(scores.iter().any(|s| s.logprob_margin > 2.0));
}
