//! Genesis: the JSON file a chain starts from, and the state it writes.
//!
//! ```json
//! {
//!   "chain_id": 1337,
//!   "genesis_time_ms": 0,
//!   "params": { "block_emission": 1000000000, "min_fee": 1000, ... },
//!   "accounts": [ { "address": "plx1...", "balance": 1000000000000000 } ],
//!   "validators": [ { "public_key": "plx1..." } ],
//!   "subnets": []
//! }
//! ```
//!
//! A genesis names validators by key only: where a validator listens is its own
//! configuration (`plexus node --p2p`, `--bootstrapper`), so moving a machine never
//! changes the chain. Operators agree on a genesis by comparing [`Genesis::hash`]
//! (`plexus genesis show`) before they start.

use std::collections::BTreeSet;

use plexus_types::{
    AccountId, Amount, CodecError, Decode, Encode, Hash, Hyperparams, Keypair, Mechanism, PLX,
    SUPPLY_CAP,
    codec::{Reader, WriteExt},
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    accounts::{self, Account, Supply},
    params::{self, ChainConfig, ChainParams},
    state::{self, Value},
    store::{MemStore, Overlay, StateReader, WriteSet},
    subnets::{self, SubnetInfo},
};

/// The label whose blake3 hash seeds the development faucet key
/// (`Keypair::from_label(DEV_FAUCET_LABEL)`). It is published here, so anyone can
/// sign for the faucet: **insecure, for development chains only**.
pub const DEV_FAUCET_LABEL: &str = "plexus/dev/faucet (INSECURE: published key, development only)";
/// The development chain id.
pub const DEV_CHAIN_ID: u64 = 1337;
/// What the development faucet holds at genesis: 1,000,000 PLX.
pub const DEV_FAUCET_BALANCE: Amount = 1_000_000 * PLX;
/// Most validators in the stored list.
pub const MAX_VALIDATORS: usize = 1024;
/// The domain [`Genesis::hash`] separates its input with.
const HASH_DOMAIN: &str = "plexus genesis v1";

/// Why a genesis cannot start a chain.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenesisError {
    /// An account appears twice.
    #[error("account {0} appears twice in genesis")]
    DuplicateAccount(AccountId),
    /// Balances add up past the supply cap.
    #[error("genesis balances add up to more than the 21M PLX supply cap")]
    AboveSupplyCap,
    /// No validator is listed.
    #[error("genesis lists no validator")]
    NoValidators,
    /// A validator appears twice.
    #[error("validator {0} appears twice in genesis")]
    DuplicateValidator(AccountId),
    /// A validator's key is not an ed25519 public key (no point on the curve).
    #[error("validator {0} is not an ed25519 public key")]
    BadValidatorKey(AccountId),
    /// A chain parameter is out of range.
    #[error("invalid chain parameter: {0}")]
    BadParams(&'static str),
    /// A genesis subnet is invalid.
    #[error("invalid genesis subnet {name:?}: {reason}")]
    BadSubnet {
        /// Its name.
        name: String,
        /// Why.
        reason: String,
    },
    /// The JSON does not parse.
    #[error("genesis JSON does not parse: {0}")]
    Json(String),
}

/// An account funded at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// The account.
    pub address: AccountId,
    /// Its balance in base units.
    pub balance: Amount,
}

/// A consensus validator at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// Its consensus public key (ed25519), also its operator account.
    pub public_key: AccountId,
    /// What it has bonded from the start, in base units (part of the genesis
    /// supply). A chain whose set follows stake needs at least the minimum bond.
    #[serde(default)]
    pub bond: Amount,
}

impl Value for Vec<GenesisValidator> {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_len(self.len());
        for v in self {
            v.public_key.encode_to(out);
            out.put_u64(v.bond);
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.list(MAX_VALIDATORS, "validators", |r| {
            Ok(GenesisValidator {
                public_key: AccountId::decode_from(r)?,
                bond: r.u64("bond")?,
            })
        })
    }
}

/// A subnet that exists from genesis (no lock cost is burned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSubnet {
    /// Human name.
    pub name: String,
    /// What it pays for.
    pub mechanism: Mechanism,
    /// Owner coldkey.
    pub owner: AccountId,
    /// Hyperparameters.
    #[serde(default)]
    pub hyperparams: Hyperparams,
}

/// A chain's starting point, as a JSON file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The chain id every transaction carries.
    pub chain_id: u64,
    /// Timestamp of the genesis block, milliseconds since the Unix epoch.
    #[serde(default)]
    pub genesis_time_ms: u64,
    /// Chain parameters.
    #[serde(default)]
    pub params: ChainParams,
    /// Funded accounts.
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// The consensus validator set.
    pub validators: Vec<GenesisValidator>,
    /// Subnets that exist from the start, netuids 1, 2, ... in order.
    #[serde(default)]
    pub subnets: Vec<GenesisSubnet>,
}

/// Key of the genesis validator list (`Vec<GenesisValidator>`): `[0x00, 0x01]`.
pub fn validators_key() -> Vec<u8> {
    vec![params::keys::PREFIX, 0x01]
}

/// The stored genesis validator set.
pub fn validators(state: &impl StateReader) -> Result<Vec<GenesisValidator>, crate::StateError> {
    state::get_or_default(state, &validators_key())
}

/// The development faucet key (published, insecure: development chains only).
pub fn dev_faucet() -> Keypair {
    Keypair::from_label(DEV_FAUCET_LABEL)
}

impl Genesis {
    /// A one-validator development chain with the published faucet
    /// ([`dev_faucet`]) holding [`DEV_FAUCET_BALANCE`].
    pub fn development(validator_key: AccountId) -> Self {
        Self::development_with_faucet(validator_key, dev_faucet().account())
    }

    /// A one-validator development chain whose faucet is `faucet` (e.g. a key derived
    /// from a published mnemonic), holding [`DEV_FAUCET_BALANCE`].
    pub fn development_with_faucet(validator_key: AccountId, faucet: AccountId) -> Self {
        Self {
            chain_id: DEV_CHAIN_ID,
            genesis_time_ms: 0,
            params: ChainParams {
                faucet: Some(faucet),
                ..ChainParams::default()
            },
            accounts: vec![GenesisAccount {
                address: faucet,
                balance: DEV_FAUCET_BALANCE,
            }],
            validators: vec![GenesisValidator {
                public_key: validator_key,
                bond: 0,
            }],
            subnets: Vec::new(),
        }
    }

    /// A genesis with no validator and no account yet, to build with
    /// [`Genesis::add_validator`] and [`Genesis::add_account`] (`plexus genesis init`).
    pub fn empty(chain_id: u64, params: ChainParams) -> Self {
        Self {
            chain_id,
            genesis_time_ms: 0,
            params,
            accounts: Vec::new(),
            validators: Vec::new(),
            subnets: Vec::new(),
        }
    }

    /// Add a consensus validator; refused if it is listed already, is not an ed25519
    /// point, or the set is full.
    pub fn add_validator(&mut self, public_key: AccountId) -> Result<(), GenesisError> {
        if self.validators.iter().any(|v| v.public_key == public_key) {
            return Err(GenesisError::DuplicateValidator(public_key));
        }
        if !is_ed25519_point(&public_key) {
            return Err(GenesisError::BadValidatorKey(public_key));
        }
        if self.validators.len() >= MAX_VALIDATORS {
            return Err(GenesisError::BadParams("more than 1024 validators"));
        }
        let bond = match self.params.consensus.epoch_length {
            0 => 0,
            _ => self.params.consensus.min_bond,
        };
        self.validators.push(GenesisValidator { public_key, bond });
        Ok(())
    }

    /// Fund `address` with `balance`; refused if it is funded already or the balances
    /// would pass the supply cap.
    pub fn add_account(&mut self, address: AccountId, balance: Amount) -> Result<(), GenesisError> {
        if self.accounts.iter().any(|a| a.address == address) {
            return Err(GenesisError::DuplicateAccount(address));
        }
        self.accounts
            .iter()
            .try_fold(balance, |sum, a| sum.checked_add(a.balance))
            .filter(|total| *total <= SUPPLY_CAP)
            .ok_or(GenesisError::AboveSupplyCap)?;
        self.accounts.push(GenesisAccount { address, balance });
        Ok(())
    }

    /// What operators compare before they start a chain together: blake3 over a
    /// domain tag and the genesis's compact JSON (fields in declaration order), so
    /// the same genesis hashes the same however its file was formatted.
    pub fn hash(&self) -> Hash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(HASH_DOMAIN.as_bytes());
        hasher.update(&[0]);
        hasher.update(serde_json::to_string(self).unwrap_or_default().as_bytes());
        Hash(*hasher.finalize().as_bytes())
    }

    /// Parse a genesis JSON document.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        serde_json::from_str(text).map_err(|e| {
            // Genesis files from before addresses became configuration.
            let old = serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| {
                v["validators"]
                    .as_array()
                    .is_some_and(|vs| vs.iter().any(|v| v.get("address").is_some()))
            });
            match old {
                true => GenesisError::Json(format!(
                    "{e}: validator addresses are no longer part of a genesis (each node sets its own with --p2p, --external-address and --bootstrapper); a genesis without them starts a new chain"
                )),
                false => GenesisError::Json(e.to_string()),
            }
        })
    }

    /// The genesis as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Check the genesis without writing anything.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let p = &self.params;
        if p.default_take > p.max_take {
            return Err(GenesisError::BadParams(
                "default_take must not exceed max_take",
            ));
        }
        if p.max_subnets == 0 {
            return Err(GenesisError::BadParams("max_subnets must be at least 1"));
        }
        if p.block_interval_ms == 0 {
            return Err(GenesisError::BadParams(
                "block_interval_ms must be at least 1",
            ));
        }
        if p.issuer_key_period == 0 || p.free_tx_window == 0 {
            return Err(GenesisError::BadParams(
                "issuer_key_period and free_tx_window must be at least 1",
            ));
        }
        let mut seen = BTreeSet::new();
        let mut total: Amount = 0;
        for a in &self.accounts {
            if !seen.insert(a.address) {
                return Err(GenesisError::DuplicateAccount(a.address));
            }
            total = total
                .checked_add(a.balance)
                .ok_or(GenesisError::AboveSupplyCap)?;
        }
        if total > SUPPLY_CAP {
            return Err(GenesisError::AboveSupplyCap);
        }
        if self.validators.is_empty() {
            return Err(GenesisError::NoValidators);
        }
        if self.validators.len() > MAX_VALIDATORS {
            return Err(GenesisError::BadParams("more than 1024 validators"));
        }
        let mut keys = BTreeSet::new();
        for v in &self.validators {
            if !keys.insert(v.public_key) {
                return Err(GenesisError::DuplicateValidator(v.public_key));
            }
            if !is_ed25519_point(&v.public_key) {
                return Err(GenesisError::BadValidatorKey(v.public_key));
            }
            total = total
                .checked_add(v.bond)
                .ok_or(GenesisError::AboveSupplyCap)?;
        }
        if total > SUPPLY_CAP {
            return Err(GenesisError::AboveSupplyCap);
        }
        self.validate_consensus()?;
        if self.subnets.len() > usize::from(p.max_subnets) {
            return Err(GenesisError::BadParams(
                "more genesis subnets than max_subnets",
            ));
        }
        for s in &self.subnets {
            subnets::check_create(&s.name, &s.hyperparams).map_err(|e| {
                GenesisError::BadSubnet {
                    name: s.name.clone(),
                    reason: e.to_string(),
                }
            })?;
        }
        Ok(())
    }
}

impl Genesis {
    /// The consensus parameters: a fixed set needs nothing; a set that follows
    /// stake needs epochs of at least two blocks, a sane size range that the genesis
    /// set fits, and genesis bonds of at least the minimum.
    fn validate_consensus(&self) -> Result<(), GenesisError> {
        let c = &self.params.consensus;
        if c.epoch_length == 0 {
            return Ok(());
        }
        if c.epoch_length < 2 {
            return Err(GenesisError::BadParams(
                "consensus.epoch_length must be 0 (a fixed set) or at least 2",
            ));
        }
        if c.min_validators == 0 || c.min_validators > c.max_validators {
            return Err(GenesisError::BadParams(
                "consensus.min_validators must be at least 1 and at most max_validators",
            ));
        }
        if usize::from(c.max_validators) > MAX_VALIDATORS {
            return Err(GenesisError::BadParams(
                "consensus.max_validators must be at most 1024",
            ));
        }
        if c.slash_bps > 10_000 {
            return Err(GenesisError::BadParams(
                "consensus.slash_bps must be at most 10000",
            ));
        }
        let n = self.validators.len();
        if n < usize::from(c.min_validators) || n > usize::from(c.max_validators) {
            return Err(GenesisError::BadParams(
                "the genesis validators must number between consensus.min_validators and max_validators",
            ));
        }
        if self.validators.iter().any(|v| v.bond < c.min_bond.max(1)) {
            return Err(GenesisError::BadParams(
                "every genesis validator must bond at least consensus.min_bond",
            ));
        }
        Ok(())
    }
}

/// Whether `key` decodes as an ed25519 public key (a point on the curve).
pub(crate) fn is_ed25519_point(key: &AccountId) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(&key.0).is_ok()
}

/// The state a genesis writes (height 0).
pub fn writes(genesis: &Genesis) -> Result<WriteSet, GenesisError> {
    genesis.validate()?;
    let empty = MemStore::new();
    let mut ov = Overlay::new(&empty);
    let config = ChainConfig {
        chain_id: genesis.chain_id,
        params: genesis.params.clone(),
    };
    state::put(&mut ov, params::keys::config_key(), &config);
    state::put(&mut ov, validators_key(), &genesis.validators);
    crate::validators::genesis(&mut ov, genesis);
    let mut total: Amount = genesis.validators.iter().map(|v| v.bond).sum();
    for a in &genesis.accounts {
        accounts::put_account(
            &mut ov,
            &a.address,
            &Account {
                balance: a.balance,
                nonce: 0,
            },
        );
        total += a.balance;
    }
    accounts::put_supply(
        &mut ov,
        &Supply {
            genesis: total,
            emitted: 0,
            burned: 0,
        },
    );
    for s in &genesis.subnets {
        let info = SubnetInfo {
            name: s.name.clone(),
            mechanism: s.mechanism,
            owner: s.owner,
            created_at: 0,
            lock_cost: 0,
        };
        subnets::insert(&mut ov, &genesis.params, &info, &s.hyperparams, 0).map_err(|e| {
            GenesisError::BadSubnet {
                name: s.name.clone(),
                reason: e.to_string(),
            }
        })?;
    }
    Ok(ov.into_writes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_genesis_round_trips_through_json_and_funds_the_faucet() {
        let g = Genesis::development(Keypair::from_label("validator").account());
        let parsed = Genesis::from_json(&g.to_json()).unwrap();
        assert_eq!(parsed, g);
        let mut store = MemStore::new();
        store.commit(writes(&g).unwrap());
        let faucet = accounts::account(&store, &dev_faucet().account()).unwrap();
        assert_eq!(faucet.balance, DEV_FAUCET_BALANCE);
        assert_eq!(
            accounts::supply(&store).unwrap().genesis,
            DEV_FAUCET_BALANCE
        );
        assert_eq!(params::load(&store).unwrap().chain_id, DEV_CHAIN_ID);
        assert_eq!(validators(&store).unwrap(), g.validators);
    }

    #[test]
    fn a_genesis_with_bad_validators_or_too_much_money_is_rejected() {
        let v = Keypair::from_label("validator").account();
        let mut g = Genesis::development(v);
        let not_a_point = (0u8..=255)
            .map(|b| AccountId([b; 32]))
            .find(|k| !is_ed25519_point(k))
            .expect("some constant byte string is off the curve");
        g.validators[0].public_key = not_a_point;
        assert_eq!(writes(&g), Err(GenesisError::BadValidatorKey(not_a_point)));
        let mut g = Genesis::development(v);
        g.accounts[0].balance = SUPPLY_CAP + 1;
        assert_eq!(writes(&g), Err(GenesisError::AboveSupplyCap));
        let mut g = Genesis::development(v);
        g.accounts.push(g.accounts[0].clone());
        assert!(matches!(writes(&g), Err(GenesisError::DuplicateAccount(_))));
        let mut g = Genesis::development(v);
        g.validators.clear();
        assert_eq!(writes(&g), Err(GenesisError::NoValidators));
    }

    #[test]
    fn a_genesis_built_step_by_step_refuses_duplicates_and_money_past_the_cap() {
        let (a, b) = (
            Keypair::from_label("a").account(),
            Keypair::from_label("b").account(),
        );
        let mut g = Genesis::empty(7, ChainParams::default());
        assert_eq!(g.validate(), Err(GenesisError::NoValidators));
        g.add_validator(a).unwrap();
        assert_eq!(g.add_validator(a), Err(GenesisError::DuplicateValidator(a)));
        g.add_validator(b).unwrap();
        g.add_account(a, SUPPLY_CAP - 1).unwrap();
        assert_eq!(g.add_account(a, 1), Err(GenesisError::DuplicateAccount(a)));
        assert_eq!(g.add_account(b, 2), Err(GenesisError::AboveSupplyCap));
        assert_eq!(
            g.add_account(b, Amount::MAX),
            Err(GenesisError::AboveSupplyCap)
        );
        g.add_account(b, 1).unwrap();
        g.validate().unwrap();
        assert_eq!(g.validators.len(), 2);
        assert_eq!(g.accounts.len(), 2);
    }

    #[test]
    fn the_genesis_hash_ignores_formatting_and_changes_with_any_field() {
        let g = Genesis::development(Keypair::from_label("validator").account());
        let reformatted: Genesis = Genesis::from_json(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(reformatted.hash(), g.hash());
        let mut other = g.clone();
        other.genesis_time_ms = 1;
        assert_ne!(other.hash(), g.hash());
        let mut other = g.clone();
        other
            .add_validator(Keypair::from_label("second").account())
            .unwrap();
        assert_ne!(other.hash(), g.hash());
    }

    #[test]
    fn a_genesis_that_still_names_validator_addresses_is_refused_with_the_field() {
        let json = r#"{"chain_id":1,"validators":[{"public_key":"plx1tru888rp462sxckd9z9aclqfq48k8xjrw44vvfjr77m2kvawp9jsnrdcl5","address":"127.0.0.1:30300"}]}"#;
        let error = Genesis::from_json(json).unwrap_err().to_string();
        assert!(error.contains("no longer part of a genesis"), "{error}");
    }
}
