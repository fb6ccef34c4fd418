use plexus_inference::{BertEmbedder, Embedder, EngineError};

use crate::support::embedding_model;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test]
async fn sentence_embeddings_match_the_reference_cosine() {
    let embedder = BertEmbedder::load(embedding_model()).unwrap();
    assert_eq!(embedder.model().id, "all-MiniLM-L6-v2");
    let out = embedder
        .embed(vec![
            "A man is eating food.".into(),
            "A man is eating a piece of bread.".into(),
        ])
        .await
        .unwrap();
    assert_eq!(out.vectors.len(), 2);
    assert_eq!(out.vectors[0].len(), 384);
    for v in &out.vectors {
        assert!((dot(v, v) - 1.0).abs() < 1e-5);
    }
    let cosine = dot(&out.vectors[0], &out.vectors[1]);
    assert!((cosine - 0.755337).abs() < 1e-5, "cosine {cosine}");
    assert!(out.prompt_tokens > 10);
}

#[tokio::test]
async fn padding_does_not_change_an_embedding() {
    let embedder = BertEmbedder::load(embedding_model()).unwrap();
    let alone = embedder.embed(vec!["short".into()]).await.unwrap();
    let batched = embedder
        .embed(vec![
            "short".into(),
            "a much longer sentence that forces padding of the short one".into(),
        ])
        .await
        .unwrap();
    let cosine = dot(&alone.vectors[0], &batched.vectors[0]);
    assert!((cosine - 1.0).abs() < 1e-5, "cosine {cosine}");
}

#[tokio::test]
async fn empty_inputs_are_refused() {
    let embedder = BertEmbedder::load(embedding_model()).unwrap();
    assert!(matches!(
        embedder.embed(vec![]).await,
        Err(EngineError::InvalidRequest(_))
    ));
    assert!(matches!(
        embedder.embed(vec![String::new()]).await,
        Err(EngineError::InvalidRequest(_))
    ));
}
