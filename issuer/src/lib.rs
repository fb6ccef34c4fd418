//! Blind-sign credit tokens for deposits paid on chain, behind an OHTTP gateway.
//!
//! A buyer pays a bundle into one of this issuer's keys with `BuyCredits` and gets a
//! numbered deposit. It then sends, through a relay, an [`IssuanceRequest`]: the
//! deposit id, exactly `deposit.tokens` blinded RFC 9578 token requests, and its
//! coldkey's signature over `issuance_signing_bytes(chain id, deposit, requests)`.
//! The issuer checks the deposit on chain (it names this issuer and the key the
//! requests are for, and the signature is the buyer's), records the deposit as used
//! together with the answers in one durable write, and blind-signs. The same request
//! sent again (a lost answer) gets the same answers; a different request for a used
//! deposit is refused. The issuer never sees the token nonces or the providers the
//! tokens are bound to: both are inside the blinded messages.
//!
//! [`router`] serves `POST /ohttp`: an OHTTP request (`message/ohttp-req`) whose
//! BHTTP content is `POST /v1/issue` with the JSON request.
//!
//! Owns the issuer's server half: its keys, its record of used deposits and the
//! [`service`] that registers and serves it (buyers use `plexus-session`). May not
//! depend on the node, an engine or the client half of the private path.

pub mod service;

use std::{collections::BTreeMap, path::Path, sync::Arc};

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
    token::{IssuerKey, TokenError},
};
use plexus_types::{AccountId, Hash, Signature, credits::issuance_signing_bytes};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::json;
use thiserror::Error;

pub use plexus_types::credits::{
    ISSUE_PATH, IssuanceRequest, IssuanceResponse, MAX_TOKENS_PER_ISSUANCE,
};
pub use service::{IssuerService, ServiceConfig, ServiceError};

const ISSUED: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("issued");

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
            IssueError::BadRequest { .. } => "bad_token_request",
            IssueError::Chain(_) => "chain_unavailable",
            IssueError::Store(_) => "unavailable",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            IssueError::UnknownDeposit(_) => StatusCode::NOT_FOUND,
            IssueError::DepositUsed(_) => StatusCode::CONFLICT,
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
    keys: BTreeMap<Hash, IssuerKey>,
    db: Database,
    signed: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("hotkey", &self.hotkey)
            .field("keys", &self.keys.len())
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
        tx.commit().map_err(|e| store(e.into()))?;
        Ok(Self {
            hotkey,
            chain_id,
            keys: keys
                .into_iter()
                .map(|k| (Hash(k.public().key_id()), k))
                .collect(),
            db,
            signed: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The issuer hotkey.
    pub fn hotkey(&self) -> &AccountId {
        &self.hotkey
    }

    /// Answer `request` for `deposit` (as read from the chain).
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
        let key = self
            .keys
            .get(&deposit.key_id)
            .ok_or(IssueError::UnknownKey(deposit.key_id))?;
        if request.token_requests.len() != deposit.tokens as usize
            || request.token_requests.len() > MAX_TOKENS_PER_ISSUANCE
        {
            return Err(IssueError::WrongCount {
                deposit: deposit.id,
                want: deposit.tokens,
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
        let signed = issuance_signing_bytes(self.chain_id, deposit.id, &requests);
        deposit
            .buyer
            .verify(&signed, &Signature(sig))
            .map_err(|_| IssueError::BadSignature)?;
        let request_hash = blake3::hash(&signed);
        // Sign first (no state changes), then record; a crash in between signs again
        // on retry, which issues nothing new: the blinded inputs are the same.
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
        self.record(deposit.id, request_hash.as_bytes(), &record)
            .map_err(|e| IssueError::Store(e.0))?
    }

    /// Record the deposit as used by `request_hash` with `record`, unless it was used
    /// already: the same request gets its earlier answer, another is refused.
    fn record(
        &self,
        deposit: u64,
        request_hash: &[u8; 32],
        record: &IssuanceResponse,
    ) -> Result<Result<IssuanceResponse, IssueError>, StoreError> {
        let tx = self.db.begin_write()?;
        let outcome = {
            let mut table = tx.open_table(ISSUED)?;
            let existing = table.get(deposit)?.map(|v| v.value().to_vec());
            match existing {
                Some(bytes) => {
                    if bytes.get(..32) == Some(request_hash.as_slice()) {
                        serde_json::from_slice(&bytes[32..])
                            .map_err(|e| IssueError::Store(e.to_string()))
                    } else {
                        Err(IssueError::DepositUsed(deposit))
                    }
                }
                None => {
                    let mut value = request_hash.to_vec();
                    value.extend_from_slice(
                        &serde_json::to_vec(record).map_err(|e| StoreError(e.to_string()))?,
                    );
                    table.insert(deposit, value.as_slice())?;
                    Ok(record.clone())
                }
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// Blind signatures made since this issuer was opened (the RSA work done).
    pub fn signatures(&self) -> u64 {
        self.signed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a deposit was used.
    pub fn is_used(&self, deposit: u64) -> Result<bool, IssueError> {
        let read = || -> Result<bool, StoreError> {
            let tx = self.db.begin_read()?;
            let table = tx.open_table(ISSUED)?;
            Ok(table.get(deposit)?.is_some())
        };
        read().map_err(|e| IssueError::Store(e.0))
    }
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

/// The issuer's routes: `POST /ohttp`.
pub fn router(service: Service) -> Router {
    Router::new()
        .route("/ohttp", post(ohttp))
        .layer(axum::extract::DefaultBodyLimit::max(
            oblivious::MAX_ENCAPSULATED_REQUEST_LEN,
        ))
        .with_state(service)
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
    // Replays need no separate defence here: a replayed issuance gets the answer it
    // already got, and nothing new is signed.
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
