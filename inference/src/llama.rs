//! The built-in engine: llama.cpp on GGUF weights, through `llama-cpp-2`.
//!
//! The model is loaded once and shared; each slot is a worker thread owning one
//! llama.cpp context (contexts are not `Send`, so they are created on their thread).
//! Requests wait in one queue; a free worker takes the next, decodes it and sends
//! outputs through a bounded channel. A worker stops a generation as soon as its
//! receiver is gone.

use std::{
    num::NonZeroU32,
    path::Path,
    sync::{Arc, Mutex, OnceLock, mpsc as std_mpsc},
    thread,
};

use llama_cpp_2::{
    LogOptions,
    context::{LlamaContext, params::LlamaContextParams},
    llama_backend::LlamaBackend,
    llama_batch::LlamaBatch,
    model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel, params::LlamaModelParams},
    sampling::LlamaSampler,
    send_logs_to_tracing,
    token::{LlamaToken, logit_bias::LlamaLogitBias},
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    EngineError, EngineInfo, FinishReason, Generation, GenerationRequest, ModelInfo, Output,
    Prompt, Sampling, TokenLogprob, TopLogprob, Usage,
    models::weights_hash,
    text::{Step, TextStream},
};

/// The `llama-cpp-2` release this engine is built on (reported as the engine version).
pub const LLAMA_CPP_2_VERSION: &str = "0.1.160";

/// Outputs buffered per generation before the worker waits for the reader.
const CHANNEL_CAPACITY: usize = 64;

/// How to load a GGUF model.
#[derive(Debug, Clone)]
pub struct LlamaConfig {
    /// CPU threads per slot for decoding (and prompt processing).
    pub threads: u32,
    /// Context size per slot, in tokens (prompt plus completion). `None` uses the
    /// model's training context; larger values are clamped to it.
    pub context_length: Option<u32>,
    /// Concurrent generations: one worker thread and one context each.
    pub slots: u32,
    /// Most prompt tokens evaluated in one llama.cpp batch.
    pub batch_size: u32,
    /// Layers offloaded to the GPU (only with the `cuda` feature; 0 on CPU builds).
    pub gpu_layers: u32,
    /// The id clients ask for. `None` uses the file name without the quantization
    /// suffix (`SmolLM2-135M-Instruct.Q4_1.gguf` gives `SmolLM2-135M-Instruct`).
    pub model_id: Option<String>,
}

impl Default for LlamaConfig {
    fn default() -> Self {
        Self {
            threads: thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(1),
            context_length: None,
            slots: 1,
            batch_size: 512,
            gpu_layers: if cfg!(feature = "cuda") { u32::MAX } else { 0 },
            model_id: None,
        }
    }
}

/// One position of a teacher-forced sequence (see [`LlamaEngine::score_tokens`]): the
/// engine-neutral type the validator judges, defined by `plexus-validator`.
pub use plexus_validator::verify::TokenScore;

enum Job {
    Generate {
        request: GenerationRequest,
        tx: mpsc::Sender<Result<Output, EngineError>>,
    },
    Score {
        prompt: Prompt,
        tokens: Vec<u32>,
        temperature: f32,
        reply: oneshot::Sender<Result<Vec<TokenScore>, EngineError>>,
    },
}

/// llama.cpp's process-wide backend, initialised once.
fn backend() -> Result<&'static LlamaBackend, EngineError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp logs to stderr by default; route it into `tracing` instead.
            send_logs_to_tracing(LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| EngineError::Internal(format!("llama.cpp backend: {e}")))
}

/// Contexts must not be created concurrently from one model (llama.cpp mutates it).
static CONTEXT_LOCK: Mutex<()> = Mutex::new(());

/// A GGUF model served by llama.cpp.
pub struct LlamaEngine {
    info: ModelInfo,
    model: Arc<LlamaModel>,
    jobs: std_mpsc::Sender<Job>,
}

impl std::fmt::Debug for LlamaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlamaEngine")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LlamaEngine {
    /// Load the GGUF file at `path` and start `config.slots` workers. Blocking: call
    /// it from a blocking thread in async code.
    pub fn load(path: impl AsRef<Path>, config: LlamaConfig) -> Result<Self, EngineError> {
        let path = path.as_ref();
        let load_err = |reason: String| EngineError::Load {
            path: path.display().to_string(),
            reason,
        };
        if !path.is_file() {
            return Err(load_err(
                "no such file; run scripts/setup.sh to install the default models".into(),
            ));
        }
        if config.threads == 0 || config.slots == 0 || config.batch_size == 0 {
            return Err(load_err(
                "threads, slots and batch_size must be at least 1".into(),
            ));
        }
        let weights_hash = weights_hash(path)?;
        let backend = backend()?;
        let params = LlamaModelParams::default().with_n_gpu_layers(config.gpu_layers);
        let model = LlamaModel::load_from_file(backend, path, &params)
            .map_err(|e| load_err(e.to_string()))?;
        let model = Arc::new(model);

        let trained = model.n_ctx_train().max(1);
        let context_length = config.context_length.unwrap_or(trained).clamp(1, trained);
        let chat_template = model.chat_template(None).ok();
        let info = ModelInfo {
            id: config.model_id.unwrap_or_else(|| model_id_from_path(path)),
            weights_hash,
            context_length,
            engine: EngineInfo {
                name: "llama.cpp".into(),
                version: format!("llama-cpp-2 {LLAMA_CPP_2_VERSION}"),
                quantization: quantization(&model, path),
                kernel: kernel_level(config.gpu_layers > 0 && backend.supports_gpu_offload()),
            },
        };

        let (jobs, queue) = std_mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let settings = Arc::new(WorkerSettings {
            threads: config.threads,
            context_length,
            batch_size: config.batch_size.min(context_length),
            chat_template,
        });
        for slot in 0..config.slots {
            let (ready_tx, ready_rx) = std_mpsc::sync_channel(1);
            let model = Arc::clone(&model);
            let queue = Arc::clone(&queue);
            let settings = Arc::clone(&settings);
            thread::Builder::new()
                .name(format!("llama-slot-{slot}"))
                .spawn(move || worker(&model, &settings, &queue, &ready_tx))
                .map_err(|e| load_err(format!("cannot start a worker: {e}")))?;
            // Contexts are created one at a time (see CONTEXT_LOCK).
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => return Err(load_err(reason)),
                Err(_) => return Err(load_err("a worker died while starting".into())),
            }
        }
        Ok(Self { info, model, jobs })
    }

    /// Tokenize `text` with the model's vocabulary (special tokens such as
    /// `<|im_start|>` are parsed).
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        tokenize(&self.model, text)
            .into_iter()
            .map(token_id)
            .collect()
    }

    /// The tokens that end generation (end of turn, end of stream, ...), the end of
    /// turn first (else the end of stream): what a finished answer is followed by.
    pub fn end_tokens(&self) -> Vec<u32> {
        let vocab = self.model.vocab();
        let mut out: Vec<u32> = [vocab.eot(), vocab.eos()]
            .into_iter()
            .filter(|t| t.0 >= 0 && vocab.is_eog(*t))
            .map(token_id)
            .collect();
        for t in (0..vocab.n_tokens()).map(LlamaToken) {
            if vocab.is_eog(t) && !out.contains(&token_id(t)) {
                out.push(token_id(t));
            }
        }
        out.dedup();
        out
    }

    /// Render a prompt as the model sees it: a chat through the GGUF chat template
    /// (with the assistant turn opened), text as is.
    pub fn render(&self, prompt: &Prompt) -> Result<String, EngineError> {
        render(&self.model, self.model.chat_template(None).ok(), prompt)
    }

    /// Teacher forcing: run the model over `prompt` followed by `tokens` in one batch
    /// and report, for each of `tokens`, whether it is the model's argmax at its
    /// position, how far below the argmax its log-probability is, and where it ranks in
    /// the model's distribution at `temperature` (with that rank's spread for a
    /// sample). Validators use it to check a provider's output without generating
    /// (VALIDATION.md).
    pub async fn score_tokens(
        &self,
        prompt: Prompt,
        tokens: Vec<u32>,
        temperature: f32,
    ) -> Result<Vec<TokenScore>, EngineError> {
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(EngineError::InvalidRequest(format!(
                "a scoring temperature must be a finite number > 0, not {temperature}"
            )));
        }
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job::Score {
                prompt,
                tokens,
                temperature,
                reply,
            })
            .map_err(|_| EngineError::Internal("all llama.cpp workers have stopped".into()))?;
        rx.await
            .map_err(|_| EngineError::Internal("a llama.cpp worker died".into()))?
    }
}

impl crate::Engine for LlamaEngine {
    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn generate(&self, request: GenerationRequest) -> Generation {
        let (tx, mut rx) = mpsc::channel(CHANNEL_CAPACITY);
        if self.jobs.send(Job::Generate { request, tx }).is_err() {
            // Only reachable if every worker panicked.
            return Box::pin(futures::stream::once(async {
                Err(EngineError::Internal(
                    "all llama.cpp workers have stopped".into(),
                ))
            }));
        }
        Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}

struct WorkerSettings {
    threads: u32,
    context_length: u32,
    batch_size: u32,
    chat_template: Option<LlamaChatTemplate>,
}

fn worker(
    model: &LlamaModel,
    settings: &WorkerSettings,
    queue: &Mutex<std_mpsc::Receiver<Job>>,
    ready: &std_mpsc::SyncSender<Result<(), String>>,
) {
    let mut ctx = match new_context(model, settings) {
        Ok(ctx) => {
            let _ = ready.send(Ok(()));
            ctx
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    loop {
        let job = {
            let Ok(queue) = queue.lock() else { return };
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return, // the engine was dropped
            }
        };
        match job {
            Job::Generate { request, tx } => {
                if tx.is_closed() {
                    continue; // cancelled while queued
                }
                if let Err(e) = generate(model, settings, &mut ctx, &request, &tx) {
                    let _ = tx.blocking_send(Err(e));
                }
            }
            Job::Score {
                prompt,
                tokens,
                temperature,
                reply,
            } => {
                let _ = reply.send(score(
                    model,
                    settings,
                    &mut ctx,
                    &prompt,
                    &tokens,
                    temperature,
                ));
            }
        }
    }
}

fn new_context<'m>(
    model: &'m LlamaModel,
    settings: &WorkerSettings,
) -> Result<LlamaContext<'m>, String> {
    let backend = backend().map_err(|e| e.to_string())?;
    let threads = i32::try_from(settings.threads).unwrap_or(i32::MAX);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(settings.context_length))
        .with_n_batch(settings.batch_size)
        .with_n_ubatch(settings.batch_size)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let _guard = CONTEXT_LOCK.lock().map_err(|e| e.to_string())?;
    model
        .new_context(backend, params)
        .map_err(|e| format!("cannot create a llama.cpp context: {e}"))
}

fn token_id(token: LlamaToken) -> u32 {
    u32::try_from(token.0).unwrap_or(0)
}

fn tokenize(model: &LlamaModel, text: &str) -> Vec<LlamaToken> {
    let vocab = model.vocab();
    vocab.tokenize(text.as_bytes(), vocab.should_add_bos(), true)
}

fn render(
    model: &LlamaModel,
    template: Option<LlamaChatTemplate>,
    prompt: &Prompt,
) -> Result<String, EngineError> {
    match prompt {
        Prompt::Text(text) => Ok(text.clone()),
        Prompt::Tokens(_) => Err(EngineError::InvalidRequest(
            "a token-id prompt is not rendered as text".into(),
        )),
        Prompt::Chat(messages) => {
            let template = template.ok_or_else(|| {
                EngineError::InvalidRequest(
                    "this model has no chat template; use a text completion".into(),
                )
            })?;
            let chat = messages
                .iter()
                .map(|m| LlamaChatMessage::new(m.role.as_str().into(), m.content.clone()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| EngineError::InvalidRequest(format!("bad chat message: {e}")))?;
            model
                .apply_chat_template(&template, &chat, true)
                .map_err(|e| EngineError::Internal(format!("chat template failed: {e}")))
        }
    }
}

/// Render and tokenize a prompt, refusing one that does not fit the context.
fn prompt_tokens(
    model: &LlamaModel,
    settings: &WorkerSettings,
    prompt: &Prompt,
) -> Result<Vec<LlamaToken>, EngineError> {
    let tokens = match prompt {
        Prompt::Tokens(ids) => {
            let n_vocab = i64::from(model.n_vocab());
            if let Some(&bad) = ids.iter().find(|&&id| i64::from(id) >= n_vocab) {
                return Err(EngineError::InvalidRequest(format!(
                    "prompt token {bad} is outside the vocabulary of {n_vocab}"
                )));
            }
            ids.iter().map(|&id| LlamaToken(id as i32)).collect()
        }
        _ => tokenize(
            model,
            &render(model, settings.chat_template.clone(), prompt)?,
        ),
    };
    if tokens.is_empty() {
        return Err(EngineError::InvalidRequest("the prompt is empty".into()));
    }
    if tokens.len() >= settings.context_length as usize {
        return Err(EngineError::InvalidRequest(format!(
            "the prompt has {} tokens but the context holds {} (prompt plus completion)",
            tokens.len(),
            settings.context_length
        )));
    }
    Ok(tokens)
}

fn check_sampling(sampling: &Sampling, context_length: u32) -> Result<(), EngineError> {
    let bad = |m: String| Err(EngineError::InvalidRequest(m));
    if sampling.max_tokens == 0 {
        return bad("max_tokens must be at least 1".into());
    }
    if sampling.max_tokens > context_length {
        return bad(format!(
            "max_tokens is {} but the context holds {context_length} tokens",
            sampling.max_tokens
        ));
    }
    if !sampling.temperature.is_finite() || sampling.temperature < 0.0 {
        return bad("temperature must be a finite number >= 0".into());
    }
    if !(sampling.top_p > 0.0 && sampling.top_p <= 1.0) {
        return bad("top_p must be in (0, 1]".into());
    }
    Ok(sampling.check()?)
}

/// llama.cpp's sampler chain for `sampling`, the order llama-server uses: bias,
/// penalties, then greedy, or top-k, top-p, min-p, temperature and a seeded draw.
/// A plain greedy request is llama.cpp's greedy sampler alone.
fn sampler(sampling: &Sampling, n_vocab: i32) -> Result<LlamaSampler, EngineError> {
    let mut chain = Vec::new();
    if !sampling.logit_bias.is_empty() {
        let mut biases = Vec::with_capacity(sampling.logit_bias.len());
        for &(token, bias) in &sampling.logit_bias {
            if i64::from(token) >= i64::from(n_vocab) {
                return Err(EngineError::InvalidRequest(format!(
                    "logit_bias names token {token}, outside the vocabulary of {n_vocab}"
                )));
            }
            biases.push(LlamaLogitBias::new(LlamaToken(token as i32), bias));
        }
        chain.push(LlamaSampler::logit_bias(n_vocab, &biases));
    }
    if sampling.presence_penalty != 0.0
        || sampling.frequency_penalty != 0.0
        || sampling.repeat_penalty != 1.0
    {
        chain.push(LlamaSampler::penalties(
            n_vocab,
            crate::REPEAT_PENALTY_LAST_N as i32,
            sampling.repeat_penalty,
            sampling.frequency_penalty,
            sampling.presence_penalty,
        ));
    }
    if sampling.is_greedy() {
        if chain.is_empty() {
            return Ok(LlamaSampler::greedy());
        }
        chain.push(LlamaSampler::greedy());
        return Ok(LlamaSampler::chain_simple(chain));
    }
    // Fold the 64-bit seed into llama.cpp's 32-bit one.
    let seed = (sampling.seed ^ (sampling.seed >> 32)) as u32;
    if sampling.top_k > 0 {
        chain.push(LlamaSampler::top_k(
            i32::try_from(sampling.top_k).unwrap_or(i32::MAX),
        ));
    }
    if sampling.top_p < 1.0 {
        chain.push(LlamaSampler::top_p(sampling.top_p, 1));
    }
    if sampling.min_p > 0.0 {
        chain.push(LlamaSampler::min_p(sampling.min_p, 1));
    }
    chain.push(LlamaSampler::temp(sampling.temperature));
    chain.push(LlamaSampler::dist(seed));
    Ok(LlamaSampler::chain_simple(chain))
}

/// The log-probability of `chosen` under `logits` (log-softmax), and the `top` most
/// likely tokens, most likely first (ties by lower id).
fn logprobs_at(
    logits: &[f32],
    chosen: u32,
    top: usize,
    piece: impl Fn(u32) -> Vec<u8>,
) -> TokenLogprob {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits
        .iter()
        .map(|&l| (f64::from(l) - f64::from(max)).exp())
        .sum();
    let lse = f64::from(max) + sum.ln();
    let logprob = |l: f32| (f64::from(l) - lse) as f32;
    // The `top` largest logits, kept sorted in a small buffer.
    let mut best: Vec<(u32, f32)> = Vec::with_capacity(top + 1);
    if top > 0 {
        for (id, &l) in logits.iter().enumerate() {
            if best.len() == top && best.last().is_some_and(|&(_, worst)| l <= worst) {
                continue;
            }
            let at = best.partition_point(|&(_, b)| b >= l);
            best.insert(at, (id as u32, l));
            best.truncate(top);
        }
    }
    let entry = |id: u32| TopLogprob {
        id: Some(id),
        bytes: piece(id),
        logprob: logits
            .get(id as usize)
            .map_or(f32::NEG_INFINITY, |&l| logprob(l)),
    };
    TokenLogprob {
        token: entry(chosen),
        top: best.into_iter().map(|(id, _)| entry(id)).collect(),
    }
}

/// Evaluate `tokens` starting at position `start`, in batches; logits are kept for
/// the last token, or for all of them when `all_logits`.
fn eval(
    ctx: &mut LlamaContext<'_>,
    batch: &mut LlamaBatch<'_>,
    tokens: &[LlamaToken],
    start: usize,
    all_logits: bool,
    mut after_batch: impl FnMut(&LlamaContext<'_>, usize, usize) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let size = ctx.n_batch() as usize;
    for (chunk_index, chunk) in tokens.chunks(size.max(1)).enumerate() {
        batch.clear();
        let offset = chunk_index * size;
        for (i, &token) in chunk.iter().enumerate() {
            let pos = start + offset + i;
            let last = offset + i + 1 == tokens.len();
            batch
                .add(token, pos as i32, &[0], all_logits || last)
                .map_err(|e| EngineError::Internal(e.to_string()))?;
        }
        ctx.decode(batch)
            .map_err(|e| EngineError::Internal(format!("decode failed: {e}")))?;
        after_batch(ctx, offset, chunk.len())?;
    }
    Ok(())
}

fn generate(
    model: &LlamaModel,
    settings: &WorkerSettings,
    ctx: &mut LlamaContext<'_>,
    request: &GenerationRequest,
    tx: &mpsc::Sender<Result<Output, EngineError>>,
) -> Result<(), EngineError> {
    check_sampling(&request.sampling, settings.context_length)?;
    let prompt = prompt_tokens(model, settings, &request.prompt)?;
    let usage = |completion: u32| Usage {
        prompt_tokens: prompt.len() as u32,
        completion_tokens: completion,
    };
    let finish = |reason, completion| {
        let _ = tx.blocking_send(Ok(Output::Finished {
            reason,
            usage: usage(completion),
        }));
        Ok(())
    };

    ctx.clear_kv_cache();
    let mut batch = LlamaBatch::new(settings.batch_size as usize, 1);
    eval(ctx, &mut batch, &prompt, 0, false, |_, _, _| Ok(()))?;

    let vocab = model.vocab();
    let mut sampler = sampler(&request.sampling, model.n_vocab())?;
    let mut text = TextStream::new(&request.sampling.stop);
    let mut pending: Vec<u32> = Vec::new();
    let mut pending_logprobs: Vec<TokenLogprob> = Vec::new();
    let piece_of = |id: u32| {
        let mut bytes = Vec::new();
        vocab.token_to_piece_into(LlamaToken(id as i32), &mut bytes, false, None);
        bytes
    };
    let mut pos = prompt.len();
    let mut generated: u32 = 0;
    let mut piece = Vec::with_capacity(32);
    // Text with the tokens (and their log-probabilities) behind it since the last send.
    let send = |text: String, tokens: &mut Vec<u32>, logprobs: &mut Vec<TokenLogprob>| -> bool {
        tx.blocking_send(Ok(Output::Text {
            text,
            tokens: std::mem::take(tokens),
            logprobs: std::mem::take(logprobs),
        }))
        .is_ok()
    };

    loop {
        if tx.is_closed() {
            return Ok(()); // cancelled
        }
        let at = batch.n_tokens() - 1;
        let token = sampler.sample(ctx, at);
        if vocab.is_eog(token) {
            let rest = text.finish();
            if !rest.is_empty() || !pending.is_empty() {
                send(rest, &mut pending, &mut pending_logprobs);
            }
            return finish(FinishReason::Stop, generated);
        }
        generated += 1;
        pending.push(token_id(token));
        if let Some(top) = request.sampling.logprobs {
            pending_logprobs.push(logprobs_at(
                ctx.get_logits_ith(at),
                token_id(token),
                usize::from(top),
                piece_of,
            ));
        }
        piece.clear();
        vocab.token_to_piece_into(token, &mut piece, false, None);
        match text.push(&piece) {
            Step::Emit(out) => {
                // Empty text waits: its tokens travel with the next non-empty piece.
                if !out.is_empty() && !send(out, &mut pending, &mut pending_logprobs) {
                    return Ok(());
                }
            }
            Step::Stop(out) => {
                // The tokens of the stop string are reported (they were generated),
                // its text is not.
                send(out, &mut pending, &mut pending_logprobs);
                return finish(FinishReason::Stop, generated);
            }
        }
        pos += 1;
        if generated >= request.sampling.max_tokens || pos >= settings.context_length as usize {
            let rest = text.finish();
            if !rest.is_empty() || !pending.is_empty() {
                send(rest, &mut pending, &mut pending_logprobs);
            }
            return finish(FinishReason::Length, generated);
        }
        batch.clear();
        batch
            .add(token, (pos - 1) as i32, &[0], true)
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        ctx.decode(&mut batch)
            .map_err(|e| EngineError::Internal(format!("decode failed: {e}")))?;
    }
}

fn score(
    model: &LlamaModel,
    settings: &WorkerSettings,
    ctx: &mut LlamaContext<'_>,
    prompt: &Prompt,
    forced: &[u32],
    temperature: f32,
) -> Result<Vec<TokenScore>, EngineError> {
    let prompt = prompt_tokens(model, settings, prompt)?;
    if forced.is_empty() {
        return Ok(Vec::new());
    }
    if prompt.len() + forced.len() > settings.context_length as usize {
        return Err(EngineError::InvalidRequest(format!(
            "prompt ({}) plus tokens ({}) exceed the context ({})",
            prompt.len(),
            forced.len(),
            settings.context_length
        )));
    }
    let n_vocab = u32::try_from(model.n_vocab()).unwrap_or(0);
    let mut all = prompt.clone();
    for &t in forced {
        if t >= n_vocab {
            return Err(EngineError::InvalidRequest(format!(
                "token {t} is outside the vocabulary"
            )));
        }
        all.push(LlamaToken(t as i32));
    }
    ctx.clear_kv_cache();
    let mut batch = LlamaBatch::new(settings.batch_size as usize, 1);
    // The logits predicting forced[j] are those at position prompt.len() - 1 + j.
    let first = prompt.len() - 1;
    let mut scores = Vec::with_capacity(forced.len());
    eval(
        ctx,
        &mut batch,
        &all[..all.len() - 1],
        0,
        true,
        |ctx, offset, len| {
            for i in 0..len {
                let pos = offset + i;
                if pos < first {
                    continue;
                }
                let logits = ctx.get_logits_ith(i as i32);
                scores.push(score_position(logits, forced[pos - first], temperature));
            }
            Ok(())
        },
    )?;
    Ok(scores)
}

/// Compare the forced token's log-probability with the argmax's, and rank it in
/// softmax(logits / `temperature`): the mass of the tokens the model prefers plus half
/// its own, with that rank's variance for a token drawn from the distribution.
fn score_position(logits: &[f32], token: u32, temperature: f32) -> TokenScore {
    let (argmax, max) =
        logits
            .iter()
            .enumerate()
            .fold((0usize, f32::NEG_INFINITY), |best, (i, &l)| {
                if l > best.1 { (i, l) } else { best }
            });
    let forced = logits
        .get(token as usize)
        .copied()
        .unwrap_or(f32::NEG_INFINITY);
    // p_T(i) = exp((l_i − max) / T) / Σ_j exp((l_j − max) / T)
    let inv_t = 1.0 / f64::from(temperature);
    let weight = |l: f32| ((f64::from(l) - f64::from(max)) * inv_t).exp();
    // Tokens tied with the forced one share its place: half their mass counts above.
    let (total, above, cubes) = logits.iter().fold((0.0, 0.0, 0.0), |(t, a, c), &l| {
        let w = weight(l);
        let a = if l > forced {
            a + w
        } else if l == forced {
            a + w / 2.0
        } else {
            a
        };
        (t + w, a, c + w * w * w)
    });
    let rank = above / total;
    let variance = (1.0 - cubes / (total * total * total)) / 12.0;
    // log-softmax differences equal logit differences.
    TokenScore {
        token,
        argmax: argmax as u32,
        is_argmax: forced >= max,
        logprob_margin: max - forced,
        rank: rank as f32,
        rank_variance: variance.max(0.0) as f32,
    }
}

/// `SmolLM2-135M-Instruct.Q4_1.gguf` -> `SmolLM2-135M-Instruct`.
pub(crate) fn model_id_from_path(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    match stem.rsplit_once('.') {
        Some((base, quant)) if quant_from_name(quant).is_some() => base.to_string(),
        _ => stem,
    }
}

pub(crate) fn quant_from_name(part: &str) -> Option<String> {
    let upper = part.to_ascii_uppercase();
    let known = ["Q", "IQ", "F16", "F32", "BF16", "TQ", "MXFP4"];
    (known.iter().any(|k| upper.starts_with(k)) && upper.chars().any(|c| c.is_ascii_digit()))
        .then_some(upper)
}

/// The weight type from `general.file_type`, else from the file name.
fn quantization(model: &LlamaModel, path: &Path) -> String {
    let from_meta = model
        .meta_val_str("general.file_type")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .and_then(file_type_name);
    if let Some(name) = from_meta {
        return name.to_string();
    }
    let file = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.split(['.', '-', '_'])
        .rev()
        .find_map(quant_from_name)
        .unwrap_or_else(|| "unknown".into())
}

/// llama.cpp's `llama_ftype` numbering.
fn file_type_name(ftype: u32) -> Option<&'static str> {
    Some(match ftype {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        _ => return None,
    })
}

/// The SIMD level llama.cpp runs with: what the build enables (AVX2 by default,
/// AVX-512 when built with `-C target-cpu=native` on such a CPU), capped by what this
/// CPU supports.
fn kernel_level(gpu: bool) -> String {
    if gpu {
        return "cuda".into();
    }
    cpu_kernel_level().into()
}

#[cfg(target_arch = "x86_64")]
fn cpu_kernel_level() -> &'static str {
    let built_avx512 = cfg!(target_feature = "avx512f");
    if built_avx512 && std::arch::is_x86_feature_detected!("avx512f") {
        "avx512"
    } else if std::arch::is_x86_feature_detected!("avx2") {
        "avx2"
    } else {
        "sse"
    }
}

#[cfg(target_arch = "aarch64")]
fn cpu_kernel_level() -> &'static str {
    "neon"
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn cpu_kernel_level() -> &'static str {
    "generic"
}

/// A conversation as clients send it (OpenAI roles; any other role is a user's), to be
/// rendered with the model's chat template.
impl From<&[plexus_validator::probe::Message]> for Prompt {
    fn from(messages: &[plexus_validator::probe::Message]) -> Self {
        Prompt::Chat(
            messages
                .iter()
                .map(|m| crate::ChatMessage {
                    role: match m.role.as_str() {
                        "system" => crate::Role::System,
                        "assistant" => crate::Role::Assistant,
                        _ => crate::Role::User,
                    },
                    content: m.content.clone(),
                })
                .collect(),
        )
    }
}

/// The validator re-executes answers with the declared model through this engine: the
/// probe's conversation, rendered with the model's chat template.
impl plexus_validator::service::Reexecutor for LlamaEngine {
    fn tokenize(&self, text: &str) -> Vec<u32> {
        LlamaEngine::tokenize(self, text)
    }

    fn end_tokens(&self) -> Vec<u32> {
        LlamaEngine::end_tokens(self)
    }

    fn score_tokens(
        &self,
        messages: &[plexus_validator::probe::Message],
        tokens: Vec<u32>,
        temperature: f32,
    ) -> futures::future::BoxFuture<'_, Result<Vec<TokenScore>, String>> {
        let prompt = Prompt::from(messages);
        Box::pin(async move {
            LlamaEngine::score_tokens(self, prompt, tokens, temperature)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_drop_the_quantization_suffix() {
        assert_eq!(
            model_id_from_path(Path::new("/m/SmolLM2-135M-Instruct.Q4_1.gguf")),
            "SmolLM2-135M-Instruct"
        );
        assert_eq!(model_id_from_path(Path::new("plain.gguf")), "plain");
    }

    #[test]
    fn quantization_is_read_from_a_file_name() {
        assert_eq!(quant_from_name("q4_k_m").as_deref(), Some("Q4_K_M"));
        assert_eq!(quant_from_name("Instruct"), None);
    }

    #[test]
    fn a_forced_token_is_scored_against_the_argmax() {
        let s = score_position(&[0.0, 2.0, 1.5], 2, 1.0);
        assert_eq!(s.argmax, 1);
        assert!(!s.is_argmax);
        assert!((s.logprob_margin - 0.5).abs() < 1e-6);
        assert!(score_position(&[0.0, 2.0, 1.5], 1, 1.0).is_argmax);
    }

    #[test]
    fn a_forced_token_is_ranked_in_the_distribution_at_the_temperature() {
        // Two equally likely tokens: each ranks ½, variance (1 − 2/8) / 12.
        let s = score_position(&[1.0, 1.0], 0, 1.0);
        assert!((s.rank - 0.5).abs() < 1e-6);
        assert!((s.rank_variance - 0.75 / 12.0).abs() < 1e-6);
        // p = (e²/(e²+1), 1/(e²+1)) at T = 1, and for the same logits doubled at T = 2.
        let p = 1.0 / (1.0 + (-2.0f64).exp());
        for (logits, t) in [([2.0f32, 0.0], 1.0f32), ([4.0, 0.0], 2.0)] {
            let top = score_position(&logits, 0, t);
            let low = score_position(&logits, 1, t);
            assert!((f64::from(top.rank) - p / 2.0).abs() < 1e-5);
            assert!((f64::from(low.rank) - (p + (1.0 - p) / 2.0)).abs() < 1e-5);
            // A sample's mean rank is ½.
            let mean = p * f64::from(top.rank) + (1.0 - p) * f64::from(low.rank);
            assert!((mean - 0.5).abs() < 1e-5);
            let var = (1.0 - p.powi(3) - (1.0 - p).powi(3)) / 12.0;
            assert!((f64::from(top.rank_variance) - var).abs() < 1e-5);
        }
        // A token the model all but rules out ranks near 1; a certain one near 0.
        assert!(score_position(&[40.0, 0.0], 1, 1.0).rank > 0.999);
        assert!(score_position(&[40.0, 0.0], 0, 1.0).rank < 0.501);
    }
}
