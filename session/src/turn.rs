//! A conversation's turns over the private path (`plexus chat`): the provider of a
//! new conversation, and one turn sent, streamed and kept.

use plexus_types::credits::{CHAT_PATH, credits_for};

use crate::{
    Answer, SendError, Session,
    chat::{Message, StreamError, chat_body, read_stream},
    history::Conversation,
    providers::ProviderTarget,
};

/// Why a turn got no answer.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    /// The request could not be paid for or sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The provider answered in one piece, not as a stream.
    #[error("expected a streamed answer")]
    NotStreamed,
    /// The provider refused the request.
    #[error("the provider refused: HTTP {status}: {body}")]
    Refused {
        /// Its HTTP status.
        status: u16,
        /// Its body, as text.
        body: String,
    },
    /// The streamed answer broke off or is not an OpenAI stream.
    #[error(transparent)]
    Stream(#[from] StreamError),
}

impl Session {
    /// A random provider of `model` (any model, without one) this wallet can pay for
    /// a chat answer of up to `max_tokens` tokens.
    pub async fn pick_for_chat(
        &self,
        model: Option<&str>,
        max_tokens: u32,
    ) -> Result<ProviderTarget, SendError> {
        let need = credits_for(CHAT_PATH, &chat_body("", &[], max_tokens));
        self.pick(model, need).await
    }

    /// Send `text` as `convo`'s next turn to `provider`, hand each piece of the
    /// streamed answer to `on_delta`, and keep both in `convo` (a turn that got no
    /// answer leaves it as it was). The answer's text.
    pub async fn chat_turn(
        &self,
        provider: &ProviderTarget,
        convo: &mut Conversation,
        text: String,
        max_tokens: u32,
        on_delta: impl FnMut(&str),
    ) -> Result<String, TurnError> {
        convo.messages.push(Message::user(text));
        let body = chat_body(&convo.model, &convo.messages, max_tokens);
        let answer = match self.send(provider, CHAT_PATH, body, true).await? {
            Answer::Streamed(s) => s,
            Answer::Whole(_) => return Err(TurnError::NotStreamed),
        };
        if answer.head.status != 200 {
            convo.messages.pop();
            return Err(TurnError::Refused {
                status: answer.head.status,
                body: String::from_utf8_lossy(&answer.head.body).into_owned(),
            });
        }
        let reply = read_stream(answer.body, on_delta).await?.text;
        convo.messages.push(Message::assistant(reply.clone()));
        Ok(reply)
    }
}
