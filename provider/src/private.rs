//! The private path in front of the OpenAI API: an OHTTP gateway that redeems
//! Privacy Pass tokens before serving, and a settlement queue for them.
//!
//! `POST /ohttp` takes `message/ohttp-req` (the whole answer comes back as one
//! `message/ohttp-res`) or `message/ohttp-chunked-req` (the answer streams back as
//! `message/ohttp-chunked-res`). Inside is a BHTTP request, zero-padded to a size
//! bucket, for one of the provider's OpenAI routes, carrying only `content-type` and
//! `Authorization: PrivateToken token=…` (RFC 9577).
//!
//! In order: decapsulate (an unknown key id or a bad ciphertext is a plain 400); refuse
//! a replayed encapsulation (its replay id is recorded in the persistent spent store);
//! decode the request; verify every token against the issuer keys registered on
//! chain, for this provider's origin (its hotkey address); spend all of the request's
//! tokens or none, durably, and queue them for settlement; only then serve. Refusals
//! after decapsulation are sealed inside the response, so the relay learns nothing
//! about why.
//!
//! Chunked answers: the first chunk is the BHTTP response head (status and headers,
//! no content) framed with [`frame_event`]; every later chunk is a frame of the
//! response body (whole SSE events where they fit in one frame); then the final chunk.
//! Every chunk has the same size, so the relay cannot read token lengths.
//!
//! The gateway never reads the connection's peer address or any header but the
//! content type of the outer request.

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, Request, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use futures::StreamExt as _;
use plexus_privacy::{
    chunked,
    message::{self, MessageError},
    oblivious::{self, Gateway, OhttpError},
    padding::{MAX_EVENT_LEN, frame_event},
    token::{IssuerPublicKey, NID, Token, TokenError, TokenVerifier, parse_authorization},
};
use serde_json::json;
use thiserror::Error;
use tower::ServiceExt as _;

pub use plexus_types::credits::{TOKENS_PER_CREDIT, credits_for};
use crate::spent::{SpentError, SpentStore};

/// Paths the private path serves.
const ROUTES: [&str; 4] = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/models",
];

/// Why the private path refused a request.
#[derive(Debug, Error)]
pub enum PrivateError {
    /// The outer request is not an OHTTP request.
    #[error("content type must be message/ohttp-req or message/ohttp-chunked-req")]
    MediaType,
    /// Decapsulation failed: unknown key, bad ciphertext, wrong size.
    #[error("cannot open the encapsulated request: {0}")]
    Ohttp(#[from] OhttpError),
    /// The same encapsulated request was seen before.
    #[error("this encapsulated request was already served (replay)")]
    Replay,
    /// The inner request is not valid BHTTP.
    #[error("the inner request is not valid BHTTP: {0}")]
    Message(#[from] MessageError),
    /// The inner request names a route the private path does not serve.
    #[error("the private path does not serve {0}")]
    Route(String),
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
    /// A token was already spent.
    #[error("token {0} was already spent")]
    Spent(usize),
    /// The spent store failed: nothing is served.
    #[error("spent store: {0}")]
    Store(#[from] SpentError),
}

impl PrivateError {
    fn status(&self) -> StatusCode {
        match self {
            PrivateError::MediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PrivateError::Ohttp(OhttpError::Oversized { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            PrivateError::Ohttp(_) | PrivateError::Message(_) | PrivateError::Replay => {
                StatusCode::BAD_REQUEST
            }
            PrivateError::Route(_) => StatusCode::NOT_FOUND,
            PrivateError::NoToken(_) | PrivateError::BadToken { .. } => StatusCode::UNAUTHORIZED,
            PrivateError::NotEnoughCredits { .. } => StatusCode::PAYMENT_REQUIRED,
            PrivateError::Spent(_) => StatusCode::CONFLICT,
            PrivateError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A stable code for the error body.
    pub fn code(&self) -> &'static str {
        match self {
            PrivateError::MediaType => "unsupported_media_type",
            PrivateError::Ohttp(OhttpError::UnknownKeyId(_)) => "unknown_ohttp_key",
            PrivateError::Ohttp(OhttpError::Oversized { .. }) => "request_too_large",
            PrivateError::Ohttp(_) => "ohttp_decrypt_failed",
            PrivateError::Replay => "replayed_request",
            PrivateError::Message(_) => "malformed_bhttp",
            PrivateError::Route(_) => "not_found",
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
            PrivateError::Store(_) => "unavailable",
        }
    }

    fn body(&self) -> Vec<u8> {
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
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response()
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
}

/// The private gateway's state. Cheap to clone.
#[derive(Clone)]
pub struct PrivateGateway {
    inner: Arc<GatewayInner>,
}

struct GatewayInner {
    ohttp: Gateway,
    origin: String,
    keyring: RwLock<Keyring>,
    spent: SpentStore,
    api: Router,
}

impl PrivateGateway {
    /// A gateway holding `ohttp` keys, redeeming tokens for `origin` (the provider
    /// hotkey's address) into `spent`, and serving through `api` (the OpenAI router).
    pub fn new(ohttp: Gateway, origin: String, spent: SpentStore, api: Router) -> Self {
        Self {
            inner: Arc::new(GatewayInner {
                ohttp,
                origin,
                keyring: RwLock::new(Keyring::new()),
                spent,
                api,
            }),
        }
    }

    /// Replace the accepted issuer keys.
    pub fn set_keyring(&self, keyring: Keyring) {
        if let Ok(mut k) = self.inner.keyring.write() {
            *k = keyring;
        }
    }

    /// The OHTTP key configurations to publish on chain.
    pub fn key_list(&self) -> Result<Vec<u8>, OhttpError> {
        self.inner.ohttp.key_list()
    }

    /// The spent store (and settlement queue).
    pub fn spent(&self) -> &SpentStore {
        &self.inner.spent
    }

    /// Check an opened request: route, tokens, credits; then spend its tokens.
    fn redeem(&self, request: &message::Request) -> Result<(), PrivateError> {
        let path = String::from_utf8_lossy(&request.path).into_owned();
        let route = path.split('?').next().unwrap_or_default();
        if !ROUTES.contains(&route) {
            return Err(PrivateError::Route(path.chars().take(80).collect()));
        }
        if route == "/v1/models" {
            return Ok(()); // listing models costs nothing
        }
        let auth = request
            .header(b"authorization")
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        let tokens = parse_authorization(&auth).map_err(PrivateError::NoToken)?;
        if tokens.is_empty() {
            return Err(PrivateError::NoToken(TokenError::MalformedChallenge));
        }
        let need = credits_for(&request.body);
        let mut have = 0u64;
        let mut spend = Vec::with_capacity(tokens.len());
        {
            let keyring = self
                .inner
                .keyring
                .read()
                .map_err(|_| PrivateError::NoToken(TokenError::UnknownKey))?;
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
                spend.push((ok.nonce, token.as_slice()));
            }
        }
        if have < need {
            return Err(PrivateError::NotEnoughCredits { have, need });
        }
        match self.inner.spent.spend_tokens(&spend, unix_secs())? {
            None => Ok(()),
            Some(index) => Err(PrivateError::Spent(index)),
        }
    }

    /// Decapsulation, replay check and redemption shared by both response modes.
    fn admit(
        &self,
        replay_id: &[u8; 32],
        plaintext: &[u8],
    ) -> Result<Result<message::Request, PrivateError>, PrivateError> {
        if !self.inner.spent.spend(replay_id, unix_secs())? {
            return Err(PrivateError::Replay);
        }
        // From here on, refusals are sealed for the client.
        Ok(message::Request::decode(plaintext)
            .map_err(PrivateError::from)
            .and_then(|r| self.redeem(&r).map(|()| r)))
    }

    async fn call_api(&self, request: message::Request) -> Response {
        let mut builder = Request::builder()
            .method(request.method.as_slice())
            .uri(String::from_utf8_lossy(&request.path).as_ref());
        if let Some(ct) = request.header(b"content-type") {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let Ok(http) = builder.body(Body::from(request.body)) else {
            return PrivateError::Route("unparseable request line".into()).into_response();
        };
        match self.inner.api.clone().oneshot(http).await {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The private path's routes: `POST /ohttp`.
pub fn private_router(gateway: PrivateGateway) -> Router {
    Router::new()
        .route("/ohttp", post(ohttp))
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
    if ct == oblivious::REQUEST_MEDIA_TYPE {
        whole(gw, body)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    } else if ct == chunked::REQUEST_MEDIA_TYPE {
        streamed(gw, body)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    } else {
        PrivateError::MediaType.into_response()
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

async fn whole(gw: PrivateGateway, body: Bytes) -> Result<Response, PrivateError> {
    let opened = gw.inner.ohttp.decapsulate(&body)?;
    let plaintext = match gw.admit(&opened.replay_id.0, &opened.request)? {
        Err(e) => refusal(&e),
        Ok(request) => {
            let response = gw.call_api(request).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, oblivious::MAX_RESPONSE_LEN)
                .await
                .unwrap_or_default();
            encode_head(parts.status, &parts.headers, bytes.to_vec())
        }
    };
    let padded = plexus_privacy::padding::pad_to_bucket(plaintext.clone()).unwrap_or(plaintext);
    let sealed = opened.response.seal(&padded)?;
    Ok((
        [(header::CONTENT_TYPE, oblivious::RESPONSE_MEDIA_TYPE)],
        sealed,
    )
        .into_response())
}

/// Split `bytes` into frames of at most [`MAX_EVENT_LEN`], one SSE event per frame
/// where it fits.
fn frames(pending: &mut Vec<u8>, flush: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = pending
            .windows(2)
            .position(|w| w == b"\n\n")
            .map(|i| i + 2)
            .or_else(|| (flush && !pending.is_empty()).then_some(pending.len()));
        let Some(end) = end else { break };
        let event: Vec<u8> = pending.drain(..end).collect();
        for piece in event.chunks(MAX_EVENT_LEN) {
            // A piece of at most MAX_EVENT_LEN always frames.
            if let Ok(frame) = frame_event(piece) {
                out.push(frame);
            }
        }
    }
    out
}

async fn streamed(gw: PrivateGateway, body: Bytes) -> Result<Response, PrivateError> {
    let opened = chunked::decapsulate(&gw.inner.ohttp, &body)?;
    let mut sealer = opened.response;
    let (head, api_body) = match gw.admit(&opened.replay_id.0, &opened.request)? {
        Err(e) => (refusal(&e), None),
        Ok(request) => {
            let response = gw.call_api(request).await;
            let (parts, body) = response.into_parts();
            (
                encode_head(parts.status, &parts.headers, Vec::new()),
                Some(body),
            )
        }
    };
    let first = frame_event(&head)
        .map_err(|_| PrivateError::Route("response head too large".into()))
        .and_then(|f| sealer.seal_chunk(&f).map_err(PrivateError::from))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(16);
    tokio::spawn(async move {
        if tx.send(Ok(first)).await.is_err() {
            return;
        }
        let mut pending = Vec::new();
        if let Some(body) = api_body {
            let mut stream = body.into_data_stream();
            while let Some(chunk) = stream.next().await {
                let Ok(chunk) = chunk else { break };
                pending.extend_from_slice(&chunk);
                for frame in frames(&mut pending, false) {
                    // A closed channel means the client went away: returning drops
                    // the body, which cancels the generation.
                    if !send_sealed(&tx, &mut sealer, &frame).await {
                        return;
                    }
                }
            }
            for frame in frames(&mut pending, true) {
                if !send_sealed(&tx, &mut sealer, &frame).await {
                    return;
                }
            }
        }
        if let Ok(last) = sealer.finish() {
            let _ = tx.send(Ok(last)).await;
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok((
        [(header::CONTENT_TYPE, chunked::RESPONSE_MEDIA_TYPE)],
        Body::from_stream(stream),
    )
        .into_response())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_framed_whole_and_long_ones_split() {
        let mut pending = b"data: a\n\ndata: b\n\npartial".to_vec();
        let f = frames(&mut pending, false);
        assert_eq!(f.len(), 2);
        assert_eq!(pending, b"partial");
        let mut long = vec![b'x'; MAX_EVENT_LEN + 10];
        long.extend_from_slice(b"\n\n");
        let f = frames(&mut long, false);
        assert_eq!(f.len(), 2);
        assert!(
            f.iter()
                .all(|f| f.len() == plexus_privacy::padding::EVENT_FRAME_LEN)
        );
        let f = frames(&mut pending, true);
        assert_eq!(f.len(), 1);
        assert!(pending.is_empty());
    }
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
    spent: &SpentStore,
    timeout: std::time::Duration,
) -> Result<Settled, plexus_client::ClientError> {
    use plexus_types::{Payload, credits::MAX_SETTLE_TOKENS};
    let queued = spent.unsettled(MAX_SETTLE_TOKENS).unwrap_or_default();
    let mut report = Settled::default();
    if queued.is_empty() {
        return Ok(report);
    }
    let nonces = |tokens: &[Vec<u8>]| -> Vec<[u8; 32]> {
        tokens.iter().filter_map(|t| token_nonce(t)).collect()
    };
    let batch = Payload::SettleCredits {
        netuid,
        tokens: queued.clone(),
    };
    match client.send_tx(hotkey, batch, None, timeout).await {
        Ok(_) => {
            report.paid = queued.len();
            let _ = spent.mark_settled(&nonces(&queued));
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
                let _ = spent.mark_settled(&nonces(&[token]));
            }
        }
        Err(e) => return Err(e),
    }
    report.queued = spent.unsettled_len().unwrap_or_default();
    Ok(report)
}
