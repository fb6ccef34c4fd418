//! Wallets on disk: one coldkey and any number of named hotkeys, each with its own mnemonic.
//!
//! Layout under the wallet root (by default `~/.plexus/wallets`, see [`default_root`]):
//!
//! ```text
//! <root>/<wallet>/coldkey            encrypted keystore (JSON, see the keystore format)
//! <root>/<wallet>/coldkeypub.txt     the coldkey's plx1… address and a newline
//! <root>/<wallet>/hotkeys/<hotkey>   encrypted keystore, one per hotkey
//! ```
//!
//! Folders are created 0700 and files 0600 on unix; every file is written atomically.
//! `coldkey` is authoritative: if `coldkeypub.txt` disagrees with it, opening the wallet
//! fails rather than show an address the key cannot sign for. A wallet with only
//! `coldkeypub.txt` is watch-only: its address is readable but it cannot sign.

use std::{
    fs,
    path::{Path, PathBuf},
};

use plexus_types::{AccountId, Keypair};

use crate::{
    KdfParams, Mnemonic, WalletError, WordCount,
    fs::{Written, create_private_dir_all, exists, read_bounded, write_atomic},
    keystore::{Keystore, MAX_KEYSTORE_BYTES},
};

/// The wallet root below the home folder: `~/.plexus/wallets`.
pub const DEFAULT_ROOT_IN_HOME: &str = ".plexus/wallets";

/// The coldkey's keystore file name.
pub const COLDKEY_FILE: &str = "coldkey";

/// The coldkey's public address file name.
pub const COLDKEYPUB_FILE: &str = "coldkeypub.txt";

/// The folder of hotkey keystores inside a wallet.
pub const HOTKEYS_DIR: &str = "hotkeys";

/// The longest wallet or hotkey name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// `coldkeypub.txt` holds one address; anything much longer is not one.
const MAX_PUB_FILE_BYTES: usize = 1024;

/// The default wallet root, `$HOME/.plexus/wallets`, or `None` without a home folder.
pub fn default_root() -> Option<PathBuf> {
    std::env::home_dir().map(|home| home.join(DEFAULT_ROOT_IN_HOME))
}

/// Where a service keeps its state `kind` (e.g. `provider/plx1…`) beside the wallets:
/// `$PLEXUS_HOME/<kind>`, else `~/.plexus/<kind>`; `None` without a home folder.
pub fn state_dir(kind: &str) -> Option<PathBuf> {
    match std::env::var_os("PLEXUS_HOME") {
        Some(home) => Some(PathBuf::from(home).join(kind)),
        None => default_root().and_then(|w| w.parent().map(|p| p.join(kind))),
    }
}

/// One wallet as [`list_wallets`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletSummary {
    /// The wallet's name (its folder name).
    pub name: String,
    /// The coldkey's account.
    pub coldkey: AccountId,
    /// The hotkeys, sorted by name.
    pub hotkeys: Vec<(String, AccountId)>,
}

/// Every wallet under `root`, sorted by name. A missing root gives an empty list;
/// folders that hold no coldkey and hidden or invalidly named entries are skipped; a
/// damaged wallet is an error naming the file.
pub fn list_wallets(root: &Path) -> Result<Vec<WalletSummary>, WalletError> {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(WalletError::io("list", root, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| WalletError::io("list", root, e))?;
        let is_dir = entry
            .file_type()
            .map_err(|e| WalletError::io("list", entry.path(), e))?
            .is_dir();
        if let (true, Ok(name)) = (is_dir, entry.file_name().into_string())
            && check_name("wallet", &name).is_ok()
        {
            names.push(name);
        }
    }
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let wallet = match Wallet::open(root, &name) {
            Ok(wallet) => wallet,
            Err(WalletError::WalletNotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        out.push(WalletSummary {
            hotkeys: wallet.hotkeys()?,
            coldkey: wallet.coldkey,
            name,
        });
    }
    Ok(out)
}

/// A wallet on disk, opened without a password: its name, folder and coldkey address.
///
/// Secrets are read only by the `unlock_*` and `*_mnemonic` methods, each of which asks
/// for the password of the key it opens.
#[derive(Clone, Debug)]
pub struct Wallet {
    root: PathBuf,
    name: String,
    coldkey: AccountId,
    kdf: KdfParams,
}

impl Wallet {
    /// Create a wallet with a fresh coldkey mnemonic of `words` words, sealed under
    /// `password` with the default argon2id settings. Returns the mnemonic so the
    /// caller can show it once for backup.
    ///
    /// Without `overwrite`, an existing wallet of that name (coldkey or coldkeypub.txt)
    /// is an error; with it, the coldkey is replaced and the hotkeys are kept.
    pub fn create(
        root: &Path,
        name: &str,
        password: &str,
        words: WordCount,
        overwrite: bool,
    ) -> Result<(Self, Mnemonic), WalletError> {
        Self::create_with_kdf(root, name, password, words, overwrite, KdfParams::default())
    }

    /// [`Wallet::create`] with explicit argon2id settings (kept for the wallet's later
    /// writes too, see [`Wallet::with_kdf`]).
    pub fn create_with_kdf(
        root: &Path,
        name: &str,
        password: &str,
        words: WordCount,
        overwrite: bool,
        kdf: KdfParams,
    ) -> Result<(Self, Mnemonic), WalletError> {
        let mnemonic = Mnemonic::generate(words)?;
        let wallet = Self::write_coldkey(root, name, &mnemonic, password, overwrite, kdf)?;
        Ok((wallet, mnemonic))
    }

    /// Restore a wallet's coldkey from its mnemonic phrase and seal it under `password`.
    /// `overwrite` works as in [`Wallet::create`].
    pub fn regen_coldkey(
        root: &Path,
        name: &str,
        phrase: &str,
        password: &str,
        overwrite: bool,
    ) -> Result<Self, WalletError> {
        Self::regen_coldkey_with_kdf(
            root,
            name,
            phrase,
            password,
            overwrite,
            KdfParams::default(),
        )
    }

    /// [`Wallet::regen_coldkey`] with explicit argon2id settings.
    pub fn regen_coldkey_with_kdf(
        root: &Path,
        name: &str,
        phrase: &str,
        password: &str,
        overwrite: bool,
        kdf: KdfParams,
    ) -> Result<Self, WalletError> {
        let mnemonic = Mnemonic::parse(phrase)?;
        Self::write_coldkey(root, name, &mnemonic, password, overwrite, kdf)
    }

    /// Open an existing wallet; needs no password.
    pub fn open(root: &Path, name: &str) -> Result<Self, WalletError> {
        check_name("wallet", name)?;
        let dir = root.join(name);
        let not_found = || WalletError::WalletNotFound {
            name: name.to_string(),
            root: root.to_path_buf(),
        };
        if !dir.is_dir() {
            return Err(not_found());
        }
        let key_path = dir.join(COLDKEY_FILE);
        let pub_path = dir.join(COLDKEYPUB_FILE);
        let from_key = if exists(&key_path) {
            Some(read_keystore(&key_path)?.address())
        } else {
            None
        };
        let from_pub = if exists(&pub_path) {
            Some(read_pub_file(&pub_path)?)
        } else {
            None
        };
        let coldkey = match (from_key, from_pub) {
            (Some(key), Some(public)) if key != public => {
                return Err(WalletError::corrupt(
                    &pub_path,
                    format!(
                        "it names {public} but the coldkey is {key}; delete {COLDKEYPUB_FILE} \
                         to use the coldkey's address"
                    ),
                ));
            }
            (Some(key), _) => key,
            (None, Some(public)) => public,
            (None, None) => return Err(not_found()),
        };
        Ok(Self {
            root: root.to_path_buf(),
            name: name.to_string(),
            coldkey,
            kdf: KdfParams::default(),
        })
    }

    /// Use `kdf` when this handle seals new keys (hotkeys, regenerated hotkeys).
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }

    /// The wallet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The wallet's folder, `<root>/<name>`.
    pub fn path(&self) -> PathBuf {
        self.root.join(&self.name)
    }

    /// The coldkey's account; needs no password.
    pub fn coldkey_address(&self) -> AccountId {
        self.coldkey
    }

    /// Decrypt the coldkey.
    pub fn unlock_coldkey(&self, password: &str) -> Result<Keypair, WalletError> {
        Ok(self.coldkey_mnemonic(password)?.keypair())
    }

    /// Decrypt the coldkey's mnemonic, e.g. to show it again for backup.
    pub fn coldkey_mnemonic(&self, password: &str) -> Result<Mnemonic, WalletError> {
        let path = self.path().join(COLDKEY_FILE);
        if !exists(&path) {
            return Err(WalletError::ColdkeyMissing {
                name: self.name.clone(),
            });
        }
        let store = read_keystore(&path)?;
        if store.address() != self.coldkey {
            return Err(WalletError::corrupt(
                &path,
                "it changed since the wallet was opened; open the wallet again",
            ));
        }
        store.unseal(password, &path)
    }

    /// Create a hotkey with a fresh mnemonic of its own, sealed under `password`.
    /// Returns its account and mnemonic (show the mnemonic once for backup).
    pub fn create_hotkey(
        &self,
        hotkey: &str,
        password: &str,
        words: WordCount,
        overwrite: bool,
    ) -> Result<(AccountId, Mnemonic), WalletError> {
        check_name("hotkey", hotkey)?;
        // Refuse before generating anything, and again atomically when writing.
        self.refuse_existing_hotkey(hotkey, overwrite)?;
        let mnemonic = Mnemonic::generate(words)?;
        let account = self.write_hotkey(hotkey, &mnemonic, password, overwrite)?;
        Ok((account, mnemonic))
    }

    /// Restore a hotkey from its mnemonic phrase and seal it under `password`.
    pub fn regen_hotkey(
        &self,
        hotkey: &str,
        phrase: &str,
        password: &str,
        overwrite: bool,
    ) -> Result<AccountId, WalletError> {
        check_name("hotkey", hotkey)?;
        self.refuse_existing_hotkey(hotkey, overwrite)?;
        let mnemonic = Mnemonic::parse(phrase)?;
        self.write_hotkey(hotkey, &mnemonic, password, overwrite)
    }

    /// The hotkeys and their accounts, sorted by name; needs no password. Hidden and
    /// invalidly named files (such as a temporary file left by a crash) are skipped.
    pub fn hotkeys(&self) -> Result<Vec<(String, AccountId)>, WalletError> {
        let dir = self.path().join(HOTKEYS_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(WalletError::io("list", &dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| WalletError::io("list", &dir, e))?;
            let is_file = entry
                .file_type()
                .map_err(|e| WalletError::io("list", entry.path(), e))?
                .is_file();
            if let (true, Ok(name)) = (is_file, entry.file_name().into_string())
                && check_name("hotkey", &name).is_ok()
            {
                let address = read_keystore(&entry.path())?.address();
                out.push((name, address));
            }
        }
        out.sort();
        Ok(out)
    }

    /// One hotkey's account; needs no password.
    pub fn hotkey_address(&self, hotkey: &str) -> Result<AccountId, WalletError> {
        Ok(read_keystore(&self.hotkey_path(hotkey)?)?.address())
    }

    /// Decrypt a hotkey.
    pub fn unlock_hotkey(&self, hotkey: &str, password: &str) -> Result<Keypair, WalletError> {
        Ok(self.hotkey_mnemonic(hotkey, password)?.keypair())
    }

    /// Decrypt a hotkey's mnemonic, e.g. to show it again for backup.
    pub fn hotkey_mnemonic(&self, hotkey: &str, password: &str) -> Result<Mnemonic, WalletError> {
        let path = self.hotkey_path(hotkey)?;
        read_keystore(&path)?.unseal(password, &path)
    }

    /// The path of an existing hotkey's keystore.
    fn hotkey_path(&self, hotkey: &str) -> Result<PathBuf, WalletError> {
        check_name("hotkey", hotkey)?;
        let path = self.path().join(HOTKEYS_DIR).join(hotkey);
        if !path.is_file() {
            return Err(WalletError::HotkeyNotFound {
                wallet: self.name.clone(),
                hotkey: hotkey.to_string(),
            });
        }
        Ok(path)
    }

    fn hotkey_exists_error(&self, hotkey: &str) -> WalletError {
        WalletError::HotkeyExists {
            wallet: self.name.clone(),
            hotkey: hotkey.to_string(),
        }
    }

    fn refuse_existing_hotkey(&self, hotkey: &str, overwrite: bool) -> Result<(), WalletError> {
        if !overwrite && exists(&self.path().join(HOTKEYS_DIR).join(hotkey)) {
            return Err(self.hotkey_exists_error(hotkey));
        }
        Ok(())
    }

    fn write_hotkey(
        &self,
        hotkey: &str,
        mnemonic: &Mnemonic,
        password: &str,
        overwrite: bool,
    ) -> Result<AccountId, WalletError> {
        let wallet_dir = self.path();
        if !wallet_dir.is_dir() {
            return Err(WalletError::WalletNotFound {
                name: self.name.clone(),
                root: self.root.clone(),
            });
        }
        let store = Keystore::seal(mnemonic, password, &self.kdf)?;
        let dir = wallet_dir.join(HOTKEYS_DIR);
        create_private_dir_all(&dir)?;
        match write_atomic(&dir.join(hotkey), store.to_json().as_bytes(), overwrite)? {
            Written::Done => Ok(store.address()),
            Written::AlreadyExists => Err(self.hotkey_exists_error(hotkey)),
        }
    }

    fn write_coldkey(
        root: &Path,
        name: &str,
        mnemonic: &Mnemonic,
        password: &str,
        overwrite: bool,
        kdf: KdfParams,
    ) -> Result<Self, WalletError> {
        check_name("wallet", name)?;
        let dir = root.join(name);
        let key_path = dir.join(COLDKEY_FILE);
        let pub_path = dir.join(COLDKEYPUB_FILE);
        let exists_error = || WalletError::WalletExists {
            name: name.to_string(),
        };
        if !overwrite && (exists(&key_path) || exists(&pub_path)) {
            return Err(exists_error());
        }
        let store = Keystore::seal(mnemonic, password, &kdf)?;
        let address = store.address();
        create_private_dir_all(&dir)?;
        // The coldkey first: a crash between the two writes leaves a wallet whose
        // coldkeypub.txt is missing or stale, which `open` reports, never a public
        // address without its key.
        match write_atomic(&key_path, store.to_json().as_bytes(), overwrite)? {
            Written::Done => {}
            Written::AlreadyExists => return Err(exists_error()),
        }
        let public = format!("{}\n", address.to_address());
        // This wallet's coldkey is now ours, so its public file is replaced either way.
        let _ = write_atomic(&pub_path, public.as_bytes(), true)?;
        Ok(Self {
            root: root.to_path_buf(),
            name: name.to_string(),
            coldkey: address,
            kdf,
        })
    }
}

fn read_keystore(path: &Path) -> Result<Keystore, WalletError> {
    Keystore::parse(&read_bounded(path, MAX_KEYSTORE_BYTES)?, path)
}

fn read_pub_file(path: &Path) -> Result<AccountId, WalletError> {
    let bytes = read_bounded(path, MAX_PUB_FILE_BYTES)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| WalletError::corrupt(path, "it is not text"))?;
    AccountId::parse(text.trim())
        .map_err(|_| WalletError::corrupt(path, "it does not hold a plx1… address"))
}

/// Check a wallet or hotkey name: 1 to 64 ASCII letters, digits, `-`, `_` or `.`, not
/// starting with `.` (which rules out `.`, `..`, hidden files and temporary files).
pub(crate) fn check_name(kind: &'static str, name: &str) -> Result<(), WalletError> {
    let reason = if name.is_empty() {
        Some("is empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("is longer than 64 bytes")
    } else if name.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if name.starts_with('.') {
        Some("starts with '.'")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("contains a character other than letters, digits, '-', '_' or '.'")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(WalletError::InvalidName {
            kind,
            name: name.to_string(),
            reason,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_are_accepted() {
        for name in [
            "default",
            "miner-1",
            "my_wallet",
            "v2.0",
            "A",
            &"x".repeat(64),
        ] {
            assert!(check_name("wallet", name).is_ok(), "{name}");
        }
    }

    #[test]
    fn hostile_names_are_refused_with_a_reason() {
        for name in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "/etc",
            ".hidden",
            ".x.tmp-1-2",
            "nul\0byte",
            "new\nline",
            "space name",
            "wället",
            "C:",
            &"x".repeat(65),
        ] {
            let err = check_name("hotkey", name).unwrap_err();
            assert!(
                matches!(err, WalletError::InvalidName { kind: "hotkey", .. }),
                "{name:?}"
            );
            let message = err.to_string();
            assert!(message.starts_with("invalid hotkey name"), "{message}");
            assert!(
                !message.contains('\n'),
                "names are shown escaped: {message}"
            );
        }
    }

    #[test]
    fn the_default_root_is_under_home() {
        if let Some(root) = default_root() {
            assert!(root.ends_with(".plexus/wallets"));
        }
    }
}
