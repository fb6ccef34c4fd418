//! Buy credits: pay a bundle into an issuer's escrow on chain, then fetch its tokens,
//! blind-signed by the issuer through a relay and bound to providers chosen at random.
//!
//! The issuer never learns the token nonces or the providers: both are inside the
//! blinded RFC 9578 messages. Nothing is paid unless the relay lists the issuer, and a
//! paid deposit whose issuance failed can be fetched again later ([`resume`]).
//!
//! A deposit is issued in batches of [`plexus_types::credits::ISSUANCE_BATCH`]
//! tokens, one signed request each, so the largest bundle fits the private path's
//! padded request size.
//!
//! Every issuer key is proven before use ([`prove_issuer_key`]): the record and key a
//! node lists are checked against state proofs under a header the anchored validators
//! finalized before anything is paid into the key, blinded with it or sealed to the
//! issuer's gateway.

use std::time::{Duration, Instant};

use plexus_client::{
    Client, ClientError,
    private::{PlainRequest, PrivateError, Route},
    relay::Targets,
    trust::TrustAnchor,
    wire::{Deposit, IssuerInfo, IssuerKeyInfo},
};
use plexus_privacy::token::{
    IssuerPublicKey, PendingToken, Token, TokenChallenge, TokenError, begin_issuance,
};
use plexus_types::{
    AccountId, Keypair, Payload,
    credits::{
        ISSUE_PATH, IssuanceRequest, IssuanceResponse, issuance_batch_signing_bytes,
        issuance_batches,
    },
};
use rand::seq::IndexedRandom as _;

pub use crate::issuer_proof::{ProvenIssuerKey, prove_issuer_key};
use crate::{
    providers::{RouteError, providers, route},
    store::{BlindedState, CreditStore, PendingDeposit, StoreError, StoredCredit},
};

/// How long a purchase may take to be finalized.
const TX_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a purchase waits for the relay to list its issuer before paying.
const RELAY_LISTING_WAIT: Duration = Duration::from_secs(60);
/// Issuance attempts after paying, two seconds apart.
const ISSUANCE_ATTEMPTS: u32 = 10;
/// How long one issuance request may take.
const ISSUANCE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a buyer asks of an issuer key before paying into it. Every buyer of a key
/// shares one anonymity set: a key published moments ago, or one that few others
/// bought on, may have been made for this buyer alone, and would single out its
/// requests (RFC 9576 §6.3, key consistency). The chain sets the key schedule (one
/// key per denomination per key epoch) and reports each key's age and distinct
/// buyers; this policy decides what is enough. The defaults refuse nothing, so a new
/// network can bootstrap; a wallet raises them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct KeyPolicy {
    /// Refuse an issuer key published fewer than this many blocks ago (a new key can
    /// single out its first buyers).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub min_key_age_blocks: u64,
    /// Refuse an issuer key fewer than this many distinct wallets bought on.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub min_key_buyers: u64,
}

/// Why a purchase did not end with tokens.
#[derive(Debug, thiserror::Error)]
pub enum BuyError {
    /// The node could not be read.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// No issuer (or not the one asked for) has a 1-credit key on chain.
    #[error(
        "no credit issuer with a 1-credit key is on chain yet: a validator starts one with `plexus issuer`"
    )]
    NoIssuer,
    /// Every issuer key on sale is younger than the policy's minimum age.
    #[error(
        "refusing issuer {issuer}'s key: it was published {age_blocks} blocks ago and this wallet requires at least {min_age_blocks} (a new key can single out its first buyers); nothing was paid, try again later"
    )]
    KeyTooYoung {
        /// The issuer whose key came closest.
        issuer: AccountId,
        /// The key's age in blocks.
        age_blocks: u64,
        /// The policy's minimum.
        min_age_blocks: u64,
    },
    /// Every issuer key on sale has fewer distinct buyers than the policy asks for.
    #[error(
        "refusing issuer {issuer}'s key: {buyers} distinct buyers share it and this wallet requires at least {min_buyers} (a key few others use can single out its buyers); nothing was paid, try again later"
    )]
    KeyTooFewBuyers {
        /// The issuer whose key came closest.
        issuer: AccountId,
        /// The key's distinct buyers.
        buyers: u64,
        /// The policy's minimum.
        min_buyers: u64,
    },
    /// No provider serves privately, so tokens could be bound to none.
    #[error("no provider serves privately yet: start one with `plexus provider --netuid N`")]
    NoProvider,
    /// The relay cannot be reached.
    #[error("cannot reach the relay at {relay}; nothing was paid")]
    RelayUnreachable {
        /// The relay.
        relay: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The relay answered, but not like a Plexus relay.
    #[error("{relay} does not answer like a Plexus relay")]
    NotARelay {
        /// The relay.
        relay: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The relay does not list the issuer.
    #[error(
        "the relay at {relay} does not list issuer {issuer} (it reads the chain every --refresh-secs); nothing was paid, try again shortly"
    )]
    NotListed {
        /// The relay.
        relay: String,
        /// The issuer.
        issuer: AccountId,
    },
    /// The purchase was sent but not finalized.
    #[error("the purchase was not finalized")]
    NotFinalized(#[source] ClientError),
    /// The purchase finalized but no deposit of it is on chain.
    #[error("the purchase finalized but its deposit is not on chain")]
    DepositMissing,
    /// `resume` named a deposit that is not on chain.
    #[error("deposit {id} is not on chain")]
    UnknownDeposit {
        /// The deposit.
        id: u64,
        /// Why it could not be read.
        #[source]
        source: ClientError,
    },
    /// `resume` named another wallet's deposit.
    #[error("deposit {0} was paid by another wallet")]
    NotYourDeposit(u64),
    /// The deposit's issuer left the chain.
    #[error("the deposit's issuer is no longer on chain")]
    IssuerGone,
    /// The deposit's issuer key is not on chain.
    #[error("the deposit's issuer key is not on chain")]
    IssuerKeyGone,
    /// The issuer record or key a node listed is not what the chain holds under a
    /// certified header: the node may be lying. Nothing was paid into, blinded with or
    /// sealed to the listed keys.
    #[error(
        "refusing issuer {issuer}: the keys listed for it are not the keys the chain holds ({reason}); the node may be lying, use another: nothing was paid into, blinded with or sealed to them"
    )]
    IssuerKeyNotOnChain {
        /// The issuer.
        issuer: AccountId,
        /// What the proofs showed.
        reason: String,
    },
    /// The issuer's key on chain does not parse, or it published no OHTTP key.
    #[error("the issuer's keys on chain are unusable: {0}")]
    BadIssuerKey(String),
    /// The route to the issuer could not be built.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// The credit store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The deposit is paid but the issuer did not sign its tokens.
    #[error(
        "deposit {deposit} is paid but issuer {issuer} did not sign its tokens: the funds stay in escrow; retry with `plexus credits fetch` (or `plexus credits buy --resume {deposit}`)"
    )]
    Issuance {
        /// The deposit.
        deposit: u64,
        /// The issuer.
        issuer: AccountId,
        /// The last attempt's failure.
        #[source]
        source: FetchError,
    },
}

/// Why one issuance attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Building the blinded requests or finalizing the answers failed.
    #[error("token: {0}")]
    Token(#[from] TokenError),
    /// The private path failed.
    #[error(transparent)]
    Private(#[from] PrivateError),
    /// The issuer refused.
    #[error("the issuer refused: HTTP {status}: {message}")]
    Refused {
        /// Inner status.
        status: u16,
        /// Its error message.
        message: String,
    },
    /// The answer is not what the protocol says.
    #[error("malformed issuer answer: {0}")]
    Malformed(String),
}

/// A token for one provider, ready to spend.
#[derive(Debug, Clone)]
pub struct Credit {
    /// The provider hotkey address the token is bound to.
    pub origin: String,
    /// The token.
    pub token: Token,
}

/// What one issuance asks for: the deposit, who paid it, and the issuer's key.
#[derive(Debug, Clone, Copy)]
pub struct IssuanceOrder<'a> {
    /// The chain the deposit is on.
    pub chain_id: u64,
    /// The deposit id.
    pub deposit: u64,
    /// The coldkey that paid it (it signs the request).
    pub buyer: &'a Keypair,
    /// The issuer hotkey.
    pub issuer: &'a AccountId,
    /// The issuer key the deposit was paid into.
    pub key: &'a IssuerPublicKey,
}

/// Blind one token per entry of `origins` (provider hotkey addresses) for `order`'s
/// deposit, ask the issuer over `route` batch by batch
/// ([`plexus_types::credits::ISSUANCE_BATCH`] tokens per request, so every bundle
/// fits the private path), and finalize the answers.
pub async fn fetch_tokens(
    http: &reqwest::Client,
    route: &Route,
    order: IssuanceOrder<'_>,
    origins: &[String],
) -> Result<Vec<Credit>, FetchError> {
    let mut blinded = Blinded::new(order, origins)?;
    blinded.fetch(http, route, order).await?;
    blinded.finish()
}

/// A deposit's tokens blinded once, with the answers of the batches served so far:
/// a retry resends exactly the same requests for the batches still missing (the
/// issuer answers a served batch again but refuses other requests for its tokens).
/// Its state is kept sealed in the credit store, so a retry after a crash does too.
struct Blinded {
    origins: Vec<String>,
    requests: Vec<Vec<u8>>,
    pending: Vec<PendingToken>,
    /// Per batch: `(first, len, answers)`, answers once served.
    batches: Vec<BatchState>,
}

/// One batch: its first token, its length, and the issuer's answers once served.
type BatchState = (u32, u32, Option<Vec<Vec<u8>>>);

impl Blinded {
    fn new(order: IssuanceOrder<'_>, origins: &[String]) -> Result<Self, FetchError> {
        let issuer_name = order.issuer.to_address();
        let mut requests = Vec::with_capacity(origins.len());
        let mut pending = Vec::with_capacity(origins.len());
        for origin in origins {
            let challenge = TokenChallenge::for_origin(&issuer_name, origin);
            let (request, p) = begin_issuance(order.key, &challenge)?;
            requests.push(request.encode());
            pending.push(p);
        }
        let count = u32::try_from(origins.len())
            .map_err(|_| FetchError::Malformed("too many tokens for one deposit".into()))?;
        Ok(Self {
            origins: origins.to_vec(),
            requests,
            pending,
            batches: issuance_batches(count)
                .map(|(first, len)| (first, len, None))
                .collect(),
        })
    }

    /// The state to keep in the store.
    fn state(&self) -> BlindedState {
        let mut answers = vec![None; self.requests.len()];
        for (first, _, served) in &self.batches {
            for (i, a) in served.iter().flatten().enumerate() {
                if let Some(slot) = answers.get_mut(*first as usize + i) {
                    *slot = Some(hex::encode(a));
                }
            }
        }
        BlindedState {
            origins: self.origins.clone(),
            requests: self.requests.iter().map(hex::encode).collect(),
            pending: self
                .pending
                .iter()
                .map(|p| hex::encode(p.encode()))
                .collect(),
            answers,
        }
    }

    /// The state [`Self::state`] kept, for requests to `key`.
    fn restore(state: &BlindedState, key: &IssuerPublicKey) -> Result<Self, FetchError> {
        let unhex = |h: &String| hex::decode(h).map_err(|e| FetchError::Malformed(e.to_string()));
        let requests = state
            .requests
            .iter()
            .map(unhex)
            .collect::<Result<Vec<_>, _>>()?;
        let pending = state
            .pending
            .iter()
            .map(|h| Ok(PendingToken::decode(key, &unhex(h)?)?))
            .collect::<Result<Vec<_>, FetchError>>()?;
        let n = requests.len();
        if pending.len() != n || state.origins.len() != n || state.answers.len() != n {
            return Err(FetchError::Malformed(
                "stored blinded state is inconsistent".into(),
            ));
        }
        let count = u32::try_from(n)
            .map_err(|_| FetchError::Malformed("too many tokens for one deposit".into()))?;
        let mut batches = Vec::new();
        for (first, len) in issuance_batches(count) {
            let answers = &state.answers[first as usize..(first + len) as usize];
            let served = if answers.iter().all(Option::is_some) {
                Some(
                    answers
                        .iter()
                        .flatten()
                        .map(unhex)
                        .collect::<Result<Vec<_>, _>>()?,
                )
            } else {
                None
            };
            batches.push((first, len, served));
        }
        Ok(Self {
            origins: state.origins.clone(),
            requests,
            pending,
            batches,
        })
    }

    /// Ask for every batch not served yet, in order; stop at the first failure.
    async fn fetch(
        &mut self,
        http: &reqwest::Client,
        route: &Route,
        order: IssuanceOrder<'_>,
    ) -> Result<(), FetchError> {
        while self.fetch_next(http, route, order).await? {}
        Ok(())
    }

    /// Ask for the first batch not served yet; false when none is left.
    async fn fetch_next(
        &mut self,
        http: &reqwest::Client,
        route: &Route,
        order: IssuanceOrder<'_>,
    ) -> Result<bool, FetchError> {
        let Some((first, len, answers)) = self.batches.iter_mut().find(|b| b.2.is_none()) else {
            return Ok(false);
        };
        let start = *first as usize;
        let requests = &self.requests[start..start + *len as usize];
        *answers = Some(fetch_batch(http, route, order, *first, requests).await?);
        Ok(true)
    }

    /// Finalize every token (all batches must be served).
    fn finish(self) -> Result<Vec<Credit>, FetchError> {
        let mut responses = Vec::with_capacity(self.pending.len());
        for (_, _, answers) in self.batches {
            responses.extend(answers.ok_or_else(|| {
                FetchError::Malformed("a batch of the deposit was not served".into())
            })?);
        }
        let mut out = Vec::with_capacity(self.pending.len());
        for ((p, r), origin) in self.pending.into_iter().zip(responses).zip(self.origins) {
            out.push(Credit {
                origin,
                token: p.finalize(&r)?,
            });
        }
        Ok(out)
    }
}

/// Ask the issuer over `route` to sign one batch of `order`'s deposit: `requests`,
/// the tokens from `first` on. The blind signatures, in order.
async fn fetch_batch(
    http: &reqwest::Client,
    route: &Route,
    order: IssuanceOrder<'_>,
    first: u32,
    requests: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>, FetchError> {
    let signature = order.buyer.sign(&issuance_batch_signing_bytes(
        order.chain_id,
        order.deposit,
        first,
        requests,
    ));
    let body = IssuanceRequest {
        deposit: order.deposit,
        first: Some(first),
        token_requests: requests.iter().map(hex::encode).collect(),
        signature: hex::encode(signature.0),
    };
    let plain = PlainRequest {
        method: "POST".into(),
        path: ISSUE_PATH.into(),
        body: serde_json::to_vec(&body).map_err(|e| FetchError::Malformed(e.to_string()))?,
        tokens: Vec::new(),
    };
    let answer = plexus_client::private::send(http, route, &plain, ISSUANCE_TIMEOUT).await?;
    if answer.status != 200 {
        let message = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err(FetchError::Refused {
            status: answer.status,
            message,
        });
    }
    let parsed: IssuanceResponse =
        serde_json::from_slice(&answer.body).map_err(|e| FetchError::Malformed(e.to_string()))?;
    if parsed.token_responses.len() != requests.len() {
        return Err(FetchError::Malformed(format!(
            "{} answers for {} requests",
            parsed.token_responses.len(),
            requests.len()
        )));
    }
    parsed
        .token_responses
        .iter()
        .map(|r| hex::decode(r).map_err(|e| FetchError::Malformed(e.to_string())))
        .collect()
}

/// How long after payment a deposit's tokens are fetched by default: at a moment
/// drawn uniformly at random within this window.
pub const DEFAULT_ISSUANCE_WINDOW: Duration = Duration::from_secs(30 * 60);

/// Pay for `credits` (a bundle size) on chain with `coldkey` and fetch the tokens
/// through `relay` at once; the issuer is `issuer`, else one at random among those on
/// chain with a 1-credit key. Nothing is paid unless the relay lists the chosen issuer
/// and its record and key are proven under a header `anchor`'s validators finalized.
/// Any key on sale is accepted: see [`buy_with_policy`].
///
/// Issuing at the moment of payment lets the relay link the client's address to the
/// wallet the purchase names on chain: a wallet that can wait uses [`pay`] and
/// [`fetch_pending`] instead.
pub async fn buy(
    client: &Client,
    anchor: &TrustAnchor,
    coldkey: &Keypair,
    credits: u32,
    issuer: Option<AccountId>,
    relay: &str,
) -> Result<Vec<StoredCredit>, BuyError> {
    buy_with_policy(
        client,
        anchor,
        coldkey,
        credits,
        issuer,
        relay,
        KeyPolicy::default(),
    )
    .await
}

/// [`buy`] from an issuer whose bond covers the purchase and whose 1-credit key on
/// sale meets `policy`; nothing is paid otherwise.
pub async fn buy_with_policy(
    client: &Client,
    anchor: &TrustAnchor,
    coldkey: &Keypair,
    credits: u32,
    issuer: Option<AccountId>,
    relay: &str,
    policy: KeyPolicy,
) -> Result<Vec<StoredCredit>, BuyError> {
    let deposit = pay_deposit(client, anchor, coldkey, credits, issuer, relay, policy).await?;
    issue(client, anchor, coldkey, &deposit, relay, None).await
}

/// Pay for `credits` like [`buy_with_policy`], but only record the deposit in `store`
/// as pending: its tokens are fetched through `relay` (the issuance relay: not the one
/// requests use, where another exists) by [`fetch_pending`] no earlier than a moment
/// drawn uniformly at random within `window` from now. The purchase on chain names the
/// wallet; an issuance at a random later time, among everyone else's, does not tell
/// the relay which purchase its client made (RFC 9576 section 7).
#[allow(clippy::too_many_arguments)]
pub async fn pay(
    client: &Client,
    anchor: &TrustAnchor,
    store: &CreditStore,
    coldkey: &Keypair,
    credits: u32,
    issuer: Option<AccountId>,
    policy: KeyPolicy,
    relay: &str,
    window: Duration,
) -> Result<PendingDeposit, BuyError> {
    let deposit = pay_deposit(client, anchor, coldkey, credits, issuer, relay, policy).await?;
    let delay = rand::RngExt::random_range(&mut rand::rng(), 0..=window.as_secs());
    let pending = PendingDeposit {
        deposit: deposit.id,
        issuer: deposit.issuer.to_address(),
        credits: deposit.credits,
        not_before: unix_now().saturating_add(delay),
        relay: relay.to_owned(),
        blinded: None,
    };
    store.add_pending(pending.clone())?;
    Ok(pending)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What [`fetch_pending`] did.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Deposits issued, with their token counts.
    pub issued: Vec<(u64, usize)>,
    /// Deposits not due yet.
    pub waiting: Vec<PendingDeposit>,
    /// Deposits whose issuance failed (they stay pending).
    pub failed: Vec<(u64, BuyError)>,
}

/// Fetch the tokens of `store`'s pending deposits that are due (all of them when
/// `all`), each through the relay chosen when it was paid unless `relay` overrides it;
/// the tokens go into `store`.
pub async fn fetch_pending(
    client: &Client,
    anchor: &TrustAnchor,
    store: &CreditStore,
    coldkey: &Keypair,
    all: bool,
    relay: Option<&str>,
) -> Result<Fetched, StoreError> {
    let mut out = Fetched::default();
    let now = unix_now();
    for pending in store.pending()? {
        if !all && pending.not_before > now {
            out.waiting.push(pending);
            continue;
        }
        let via = relay.unwrap_or(&pending.relay);
        match issue_pending(client, anchor, store, coldkey, &pending, via).await {
            Ok(n) => out.issued.push((pending.deposit, n)),
            Err(e) => out.failed.push((pending.deposit, e)),
        }
    }
    Ok(out)
}

/// Fetch the tokens of deposit `id`, paid earlier by `coldkey`, through `relay` now,
/// into `store`; a deposit `store` holds as pending resends the requests it kept.
/// The tokens issued.
pub async fn resume_into(
    client: &Client,
    anchor: &TrustAnchor,
    store: &CreditStore,
    coldkey: &Keypair,
    id: u64,
    relay: &str,
) -> Result<usize, BuyError> {
    let pending = match store.pending()?.into_iter().find(|p| p.deposit == id) {
        Some(p) => p,
        None => {
            let deposit = own_deposit(client, coldkey, id).await?;
            let p = PendingDeposit {
                deposit: id,
                issuer: deposit.issuer.to_address(),
                credits: deposit.credits,
                not_before: 0,
                relay: relay.to_owned(),
                blinded: None,
            };
            store.add_pending(p.clone())?;
            p
        }
    };
    issue_pending(client, anchor, store, coldkey, &pending, relay).await
}

/// Issue one pending deposit through `relay`, its state kept in `store` batch by
/// batch; the tokens issued (0 for a deposit refunded meanwhile, which is dropped).
async fn issue_pending(
    client: &Client,
    anchor: &TrustAnchor,
    store: &CreditStore,
    coldkey: &Keypair,
    pending: &PendingDeposit,
    relay: &str,
) -> Result<usize, BuyError> {
    let deposit = own_deposit(client, coldkey, pending.deposit).await?;
    if deposit.refunded.is_some() {
        store.drop_pending(deposit.id)?;
        return Ok(0);
    }
    wait_for_listing(&reqwest::Client::new(), relay, &deposit.issuer).await?;
    let credits = issue(
        client,
        anchor,
        coldkey,
        &deposit,
        relay,
        Some((store, pending.blinded.as_ref())),
    )
    .await?;
    let n = credits.len();
    store.complete(deposit.id, credits)?;
    Ok(n)
}

/// Deposit `id`, checked to be `coldkey`'s.
async fn own_deposit(client: &Client, coldkey: &Keypair, id: u64) -> Result<Deposit, BuyError> {
    let deposit = client
        .deposit(id)
        .await
        .map_err(|source| BuyError::UnknownDeposit { id, source })?
        .deposit;
    if deposit.buyer != coldkey.account() {
        return Err(BuyError::NotYourDeposit(id));
    }
    Ok(deposit)
}

/// Pay for `credits` with `coldkey` into an issuer key that meets `policy` and that
/// `relay` lists; the deposit on chain.
async fn pay_deposit(
    client: &Client,
    anchor: &TrustAnchor,
    coldkey: &Keypair,
    credits: u32,
    issuer: Option<AccountId>,
    relay: &str,
    policy: KeyPolicy,
) -> Result<Deposit, BuyError> {
    let list = client.issuers().await?;
    let price = list.credit_price.saturating_mul(u64::from(credits));
    // Issuers that sell now: not retired, a 1-credit key on sale, a bond that covers
    // this purchase on top of what they already hold.
    let on_sale: Vec<_> = list
        .issuers
        .iter()
        .filter(|i| issuer.is_none_or(|h| h == i.hotkey))
        .filter(|i| !i.retired && i.self_stake >= i.bond_required.saturating_add(price))
        .filter_map(|i| {
            i.keys
                .iter()
                .find(|k| k.denomination == 1 && k.on_sale)
                .map(|k| (i, k))
        })
        .collect();
    let (chosen, key) = *pick_key(&on_sale, policy)?
        .choose(&mut rand::rng())
        .ok_or(BuyError::NoIssuer)?;
    let proven = prove_listed(client, anchor, chosen, key, policy).await?;
    if providers(client).await?.is_empty() {
        return Err(BuyError::NoProvider);
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
        .map_err(BuyError::NotFinalized)?;
    let deposit = client
        .deposits_of(&coldkey.account())
        .await?
        .deposits
        .into_iter()
        .find(|d| d.block == sent.height && d.issuer == chosen.hotkey)
        .ok_or(BuyError::DepositMissing)?;
    if deposit.key_id != proven.key.key_id {
        return Err(BuyError::IssuerKeyNotOnChain {
            issuer: chosen.hotkey,
            reason: format!("the node says deposit {} paid another key", deposit.id),
        });
    }
    Ok(deposit)
}

/// Prove the (issuer, key) a purchase picked from a node's listing: what the node
/// listed must be what the chain holds, still on sale, and the proven key must meet
/// `policy`.
async fn prove_listed(
    client: &Client,
    anchor: &TrustAnchor,
    issuer: &IssuerInfo,
    key: &IssuerKeyInfo,
    policy: KeyPolicy,
) -> Result<ProvenIssuerKey, BuyError> {
    let proven = prove_issuer_key(client, anchor, &issuer.hotkey, &key.key_id)
        .await
        .map_err(|e| {
            let absent = match e {
                BuyError::IssuerGone => "it is no issuer on chain",
                BuyError::IssuerKeyGone => "the chain holds no such key",
                e => return e,
            };
            BuyError::IssuerKeyNotOnChain {
                issuer: issuer.hotkey,
                reason: absent.into(),
            }
        })?;
    proven.check_listing(issuer, key, true)?;
    proven.check_policy(policy)?;
    Ok(proven)
}

/// The (issuer, key) pairs that meet `policy`; when none does, why the closest one
/// fails (or [`BuyError::NoIssuer`] when nothing is on sale).
fn pick_key<'a>(
    on_sale: &[(&'a IssuerInfo, &'a IssuerKeyInfo)],
    policy: KeyPolicy,
) -> Result<Vec<(&'a IssuerInfo, &'a IssuerKeyInfo)>, BuyError> {
    let fits: Vec<_> = on_sale
        .iter()
        .copied()
        .filter(|(_, k)| {
            k.age_blocks >= policy.min_key_age_blocks && k.buyers >= policy.min_key_buyers
        })
        .collect();
    if !fits.is_empty() {
        return Ok(fits);
    }
    if let Some((i, k)) = on_sale.iter().max_by_key(|(_, k)| k.age_blocks)
        && k.age_blocks < policy.min_key_age_blocks
    {
        return Err(BuyError::KeyTooYoung {
            issuer: i.hotkey,
            age_blocks: k.age_blocks,
            min_age_blocks: policy.min_key_age_blocks,
        });
    }
    match on_sale.iter().max_by_key(|(_, k)| k.buyers) {
        Some((i, k)) => Err(BuyError::KeyTooFewBuyers {
            issuer: i.hotkey,
            buyers: k.buyers,
            min_buyers: policy.min_key_buyers,
        }),
        None => Err(BuyError::NoIssuer),
    }
}

/// Fetch the tokens of deposit `id`, paid earlier by `coldkey`.
pub async fn resume(
    client: &Client,
    anchor: &TrustAnchor,
    coldkey: &Keypair,
    id: u64,
    relay: &str,
) -> Result<Vec<StoredCredit>, BuyError> {
    let deposit = own_deposit(client, coldkey, id).await?;
    wait_for_listing(&reqwest::Client::new(), relay, &deposit.issuer).await?;
    issue(client, anchor, coldkey, &deposit, relay, None).await
}

/// Wait until `relay` lists `issuer` as a target (it reads the chain every few
/// seconds, so a freshly started issuer takes a moment to appear).
async fn wait_for_listing(
    http: &reqwest::Client,
    relay: &str,
    issuer: &AccountId,
) -> Result<(), BuyError> {
    let url = format!("{}/v1/relay/targets", relay.trim_end_matches('/'));
    let deadline = Instant::now() + RELAY_LISTING_WAIT;
    loop {
        let targets: Targets = http
            .get(&url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|source| BuyError::RelayUnreachable {
                relay: relay.to_owned(),
                source,
            })?
            .json()
            .await
            .map_err(|source| BuyError::NotARelay {
                relay: relay.to_owned(),
                source,
            })?;
        if targets.targets.iter().any(|t| t.hotkey == *issuer) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(BuyError::NotListed {
                relay: relay.to_owned(),
                issuer: *issuer,
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Ask the deposit's issuer, through `relay`, to sign its tokens, each bound to a
/// provider chosen at random; retried for a while, since a paid deposit is signed at
/// most once and an attempt that never reached the issuer costs nothing. With `kept`,
/// the blinded state is the one the store kept (if any) and is saved there after
/// every batch, so a retry after a crash resends the same requests. The issuer's
/// record and the deposit's key are proven under `anchor` first.
async fn issue(
    client: &Client,
    anchor: &TrustAnchor,
    coldkey: &Keypair,
    deposit: &Deposit,
    relay: &str,
    kept: Option<(&CreditStore, Option<&BlindedState>)>,
) -> Result<Vec<StoredCredit>, BuyError> {
    let list = client.issuers().await?;
    let issuer = list
        .issuers
        .iter()
        .find(|i| i.hotkey == deposit.issuer)
        .ok_or(BuyError::IssuerGone)?;
    let key = issuer
        .keys
        .iter()
        .find(|k| k.key_id == deposit.key_id)
        .ok_or(BuyError::IssuerKeyGone)?;
    // Blind only with, and seal only to, keys the chain holds.
    let proven = prove_issuer_key(client, anchor, &issuer.hotkey, &key.key_id).await?;
    proven.check_listing(issuer, key, false)?;
    let public = proven.public_key()?;
    let issuer_config = proven.ohttp_config()?;
    let targets = providers(client).await?;
    if targets.is_empty() {
        return Err(BuyError::NoProvider);
    }
    let chain = client.chain().await?;
    let route = route(relay, &issuer.hotkey, issuer_config)?;
    let http = reqwest::Client::new();
    let order = IssuanceOrder {
        chain_id: chain.chain_id,
        deposit: deposit.id,
        buyer: coldkey,
        issuer: &issuer.hotkey,
        key: &public,
    };
    // One random provider per token, inside the blinded message: the issuer never
    // learns which. Blinded once: every retry resends the same batches.
    let origins: Vec<String> = {
        let mut rng = rand::rng();
        (0..deposit.tokens)
            .filter_map(|_| targets.choose(&mut rng).map(|t| t.hotkey.to_address()))
            .collect()
    };
    let fail = |source| BuyError::Issuance {
        deposit: deposit.id,
        issuer: issuer.hotkey,
        source,
    };
    let mut blinded = match kept {
        Some((_, Some(state))) => Blinded::restore(state, &public).map_err(fail)?,
        _ => Blinded::new(order, &origins).map_err(fail)?,
    };
    let save = |b: &Blinded| match kept {
        Some((store, _)) => store.save_blinded(deposit.id, b.state()),
        None => Ok(()),
    };
    save(&blinded)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match blinded.fetch_next(&http, &route, order).await {
            Ok(true) => save(&blinded)?,
            Ok(false) => break,
            Err(e) if attempt < ISSUANCE_ATTEMPTS => {
                tracing::warn!(deposit = deposit.id, attempt, error = %e, "issuance failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(source) => return Err(fail(source)),
        }
    }
    let fetched = blinded.finish().map_err(fail)?;
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
    use super::*;

    fn issuer(label: &str, age_blocks: u64, buyers: u64) -> (IssuerInfo, IssuerKeyInfo) {
        let key: IssuerKeyInfo = serde_json::from_value(serde_json::json!({
            "key_id": "00".repeat(32), "denomination": 1, "key_epoch": 0, "spki": "",
            "registered_at": 0, "deposited": 0, "settled": 0, "slashed": 0, "escrow": 0,
            "tokens_settled": 0, "buyers": buyers, "age_blocks": age_blocks, "on_sale": true,
        }))
        .unwrap();
        let info: IssuerInfo = serde_json::from_value(serde_json::json!({
            "hotkey": Keypair::from_label(label).account().to_string(), "netuid": 1,
            "url": "http://127.0.0.1:1", "ohttp_keys": "", "updated_at": 0, "keys": [],
        }))
        .unwrap();
        (info, key)
    }

    #[test]
    fn a_crash_after_a_served_batch_resends_the_same_requests_and_still_finalizes() {
        let issuer_key = plexus_privacy::token::IssuerKey::generate().unwrap();
        let buyer = Keypair::from_label("buyer");
        let hotkey = Keypair::from_label("issuer").account();
        let order = IssuanceOrder {
            chain_id: 1,
            deposit: 7,
            buyer: &buyer,
            issuer: &hotkey,
            key: issuer_key.public(),
        };
        let origins: Vec<String> = (0..150).map(|i| format!("provider-{}", i % 3)).collect();
        let mut blinded = Blinded::new(order, &origins).unwrap();
        // The first batch is served, then the process dies: only the sealed state is left.
        let (first, len, answers) = &mut blinded.batches[0];
        let start = *first as usize;
        *answers = Some(
            blinded.requests[start..start + *len as usize]
                .iter()
                .map(|r| issuer_key.issue(r).unwrap().encode())
                .collect(),
        );
        let kept = serde_json::to_string(&blinded.state()).unwrap();
        drop(blinded);
        let mut restored =
            Blinded::restore(&serde_json::from_str(&kept).unwrap(), issuer_key.public()).unwrap();
        assert!(
            restored.batches[0].2.is_some(),
            "the served batch is not asked again"
        );
        assert!(restored.batches[1].2.is_none());
        // The retry sends the very requests the issuer committed to, and the tokens
        // of both batches finalize.
        let (first, len, answers) = &mut restored.batches[1];
        let start = *first as usize;
        *answers = Some(
            restored.requests[start..start + *len as usize]
                .iter()
                .map(|r| issuer_key.issue(r).unwrap().encode())
                .collect(),
        );
        let tokens = restored.finish().unwrap();
        assert_eq!(tokens.len(), 150);
        assert_eq!(tokens[4].origin, "provider-1");
    }

    #[test]
    fn a_key_made_for_one_victim_is_refused_before_paying() {
        let policy = KeyPolicy {
            min_key_age_blocks: 100,
            min_key_buyers: 5,
        };
        // A key published 3 blocks ago, just before the victim buys.
        let (i, k) = issuer("fresh", 3, 9);
        let err = pick_key(&[(&i, &k)], policy).unwrap_err();
        assert!(matches!(
            err,
            BuyError::KeyTooYoung {
                age_blocks: 3,
                min_age_blocks: 100,
                ..
            }
        ));
        assert!(err.to_string().contains("at least 100"), "{err}");
        // An old key nobody else bought on.
        let (i, k) = issuer("lonely", 500, 1);
        let err = pick_key(&[(&i, &k)], policy).unwrap_err();
        assert!(matches!(
            err,
            BuyError::KeyTooFewBuyers {
                buyers: 1,
                min_buyers: 5,
                ..
            }
        ));
        // A key that meets both is chosen, and the others are left out.
        let (good_i, good_k) = issuer("crowded", 500, 40);
        let fits = pick_key(&[(&i, &k), (&good_i, &good_k)], policy).unwrap();
        assert_eq!(fits.len(), 1);
        assert_eq!(fits[0].0.hotkey, good_i.hotkey);
        // With nothing on sale there is no issuer at all.
        assert!(matches!(pick_key(&[], policy), Err(BuyError::NoIssuer)));
        // The default policy refuses nothing, so a new network can start.
        assert_eq!(
            pick_key(&[(&i, &k)], KeyPolicy::default()).unwrap().len(),
            1
        );
    }
}
