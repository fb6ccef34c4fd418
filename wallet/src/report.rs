//! Wallets as the `plexus wallet` commands report them: as JSON and as text.

use std::fmt::{self, Display, Formatter};

use plexus_types::AccountId;
use serde_json::{Value, json};

use crate::{Mnemonic, Wallet, WalletSummary};

impl WalletSummary {
    /// `{name, coldkey, hotkeys: [{name, address}]}`.
    pub fn to_json(&self) -> Value {
        let hotkeys: Vec<Value> = (self.hotkeys.iter())
            .map(|(n, a)| json!({"name": n, "address": a}))
            .collect();
        json!({"name": self.name, "coldkey": self.coldkey, "hotkeys": hotkeys})
    }
}

/// The wallet's line, then one line per hotkey.
impl Display for WalletSummary {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}  coldkey {}", self.name, self.coldkey)?;
        for (hotkey, address) in &self.hotkeys {
            writeln!(f, "  └─ hotkey {hotkey}  {address}")?;
        }
        Ok(())
    }
}

/// Keys just created in `wallet`, with the mnemonics to write down.
#[derive(Debug)]
pub struct Created<'a> {
    /// The wallet.
    pub wallet: &'a Wallet,
    /// The coldkey's mnemonic, if the coldkey was created.
    pub coldkey: Option<Mnemonic>,
    /// The hotkey created: its name, address and mnemonic.
    pub hotkey: Option<(String, AccountId, Mnemonic)>,
}

impl Created<'_> {
    /// The wallet, its coldkey and the new keys' mnemonics.
    pub fn to_json(&self) -> Value {
        let phrase = |m: &Mnemonic| m.phrase().to_string();
        json!({
            "wallet": self.wallet.name(),
            "path": self.wallet.path(),
            "coldkey": self.wallet.coldkey_address(),
            "coldkey_mnemonic": self.coldkey.as_ref().map(phrase),
            "hotkey": self.hotkey.as_ref().map(|(name, address, m)| json!({"name": name, "address": address, "mnemonic": phrase(m)})),
        })
    }
}

/// Where the wallet is, the new keys with their mnemonics, and what to do next.
impl Display for Created<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let wallet = self.wallet;
        writeln!(
            f,
            "Wallet '{}' in {}",
            wallet.name(),
            wallet.path().display()
        )?;
        if let Some(m) = &self.coldkey {
            writeln!(
                f,
                "  coldkey  {}\n  mnemonic (write it down; it is the only way to restore this key):\n    {}",
                wallet.coldkey_address(),
                m.phrase().as_str()
            )?;
        }
        if let Some((name, address, m)) = &self.hotkey {
            writeln!(
                f,
                "  hotkey '{name}'  {address}\n  hotkey mnemonic:\n    {}",
                m.phrase().as_str()
            )?;
        }
        write!(f, "Next: `plexus wallet balance --name {}`", wallet.name())
    }
}
