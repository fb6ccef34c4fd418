//! An OpenAI-compatible endpoint that sends every request over the private path, so
//! any OpenAI client becomes private unchanged (`plexus proxy` serves it on loopback).
//!
//! Each request goes to a random provider of the requested model that the session
//! holds tokens for, through the relay, paid by [`credits_for`] of its body.
//! `GET /v1/models` is answered from the chain (nothing to hide). Nothing is logged
//! but counts.

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

/// An error and its causes on one line, as an API message.
fn message(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The proxy's routes: `GET /v1/models`, `POST /v1/chat/completions`,
/// `/v1/completions` and `/v1/embeddings`, taking bodies of at most `max_body` bytes.
pub fn router(session: Arc<Session>, max_body: usize) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(forward_chat))
        .route("/v1/completions", post(forward_completions))
        .route("/v1/embeddings", post(forward_embeddings))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(session)
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
        Err(e) => openai_error(StatusCode::BAD_GATEWAY, "chain_unavailable", &message(&e)),
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
                &message(&e),
            );
        }
    };
    match session.send(&provider, path, body.to_vec(), stream).await {
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
        Err(e) => openai_error(StatusCode::BAD_GATEWAY, "private_path_failed", &message(&e)),
    }
}

fn plain(status: u16, content_type: Option<String>, body: Body) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let ct = content_type.unwrap_or_else(|| "application/json".into());
    (status, [(header::CONTENT_TYPE, ct)], body).into_response()
}
