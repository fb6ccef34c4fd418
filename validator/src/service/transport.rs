//! How probes travel: the private path, exactly as a user's `plexus chat` turn
//! (same body, same relay, same credits), timed from the request to the first and
//! last streamed token.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use plexus_session::{
    Answer, SendError, Session,
    chat::{StreamError, read_stream},
    providers::ProviderTarget,
};
use plexus_types::{AccountId, Keypair};

/// How long one probe may take before it counts as failed, by default.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(120);

/// Credits bought at a time when the store runs low, by default.
pub const DEFAULT_BUNDLE: u32 = 100;

/// Purchases tried per epoch to hold enough credits for every provider (tokens are
/// bound to providers at random, so a few bundles may be needed).
const TOP_UP_ROUNDS: u32 = 4;

/// Why a probe got no complete answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The request could not be paid for or sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The stream broke off or was garbled.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// The provider answered with an error.
    #[error("HTTP {status}: {body}")]
    Refused {
        /// Its status.
        status: u16,
        /// Its body, as text.
        body: String,
    },
    /// The provider answered whole although a stream was asked for.
    #[error("expected a streamed answer")]
    NotStreamed,
    /// The provider streamed although a whole answer was asked for.
    #[error("expected a whole answer")]
    NotWhole,
    /// A whole answer is not an OpenAI chat completion.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The stream ended before the answer finished.
    #[error("the answer was cut off")]
    CutOff,
    /// No complete answer in time.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
}

/// A complete answer with its timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timed {
    /// The answer's text.
    pub text: String,
    /// From sending to the first token.
    pub ttft: Duration,
    /// From the first token to the end.
    pub generation: Duration,
    /// Why the provider says the answer ended (`stop`, `length`, ...).
    pub finish_reason: Option<String>,
}

/// How the validator reaches providers.
pub trait Transport: Send + Sync {
    /// Send the chat request `body` to `target` and read the whole answer, streamed
    /// when `stream` (as the body asks).
    fn chat<'a>(
        &'a self,
        target: &'a ProviderTarget,
        body: Vec<u8>,
        stream: bool,
    ) -> BoxFuture<'a, Result<Timed, ProbeError>>;

    /// Make sure `need` credits can be spent at each of `targets`.
    fn top_up<'a>(
        &'a self,
        targets: &'a [AccountId],
        need: u64,
    ) -> BoxFuture<'a, Result<(), ProbeError>>;
}

/// The private path: a [`Session`] paying with the validator coldkey's credits.
#[derive(Debug)]
pub struct PrivatePath {
    session: Session,
    coldkey: Keypair,
    probe_timeout: Duration,
    bundle: u32,
}

impl PrivatePath {
    /// Probes sent by `session`, credits bought with `coldkey`.
    pub fn new(session: Session, coldkey: Keypair) -> Self {
        Self {
            session,
            coldkey,
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            bundle: DEFAULT_BUNDLE,
        }
    }

    /// A probe without a complete answer after `timeout` fails.
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// Buy `credits` at a time (a bundle size) when the store runs low.
    pub fn with_bundle(mut self, credits: u32) -> Self {
        self.bundle = credits;
        self
    }

    async fn chat_once(
        &self,
        target: &ProviderTarget,
        body: Vec<u8>,
        stream: bool,
    ) -> Result<Timed, ProbeError> {
        let started = Instant::now();
        let answer = match self
            .session
            .send(target, "/v1/chat/completions", body, stream)
            .await?
        {
            Answer::Streamed(s) if stream => s,
            Answer::Whole(w) if !stream => {
                if w.status != 200 {
                    return Err(ProbeError::Refused {
                        status: w.status,
                        body: String::from_utf8_lossy(&w.body).into_owned(),
                    });
                }
                return whole_answer(&w.body, started.elapsed());
            }
            Answer::Streamed(_) => return Err(ProbeError::NotWhole),
            Answer::Whole(_) => return Err(ProbeError::NotStreamed),
        };
        if answer.head.status != 200 {
            return Err(ProbeError::Refused {
                status: answer.head.status,
                body: String::from_utf8_lossy(&answer.head.body).into_owned(),
            });
        }
        let mut first = None;
        let read = read_stream(answer.body, |_| {
            first.get_or_insert_with(Instant::now);
        })
        .await?;
        if !read.finished {
            return Err(ProbeError::CutOff);
        }
        let first = first.unwrap_or_else(Instant::now);
        Ok(Timed {
            text: read.text,
            ttft: first - started,
            generation: first.elapsed(),
            finish_reason: read.finish_reason,
        })
    }
}

/// A whole (unstreamed) chat completion read as a timed answer: all of its time counts
/// as time to first token, and no generation speed is measured.
fn whole_answer(body: &[u8], elapsed: Duration) -> Result<Timed, ProbeError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ProbeError::Malformed(e.to_string()))?;
    let choice = &v["choices"][0];
    let text = choice["message"]["content"]
        .as_str()
        .ok_or_else(|| ProbeError::Malformed("no choices[0].message.content".into()))?;
    let Some(reason) = choice["finish_reason"].as_str() else {
        return Err(ProbeError::CutOff);
    };
    Ok(Timed {
        text: text.to_owned(),
        ttft: elapsed,
        generation: Duration::ZERO,
        finish_reason: Some(reason.to_owned()),
    })
}

impl Transport for PrivatePath {
    fn chat<'a>(
        &'a self,
        target: &'a ProviderTarget,
        body: Vec<u8>,
        stream: bool,
    ) -> BoxFuture<'a, Result<Timed, ProbeError>> {
        Box::pin(async move {
            tokio::time::timeout(self.probe_timeout, self.chat_once(target, body, stream))
                .await
                .unwrap_or(Err(ProbeError::Timeout(self.probe_timeout)))
        })
    }

    fn top_up<'a>(
        &'a self,
        targets: &'a [AccountId],
        need: u64,
    ) -> BoxFuture<'a, Result<(), ProbeError>> {
        Box::pin(async move {
            self.session
                .top_up(&self.coldkey, targets, need, self.bundle, TOP_UP_ROUNDS)
                .await?;
            Ok(())
        })
    }
}
