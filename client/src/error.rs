//! What can go wrong talking to a node, with the API's code and message kept intact
//! so a CLI can print what to do next.

use std::time::Duration;

use plexus_types::Hash;
use thiserror::Error;

/// Why a request to a node failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The node answered with an API error (`{"error": {"code", "message"}}`).
    #[error("{message} [{code}]")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The stable code, e.g. `stale_nonce` (the ledger's codes pass through).
        code: String,
        /// The node's message, which says what to do.
        message: String,
    },
    /// The node could not be reached, or the connection broke.
    #[error("could not reach the node at {url}: {source}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The node did not answer within the request timeout.
    #[error("the node at {url} did not answer within {timeout:?}")]
    Timeout {
        /// The URL asked.
        url: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The node answered something the API does not document.
    #[error("unexpected answer from {url}: {reason}")]
    UnexpectedResponse {
        /// The URL asked.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A proof served by the node does not verify: the node is faulty or lying.
    #[error("the node's proof does not verify: {0}")]
    ProofInvalid(String),
    /// A transaction was not finalized in time.
    #[error("transaction {hash} was not finalized within {waited:?} (last seen: {last_seen})")]
    TxTimeout {
        /// The transaction id.
        hash: Hash,
        /// How long the client waited.
        waited: Duration,
        /// What the node last said about it: `pending` or `unknown`.
        last_seen: &'static str,
    },
    /// The base URL is not an `http` or `https` URL.
    #[error("invalid node URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it is not usable.
        reason: String,
    },
    /// The event stream broke its format or size bound.
    #[error("the node's event stream is malformed: {0}")]
    Stream(String),
}

impl ClientError {
    /// The API's error code, when the node answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, when the node answered with an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Api { status, code, .. } => {
                *status == 429 || *status == 503 || code == "future_nonce"
            }
            ClientError::Unreachable { .. } | ClientError::Timeout { .. } => true,
            _ => false,
        }
    }

    /// A short suggestion of what to do next, for people at a terminal.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            ClientError::Api { code, .. } => match code.as_str() {
                "stale_nonce" => {
                    "another transaction already used this nonce: fetch the account's next nonce and sign again"
                }
                "future_nonce" | "nonce_too_far_ahead" => {
                    "send the transactions with the missing nonces first"
                }
                "insufficient_balance" => "fund the sending account, or send less",
                "wrong_chain" => {
                    "the transaction was signed for another chain: check the node's chain id (GET /v1/chain)"
                }
                "bad_signature" => "sign the transaction with the sender's key",
                "fee_too_low" => "raise the fee to at least the chain's min_fee (GET /v1/chain)",
                "duplicate_transaction" => {
                    "it is already waiting: wait for it to be finalized instead of resending"
                }
                "replacement_underpriced" => "to replace the waiting transaction, pay a higher fee",
                "mempool_full" | "sender_queue_full" => {
                    "wait for pending transactions to be finalized, then retry"
                }
                "not_ready" => "the node is still starting: retry in a few seconds",
                "timeout" | "unavailable" | "too_many_streams" | "shutting_down" => "retry shortly",
                "unknown_subnet" => "list the subnets with GET /v1/subnets",
                "unknown_hotkey" | "not_registered" => "register the hotkey on a subnet first",
                "internal" => "the node failed: its operator can find details in its log",
                _ => return None,
            },
            ClientError::Unreachable { .. } | ClientError::Timeout { .. } => {
                "check that the node is running and that the URL points to its API"
            }
            ClientError::UnexpectedResponse { .. } => {
                "check that the URL points to a Plexus node API of a compatible version"
            }
            ClientError::ProofInvalid(_) => "do not trust this node's answers: ask another node",
            ClientError::TxTimeout { .. } => {
                "look it up later with its hash; if it stays unknown, submit it again"
            }
            ClientError::InvalidUrl { .. } => "use a URL like http://127.0.0.1:8080",
            ClientError::Stream(_) => "reconnect to the event stream",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_keep_code_and_message_and_suggest_what_to_do() {
        let e = ClientError::Api {
            status: 409,
            code: "stale_nonce".into(),
            message: "nonce 0 is stale: the account's next nonce is 1".into(),
        };
        assert_eq!(e.code(), Some("stale_nonce"));
        assert_eq!(e.status(), Some(409));
        assert_eq!(
            e.to_string(),
            "nonce 0 is stale: the account's next nonce is 1 [stale_nonce]"
        );
        assert!(e.hint().is_some_and(|h| h.contains("next nonce")));
        assert!(!e.is_retryable());
        let full = ClientError::Api {
            status: 503,
            code: "mempool_full".into(),
            message: String::new(),
        };
        assert!(full.is_retryable());
    }
}
