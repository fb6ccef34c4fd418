//! Every way a relayed request can be refused or fail, answered as the node API's
//! JSON error `{"error": {"code", "message"}}`.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use plexus_client::wire::{ErrorBody, ErrorDetail};
use thiserror::Error;

use crate::metrics::Outcome;

/// Why the relay refused or could not forward a request. Messages never name the
/// client or echo the body.
#[derive(Debug, Error)]
pub enum RelayError {
    /// The target is not a hotkey address.
    #[error("the target is not a hotkey address (expected bech32m starting with `plx1`)")]
    InvalidTarget,
    /// The target is no gateway the relay knows.
    #[error("no gateway with this hotkey is registered on chain; GET /v1/relay/targets lists them")]
    UnknownTarget,
    /// The body is not an encapsulated request.
    #[error("the body must be `Content-Type: message/ohttp-req` or `message/ohttp-chunked-req`")]
    UnsupportedMediaType,
    /// The body is over the limit.
    #[error("the request body is larger than the limit of {limit} bytes for its type")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body did not arrive within the time allowed.
    #[error("the request body did not arrive within {} s", .0.as_secs())]
    BodyTimeout(Duration),
    /// The body could not be read.
    #[error("the request body could not be read")]
    BadBody,
    /// The client is over its rate.
    #[error("too many requests from this address; retry after {} s", retry_after_secs(*.retry_after))]
    RateLimited {
        /// When a request will be accepted again.
        retry_after: Duration,
    },
    /// The gateway could not be reached.
    #[error("the gateway cannot be reached")]
    UpstreamUnreachable,
    /// The gateway did not answer in time.
    #[error("the gateway did not answer within {} s", .0.as_secs())]
    UpstreamTimeout(Duration),
    /// The gateway answered with something other than an encapsulated response.
    #[error("the gateway did not answer with an encapsulated response")]
    BadUpstreamResponse,
    /// No such route.
    #[error("no route {0}")]
    NotFound(String),
    /// The route exists, not with this method.
    #[error("this path does not accept the method used")]
    MethodNotAllowed,
    /// The relay itself failed; the text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Whole seconds, rounded up, at least one: the `Retry-After` value.
pub(crate) fn retry_after_secs(retry_after: Duration) -> u64 {
    let secs = retry_after.as_secs();
    let secs = if retry_after.subsec_nanos() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    };
    secs.max(1)
}

impl RelayError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidTarget | Self::BadBody => StatusCode::BAD_REQUEST,
            Self::UnknownTarget | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamUnreachable | Self::BadUpstreamResponse => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidTarget => "invalid_target",
            Self::UnknownTarget => "unknown_target",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooLarge { .. } => "body_too_large",
            Self::BodyTimeout(_) => "request_timeout",
            Self::BadBody => "invalid_body",
            Self::RateLimited { .. } => "rate_limited",
            Self::UpstreamUnreachable => "upstream_unreachable",
            Self::UpstreamTimeout(_) => "upstream_timeout",
            Self::BadUpstreamResponse => "bad_upstream_response",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Internal(_) => "internal",
        }
    }

    /// The outcome it counts as.
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            Self::InvalidTarget => Outcome::InvalidTarget,
            Self::UnknownTarget => Outcome::UnknownTarget,
            Self::UnsupportedMediaType => Outcome::UnsupportedMediaType,
            Self::TooLarge { .. } => Outcome::TooLarge,
            Self::BodyTimeout(_) | Self::BadBody => Outcome::BadBody,
            Self::RateLimited { .. } => Outcome::RateLimited,
            Self::UpstreamUnreachable => Outcome::UpstreamUnreachable,
            Self::UpstreamTimeout(_) => Outcome::UpstreamTimeout,
            Self::BadUpstreamResponse => Outcome::BadUpstreamResponse,
            Self::NotFound(_) | Self::MethodNotAllowed | Self::Internal(_) => Outcome::Internal,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        let message = match self {
            Self::Internal(_) => {
                "internal error: the relay operator can find details in the relay's log".to_owned()
            }
            other => other.to_string(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
            },
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(detail, "relay: internal error");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Self::RateLimited { retry_after } = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(*retry_after)),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
