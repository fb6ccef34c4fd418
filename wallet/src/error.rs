//! Every way a wallet operation can fail, each with the next step to take.

use std::{io, path::PathBuf};

use thiserror::Error;

/// Why a wallet, key or mnemonic operation failed.
///
/// Messages are written for the person at the terminal: each says what went wrong and
/// what to do next. Secrets (passwords, mnemonic words) never appear in them.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WalletError {
    /// A wallet or hotkey name is empty, too long, or could leave its folder.
    #[error(
        "invalid {kind} name {name:?}: it {reason}; use 1 to 64 letters, digits, '-', '_' \
         or '.', not starting with '.'"
    )]
    InvalidName {
        /// `"wallet"` or `"hotkey"`.
        kind: &'static str,
        /// The rejected name, as given.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// A wallet with this name already has a coldkey and `overwrite` was not set.
    #[error(
        "wallet '{name}' already exists; pass --overwrite to replace it or choose another name"
    )]
    WalletExists {
        /// The wallet's name.
        name: String,
    },

    /// The wallet already has a hotkey with this name and `overwrite` was not set.
    #[error(
        "hotkey '{hotkey}' already exists in wallet '{wallet}'; pass --overwrite to replace it \
         or choose another name"
    )]
    HotkeyExists {
        /// The wallet's name.
        wallet: String,
        /// The hotkey's name.
        hotkey: String,
    },

    /// No wallet with this name exists under the wallet root.
    #[error(
        "no wallet '{name}' in {}; create it, regenerate it from its mnemonic, or check the \
         wallet path",
        root.display()
    )]
    WalletNotFound {
        /// The wallet's name.
        name: String,
        /// The folder that was searched.
        root: PathBuf,
    },

    /// The wallet has only its public coldkey (`coldkeypub.txt`), so it cannot sign.
    #[error(
        "wallet '{name}' has only its public coldkey (coldkeypub.txt); regenerate the coldkey \
         from its mnemonic to sign with it"
    )]
    ColdkeyMissing {
        /// The wallet's name.
        name: String,
    },

    /// The wallet has no hotkey with this name.
    #[error(
        "wallet '{wallet}' has no hotkey '{hotkey}'; list its hotkeys to check the name, or \
         create or regenerate it"
    )]
    HotkeyNotFound {
        /// The wallet's name.
        wallet: String,
        /// The hotkey's name.
        hotkey: String,
    },

    /// The password does not open this keystore.
    #[error(
        "wrong password for {}; try again (if the password is right, the file's key-derivation \
         settings were modified: restore the key from its mnemonic)",
        path.display()
    )]
    WrongPassword {
        /// The keystore file.
        path: PathBuf,
    },

    /// A key file is damaged, or was modified after it was written.
    #[error(
        "{} is damaged or was modified ({reason}); restore the key from its mnemonic",
        path.display()
    )]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A keystore written by a newer (or unknown) format version.
    #[error(
        "{} is a version {version} keystore and this build reads version {supported}; upgrade \
         plexus to open it",
        path.display()
    )]
    UnsupportedVersion {
        /// The keystore file.
        path: PathBuf,
        /// The version the file declares.
        version: u64,
        /// The version this build reads.
        supported: u32,
    },

    /// An empty password was given for a new key.
    #[error("the password is empty; choose a password to encrypt the key with")]
    EmptyPassword,

    /// A new mnemonic was asked for with a word count other than 12 or 24.
    #[error("a new mnemonic has 12 or 24 words, not {words}")]
    UnsupportedWordCount {
        /// The word count asked for.
        words: usize,
    },

    /// A mnemonic phrase has a word count other than 12 or 24.
    #[error(
        "the mnemonic has {found} words; a plexus mnemonic has 12 or 24 words separated by \
         spaces"
    )]
    MnemonicWordCount {
        /// How many words the phrase has.
        found: usize,
    },

    /// A word of a mnemonic phrase is not in the BIP-39 English word list.
    #[error(
        "word {position} of the mnemonic is not in the BIP-39 English word list; check its \
         spelling against your backup"
    )]
    MnemonicUnknownWord {
        /// The word's position, counting from 1.
        position: usize,
    },

    /// A mnemonic phrase's words are all valid but its checksum does not match.
    #[error(
        "the mnemonic's checksum does not match: a word is wrong or two words are swapped; \
         check it against your backup"
    )]
    MnemonicChecksum,

    /// An entropy length that no 12- or 24-word mnemonic has.
    #[error("mnemonic entropy must be 16 bytes (12 words) or 32 bytes (24 words), not {len}")]
    EntropyLength {
        /// The length given, in bytes.
        len: usize,
    },

    /// A derivation path is malformed or has a non-hardened step (ed25519 has none).
    #[error(
        "invalid derivation path {path:?}: {reason}; write it like m/44'/7539'/0'/0' (every \
         step hardened)"
    )]
    InvalidDerivationPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// Argon2 cost parameters outside the accepted range.
    #[error("invalid argon2id parameters: {reason}")]
    InvalidKdfParams {
        /// Which bound was broken.
        reason: String,
    },

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed ({reason}); try again")]
    Random {
        /// The error it reported.
        reason: String,
    },

    /// A file that should hold a 32-byte secret holds something else.
    #[error("{} is not a 32-byte secret: remove it to make a new one", path.display())]
    NotASecret {
        /// The file.
        path: PathBuf,
    },

    /// A file system operation failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. `"write"`.
        action: &'static str,
        /// The file or folder involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl WalletError {
    /// Wrap an I/O error with the action and path it concerns.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A damaged or modified file.
    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
