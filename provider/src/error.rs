//! Everything a request can fail with, answered as OpenAI error objects.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use plexus_inference::EngineError;
use thiserror::Error;

use crate::openai::{ErrorObject, ErrorResponse};

/// Why the provider refused or failed a request.
#[derive(Debug, Error)]
pub enum ProviderError {
    /// The request is malformed or asks for something the provider does not serve.
    #[error("{message}")]
    Invalid {
        /// What is wrong, for people.
        message: String,
        /// The offending field.
        param: Option<&'static str>,
    },
    /// The body is larger than the provider accepts.
    #[error("the request body is too large")]
    TooLarge,
    /// The body is not the JSON the endpoint expects.
    #[error("the request body is not valid JSON for this endpoint: {0}")]
    BadJson(String),
    /// The named model is not served here.
    #[error("the model '{0}' does not exist here; GET /v1/models lists the served ones")]
    UnknownModel(String),
    /// This provider serves no embedding model.
    #[error("this provider serves no embedding model")]
    NoEmbeddings,
    /// The queue is full: try again after `retry_after`.
    #[error("the provider is at capacity; retry after {} s", retry_after.as_secs())]
    Busy {
        /// A fair estimate of when a slot frees up.
        retry_after: Duration,
    },
    /// The request ran past its deadline (queueing included).
    #[error("the request took longer than {} s", .0.as_secs())]
    Timeout(Duration),
    /// The provider is shutting down.
    #[error("the provider is shutting down")]
    ShuttingDown,
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// No such route.
    #[error("no route {0}")]
    NotFound(String),
}

impl ProviderError {
    /// An invalid field.
    pub(crate) fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            param: Some(param),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } | Self::BadJson(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnknownModel(_) | Self::NoEmbeddings | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::Engine(EngineError::InvalidRequest(_)) => StatusCode::BAD_REQUEST,
            Self::Engine(EngineError::Upstream(_)) => StatusCode::BAD_GATEWAY,
            Self::Engine(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The OpenAI error object. Internal failures say so without details.
    pub fn object(&self) -> ErrorObject {
        let (kind, code) = match self {
            Self::Invalid { .. }
            | Self::BadJson(_)
            | Self::TooLarge
            | Self::Engine(EngineError::InvalidRequest(_)) => ("invalid_request_error", None),
            Self::UnknownModel(_) => ("invalid_request_error", Some("model_not_found")),
            Self::NoEmbeddings => ("invalid_request_error", Some("model_not_found")),
            Self::NotFound(_) => ("invalid_request_error", Some("not_found")),
            Self::Busy { .. } => ("rate_limit_error", Some("rate_limit_exceeded")),
            Self::Timeout(_) => ("timeout_error", Some("timeout")),
            Self::ShuttingDown => ("server_error", Some("shutting_down")),
            Self::Engine(EngineError::Upstream(_)) => ("server_error", Some("upstream_error")),
            Self::Engine(_) => ("server_error", Some("engine_error")),
        };
        let message = match self {
            // The log has the details; the client gets no internals.
            Self::Engine(EngineError::Internal(_) | EngineError::Load { .. }) => {
                "the engine failed while serving this request".to_owned()
            }
            Self::Engine(EngineError::Upstream(_)) => {
                "the upstream serving engine failed".to_owned()
            }
            other => other.to_string(),
        };
        let param = match self {
            Self::Invalid { param, .. } => param.map(str::to_owned),
            Self::UnknownModel(_) | Self::NoEmbeddings => Some("model".to_owned()),
            _ => None,
        };
        ErrorObject {
            message,
            kind: kind.to_owned(),
            param,
            code: code.map(str::to_owned),
        }
    }
}

impl IntoResponse for ProviderError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::warn!(error = %self, "provider: request failed");
        }
        let mut response = (
            self.status(),
            Json(ErrorResponse {
                error: self.object(),
            }),
        )
            .into_response();
        if let Self::Busy { retry_after } = &self {
            let secs = retry_after.as_secs().max(1);
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
