use plexus_inference::{Engine, models};

use crate::support::{chat_model, engine};

#[test]
fn the_model_identity_is_the_blake3_of_its_weights() {
    let engine = engine(512);
    let bytes = std::fs::read(chat_model()).unwrap();
    let info = engine.model();
    assert_eq!(info.weights_hash.0, *blake3::hash(&bytes).as_bytes());
    assert_eq!(
        info.weights_hash,
        models::weights_hash(&chat_model()).unwrap()
    );
    assert_eq!(info.context_length, 512);
    assert_eq!(info.engine.name, "llama.cpp");
    assert_eq!(info.engine.quantization, "Q4_1");
    assert!(!info.engine.kernel.is_empty());
    assert!(info.engine.version.contains("0.1.160"));
}

#[test]
fn the_default_models_are_found_by_name() {
    assert_eq!(
        models::locate_gguf("SmolLM2-135M-Instruct").unwrap(),
        chat_model()
    );
    assert_eq!(
        models::locate_model_dir("all-MiniLM-L6-v2").unwrap(),
        crate::support::embedding_model()
    );
}
