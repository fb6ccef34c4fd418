//! The one error type every handler returns, its JSON body, and extractors whose
//! rejections are answered in the same JSON.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use plexus_ledger::{TxError, query::QueryError};
use plexus_storage::StorageError;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::{
    backend::SubmitError,
    wire::{ErrorBody, ErrorDetail},
};

/// Why a request failed. Answered as `{"error": {"code", "message"}}`; 5xx answers
/// carry a generic message and the details go to the log.
#[derive(Debug, Error)]
pub enum ApiError {
    /// The request is malformed: bad hex, bad address, out-of-range parameter, bad JSON.
    #[error("{message}")]
    Invalid {
        /// Stable code, e.g. `invalid_address`.
        code: &'static str,
        /// What was wrong and what to send instead.
        message: String,
    },
    /// The thing asked for does not exist (yet).
    #[error("{message}")]
    NotFound {
        /// Stable code, e.g. `unknown_block`.
        code: &'static str,
        /// What was not found.
        message: String,
    },
    /// The request body is above the limit.
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not `application/json`.
    #[error("expected a JSON body with `Content-Type: application/json`")]
    UnsupportedMediaType,
    /// The path exists but not with this method.
    #[error("this path does not accept the method used")]
    MethodNotAllowed,
    /// The node refused a transaction.
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// The node cannot answer now: no genesis yet, too many streams, a timeout.
    #[error("{message}")]
    Unavailable {
        /// Stable code, e.g. `not_ready`.
        code: &'static str,
        /// What to do.
        message: String,
    },
    /// A store the node serves from holds bytes that do not match the chain.
    #[error("{message}")]
    BadGateway {
        /// Stable code, e.g. `dataset_corrupt`.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Something failed inside the node. The text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A malformed-request error.
    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    /// A not-found error.
    pub(crate) fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }

    /// An internal error; `detail` is logged only.
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The store has no genesis yet.
    pub(crate) fn not_ready() -> Self {
        Self::Unavailable {
            code: "not_ready",
            message: "the node has not committed its genesis yet: retry shortly".into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Submit(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Unavailable { code, .. }
            | ApiError::BadGateway { code, .. } => code,
            ApiError::TooLarge { .. } => "body_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Submit(e) => e.code(),
            ApiError::Internal(_) => "internal",
        }
    }

    /// What the client is told. Internal details never leave the node.
    fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) | ApiError::Submit(SubmitError::Rejected(TxError::State(_))) => {
                "internal error: the node operator can find details in the node's log".into()
            }
            ApiError::Submit(SubmitError::Unavailable(_)) => {
                "the node cannot accept transactions right now: retry shortly".into()
            }
            other => other.to_string(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.public_message(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(detail) => tracing::error!(%detail, "api: internal error"),
            ApiError::Submit(e @ SubmitError::Rejected(TxError::State(_))) => {
                tracing::error!(error = %e, "api: ledger state unreadable while admitting a transaction");
            }
            ApiError::Submit(SubmitError::Unavailable(detail)) => {
                tracing::warn!(%detail, "api: node refused a transaction as unavailable");
            }
            _ => {}
        }
        (status, Json(self.body())).into_response()
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::UnknownSubnet(netuid) => {
                Self::not_found("unknown_subnet", format!("subnet {netuid} does not exist"))
            }
            QueryError::State(e) => Self::internal(e),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotCommitted {
                committed: None, ..
            } => Self::not_ready(),
            StorageError::NotCommitted {
                height,
                committed: Some(committed),
            } => Self::not_found(
                "unknown_height",
                format!("height {height} is not committed yet (the tip is {committed})"),
            ),
            StorageError::Pruned { height, oldest } => Self::not_found(
                "pruned_height",
                format!(
                    "height {height} is pruned on this node, which keeps heights from {oldest}: ask an archive node"
                ),
            ),
            other => Self::internal(other),
        }
    }
}

/// `Json<T>`, answering a rejection with the API's JSON error.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(crate::DEFAULT_BODY_LIMIT, |l| l.0);
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| Self(v))
            .map_err(|r| match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge { limit },
                StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
                _ => ApiError::invalid("invalid_json", r.body_text()),
            })
    }
}

/// The configured body limit, as a request extension (for the error message).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// `Path<T>`, answering a rejection with the API's JSON error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|r| ApiError::invalid("invalid_path", r.body_text()))
    }
}

/// `Query<T>`, answering a rejection with the API's JSON error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|r| ApiError::invalid("invalid_query", r.body_text()))
    }
}
