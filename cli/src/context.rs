//! What every command shares: where the node and the wallets are, and how to talk.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use plexus_serve::settings::Layered;
use plexus_types::Netuid;

/// The node API a fresh `plexus node` serves.
pub(crate) const DEFAULT_NODE_URL: &str = "http://127.0.0.1:7070";

/// Settings shared by every command.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) node_url: String,
    /// Whether `--node` or `PLEXUS_NODE` named the node (then it wins over a file).
    node_given: bool,
    wallets: Option<PathBuf>,
    pub(crate) json: bool,
}

impl Context {
    pub(crate) fn new(node_url: Option<String>, wallets: Option<PathBuf>, json: bool) -> Self {
        Self {
            node_given: node_url.is_some(),
            node_url: node_url.unwrap_or_else(|| DEFAULT_NODE_URL.to_owned()),
            wallets,
            json,
        }
    }

    /// A service's effective settings, with this context on the node its file names
    /// (unless `--node` or `PLEXUS_NODE` named one); `None` once `--print-config`
    /// printed them.
    pub(crate) fn service<S>(
        &self,
        flags: &Layered<S>,
        node: impl Fn(&S) -> Option<&str>,
    ) -> anyhow::Result<Option<(S, Self)>>
    where
        S: serde::Serialize + serde::de::DeserializeOwned + Default + clap::FromArgMatches,
    {
        let settings = flags.resolve()?;
        if let Some(text) = flags.to_print(&settings)? {
            println!("{text}");
            return Ok(None);
        }
        let mut ctx = self.clone();
        if let (false, Some(url)) = (self.node_given, node(&settings)) {
            ctx.node_url = url.to_owned();
        }
        Ok(Some((settings, ctx)))
    }

    /// The wallet root folder.
    pub(crate) fn wallets(&self) -> anyhow::Result<PathBuf> {
        match &self.wallets {
            Some(path) => Ok(path.clone()),
            None => plexus_wallet::default_root()
                .context("no home folder found: pass --wallets DIR or set PLEXUS_WALLETS"),
        }
    }

    /// A password: `PLEXUS_PASSWORD` if set (for scripts), else asked on the terminal.
    pub(crate) fn password(&self, prompt: &str) -> anyhow::Result<String> {
        if let Ok(password) = std::env::var("PLEXUS_PASSWORD") {
            return Ok(password);
        }
        rpassword::prompt_password(prompt)
            .context("cannot read a password from the terminal: set PLEXUS_PASSWORD instead")
    }

    /// A new password, asked twice on the terminal unless `PLEXUS_PASSWORD` is set.
    pub(crate) fn new_password(&self, what: &str) -> anyhow::Result<String> {
        if let Ok(password) = std::env::var("PLEXUS_PASSWORD") {
            return Ok(password);
        }
        let first = self.password(&format!("Choose a password for {what}: "))?;
        let second = self.password("Repeat it: ")?;
        if first != second {
            bail!("the passwords differ; run the command again");
        }
        Ok(first)
    }

    /// Wallet `name` with its password, checked by unlocking the coldkey.
    pub(crate) fn unlock(
        &self,
        name: &str,
    ) -> anyhow::Result<(plexus_wallet::Wallet, String, plexus_types::Keypair)> {
        let wallet = plexus_wallet::Wallet::open(&self.wallets()?, name)?;
        let password = self.password(&format!("Password for wallet '{name}': "))?;
        let coldkey = wallet.unlock_coldkey(&password)?;
        Ok((wallet, password, coldkey))
    }

    /// The coldkey and hotkey `hotkey` of wallet `name`, unlocked with its password.
    pub(crate) fn hotkey(
        &self,
        name: &str,
        hotkey: &str,
    ) -> anyhow::Result<(plexus_types::Keypair, plexus_types::Keypair)> {
        let (wallet, password, coldkey) = self.unlock(name)?;
        let hotkey = wallet.unlock_hotkey(hotkey, &password).with_context(|| {
            format!(
                "wallet '{name}' has no hotkey '{hotkey}': create one with `plexus wallet create --name {name} --hotkey {hotkey}`"
            )
        })?;
        Ok((coldkey, hotkey))
    }

    /// The coldkey of wallet `name`, unlocked with its password.
    pub(crate) fn coldkey(&self, name: &str) -> anyhow::Result<plexus_types::Keypair> {
        Ok(self.unlock(name)?.2)
    }

    /// A client for the node API.
    pub(crate) fn client(&self) -> anyhow::Result<plexus_client::Client> {
        plexus_client::Client::new(&self.node_url)
            .with_context(|| format!("invalid node URL {}", self.node_url))
    }

    /// A service's state folder: `explicit`, else `$PLEXUS_HOME/<kind>`, else
    /// `~/.plexus/<kind>`; created if missing.
    pub(crate) fn state_dir(
        &self,
        kind: &str,
        explicit: Option<&PathBuf>,
    ) -> anyhow::Result<PathBuf> {
        let dir = match explicit {
            Some(dir) => dir.clone(),
            None => plexus_wallet::state_dir(kind)
                .context("no home folder found: pass --data-dir DIR")?,
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }
}

/// The subnet a service was configured for, or an error saying how to set it.
pub(crate) fn required_netuid(netuid: Option<Netuid>) -> anyhow::Result<Netuid> {
    netuid.context("no subnet given: pass --netuid N or set `netuid` in the --config file")
}
