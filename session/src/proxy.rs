//! An OpenAI-compatible endpoint that sends every request over the private path, so
//! any OpenAI client becomes private unchanged (`plexus proxy` serves it on loopback).
//!
//! Each request goes to a random provider of the requested model that the session
//! holds tokens for, through the relay, paid by [`credits_for`] of its body.
//! `GET /v1/models` is answered from the chain (nothing to hide). Nothing is logged
//! but counts.
//!
//! The proxy spends its user's credits for whoever reaches it, so it answers only
//! programs on this machine, never a web page the user happens to visit (the guard
//! [`ProxyOptions`] configures, checked before anything else):
//! - the `Host` header must name a loopback address or `localhost` (or a name in
//!   [`ProxyOptions::allowed_hosts`]): a DNS-rebinding page reaches 127.0.0.1 under
//!   its own name, and is refused by it (403 `forbidden_host`);
//! - a request carrying an `Origin` (browsers add it to cross-origin and to every
//!   `POST` request) must come from a loopback origin or one in
//!   [`ProxyOptions::allowed_origins`], and `Sec-Fetch-Site: cross-site` is refused
//!   the same way (403 `forbidden_origin`);
//! - a `POST` must say `Content-Type: application/json` (415): a page can send
//!   `text/plain` cross-origin without a CORS preflight, never JSON;
//! - with [`ProxyOptions::api_key`] set, `Authorization: Bearer <key>` is required
//!   (401), as llama.cpp's server and vLLM do with `--api-key`.
//!
//! No CORS header is ever sent, so no foreign page can read an answer either.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures::StreamExt as _;
use plexus_types::credits::credits_for;
use serde_json::json;

use crate::{Answer, Session};

/// Largest request body the proxy takes by default (the private path pads to at most
/// 256 KiB).
pub const DEFAULT_MAX_BODY: usize = 256 << 10;

/// Who may use the proxy besides programs on this machine, and how large a body it
/// takes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyOptions {
    /// Largest request body taken, in bytes.
    pub max_body: usize,
    /// When set, every request must carry `Authorization: Bearer <api_key>`.
    pub api_key: Option<String>,
    /// Host names (without port, lower case) accepted besides loopback addresses and
    /// `localhost`, for a proxy reached under another name on purpose.
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`scheme://host[:port]`) allowed besides loopback ones, for a
    /// web client the user chose.
    pub allowed_origins: Vec<String>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        Self {
            max_body: DEFAULT_MAX_BODY,
            api_key: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
        }
    }
}

/// The proxy's routes: `GET /v1/models`, `POST /v1/chat/completions`,
/// `/v1/completions` and `/v1/embeddings`, taking bodies of at most `max_body` bytes,
/// behind the default guard (loopback hosts and origins, JSON bodies, no key).
pub fn router(session: Arc<Session>, max_body: usize) -> Router {
    router_with(
        session,
        ProxyOptions {
            max_body,
            ..ProxyOptions::default()
        },
    )
}

/// [`router`] with every option of the guard.
pub fn router_with(session: Arc<Session>, options: ProxyOptions) -> Router {
    let max_body = options.max_body;
    let guard = Arc::new(Guard::new(options));
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/models/{id}", get(model))
        .route("/v1/chat/completions", post(forward_chat))
        .route("/v1/completions", post(forward_completions))
        .route("/v1/embeddings", post(forward_embeddings))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(guard, guarded))
        .with_state(session)
}

/// Any other path: the OpenAI error shape, as clients parse it.
async fn unknown_route(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let message = format!("unknown route {method} {}", uri.path());
    openai_error(StatusCode::NOT_FOUND, "unknown_route", &message)
}

/// A known path with another method.
async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let message = format!("{} does not take {method}", uri.path());
    openai_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &message,
    )
}

/// The checks every request passes before it can reach the private path.
struct Guard {
    /// blake3 of the key: compared in constant time.
    key: Option<blake3::Hash>,
    hosts: Vec<String>,
    origins: Vec<String>,
}

impl Guard {
    fn new(options: ProxyOptions) -> Self {
        Self {
            key: options.api_key.map(|k| blake3::hash(k.as_bytes())),
            hosts: options
                .allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            origins: options
                .allowed_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// The refusal for `request`, if any.
    fn check(&self, request: &axum::extract::Request) -> Option<Response> {
        let headers = request.headers();
        let text = |name: header::HeaderName| -> Option<Option<&str>> {
            headers.get(name).map(|v| v.to_str().ok())
        };
        // HTTP/1.1 requires a Host; a missing or unreadable one is refused too.
        let host = text(header::HOST).flatten().or(request.uri().host());
        if !host.is_some_and(|h| self.host_allowed(h)) {
            return Some(openai_error(
                StatusCode::FORBIDDEN,
                "forbidden_host",
                "the proxy answers only requests addressed to localhost or a loopback address",
            ));
        }
        let origin_ok = match text(header::ORIGIN) {
            None => true,
            Some(origin) => origin.is_some_and(|o| self.origin_allowed(o)),
        };
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        if !origin_ok || (cross_site && text(header::ORIGIN).is_none()) {
            return Some(openai_error(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                "the proxy answers no web page but those on this machine (or allowed by its configuration)",
            ));
        }
        if let Some(key) = &self.key {
            let given = text(header::AUTHORIZATION)
                .flatten()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|v| blake3::hash(v.trim().as_bytes()));
            if given.as_ref() != Some(key) {
                return Some(openai_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_api_key",
                    "this proxy needs its API key: Authorization: Bearer <key>",
                ));
            }
        }
        if request.method() == axum::http::Method::POST && !is_json(text(header::CONTENT_TYPE)) {
            return Some(openai_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            ));
        }
        None
    }

    fn host_allowed(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else {
            return false;
        };
        is_loopback_name(&name) || self.hosts.contains(&name)
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        let Some(rest) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            return false;
        };
        host_name(rest).is_some_and(|name| is_loopback_name(&name))
    }
}

/// The host name of an `authority` (`host[:port]`, `[v6][:port]`), lower case; none
/// for anything else (user info, paths, a port that is not a number).
fn host_name(authority: &str) -> Option<String> {
    let port_ok = |port: &str| port.is_empty() || port.bytes().all(|b| b.is_ascii_digit());
    let name = if let Some(v6) = authority.strip_prefix('[') {
        let (name, rest) = v6.split_once(']')?;
        match rest.strip_prefix(':') {
            Some(port) if port_ok(port) => name,
            None if rest.is_empty() => name,
            _ => return None,
        }
    } else {
        match authority.split_once(':') {
            Some((name, port)) if port_ok(port) => name,
            Some(_) => return None,
            None => authority,
        }
    };
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'));
    valid.then(|| name.to_ascii_lowercase())
}

/// `localhost` or a loopback IP address.
fn is_loopback_name(name: &str) -> bool {
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a `Content-Type` is `application/json` (parameters allowed).
fn is_json(content_type: Option<Option<&str>>) -> bool {
    content_type.flatten().is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    })
}

async fn guarded(
    State(guard): State<Arc<Guard>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match guard.check(&request) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

fn openai_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}})),
    )
        .into_response()
}

async fn models(State(session): State<Arc<Session>>) -> Response {
    match session.models().await {
        Ok(models) => Json(json!({
            "object": "list",
            "data": models.iter().map(|m| json!({"id": m, "object": "model", "created": 0, "owned_by": "plexus"})).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => openai_error(StatusCode::BAD_GATEWAY, "chain_unavailable", &plexus_types::error_chain(&e)),
    }
}

/// `GET /v1/models/{id}`: one model the chain's providers serve.
async fn model(
    State(session): State<Arc<Session>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    match session.models().await {
        Ok(models) if models.contains(&id) => {
            Json(json!({"id": id, "object": "model", "created": 0, "owned_by": "plexus"}))
                .into_response()
        }
        Ok(_) => openai_error(
            StatusCode::NOT_FOUND,
            "model_not_found",
            &format!("no provider on chain serves the model {id:?}"),
        ),
        Err(e) => openai_error(
            StatusCode::BAD_GATEWAY,
            "chain_unavailable",
            &plexus_types::error_chain(&e),
        ),
    }
}

async fn forward_chat(State(s): State<Arc<Session>>, body: Bytes) -> Response {
    forward(s, "/v1/chat/completions", body).await
}

async fn forward_completions(State(s): State<Arc<Session>>, body: Bytes) -> Response {
    forward(s, "/v1/completions", body).await
}

async fn forward_embeddings(State(s): State<Arc<Session>>, body: Bytes) -> Response {
    forward(s, "/v1/embeddings", body).await
}

async fn forward(session: Arc<Session>, path: &str, body: Bytes) -> Response {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the request body is not JSON",
        );
    };
    let model = json
        .get("model")
        .and_then(|m| m.as_str())
        .map(str::to_owned);
    let stream = json.get("stream").and_then(serde_json::Value::as_bool) == Some(true);
    if let Some(m) = &model
        && session.models().await.is_ok_and(|all| !all.contains(m))
    {
        return openai_error(
            StatusCode::NOT_FOUND,
            "model_not_found",
            &format!(
                "no provider serves the model '{m}' privately; GET /v1/models lists those that do"
            ),
        );
    }
    let need = credits_for(path, &body);
    let provider = match session.pick(model.as_deref(), need).await {
        Ok(p) => p,
        Err(e) => {
            return openai_error(
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_credits",
                &plexus_types::error_chain(&e),
            );
        }
    };
    // A relay or gateway at its rate limit is paced: wait and try again a few times
    // (the tokens were kept), then tell the client to retry, as OpenAI's 429 does.
    let mut answer = session.send(&provider, path, body.to_vec(), stream).await;
    for wait in RATE_LIMIT_BACKOFF {
        if !answer.as_ref().is_err_and(is_rate_limited) {
            break;
        }
        tokio::time::sleep(wait).await;
        answer = session.send(&provider, path, body.to_vec(), stream).await;
    }
    match answer {
        Ok(Answer::Whole(r)) if r.status == 429 => {
            let mut response = plain(r.status, r.content_type, Body::from(r.body));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, RETRY_AFTER_SECS.into());
            response
        }
        Ok(Answer::Whole(r)) => plain(r.status, r.content_type, Body::from(r.body)),
        Ok(Answer::Streamed(r)) => {
            if r.head.status != 200 {
                let rest: Vec<Vec<u8>> =
                    r.body.filter_map(|b| async move { b.ok() }).collect().await;
                let mut bytes = r.head.body;
                bytes.extend(rest.concat());
                return plain(r.head.status, r.head.content_type, Body::from(bytes));
            }
            let stream = r.body.map(|item| {
                item.map(Bytes::from)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            });
            plain(
                r.head.status,
                r.head.content_type,
                Body::from_stream(stream),
            )
        }
        Err(e) => failure(&e),
    }
}

/// Waits before asking again when the relay or gateway is at its rate limit.
const RATE_LIMIT_BACKOFF: [std::time::Duration; 2] = [
    std::time::Duration::from_millis(500),
    std::time::Duration::from_millis(1_500),
];
/// `Retry-After` of a rate-limited answer, in seconds.
const RETRY_AFTER_SECS: u16 = 2;

/// Whether the relay or the gateway refused the request for its rate or capacity
/// (429 or 503 on the outer request): nothing was spent, a later try may pass.
fn is_rate_limited(error: &crate::SendError) -> bool {
    matches!(
        error,
        crate::SendError::Private {
            source: plexus_client::private::PrivateError::Refused {
                status: 429 | 503,
                ..
            },
            ..
        }
    )
}

/// The answer for a request the private path could not carry: a 429 with
/// `Retry-After` (which the OpenAI SDKs retry) when the relay or gateway is at its rate
/// limit, else a 502.
fn failure(error: &crate::SendError) -> Response {
    let message = plexus_types::error_chain(error);
    if is_rate_limited(error) {
        let mut response = openai_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            &message,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        return response;
    }
    openai_error(StatusCode::BAD_GATEWAY, "private_path_failed", &message)
}

fn plain(status: u16, content_type: Option<String>, body: Body) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let ct = content_type.unwrap_or_else(|| "application/json".into());
    (status, [(header::CONTENT_TYPE, ct)], body).into_response()
}

#[cfg(test)]
mod rate_limit_tests {
    use plexus_client::private::PrivateError;

    use super::*;
    use crate::SendError;

    fn refused(status: u16) -> SendError {
        SendError::Private {
            relay: "http://127.0.0.1:1".into(),
            source: PrivateError::Refused {
                url: "http://127.0.0.1:1/v1/relay/x".into(),
                status,
                body: "{}".into(),
            },
        }
    }

    #[test]
    fn a_relay_at_its_rate_limit_is_a_429_with_retry_after_and_other_failures_a_502() {
        for status in [429, 503] {
            let response = failure(&refused(status));
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        }
        for error in [
            refused(400),
            SendError::Private {
                relay: "http://127.0.0.1:1".into(),
                source: PrivateError::Unreachable {
                    url: "http://127.0.0.1:1".into(),
                    reason: "connection refused".into(),
                },
            },
        ] {
            let response = failure(&error);
            assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
            assert!(response.headers().get(header::RETRY_AFTER).is_none());
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;
    use plexus_client::Client;
    use plexus_types::Keypair;
    use tower::ServiceExt as _;

    use super::*;
    use crate::store::CreditStore;

    /// A proxy over a session whose node and relay are unreachable: a request that
    /// passes the guard reaches the payment step and ends 402 (no credits).
    fn proxy(dir: &tempfile::TempDir) -> Router {
        let coldkey = Keypair::from_seed([7; 32]);
        let store = CreditStore::open(&dir.path().join("credits"), &coldkey).unwrap();
        let client = Client::new("http://127.0.0.1:9").unwrap();
        let anchor = plexus_client::trust::TrustAnchor {
            chain_id: 1,
            validators: Vec::new(),
            epoch_length: 0,
        };
        let session = Session::new(client, "http://127.0.0.1:9".into(), store, anchor);
        router(Arc::new(session), DEFAULT_MAX_BODY)
    }

    fn chat(headers: &[(&str, &str)]) -> Request<Body> {
        let mut builder = Request::post("/v1/chat/completions");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
            .body(Body::from(
                r#"{"messages":[{"role":"user","content":"hi"}]}"#,
            ))
            .unwrap()
    }

    async fn status(router: Router, request: Request<Body>) -> StatusCode {
        router.oneshot(request).await.unwrap().status()
    }

    /// Status and JSON body of a GET from the local machine.
    async fn get_json(router: Router, path: &str, method: &str) -> (StatusCode, serde_json::Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:8088")
            .body(Body::empty())
            .unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn unknown_routes_wrong_methods_and_one_model_answer_in_the_openai_error_shape() {
        let dir = tempfile::tempdir().unwrap();
        let (status, body) = get_json(proxy(&dir), "/v1/assistants", "GET").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "unknown_route");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        let (status, body) = get_json(proxy(&dir), "/v1/chat/completions", "GET").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["code"], "method_not_allowed");
        // The chain is unreachable here: a model lookup says so, in the same shape.
        let (status, body) = get_json(proxy(&dir), "/v1/models/SmolLM2-135M-Instruct", "GET").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["error"]["code"], "chain_unavailable");
    }

    #[tokio::test]
    async fn a_web_page_posting_text_plain_without_preflight_cannot_spend_credits() {
        let dir = tempfile::tempdir().unwrap();
        // The CSRF shape: a "simple" cross-origin request a browser sends without asking.
        let request = chat(&[
            ("host", "127.0.0.1:8088"),
            ("origin", "https://evil.example"),
            ("content-type", "text/plain"),
        ]);
        assert_eq!(status(proxy(&dir), request).await, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn a_text_plain_body_is_refused_even_without_an_origin() {
        let dir = tempfile::tempdir().unwrap();
        let request = chat(&[("host", "127.0.0.1:8088"), ("content-type", "text/plain")]);
        assert_eq!(
            status(proxy(&dir), request).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        let missing = chat(&[("host", "127.0.0.1:8088")]);
        assert_eq!(
            status(proxy(&dir), missing).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }

    #[tokio::test]
    async fn a_dns_rebinding_page_whose_host_is_its_own_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // After rebinding evil.example to 127.0.0.1 the page is same-origin with the
        // proxy, so the browser sends no Origin, but the Host names the attacker's site.
        for host in [
            "evil.example:8088",
            "127.0.0.1.evil.example:8088",
            "localhost.evil.example",
            "192.168.1.5:8088",
        ] {
            let request = chat(&[("host", host), ("content-type", "application/json")]);
            assert_eq!(
                status(proxy(&dir), request).await,
                StatusCode::FORBIDDEN,
                "{host}"
            );
            let models = Request::get("/v1/models")
                .header("host", host)
                .body(Body::empty())
                .unwrap();
            assert_eq!(
                status(proxy(&dir), models).await,
                StatusCode::FORBIDDEN,
                "{host}"
            );
        }
    }

    #[tokio::test]
    async fn a_cross_site_json_request_from_a_foreign_origin_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for origin in [
            "https://evil.example",
            "null",
            "http://localhost.evil.example",
        ] {
            let request = chat(&[
                ("host", "localhost:8088"),
                ("origin", origin),
                ("content-type", "application/json"),
            ]);
            assert_eq!(
                status(proxy(&dir), request).await,
                StatusCode::FORBIDDEN,
                "{origin}"
            );
        }
    }

    #[tokio::test]
    async fn a_local_openai_client_still_reaches_the_private_path() {
        let dir = tempfile::tempdir().unwrap();
        for host in [
            "127.0.0.1:8088",
            "localhost:8088",
            "[::1]:8088",
            "localhost",
        ] {
            let request = chat(&[
                ("host", host),
                ("content-type", "application/json; charset=utf-8"),
                ("authorization", "Bearer sk-anything"),
            ]);
            // It passes the guard and reaches the payment step: no credits here.
            assert_eq!(
                status(proxy(&dir), request).await,
                StatusCode::PAYMENT_REQUIRED,
                "{host}"
            );
        }
        let from_loopback_page = chat(&[
            ("host", "127.0.0.1:8088"),
            ("origin", "http://localhost:3000"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(
            status(proxy(&dir), from_loopback_page).await,
            StatusCode::PAYMENT_REQUIRED
        );
    }

    #[tokio::test]
    async fn another_local_user_without_the_api_key_cannot_spend_credits() {
        let dir = tempfile::tempdir().unwrap();
        let keyed = |dir: &tempfile::TempDir| {
            let coldkey = Keypair::from_seed([7; 32]);
            let store = CreditStore::open(&dir.path().join("credits"), &coldkey).unwrap();
            let client = Client::new("http://127.0.0.1:9").unwrap();
            let anchor = plexus_client::trust::TrustAnchor {
                chain_id: 1,
                validators: Vec::new(),
                epoch_length: 0,
            };
            let session = Session::new(client, "http://127.0.0.1:9".into(), store, anchor);
            router_with(
                Arc::new(session),
                ProxyOptions {
                    api_key: Some("s3cret".into()),
                    ..ProxyOptions::default()
                },
            )
        };
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("s3cret"),
            Some("Basic s3cret"),
        ] {
            let mut headers = vec![
                ("host", "127.0.0.1:8088"),
                ("content-type", "application/json"),
            ];
            if let Some(a) = auth {
                headers.push(("authorization", a));
            }
            assert_eq!(
                status(keyed(&dir), chat(&headers)).await,
                StatusCode::UNAUTHORIZED,
                "{auth:?}"
            );
        }
        let right = chat(&[
            ("host", "127.0.0.1:8088"),
            ("content-type", "application/json"),
            ("authorization", "Bearer s3cret"),
        ]);
        assert_eq!(
            status(keyed(&dir), right).await,
            StatusCode::PAYMENT_REQUIRED
        );
    }

    #[test]
    fn host_names_are_read_strictly() {
        assert_eq!(host_name("LocalHost:80").as_deref(), Some("localhost"));
        assert_eq!(host_name("[::1]:8088").as_deref(), Some("::1"));
        assert_eq!(host_name("[::1]").as_deref(), Some("::1"));
        assert_eq!(host_name("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_name("127.0.0.1:80@evil.example"), None);
        assert_eq!(host_name("[::1]x"), None);
        assert_eq!(host_name(""), None);
        assert!(!is_loopback_name("127.0.0.1.evil.example"));
        assert!(is_loopback_name("127.3.2.1"));
    }
}
