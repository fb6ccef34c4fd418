//! The relay's state and routes: admit, forward, stream back.
//!
//! **What the relay logs.** Never a body, never a header value, never the client's
//! address. A forwarded request logs (at debug) only its status, byte count and
//! latency; a gateway failure logs (at warn) the target and the error, without
//! anything about the client. Metrics carry no client or target labels.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError, RwLock},
    task::Poll,
    time::Instant,
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{
        ConnectInfo, Path, Request, State, connect_info::MockConnectInfo, rejection::PathRejection,
    },
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use http_body_util::BodyExt as _;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use plexus_privacy::{chunked, oblivious};
use plexus_types::AccountId;
use tokio::time::Sleep;

use crate::{
    RelayConfig, StartError,
    directory::{Directory, forward_url},
    error::RelayError,
    limiter::{Decision, RateLimiter, client_key},
    metrics::{Metrics, Outcome},
    upstream::{Upstream, UpstreamError},
    wire::{Health, Target, Targets},
};

/// An OHTTP relay: its directory, rate limiter, metrics and gateway client. Cheap
/// to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: RelayConfig,
    directory: RwLock<Arc<Directory>>,
    limiter: Mutex<RateLimiter>,
    metrics: Metrics,
    upstream: Upstream,
}

impl Relay {
    /// A relay with an empty directory; install one with [`Relay::set_directory`] or
    /// a [`Refresher`](crate::Refresher).
    pub fn new(config: RelayConfig) -> Result<Self, StartError> {
        let limiter = RateLimiter::new(config.rate)?;
        let upstream = Upstream::new(config.connect_timeout, config.allow_private_targets)
            .map_err(StartError::Tls)?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                directory: RwLock::new(Arc::new(Directory::new())),
                limiter: Mutex::new(limiter),
                metrics: Metrics::new(),
                upstream,
            }),
        })
    }

    /// How it relays.
    pub fn config(&self) -> &RelayConfig {
        &self.inner.config
    }

    /// The directory in use now.
    pub fn directory(&self) -> Arc<Directory> {
        let guard = self
            .inner
            .directory
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&guard)
    }

    /// Forward to the targets of `directory` from now on.
    pub fn set_directory(&self, directory: Directory) {
        self.inner
            .metrics
            .targets
            .set(i64::try_from(directory.len()).unwrap_or(i64::MAX));
        *self
            .inner
            .directory
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(directory);
    }

    /// The Prometheus text exposition of the relay's metrics.
    pub fn metrics(&self) -> String {
        let tracked = self.limiter().tracked();
        self.inner
            .metrics
            .tracked_clients
            .set(i64::try_from(tracked).unwrap_or(i64::MAX));
        self.inner.metrics.encode()
    }

    pub(crate) fn counters(&self) -> &Metrics {
        &self.inner.metrics
    }

    fn limiter(&self) -> std::sync::MutexGuard<'_, RateLimiter> {
        self.inner
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The relay's routes over `relay`: `POST /v1/relay/{target}`,
/// `GET /v1/relay/targets`, `GET /metrics`, `GET /healthz`, `GET /readyz`.
///
/// Rate limiting keys on the TCP peer address, which the server must provide as
/// [`ConnectInfo<SocketAddr>`] (as [`serve`] does); without it every relayed request
/// fails closed with a 500. Forwarding headers are never read.
pub fn router(relay: Relay) -> Router {
    Router::new()
        .route("/v1/relay/targets", get(targets))
        .route("/v1/relay/{target}", post(relay_request))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(relay)
}

/// Serve `relay`'s router on `listener`, with each connection's peer address, until
/// `shutdown` resolves; open responses finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    relay: Relay,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with_origins(listener, relay, &[], shutdown).await
}

/// [`serve`], letting browsers on `origins` call the relay ([`crate::cors`]).
pub async fn serve_with_origins(
    listener: tokio::net::TcpListener,
    relay: Relay,
    origins: &[String],
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_within(listener, relay, origins, default_limits(), shutdown).await
}

/// [`serve_with_origins`] within `limits`: the shared serve loop's header timeout,
/// connection cap (idle connections evicted first) and body ceiling, so a slow-loris
/// client cannot hold the relay.
pub async fn serve_within(
    listener: tokio::net::TcpListener,
    relay: Relay,
    origins: &[String],
    limits: plexus_serve::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = crate::cors::allow_origins(router(relay), origins);
    plexus_serve::serve(listener, app, limits, shutdown).await
}

/// The relay's serve limits: the shared defaults, a body ceiling of the largest
/// request the relay forwards, and no body deadline of the loop's own (the relay
/// answers a slow body with its own 408, [`crate::RelayConfig::body_timeout`]).
pub fn default_limits() -> plexus_serve::Limits {
    plexus_serve::Limits {
        body_limit: oblivious::MAX_ENCAPSULATED_REQUEST_LEN
            .max(chunked::MAX_ENCAPSULATED_REQUEST_LEN),
        body_timeout: None,
        ..plexus_serve::Limits::default()
    }
}

async fn not_found(request: Request) -> RelayError {
    RelayError::NotFound(request.uri().path().to_owned())
}

async fn method_not_allowed() -> RelayError {
    RelayError::MethodNotAllowed
}

async fn metrics(State(relay): State<Relay>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        relay.metrics(),
    )
}

async fn healthz(State(relay): State<Relay>) -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        targets: relay.directory().len(),
    })
}

/// Ready once the chain lists at least one provider or issuer to relay to.
async fn readyz(State(relay): State<Relay>) -> impl IntoResponse {
    plexus_serve::health::ready(match relay.directory().len() {
        0 => Err("no provider or issuer is listed on chain yet".to_owned()),
        _ => Ok(()),
    })
}

async fn targets(State(relay): State<Relay>) -> Json<Targets> {
    let directory = relay.directory();
    let targets: Vec<Target> = directory
        .iter()
        .map(|(hotkey, url)| Target {
            hotkey: *hotkey,
            url: url.as_str().trim_end_matches('/').to_owned(),
        })
        .collect();
    Json(Targets {
        count: targets.len(),
        targets,
    })
}

/// Counts a request in flight until dropped: with the response body when
/// streaming, else with the handler.
#[derive(Debug)]
struct InFlight(Relay);

impl InFlight {
    fn new(relay: &Relay) -> Self {
        relay.inner.metrics.in_flight.inc();
        Self(relay.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.inner.metrics.in_flight.dec();
    }
}

/// The two kinds of encapsulated message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// RFC 9458 `message/ohttp-req` / `-res`.
    Whole,
    /// Chunked OHTTP `message/ohttp-chunked-req` / `-res`.
    Chunked,
}

impl Kind {
    fn request_type(self) -> &'static str {
        match self {
            Self::Whole => oblivious::REQUEST_MEDIA_TYPE,
            Self::Chunked => chunked::REQUEST_MEDIA_TYPE,
        }
    }

    fn response_type(self) -> &'static str {
        match self {
            Self::Whole => oblivious::RESPONSE_MEDIA_TYPE,
            Self::Chunked => chunked::RESPONSE_MEDIA_TYPE,
        }
    }

    fn max_request_len(self) -> usize {
        match self {
            Self::Whole => oblivious::MAX_ENCAPSULATED_REQUEST_LEN,
            Self::Chunked => chunked::MAX_ENCAPSULATED_REQUEST_LEN,
        }
    }
}

/// The media type of `headers`' content type without parameters, if it is one of
/// `kind`'s. The canonical constant is what travels on, never the sender's text.
fn media_kind(headers: &HeaderMap, of: fn(Kind) -> &'static str) -> Option<Kind> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim();
    [Kind::Whole, Kind::Chunked]
        .into_iter()
        .find(|kind| essence.eq_ignore_ascii_case(of(*kind)))
}

async fn relay_request(
    State(relay): State<Relay>,
    target: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let flight = InFlight::new(&relay);
    match forward(&relay, target, request, flight).await {
        Ok(response) => {
            relay.inner.metrics.outcome(Outcome::Forwarded);
            response
        }
        Err(error) => {
            relay.inner.metrics.outcome(error.outcome());
            error.into_response()
        }
    }
}

async fn forward(
    relay: &Relay,
    target: Result<Path<String>, PathRejection>,
    request: Request,
    flight: InFlight,
) -> Result<Response, RelayError> {
    let config = &relay.inner.config;
    let extensions = request.extensions();
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .or_else(|| {
            extensions
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|MockConnectInfo(addr)| addr.ip())
        })
        .ok_or(RelayError::Internal(
            "no peer address: serve the router with ConnectInfo<SocketAddr>",
        ))?;
    if let Decision::Deny { retry_after } = relay.limiter().check(client_key(peer), Instant::now())
    {
        return Err(RelayError::RateLimited { retry_after });
    }
    let Path(target) = target.map_err(|_| RelayError::InvalidTarget)?;
    let hotkey = AccountId::parse(&target).map_err(|_| RelayError::InvalidTarget)?;
    let url = relay
        .directory()
        .get(&hotkey)
        .map(forward_url)
        .ok_or(RelayError::UnknownTarget)?;
    let kind = media_kind(request.headers(), Kind::request_type)
        .ok_or(RelayError::UnsupportedMediaType)?;
    let limit = kind.max_request_len();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(RelayError::TooLarge { limit });
    }
    let body = tokio::time::timeout(config.body_timeout, read_body(request.into_body(), limit))
        .await
        .map_err(|_| RelayError::BodyTimeout(config.body_timeout))??;
    let sent = body.len();

    let started = Instant::now();
    let response = tokio::time::timeout(
        config.upstream_timeout,
        relay.inner.upstream.post(&url, kind.request_type(), body),
    )
    .await
    .map_err(|_| {
        tracing::warn!(target = %hotkey, "relay: the gateway did not answer in time");
        RelayError::UpstreamTimeout(config.upstream_timeout)
    })?
    .map_err(|e| {
        tracing::warn!(target = %hotkey, error = %e, "relay: the gateway failed");
        match e {
            UpstreamError::Connect(_) => RelayError::UpstreamUnreachable,
            UpstreamError::Exchange(_) => RelayError::BadUpstreamResponse,
            UpstreamError::Uri => RelayError::Internal("a directory URL is not a valid URI"),
        }
    })?;
    let latency = started.elapsed();
    relay.inner.metrics.latency(latency);
    relay.inner.metrics.bytes_in.inc_by(sent as u64);

    let Some(answered) = media_kind(response.headers(), Kind::response_type) else {
        tracing::warn!(target = %hotkey, status = response.status().as_u16(), "relay: the gateway answered without an encapsulated response");
        return Err(RelayError::BadUpstreamResponse);
    };
    if response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n > config.max_response_bytes)
    {
        tracing::warn!(target = %hotkey, "relay: the gateway declared a response over the limit");
        return Err(RelayError::BadUpstreamResponse);
    }
    let status = response.status();
    tracing::debug!(
        status = status.as_u16(),
        request_bytes = sent,
        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        "relay: forwarded"
    );
    let body = stream_back(relay, response.into_body(), flight);
    let mut out = Response::new(body);
    *out.status_mut() = status;
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(answered.response_type()),
    );
    Ok(out)
}

/// Read at most `limit` bytes of `body`.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, RelayError> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| RelayError::BadBody)?;
        if let Ok(data) = frame.into_data() {
            if out.len().saturating_add(data.len()) > limit {
                return Err(RelayError::TooLarge { limit });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(out))
}

/// The gateway's body on its way to the client, frame by frame as it arrives (each
/// chunk of a chunked response leaves as soon as it came in), with the gateway's
/// length when it sent one. Trailers are dropped. It ends with an error, which
/// aborts the response to the client, when the gateway stalls past the idle
/// timeout, fails, or sends more than the response limit.
struct Relayed {
    body: Incoming,
    relay: Relay,
    idle: Pin<Box<Sleep>>,
    sent: u64,
    done: bool,
    _flight: InFlight,
}

impl Relayed {
    fn fail(&mut self, why: &'static str) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.done = true;
        Poll::Ready(Some(Err(io::Error::other(why))))
    }
}

impl HttpBody for Relayed {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    let config = &this.relay.inner.config;
                    this.sent = this.sent.saturating_add(data.len() as u64);
                    if this.sent > config.max_response_bytes {
                        tracing::warn!(
                            limit = config.max_response_bytes,
                            "relay: a gateway response ran past the limit"
                        );
                        return this.fail("the gateway's response is too long");
                    }
                    let deadline = tokio::time::Instant::now() + config.idle_timeout;
                    this.idle.as_mut().reset(deadline);
                    this.relay.inner.metrics.bytes_out.inc_by(data.len() as u64);
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Poll::Ready(Some(Err(e))) => {
                    tracing::warn!(error = %e, "relay: a gateway response broke off");
                    return this.fail("the gateway's response broke off");
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => {
                    if this.idle.as_mut().poll(cx).is_ready() {
                        tracing::warn!("relay: a gateway stalled mid-response");
                        return this.fail("the gateway stalled");
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

fn stream_back(relay: &Relay, body: Incoming, flight: InFlight) -> Body {
    let idle = relay.inner.config.idle_timeout;
    Body::new(Relayed {
        body,
        relay: relay.clone(),
        idle: Box::pin(tokio::time::sleep(idle)),
        sent: 0,
        done: false,
        _flight: flight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_match_case_insensitively_without_parameters() {
        let mut headers = HeaderMap::new();
        for (value, kind) in [
            ("message/ohttp-req", Some(Kind::Whole)),
            ("Message/OHTTP-Req; x=1", Some(Kind::Whole)),
            ("message/ohttp-chunked-req", Some(Kind::Chunked)),
            ("message/ohttp-res", None),
            ("application/json", None),
            ("message/ohttp-requests", None),
        ] {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(media_kind(&headers, Kind::request_type), kind, "{value}");
        }
        headers.clear();
        assert_eq!(media_kind(&headers, Kind::request_type), None);
    }

    #[test]
    fn an_unforwarded_request_is_no_longer_in_flight_once_answered() {
        let relay = Relay::new(RelayConfig::default()).unwrap();
        {
            let _one = InFlight::new(&relay);
            assert_eq!(relay.inner.metrics.in_flight.get(), 1);
        }
        assert_eq!(relay.inner.metrics.in_flight.get(), 0);
    }
}
