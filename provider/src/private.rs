//! The private path in front of the OpenAI API: an OHTTP gateway that redeems
//! Privacy Pass tokens before serving, and a settlement queue for them.
//!
//! `POST /ohttp` takes `message/ohttp-req` (the whole answer comes back as one
//! `message/ohttp-res`) or `message/ohttp-chunked-req` (the answer streams back as
//! `message/ohttp-chunked-res`). Inside is a BHTTP request, zero-padded to a size
//! bucket, for one of the provider's OpenAI routes, carrying only `content-type` and
//! `Authorization: PrivateToken token=…` (RFC 9577).
//!
//! In order: a global rate limit and a cap on requests being admitted (beyond them a
//! plain 429: the gateway never sees who sends, so per-client limits are the relay's,
//! RFC 9458 §8); decapsulate (an unknown key id or a bad ciphertext is a plain 400);
//! decode the request and prepare it exactly as the OpenAI route would, which fixes
//! what it costs ([`Work::credits`] of the request the engine will run); verify every
//! token against the issuer keys registered on chain, for this provider's origin (its
//! hotkey address); refuse a replayed encapsulation or a token spent here; take an
//! engine slot; then, while the engine starts on the request, pay: refuse a token
//! already settled on chain (through [`SettledNonces`]: another instance of this
//! provider, or an older copy of its disk, may have served it) and spend the replay
//! id and all the request's tokens, durably, in one transaction. The answer is held
//! back until the payment succeeded and dropped (cancelling the generation) if it
//! failed, so the payment's disk and chain round trips add nothing to the latency of
//! an honest request. Nothing is written for a request that pays nothing. A refusal
//! after decapsulation is sealed inside the response, so the relay learns nothing
//! about why; an answer that is not a success makes its tokens spendable again, so a
//! client never loses a token to a refusal (a 409 names a token spent before).
//!
//! Chunked answers: the first chunk is the BHTTP response head (status and headers,
//! no content) framed with [`frame_event`]; later chunks are frames of the response
//! body sent at a constant rate, [`FRAMES_PER_TICK`] every [`STREAM_TICK`] whether or
//! not the engine wrote anything; then an [`end_frame`], empty frames until the tick
//! count reaches its power-of-two bucket, and the final chunk. Every chunk has the
//! same size and the same spacing, so the relay learns the answer's duration bucket,
//! not its token count. Whole answers are padded to a size bucket of any size
//! ([`pad_response`]).
//!
//! The gateway never reads the connection's peer address or any header but the
//! content type of the outer request. Its disk work runs on blocking threads.

use std::{
    collections::BTreeMap,
    collections::BTreeSet,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures::{FutureExt as _, StreamExt as _, future::BoxFuture};
use plexus_privacy::{
    chunked,
    message::{self, MessageError},
    oblivious::{self, Gateway, OhttpError},
    padding::{
        FRAMES_PER_TICK, MAX_EVENT_LEN, STREAM_TICK, end_frame, frame_event, pad_response,
        stream_ticks_bucket,
    },
    token::{IssuerPublicKey, NID, Token, TokenError, TokenVerifier, parse_authorization},
};
use serde_json::json;
use thiserror::Error;
use tokio::{sync::Semaphore, time::Instant};

use crate::{
    Provider,
    error::ProviderError,
    gate::Ticket,
    server::Prepared,
    spent::{Clash, Payment, SpentError, SpentStore},
};
pub use plexus_types::credits::{TOKENS_PER_CREDIT, Work, credits_for};

/// How long the gateway waits for the chain to say whether tokens were settled.
const SETTLED_LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the private path refused a request.
#[derive(Debug, Error)]
pub enum PrivateError {
    /// The outer request is not an OHTTP request.
    #[error("content type must be message/ohttp-req or message/ohttp-chunked-req")]
    MediaType,
    /// The gateway is at its rate or admission limit.
    #[error("the gateway is at capacity; retry later")]
    RateLimited,
    /// Decapsulation failed: unknown key, bad ciphertext, wrong size.
    #[error("cannot open the encapsulated request: {0}")]
    Ohttp(#[from] OhttpError),
    /// The same encapsulated request was paid for before.
    #[error("this encapsulated request was already served (replay)")]
    Replay,
    /// The inner request is not valid BHTTP.
    #[error("the inner request is not valid BHTTP: {0}")]
    Message(#[from] MessageError),
    /// The provider refuses the request as its OpenAI route would (bad request,
    /// unknown route or model, busy, shutting down): nothing was spent.
    #[error(transparent)]
    Refused(ProviderError),
    /// No or malformed `Authorization: PrivateToken` header.
    #[error("missing or malformed PrivateToken authorization: {0}")]
    NoToken(TokenError),
    /// A token does not verify for this provider.
    #[error("token {index} is not valid here: {error}")]
    BadToken {
        /// Its position.
        index: usize,
        /// Why.
        error: TokenError,
    },
    /// Fewer credits than the request costs.
    #[error("this request costs {need} credits, {have} were presented")]
    NotEnoughCredits {
        /// Credits presented.
        have: u64,
        /// Credits needed.
        need: u64,
    },
    /// A token was already spent here (or is repeated in the request).
    #[error("token {0} was already spent")]
    Spent(usize),
    /// A token was already settled on chain (by another instance of this provider).
    #[error("token {0} was already settled on chain")]
    Settled(usize),
    /// The chain could not say whether the tokens were settled: nothing was spent.
    #[error("cannot check the tokens against the chain now")]
    Chain,
    /// The spent store failed: nothing is served.
    #[error("spent store: {0}")]
    Store(#[from] SpentError),
}

impl PrivateError {
    fn status(&self) -> StatusCode {
        match self {
            PrivateError::MediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PrivateError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            PrivateError::Ohttp(OhttpError::Oversized { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            PrivateError::Ohttp(_) | PrivateError::Message(_) | PrivateError::Replay => {
                StatusCode::BAD_REQUEST
            }
            PrivateError::Refused(e) => e.status(),
            PrivateError::NoToken(_) | PrivateError::BadToken { .. } => StatusCode::UNAUTHORIZED,
            PrivateError::NotEnoughCredits { .. } => StatusCode::PAYMENT_REQUIRED,
            PrivateError::Spent(_) | PrivateError::Settled(_) => StatusCode::CONFLICT,
            PrivateError::Chain | PrivateError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A stable code for the error body.
    pub fn code(&self) -> &'static str {
        match self {
            PrivateError::MediaType => "unsupported_media_type",
            PrivateError::RateLimited => "rate_limited",
            PrivateError::Ohttp(OhttpError::UnknownKeyId(_)) => "unknown_ohttp_key",
            PrivateError::Ohttp(OhttpError::Oversized { .. }) => "request_too_large",
            PrivateError::Ohttp(_) => "ohttp_decrypt_failed",
            PrivateError::Replay => "replayed_request",
            PrivateError::Message(_) => "malformed_bhttp",
            PrivateError::Refused(_) => "refused",
            PrivateError::NoToken(_) => "missing_token",
            PrivateError::BadToken {
                error: TokenError::UnknownKey,
                ..
            } => "unknown_issuer_key",
            PrivateError::BadToken {
                error: TokenError::WrongChallenge,
                ..
            } => "token_for_another_provider",
            PrivateError::BadToken { .. } => "invalid_token",
            PrivateError::NotEnoughCredits { .. } => "insufficient_credits",
            PrivateError::Spent(_) => "token_already_spent",
            PrivateError::Settled(_) => "token_already_settled",
            PrivateError::Chain => "chain_unavailable",
            PrivateError::Store(_) => "unavailable",
        }
    }

    fn body(&self) -> Vec<u8> {
        if let PrivateError::Refused(e) = self {
            return serde_json::to_vec(&crate::openai::ErrorResponse { error: e.object() })
                .unwrap_or_default();
        }
        let message = match self {
            PrivateError::Store(_) => "the provider cannot record spent tokens now".to_owned(),
            other => other.to_string(),
        };
        json!({"error": {"message": message, "type": "invalid_request_error", "code": self.code()}})
            .to_string()
            .into_bytes()
    }
}

impl IntoResponse for PrivateError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        if matches!(self, PrivateError::RateLimited) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// Issuer keys the provider accepts: those registered on chain.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    verifier: TokenVerifier,
    denominations: BTreeMap<[u8; NID], u32>,
}

impl Keyring {
    /// An empty keyring (accepts no token).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accept tokens of `key`, issued by `issuer` (the issuer hotkey's address), worth
    /// `denomination` credits each.
    pub fn add(&mut self, issuer: &str, key: IssuerPublicKey, denomination: u32) {
        self.denominations.insert(key.key_id(), denomination);
        self.verifier.add_key(issuer, key);
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.denominations.len()
    }

    /// Whether no key is known.
    pub fn is_empty(&self) -> bool {
        self.denominations.is_empty()
    }

    /// The RFC 9578 key ids of the accepted keys.
    pub fn key_ids(&self) -> BTreeSet<[u8; NID]> {
        self.denominations.keys().copied().collect()
    }
}

/// Where the gateway learns whether token nonces were settled on chain.
pub trait SettledNonces: Send + Sync {
    /// The index of the first of `nonces` already settled on chain, if any; an error
    /// when the chain cannot tell now.
    fn first_settled<'a>(
        &'a self,
        nonces: &'a [[u8; 32]],
    ) -> BoxFuture<'a, Result<Option<usize>, String>>;
}

impl SettledNonces for plexus_client::Client {
    fn first_settled<'a>(
        &'a self,
        nonces: &'a [[u8; 32]],
    ) -> BoxFuture<'a, Result<Option<usize>, String>> {
        Box::pin(async move {
            let lookups = nonces.iter().map(|n| self.nonce_status(n));
            let statuses = futures::future::try_join_all(lookups)
                .await
                .map_err(|e| e.to_string())?;
            Ok(statuses.iter().position(|s| s.settled.is_some()))
        })
    }
}

/// How much unpaid work the gateway takes on: it cannot tell senders apart (the relay
/// can, and limits each client), so it limits the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayLimits {
    /// Encapsulated requests accepted per second, on average.
    pub per_second: u32,
    /// Encapsulated requests accepted at once after a quiet spell.
    pub burst: u32,
    /// Requests being admitted at once (decapsulated, verified, checked, spent); the
    /// engine's own queue bounds the rest.
    pub admitting: usize,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        Self {
            per_second: 1000,
            burst: 2000,
            admitting: 64,
        }
    }
}

/// A token bucket: `burst` requests, refilled at `per_second`.
#[derive(Debug)]
struct Bucket {
    available: f64,
    last: std::time::Instant,
}

/// The private gateway's state. Cheap to clone.
#[derive(Clone)]
pub struct PrivateGateway {
    inner: Arc<GatewayInner>,
}

struct GatewayInner {
    ohttp: RwLock<Arc<Gateway>>,
    origin: String,
    keyring: RwLock<Keyring>,
    spent: Arc<SpentStore>,
    provider: Provider,
    settled: RwLock<Option<Arc<dyn SettledNonces>>>,
    limits: GatewayLimits,
    bucket: Mutex<Bucket>,
    admitting: Arc<Semaphore>,
}

/// A token's issuer key id and nonce.
type KeyedNonce = ([u8; 32], [u8; 32]);

/// A request let through: what to run, its slot, the tokens it holds once paid, and
/// its payment, running while the engine works.
struct Admitted {
    prepared: Prepared,
    ticket: Option<Ticket>,
    deadline: Instant,
    held: Held,
    payment: Option<tokio::task::JoinHandle<Paid>>,
}

/// How a payment ended: the outer error is answered in plain HTTP (a replay), the
/// inner one is sealed for the client.
type Paid = Result<Result<(), PrivateError>, PrivateError>;

/// Tokens spent by a request still running. Resolved as served (queued for
/// settlement) or refused (spendable again); dropped unresolved (the client went away
/// mid-answer) they count as served.
struct Held {
    spent: Arc<SpentStore>,
    nonces: Vec<[u8; 32]>,
}

impl Held {
    fn none(spent: &Arc<SpentStore>) -> Self {
        Self {
            spent: Arc::clone(spent),
            nonces: Vec::new(),
        }
    }

    /// Queue the tokens for settlement (`served`) or make them spendable again.
    async fn resolve(mut self, served: bool) {
        let nonces = std::mem::take(&mut self.nonces);
        if nonces.is_empty() {
            return;
        }
        let done = blocking(&self.spent, move |s| {
            if served {
                s.commit(&nonces)
            } else {
                s.refund(&nonces)
            }
        })
        .await;
        if let Err(e) = done {
            // Held tokens are queued for settlement when the store reopens.
            tracing::warn!(error = %e, served, "cannot resolve the tokens of a request");
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let nonces = std::mem::take(&mut self.nonces);
        if nonces.is_empty() {
            return;
        }
        let spent = Arc::clone(&self.spent);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn_blocking(move || spent.commit(&nonces));
        }
    }
}

/// Run `work` on the spent store on a blocking thread.
async fn blocking<T: Send + 'static>(
    spent: &Arc<SpentStore>,
    work: impl FnOnce(&SpentStore) -> Result<T, SpentError> + Send + 'static,
) -> Result<T, SpentError> {
    let spent = Arc::clone(spent);
    tokio::task::spawn_blocking(move || work(&spent))
        .await
        .map_err(|_| SpentError::Worker)?
}

impl PrivateGateway {
    /// A gateway holding `ohttp` keys, redeeming tokens for `origin` (the provider
    /// hotkey's address) into `spent`, serving `provider`, within `limits`.
    pub fn new(
        ohttp: Gateway,
        origin: String,
        spent: SpentStore,
        provider: Provider,
        limits: GatewayLimits,
    ) -> Self {
        Self {
            inner: Arc::new(GatewayInner {
                ohttp: RwLock::new(Arc::new(ohttp)),
                origin,
                keyring: RwLock::new(Keyring::new()),
                spent: Arc::new(spent),
                provider,
                settled: RwLock::new(None),
                bucket: Mutex::new(Bucket {
                    available: f64::from(limits.burst),
                    last: std::time::Instant::now(),
                }),
                admitting: Arc::new(Semaphore::new(limits.admitting.max(1))),
                limits,
            }),
        }
    }

    /// Replace the accepted issuer keys.
    pub fn set_keyring(&self, keyring: Keyring) {
        if let Ok(mut k) = self.inner.keyring.write() {
            *k = keyring;
        }
    }

    /// Refuse tokens that `chain` says were settled already (and serve nothing while
    /// it cannot tell).
    pub fn set_settled_nonces(&self, chain: Arc<dyn SettledNonces>) {
        if let Ok(mut s) = self.inner.settled.write() {
            *s = Some(chain);
        }
    }

    /// The OHTTP key configurations the gateway accepts now.
    pub fn key_list(&self) -> Result<Vec<u8>, OhttpError> {
        self.ohttp().key_list()
    }

    /// Replace the OHTTP keys accepted (a key rotation): requests sealed to a key
    /// that left are refused as `unknown_ohttp_key` from now on.
    pub fn set_ohttp(&self, ohttp: Gateway) {
        if let Ok(mut g) = self.inner.ohttp.write() {
            *g = Arc::new(ohttp);
        }
    }

    /// The OHTTP keys accepted now.
    fn ohttp(&self) -> Arc<Gateway> {
        match self.inner.ohttp.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The spent store (and settlement queue). Its methods block: call them from a
    /// blocking thread in async code.
    pub fn spent(&self) -> &Arc<SpentStore> {
        &self.inner.spent
    }

    /// Take one request through the door: the rate limit, then an admission place.
    fn door(&self) -> Result<tokio::sync::OwnedSemaphorePermit, PrivateError> {
        {
            let mut bucket = self
                .inner
                .bucket
                .lock()
                .map_err(|_| PrivateError::RateLimited)?;
            let now = std::time::Instant::now();
            let refill = now.duration_since(bucket.last).as_secs_f64()
                * f64::from(self.inner.limits.per_second);
            bucket.available = (bucket.available + refill).min(f64::from(self.inner.limits.burst));
            bucket.last = now;
            if bucket.available < 1.0 {
                return Err(PrivateError::RateLimited);
            }
            bucket.available -= 1.0;
        }
        Arc::clone(&self.inner.admitting)
            .try_acquire_owned()
            .map_err(|_| PrivateError::RateLimited)
    }

    /// Verify the request's tokens for this origin: the credits they are worth, and
    /// the (issuer key id, nonce) of each.
    fn verify(&self, tokens: &[Vec<u8>]) -> Result<(u64, Vec<KeyedNonce>), PrivateError> {
        let keyring = self
            .inner
            .keyring
            .read()
            .map_err(|_| PrivateError::NoToken(TokenError::UnknownKey))?;
        let mut have = 0u64;
        let mut ids = Vec::with_capacity(tokens.len());
        for (index, token) in tokens.iter().enumerate() {
            let ok = keyring
                .verifier
                .verify_for_origin(token, &self.inner.origin)
                .map_err(|error| PrivateError::BadToken { index, error })?;
            have += u64::from(
                keyring
                    .denominations
                    .get(&ok.token_key_id)
                    .copied()
                    .unwrap_or(0),
            );
            ids.push((ok.token_key_id, ok.nonce));
        }
        Ok((have, ids))
    }

    /// Everything between decapsulation and serving. The outer error is answered in
    /// plain HTTP (a replay); the inner one is sealed for the client. Nothing is
    /// written before the request is known to be valid, paid, fresh and given a slot.
    async fn admit(
        &self,
        replay_id: [u8; 32],
        plaintext: &[u8],
    ) -> Result<Result<Admitted, PrivateError>, PrivateError> {
        let inner = &self.inner;
        let sealed = |e: PrivateError| Ok(Err(e));
        let request = match message::Request::decode(plaintext) {
            Ok(r) => r,
            Err(e) => return sealed(e.into()),
        };
        let path = String::from_utf8_lossy(&request.path).into_owned();
        let chat_default = inner
            .provider
            .config()
            .default_chat_max_tokens
            .min(plexus_types::credits::DEFAULT_CHAT_MAX_TOKENS);
        let deadline = inner.provider.deadline();
        let prepared =
            match inner
                .provider
                .prepare(&request.method, &path, &request.body, chat_default)
            {
                Ok(p) => p,
                Err(e) => return sealed(PrivateError::Refused(e)),
            };
        let need = prepared.work().credits();
        if need == 0 {
            return Ok(Ok(Admitted {
                prepared,
                ticket: None,
                deadline,
                held: Held::none(&inner.spent),
                payment: None,
            }));
        }
        let auth = request
            .header(b"authorization")
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        let tokens = match parse_authorization(&auth) {
            Ok(t) if !t.is_empty() => t,
            Ok(_) => return sealed(PrivateError::NoToken(TokenError::MalformedChallenge)),
            Err(e) => return sealed(PrivateError::NoToken(e)),
        };
        let (have, ids) = match self.verify(&tokens) {
            Ok(v) => v,
            Err(e) => return sealed(e),
        };
        if have < need {
            return sealed(PrivateError::NotEnoughCredits { have, need });
        }
        let nonces: Vec<[u8; 32]> = ids.iter().map(|(_, n)| *n).collect();
        let check = nonces.clone();
        match blocking(&inner.spent, move |s| s.check(Some(&replay_id), &check)).await {
            Err(e) => return sealed(e.into()),
            Ok(Some(Clash::Replay)) => return Err(PrivateError::Replay),
            Ok(Some(Clash::Token(i))) => return sealed(PrivateError::Spent(i)),
            Ok(None) => {}
        }
        let ticket = match inner.provider.enter(deadline).await {
            Ok(t) => t,
            Err(e) => return sealed(PrivateError::Refused(e)),
        };
        let payments: Vec<([u8; 32], [u8; 32], Vec<u8>)> = ids
            .iter()
            .zip(tokens)
            .map(|((key, nonce), token)| (*key, *nonce, token))
            .collect();
        // The chain check and the durable spend run while the engine starts: the
        // answer leaves only once they succeeded (see `run`).
        let gateway = self.clone();
        let payment = tokio::spawn(async move { gateway.pay(replay_id, payments).await });
        Ok(Ok(Admitted {
            prepared,
            ticket: Some(ticket),
            deadline,
            held: Held {
                spent: Arc::clone(&inner.spent),
                nonces,
            },
            payment: Some(payment),
        }))
    }

    /// Pay for an admitted request: refuse tokens already settled on chain, then spend
    /// the replay id and every token, all or none, durably.
    async fn pay(&self, replay_id: [u8; 32], payments: Vec<([u8; 32], [u8; 32], Vec<u8>)>) -> Paid {
        let inner = &self.inner;
        let sealed = |e: PrivateError| Ok(Err(e));
        let nonces: Vec<[u8; 32]> = payments.iter().map(|(_, n, _)| *n).collect();
        let chain = inner.settled.read().ok().and_then(|c| c.clone());
        if let Some(chain) = chain {
            match tokio::time::timeout(SETTLED_LOOKUP_TIMEOUT, chain.first_settled(&nonces)).await {
                Ok(Ok(None)) => {}
                Ok(Ok(Some(i))) => return sealed(PrivateError::Settled(i)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cannot check tokens against the chain");
                    return sealed(PrivateError::Chain);
                }
                Err(_) => return sealed(PrivateError::Chain),
            }
        }
        let spent = blocking(&inner.spent, move |s| {
            let paid: Vec<Payment<'_>> = payments
                .iter()
                .map(|(key_id, nonce, token)| Payment {
                    key_id: *key_id,
                    nonce: *nonce,
                    token,
                })
                .collect();
            s.spend(&replay_id, &paid)
        })
        .await;
        match spent {
            Err(e) => sealed(e.into()),
            Ok(Some(Clash::Replay)) => Err(PrivateError::Replay),
            Ok(Some(Clash::Token(i))) => sealed(PrivateError::Spent(i)),
            Ok(None) => Ok(Ok(())),
        }
    }

    /// Forget the spent ids of issuer keys no longer in the keyring (see
    /// [`SpentStore::prune`]).
    pub async fn prune_retired_keys(&self) -> Result<u64, SpentError> {
        let live = self
            .inner
            .keyring
            .read()
            .map(|k| k.key_ids())
            .unwrap_or_default();
        if live.is_empty() {
            // An empty keyring is more likely a bad read than the end of every key.
            return Ok(0);
        }
        blocking(&self.inner.spent, move |s| s.prune(&live)).await
    }
}

/// The private path's routes: `POST /ohttp`, `GET /health`, `GET /healthz` and
/// `GET /readyz`.
pub fn private_router(gateway: PrivateGateway) -> Router {
    Router::new()
        .route("/ohttp", post(ohttp))
        .route("/health", get(crate::server::health))
        .merge(crate::server::health_routes())
        .layer(axum::extract::DefaultBodyLimit::max(
            chunked::MAX_ENCAPSULATED_REQUEST_LEN.max(oblivious::MAX_ENCAPSULATED_REQUEST_LEN),
        ))
        .with_state(gateway)
}

async fn ohttp(State(gw): State<PrivateGateway>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if ct != oblivious::REQUEST_MEDIA_TYPE && ct != chunked::REQUEST_MEDIA_TYPE {
        return PrivateError::MediaType.into_response();
    }
    let permit = match gw.door() {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if ct == oblivious::REQUEST_MEDIA_TYPE {
        whole(gw, body, permit)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    } else {
        streamed(gw, body, permit)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    }
}

fn encode_head(status: StatusCode, headers: &HeaderMap, body: Vec<u8>) -> Vec<u8> {
    let keep = [header::CONTENT_TYPE];
    let response = message::Response {
        status: status.as_u16(),
        headers: headers
            .iter()
            .filter(|(n, _)| keep.contains(n))
            .map(|(n, v)| (n.as_str().as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect(),
        body,
    };
    // Our statuses and headers always encode.
    response.encode().unwrap_or_default()
}

fn refusal(e: &PrivateError) -> Vec<u8> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    encode_head(e.status(), &headers, e.body())
}

/// Run an admitted request while its payment completes; the answer is kept back
/// until the payment succeeded, and dropped (cancelling the generation) if it failed.
/// The caller resolves the tokens: a refusal (any answer but a success) makes them
/// spendable again.
async fn run(
    gw: &PrivateGateway,
    admitted: Admitted,
) -> Result<Result<(Response, Held), PrivateError>, PrivateError> {
    let Admitted {
        prepared,
        ticket,
        deadline,
        mut held,
        payment,
    } = admitted;
    let route = prepared.route();
    let execute = gw.inner.provider.execute(prepared, ticket, deadline);
    let response = match payment {
        None => execute.await,
        Some(mut payment) => {
            let mut execute = std::pin::pin!(execute);
            let (response, paid) = tokio::select! {
                paid = &mut payment => (None, paid),
                response = &mut execute => (Some(response), payment.await),
            };
            // A payment task that died may or may not have spent: refuse, keep nothing.
            let paid = paid.unwrap_or_else(|_| Ok(Err(SpentError::Worker.into())));
            let refused = match paid {
                Ok(Ok(())) => None,
                Ok(Err(sealed)) => Some(Ok(sealed)),
                Err(plain) => Some(Err(plain)),
            };
            if let Some(refused) = refused {
                // Nothing was spent: there is nothing to resolve.
                held.nonces.clear();
                return refused.map(Err);
            }
            match response {
                Some(response) => response,
                None => execute.await,
            }
        }
    };
    gw.inner.provider.count(route, response.status());
    Ok(Ok((response, held)))
}

async fn whole(
    gw: PrivateGateway,
    body: Bytes,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<Response, PrivateError> {
    let opened = gw.ohttp().decapsulate(&body)?;
    let admitted = gw.admit(opened.replay_id.0, &opened.request).await?;
    drop(permit);
    let ran = match admitted {
        Err(e) => Err(e),
        Ok(admitted) => run(&gw, admitted).await?,
    };
    let plaintext = match ran {
        Err(e) => refusal(&e),
        Ok((response, held)) => {
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, oblivious::MAX_RESPONSE_LEN).await;
            let encoded = bytes.ok().and_then(|bytes| {
                pad_response(encode_head(parts.status, &parts.headers, bytes.to_vec())).ok()
            });
            let served = parts.status.is_success() && encoded.is_some();
            held.resolve(served).await;
            match encoded {
                Some(padded) => padded,
                // Too large for any bucket: refused, and nothing is paid for it.
                None => refusal(&PrivateError::Refused(ProviderError::TooLarge)),
            }
        }
    };
    // Every response, of any size, leaves padded to its bucket; a refusal always fits.
    let padded = pad_response(plaintext).map_err(|_| OhttpError::Oversized {
        len: oblivious::MAX_RESPONSE_LEN + 1,
        max: oblivious::MAX_RESPONSE_LEN,
    })?;
    let sealed = opened.response.seal(&padded)?;
    Ok((
        [(header::CONTENT_TYPE, oblivious::RESPONSE_MEDIA_TYPE)],
        sealed,
    )
        .into_response())
}

/// Take the next frame's worth of `pending` body bytes (at most [`MAX_EVENT_LEN`],
/// possibly none).
fn next_frame(pending: &mut Vec<u8>) -> Vec<u8> {
    let take = pending.len().min(MAX_EVENT_LEN);
    let piece: Vec<u8> = pending.drain(..take).collect();
    // A piece of at most MAX_EVENT_LEN always frames.
    frame_event(&piece).unwrap_or_else(|_| end_frame())
}

async fn streamed(
    gw: PrivateGateway,
    body: Bytes,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<Response, PrivateError> {
    let opened = chunked::decapsulate(&gw.ohttp(), &body)?;
    let mut sealer = opened.response;
    let admitted = gw.admit(opened.replay_id.0, &opened.request).await?;
    drop(permit);
    let ran = match admitted {
        Err(e) => Err(e),
        Ok(admitted) => run(&gw, admitted).await?,
    };
    let (head, api_body) = match ran {
        Err(e) => (refusal(&e), None),
        Ok((response, held)) => {
            let (parts, body) = response.into_parts();
            // The head is the commitment: a success streams, so its tokens are paid.
            let served = parts.status.is_success();
            held.resolve(served).await;
            if served {
                (
                    encode_head(parts.status, &parts.headers, Vec::new()),
                    Some(body),
                )
            } else {
                // A refusal's body is one small JSON error: keep it in the head.
                let bytes = axum::body::to_bytes(body, MAX_EVENT_LEN / 2)
                    .await
                    .unwrap_or_default();
                (
                    encode_head(parts.status, &parts.headers, bytes.to_vec()),
                    None,
                )
            }
        }
    };
    let first = frame_event(&head)
        .map_err(|_| PrivateError::Refused(ProviderError::TooLarge))
        .and_then(|f| sealer.seal_chunk(&f).map_err(PrivateError::from))?;
    let (tx, rx) =
        tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2 * FRAMES_PER_TICK);
    tokio::spawn(shape_stream(first, api_body, sealer, tx));
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok((
        [(header::CONTENT_TYPE, chunked::RESPONSE_MEDIA_TYPE)],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Send a streamed answer at a constant rate: every [`STREAM_TICK`],
/// [`FRAMES_PER_TICK`] frames of whatever body bytes are waiting (the head goes in
/// the first), then the [`end_frame`], then empty frames until the tick count reaches
/// its bucket ([`stream_ticks_bucket`]), then the final chunk. The relay sees the
/// same chunks, sizes and spacing for every answer that ends within a bucket; the
/// engine is read only as fast as the frames carry its output.
async fn shape_stream(
    first: Vec<u8>,
    api_body: Option<Body>,
    mut sealer: chunked::ChunkedResponseSealer,
    tx: tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
) {
    let mut stream = api_body.map(Body::into_data_stream);
    let mut pending: Vec<u8> = Vec::new();
    let mut first = Some(first);
    let mut ended = false;
    let mut total: Option<u64> = None;
    let mut ticks: u64 = 0;
    let mut clock = tokio::time::interval(STREAM_TICK);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let room = FRAMES_PER_TICK * MAX_EVENT_LEN;
    loop {
        clock.tick().await;
        // Take what the engine has ready, without waiting for more.
        while !ended && pending.len() < room {
            let Some(body) = stream.as_mut() else {
                ended = true;
                break;
            };
            match body.next().now_or_never() {
                None => break,
                Some(Some(Ok(chunk))) => pending.extend_from_slice(&chunk),
                Some(Some(Err(_)) | None) => ended = true,
            }
        }
        ticks += 1;
        for _ in 0..FRAMES_PER_TICK {
            let frame = if let Some(head) = first.take() {
                // Already sealed.
                if tx.send(Ok(head)).await.is_err() {
                    return;
                }
                continue;
            } else if !pending.is_empty() || total.is_some() || !ended {
                next_frame(&mut pending)
            } else {
                total = Some(stream_ticks_bucket(ticks));
                end_frame()
            };
            // A closed channel means the client went away: returning drops the body,
            // which cancels the generation.
            if !send_sealed(&tx, &mut sealer, &frame).await {
                return;
            }
        }
        if total.is_some_and(|t| ticks >= t) {
            break;
        }
    }
    if let Ok(last) = sealer.finish() {
        let _ = tx.send(Ok(last)).await;
    }
}

/// Seal one frame and send it; false when sealing failed or the client is gone.
async fn send_sealed(
    tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    sealer: &mut chunked::ChunkedResponseSealer,
    frame: &[u8],
) -> bool {
    match sealer.seal_chunk(frame) {
        Ok(bytes) => tx.send(Ok(bytes)).await.is_ok(),
        Err(_) => false,
    }
}

/// Decode the token nonces of queued tokens (for marking them settled).
pub fn token_nonce(token: &[u8]) -> Option<[u8; 32]> {
    Token::decode(token).ok().map(|t| t.nonce)
}

/// The keyring of every issuer key registered on chain.
pub async fn keyring_from_chain(
    client: &plexus_client::Client,
) -> Result<Keyring, plexus_client::ClientError> {
    let mut keyring = Keyring::new();
    for issuer in client.issuers().await?.issuers {
        let name = issuer.hotkey.to_address();
        for key in issuer.keys {
            // The ledger only registers keys that parse; skip anything else.
            if let Ok(public) = IssuerPublicKey::from_spki(&key.spki) {
                keyring.add(&name, public, key.denomination);
            }
        }
    }
    Ok(keyring)
}

/// What one settlement round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    /// Tokens paid in this round.
    pub paid: usize,
    /// Tokens the chain refused for good (already settled, or not valid), dropped.
    pub dropped: usize,
    /// Tokens still queued.
    pub queued: u64,
}

/// Claim payment for up to one batch of queued tokens with `SettleCredits`, signed by
/// the provider `hotkey` registered on `netuid`. A refused batch is retried one token
/// at a time so one bad token cannot hold up the rest; tokens the chain refuses for
/// good (already settled, invalid) leave the queue, others stay for the next round.
pub async fn settle_once(
    client: &plexus_client::Client,
    hotkey: &plexus_types::Keypair,
    netuid: plexus_types::Netuid,
    spent: &Arc<SpentStore>,
    timeout: std::time::Duration,
) -> Result<Settled, plexus_client::ClientError> {
    use plexus_types::{Payload, credits::MAX_SETTLE_TOKENS};
    let queued = blocking(spent, |s| s.unsettled(MAX_SETTLE_TOKENS))
        .await
        .unwrap_or_default();
    let mut report = Settled::default();
    if queued.is_empty() {
        return Ok(report);
    }
    let nonces = |tokens: &[Vec<u8>]| -> Vec<[u8; 32]> {
        tokens.iter().filter_map(|t| token_nonce(t)).collect()
    };
    let mark = |settled: Vec<[u8; 32]>| async move {
        if let Err(e) = blocking(spent, move |s| s.mark_settled(&settled)).await {
            tracing::warn!(error = %e, "cannot mark tokens settled; they are retried");
        }
    };
    let batch = Payload::SettleCredits {
        netuid,
        tokens: queued.clone(),
    };
    match client.send_tx(hotkey, batch, None, timeout).await {
        Ok(_) => {
            report.paid = queued.len();
            mark(nonces(&queued)).await;
        }
        Err(e) if e.code().is_some() => {
            for token in queued {
                let one = Payload::SettleCredits {
                    netuid,
                    tokens: vec![token.clone()],
                };
                match client.send_tx(hotkey, one, None, timeout).await {
                    Ok(_) => report.paid += 1,
                    Err(e)
                        if matches!(e.code(), Some("token_already_settled" | "invalid_token")) =>
                    {
                        report.dropped += 1;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "settlement failed; the token stays queued");
                        continue;
                    }
                }
                mark(nonces(&[token])).await;
            }
        }
        Err(e) => return Err(e),
    }
    report.queued = blocking(spent, |s| s.unsettled_len())
        .await
        .unwrap_or_default();
    Ok(report)
}
