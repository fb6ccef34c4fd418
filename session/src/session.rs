//! A wallet's credits and the relay its requests go through: pick a provider, pay it
//! with the right tokens and send.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use plexus_client::{
    Client, ClientError,
    private::{PlainRequest, PlainResponse, PrivateError, StreamedResponse, send, send_streamed},
    trust::TrustAnchor,
};
use plexus_types::{AccountId, Keypair, credits::credits_for};
use rand::seq::IndexedRandom as _;

use crate::{
    issuance::{self, BuyError},
    providers::{ProviderTarget, RouteError, providers, route},
    store::{CreditStore, StoreError, StoredCredit},
};

/// How long one private request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// How many times one request is paid for when the provider says a token was spent.
pub const PAYMENT_TRIES: u32 = 3;

/// How long a provider list read from the chain serves requests before it is read
/// again: about two blocks, so a new provider or a rotated key (published an epoch
/// ahead) shows within it. A failed or refused request drops it at once.
pub const DIRECTORY_TTL: Duration = Duration::from_secs(2);

/// How long an expired provider list still serves requests while a fresh one is read
/// in the background; older than this, a request waits for the read.
const DIRECTORY_STALE: Duration = Duration::from_secs(30);

/// The providers serving privately, as last read from the chain.
#[derive(Debug)]
struct Directory {
    client: Client,
    list: tokio::sync::Mutex<Option<(Instant, Arc<Vec<ProviderTarget>>)>>,
    refreshing: std::sync::atomic::AtomicBool,
}

impl Directory {
    /// The list: fresh from memory; expired but recent from memory while a task reads
    /// it again; otherwise read now (concurrent callers share one read).
    async fn get(self: &Arc<Self>) -> Result<Arc<Vec<ProviderTarget>>, ClientError> {
        use std::sync::atomic::Ordering;
        let mut cached = self.list.lock().await;
        if let Some((at, list)) = cached.as_ref() {
            if at.elapsed() < DIRECTORY_TTL {
                return Ok(Arc::clone(list));
            }
            if at.elapsed() < DIRECTORY_STALE {
                if !self.refreshing.swap(true, Ordering::AcqRel) {
                    let me = Arc::clone(self);
                    tokio::spawn(async move {
                        if let Ok(list) = providers(&me.client).await {
                            me.keep(&mut *me.list.lock().await, list);
                        }
                        me.refreshing.store(false, Ordering::Release);
                    });
                }
                return Ok(Arc::clone(list));
            }
        }
        let list = providers(&self.client).await?;
        Ok(self.keep(&mut cached, list))
    }

    /// Keep `list` as the latest read (an empty one is not kept: the first provider
    /// to appear is used at once).
    fn keep(
        &self,
        cached: &mut Option<(Instant, Arc<Vec<ProviderTarget>>)>,
        list: Vec<ProviderTarget>,
    ) -> Arc<Vec<ProviderTarget>> {
        let list = Arc::new(list);
        *cached = (!list.is_empty()).then(|| (Instant::now(), Arc::clone(&list)));
        list
    }

    /// Read the list again at the next request.
    fn forget(&self) {
        if let Ok(mut cached) = self.list.try_lock() {
            *cached = None;
        }
    }
}

/// Why a request could not be paid for or sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The node could not be read.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No provider of the model is payable with this wallet's tokens.
    #[error(
        "no provider of {what} is payable with the credits in this wallet ({credits} left): buy more with `plexus credits buy`"
    )]
    NoPayableProvider {
        /// `model 'NAME'` or `any model`.
        what: String,
        /// Credits held in total.
        credits: u64,
    },
    /// Too few tokens bound to this provider.
    #[error("not enough credits for provider {0}: buy more with `plexus credits buy`")]
    NotEnoughCredits(String),
    /// The route to the provider could not be built.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// The private path failed (the tokens are kept).
    #[error("the private request through {relay} failed")]
    Private {
        /// The relay.
        relay: String,
        /// Why.
        #[source]
        source: PrivateError,
    },
    /// Buying more credits failed.
    #[error("cannot buy credits")]
    Buy(#[from] BuyError),
    /// The provider's key is not the one the chain holds for it: the node that listed
    /// it may be lying. Nothing was sent and no token was spent.
    #[error(
        "refusing to send: the OHTTP key listed for provider {hotkey} is not the key the chain holds for it ({reason}); the node may be lying, use another"
    )]
    KeyNotOnChain {
        /// The provider.
        hotkey: AccountId,
        /// What the proofs showed.
        reason: String,
    },
}

/// What a request got back.
pub enum Answer {
    /// A whole answer.
    Whole(PlainResponse),
    /// A streamed answer.
    Streamed(StreamedResponse),
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Whole(r) => f.debug_tuple("Whole").field(&r.status).finish(),
            Self::Streamed(r) => f.debug_tuple("Streamed").field(&r.head.status).finish(),
        }
    }
}

impl Answer {
    /// The provider's HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Whole(r) => r.status,
            Self::Streamed(r) => r.head.status,
        }
    }
}

/// A wallet's credits and the relay its requests go through.
#[derive(Debug)]
pub struct Session {
    client: Client,
    relay: String,
    /// The relay issuance goes through when this session buys (default: `relay`).
    issuance_relay: Option<String>,
    store: CreditStore,
    anchor: TrustAnchor,
    /// Provider keys already proven: (hotkey, encoded key config). A key is proven
    /// once per key epoch; a rotated key is a new entry.
    proven: Mutex<BTreeSet<(AccountId, Vec<u8>)>>,
    /// The providers read from the chain, and when.
    directory: Arc<Directory>,
    http: reqwest::Client,
    timeout: Duration,
}

impl Session {
    /// Requests paid from `store`, sent through `relay`, providers read from `client`
    /// and their keys proven against headers `anchor`'s validators finalized.
    pub fn new(client: Client, relay: String, store: CreditStore, anchor: TrustAnchor) -> Self {
        let directory = Arc::new(Directory {
            client: client.clone(),
            list: tokio::sync::Mutex::default(),
            refreshing: std::sync::atomic::AtomicBool::new(false),
        });
        Self {
            client,
            relay,
            issuance_relay: None,
            store,
            anchor,
            proven: Mutex::default(),
            directory,
            http: reqwest::Client::new(),
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// Give up on a request after `timeout` (default [`REQUEST_TIMEOUT`]).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Buy through `relay`, not the one requests go through: that relay then never
    /// sees the client that paid for a deposit fetch its tokens.
    pub fn with_issuance_relay(mut self, relay: Option<String>) -> Self {
        self.issuance_relay = relay;
        self
    }

    /// Fetch the tokens of this wallet's paid deposits that are due, each through the
    /// relay chosen when it was paid (see [`issuance::pay`]).
    pub async fn fetch_due(&self, coldkey: &Keypair) -> Result<issuance::Fetched, StoreError> {
        issuance::fetch_pending(
            &self.client,
            &self.anchor,
            &self.store,
            coldkey,
            false,
            None,
        )
        .await
    }

    /// Fetch due deposits every `every` until the returned task is aborted or the
    /// session dropped, so a long-running proxy picks up credits bought while it runs
    /// (each deposit still no earlier than its random issuance moment).
    pub fn spawn_fetching(
        self: &Arc<Self>,
        coldkey: Keypair,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let session = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut clock = tokio::time::interval(every);
            clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick is now: the caller fetched at start.
            clock.tick().await;
            loop {
                clock.tick().await;
                let Some(session) = session.upgrade() else {
                    return;
                };
                match session.fetch_due(&coldkey).await {
                    Ok(fetched) => {
                        for (deposit, tokens) in &fetched.issued {
                            tracing::info!(deposit, tokens, "fetched the tokens of a deposit");
                        }
                        for (deposit, error) in &fetched.failed {
                            tracing::warn!(deposit, %error, "a deposit stays pending");
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot read pending deposits"),
                }
            }
        })
    }

    /// The relay requests go through.
    pub fn relay(&self) -> &str {
        &self.relay
    }

    /// The chain this session trusts: every key it seals to or pays with is proven
    /// under a header its validators finalized.
    pub fn anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    /// The node this session reads providers from.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Credits left, in total (0 if the store cannot be read).
    pub fn credits(&self) -> u64 {
        self.store.total().unwrap_or(0)
    }

    /// Credits held per provider address.
    pub fn per_origin(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        self.store.per_origin()
    }

    /// Put newly bought tokens in the store and save it.
    pub fn add(&self, bought: Vec<StoredCredit>) -> Result<(), StoreError> {
        self.store.add(bought)
    }

    /// Buy `bundle` credits with `coldkey` until the store holds at least `need`
    /// credits for each of `targets` (at most `rounds` purchases); true when it does.
    pub async fn top_up(
        &self,
        coldkey: &Keypair,
        targets: &[AccountId],
        need: u64,
        bundle: u32,
        rounds: u32,
    ) -> Result<bool, SendError> {
        for round in 0..=rounds {
            let held = self.store.per_origin()?;
            let short = targets
                .iter()
                .any(|t| held.get(&t.to_address()).copied().unwrap_or(0) < need);
            if !short {
                return Ok(true);
            }
            if round == rounds {
                break;
            }
            let relay = self.issuance_relay.as_deref().unwrap_or(&self.relay);
            let bought =
                issuance::buy(&self.client, &self.anchor, coldkey, bundle, None, relay).await?;
            self.store.add(bought)?;
            tracing::info!(credits = bundle, "bought credits");
        }
        Ok(false)
    }

    /// Providers serving `model` (any model when `None`) for which the store holds at
    /// least `need` credits.
    pub async fn payable(
        &self,
        model: Option<&str>,
        need: u64,
    ) -> Result<Vec<ProviderTarget>, SendError> {
        let held = self.store.per_origin()?;
        Ok(self
            .directory()
            .await?
            .iter()
            .filter(|p| model.is_none_or(|m| m == p.model))
            .filter(|p| held.get(&p.hotkey.to_address()).copied().unwrap_or(0) >= need)
            .cloned()
            .collect())
    }

    /// The providers serving privately, read from the chain at most every
    /// [`DIRECTORY_TTL`], and in the background while the last read is recent.
    pub async fn directory(&self) -> Result<Arc<Vec<ProviderTarget>>, ClientError> {
        self.directory.get().await
    }

    /// Read the providers from the chain again at the next request.
    fn forget_directory(&self) {
        self.directory.forget();
    }

    /// Every model some provider serves privately.
    pub async fn models(&self) -> Result<Vec<String>, ClientError> {
        let mut models: Vec<String> = self
            .directory()
            .await?
            .iter()
            .map(|p| p.model.clone())
            .collect();
        models.sort();
        models.dedup();
        Ok(models)
    }

    /// A provider serving privately, by hotkey.
    pub async fn provider(
        &self,
        hotkey: &AccountId,
    ) -> Result<Option<ProviderTarget>, ClientError> {
        Ok(self
            .directory()
            .await?
            .iter()
            .find(|p| p.hotkey == *hotkey)
            .cloned())
    }

    /// A random provider of `model` this wallet can pay for a request costing `need`.
    pub async fn pick(&self, model: Option<&str>, need: u64) -> Result<ProviderTarget, SendError> {
        let payable = self.payable(model, need).await?;
        match payable.choose(&mut rand::rng()) {
            Some(p) => Ok(p.clone()),
            None => {
                self.forget_directory();
                Err(SendError::NoPayableProvider {
                    what: model.map_or("any model".to_owned(), |m| format!("model '{m}'")),
                    credits: self.credits(),
                })
            }
        }
    }

    /// Send `body` to `path` at `provider`, paying with its tokens; streamed when
    /// `stream`. The price is [`credits_for`] of the body. The spent tokens leave the
    /// store (and the store is saved) before the request goes out, so a crash can never
    /// spend a token twice. A 409 says a token was spent already (by a request whose
    /// answer was lost, or a copy of the store restored from a backup): those tokens
    /// are gone, so the request is paid again with others, up to [`PAYMENT_TRIES`]
    /// times.
    pub async fn send(
        &self,
        provider: &ProviderTarget,
        path: &str,
        body: Vec<u8>,
        stream: bool,
    ) -> Result<Answer, SendError> {
        let mut tries = 1;
        loop {
            let answer = self
                .pay_and_send(provider, path, body.clone(), stream)
                .await?;
            if answer.status() != 409 || tries >= PAYMENT_TRIES {
                return Ok(answer);
            }
            tries += 1;
            tracing::info!("a token was spent already; paying again with other tokens");
        }
    }

    /// Check that `provider`'s OHTTP key is one the chain holds for its hotkey: its
    /// registration and endpoint proven against the state root of a header finalized
    /// by a quorum of the anchored validators. A node can list any key; only a key
    /// that passes this is sealed to. Proven keys are remembered for this session.
    pub async fn prove_key(&self, provider: &ProviderTarget) -> Result<(), SendError> {
        let entry = (provider.hotkey, provider.config.encoded().to_vec());
        if self.proven_keys().contains(&entry) {
            return Ok(());
        }
        let refused = |reason: String| SendError::KeyNotOnChain {
            hotkey: provider.hotkey,
            reason,
        };
        let header = self
            .client
            .certified_tip(&self.anchor)
            .await
            .map_err(|e| refused(e.to_string()))?;
        let served = self
            .client
            .verified_endpoint(provider.netuid, &provider.hotkey, &header)
            .await
            .map_err(|e| refused(e.to_string()))?;
        let Some((_, endpoint)) = served else {
            return Err(refused(format!(
                "it serves nothing on subnet {} at block {}",
                provider.netuid, header.height
            )));
        };
        let keys = plexus_privacy::oblivious::decode_key_list(&endpoint.ohttp_keys)
            .map_err(|e| refused(format!("its proven keys do not decode: {e}")))?;
        if !keys
            .iter()
            .any(|k| k.encoded() == provider.config.encoded())
        {
            return Err(refused(format!(
                "block {} proves other keys for it",
                header.height
            )));
        }
        // A key outside its window is refused by an honest gateway: never seal to it.
        let period = self
            .client
            .chain()
            .await
            .map_err(|e| refused(e.to_string()))?
            .params
            .issuer_key_period;
        let valid = plexus_privacy::rotation::valid_key_ids(header.height, period);
        if !valid.contains(&provider.config.key_id()) {
            return Err(refused(format!(
                "its key {} is not valid at block {} (keys {valid:?} are)",
                provider.config.key_id(),
                header.height
            )));
        }
        self.proven_keys().insert(entry);
        Ok(())
    }

    fn proven_keys(&self) -> std::sync::MutexGuard<'_, BTreeSet<(AccountId, Vec<u8>)>> {
        // The set only grows by whole entries: a poisoned lock still holds a valid set.
        self.proven
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn pay_and_send(
        &self,
        provider: &ProviderTarget,
        path: &str,
        body: Vec<u8>,
        stream: bool,
    ) -> Result<Answer, SendError> {
        self.prove_key(provider).await?;
        let need = credits_for(path, &body);
        let origin = provider.hotkey.to_address();
        let taken = self
            .store
            .take(&origin, need)?
            .ok_or_else(|| SendError::NotEnoughCredits(origin.clone()))?;
        // A token that does not decode is worthless: it stays out of the store.
        let tokens = taken
            .iter()
            .map(StoredCredit::decode)
            .collect::<Result<Vec<_>, _>>()?;
        let request = PlainRequest {
            method: "POST".into(),
            path: path.into(),
            body,
            tokens,
        };
        let route = route(&self.relay, &provider.hotkey, provider.config.clone())?;
        let answer = if stream {
            send_streamed(&self.http, &route, &request, self.timeout)
                .await
                .map(Answer::Streamed)
        } else {
            send(&self.http, &route, &request, self.timeout)
                .await
                .map(Answer::Whole)
        };
        match answer {
            Ok(answer) => {
                // A provider spends tokens only for an answer it serves: every other
                // answer leaves them unspent, except a 409 (a token was spent before).
                let status = answer.status();
                if !(200..300).contains(&status) && status != 409 {
                    self.store.add(taken)?;
                }
                // A refusal may mean the list is stale (a rotated key, a provider gone).
                if status >= 400 && status != 409 && status != 429 {
                    self.forget_directory();
                }
                Ok(answer)
            }
            Err(source) => {
                // The provider most likely never saw the tokens: keep them. Were they
                // spent after all, the provider refuses them next time (409).
                self.store.add(taken)?;
                self.forget_directory();
                Err(SendError::Private {
                    relay: self.relay.clone(),
                    source,
                })
            }
        }
    }
}
