//! Shared helpers: a temporary wallet root and fast argon2id settings.

use std::path::{Path, PathBuf};

use plexus_wallet::{KdfParams, Mnemonic, Wallet, WordCount};
use tempfile::TempDir;

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A temporary folder with the wallet root one level down, so a test can check that
/// nothing escaped the root.
pub(crate) struct Root {
    dir: TempDir,
}

impl Root {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// The wallet root (`<tmp>/wallets`, created on first write).
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("wallets")
    }

    /// The folder that holds the root.
    pub(crate) fn outside(&self) -> &Path {
        self.dir.path()
    }
}

pub(crate) fn fast() -> KdfParams {
    KdfParams::insecure_fast()
}

/// Create wallet `name` with fast settings and the shared password.
pub(crate) fn create(root: &Root, name: &str) -> (Wallet, Mnemonic) {
    Wallet::create_with_kdf(
        &root.path(),
        name,
        PASSWORD,
        WordCount::Twelve,
        false,
        fast(),
    )
    .expect("a new wallet")
}

/// Read a JSON file, change it, write it back.
pub(crate) fn edit_json(path: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    let bytes = std::fs::read(path).expect("a readable keystore");
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes).expect("keystore JSON");
    change(&mut doc);
    std::fs::write(path, doc.to_string()).expect("a writable keystore");
}
