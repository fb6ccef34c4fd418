//! Files only a wallet's coldkey can read: ChaCha20-Poly1305 with a key derived from
//! the coldkey, a random nonce in front, written atomically and owner-only.

use std::path::{Path, PathBuf};

use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit as _, Nonce,
    aead::{Aead as _, Payload},
};
use plexus_types::Keypair;

/// Why a sealed file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SealedError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file cannot be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is shorter than its nonce.
    #[error("{0} is truncated")]
    Truncated(PathBuf),
    /// The key does not open it.
    #[error("cannot decrypt {0}: it belongs to another wallet or is corrupt")]
    Decrypt(PathBuf),
    /// Encryption failed.
    #[error("cannot encrypt {0}")]
    Encrypt(PathBuf),
}

const NONCE_LEN: usize = 12;

/// A key for local files of `purpose` that only `coldkey` can derive: a hash of its
/// (deterministic) ed25519 signature over a fixed label.
pub fn local_key(coldkey: &Keypair, purpose: &str) -> [u8; 32] {
    let sig = coldkey.sign(format!("plexus/local-file-key/v1/{purpose}").as_bytes());
    blake3::derive_key("plexus local file key v1", &sig.0)
}

/// Read and decrypt `path`; `None` if it does not exist.
pub fn open_sealed(
    path: &Path,
    key: &[u8; 32],
    aad: &[u8],
) -> Result<Option<Vec<u8>>, SealedError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SealedError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if bytes.len() < NONCE_LEN {
        return Err(SealedError::Truncated(path.to_path_buf()));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_from(nonce).map_err(|_| SealedError::Truncated(path.to_path_buf()))?;
    ChaCha20Poly1305::new(key.into())
        .decrypt(&nonce, Payload { msg: sealed, aad })
        .map(Some)
        .map_err(|_| SealedError::Decrypt(path.to_path_buf()))
}

/// Encrypt `plain` and write it to `path` atomically, owner-only (creating its folder
/// owner-only when missing).
pub fn write_sealed(
    path: &Path,
    key: &[u8; 32],
    aad: &[u8],
    plain: &[u8],
) -> Result<(), SealedError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
    let sealed = ChaCha20Poly1305::new(key.into())
        .encrypt(&Nonce::from(nonce), Payload { msg: plain, aad })
        .map_err(|_| SealedError::Encrypt(path.to_path_buf()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    plexus_wallet::write_private(path, &out).map_err(|e| SealedError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_sealed_file_opens_only_with_its_key_and_label() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.enc");
        let key = local_key(&Keypair::from_seed([1; 32]), "test");
        assert_eq!(open_sealed(&path, &key, b"a").unwrap(), None);
        write_sealed(&path, &key, b"a", b"hello").unwrap();
        assert_eq!(open_sealed(&path, &key, b"a").unwrap().unwrap(), b"hello");
        assert!(matches!(
            open_sealed(&path, &key, b"b"),
            Err(SealedError::Decrypt(_))
        ));
        let other = local_key(&Keypair::from_seed([2; 32]), "test");
        assert!(matches!(
            open_sealed(&path, &other, b"a"),
            Err(SealedError::Decrypt(_))
        ));
        std::fs::write(&path, [0u8; 5]).unwrap();
        assert!(matches!(
            open_sealed(&path, &key, b"a"),
            Err(SealedError::Truncated(_))
        ));
    }
}
