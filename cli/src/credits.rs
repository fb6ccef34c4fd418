//! `plexus credits`: buy credit tokens and see what is left; the encrypted local token
//! store and the provider/issuer discovery that `plexus chat` and `plexus proxy` share.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail};
use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit as _, Nonce,
    aead::{Aead as _, Payload as AeadPayload},
};
use clap::{Args, Subcommand};
use plexus_client::{Client, private::Route};
use plexus_privacy::{
    oblivious::{PublicKeyConfig, decode_key_list},
    token::{IssuerPublicKey, Token},
};
use plexus_types::{AccountId, Keypair, Mechanism, Payload, credits::CREDIT_BUNDLES};
use rand::seq::IndexedRandom as _;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{context::Context, output};

/// The relay a fresh `plexus relay` (and `plexus devnet`) serves.
pub(crate) const DEFAULT_RELAY_URL: &str = "http://127.0.0.1:7080";
/// How long a purchase may take to be finalized.
const TX_TIMEOUT: Duration = Duration::from_secs(60);

/// `plexus credits …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CreditsCommand {
    /// Buy a bundle of credits: pay an issuer on chain, then fetch blind-signed tokens
    /// through a relay.
    Buy(BuyArgs),
    /// Credits left in this wallet's token store, per provider.
    Balance(BalanceArgs),
    /// Credit issuers on chain and their keys.
    Issuers,
}

/// Flags of `plexus credits buy`.
#[derive(Debug, Args)]
pub(crate) struct BuyArgs {
    /// Wallet whose coldkey pays.
    #[arg(long, default_value = "default")]
    name: String,
    /// Credits to buy: 10, 100 or 1000.
    #[arg(long, default_value_t = 100)]
    credits: u32,
    /// Issuer hotkey (default: one at random among those on chain).
    #[arg(long)]
    issuer: Option<AccountId>,
    /// The OHTTP relay the issuance goes through.
    #[arg(long, env = "PLEXUS_RELAY", default_value = DEFAULT_RELAY_URL)]
    relay: String,
    /// Fetch the tokens of this deposit, already paid, instead of paying again (after
    /// a purchase whose issuance failed).
    #[arg(long, value_name = "DEPOSIT")]
    resume: Option<u64>,
}

/// Flags of `plexus credits balance`.
#[derive(Debug, Args)]
pub(crate) struct BalanceArgs {
    /// Wallet whose token store to read.
    #[arg(long, default_value = "default")]
    name: String,
}

/// One unspent token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredCredit {
    /// Issuer hotkey address.
    pub(crate) issuer: String,
    /// The provider hotkey address the token is bound to.
    pub(crate) origin: String,
    /// Credits it is worth.
    pub(crate) denomination: u32,
    /// The encoded token, hex.
    pub(crate) token: String,
}

impl StoredCredit {
    pub(crate) fn decode(&self) -> anyhow::Result<Token> {
        Ok(Token::decode(&hex::decode(&self.token)?)?)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    version: u32,
    credits: Vec<StoredCredit>,
}

/// A wallet's unspent tokens, encrypted at rest with a key only its coldkey derives.
///
/// Several processes may use one wallet at once (`plexus proxy` running while
/// `plexus chat` or `plexus credits buy` runs): every change re-reads the file under
/// an exclusive lock on `credits.enc.lock`, applies itself and writes the file back
/// (atomically) before the lock is released, so no process ever spends a token
/// another took or drops tokens another added.
pub(crate) struct CreditStore {
    path: PathBuf,
    key: [u8; 32],
}

const STORE_AAD: &[u8] = b"plexus/credits/store/v1";

impl CreditStore {
    /// The store file of wallet `name`.
    pub(crate) fn path_for(ctx: &Context, name: &str) -> anyhow::Result<PathBuf> {
        Ok(ctx.wallets()?.join(name).join("credits.enc"))
    }

    /// Open (or start) the store at `path` for `coldkey`; a file this coldkey cannot
    /// open is an error now rather than at the first request.
    pub(crate) fn open(path: &Path, coldkey: &Keypair) -> anyhow::Result<Self> {
        let store = Self {
            path: path.to_path_buf(),
            key: local_key(coldkey, "credits"),
        };
        store.load()?;
        Ok(store)
    }

    fn load(&self) -> anyhow::Result<Vec<StoredCredit>> {
        Ok(match open_sealed(&self.path, &self.key, STORE_AAD)? {
            Some(plain) => {
                serde_json::from_slice::<StoreFile>(&plain)
                    .with_context(|| format!("{} is corrupt", self.path.display()))?
                    .credits
            }
            None => Vec::new(),
        })
    }

    /// Apply `change` to the tokens as they are on disk now, under the lock, and write
    /// the result before releasing it.
    fn update<R>(&self, change: impl FnOnce(&mut Vec<StoredCredit>) -> R) -> anyhow::Result<R> {
        let lock_path = self.path.with_extension("enc.lock");
        if let Some(dir) = lock_path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        let mut credits = self.load()?;
        let out = change(&mut credits);
        let plain = serde_json::to_vec(&StoreFile {
            version: 1,
            credits,
        })?;
        write_sealed(&self.path, &self.key, STORE_AAD, &plain)?;
        Ok(out)
    }

    /// Add tokens.
    pub(crate) fn add(
        &self,
        credits: impl IntoIterator<Item = StoredCredit>,
    ) -> anyhow::Result<()> {
        self.update(|held| held.extend(credits))
    }

    /// Credits held per provider origin.
    pub(crate) fn per_origin(&self) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
        let mut out = std::collections::BTreeMap::new();
        for c in self.load()? {
            *out.entry(c.origin).or_insert(0) += u64::from(c.denomination);
        }
        Ok(out)
    }

    /// Take tokens bound to `origin` worth at least `credits` out of the store, or
    /// none if there are too few.
    pub(crate) fn take(
        &self,
        origin: &str,
        credits: u64,
    ) -> anyhow::Result<Option<Vec<StoredCredit>>> {
        self.update(|held| {
            let mut have = 0u64;
            let mut picked = Vec::new();
            for (i, c) in held.iter().enumerate() {
                if have >= credits {
                    break;
                }
                if c.origin == origin {
                    have += u64::from(c.denomination);
                    picked.push(i);
                }
            }
            if have < credits {
                return None;
            }
            let mut out = Vec::with_capacity(picked.len());
            for i in picked.into_iter().rev() {
                out.push(held.remove(i));
            }
            Some(out)
        })
    }
}

/// A key for local files of `purpose` that only `coldkey` can derive: a hash of its
/// (deterministic) ed25519 signature over a fixed label.
pub(crate) fn local_key(coldkey: &Keypair, purpose: &str) -> [u8; 32] {
    let sig = coldkey.sign(format!("plexus/local-file-key/v1/{purpose}").as_bytes());
    blake3::derive_key("plexus local file key v1", &sig.0)
}

/// Read and decrypt `path` (ChaCha20-Poly1305, random nonce in front); `None` if absent.
pub(crate) fn open_sealed(
    path: &Path,
    key: &[u8; 32],
    aad: &[u8],
) -> anyhow::Result<Option<Vec<u8>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if bytes.len() < 12 {
        bail!("{} is truncated", path.display());
    }
    let (nonce, sealed) = bytes.split_at(12);
    let nonce = Nonce::try_from(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
    ChaCha20Poly1305::new(key.into())
        .decrypt(&nonce, AeadPayload { msg: sealed, aad })
        .map(Some)
        .map_err(|_| {
            anyhow::anyhow!(
                "cannot decrypt {}: it belongs to another wallet or is corrupt",
                path.display()
            )
        })
}

/// Encrypt `plain` and write it to `path` atomically, owner-only.
pub(crate) fn write_sealed(
    path: &Path,
    key: &[u8; 32],
    aad: &[u8],
    plain: &[u8],
) -> anyhow::Result<()> {
    let mut nonce = [0u8; 12];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
    let sealed = ChaCha20Poly1305::new(key.into())
        .encrypt(&Nonce::from(nonce), AeadPayload { msg: plain, aad })
        .map_err(|_| anyhow::anyhow!("cannot encrypt {}", path.display()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    // Creates the folder owner-only when missing.
    plexus_wallet::write_private(path, &out)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A provider the private path can reach.
#[derive(Debug, Clone)]
pub(crate) struct ProviderTarget {
    /// Its hotkey.
    pub(crate) hotkey: AccountId,
    /// The model it serves.
    pub(crate) model: String,
    /// Its OHTTP key, as registered on chain.
    pub(crate) config: PublicKeyConfig,
    /// Its operator, as published.
    pub(crate) operator: String,
}

/// Every provider with an OHTTP key on chain (on any subnet but data subnets).
pub(crate) async fn providers(client: &Client) -> anyhow::Result<Vec<ProviderTarget>> {
    let mut out = Vec::new();
    for subnet in client.subnets().await?.subnets {
        if subnet.mechanism == Mechanism::Data {
            continue;
        }
        for n in client.metagraph(subnet.netuid).await?.neurons {
            let Some(e) = n.endpoint else { continue };
            let Ok(configs) = decode_key_list(&e.ohttp_keys) else {
                continue;
            };
            // Use the last published key: the newest after a rotation.
            if let Some(config) = configs.into_iter().last() {
                out.push(ProviderTarget {
                    hotkey: n.hotkey,
                    model: e.model,
                    config,
                    operator: e.operator,
                });
            }
        }
    }
    Ok(out)
}

/// The route to `target` through `relay`.
pub(crate) fn route(
    relay: &str,
    target: &AccountId,
    config: PublicKeyConfig,
) -> anyhow::Result<Route> {
    let relay = Url::parse(relay).with_context(|| format!("invalid relay URL {relay}"))?;
    Ok(Route::via_relay(&relay, target, config)?)
}

pub(crate) async fn run(ctx: &Context, cmd: CreditsCommand) -> anyhow::Result<()> {
    match cmd {
        CreditsCommand::Buy(args) => buy(ctx, &args).await,
        CreditsCommand::Balance(args) => balance(ctx, &args),
        CreditsCommand::Issuers => issuers(ctx).await,
    }
}

async fn issuers(ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let list = client.issuers().await?;
    output::print(ctx, &list, || {
        let mut text = format!(
            "Credit price {} PLX per credit\n",
            plexus_types::format_plx(list.credit_price)
        );
        if list.issuers.is_empty() {
            text.push_str("No credit issuers yet: a validator starts one with `plexus issuer`.");
        }
        for i in &list.issuers {
            text.push_str(&format!("{}  {}\n", i.hotkey, i.url));
            for k in &i.keys {
                text.push_str(&format!(
                    "  key epoch {} denomination {}: escrow {} PLX, {} tokens settled\n",
                    k.key_epoch,
                    k.denomination,
                    plexus_types::format_plx(k.escrow),
                    k.tokens_settled
                ));
            }
        }
        text.trim_end().to_owned()
    });
    Ok(())
}

fn balance(ctx: &Context, args: &BalanceArgs) -> anyhow::Result<()> {
    let coldkey = ctx.coldkey(&args.name)?;
    let store = CreditStore::open(&CreditStore::path_for(ctx, &args.name)?, &coldkey)?;
    let per = store.per_origin()?;
    let total: u64 = per.values().sum();
    output::print(ctx, &json!({"credits": total, "per_provider": per}), || {
        let mut text = format!("{total} credits in wallet '{}'", args.name);
        for (origin, n) in &per {
            text.push_str(&format!("\n  {n:>6}  for provider {origin}"));
        }
        if total == 0 {
            text.push_str(&format!(
                "\nBuy some with `plexus credits buy --name {}`.",
                args.name
            ));
        }
        text
    });
    Ok(())
}

async fn buy(ctx: &Context, args: &BuyArgs) -> anyhow::Result<()> {
    if !CREDIT_BUNDLES.contains(&args.credits) {
        bail!("--credits must be one of 10, 100 or 1000 (fixed bundles keep purchases unlinkable)");
    }
    let coldkey = ctx.coldkey(&args.name)?;
    let path = CreditStore::path_for(ctx, &args.name)?;
    let store = CreditStore::open(&path, &coldkey)?;
    let client = ctx.client()?;
    let bought = match args.resume {
        None => buy_tokens(&client, &coldkey, args.credits, args.issuer, &args.relay).await?,
        Some(id) => resume_tokens(&client, &coldkey, id, &args.relay).await?,
    };
    let n = bought.len();
    store.add(bought)?;
    let total: u64 = store.per_origin()?.values().sum();
    output::print(
        ctx,
        &json!({"bought": args.credits, "tokens": n, "credits": total}),
        || {
            format!(
                "Bought {} credits ({n} tokens, bound to providers chosen at random; the issuer cannot link them to you).\nWallet '{}' now holds {total} credits. Chat with `plexus chat --name {}`.",
                args.credits, args.name, args.name
            )
        },
    );
    Ok(())
}

/// How long a purchase waits for the relay to list its issuer before paying.
const RELAY_LISTING_WAIT: Duration = Duration::from_secs(60);

/// Issuance attempts after paying, two seconds apart.
const ISSUANCE_ATTEMPTS: u32 = 10;

/// Pay for `credits` on chain and fetch the tokens through `relay`. Nothing is paid
/// unless the relay lists the chosen issuer.
pub(crate) async fn buy_tokens(
    client: &Client,
    coldkey: &Keypair,
    credits: u32,
    issuer: Option<AccountId>,
    relay: &str,
) -> anyhow::Result<Vec<StoredCredit>> {
    let list = client.issuers().await?;
    let candidates: Vec<_> = list
        .issuers
        .iter()
        .filter(|i| issuer.is_none_or(|h| h == i.hotkey))
        .filter(|i| i.keys.iter().any(|k| k.denomination == 1))
        .collect();
    let Some(chosen) = candidates.choose(&mut rand::rng()) else {
        bail!(
            "no credit issuer with a 1-credit key is on chain yet: a validator starts one with `plexus issuer`"
        );
    };
    let key = chosen
        .keys
        .iter()
        .filter(|k| k.denomination == 1)
        .max_by_key(|k| k.key_epoch)
        .context("the issuer has no 1-credit key")?;
    if providers(client).await?.is_empty() {
        bail!("no provider serves privately yet: start one with `plexus provider --netuid N`");
    }
    let http = reqwest::Client::new();
    wait_for_listing(&http, relay, &chosen.hotkey).await?;
    let sent = client
        .send_tx(
            coldkey,
            Payload::BuyCredits {
                issuer: chosen.hotkey,
                denomination: 1,
                key_epoch: key.key_epoch,
                credits,
            },
            None,
            TX_TIMEOUT,
        )
        .await
        .context("the purchase was not finalized")?;
    let deposit = client
        .deposits_of(&coldkey.account())
        .await?
        .deposits
        .into_iter()
        .find(|d| d.block == sent.height && d.issuer == chosen.hotkey)
        .context("the purchase finalized but its deposit is not on chain")?;
    issue(client, coldkey, &deposit, relay).await
}

/// Fetch the tokens of deposit `id`, paid earlier by `coldkey`.
async fn resume_tokens(
    client: &Client,
    coldkey: &Keypair,
    id: u64,
    relay: &str,
) -> anyhow::Result<Vec<StoredCredit>> {
    let deposit = client
        .deposit(id)
        .await
        .with_context(|| format!("deposit {id} is not on chain"))?
        .deposit;
    if deposit.buyer != coldkey.account() {
        bail!("deposit {id} was paid by another wallet");
    }
    wait_for_listing(&reqwest::Client::new(), relay, &deposit.issuer).await?;
    issue(client, coldkey, &deposit, relay).await
}

/// Wait until `relay` lists `issuer` as a target (it reads the chain every few
/// seconds, so a freshly started issuer takes a moment to appear).
async fn wait_for_listing(
    http: &reqwest::Client,
    relay: &str,
    issuer: &AccountId,
) -> anyhow::Result<()> {
    let url = format!("{}/v1/relay/targets", relay.trim_end_matches('/'));
    let deadline = std::time::Instant::now() + RELAY_LISTING_WAIT;
    loop {
        let targets: plexus_relay::wire::Targets = http
            .get(&url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("cannot reach the relay at {relay}; nothing was paid"))?
            .json()
            .await
            .with_context(|| format!("{relay} does not answer like a Plexus relay"))?;
        if targets.targets.iter().any(|t| t.hotkey == *issuer) {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            bail!(
                "the relay at {relay} does not list issuer {issuer} (it reads the chain every --refresh-secs); nothing was paid, try again shortly"
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Ask the deposit's issuer, through `relay`, to sign its tokens, each bound to a
/// provider chosen at random; retried for a while, since a paid deposit is signed at
/// most once and an attempt that never reached the issuer costs nothing.
async fn issue(
    client: &Client,
    coldkey: &Keypair,
    deposit: &plexus_api::wire::Deposit,
    relay: &str,
) -> anyhow::Result<Vec<StoredCredit>> {
    let list = client.issuers().await?;
    let issuer = list
        .issuers
        .iter()
        .find(|i| i.hotkey == deposit.issuer)
        .context("the deposit's issuer is no longer on chain")?;
    let key = issuer
        .keys
        .iter()
        .find(|k| k.key_id == deposit.key_id)
        .context("the deposit's issuer key is not on chain")?;
    let public = IssuerPublicKey::from_spki(&key.spki)?;
    let issuer_config = decode_key_list(&issuer.ohttp_keys)?
        .into_iter()
        .last()
        .context("the issuer published no OHTTP key")?;
    let targets = providers(client).await?;
    if targets.is_empty() {
        bail!("no provider serves privately yet: start one with `plexus provider --netuid N`");
    }
    let chain = client.chain().await?;
    let route = route(relay, &issuer.hotkey, issuer_config)?;
    let http = reqwest::Client::new();
    let mut attempt = 0;
    let fetched = loop {
        attempt += 1;
        // One random provider per token, inside the blinded message: the issuer never
        // learns which.
        let origins: Vec<String> = {
            let mut rng = rand::rng();
            (0..deposit.tokens)
                .filter_map(|_| targets.choose(&mut rng).map(|t| t.hotkey.to_address()))
                .collect()
        };
        match plexus_issuer::fetch_tokens(
            &http,
            &route,
            chain.chain_id,
            deposit.id,
            coldkey,
            &issuer.hotkey,
            &public,
            &origins,
        )
        .await
        {
            Ok(fetched) => break fetched,
            Err(e) if attempt < ISSUANCE_ATTEMPTS => {
                tracing::warn!(deposit = deposit.id, attempt, error = %e, "issuance failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "deposit {} is paid but issuer {} did not sign its tokens: the funds stay in escrow; retry with `plexus credits buy --resume {}`",
                    deposit.id, issuer.hotkey, deposit.id
                )));
            }
        }
    };
    Ok(fetched
        .into_iter()
        .map(|c| StoredCredit {
            issuer: issuer.hotkey.to_address(),
            origin: c.origin,
            denomination: 1,
            token: hex::encode(c.token.encode()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn credit(origin: &str, n: u8) -> StoredCredit {
        StoredCredit {
            issuer: "issuer".into(),
            origin: origin.into(),
            denomination: 1,
            token: hex::encode([n; 4]),
        }
    }

    #[test]
    fn two_processes_on_one_wallet_never_take_the_same_token_or_lose_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        let coldkey = Keypair::from_seed([7; 32]);
        // `plexus proxy` and `plexus chat` open the same store, in that order.
        let proxy = CreditStore::open(&path, &coldkey).unwrap();
        proxy.add((0..4).map(|n| credit("provider", n))).unwrap();
        let chat = CreditStore::open(&path, &coldkey).unwrap();
        let by_chat = chat.take("provider", 2).unwrap().unwrap();
        // The proxy sees what the chat took; `credits buy` adds beside both.
        let by_proxy = proxy.take("provider", 2).unwrap().unwrap();
        let buyer = CreditStore::open(&path, &coldkey).unwrap();
        buyer.add([credit("other", 9)]).unwrap();
        assert!(proxy.take("provider", 1).unwrap().is_none());
        let mut spent: Vec<String> = by_chat
            .iter()
            .chain(&by_proxy)
            .map(|c| c.token.clone())
            .collect();
        spent.sort();
        spent.dedup();
        assert_eq!(spent.len(), 4, "each token taken once");
        assert_eq!(chat.per_origin().unwrap().get("other"), Some(&1));
        assert_eq!(proxy.per_origin().unwrap().get("provider"), None);
    }

    #[test]
    fn a_store_sealed_for_another_coldkey_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credits.enc");
        CreditStore::open(&path, &Keypair::from_seed([1; 32]))
            .unwrap()
            .add([credit("provider", 1)])
            .unwrap();
        assert!(CreditStore::open(&path, &Keypair::from_seed([2; 32])).is_err());
    }
}
