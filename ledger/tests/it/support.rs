//! A chain on a MemStore, driven block by block.

use plexus_ledger::{
    BlockEnv, BlockError, BlockOutput, Genesis, MemStore, StateReader, TxError, accounts,
    execute_block, genesis, query, staking,
};
use plexus_types::{
    AccountId, Amount, Hyperparams, Keypair, Mechanism, Netuid, PLX, Payload, Transaction,
};

pub(crate) struct Chain {
    pub(crate) store: MemStore,
    pub(crate) height: u64,
    pub(crate) chain_id: u64,
    pub(crate) faucet: Keypair,
}

pub(crate) fn key(label: &str) -> Keypair {
    Keypair::from_label(label)
}

impl Chain {
    pub(crate) fn new() -> Self {
        Self::with_genesis(Genesis::development(key("validator").account()))
    }

    pub(crate) fn with_genesis(g: Genesis) -> Self {
        let mut store = MemStore::new();
        store.commit(genesis::writes(&g).expect("genesis"));
        Self {
            store,
            height: 0,
            chain_id: g.chain_id,
            faucet: genesis::dev_faucet(),
        }
    }

    pub(crate) fn env(&self) -> BlockEnv {
        BlockEnv {
            height: self.height + 1,
            timestamp_ms: (self.height + 1) * 1000,
            proposer: key("validator").account(),
        }
    }

    pub(crate) fn nonce(&self, who: &AccountId) -> u64 {
        accounts::account(&self.store, who).unwrap().nonce
    }

    pub(crate) fn balance(&self, who: &AccountId) -> Amount {
        accounts::account(&self.store, who).unwrap().balance
    }

    pub(crate) fn stake(&self, hot: &AccountId, cold: &AccountId) -> Amount {
        staking::stake(&self.store, hot, cold).unwrap()
    }

    /// The least fee of a coldkey transaction.
    pub(crate) fn min_fee(&self) -> Amount {
        query::chain(&self.store).unwrap().params.min_fee
    }

    /// Sign `payload` from `signer` with its next nonce and the least fee.
    pub(crate) fn tx(&self, signer: &Keypair, payload: Payload) -> plexus_types::SignedTransaction {
        self.tx_n(signer, payload, 0)
    }

    /// Like `tx`, with the nonce `offset` past the next one (several txs in one block).
    pub(crate) fn tx_n(
        &self,
        signer: &Keypair,
        payload: Payload,
        offset: u64,
    ) -> plexus_types::SignedTransaction {
        let config = query::chain(&self.store).unwrap();
        Transaction {
            chain_id: self.chain_id,
            sender: signer.account(),
            nonce: self.nonce(&signer.account()) + offset,
            fee: config.params.min_fee_for(&payload),
            payload,
        }
        .sign(signer)
    }

    /// Execute and commit one block.
    pub(crate) fn block(
        &mut self,
        txs: Vec<plexus_types::SignedTransaction>,
    ) -> Result<BlockOutput, BlockError> {
        let out = execute_block(&self.store, &self.env(), &txs)?;
        self.store.commit(out.writes.clone());
        self.height += 1;
        self.assert_conserved();
        Ok(out)
    }

    /// One block with one transaction; the transaction's error if it failed.
    pub(crate) fn submit(
        &mut self,
        signer: &Keypair,
        payload: Payload,
    ) -> Result<BlockOutput, TxError> {
        let tx = self.tx(signer, payload);
        match self.block(vec![tx]) {
            Ok(out) => Ok(out),
            Err(BlockError::Tx { error, .. }) => Err(error),
            Err(e) => panic!("block failed: {e}"),
        }
    }

    /// Empty blocks.
    pub(crate) fn advance(&mut self, blocks: u64) {
        for _ in 0..blocks {
            self.block(Vec::new()).expect("empty block");
        }
    }

    /// Advance until the subnet's epoch index changes.
    pub(crate) fn next_epoch(&mut self, netuid: Netuid) {
        let start = query::subnet(&self.store, netuid, self.height)
            .unwrap()
            .unwrap()
            .epoch_index;
        while query::subnet(&self.store, netuid, self.height)
            .unwrap()
            .unwrap()
            .epoch_index
            == start
        {
            self.advance(1);
        }
    }

    /// One block in which `coldkey` registers `hotkey` on `netuid`.
    pub(crate) fn register(
        &mut self,
        coldkey: &Keypair,
        netuid: Netuid,
        hotkey: &AccountId,
    ) -> Result<BlockOutput, TxError> {
        let hotkey = *hotkey;
        self.submit(coldkey, Payload::Register { netuid, hotkey })
    }

    /// One block in which `coldkey` stakes `amount` to `hotkey`.
    pub(crate) fn add_stake(
        &mut self,
        coldkey: &Keypair,
        hotkey: &AccountId,
        amount: Amount,
    ) -> Result<BlockOutput, TxError> {
        let hotkey = *hotkey;
        self.submit(coldkey, Payload::AddStake { hotkey, amount })
    }

    pub(crate) fn fund(&mut self, who: &AccountId, amount: Amount) {
        let faucet = self.faucet.clone();
        self.submit(&faucet, Payload::Transfer { to: *who, amount })
            .expect("fund");
    }

    pub(crate) fn create_subnet(&mut self, owner: &Keypair, hp: Hyperparams) -> Netuid {
        let before = query::subnets(&self.store, self.height).unwrap().len();
        self.submit(
            owner,
            Payload::CreateSubnet {
                name: "test".into(),
                mechanism: Mechanism::Generic,
                hyperparams: hp,
            },
        )
        .expect("create subnet");
        let subnets = query::subnets(&self.store, self.height).unwrap();
        assert_eq!(subnets.len(), before + 1);
        subnets.last().unwrap().netuid
    }

    /// Σ balances + Σ stake + Σ pending emission + escrow == genesis + emitted − burned.
    pub(crate) fn assert_conserved(&self) {
        assert_eq!(
            total_held(&self.store),
            u128::from(query::supply(&self.store).unwrap().total_issuance)
        );
    }
}

/// Σ balances + Σ stake + Σ pending + data escrow, by scanning every key.
pub(crate) fn total_held(store: &MemStore) -> u128 {
    let mut total: u128 = 0;
    for k in store.entries().keys() {
        if k.len() == 34 && k[0] == 0x01 && k[1] == 0x00 {
            let id = AccountId(k[2..34].try_into().unwrap());
            total += u128::from(accounts::account(store, &id).unwrap().balance);
        }
        if k.len() == 66 && k[0] == 0x02 && k[1] == 0x00 {
            let hot = AccountId(k[2..34].try_into().unwrap());
            let cold = AccountId(k[34..66].try_into().unwrap());
            total += u128::from(staking::stake(store, &hot, &cold).unwrap());
        }
        if k.len() == 34 && k[0] == 0x09 && k[1] == 0x00 {
            let operator = AccountId(k[2..34].try_into().unwrap());
            let v = plexus_ledger::validators::validator(store, &operator)
                .unwrap()
                .unwrap();
            total += u128::from(v.bond);
            total += v
                .unbonding
                .iter()
                .map(|(_, a)| u128::from(*a))
                .sum::<u128>();
        }
    }
    for s in query::subnets(store, 0).unwrap() {
        total += u128::from(s.pending_emission);
    }
    // The escrow total must equal what the tasks hold.
    let escrow = query::supply(store).unwrap().data_escrow;
    let held: u64 = query::data_tasks(store, None, 0, usize::MAX)
        .unwrap()
        .iter()
        .map(|t| t.task.escrow)
        .sum();
    assert_eq!(escrow, held, "escrow total drifted from the tasks' escrow");
    // The credit escrow equals what the issuer keys hold, and no key paid out more
    // than was deposited into it.
    let credit_escrow = query::supply(store).unwrap().credit_escrow;
    // Every key record, listed by its issuer or closed and unlisted.
    let mut keys_hold = 0u64;
    for k in store.entries().keys() {
        if k.len() == 34 && k[0] == 0x07 && k[1] == 0x04 {
            let id = plexus_types::Hash(k[2..34].try_into().unwrap());
            let k = plexus_ledger::credits::issuer_key(store, &id)
                .unwrap()
                .unwrap();
            assert!(k.settled <= k.deposited, "key settled more than deposited");
            assert!(
                k.slashed <= k.settled,
                "the bond paid back more than was paid out"
            );
            keys_hold += k.escrow();
        }
    }
    assert_eq!(
        credit_escrow, keys_hold,
        "credit escrow drifted from the keys"
    );
    total + u128::from(escrow) + u128::from(credit_escrow)
}

/// Hyperparameters for tests: small, fast epochs.
pub(crate) fn fast_hp() -> Hyperparams {
    Hyperparams {
        tempo: 5,
        min_burn: PLX / 100,
        max_burn: 1_000 * PLX,
        ..Hyperparams::default()
    }
}

/// Every byte of the state, for "changes nothing" comparisons.
pub(crate) fn snapshot(store: &MemStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .entries()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(crate) fn read(store: &MemStore, key: &[u8]) -> Option<Vec<u8>> {
    store.get(key).unwrap()
}
