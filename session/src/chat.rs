//! The chat request every client sends, users and validators alike (so a provider
//! cannot tell a probe from a user's turn), and reading its streamed answer.

use futures::{StreamExt as _, stream::BoxStream};
use plexus_client::private::PrivateError;
use serde::{Deserialize, Serialize};

/// Most tokens a chat turn (and so a probe) asks for by default.
pub const DEFAULT_MAX_TOKENS: u32 = 256;

/// One chat message as sent in a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user".into(),
            content: content.into(),
        }
    }

    /// An assistant turn.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: "assistant".into(),
            content: content.into(),
        }
    }
}

/// The body of a chat request, exactly as `plexus chat` and validators send it:
/// greedy (`temperature` 0, so answers repeat and can be checked), streamed.
pub fn chat_body(model: &str, messages: &[Message], max_tokens: u32) -> Vec<u8> {
    serde_json::json!({
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": true,
    })
    .to_string()
    .into_bytes()
}

/// Why a streamed answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The private path failed mid-stream.
    #[error(transparent)]
    Private(#[from] PrivateError),
    /// An event is not the JSON an OpenAI stream carries.
    #[error("malformed event from the provider: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// A streamed chat answer, read to its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStream {
    /// The text of every content delta.
    pub text: String,
    /// Whether a choice finished (a complete answer, not one cut off).
    pub finished: bool,
    /// Why it finished, as the provider said (`stop`, `length`, ...).
    pub finish_reason: Option<String>,
}

/// Read an OpenAI server-sent-event stream, handing each content delta to `on_delta`.
pub async fn read_stream(
    mut body: BoxStream<'static, Result<Vec<u8>, PrivateError>>,
    mut on_delta: impl FnMut(&str),
) -> Result<ReadStream, StreamError> {
    let mut pending = Vec::new();
    let mut read = ReadStream::default();
    while let Some(piece) = body.next().await {
        pending.extend_from_slice(&piece?);
        while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = pending.drain(..end + 2).collect();
            for line in String::from_utf8_lossy(&event).lines() {
                let Some(data) = line.strip_prefix("data: ") else {
                    continue;
                };
                if data == "[DONE]" {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(data)?;
                if let Some(delta) = v["choices"][0]["delta"]["content"].as_str() {
                    read.text.push_str(delta);
                    on_delta(delta);
                }
                if let Some(reason) = v["choices"][0]["finish_reason"].as_str() {
                    read.finished = true;
                    read.finish_reason = Some(reason.to_owned());
                }
            }
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_chat_body_is_greedy_and_streamed() {
        let body = chat_body("m", &[Message::user("hi")], 256);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"max_tokens":256,"messages":[{"content":"hi","role":"user"}],"model":"m","stream":true,"temperature":0}"#
        );
    }

    fn stream(pieces: &[&str]) -> BoxStream<'static, Result<Vec<u8>, PrivateError>> {
        let owned: Vec<_> = pieces.iter().map(|p| Ok(p.as_bytes().to_vec())).collect();
        futures::stream::iter(owned).boxed()
    }

    #[tokio::test]
    async fn a_stream_split_anywhere_reads_as_its_deltas_and_its_finish() {
        let whole = "data: {\"choices\":[{\"delta\":{\"content\":\"Par\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"is\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        for cut in 0..whole.len() {
            let mut seen = Vec::new();
            let read = read_stream(stream(&[&whole[..cut], &whole[cut..]]), |d| {
                seen.push(d.to_owned());
            })
            .await
            .unwrap();
            assert_eq!(read.text, "Paris");
            assert!(read.finished);
            assert_eq!(read.finish_reason.as_deref(), Some("stop"));
            assert_eq!(seen, ["Par", "is"]);
        }
    }

    #[tokio::test]
    async fn a_cut_off_or_garbled_stream_is_reported() {
        let cut = read_stream(
            stream(&["data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"]),
            |_| {},
        )
        .await
        .unwrap();
        assert!(!cut.finished);
        assert!(matches!(
            read_stream(stream(&["data: {nope\n\n"]), |_| {}).await,
            Err(StreamError::Malformed(_))
        ));
    }
}
