//! Derive keys from mnemonics and keep them encrypted at rest.
//!
//! As in btcli, a wallet is a folder with one **coldkey** (holds funds, signs money
//! actions) and any number of named **hotkeys** (a miner's or validator's operational
//! identity), and every key has its own BIP-39 mnemonic:
//!
//! ```text
//! mnemonic: 12 or 24 English words, checksummed            (Mnemonic)
//!   └─ BIP-39 seed: PBKDF2-HMAC-SHA512, empty passphrase    (Mnemonic::to_seed)
//!        └─ SLIP-0010 ed25519 at m/44'/7539'/0'/0'          (derive_ed25519, PLEXUS_PATH)
//!             └─ Keypair → AccountId, shown as plx1…        (plexus_types)
//! keystore file: argon2id(password) → XChaCha20-Poly1305(mnemonic), header bound as AAD
//! ```
//!
//! # Derivation
//!
//! Each key sits at the one path [`PLEXUS_PATH`], `m/44'/7539'/0'/0'`: purpose 44' (the
//! BIP-44 layout), coin type 7539' ([`COIN_TYPE`], "PLEX" on a phone keypad; unassigned
//! in SLIP-0044's registry when chosen), account 0', change 0'. SLIP-0010 allows only
//! hardened steps for ed25519. The BIP-39 passphrase is empty, as in btcli: the keystore
//! password, not a passphrase, protects a key at rest, so the words alone restore it.
//!
//! # Folder layout
//!
//! ```text
//! <root>/<wallet>/coldkey            keystore (below)
//! <root>/<wallet>/coldkeypub.txt     the coldkey's plx1… address and a newline
//! <root>/<wallet>/hotkeys/<hotkey>   keystore, one per hotkey
//! ```
//!
//! The root defaults to `~/.plexus/wallets` ([`default_root`]). Folders are created 0700
//! and files 0600 on unix. Every file is written to a hidden temporary file, flushed,
//! and renamed into place (then the folder is flushed), so a crash never leaves a partial
//! key; without `overwrite` the final step is an atomic create that fails if the file
//! exists. Names are 1 to 64 ASCII letters, digits, `-`, `_` or `.`, never starting with
//! `.`, so no name can leave its folder or collide with a temporary file.
//!
//! # Keystore format
//!
//! Version 1 ([`KEYSTORE_VERSION`]), one JSON object, no other fields allowed, at most
//! [`MAX_KEYSTORE_BYTES`]:
//!
//! ```json
//! {
//!   "version": 1,
//!   "address": "plx1…",
//!   "kdf": {"name": "argon2id", "m_cost": 65536, "t_cost": 3, "p_cost": 4, "salt": "<hex>"},
//!   "cipher": {"name": "xchacha20poly1305", "nonce": "<hex, 24 bytes>"},
//!   "ciphertext": "<hex>",
//!   "password_check": "<hex, 32 bytes>"
//! }
//! ```
//!
//! - `m_cost` is in KiB (RFC 9106 and the `argon2` crate's unit); the salt is 16 random
//!   bytes; the defaults are [`KdfParams::default`] (64 MiB, 3 passes, 4 lanes).
//! - argon2id(password, salt) gives a 32-byte secret `k`. The cipher key is
//!   `HMAC-SHA256(k, "plexus keystore v1: encryption key")`, and `password_check` is
//!   `HMAC-SHA256(k, "plexus keystore v1: password check")`. The check tells a wrong
//!   password ([`WalletError::WrongPassword`]: the check differs) from a modified file
//!   ([`WalletError::Corrupt`]: the check matches, decryption fails). It gives an
//!   attacker nothing the ciphertext does not: both cost one argon2id run per guess.
//! - The plaintext is the mnemonic phrase (words joined by single spaces), so its owner
//!   can show it again ([`Wallet::coldkey_mnemonic`]); on unlock the key is derived from
//!   it again and must match `address`.
//! - The associated data is a domain tag followed by the version, the address's 32
//!   bytes, the KDF name and costs, the salt, the cipher name, the nonce and the password
//!   check, each variable-length field prefixed by its 32-bit big-endian length. Editing
//!   any header field therefore makes the file fail to open.
//! - `address` is readable without the password. Someone able to write the wallet folder
//!   can change what `coldkeypub.txt` and `address` show, but not make the key unlock as
//!   that address; check an address by unlocking when it matters.
//!
//! # Example
//!
//! ```no_run
//! use plexus_wallet::{Wallet, WordCount, default_root};
//!
//! # fn main() -> Result<(), plexus_wallet::WalletError> {
//! let root = default_root().expect("a home folder");
//! let (wallet, words) = Wallet::create(&root, "default", "pw", WordCount::Twelve, false)?;
//! println!("write these words down: {}", words.phrase().as_str());
//! let (miner, _miner_words) = wallet.create_hotkey("miner", "pw", WordCount::Twelve, false)?;
//! let coldkey = wallet.unlock_coldkey("pw")?;
//! assert_eq!(coldkey.account(), wallet.coldkey_address());
//! # let _ = miner;
//! # Ok(())
//! # }
//! ```
//!
//! Owns keys, mnemonics, keystores, owner-only atomic files, where services keep their
//! state beside the wallets ([`state_dir`]) and how wallets are reported ([`Created`]).
//! May not depend on the chain client, storage or HTTP.

mod error;
mod fs;
mod keystore;
mod mnemonic;
mod report;
mod slip10;
mod wallet;

pub use error::WalletError;
pub use keystore::{KEYSTORE_VERSION, KdfParams, MAX_KEYSTORE_BYTES};
pub use mnemonic::{Mnemonic, WordCount};
pub use report::Created;
pub use slip10::{COIN_TYPE, DerivationPath, ExtendedKey, HARDENED, PLEXUS_PATH, derive_ed25519};
pub use wallet::{
    COLDKEY_FILE, COLDKEYPUB_FILE, DEFAULT_ROOT_IN_HOME, HOTKEYS_DIR, MAX_NAME_LEN, Wallet,
    WalletSummary, default_root, list_wallets, state_dir,
};

/// The mnemonic phrase in the file at `path` (`-`: standard input), trimmed. At most
/// 4 KiB is read: a 24-word phrase is under 300 bytes, anything far larger is not one.
pub fn read_phrase(path: &std::path::Path) -> Result<String, WalletError> {
    use std::io::Read as _;
    const MAX: u64 = 4096;
    let mut text = String::new();
    let read = match path.as_os_str() == "-" {
        true => std::io::stdin().take(MAX).read_to_string(&mut text),
        false => std::fs::File::open(path).and_then(|f| f.take(MAX).read_to_string(&mut text)),
    };
    read.map_err(|e| WalletError::io("read the mnemonic from", path, e))?;
    Ok(text.trim().to_owned())
}

/// Write `contents` to `path` the way key files are written: parent folders created
/// 0700, the file 0600, through a flushed temporary file and a rename, replacing any
/// file already there. For other secrets kept beside a wallet (e.g. weight-commit salts).
pub fn write_private(path: &std::path::Path, contents: &[u8]) -> Result<(), WalletError> {
    if let Some(dir) = path.parent() {
        fs::create_private_dir_all(dir)?;
    }
    // With `overwrite`, the write always lands.
    let _ = fs::write_atomic(path, contents, true)?;
    Ok(())
}

/// The 32-byte secret kept in `path` (e.g. a service's OHTTP key seed), created on
/// first use from the operating system's randomness and written like [`write_private`].
pub fn load_or_create_secret(path: &std::path::Path) -> Result<[u8; 32], WalletError> {
    if let Ok(bytes) = std::fs::read(path) {
        return bytes
            .as_slice()
            .try_into()
            .map_err(|_| WalletError::NotASecret {
                path: path.to_path_buf(),
            });
    }
    let mut secret = [0u8; 32];
    keystore::fill_random(&mut secret)?;
    write_private(path, &secret)?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secret_is_created_once_and_a_file_of_another_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("service").join("ohttp.seed");
        let first = super::load_or_create_secret(&path).unwrap();
        assert_eq!(super::load_or_create_secret(&path).unwrap(), first);
        std::fs::write(&path, b"short").unwrap();
        let error = super::load_or_create_secret(&path).unwrap_err();
        assert!(
            matches!(error, super::WalletError::NotASecret { .. }),
            "{error}"
        );
    }
}
