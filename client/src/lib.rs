//! Talk to a node's API with typed requests.
//!
//! Owns the typed HTTP client of the node's API, the verified reads, and the
//! client half of the private path ([`private`]). May not depend on storage engines or
//! on the server half of the api crate: it takes `plexus-storage` without its `db`
//! feature (proof verification only, no redb) and `plexus-api` without `server`.
//!
//! [`Client`] has one async method per route of `plexus-api` and answers with the
//! same wire types the server sends ([`wire`]). On top of those it offers:
//!
//! - [`Client::submit`] a signed transaction, [`Client::next_nonce`] for the sender,
//!   and [`Client::wait_for_tx`] until it is finalized;
//! - [`Client::subscribe_blocks`]: finalized blocks as a [`futures::Stream`];
//! - verified reads ([`Client::verified_account`], [`Client::verified_stake`],
//!   [`Client::verified_registration`]) that check the node's Merkle proof against the
//!   state root of the header it serves, and fail with [`ClientError::ProofInvalid`]
//!   when it does not verify.
//!
//! **What a verified read proves.** It proves the value is what the state committed
//! in *that header* holds. It does not prove the header is final: for that, get the
//! header with [`Client::certified_header`], which checks its finality certificate
//! against the validator set you trust (the genesis set), and pass it to
//! [`Client::verified_account_at`]. Then the read trusts no node, only a quorum of
//! validators.
//!
//! Errors keep the API's `code` and `message` ([`ClientError::Api`]) and offer a
//! [`ClientError::hint`], so a CLI can print what to do next.

mod error;
mod sse;

use std::time::{Duration, Instant};

use futures::{StreamExt as _, stream::BoxStream};
use plexus_ledger::{MemStore, account_key, query, registration_key, stake_key};
use plexus_storage::{StateProof, verify_proof};
use plexus_types::{
    AccountId, Amount, BlockHeader, Hash, Keypair, Netuid, Payload, SignedTransaction, Transaction,
    Uid,
};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

pub mod private;
pub mod relay;
pub mod trust;
pub mod weights;

pub use error::ClientError;
pub use plexus_api::wire;
use wire::{
    Account, BlockEvent, BlockPage, BlockView, Chain, DataTaskAt, DataTasks, DepositAt, Deposits,
    ErrorBody, FinalizationView, Hotkey, IssuerAt, Issuers, LaggedEvent, Metagraph, NonceStatus,
    OwnedHotkeys, ProofResponse, RawFinalization, Stakes, StateChunk, Status, SubmitRequest,
    SubmitResponse, SubnetAt, Subnets, Supply, TransactionView, TxStatus, Weights,
};

/// How long an ordinary request may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response body the client reads (a page of blocks or a big metagraph fits).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A node API client. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
}

/// A transaction [`Client::send_tx`] saw finalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    /// Its id.
    pub hash: Hash,
    /// The height of the block that includes it.
    pub height: u64,
    /// Its signer.
    pub sender: AccountId,
    /// The fee it paid.
    pub fee: Amount,
}

/// One item of [`Client::subscribe_blocks`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A finalized block and what it did.
    Block(Box<BlockEvent>),
    /// The subscriber fell behind and `missed` blocks were skipped; read them with
    /// [`Client::blocks`]. The stream continues.
    Lagged {
        /// How many blocks were skipped.
        missed: u64,
    },
}

/// Finalized blocks as they are committed; ends when the node closes the stream.
pub type BlockStream = BoxStream<'static, Result<StreamEvent, ClientError>>;

/// A value proven against the state root of `header`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<T> {
    /// The proven value.
    pub value: T,
    /// The header whose `state_root` the proof verified against. Check it against a
    /// finality certificate ([`Client::certified_header`]) for full light-client security.
    pub header: BlockHeader,
    /// The proof itself.
    pub proof: StateProof,
}

/// An account's balance and nonce, as proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    /// Free balance in base units.
    pub balance: Amount,
    /// The nonce its next transaction must carry.
    pub nonce: u64,
}

impl Client {
    /// A client for the node API at `base_url`, e.g. `http://127.0.0.1:8080` (the
    /// routes are under its `/v1`). Loopback URLs bypass any configured HTTP proxy.
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let invalid = |reason: &str| ClientError::InvalidUrl {
            url: base_url.to_string(),
            reason: reason.to_string(),
        };
        let base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(invalid("the URL needs a host"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("the URL must not have a query or fragment"));
        }
        let host = base.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("plexus-client/", env!("CARGO_PKG_VERSION")));
        if loopback {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| invalid(&e.to_string()))?;
        Ok(Self {
            http,
            base,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same client with another per-request timeout (the event stream has none).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The node's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    // ---- transactions ----

    /// Submit a signed transaction; its id once the node's mempool accepted it.
    pub async fn submit(&self, tx: &SignedTransaction) -> Result<Hash, ClientError> {
        let url = self.url(&["v1", "transactions"])?;
        let request = self.http.post(url.clone()).json(&SubmitRequest::new(tx));
        let response: SubmitResponse = self.send(url, request).await?;
        Ok(response.hash)
    }

    /// Sign `payload` with `key` at the account's next nonce, paying `fee` or else the
    /// least fee the chain asks for it, submit it, and wait up to `timeout` until a
    /// finalized block includes it.
    pub async fn send_tx(
        &self,
        key: &Keypair,
        payload: Payload,
        fee: Option<Amount>,
        timeout: Duration,
    ) -> Result<Sent, ClientError> {
        let config = self.chain().await?;
        let sender = key.account();
        let fee = fee.unwrap_or_else(|| config.params.min_fee_for(&payload));
        let started = Instant::now();
        let mut nonce = self.next_nonce(&sender).await?;
        let hash = loop {
            let tx = Transaction {
                chain_id: config.chain_id,
                sender,
                nonce,
                fee,
                payload: payload.clone(),
            }
            .sign(key);
            match self.submit(&tx).await {
                Ok(hash) => break hash,
                // Another program signing for the same account (a service beside the
                // command line) took this nonce: wait until the chain moves past it and
                // sign again, within the same timeout.
                Err(e) if nonce_taken(&e) => {
                    nonce = self
                        .wait_for_nonce_past(&sender, nonce, started, timeout)
                        .await
                        .ok_or(e)?;
                }
                Err(e) => return Err(e),
            }
        };
        let included = self
            .wait_for_tx(&hash, timeout.saturating_sub(started.elapsed()))
            .await?;
        Ok(Sent {
            hash,
            height: included.height.unwrap_or_default(),
            sender,
            fee,
        })
    }

    /// Poll the account's nonce until it passes `nonce`, or `None` once `timeout`
    /// since `started` has passed.
    async fn wait_for_nonce_past(
        &self,
        account: &AccountId,
        nonce: u64,
        started: Instant,
        timeout: Duration,
    ) -> Option<u64> {
        let mut delay = Duration::from_millis(100);
        while started.elapsed() < timeout {
            tokio::time::sleep(delay).await;
            if let Ok(next) = self.next_nonce(account).await
                && next > nonce
            {
                return Some(next);
            }
            delay = (delay * 2).min(Duration::from_secs(1));
        }
        None
    }

    /// A transaction by id: finalized, or pending in the node's mempool.
    pub async fn transaction(&self, hash: &Hash) -> Result<TransactionView, ClientError> {
        self.get(&["v1", "transactions", &hash.to_hex()], &[]).await
    }

    /// Poll until the transaction is finalized, or fail with
    /// [`ClientError::TxTimeout`] after `timeout`.
    pub async fn wait_for_tx(
        &self,
        hash: &Hash,
        timeout: Duration,
    ) -> Result<TransactionView, ClientError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            let last_seen = match self.transaction(hash).await {
                Ok(view) if view.status == TxStatus::Finalized => return Ok(view),
                Ok(_) => "pending",
                Err(e) if e.code() == Some("unknown_transaction") => "unknown",
                Err(e) if e.is_retryable() => "unknown",
                Err(e) => return Err(e),
            };
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(ClientError::TxTimeout {
                    hash: *hash,
                    waited,
                    last_seen,
                });
            }
            tokio::time::sleep(delay.min(timeout - waited)).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    // ---- accounts ----

    /// An account's balance and next nonce.
    pub async fn account(&self, account: &AccountId) -> Result<Account, ClientError> {
        self.get(&["v1", "accounts", &account.to_address()], &[])
            .await
    }

    /// The nonce the account's next transaction must carry, from the committed state
    /// (transactions of the account still waiting in a mempool are not counted: when
    /// sending several at once, add one per transaction already sent).
    pub async fn next_nonce(&self, account: &AccountId) -> Result<u64, ClientError> {
        Ok(self.account(account).await?.nonce)
    }

    /// Every stake a coldkey holds.
    pub async fn stakes(&self, coldkey: &AccountId) -> Result<Stakes, ClientError> {
        self.get(&["v1", "accounts", &coldkey.to_address(), "stakes"], &[])
            .await
    }

    /// The hotkeys a coldkey owns.
    pub async fn owned_hotkeys(&self, coldkey: &AccountId) -> Result<OwnedHotkeys, ClientError> {
        self.get(&["v1", "accounts", &coldkey.to_address(), "hotkeys"], &[])
            .await
    }

    /// A hotkey: owner, take, stake, registrations (`unknown_hotkey` if never registered).
    pub async fn hotkey(&self, hotkey: &AccountId) -> Result<Hotkey, ClientError> {
        self.get(&["v1", "hotkeys", &hotkey.to_address()], &[])
            .await
    }

    // ---- subnets ----

    /// Every subnet.
    pub async fn subnets(&self) -> Result<Subnets, ClientError> {
        self.get(&["v1", "subnets"], &[]).await
    }

    /// One subnet (`unknown_subnet` if absent).
    pub async fn subnet(&self, netuid: Netuid) -> Result<SubnetAt, ClientError> {
        self.get(&["v1", "subnets", &netuid.to_string()], &[]).await
    }

    /// Data tasks, newest first (at most `limit`, the server's default when `None`),
    /// optionally only those of one subnet.
    pub async fn data_tasks(
        &self,
        netuid: Option<Netuid>,
        limit: Option<usize>,
    ) -> Result<DataTasks, ClientError> {
        let mut query = Vec::new();
        if let Some(netuid) = netuid {
            query.push(("netuid", netuid.to_string()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        self.get(&["v1", "data", "tasks"], &query).await
    }

    /// One data task with its contributions.
    pub async fn data_task(&self, id: u64) -> Result<DataTaskAt, ClientError> {
        self.get(&["v1", "data", "tasks", &id.to_string()], &[])
            .await
    }

    /// A subnet's metagraph.
    pub async fn metagraph(&self, netuid: Netuid) -> Result<Metagraph, ClientError> {
        self.get(&["v1", "subnets", &netuid.to_string(), "metagraph"], &[])
            .await
    }

    /// A UID's weights and bonds rows and its pending weights commit.
    pub async fn weights(&self, netuid: Netuid, uid: Uid) -> Result<Weights, ClientError> {
        let (netuid, uid) = (netuid.to_string(), uid.to_string());
        self.get(&["v1", "subnets", &netuid, "weights", &uid], &[])
            .await
    }

    // ---- credits ----

    /// Every credit issuer with its keys, and the chain's credit price.
    pub async fn issuers(&self) -> Result<Issuers, ClientError> {
        self.get(&["v1", "credits", "issuers"], &[]).await
    }

    /// One credit issuer.
    pub async fn issuer(&self, hotkey: &AccountId) -> Result<IssuerAt, ClientError> {
        self.get(&["v1", "credits", "issuers", &hotkey.to_address()], &[])
            .await
    }

    /// The newest deposits of `buyer` (at most 100).
    pub async fn deposits_of(&self, buyer: &AccountId) -> Result<Deposits, ClientError> {
        self.get(
            &["v1", "credits", "deposits"],
            &[("buyer", buyer.to_address())],
        )
        .await
    }

    /// One credit deposit.
    pub async fn deposit(&self, id: u64) -> Result<DepositAt, ClientError> {
        self.get(&["v1", "credits", "deposits", &id.to_string()], &[])
            .await
    }

    /// Whether a token nonce was settled.
    pub async fn nonce_status(&self, nonce: &[u8; 32]) -> Result<NonceStatus, ClientError> {
        self.get(&["v1", "credits", "nonces", &hex::encode(nonce)], &[])
            .await
    }

    /// Whether a token nonce was settled, proven against the served header's state root.
    pub async fn verified_settled(
        &self,
        nonce: &[u8; 32],
    ) -> Result<Verified<Option<plexus_ledger::credits::SettledNonce>>, ClientError> {
        let path = ["v1", "proofs", "settled", &hex::encode(nonce)];
        let response: ProofResponse = self.get(&path, &[]).await?;
        let key = plexus_ledger::credits::keys::settled_nonce_key(nonce);
        verify(&response, &key, None, "settled nonce", |state| {
            plexus_ledger::credits::settled_nonce(state, nonce)
        })
    }

    // ---- chain and node ----

    /// Supply accounting.
    pub async fn supply(&self) -> Result<Supply, ClientError> {
        self.get(&["v1", "supply"], &[]).await
    }

    /// The chain id, parameters, genesis digest and validators.
    pub async fn chain(&self) -> Result<Chain, ClientError> {
        self.get(&["v1", "chain"], &[]).await
    }

    /// The node's progress and committed tip.
    pub async fn status(&self) -> Result<Status, ClientError> {
        self.get(&["v1", "status"], &[]).await
    }

    /// The height of the last block the API's store committed (0 before genesis).
    pub async fn tip_height(&self) -> Result<u64, ClientError> {
        Ok(self.status().await?.tip.map_or(0, |t| t.height))
    }

    /// The node's and the API's metrics, as OpenMetrics text.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let url = self.url(&["metrics"])?;
        let (_, bytes) = self.exchange(&url, self.http.get(url.clone())).await?;
        String::from_utf8(bytes).map_err(|_| ClientError::UnexpectedResponse {
            url: url.to_string(),
            reason: "metrics are not UTF-8".into(),
        })
    }

    /// The node's OpenAPI document.
    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.get(&["openapi.json"], &[]).await
    }

    // ---- blocks ----

    /// The latest finalized block.
    pub async fn latest_block(&self) -> Result<BlockView, ClientError> {
        self.get(&["v1", "blocks", "latest"], &[]).await
    }

    /// The finalized block at `height` (`unknown_block` if not yet finalized).
    pub async fn block(&self, height: u64) -> Result<BlockView, ClientError> {
        self.get(&["v1", "blocks", &height.to_string()], &[]).await
    }

    /// The finalized block with `digest`.
    pub async fn block_by_digest(&self, digest: &Hash) -> Result<BlockView, ClientError> {
        self.get(&["v1", "blocks", &digest.to_hex()], &[]).await
    }

    /// The finality certificate of the block at `height`, unverified.
    pub async fn finalization(&self, height: u64) -> Result<FinalizationView, ClientError> {
        self.get(&["v1", "blocks", &height.to_string(), "finalization"], &[])
            .await
    }

    /// The finality certificate of the block at `height` in commonware's encoding,
    /// unverified (a syncing node checks it against the genesis validators).
    pub async fn finalization_raw(&self, height: u64) -> Result<RawFinalization, ClientError> {
        self.get(
            &["v1", "blocks", &height.to_string(), "finalization", "raw"],
            &[],
        )
        .await
    }

    /// The next `limit` leaves of the state tree at `height` after the key hash
    /// `after`, with their range proof, unverified (`plexus_storage::Restore` checks
    /// them against a certified root).
    pub async fn state_chunk(
        &self,
        height: u64,
        after: Option<[u8; 32]>,
        limit: usize,
    ) -> Result<StateChunk, ClientError> {
        let mut query = vec![("height", height.to_string()), ("limit", limit.to_string())];
        if let Some(after) = after {
            query.push(("after", hex::encode(after)));
        }
        self.get(&["v1", "state", "chunks"], &query).await
    }

    /// The header at `height`, checked against its finality certificate: a quorum of
    /// `validators` (the set the caller trusts, e.g. from the genesis file) signed its
    /// digest for chain `chain_id`. Fails with [`ClientError::ProofInvalid`] otherwise.
    pub async fn certified_header(
        &self,
        height: u64,
        chain_id: u64,
        validators: &[AccountId],
    ) -> Result<BlockHeader, ClientError> {
        let header = self.header_at(height).await?;
        let served = self.finalization(height).await?;
        check_certificate(chain_id, validators, &header, &served.certificate)?;
        Ok(header)
    }

    /// The header the node serves at `height`, unverified but for its height.
    async fn header_at(&self, height: u64) -> Result<BlockHeader, ClientError> {
        let invalid = |reason: String| ClientError::ProofInvalid(reason);
        let block = self.block(height).await?;
        let header = BlockHeader::try_from(&block.header).map_err(|e| invalid(e.to_string()))?;
        if header.height != height {
            return Err(invalid(format!(
                "asked for block {height}, the node served block {}",
                header.height
            )));
        }
        Ok(header)
    }

    /// The validator set of consensus epoch `epoch`, trusting only `anchor` (the
    /// genesis set): walk
    /// the hand-overs from epoch 1 on. Each epoch's set is proven under the state
    /// root of the block that chose it (the last block of the epoch before), and that
    /// block's header is checked against its finality certificate signed by a quorum
    /// of the previous set. On a chain whose genesis fixes the set, every epoch's set
    /// is the genesis one.
    pub async fn validator_set(
        &self,
        anchor: &trust::TrustAnchor,
        epoch: u64,
    ) -> Result<Vec<AccountId>, ClientError> {
        let mut set = anchor.validators.clone();
        set.sort_unstable();
        let length = anchor.epoch_length;
        if length == 0 {
            return Ok(set);
        }
        for e in 1..=epoch {
            set = self.hand_over(anchor.chain_id, length, e, &set).await?;
        }
        Ok(set)
    }

    /// The set of epoch `epoch`, given the set of the epoch before (`previous`).
    async fn hand_over(
        &self,
        chain_id: u64,
        length: u64,
        epoch: u64,
        previous: &[AccountId],
    ) -> Result<Vec<AccountId>, ClientError> {
        let invalid = |reason: String| ClientError::ProofInvalid(reason);
        let boundary = epoch
            .checked_mul(length)
            .map(|h| h - 1)
            .ok_or_else(|| invalid(format!("epoch {epoch} is past the last height")))?;
        let path = ["v1", "proofs", "validator-set", &epoch.to_string()];
        let response: ProofResponse = self.get(&path, &[]).await?;
        let key = plexus_ledger::validators::keys::set_key(epoch);
        let proven = verify(&response, &key, None, "validator set", |state| {
            plexus_ledger::validators::set(state, epoch)
        })?;
        if proven.header.height != boundary {
            return Err(invalid(format!(
                "the set of epoch {epoch} was proven at height {}, not at its boundary {boundary}",
                proven.header.height
            )));
        }
        let served = self.finalization(boundary).await?;
        check_epoch(boundary, &served.certificate, epoch - 1)?;
        check_certificate(chain_id, previous, &proven.header, &served.certificate)?;
        proven
            .value
            .ok_or_else(|| invalid(format!("the boundary state has no set for epoch {epoch}")))
    }

    /// The header at `height`, checked against its finality certificate under the
    /// validator set of its epoch, which [`Client::validator_set`] follows from
    /// `anchor` through certified hand-overs.
    pub async fn certified_header_following(
        &self,
        height: u64,
        anchor: &trust::TrustAnchor,
    ) -> Result<BlockHeader, ClientError> {
        let served = self.finalization(height).await?;
        // A block is finalized in the epoch that contains it: a certificate naming
        // an older epoch would let that epoch's (since unbonded) set vouch for it.
        let epoch = height.checked_div(anchor.epoch_length).unwrap_or(0);
        check_epoch(height, &served.certificate, epoch)?;
        let validators = self.validator_set(anchor, epoch).await?;
        let header = self.header_at(height).await?;
        check_certificate(anchor.chain_id, &validators, &header, &served.certificate)?;
        Ok(header)
    }

    /// A page of block summaries from `from` (the last `limit` blocks when `None`),
    /// `limit` from 1 to 100 (20 when `None`).
    pub async fn blocks(
        &self,
        from: Option<u64>,
        limit: Option<u64>,
    ) -> Result<BlockPage, ClientError> {
        let mut query = Vec::new();
        if let Some(from) = from {
            query.push(("from", from.to_string()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        self.get(&["v1", "blocks"], &query).await
    }

    /// Follow finalized blocks from now on (`GET /v1/events`). The stream has no
    /// timeout; it ends when the node closes it.
    pub async fn subscribe_blocks(&self) -> Result<BlockStream, ClientError> {
        let url = self.url(&["v1", "events"])?;
        let response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| transport(&url, e, self.timeout))?;
        let status = response.status();
        if !status.is_success() {
            let bytes = read_limited(&url, response, self.timeout).await?;
            return Err(api_error(&url, status, &bytes));
        }
        let timeout = self.timeout;
        let parser = sse::Parser::default();
        let bytes = response.bytes_stream().boxed();
        let stream = futures::stream::unfold(Some((bytes, parser)), move |state| {
            let url = url.clone();
            async move {
                let (mut bytes, mut parser) = state?;
                loop {
                    match parser.next_event() {
                        Ok(Some(raw)) => match decode_event(&raw) {
                            Ok(Some(event)) => return Some((Ok(event), Some((bytes, parser)))),
                            Ok(None) => continue,
                            Err(e) => return Some((Err(e), None)),
                        },
                        Ok(None) => {}
                        Err(e) => return Some((Err(ClientError::Stream(e.0)), None)),
                    }
                    match bytes.next().await {
                        Some(Ok(chunk)) => {
                            if let Err(e) = parser.push(&chunk) {
                                return Some((Err(ClientError::Stream(e.0)), None));
                            }
                        }
                        Some(Err(e)) => return Some((Err(transport(&url, e, timeout)), None)),
                        None => return None,
                    }
                }
            }
        });
        Ok(stream.boxed())
    }

    // ---- proofs ----

    /// The proof of an account at `height` (the latest when `None`) and its header,
    /// unverified.
    pub async fn account_proof(
        &self,
        account: &AccountId,
        height: Option<u64>,
    ) -> Result<ProofResponse, ClientError> {
        let path = ["v1", "proofs", "account", &account.to_address()];
        self.get(&path, &height_query(height)).await
    }

    /// The proof of a coldkey's stake on a hotkey and its header, unverified.
    pub async fn stake_proof(
        &self,
        hotkey: &AccountId,
        coldkey: &AccountId,
        height: Option<u64>,
    ) -> Result<ProofResponse, ClientError> {
        let (hotkey, coldkey) = (hotkey.to_address(), coldkey.to_address());
        let path = ["v1", "proofs", "stake", &hotkey, &coldkey];
        self.get(&path, &height_query(height)).await
    }

    /// The proof of a hotkey's registration on a subnet and its header, unverified.
    pub async fn registration_proof(
        &self,
        netuid: Netuid,
        hotkey: &AccountId,
        height: Option<u64>,
    ) -> Result<ProofResponse, ClientError> {
        let (netuid, hotkey) = (netuid.to_string(), hotkey.to_address());
        let path = ["v1", "proofs", "registration", &netuid, &hotkey];
        self.get(&path, &height_query(height)).await
    }

    /// An account's balance and nonce at the latest committed height, proven against
    /// the state root of the header served with the proof (see the crate docs for
    /// what that does and does not prove).
    pub async fn verified_account(
        &self,
        account: &AccountId,
    ) -> Result<Verified<AccountState>, ClientError> {
        let response = self.account_proof(account, None).await?;
        verify_account(&response, account, None)
    }

    /// An account's balance and nonce proven against a header the caller already
    /// trusts (e.g. one checked against a finality certificate): the node must serve
    /// exactly that header.
    pub async fn verified_account_at(
        &self,
        account: &AccountId,
        trusted: &BlockHeader,
    ) -> Result<Verified<AccountState>, ClientError> {
        let response = self.account_proof(account, Some(trusted.height)).await?;
        verify_account(&response, account, Some(trusted))
    }

    /// A coldkey's stake on a hotkey, proven (0 when there is none).
    pub async fn verified_stake(
        &self,
        hotkey: &AccountId,
        coldkey: &AccountId,
    ) -> Result<Verified<Amount>, ClientError> {
        let response = self.stake_proof(hotkey, coldkey, None).await?;
        verify(
            &response,
            &stake_key(hotkey, coldkey),
            None,
            "stake",
            |state| plexus_ledger::staking::stake(state, hotkey, coldkey),
        )
    }

    /// A hotkey's UID on a subnet, proven (`None` when it is not registered there).
    pub async fn verified_registration(
        &self,
        netuid: Netuid,
        hotkey: &AccountId,
    ) -> Result<Verified<Option<Uid>>, ClientError> {
        let response = self.registration_proof(netuid, hotkey, None).await?;
        let key = registration_key(netuid, hotkey);
        verify(&response, &key, None, "registration", |state| {
            plexus_ledger::neurons::uid_of(state, netuid, hotkey)
        })
    }

    // ---- plumbing ----

    /// The URL of `segments` under the base URL, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::InvalidUrl {
                url: self.base.to_string(),
                reason: "the URL cannot have a path".into(),
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        let mut url = self.url(segments)?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let request = self.http.get(url.clone());
        self.send(url, request).await
    }

    /// Send `request` and parse its JSON answer.
    async fn send<T: DeserializeOwned>(
        &self,
        url: Url,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let (status, bytes) = self.exchange(&url, request).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::UnexpectedResponse {
            url: url.to_string(),
            reason: format!("HTTP {status} body does not parse: {e}"),
        })
    }

    /// Send `request` with the client's timeout; the status and body of a success,
    /// or the API error of anything else.
    async fn exchange(
        &self,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), ClientError> {
        let response = request
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| transport(url, e, self.timeout))?;
        let status = response.status();
        let bytes = read_limited(url, response, self.timeout).await?;
        if !status.is_success() {
            return Err(api_error(url, status, &bytes));
        }
        Ok((status, bytes))
    }
}

/// Read a body, refusing more than [`MAX_RESPONSE_BYTES`].
async fn read_limited(
    url: &Url,
    mut response: reqwest::Response,
    timeout: Duration,
) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(url, e, timeout))?
    {
        if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ClientError::UnexpectedResponse {
                url: url.to_string(),
                reason: format!("the response is larger than {MAX_RESPONSE_BYTES} bytes"),
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn transport(url: &Url, error: reqwest::Error, timeout: Duration) -> ClientError {
    if error.is_timeout() {
        ClientError::Timeout {
            url: url.to_string(),
            timeout,
        }
    } else {
        ClientError::Unreachable {
            url: url.to_string(),
            source: error,
        }
    }
}

/// The API error in a non-2xx body, or an unexpected-response error.
fn api_error(url: &Url, status: StatusCode, bytes: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => ClientError::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ClientError::UnexpectedResponse {
            url: url.to_string(),
            reason: format!("HTTP {status} without an API error body"),
        },
    }
}

fn height_query(height: Option<u64>) -> Vec<(&'static str, String)> {
    height
        .map(|h| ("height", h.to_string()))
        .into_iter()
        .collect()
}

fn decode_event(raw: &sse::RawEvent) -> Result<Option<StreamEvent>, ClientError> {
    let bad = |e: serde_json::Error| ClientError::Stream(format!("`{}` event: {e}", raw.name));
    match raw.name.as_str() {
        "block" => Ok(Some(StreamEvent::Block(Box::new(
            serde_json::from_str(&raw.data).map_err(bad)?,
        )))),
        "lagged" => {
            let lagged: LaggedEvent = serde_json::from_str(&raw.data).map_err(bad)?;
            Ok(Some(StreamEvent::Lagged {
                missed: lagged.missed,
            }))
        }
        // Events this client does not know yet are skipped (forward compatibility).
        _ => Ok(None),
    }
}

/// Check a served proof: it is for `key`, its height matches its header (and the
/// header is `trusted`, when given), and it verifies against the header's state root.
fn check(
    response: &ProofResponse,
    key: &[u8],
    trusted: Option<&BlockHeader>,
) -> Result<(StateProof, BlockHeader), ClientError> {
    let invalid = |reason: String| ClientError::ProofInvalid(reason);
    let proof = StateProof::try_from(&response.proof).map_err(|e| invalid(e.to_string()))?;
    let header = BlockHeader::try_from(&response.header).map_err(|e| invalid(e.to_string()))?;
    if proof.key != key {
        return Err(invalid("the proof is for another state key".into()));
    }
    if proof.height != header.height {
        return Err(invalid(format!(
            "the proof is at height {} but the header at height {}",
            proof.height, header.height
        )));
    }
    if let Some(trusted) = trusted
        && header.digest() != trusted.digest()
    {
        return Err(invalid(format!(
            "the node served header {} at height {}, not the trusted header {}",
            header.digest(),
            header.height,
            trusted.digest()
        )));
    }
    verify_proof(&header.state_root, &proof).map_err(|e| invalid(e.to_string()))?;
    Ok((proof, header))
}

fn verify_account(
    response: &ProofResponse,
    account: &AccountId,
    trusted: Option<&BlockHeader>,
) -> Result<Verified<AccountState>, ClientError> {
    verify(
        response,
        &account_key(account),
        trusted,
        "account",
        |state| {
            query::account(state, account).map(|view| AccountState {
                balance: view.balance,
                nonce: view.nonce,
            })
        },
    )
}

/// Check that the certificate of the block at `height` names consensus epoch `epoch`.
fn check_epoch(
    height: u64,
    certificate: &plexus_types::finality::FinalityCertificate,
    epoch: u64,
) -> Result<(), ClientError> {
    match certificate.epoch == epoch {
        true => Ok(()),
        false => Err(ClientError::ProofInvalid(format!(
            "block {height} belongs to consensus epoch {epoch}, but its certificate names epoch {}",
            certificate.epoch
        ))),
    }
}

/// Check that `certificate` finalizes `header` under a quorum of `validators` on chain
/// `chain_id`.
fn check_certificate(
    chain_id: u64,
    validators: &[AccountId],
    header: &BlockHeader,
    certificate: &plexus_types::finality::FinalityCertificate,
) -> Result<(), ClientError> {
    plexus_types::finality::verify_finality(chain_id, validators, &header.digest(), certificate)
        .map_err(|e| ClientError::ProofInvalid(format!("block {}: {e}", header.height)))
}

/// [`check`] a served proof, then read the proven `what` out of a state holding only
/// the proven entry, with the ledger's own decoder `decode`.
fn verify<T, E: std::fmt::Display>(
    response: &ProofResponse,
    key: &[u8],
    trusted: Option<&BlockHeader>,
    what: &str,
    decode: impl FnOnce(&MemStore) -> Result<T, E>,
) -> Result<Verified<T>, ClientError> {
    let (proof, header) = check(response, key, trusted)?;
    let mut state = MemStore::new();
    state.commit(
        [(proof.key.clone(), proof.value.clone())]
            .into_iter()
            .collect(),
    );
    let value = decode(&state)
        .map_err(|e| ClientError::ProofInvalid(format!("proven {what} does not decode: {e}")))?;
    Ok(Verified {
        value,
        header,
        proof,
    })
}

/// Whether a refused submission means another transaction of the sender holds or has
/// used its nonce.
fn nonce_taken(e: &ClientError) -> bool {
    matches!(e.code(), Some("stale_nonce" | "replacement_underpriced"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_under_the_base_path_and_escape_segments() {
        let client = Client::new("http://127.0.0.1:8080").unwrap();
        let url = client.url(&["v1", "accounts", "a/b?c"]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/v1/accounts/a%2Fb%3Fc");
        let client = Client::new("http://127.0.0.1:8080/node/").unwrap();
        let url = client.url(&["v1", "status"]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/node/v1/status");
    }

    #[test]
    fn unusable_base_urls_are_refused() {
        for url in [
            "",
            "127.0.0.1:8080",
            "ftp://127.0.0.1",
            "mailto:a@b",
            "http://x/?q=1",
        ] {
            assert!(
                matches!(Client::new(url), Err(ClientError::InvalidUrl { .. })),
                "{url}"
            );
        }
    }
}
