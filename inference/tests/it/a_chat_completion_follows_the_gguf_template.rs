use plexus_inference::{ChatMessage, Engine, FinishReason, Prompt, Role};

use crate::support::{engine, greedy, run};

#[tokio::test]
async fn a_chat_completion_follows_the_gguf_template() {
    let engine = engine(1024);
    let prompt = Prompt::Chat(vec![
        ChatMessage {
            role: Role::System,
            content: "You are a helpful assistant.".into(),
        },
        ChatMessage {
            role: Role::User,
            content: "What is the capital of France?".into(),
        },
    ]);
    let rendered = engine.render(&prompt).unwrap();
    assert!(
        rendered.starts_with("<|im_start|>system\nYou are a helpful assistant.<|im_end|>"),
        "{rendered}"
    );
    assert!(rendered.ends_with("<|im_start|>assistant\n"), "{rendered}");

    let out = run(&engine, greedy(prompt, 64)).await;
    assert!(out.text.contains("Paris"), "answer: {:?}", out.text);
    assert!(!out.text.contains("<|im_end|>"), "{:?}", out.text);
    assert_eq!(out.reason, FinishReason::Stop, "{:?}", out.text);
    assert_eq!(
        out.usage.prompt_tokens as usize,
        engine.tokenize(&rendered).len()
    );
    assert_eq!(out.usage.completion_tokens as usize, out.tokens.len());
    assert_eq!(engine.model().id, "SmolLM2-135M-Instruct");
}

#[tokio::test]
async fn a_text_prompt_is_continued_as_is() {
    let engine = engine(512);
    let out = run(
        &engine,
        greedy(Prompt::Text("The capital of France is".into()), 8),
    )
    .await;
    assert!(out.text.contains("Paris"), "{:?}", out.text);
}
