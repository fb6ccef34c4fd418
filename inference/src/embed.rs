//! Sentence embeddings with a BERT model (sentence-transformers all-MiniLM-L6-v2)
//! run by candle: mean pooling over the attention mask, then L2 normalisation.
//!
//! candle lives entirely inside this module; none of its types (or its RNGs) cross
//! the public API.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, DTYPE};
use futures::future::BoxFuture;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::{Embedder, Embeddings, EngineError, EngineInfo, ModelInfo, models::weights_hash};

/// Longest input kept, in tokens (longer inputs are truncated).
pub const MAX_TOKENS: u32 = 256;

/// Inputs run through the model together.
const BATCH: usize = 32;

/// candle's version (reported as the engine version).
const CANDLE_VERSION: &str = "0.11";

/// A sentence-transformers BERT model on CPU.
pub struct BertEmbedder {
    info: ModelInfo,
    inner: Arc<Inner>,
}

struct Inner {
    model: BertModel,
    tokenizer: Tokenizer,
}

impl std::fmt::Debug for BertEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BertEmbedder")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl BertEmbedder {
    /// Load the model in `dir` (`config.json`, `tokenizer.json`,
    /// `model.safetensors`). The model id is the directory name. Blocking.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, EngineError> {
        let dir = dir.as_ref();
        let err = |file: &str, reason: String| EngineError::Load {
            path: dir.join(file).display().to_string(),
            reason,
        };
        let read = |file: &str| {
            std::fs::read(dir.join(file)).map_err(|e| {
                err(
                    file,
                    format!("{e}; run scripts/setup.sh to install the default models"),
                )
            })
        };
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| err("config.json", e.to_string()))?;
        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?)
            .map_err(|e| err("tokenizer.json", e.to_string()))?;
        // The shipped tokenizer pads and truncates to a fixed 128 (VALIDATION.md).
        let padding = tokenizer.get_padding().cloned().unwrap_or_default();
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..padding
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS as usize,
                ..TruncationParams::default()
            }))
            .map_err(|e| err("tokenizer.json", e.to_string()))?;
        let weights_path = dir.join("model.safetensors");
        let weights_hash = weights_hash(&weights_path)?;
        let vb =
            VarBuilder::from_buffered_safetensors(read("model.safetensors")?, DTYPE, &Device::Cpu)
                .map_err(|e| err("model.safetensors", e.to_string()))?;
        let model =
            BertModel::load(vb, &config).map_err(|e| err("model.safetensors", e.to_string()))?;
        let id = model_id(dir);
        Ok(Self {
            info: ModelInfo {
                id,
                weights_hash,
                context_length: MAX_TOKENS,
                engine: EngineInfo {
                    name: "candle".into(),
                    version: CANDLE_VERSION.into(),
                    quantization: "F32".into(),
                    kernel: "cpu".into(),
                },
            },
            inner: Arc::new(Inner { model, tokenizer }),
        })
    }

    /// Embed `inputs` on the calling thread (blocking). [`Embedder::embed`] runs this
    /// on a blocking thread.
    pub fn embed_blocking(&self, inputs: &[String]) -> Result<Embeddings, EngineError> {
        self.inner.embed(inputs)
    }
}

fn model_id(dir: &Path) -> String {
    let dir: PathBuf = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "embedding-model".into())
}

fn internal(e: impl std::fmt::Display) -> EngineError {
    EngineError::Internal(format!("embedding failed: {e}"))
}

impl Inner {
    fn embed(&self, inputs: &[String]) -> Result<Embeddings, EngineError> {
        if inputs.is_empty() {
            return Err(EngineError::InvalidRequest(
                "at least one input is required".into(),
            ));
        }
        if inputs.iter().any(|i| i.is_empty()) {
            return Err(EngineError::InvalidRequest(
                "inputs must not be empty strings".into(),
            ));
        }
        let mut vectors = Vec::with_capacity(inputs.len());
        let mut prompt_tokens = 0u32;
        for chunk in inputs.chunks(BATCH) {
            let (v, n) = self.embed_batch(chunk)?;
            vectors.extend(v);
            prompt_tokens = prompt_tokens.saturating_add(n);
        }
        Ok(Embeddings {
            vectors,
            prompt_tokens,
        })
    }

    fn embed_batch(&self, inputs: &[String]) -> Result<(Vec<Vec<f32>>, u32), EngineError> {
        let encodings = self
            .tokenizer
            .encode_batch(inputs.to_vec(), true)
            .map_err(internal)?;
        let len = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(inputs.len() * len);
        let mut mask = Vec::with_capacity(inputs.len() * len);
        for e in &encodings {
            ids.extend_from_slice(e.get_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let tokens: u32 = mask.iter().sum();
        let device = &self.model.device;
        let shape = (inputs.len(), len);
        let ids = Tensor::from_vec(ids, shape, device).map_err(internal)?;
        let mask = Tensor::from_vec(mask, shape, device).map_err(internal)?;
        let type_ids = ids.zeros_like().map_err(internal)?;
        let hidden = self
            .model
            .forward(&ids, &type_ids, Some(&mask))
            .map_err(internal)?;
        // Mean over the real tokens: sum(hidden * mask) / sum(mask).
        let pooled = (|| {
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?;
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        })()
        .map_err(internal)?;
        Ok((pooled, tokens))
    }
}

impl Embedder for BertEmbedder {
    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn embed(&self, inputs: Vec<String>) -> BoxFuture<'static, Result<Embeddings, EngineError>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || inner.embed(&inputs))
                .await
                .map_err(|e| EngineError::Internal(format!("embedding worker failed: {e}")))?
        })
    }
}
