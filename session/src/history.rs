//! Conversations kept on this device only, each in its own file sealed with a key
//! only the wallet's coldkey derives.

use std::path::{Path, PathBuf};

use plexus_types::{AccountId, Keypair};
use serde::{Deserialize, Serialize};

use crate::{
    chat::Message,
    sealed::{SealedError, local_key, open_sealed, write_sealed},
};

const HISTORY_AAD: &[u8] = b"plexus/chat/history/v1";

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// A sealed file failed.
    #[error(transparent)]
    Sealed(#[from] SealedError),
    /// There is no conversation with this id.
    #[error("no saved conversation {0}")]
    Unknown(String),
    /// A conversation id that is not 16 hex digits.
    #[error("`{0}` is not a conversation id")]
    BadId(String),
    /// A conversation file opened but does not parse.
    #[error("conversation {id} is corrupt: {source}")]
    Corrupt {
        /// Its id.
        id: String,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
}

/// A conversation, as saved (sealed) on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id: 16 hex digits.
    pub id: String,
    /// The provider it talks to.
    pub provider: AccountId,
    /// The model.
    pub model: String,
    /// Every turn so far.
    pub messages: Vec<Message>,
}

impl Conversation {
    /// A new, empty conversation with `provider` about `model`, with a fresh id.
    pub fn new(provider: AccountId, model: String) -> Self {
        let mut id = [0u8; 8];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut id);
        Self {
            id: hex::encode(id),
            provider,
            model,
            messages: Vec::new(),
        }
    }

    /// Completed exchanges (a user turn and its answer).
    pub fn turns(&self) -> usize {
        self.messages.len() / 2
    }

    /// The start of the first message, for a listing.
    pub fn title(&self, chars: usize) -> String {
        self.messages
            .first()
            .map(|m| m.content.chars().take(chars).collect())
            .unwrap_or_default()
    }

    /// The listing's entry: id, model, turns and the start of the first message.
    pub fn summary(&self) -> serde_json::Value {
        let first = self.messages.first().map(|_| self.title(60));
        serde_json::json!({"id": self.id, "model": self.model, "turns": self.turns(), "first": first})
    }
}

/// The listing's line: id, turns and the start of the first message.
impl std::fmt::Display for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}  {} turns  {}", self.id, self.turns(), self.title(60))
    }
}

/// A wallet's saved conversations.
#[derive(Debug)]
pub struct History {
    dir: PathBuf,
    key: [u8; 32],
}

impl History {
    /// The conversations kept in `dir`, sealed for `coldkey`.
    pub fn new(dir: &Path, coldkey: &Keypair) -> Self {
        Self {
            dir: dir.to_path_buf(),
            key: local_key(coldkey, "chat-history"),
        }
    }

    fn path(&self, id: &str) -> Result<PathBuf, HistoryError> {
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HistoryError::BadId(id.to_owned()));
        }
        Ok(self.dir.join(format!("{id}.enc")))
    }

    /// The conversation `id`.
    pub fn load(&self, id: &str) -> Result<Conversation, HistoryError> {
        let plain = open_sealed(&self.path(id)?, &self.key, HISTORY_AAD)?
            .ok_or_else(|| HistoryError::Unknown(id.to_owned()))?;
        serde_json::from_slice(&plain).map_err(|source| HistoryError::Corrupt {
            id: id.to_owned(),
            source,
        })
    }

    /// Save `conversation` (replacing its earlier copy).
    pub fn save(&self, conversation: &Conversation) -> Result<(), HistoryError> {
        let plain = serde_json::to_vec(conversation).map_err(|source| HistoryError::Corrupt {
            id: conversation.id.clone(),
            source,
        })?;
        Ok(write_sealed(
            &self.path(&conversation.id)?,
            &self.key,
            HISTORY_AAD,
            &plain,
        )?)
    }

    /// Every conversation this wallet can open, by id; files it cannot open are
    /// skipped.
    pub fn list(&self) -> Vec<Conversation> {
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if let Ok(Some(plain)) = open_sealed(&e.path(), &self.key, HISTORY_AAD)
                    && let Ok(c) = serde_json::from_slice::<Conversation>(&plain)
                {
                    out.push(c);
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_conversation_is_saved_listed_and_loaded_only_by_its_wallet() {
        let dir = tempfile::tempdir().unwrap();
        let coldkey = Keypair::from_seed([4; 32]);
        let history = History::new(dir.path(), &coldkey);
        let mut convo = Conversation::new(coldkey.account(), "m".into());
        convo
            .messages
            .push(Message::user("What is the capital of France?"));
        convo.messages.push(Message::assistant("Paris"));
        history.save(&convo).unwrap();
        assert_eq!(history.load(&convo.id).unwrap(), convo);
        assert_eq!(history.list(), vec![convo.clone()]);
        assert_eq!(convo.turns(), 1);
        assert_eq!(convo.title(4), "What");
        let stranger = History::new(dir.path(), &Keypair::from_seed([5; 32]));
        assert!(stranger.list().is_empty());
        assert!(matches!(
            stranger.load(&convo.id),
            Err(HistoryError::Sealed(SealedError::Decrypt(_)))
        ));
    }

    #[test]
    fn ids_that_could_name_other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::new(dir.path(), &Keypair::from_seed([4; 32]));
        for id in ["../credits", "", "0123456789abcdeg", "0123456789abcdef0"] {
            assert!(
                matches!(history.load(id), Err(HistoryError::BadId(_))),
                "{id}"
            );
        }
        assert!(matches!(
            history.load("0123456789abcdef"),
            Err(HistoryError::Unknown(_))
        ));
    }
}
