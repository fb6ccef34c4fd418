//! Send requests over the private path: BHTTP inside OHTTP, posted to a relay (or,
//! for an operator's own checks, straight to a gateway), whole or streamed.
//!
//! The request carries only `content-type` and, when tokens are given,
//! `Authorization: PrivateToken …`; it is zero-padded to a size bucket before it is
//! sealed. Streamed answers follow the provider's chunk layout: a framed BHTTP head,
//! then framed body bytes (see `plexus_provider::private`).

use std::time::Duration;

use futures::{StreamExt as _, stream::BoxStream};
use plexus_privacy::{
    chunked,
    message::{self, MessageError},
    oblivious::{self, OhttpError, PublicKeyConfig},
    padding::{PaddingError, StreamFrame, pad_to_bucket, unframe_event, unframe_stream},
    token::{Token, authorization_value},
};
use plexus_types::AccountId;
use reqwest::Url;
use thiserror::Error;

/// Why a private request failed on the way (not an HTTP status inside the answer).
#[derive(Debug, Error)]
pub enum PrivateError {
    /// Sealing or opening failed.
    #[error("OHTTP: {0}")]
    Ohttp(#[from] OhttpError),
    /// A BHTTP message did not encode or decode.
    #[error("BHTTP: {0}")]
    Message(#[from] MessageError),
    /// A frame of a streamed answer is malformed.
    #[error("streamed answer: {0}")]
    Frame(#[from] PaddingError),
    /// The request is too large for the biggest padding bucket.
    #[error("the request is too large to send privately")]
    TooLarge,
    /// The relay or gateway could not be reached.
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// The relay or gateway refused the encapsulated request itself.
    #[error("{url} refused the encapsulated request: HTTP {status}: {body}")]
    Refused {
        /// Where.
        url: String,
        /// The outer status.
        status: u16,
        /// The outer body (a JSON error, never plaintext of ours).
        body: String,
    },
    /// The answer was not an OHTTP response.
    #[error("the answer has content type {0:?}, not an OHTTP response")]
    WrongMediaType(String),
}

/// Where encapsulated requests for one gateway go, and the key they are sealed to.
#[derive(Debug, Clone)]
pub struct Route {
    /// The URL the encapsulated request is posted to.
    pub url: Url,
    /// The gateway's OHTTP key configuration, as registered on chain.
    pub config: PublicKeyConfig,
}

impl Route {
    /// Through `relay` to the gateway registered by `target`.
    pub fn via_relay(
        relay: &Url,
        target: &AccountId,
        config: PublicKeyConfig,
    ) -> Result<Self, PrivateError> {
        let url = join(relay, &format!("v1/relay/{}", target.to_address()))?;
        Ok(Self { url, config })
    }

    /// Straight to a gateway at `base` (its `/ohttp` resource). This reveals the
    /// caller's address to the gateway: for operators checking their own service.
    pub fn direct(base: &Url, config: PublicKeyConfig) -> Result<Self, PrivateError> {
        Ok(Self {
            url: join(base, "ohttp")?,
            config,
        })
    }
}

fn join(base: &Url, path: &str) -> Result<Url, PrivateError> {
    let mut text = base.as_str().trim_end_matches('/').to_owned();
    text.push('/');
    text.push_str(path);
    Url::parse(&text).map_err(|e| PrivateError::Unreachable {
        url: text,
        reason: e.to_string(),
    })
}

/// The inner HTTP request.
#[derive(Debug, Clone)]
pub struct PlainRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// JSON body (empty for `GET`).
    pub body: Vec<u8>,
    /// Tokens to spend on it.
    pub tokens: Vec<Token>,
}

impl PlainRequest {
    fn to_bhttp(&self) -> Result<Vec<u8>, PrivateError> {
        let mut headers = vec![(b"content-type".to_vec(), b"application/json".to_vec())];
        if !self.tokens.is_empty() {
            headers.push((
                b"authorization".to_vec(),
                authorization_value(&self.tokens).into_bytes(),
            ));
        }
        let encoded = message::Request {
            method: self.method.as_bytes().to_vec(),
            scheme: b"https".to_vec(),
            authority: b"provider.plexus".to_vec(),
            path: self.path.as_bytes().to_vec(),
            headers,
            body: self.body.clone(),
        }
        .encode()?;
        pad_to_bucket(encoded).map_err(|_| PrivateError::TooLarge)
    }
}

/// The inner HTTP answer to a whole request.
#[derive(Debug, Clone)]
pub struct PlainResponse {
    /// Status.
    pub status: u16,
    /// `content-type`, if any.
    pub content_type: Option<String>,
    /// Body.
    pub body: Vec<u8>,
}

impl From<message::Response> for PlainResponse {
    fn from(r: message::Response) -> Self {
        let content_type = r
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(b"content-type"))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        Self {
            status: r.status,
            content_type,
            body: r.body,
        }
    }
}

/// A streamed answer: the head, then body bytes as they arrive.
pub struct StreamedResponse {
    /// Status and content type (the body of an error answer is in `body` too).
    pub head: PlainResponse,
    /// Body bytes; ends at the authenticated end-of-body frame (or, from a gateway
    /// that sends none, the final chunk); the padding after it is read and checked
    /// in the background.
    pub body: BoxStream<'static, Result<Vec<u8>, PrivateError>>,
}

async fn post(
    http: &reqwest::Client,
    route: &Route,
    media: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<reqwest::Response, PrivateError> {
    let url = route.url.to_string();
    let response = http
        .post(route.url.clone())
        .header("content-type", media)
        .timeout(timeout)
        .body(body)
        .send()
        .await
        .map_err(|e| PrivateError::Unreachable {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    if !response.status().is_success() {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        return Err(PrivateError::Refused {
            url,
            status,
            body: body.chars().take(500).collect(),
        });
    }
    Ok(response)
}

/// Send `request` and wait for the whole answer.
pub async fn send(
    http: &reqwest::Client,
    route: &Route,
    request: &PlainRequest,
    timeout: Duration,
) -> Result<PlainResponse, PrivateError> {
    let (sealed, pending) = oblivious::encapsulate(&route.config, &request.to_bhttp()?)?;
    let response = post(http, route, oblivious::REQUEST_MEDIA_TYPE, sealed, timeout).await?;
    check_media(&response, oblivious::RESPONSE_MEDIA_TYPE)?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| PrivateError::Unreachable {
            url: route.url.to_string(),
            reason: e.to_string(),
        })?;
    let opened = pending.open(&bytes)?;
    Ok(message::Response::decode(&opened)?.into())
}

fn check_media(response: &reqwest::Response, want: &str) -> Result<(), PrivateError> {
    let ct = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if ct.eq_ignore_ascii_case(want) {
        Ok(())
    } else {
        Err(PrivateError::WrongMediaType(ct))
    }
}

/// Give the caller of a streamed answer its error, if it is still listening.
async fn fail(
    tx: Option<tokio::sync::mpsc::Sender<Result<Vec<u8>, PrivateError>>>,
    e: PrivateError,
) {
    if let Some(tx) = tx {
        let _ = tx.send(Err(e)).await;
    }
}

/// Send `request` and stream the answer back chunk by chunk.
pub async fn send_streamed(
    http: &reqwest::Client,
    route: &Route,
    request: &PlainRequest,
    timeout: Duration,
) -> Result<StreamedResponse, PrivateError> {
    let (sealed, mut reader) = chunked::encapsulate(&route.config, &request.to_bhttp()?)?;
    let response = post(http, route, chunked::REQUEST_MEDIA_TYPE, sealed, timeout).await?;
    check_media(&response, chunked::RESPONSE_MEDIA_TYPE)?;
    let url = route.url.to_string();
    let mut bytes = response.bytes_stream();
    let unreachable = move |e: reqwest::Error| PrivateError::Unreachable {
        url: url.clone(),
        reason: e.to_string(),
    };
    // Read until the head chunk is open.
    let mut ended = false;
    let head = loop {
        if let Some(chunk) = reader.next_chunk()? {
            let head = message::Response::decode(unframe_event(&chunk)?)?;
            break PlainResponse::from(head);
        }
        if ended {
            return Err(PrivateError::Ohttp(OhttpError::Truncated {
                len: 0,
                min: 1,
            }));
        }
        match bytes.next().await {
            Some(Ok(b)) => reader.push(&b)?,
            Some(Err(e)) => return Err(unreachable(e)),
            None => {
                reader.finish();
                ended = true;
            }
        }
    };
    // The body is read by a task of its own: once the end-of-body frame arrives the
    // caller's stream ends, while the task keeps reading the padding until the final
    // chunk, so the relay sees the connection last its whole bucket (closing early
    // would tell it when the answer really ended).
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, PrivateError>>(64);
    tokio::spawn(async move {
        let mut tx = Some(tx);
        let mut ended = ended;
        loop {
            loop {
                match reader.next_chunk() {
                    Ok(Some(chunk)) => match unframe_stream(&chunk) {
                        Ok(StreamFrame::Data(data)) => {
                            if let (false, Some(sender)) = (data.is_empty(), tx.as_ref())
                                && sender.send(Ok(data.to_vec())).await.is_err()
                            {
                                // The caller dropped the answer: so do we, which
                                // cancels the generation.
                                return;
                            }
                        }
                        Ok(StreamFrame::End) => tx = None,
                        Err(e) => return fail(tx, e.into()).await,
                    },
                    Ok(None) => break,
                    Err(e) => return fail(tx, e.into()).await,
                }
            }
            if reader.is_done() {
                return;
            }
            if ended {
                let e = OhttpError::Truncated { len: 0, min: 1 };
                return fail(tx, e.into()).await;
            }
            match bytes.next().await {
                Some(Ok(b)) => {
                    if let Err(e) = reader.push(&b) {
                        return fail(tx, e.into()).await;
                    }
                }
                Some(Err(e)) => return fail(tx, unreachable(e)).await,
                None => {
                    reader.finish();
                    ended = true;
                }
            }
        }
    });
    let mut rx = rx;
    let body = futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed();
    Ok(StreamedResponse { head, body })
}
