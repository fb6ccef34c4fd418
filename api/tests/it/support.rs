//! A real chain for the API to serve: a redb `Store` in a temporary directory with a
//! development genesis, real ledger admission (`check_transaction`) into a plain
//! queue, and blocks executed by the ledger and committed by the store.
//!
//! `plexus-client`'s tests include this file too (`#[path]`), so both crates test
//! against the same backend.

#![allow(dead_code, unreachable_pub)]

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt as _;
use plexus_api::{ApiConfig, ApiState, Backend, FinalizedBlock, NodeStatus, SubmitError};
use plexus_ledger::{BlockEnv, Genesis, execute_block, genesis, query};
use plexus_storage::Store;
use plexus_types::{
    AccountId, Amount, Block, BlockHeader, Hash, Keypair, Payload, SignedTransaction, Transaction,
    block::tx_root, finality::FinalityCertificate,
};
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::broadcast;
use tower::ServiceExt as _;

/// A development genesis whose validator set follows stake: `keys` bonded 100 PLX
/// each, epochs of `epoch_length` blocks, sets of 1 to 8 bonding at least 100 PLX, a
/// 2-block unbonding delay and no slash.
pub fn staking_genesis(keys: &[Keypair], epoch_length: u64) -> Genesis {
    let mut genesis = Genesis::development(validator().account());
    genesis.params.consensus = plexus_ledger::params::ConsensusParams {
        epoch_length,
        min_validators: 1,
        max_validators: 8,
        min_bond: 100 * plexus_types::PLX,
        unbonding_delay: 2,
        slash_bps: 0,
    };
    genesis.validators = keys
        .iter()
        .map(|k| plexus_ledger::genesis::GenesisValidator {
            public_key: k.account(),
            bond: 100 * plexus_types::PLX,
        })
        .collect();
    genesis
}

/// A certified chain of `epoch_length`-block epochs whose set changes: three genesis
/// validators; a newcomer bonds in epoch 0 and the first genesis validator unbonds in
/// epoch 1; 13 blocks in all. The genesis keys and the newcomer come back with it.
pub fn changing_set(epoch_length: u64) -> (TestChain, Vec<Keypair>, Keypair) {
    let genesis_keys: Vec<Keypair> = (0..3)
        .map(|i| key(&format!("genesis validator {i}")))
        .collect();
    let newcomer = key("newcomer");
    let mut all = genesis_keys.clone();
    all.push(newcomer.clone());
    let chain = TestChain::certified(staking_genesis(&genesis_keys, epoch_length), all);
    let faucet = chain.faucet();
    chain.submit_now(chain.transfer(&faucet, newcomer.account(), 1_000 * plexus_types::PLX));
    chain.produce_block();
    for (i, k) in genesis_keys.iter().enumerate() {
        let payload = Payload::Transfer {
            to: k.account(),
            amount: 10 * plexus_types::PLX,
        };
        chain.submit_now(chain.tx(&faucet, payload, i as u64));
    }
    chain.produce_block();
    let bond = Payload::Bond {
        consensus_key: newcomer.account(),
        amount: 500 * plexus_types::PLX,
    };
    chain.submit_now(chain.tx(&newcomer, bond, 0));
    chain.produce_blocks(3);
    let unbond = Payload::Unbond {
        amount: 100 * plexus_types::PLX,
    };
    chain.submit_now(chain.tx(&genesis_keys[0], unbond, 0));
    chain.produce_blocks(8);
    (chain, genesis_keys, newcomer)
}

/// Finalized blocks buffered per subscriber in tests.
pub const SUBSCRIBER_BUFFER: usize = 16;

/// The validator key that proposes every block.
pub fn validator() -> Keypair {
    Keypair::from_label("validator")
}

/// A key for tests, derived from a label.
pub fn key(label: &str) -> Keypair {
    Keypair::from_label(label)
}

struct Inner {
    _dir: TempDir,
    store: Arc<Store>,
    queue: Mutex<Vec<SignedTransaction>>,
    events: broadcast::Sender<FinalizedBlock>,
    genesis: Genesis,
    /// Serialises block production.
    producing: Mutex<()>,
    /// Keys that sign each block's finality certificate (those in the set of the
    /// block's epoch, as a real quorum would); none when certificates are off.
    signers: Vec<Keypair>,
    certificates: Mutex<std::collections::BTreeMap<u64, FinalityCertificate>>,
}

/// A backend over a real store and the real ledger. Cheap to clone.
#[derive(Clone)]
pub struct TestChain {
    inner: Arc<Inner>,
}

impl TestChain {
    /// A fresh development chain with its genesis committed.
    pub fn new() -> Self {
        Self::with_buffer(SUBSCRIBER_BUFFER)
    }

    /// Like [`TestChain::new`], with `buffer` blocks per subscriber before it lags.
    pub fn with_buffer(buffer: usize) -> Self {
        let chain = Self::without_genesis(buffer);
        chain.commit_genesis();
        chain
    }

    /// A fresh development chain whose chain parameters `edit` changed first.
    pub fn with_params(edit: impl FnOnce(&mut plexus_ledger::ChainParams)) -> Self {
        let mut genesis = Genesis::development(validator().account());
        edit(&mut genesis.params);
        let chain = Self::from_genesis(SUBSCRIBER_BUFFER, genesis);
        chain.commit_genesis();
        chain
    }

    /// A chain whose store has no genesis yet (a node still starting).
    pub fn without_genesis(buffer: usize) -> Self {
        Self::from_genesis(buffer, Genesis::development(validator().account()))
    }

    /// A chain started by `genesis` whose blocks carry finality certificates signed
    /// by the members of `keys` in each block's epoch set.
    pub fn certified(genesis: Genesis, keys: Vec<Keypair>) -> Self {
        let mut chain = Self::from_genesis(SUBSCRIBER_BUFFER, genesis);
        Arc::get_mut(&mut chain.inner).expect("fresh").signers = keys;
        chain.commit_genesis();
        chain
    }

    /// The certificate a quorum of `height`'s epoch set signs over `header`.
    fn certify(&self, header: &BlockHeader) -> Option<FinalityCertificate> {
        if self.inner.signers.is_empty() {
            return None;
        }
        let length = self.inner.genesis.params.consensus.epoch_length;
        let epoch = header.height.checked_div(length).unwrap_or(0);
        let set = plexus_ledger::validators::set(self.inner.store.as_ref(), epoch)
            .expect("reads")
            .expect("the set of a committed block's epoch");
        let mut certificate = FinalityCertificate {
            epoch,
            view: header.height,
            parent_view: header.height.saturating_sub(1),
            payload: header.digest(),
            signers: Vec::new(),
            signatures: Vec::new(),
        };
        let message = plexus_types::finality::finalize_message(self.chain_id(), &certificate);
        for (index, member) in set.iter().enumerate() {
            if let Some(key) = self.inner.signers.iter().find(|k| k.account() == *member) {
                certificate.signers.push(index as u32);
                certificate.signatures.push(key.sign(&message));
            }
        }
        Some(certificate)
    }

    fn from_genesis(buffer: usize, genesis: Genesis) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("state.redb")).expect("open store");
        let (events, _) = broadcast::channel(buffer);
        Self {
            inner: Arc::new(Inner {
                _dir: dir,
                store: Arc::new(store),
                queue: Mutex::new(Vec::new()),
                events,
                genesis,
                producing: Mutex::new(()),
                signers: Vec::new(),
                certificates: Mutex::default(),
            }),
        }
    }

    /// Commit the development genesis as block 0.
    pub fn commit_genesis(&self) {
        let store = &self.inner.store;
        let genesis = &self.inner.genesis;
        let writes = genesis::writes(genesis).expect("genesis writes");
        let block = Block {
            header: BlockHeader {
                chain_id: genesis.chain_id,
                height: 0,
                parent: Hash::ZERO,
                timestamp_ms: genesis.genesis_time_ms,
                proposer: validator().account(),
                tx_root: tx_root(&[]),
                state_root: store.root_with(&writes).expect("root"),
                consensus: Vec::new(),
            },
            txs: Vec::new(),
        };
        store
            .commit_genesis(&block, &writes)
            .expect("commit genesis");
    }

    /// The genesis the chain started from.
    pub fn genesis(&self) -> &Genesis {
        &self.inner.genesis
    }

    /// The store, as the API reads it.
    pub fn store_handle(&self) -> Arc<Store> {
        Arc::clone(&self.inner.store)
    }

    /// Queue `tx` as the API would, panicking if admission refuses it.
    pub fn submit_now(&self, tx: SignedTransaction) {
        Backend::submit(self, tx).expect("admitted");
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.inner.genesis.chain_id
    }

    /// The development faucet key.
    pub fn faucet(&self) -> Keypair {
        genesis::dev_faucet()
    }

    /// API state over this chain.
    pub fn state(&self) -> ApiState {
        ApiState::new(self.clone())
    }

    /// API state over this chain with `config`.
    pub fn state_with(&self, config: ApiConfig) -> ApiState {
        ApiState::with_config(Arc::new(self.clone()), config)
    }

    /// The account's next nonce in the committed state.
    pub fn nonce(&self, key: &Keypair) -> u64 {
        query::account(self.inner.store.as_ref(), &key.account())
            .expect("account")
            .nonce
    }

    /// `payload` signed by `signer` with the committed next nonce plus `offset`.
    pub fn tx(&self, signer: &Keypair, payload: Payload, offset: u64) -> SignedTransaction {
        let config = query::chain(self.inner.store.as_ref()).expect("chain config");
        Transaction {
            chain_id: self.chain_id(),
            sender: signer.account(),
            nonce: self.nonce(signer) + offset,
            fee: config.params.min_fee_for(&payload),
            payload,
        }
        .sign(signer)
    }

    /// A transfer of `amount` from `from` to `to` with the committed next nonce.
    pub fn transfer(&self, from: &Keypair, to: AccountId, amount: Amount) -> SignedTransaction {
        self.tx(from, Payload::Transfer { to, amount }, 0)
    }

    /// Execute the queued transactions as the next block, commit it and announce it.
    pub fn produce_block(&self) -> FinalizedBlock {
        let _producing = self
            .inner
            .producing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let txs = std::mem::take(
            &mut *self
                .inner
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let store = &self.inner.store;
        let tip = store.committed().expect("genesis committed");
        let height = tip.height + 1;
        let env = BlockEnv {
            height,
            timestamp_ms: 1_700_000_000_000 + height * 1_000,
            proposer: validator().account(),
        };
        let output = execute_block(store.as_ref(), &env, &txs).expect("queued transactions apply");
        let block = Block {
            header: BlockHeader {
                chain_id: self.chain_id(),
                height,
                parent: tip.digest,
                timestamp_ms: env.timestamp_ms,
                proposer: env.proposer,
                tx_root: tx_root(&txs),
                state_root: store.root_with(&output.writes).expect("root"),
                consensus: Vec::new(),
            },
            txs,
        };
        store.commit_block(&block, &output.writes).expect("commit");
        if let Some(certificate) = self.certify(&block.header) {
            self.inner
                .certificates
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(height, certificate);
        }
        let finalized = FinalizedBlock {
            height,
            digest: block.digest(),
            block: Arc::new(block),
            events: Arc::new(output.events),
        };
        // No subscriber is fine.
        let _ = self.inner.events.send(finalized.clone());
        finalized
    }

    /// Produce `n` empty-or-not blocks.
    pub fn produce_blocks(&self, n: usize) {
        for _ in 0..n {
            self.produce_block();
        }
    }

    /// Transactions waiting.
    pub fn queued(&self) -> usize {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Backend for TestChain {
    fn store(&self) -> Arc<Store> {
        Arc::clone(&self.inner.store)
    }

    fn submit(&self, tx: SignedTransaction) -> Result<Hash, SubmitError> {
        let next = self.inner.store.committed_height().map_or(0, |h| h + 1);
        plexus_ledger::check_transaction(self.inner.store.as_ref(), next, &tx)?;
        let hash = tx.hash();
        let mut queue = self
            .inner
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if queue.iter().any(|q| q.hash() == hash) {
            return Err(SubmitError::Duplicate(hash));
        }
        // As the node's mempool: one waiting transaction per sender and nonce (this
        // queue takes no replacements).
        if let Some(waiting) = queue
            .iter()
            .find(|q| q.tx.sender == tx.tx.sender && q.tx.nonce == tx.tx.nonce)
        {
            return Err(SubmitError::ReplacementUnderpriced {
                min_fee: waiting.tx.fee + 1,
            });
        }
        queue.push(tx);
        Ok(hash)
    }

    fn subscribe(&self) -> broadcast::Receiver<FinalizedBlock> {
        self.inner.events.subscribe()
    }

    fn finalization(
        &self,
        height: u64,
    ) -> std::pin::Pin<Box<dyn Future<Output = Option<FinalityCertificate>> + Send + 'static>> {
        let certificate = self
            .inner
            .certificates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&height)
            .cloned();
        Box::pin(async move { certificate })
    }

    fn status(&self) -> NodeStatus {
        let height = self.inner.store.committed_height().unwrap_or(0);
        NodeStatus {
            finalized_height: height,
            view: height,
            tip_height: height,
            peers: 0,
            validators: self.inner.genesis.validators.len(),
            mempool_size: self.queued(),
            halted: None,
        }
    }

    fn metrics(&self) -> String {
        let height = self.inner.store.committed_height().unwrap_or(0);
        format!(
            "# HELP plexus_node_finalized_height Height of the last committed block.\n\
             # TYPE plexus_node_finalized_height gauge\n\
             plexus_node_finalized_height {height}\n# EOF\n"
        )
    }
}

/// Send `request` through a fresh router over `state`.
pub async fn send(state: &ApiState, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = plexus_api::router(state.clone())
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let body = tokio::time::timeout(Duration::from_secs(10), response.into_body().collect())
        .await
        .expect("body within 10 s")
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, body)
}

/// `GET path`, parsed as JSON.
pub async fn get(state: &ApiState, path: &str) -> (StatusCode, Value) {
    let request = Request::get(path).body(Body::empty()).expect("request");
    let (status, body) = send(state, request).await;
    (status, json(&body))
}

/// `POST path` with a JSON body, parsed as JSON.
pub async fn post_json(state: &ApiState, path: &str, body: &Value) -> (StatusCode, Value) {
    post_raw(state, path, body.to_string().into_bytes()).await
}

/// `POST path` with raw bytes labelled as JSON, parsed as JSON.
pub async fn post_raw(state: &ApiState, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    let (status, body) = send(state, request).await;
    (status, json(&body))
}

/// Submit `tx` in its canonical hex form.
pub async fn submit(state: &ApiState, tx: &SignedTransaction) -> (StatusCode, Value) {
    let body = serde_json::to_value(plexus_api::wire::SubmitRequest::new(tx)).expect("json");
    post_json(state, "/v1/transactions", &body).await
}

/// Parse a body as JSON, failing the test with the body if it is not.
pub fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(body)
        )
    })
}

/// The error code of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}

/// What [`TestChain::setup_subnet`] created.
pub struct SubnetSetup {
    /// The subnet's netuid.
    pub netuid: u16,
    /// The owner coldkey (the faucet).
    pub owner: Keypair,
    /// A hotkey registered as uid 0, staked and serving.
    pub hotkey: Keypair,
    /// The stake the owner put on the hotkey.
    pub stake: u64,
}

impl TestChain {
    /// Create subnet 1 from the faucet, register a hotkey on it, stake to it, and
    /// have it serve an endpoint: two blocks.
    pub fn setup_subnet(&self) -> SubnetSetup {
        use plexus_types::{Endpoint, Hyperparams, Mechanism, PLX};
        let owner = self.faucet();
        let hotkey = key("miner-hotkey");
        let netuid = 1;
        let stake = 10 * PLX;
        let txs = [
            Payload::CreateSubnet {
                name: "inference".into(),
                mechanism: Mechanism::Inference,
                hyperparams: Hyperparams::default(),
            },
            Payload::Register {
                netuid,
                hotkey: hotkey.account(),
            },
            Payload::AddStake {
                hotkey: hotkey.account(),
                amount: stake,
            },
        ];
        for (offset, payload) in (0u64..).zip(txs) {
            let tx = self.tx(&owner, payload, offset);
            self.submit(tx).expect("setup transaction admitted");
        }
        self.produce_block();
        let serve = self.tx(
            &hotkey,
            Payload::Serve {
                netuid,
                endpoint: Endpoint {
                    url: "http://127.0.0.1:8090".into(),
                    model: "SmolLM2-135M-Instruct".into(),
                    ..Endpoint::default()
                },
            },
            0,
        );
        self.submit(serve).expect("serve admitted");
        self.produce_block();
        SubnetSetup {
            netuid,
            owner,
            hotkey,
            stake,
        }
    }
}

/// A [`TestChain`] served over HTTP on 127.0.0.1 that produces a block every
/// `interval`, as a node would: for the services (providers, issuers) that talk to a
/// node through its API. Stops serving and producing when dropped.
pub struct ServedChain {
    /// The chain.
    pub chain: TestChain,
    /// The API's base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    producer: tokio::task::JoinHandle<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ServedChain {
    /// Serve `chain`'s API on an ephemeral loopback port and produce its blocks.
    pub async fn start(chain: TestChain, interval: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let server = tokio::spawn(plexus_api::serve(
            listener,
            chain.state(),
            std::future::pending(),
        ));
        let producing = chain.clone();
        let producer = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            loop {
                tick.tick().await;
                let chain = producing.clone();
                tokio::task::spawn_blocking(move || chain.produce_block())
                    .await
                    .expect("a block is produced");
            }
        });
        Self {
            chain,
            url,
            producer,
            server,
        }
    }
}

impl Drop for ServedChain {
    fn drop(&mut self) {
        self.producer.abort();
        self.server.abort();
    }
}
