//! Blind-sign credit tokens for deposits paid on chain, behind an OHTTP gateway.
//!
//! A buyer pays a bundle into one of this issuer's keys with `BuyCredits` and gets a
//! numbered deposit. It then sends, through a relay, one [`IssuanceRequest`] per batch
//! of [`ISSUANCE_BATCH`] tokens (so the largest bundle fits the private path): the
//! deposit id, the batch's first token, its blinded RFC 9578 token requests, and its
//! coldkey's signature over `issuance_batch_signing_bytes(chain id, deposit, first,
//! requests)` (a request without `first` covers the whole deposit, signed with
//! `issuance_signing_bytes`). The issuer checks the deposit on chain (it names this
//! issuer and the key the requests are for, and the signature is the buyer's), then,
//! before any RSA work, whether the batch was served: the same request sent again (a
//! lost answer, or a relay replaying it) gets the recorded answers without a new
//! signature, and a different request for tokens already served is refused. Only then
//! does it check every token request, blind-sign the batch and record it with the
//! answers in one durable write. Requests are rate-limited per deposit ([`limit`]) and
//! one request per deposit is signed at a time. The issuer never sees the token nonces
//! or the providers the tokens are bound to: both are inside the blinded messages.
//!
//! [`router`] serves `POST /ohttp`: an OHTTP request (`message/ohttp-req`) whose
//! BHTTP content is `POST /v1/issue` with the JSON request.
//!
//! Owns the issuer's server half: its keys, its record of used deposits and the
//! [`service`] that registers and serves it, with its [`settings`] (`--config` keys
//! and, with the `clap` feature, flags); buyers use `plexus-session`. May not
//! depend on the node, an engine or the client half of the private path.

pub mod limit;
pub mod service;
pub mod settings;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use plexus_ledger::credits::Deposit;
use plexus_privacy::{
    message,
    oblivious::{self, Gateway, OhttpError},
    padding::pad_to_bucket,
    token::{IssuerKey, TokenError, TokenRequest},
};
use plexus_types::{
    AccountId, Hash, Signature,
    credits::{issuance_batch_signing_bytes, issuance_batches, issuance_signing_bytes},
};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::json;
use thiserror::Error;

pub use limit::DepositLimits;
pub use plexus_types::credits::{
    ISSUANCE_BATCH, ISSUE_PATH, IssuanceRequest, IssuanceResponse, MAX_TOKENS_PER_ISSUANCE,
};
pub use service::{IssuerService, ServiceConfig, ServiceError};
pub use settings::IssuerSettings;

/// Deposits served whole by an issuer before batches: request hash ‖ JSON answer.
const ISSUED: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("issued");
/// Served batches by (deposit, first token): len (u32 LE) ‖ request hash ‖ JSON answer.
const BATCHES: TableDefinition<'_, (u64, u32), &[u8]> = TableDefinition::new("issued_batches");

/// Why an issuance was refused.
#[derive(Debug, Error)]
pub enum IssueError {
    /// The request is not the JSON shape expected, or its hex does not decode.
    #[error("malformed issuance request: {0}")]
    Malformed(String),
    /// The deposit does not exist (yet): wait for the purchase to finalize.
    #[error("deposit {0} is not on chain (yet): wait for the BuyCredits transaction to finalize")]
    UnknownDeposit(u64),
    /// The deposit is for another issuer.
    #[error("deposit {deposit} was paid to issuer {issuer}, not this one")]
    OtherIssuer {
        /// The deposit.
        deposit: u64,
        /// Its issuer.
        issuer: AccountId,
    },
    /// The deposit names a key this issuer does not hold.
    #[error("this issuer does not hold key {0}")]
    UnknownKey(Hash),
    /// The number of requests differs from the tokens the deposit pays for.
    #[error("deposit {deposit} pays for {want} tokens, {got} were requested")]
    WrongCount {
        /// The deposit.
        deposit: u64,
        /// Tokens it pays for.
        want: u32,
        /// Requests sent.
        got: usize,
    },
    /// The signature is not the buyer's.
    #[error("the signature is not the buyer's over this deposit and these requests")]
    BadSignature,
    /// The deposit was already used for other requests.
    #[error("deposit {0} was already used")]
    DepositUsed(u64),
    /// `first` is not the start of one of the deposit's batches.
    #[error("deposit {deposit} has no batch starting at token {first}")]
    BadBatch {
        /// The deposit.
        deposit: u64,
        /// The first token asked for.
        first: u32,
    },
    /// Another request for the deposit is being signed: retry in a moment.
    #[error("deposit {0} is being issued by another request: retry shortly")]
    InProgress(u64),
    /// Too many requests for this deposit: retry later.
    #[error("too many issuance requests for deposit {deposit}: retry in {retry_after_secs} s")]
    RateLimited {
        /// The deposit.
        deposit: u64,
        /// Seconds until one more request is admitted.
        retry_after_secs: u64,
    },
    /// A token request does not decode or is for another key.
    #[error("token request {index}: {error}")]
    BadRequest {
        /// Its position.
        index: usize,
        /// Why.
        error: TokenError,
    },
    /// The chain could not be asked about the deposit.
    #[error("cannot read the chain: {0}")]
    Chain(String),
    /// The store failed: nothing was signed.
    #[error("issuer store: {0}")]
    Store(String),
}

impl IssueError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            IssueError::Malformed(_) => "malformed_request",
            IssueError::UnknownDeposit(_) => "unknown_deposit",
            IssueError::OtherIssuer { .. } => "other_issuer",
            IssueError::UnknownKey(_) => "unknown_key",
            IssueError::WrongCount { .. } => "wrong_token_count",
            IssueError::BadSignature => "bad_signature",
            IssueError::DepositUsed(_) => "deposit_used",
            IssueError::BadBatch { .. } => "bad_batch",
            IssueError::InProgress(_) => "issuance_in_progress",
            IssueError::RateLimited { .. } => "rate_limited",
            IssueError::BadRequest { .. } => "bad_token_request",
            IssueError::Chain(_) => "chain_unavailable",
            IssueError::Store(_) => "unavailable",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            IssueError::UnknownDeposit(_) => StatusCode::NOT_FOUND,
            IssueError::DepositUsed(_) => StatusCode::CONFLICT,
            IssueError::InProgress(_) | IssueError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            IssueError::BadSignature => StatusCode::UNAUTHORIZED,
            IssueError::Chain(_) | IssueError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl<E: Into<redb::Error>> From<E> for StoreError {
    fn from(e: E) -> Self {
        StoreError(e.into().to_string())
    }
}

/// A failure of the issuer's database.
#[derive(Debug)]
pub struct StoreError(String);

/// The issuer's keys and its record of used deposits.
pub struct Issuer {
    hotkey: AccountId,
    chain_id: u64,
    keys: std::sync::RwLock<BTreeMap<Hash, IssuerKey>>,
    db: Database,
    signed: std::sync::atomic::AtomicU64,
    in_flight: Mutex<BTreeSet<u64>>,
    limiter: limit::DepositLimiter,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("hotkey", &self.hotkey)
            .field("keys", &self.keys().len())
            .finish()
    }
}

impl Issuer {
    /// An issuer for `hotkey` on chain `chain_id` holding `keys`, recording used
    /// deposits in the database at `path`.
    pub fn open(
        hotkey: AccountId,
        chain_id: u64,
        keys: Vec<IssuerKey>,
        path: &Path,
    ) -> Result<Self, IssueError> {
        let store = |e: StoreError| IssueError::Store(e.0);
        let db = Database::create(path).map_err(|e| store(e.into()))?;
        let tx = db.begin_write().map_err(|e| store(e.into()))?;
        tx.open_table(ISSUED).map_err(|e| store(e.into()))?;
        tx.open_table(BATCHES).map_err(|e| store(e.into()))?;
        tx.commit().map_err(|e| store(e.into()))?;
        Ok(Self {
            hotkey,
            chain_id,
            keys: std::sync::RwLock::new(
                keys.into_iter()
                    .map(|k| (Hash(k.public().key_id()), k))
                    .collect(),
            ),
            db,
            signed: std::sync::atomic::AtomicU64::new(0),
            in_flight: Mutex::new(BTreeSet::new()),
            limiter: limit::DepositLimiter::new(DepositLimits::default()),
        })
    }

    /// Admit requests per deposit as `limits` say (default [`DepositLimits::default`]).
    pub fn with_limits(mut self, limits: DepositLimits) -> Self {
        self.limiter = limit::DepositLimiter::new(limits);
        self
    }

    /// The issuer hotkey.
    pub fn hotkey(&self) -> &AccountId {
        &self.hotkey
    }

    /// Issue under `key` too (a new key epoch's key), from now on.
    pub fn add_key(&self, key: IssuerKey) {
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.insert(Hash(key.public().key_id()), key);
    }

    /// Stop issuing under the key `key_id` (its deposits closed).
    pub fn remove_key(&self, key_id: &Hash) {
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.remove(key_id);
    }

    /// The ids of the keys issued under.
    pub fn key_ids(&self) -> Vec<Hash> {
        self.keys().keys().copied().collect()
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Hash, IssuerKey>> {
        // Keys are inserted and removed whole: a poisoned lock still holds a valid map.
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answer `request` for `deposit` (as read from the chain).
    ///
    /// Everything that can refuse the request is checked before any RSA work: the
    /// deposit, the count, the buyer's signature, whether this batch was served (its
    /// earlier answer is returned, nothing is signed) or overlaps a served one
    /// (refused), and every token request's encoding and key. Only then is the batch
    /// claimed (a concurrent copy is told to retry), signed and recorded.
    pub fn issue(
        &self,
        request: &IssuanceRequest,
        deposit: &Deposit,
    ) -> Result<IssuanceResponse, IssueError> {
        if deposit.id != request.deposit {
            return Err(IssueError::UnknownDeposit(request.deposit));
        }
        if deposit.issuer != self.hotkey {
            return Err(IssueError::OtherIssuer {
                deposit: deposit.id,
                issuer: deposit.issuer,
            });
        }
        let keys = self.keys();
        let key = keys
            .get(&deposit.key_id)
            .ok_or(IssueError::UnknownKey(deposit.key_id))?;
        let (first, len) = match request.first {
            None => (0, deposit.tokens),
            Some(first) => issuance_batches(deposit.tokens)
                .find(|(f, _)| *f == first)
                .ok_or(IssueError::BadBatch {
                    deposit: deposit.id,
                    first,
                })?,
        };
        if request.token_requests.len() != len as usize
            || request.token_requests.len() > MAX_TOKENS_PER_ISSUANCE
        {
            return Err(IssueError::WrongCount {
                deposit: deposit.id,
                want: len,
                got: request.token_requests.len(),
            });
        }
        let requests = request
            .token_requests
            .iter()
            .map(|h| hex::decode(h).map_err(|e| IssueError::Malformed(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&request.signature, &mut sig)
            .map_err(|_| IssueError::Malformed("signature must be 128 hex characters".into()))?;
        let signed = match request.first {
            None => issuance_signing_bytes(self.chain_id, deposit.id, &requests),
            Some(first) => {
                issuance_batch_signing_bytes(self.chain_id, deposit.id, first, &requests)
            }
        };
        deposit
            .buyer
            .verify(&signed, &Signature(sig))
            .map_err(|_| IssueError::BadSignature)?;
        let batch = Batch {
            deposit: deposit.id,
            first,
            len,
            hash: *blake3::hash(&signed).as_bytes(),
        };
        // A served batch is answered from the record: a replay costs no signature.
        if let Some(answer) = self.served(&batch)? {
            return Ok(answer);
        }
        let _claim = self.claim(deposit.id)?;
        // Checked again under the claim: a copy may have finished meanwhile.
        if let Some(answer) = self.served(&batch)? {
            return Ok(answer);
        }
        // Refuse a bad token request before signing any of the others.
        let truncated = key.public().truncated_key_id();
        for (index, r) in requests.iter().enumerate() {
            match TokenRequest::decode(r) {
                Ok(t) if t.truncated_token_key_id == truncated => {}
                Ok(_) => {
                    return Err(IssueError::BadRequest {
                        index,
                        error: TokenError::KeyMismatch,
                    });
                }
                Err(error) => return Err(IssueError::BadRequest { index, error }),
            }
        }
        let mut responses = Vec::with_capacity(requests.len());
        for (index, r) in requests.iter().enumerate() {
            let response = key
                .issue(r)
                .map_err(|error| IssueError::BadRequest { index, error })?;
            self.signed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            responses.push(hex::encode(response.encode()));
        }
        let record = IssuanceResponse {
            token_responses: responses,
        };
        self.record(&batch, &record)
            .map_err(|e| IssueError::Store(e.0))?
    }

    /// The answer recorded for `batch`, none if its tokens are still unserved, or
    /// [`IssueError::DepositUsed`] if other requests were served for them.
    fn served(&self, batch: &Batch) -> Result<Option<IssuanceResponse>, IssueError> {
        let read = || -> Result<Result<Option<IssuanceResponse>, IssueError>, StoreError> {
            let tx = self.db.begin_read()?;
            let legacy = tx.open_table(ISSUED)?;
            let batches = tx.open_table(BATCHES)?;
            lookup(&legacy, &batches, batch)
        };
        read().map_err(|e| IssueError::Store(e.0))?
    }

    /// Mark `deposit` as being signed until the guard drops; a second request for it
    /// meanwhile is told to retry rather than signing the same batch twice.
    fn claim(&self, deposit: u64) -> Result<Claim<'_>, IssueError> {
        let mut busy = self
            .in_flight
            .lock()
            .map_err(|_| IssueError::Store("in-flight set poisoned".into()))?;
        if !busy.insert(deposit) {
            return Err(IssueError::InProgress(deposit));
        }
        Ok(Claim {
            set: &self.in_flight,
            deposit,
        })
    }

    /// Record `batch` as served with `record`, unless its tokens were served already:
    /// the same request gets its earlier answer, another is refused.
    fn record(
        &self,
        batch: &Batch,
        record: &IssuanceResponse,
    ) -> Result<Result<IssuanceResponse, IssueError>, StoreError> {
        let tx = self.db.begin_write()?;
        let outcome = {
            let legacy = tx.open_table(ISSUED)?;
            let mut batches = tx.open_table(BATCHES)?;
            match lookup(&legacy, &batches, batch) {
                Err(StoreError(e)) => return Err(StoreError(e)),
                Ok(Err(refused)) => Err(refused),
                Ok(Ok(Some(earlier))) => Ok(earlier),
                Ok(Ok(None)) => {
                    let mut value = batch.len.to_le_bytes().to_vec();
                    value.extend_from_slice(&batch.hash);
                    value.extend_from_slice(
                        &serde_json::to_vec(record).map_err(|e| StoreError(e.to_string()))?,
                    );
                    batches.insert((batch.deposit, batch.first), value.as_slice())?;
                    Ok(record.clone())
                }
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// Whether any of a deposit's tokens were issued.
    pub fn is_used(&self, deposit: u64) -> Result<bool, IssueError> {
        let read = || -> Result<bool, StoreError> {
            let tx = self.db.begin_read()?;
            let legacy = tx.open_table(ISSUED)?;
            let batches = tx.open_table(BATCHES)?;
            Ok(legacy.get(deposit)?.is_some()
                || batches
                    .range((deposit, 0)..=(deposit, u32::MAX))?
                    .next()
                    .is_some())
        };
        read().map_err(|e| IssueError::Store(e.0))
    }

    /// Blind signatures made since this issuer was opened (the RSA work done).
    pub fn signatures(&self) -> u64 {
        self.signed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Admit one more issuance request for `deposit` under the per-deposit rate
    /// limit, before anything else is done for it (reading the chain included).
    pub fn admit(&self, deposit: u64) -> Result<(), IssueError> {
        self.limiter
            .admit(deposit, std::time::Instant::now())
            .map_err(|retry_after| IssueError::RateLimited {
                deposit,
                retry_after_secs: retry_after.as_secs().max(1),
            })
    }
}

/// One request's share of a deposit: tokens `[first, first + len)`, asked for by
/// the signed bytes hashing to `hash`.
struct Batch {
    deposit: u64,
    first: u32,
    len: u32,
    hash: [u8; 32],
}

/// A deposit being signed; released when dropped.
struct Claim<'a> {
    set: &'a Mutex<BTreeSet<u64>>,
    deposit: u64,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.set.lock() {
            set.remove(&self.deposit);
        }
    }
}

/// What the store says of `batch`: served before by the same request (its answer),
/// free (none), or overlapping tokens served to another request (refused).
fn lookup(
    legacy: &impl ReadableTable<u64, &'static [u8]>,
    batches: &impl ReadableTable<(u64, u32), &'static [u8]>,
    batch: &Batch,
) -> Result<Result<Option<IssuanceResponse>, IssueError>, StoreError> {
    let used = || Ok(Err(IssueError::DepositUsed(batch.deposit)));
    let answer = |bytes: &[u8]| {
        serde_json::from_slice(bytes)
            .map(Some)
            .map_err(|e| IssueError::Store(e.to_string()))
    };
    // Recorded by an issuer before batches: the whole deposit, one request.
    if let Some(value) = legacy.get(batch.deposit)? {
        let value = value.value();
        return match value.split_at_checked(32) {
            Some((hash, rest)) if batch.first == 0 && hash == batch.hash.as_slice() => {
                Ok(answer(rest))
            }
            _ => used(),
        };
    }
    let end = batch.first.saturating_add(batch.len);
    for entry in batches.range((batch.deposit, 0)..=(batch.deposit, u32::MAX))? {
        let (k, v) = entry?;
        let (_, first) = k.value();
        let value = v.value();
        let Some((len, rest)) = value.split_first_chunk::<4>() else {
            return Err(StoreError("a batch record is truncated".into()));
        };
        let len = u32::from_le_bytes(*len);
        let Some((hash, body)) = rest.split_at_checked(32) else {
            return Err(StoreError("a batch record is truncated".into()));
        };
        if first == batch.first && len == batch.len && hash == batch.hash.as_slice() {
            return Ok(answer(body));
        }
        if first < end && batch.first < first.saturating_add(len) {
            return used();
        }
    }
    Ok(Ok(None))
}

/// The HTTP service: the issuer, its OHTTP gateway and the node it reads deposits from.
#[derive(Clone)]
pub struct Service {
    issuer: Arc<Issuer>,
    ohttp: Arc<Gateway>,
    node: plexus_client::Client,
}

impl Service {
    /// Serve `issuer` behind `ohttp`, reading deposits from `node`.
    pub fn new(issuer: Issuer, ohttp: Gateway, node: plexus_client::Client) -> Self {
        Self {
            issuer: Arc::new(issuer),
            ohttp: Arc::new(ohttp),
            node,
        }
    }

    /// The issuer served (its keys can change while it serves).
    pub fn issuer(&self) -> &Arc<Issuer> {
        &self.issuer
    }

    /// The gateway's OHTTP key list, for `RegisterIssuer`.
    pub fn key_list(&self) -> Result<Vec<u8>, OhttpError> {
        self.ohttp.key_list()
    }

    async fn handle(&self, plaintext: &[u8]) -> (StatusCode, Vec<u8>) {
        let request = match message::Request::decode(plaintext) {
            Ok(r) => r,
            Err(e) => return error(&IssueError::Malformed(e.to_string())),
        };
        if request.method != b"POST" || request.path != ISSUE_PATH.as_bytes() {
            return (
                StatusCode::NOT_FOUND,
                json!({"error": {"code": "not_found", "message": "POST /v1/issue is the only resource"}})
                    .to_string()
                    .into_bytes(),
            );
        }
        let parsed: IssuanceRequest = match serde_json::from_slice(&request.body) {
            Ok(r) => r,
            Err(e) => return error(&IssueError::Malformed(e.to_string())),
        };
        // Rate-limited per deposit before anything else is done for it.
        if let Err(e) = self.issuer.admit(parsed.deposit) {
            return error(&e);
        }
        let deposit = match self.node.deposit(parsed.deposit).await {
            Ok(d) => d.deposit,
            Err(e) if e.status() == Some(404) => {
                return error(&IssueError::UnknownDeposit(parsed.deposit));
            }
            Err(e) => return error(&IssueError::Chain(e.to_string())),
        };
        let deposit = Deposit {
            id: deposit.id,
            buyer: deposit.buyer,
            issuer: deposit.issuer,
            key_id: deposit.key_id,
            credits: deposit.credits,
            tokens: deposit.tokens,
            amount: deposit.amount,
            block: deposit.block,
        };
        let issuer = Arc::clone(&self.issuer);
        // RSA signing is CPU work: keep it off the async workers.
        let result = tokio::task::spawn_blocking(move || issuer.issue(&parsed, &deposit)).await;
        match result {
            Ok(Ok(response)) => (
                StatusCode::OK,
                serde_json::to_vec(&response).unwrap_or_default(),
            ),
            Ok(Err(e)) => error(&e),
            Err(e) => error(&IssueError::Store(e.to_string())),
        }
    }
}

fn error(e: &IssueError) -> (StatusCode, Vec<u8>) {
    tracing::debug!(code = e.code(), "issuance refused");
    (
        e.status(),
        json!({"error": {"code": e.code(), "message": e.to_string()}})
            .to_string()
            .into_bytes(),
    )
}

/// The issuer's routes: `POST /ohttp`, `GET /healthz`, `GET /readyz`.
pub fn router(service: Service) -> Router {
    Router::new()
        .route("/ohttp", post(ohttp))
        .layer(axum::extract::DefaultBodyLimit::max(
            oblivious::MAX_ENCAPSULATED_REQUEST_LEN,
        ))
        .with_state(service)
        // It starts serving once its key is published on chain.
        .merge(plexus_serve::health::routes(Arc::new(|| Ok(()))))
}

fn outer_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": {"code": code, "message": message}}).to_string(),
    )
        .into_response()
}

async fn ohttp(State(service): State<Service>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.eq_ignore_ascii_case(oblivious::REQUEST_MEDIA_TYPE) {
        return outer_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "content type must be message/ohttp-req",
        );
    }
    let opened = match service.ohttp.decapsulate(&body) {
        Ok(o) => o,
        Err(OhttpError::UnknownKeyId(id)) => {
            return outer_error(
                StatusCode::BAD_REQUEST,
                "unknown_ohttp_key",
                &format!("no OHTTP key with id {id} is registered for this issuer"),
            );
        }
        Err(e) => {
            return outer_error(
                StatusCode::BAD_REQUEST,
                "ohttp_decrypt_failed",
                &e.to_string(),
            );
        }
    };
    // OHTTP has no replay defence of its own: a replayed issuance is answered from the
    // record without signing, and replays are rate-limited per deposit.
    let (status, body) = service.handle(&opened.request).await;
    let inner = message::Response {
        status: status.as_u16(),
        headers: vec![(b"content-type".to_vec(), b"application/json".to_vec())],
        body,
    }
    .encode()
    .unwrap_or_default();
    let padded = pad_to_bucket(inner.clone()).unwrap_or(inner);
    match opened.response.seal(&padded) {
        Ok(sealed) => (
            [(header::CONTENT_TYPE, oblivious::RESPONSE_MEDIA_TYPE)],
            sealed,
        )
            .into_response(),
        Err(e) => outer_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &e.to_string(),
        ),
    }
}
