//! `plexus provider`'s settings (one key per field of a `--config` file; with the
//! `clap` feature, the same fields as flags), their defaults, and what a provider
//! process starts from them: its engines and its [`ServiceConfig`].

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use plexus_inference::{
    BertEmbedder, EngineError, LlamaConfig, LlamaEngine, UpstreamConfig, UpstreamEngine, models,
};
use plexus_types::{Hash, Keypair, Netuid};
use serde::{Deserialize, Serialize};

use crate::{
    ApiAccess, Embedder, Engine, OnChain, ProviderConfig, ProviderService, ServiceConfig,
    private::GatewayLimits, service::DEFAULT_TX_TIMEOUT,
};

/// Default context per slot: SmolLM2 trains on 8192, but 4096 halves the KV cache.
pub const DEFAULT_CONTEXT: u32 = 4096;

/// Everything a provider process runs with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    /// The node this service reads the chain from (`--node` and `PLEXUS_NODE` win).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub node: Option<String>,
    /// The chat model: a .gguf file, a folder, a name under ~/.plexus/models, or an
    /// ORG/NAME in a Hugging Face cache. Default: the installed SmolLM2-135M-Instruct.
    #[cfg_attr(feature = "clap", arg(long))]
    pub model: Option<String>,
    /// The embedding model (sentence-transformers folder or name). Default: the
    /// installed all-MiniLM-L6-v2 if present.
    #[cfg_attr(feature = "clap", arg(long))]
    pub embeddings: Option<String>,
    /// Serve no embedding model.
    #[cfg_attr(feature = "clap", arg(long, conflicts_with = "embeddings"))]
    pub no_embeddings: bool,
    /// Forward to an OpenAI-compatible server (vLLM, llama.cpp server, TGI, Ollama)
    /// instead of running the built-in engine.
    #[cfg_attr(feature = "clap", arg(long, requires_all = ["upstream_model", "weights_hash"]))]
    pub upstream: Option<String>,
    /// The model name the upstream server serves.
    #[cfg_attr(feature = "clap", arg(long))]
    pub upstream_model: Option<String>,
    /// blake3 of the upstream model's weights file, as published on chain.
    #[cfg_attr(feature = "clap", arg(long))]
    pub weights_hash: Option<Hash>,
    /// Context length of the upstream model [default: 4096].
    #[cfg_attr(feature = "clap", arg(long))]
    pub upstream_context: u32,
    /// Key the upstream server requires, sent as `Authorization: Bearer KEY`. Prefer
    /// the environment variable or the config file to the flag.
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PLEXUS_UPSTREAM_API_KEY", hide_env_values = true)
    )]
    pub upstream_api_key: Option<String>,
    /// The model id clients ask for and the chain shows (default: the GGUF file's
    /// name without its quantization, or the upstream's model name).
    #[cfg_attr(feature = "clap", arg(long))]
    pub served_model_name: Option<String>,
    /// Where to serve the OpenAI API [default: 127.0.0.1:8080].
    #[cfg_attr(feature = "clap", arg(long))]
    pub listen: SocketAddr,
    /// The URL published on chain (default: http://LISTEN).
    #[cfg_attr(feature = "clap", arg(long))]
    pub public_url: Option<String>,
    /// On chain, where the operator's plain OpenAI API and /metrics listen (the
    /// published URL serves only /ohttp and /health) [default: not served].
    #[cfg_attr(feature = "clap", arg(long))]
    pub api_listen: Option<SocketAddr>,
    /// Key the plain API requires as `Authorization: Bearer KEY`; without one it binds
    /// to loopback only. Prefer the environment variable or the config file to the flag.
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PLEXUS_PROVIDER_API_KEY", hide_env_values = true)
    )]
    pub api_key: Option<String>,
    /// Subnet to register on and serve; without it nothing is published.
    #[cfg_attr(feature = "clap", arg(long))]
    pub netuid: Option<Netuid>,
    /// Wallet whose coldkey pays the registration [default: default].
    #[cfg_attr(feature = "clap", arg(long))]
    pub name: String,
    /// Hotkey of that wallet the provider serves as [default: default].
    #[cfg_attr(feature = "clap", arg(long))]
    pub hotkey: String,
    /// Operator name published with `Serve` (so clients can pick a relay run by
    /// someone else) [default: plexus].
    #[cfg_attr(feature = "clap", arg(long))]
    pub operator: String,
    /// CPU threads per generation [default: this machine's physical cores].
    #[cfg_attr(feature = "clap", arg(long))]
    pub threads: u32,
    /// Generations running at once [default: 1].
    #[cfg_attr(feature = "clap", arg(long))]
    pub slots: u32,
    /// Context length per slot (default: the model's, at most 4096).
    #[cfg_attr(feature = "clap", arg(long))]
    pub context: Option<u32>,
    /// Requests waiting for a slot before answering 429 [default: 64].
    #[cfg_attr(feature = "clap", arg(long))]
    pub queue: usize,
    /// Deadline of one request, in seconds [default: 300].
    #[cfg_attr(feature = "clap", arg(long))]
    pub timeout: u64,
    /// State folder (OHTTP key seed, spent tokens). Default: ~/.plexus/provider/HOTKEY.
    #[cfg_attr(feature = "clap", arg(long))]
    pub data_dir: Option<PathBuf>,
    /// Seconds between settlement rounds of redeemed credit tokens [default: 10].
    #[cfg_attr(feature = "clap", arg(long))]
    pub settle_secs: u64,
    /// Seconds a registration or settlement transaction may take to be finalized.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub tx_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub max_body_bytes: usize,
    /// Largest `max_tokens` accepted (also capped by the model's context).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub max_tokens: u32,
    /// `max_tokens` of a chat request that names none.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub default_chat_max_tokens: u32,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        let provider = ProviderConfig::default();
        Self {
            node: None,
            model: None,
            embeddings: None,
            no_embeddings: false,
            upstream: None,
            upstream_model: None,
            weights_hash: None,
            upstream_context: 4096,
            upstream_api_key: None,
            served_model_name: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            api_listen: None,
            api_key: None,
            netuid: None,
            name: "default".into(),
            hotkey: "default".into(),
            operator: provider.operator,
            threads: u32::try_from(num_cpus::get_physical().max(1)).unwrap_or(1),
            slots: 1,
            context: None,
            queue: provider.queue,
            timeout: provider.request_timeout.as_secs(),
            data_dir: None,
            settle_secs: 10,
            tx_timeout_secs: DEFAULT_TX_TIMEOUT.as_secs(),
            max_body_bytes: provider.max_body_bytes,
            max_tokens: provider.max_tokens,
            default_chat_max_tokens: provider.default_chat_max_tokens,
        }
    }
}

/// Why a provider's models could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// `upstream` without the model name or the weights hash.
    #[error("--upstream needs --upstream-model and --weights-hash")]
    UpstreamIncomplete,
    /// The upstream server is unusable.
    #[error("cannot use the upstream server at {url}")]
    Upstream {
        /// The server.
        url: String,
        /// Why.
        #[source]
        source: EngineError,
    },
    /// The model named cannot be found.
    #[error(transparent)]
    Locate(EngineError),
    /// The loading thread died.
    #[error("the model loader failed")]
    Loader(#[from] tokio::task::JoinError),
    /// The chat model does not load.
    #[error(
        "cannot load the chat model (run scripts/setup.sh to install the default one, or pass --model PATH)"
    )]
    Chat(#[source] EngineError),
    /// The embedding model does not load.
    #[error("cannot load the embedding model")]
    Embedding(#[source] EngineError),
}

impl ProviderSettings {
    /// The chat engine: the upstream server, or the local model loaded on a blocking
    /// thread (`loading` is called with its path and its result dropped once loaded).
    pub async fn load_engine<G>(
        &self,
        loading: impl FnOnce(&Path) -> G,
    ) -> Result<Arc<dyn Engine>, LoadError> {
        if let Some(url) = &self.upstream {
            let (Some(model), Some(hash)) = (&self.upstream_model, self.weights_hash) else {
                return Err(LoadError::UpstreamIncomplete);
            };
            let mut config =
                UpstreamConfig::new(url.clone(), model.clone(), hash, self.upstream_context);
            config.api_key.clone_from(&self.upstream_api_key);
            config.served_id.clone_from(&self.served_model_name);
            let engine =
                UpstreamEngine::connect(config)
                    .await
                    .map_err(|source| LoadError::Upstream {
                        url: url.clone(),
                        source,
                    })?;
            return Ok(Arc::new(engine));
        }
        let path = match &self.model {
            Some(spec) => models::locate_gguf(spec).map_err(LoadError::Locate)?,
            None => models::default_chat_model(),
        };
        let config = LlamaConfig {
            threads: self.threads,
            slots: self.slots,
            context_length: Some(self.context.unwrap_or(DEFAULT_CONTEXT)),
            model_id: self.served_model_name.clone(),
            ..LlamaConfig::default()
        };
        let shown = loading(&path);
        let loaded = tokio::task::spawn_blocking(move || LlamaEngine::load(&path, config)).await?;
        drop(shown);
        Ok(Arc::new(loaded.map_err(LoadError::Chat)?))
    }

    /// The embedding model, if one is to be served (`loading` as for
    /// [`Self::load_engine`]).
    pub async fn load_embedder<G>(
        &self,
        loading: impl FnOnce(&Path) -> G,
    ) -> Result<Option<Arc<dyn Embedder>>, LoadError> {
        if self.no_embeddings || self.upstream.is_some() {
            return Ok(None);
        }
        let dir = match &self.embeddings {
            Some(spec) => models::locate_model_dir(spec).map_err(LoadError::Locate)?,
            None => {
                let dir = models::default_embedding_model();
                if !dir.join("model.safetensors").is_file() {
                    return Ok(None);
                }
                dir
            }
        };
        let shown = loading(&dir);
        let loaded = tokio::task::spawn_blocking(move || BertEmbedder::load(&dir)).await?;
        drop(shown);
        Ok(Some(Arc::new(loaded.map_err(LoadError::Embedding)?)))
    }

    /// What the provider needs to be on chain, from the node, its state folder and
    /// the unlocked keys (`None` without a subnet).
    pub fn on_chain(
        &self,
        node: plexus_client::Client,
        data_dir: PathBuf,
        coldkey: Keypair,
        hotkey: Keypair,
    ) -> Option<OnChain> {
        Some(OnChain {
            node,
            netuid: self.netuid?,
            data_dir,
            coldkey,
            hotkey,
            settle_every: Duration::from_secs(self.settle_secs),
            tx_timeout: Duration::from_secs(self.tx_timeout_secs),
        })
    }

    /// The service's configuration.
    pub fn service_config(&self, on_chain: Option<OnChain>) -> ServiceConfig {
        ServiceConfig {
            listen: self.listen,
            public_url: self.public_url.clone(),
            provider: ProviderConfig {
                concurrency: usize::try_from(self.slots).unwrap_or(1).max(1),
                queue: self.queue,
                request_timeout: Duration::from_secs(self.timeout.max(1)),
                operator: self.operator.clone(),
                max_body_bytes: self.max_body_bytes,
                max_tokens: self.max_tokens,
                default_chat_max_tokens: self.default_chat_max_tokens,
            },
            on_chain,
            api: ApiAccess {
                listen: self.api_listen,
                key: self.api_key.clone(),
            },
            gateway: GatewayLimits::default(),
        }
    }
}

impl ProviderService {
    /// What the provider reports once started: where it serves, what (with the
    /// `embeddings` model, if any), and where it is on chain, as JSON and as text.
    pub fn summary(&self, embeddings: Option<&str>) -> (serde_json::Value, String) {
        let local = self
            .api_addr()
            .map_or_else(|| "(not served)".to_owned(), |a| a.to_string());
        let (model, announced) = (self.model(), self.announced());
        let json = serde_json::json!({
            "api": format!("http://{local}/v1"),
            "model": model.id,
            "weights_hash": model.weights_hash,
            "engine": model.engine,
            "embeddings": embeddings,
            "netuid": announced.map(|(n, _)| n),
            "uid": announced.map(|(_, a)| a.uid),
            "metrics": format!("http://{local}/metrics"),
            "gateway": self.gateway_url(),
        });
        let engine = &model.engine;
        let embeddings = embeddings.map_or(String::new(), |e| format!("  embeddings  {e}\n"));
        let chain = announced.map_or(
            "  on chain    not published (pass --netuid to register and serve)\n".to_owned(),
            |(netuid, a)| format!("  on chain    subnet {netuid}, UID {}\n", a.uid),
        );
        let text = format!(
            "Plexus provider serving {} ({} {}, {})\n  OpenAI API  http://{local}/v1\n  weights     blake3 {}\n{embeddings}{chain}  metrics     http://{local}/metrics\nStop with Ctrl-C.",
            model.id, engine.name, engine.quantization, engine.kernel, model.weights_hash,
        );
        (json, text)
    }
}
