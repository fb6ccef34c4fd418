//! A wallet's side of the private path: its credit store and the chain it trusts, its
//! balance, fetching its due deposits, and refunds.

use std::{collections::BTreeMap, path::Path, time::Duration};

use plexus_client::{Client, ClientError, Sent, trust::TrustAnchor, trust::TrustError};
use plexus_types::{Keypair, Payload, error_chain, format_plx};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    Session,
    issuance::{self, Fetched},
    store::{CreditStore, PendingDeposit, StoreError},
};

/// How long a refund may take to be finalized.
const REFUND_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a wallet's private-path state cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The genesis file named cannot be read.
    #[error("cannot read PLEXUS_GENESIS {path}")]
    ReadGenesis {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The genesis file named is not a genesis.
    #[error("PLEXUS_GENESIS {path} is not a genesis")]
    BadGenesis {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: plexus_ledger::GenesisError,
    },
    /// The pinned chain cannot be used.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The credit store cannot be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Wallet folder `dir`'s credit token store, sealed to `coldkey`.
pub fn open_store(dir: &Path, coldkey: &Keypair) -> Result<CreditStore, StoreError> {
    CreditStore::open(&CreditStore::path_in(dir), coldkey)
}

/// The chain wallet folder `dir` trusts: the genesis file `genesis` (`PLEXUS_GENESIS`)
/// if given, else the chain pinned in the wallet's `chain.json` at first use (a node
/// serving another chain is refused).
pub async fn trust_anchor(
    client: &Client,
    dir: &Path,
    genesis: Option<&Path>,
) -> Result<TrustAnchor, WalletError> {
    let Some(path) = genesis else {
        return Ok(TrustAnchor::pinned(client, &dir.join("chain.json")).await?);
    };
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| WalletError::ReadGenesis {
        path: name.clone(),
        source,
    })?;
    let genesis = plexus_ledger::Genesis::from_json(&text)
        .map_err(|source| WalletError::BadGenesis { path: name, source })?;
    Ok(TrustAnchor::from_genesis(&genesis))
}

/// A session for wallet folder `dir` through `relay`: its store, the chain it trusts
/// (as [`trust_anchor`]), issuance through `issuance_relay` when given.
pub async fn open_session(
    client: Client,
    dir: &Path,
    coldkey: &Keypair,
    relay: String,
    genesis: Option<&Path>,
    issuance_relay: Option<String>,
) -> Result<Session, WalletError> {
    let anchor = trust_anchor(&client, dir, genesis).await?;
    let store = open_store(dir, coldkey)?;
    Ok(Session::new(client, relay, store, anchor).with_issuance_relay(issuance_relay))
}

/// What a wallet's store holds.
#[derive(Debug, Clone, Serialize)]
pub struct Balance {
    /// Credits held.
    pub credits: u64,
    /// Credits held per provider origin.
    pub per_provider: BTreeMap<String, u64>,
    /// Deposits paid whose tokens are not fetched yet.
    pub pending: Vec<PendingView>,
}

/// A pending deposit as reported.
#[derive(Debug, Clone, Serialize)]
pub struct PendingView {
    /// The deposit id.
    pub deposit: u64,
    /// Credits paid.
    pub credits: u32,
    /// The issuer hotkey address.
    pub issuer: String,
    /// Seconds until its tokens are due.
    pub due_in_secs: u64,
    /// The relay the issuance goes through.
    pub relay: String,
}

impl Balance {
    /// What `store` holds now.
    pub fn of(store: &CreditStore) -> Result<Self, StoreError> {
        let per_provider = store.per_origin()?;
        let now = issuance::unix_now();
        let pending = store
            .pending()?
            .into_iter()
            .map(|p: PendingDeposit| PendingView {
                deposit: p.deposit,
                credits: p.credits,
                issuer: p.issuer,
                due_in_secs: p.not_before.saturating_sub(now),
                relay: p.relay,
            });
        Ok(Self {
            credits: per_provider.values().sum(),
            per_provider,
            pending: pending.collect(),
        })
    }

    /// The balance of wallet `name`, one line per provider and pending deposit.
    pub fn text(&self, name: &str) -> String {
        let mut text = format!("{} credits in wallet '{name}'", self.credits);
        for (origin, n) in &self.per_provider {
            text.push_str(&format!("\n  {n:>6}  for provider {origin}"));
        }
        for p in &self.pending {
            text.push_str(&format!(
                "\n  {:>6}  paid (deposit {}), tokens due in {}s through {}",
                p.credits, p.deposit, p.due_in_secs, p.relay
            ));
        }
        if self.credits == 0 && self.pending.is_empty() {
            text.push_str(&format!(
                "\nBuy some with `plexus credits buy --name {name}`."
            ));
        }
        text
    }
}

impl Fetched {
    /// The report of this fetch, with `total` credits held after it.
    pub fn to_json(&self, total: u64) -> Value {
        let now = issuance::unix_now();
        let issued: Vec<Value> = (self.issued.iter())
            .map(|(d, n)| json!({"deposit": d, "tokens": n}))
            .collect();
        let waiting: Vec<Value> = (self.waiting.iter())
            .map(|p| json!({"deposit": p.deposit, "due_in_secs": p.not_before.saturating_sub(now)}))
            .collect();
        json!({"issued": issued, "waiting": waiting, "failed": self.failures(), "credits": total})
    }

    /// Each failed deposit with why.
    pub fn failures(&self) -> Vec<String> {
        (self.failed.iter())
            .map(|(d, e)| format!("deposit {d}: {}", error_chain(e)))
            .collect()
    }

    /// What a session of wallet `name` says on stderr after fetching its due deposits
    /// as it opens.
    pub fn notices(&self, name: &str) -> Vec<String> {
        let issued =
            (self.issued.iter()).map(|(d, n)| format!("Fetched {n} tokens of deposit {d}."));
        let failed = (self.failed.iter())
            .map(|(d, e)| format!("warning: deposit {d} stays pending: {}", error_chain(e)));
        let waiting = (!self.waiting.is_empty()).then(|| format!(
            "{} paid deposit(s) not fetched yet (`plexus credits balance --name {name}` says when they are due).",
            self.waiting.len()
        ));
        issued.chain(failed).chain(waiting).collect()
    }

    /// One line per deposit issued, waiting or failed, then the `total` held.
    pub fn text(&self, total: u64) -> String {
        let now = issuance::unix_now();
        let mut text = String::new();
        for (d, n) in &self.issued {
            text.push_str(&format!("Fetched {n} tokens of deposit {d}.\n"));
        }
        for p in &self.waiting {
            text.push_str(&format!(
                "Deposit {} is due in {}s (`--now` fetches it at once).\n",
                p.deposit,
                p.not_before.saturating_sub(now)
            ));
        }
        for f in self.failures() {
            text.push_str(&format!("Not fetched: {f}\n"));
        }
        text.push_str(&format!("{total} credits held."));
        text
    }
}

/// Why a refund was not sent.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    /// The deposit cannot be read.
    #[error("deposit {0} is not on chain")]
    Unknown(u64, #[source] ClientError),
    /// Another wallet paid it.
    #[error("deposit {0} was paid by another wallet")]
    NotYours(u64),
    /// It was refunded before.
    #[error("deposit {deposit} was refunded already ({} PLX)", format_plx(*amount))]
    Already {
        /// The deposit.
        deposit: u64,
        /// What was refunded.
        amount: u64,
    },
    /// Its key's settle window is still open and the key did not over-issue.
    #[error(
        "deposit {deposit} is refundable from block {from} (now {height}), once its issuer key's settle window has closed; nothing was sent"
    )]
    TooEarly {
        /// The deposit.
        deposit: u64,
        /// The first block a refund is taken.
        from: u64,
        /// The chain's height now.
        height: u64,
    },
    /// The node could not be read.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The refund transaction failed.
    #[error(transparent)]
    Send(ClientError),
}

/// A refund on chain.
#[derive(Debug, Clone, Serialize)]
pub struct Refund {
    /// The deposit.
    pub deposit: u64,
    /// What it paid.
    pub paid: u64,
    /// What came back.
    pub refunded: u64,
    /// The block of the refund.
    pub height: u64,
}

/// Take back deposit `deposit`, paid by `coldkey`, on chain: in full if its issuer key
/// over-issued, else its share of the key's escrow once the key's settle window has
/// closed (checked first, so no fee is paid for a refund the chain would refuse).
pub async fn refund(
    client: &Client,
    coldkey: &Keypair,
    deposit: u64,
) -> Result<Refund, RefundError> {
    let before = (client.deposit(deposit).await)
        .map_err(|e| RefundError::Unknown(deposit, e))?
        .deposit;
    if before.buyer != coldkey.account() {
        return Err(RefundError::NotYours(deposit));
    }
    if let Some(amount) = before.refunded {
        return Err(RefundError::Already { deposit, amount });
    }
    let keys = client
        .issuers()
        .await?
        .issuers
        .into_iter()
        .flat_map(|i| i.keys);
    let key = keys.into_iter().find(|k| k.key_id == before.key_id);
    let height = client.tip_height().await?;
    if let Some(k) = key
        && !k.over_issued
        && height < k.closes_at
    {
        let from = k.closes_at;
        return Err(RefundError::TooEarly {
            deposit,
            from,
            height,
        });
    }
    let payload = Payload::RefundCredits { deposit };
    let sent: Sent = (client.send_tx(coldkey, payload, None, REFUND_TIMEOUT).await)
        .map_err(RefundError::Send)?;
    let after = client.deposit(deposit).await?.deposit;
    Ok(Refund {
        deposit,
        paid: before.amount,
        refunded: after.refunded.unwrap_or(0),
        height: sent.height,
    })
}
