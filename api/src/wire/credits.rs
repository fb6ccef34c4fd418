//! `/v1/credits`: credit issuers and their keys, deposits and settled nonces.

use plexus_types::{AccountId, Amount, Hash, Netuid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One credit issuer key with its escrow accounting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuerKeyInfo {
    /// sha256 of the SPKI (the RFC 9578 token key id), hex.
    #[schema(value_type = String)]
    pub key_id: Hash,
    /// Credits one token is worth.
    pub denomination: u32,
    /// The issuer's key epoch.
    pub key_epoch: u32,
    /// The RSASSA-PSS SPKI (RFC 9578 `token-key`), hex.
    #[serde(with = "plexus_types::hex_bytes")]
    #[schema(value_type = String)]
    pub spki: Vec<u8>,
    /// Block of registration.
    pub registered_at: u64,
    /// Σ base units deposited.
    pub deposited: Amount,
    /// Σ base units paid out of escrow.
    pub settled: Amount,
    /// Σ base units taken from the issuer's stake.
    pub slashed: Amount,
    /// Still in escrow.
    pub escrow: Amount,
    /// Tokens settled.
    pub tokens_settled: u64,
}

impl From<plexus_ledger::credits::IssuerKey> for IssuerKeyInfo {
    fn from(k: plexus_ledger::credits::IssuerKey) -> Self {
        Self {
            key_id: k.key_id,
            denomination: k.denomination,
            key_epoch: k.key_epoch,
            escrow: k.escrow(),
            spki: k.spki,
            registered_at: k.registered_at,
            deposited: k.deposited,
            settled: k.settled,
            slashed: k.slashed,
            tokens_settled: k.tokens_settled,
        }
    }
}

/// A credit issuer: its issuance gateway and keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuerInfo {
    /// The issuer hotkey.
    #[schema(value_type = String)]
    pub hotkey: AccountId,
    /// The subnet of its validator permit at registration.
    pub netuid: Netuid,
    /// Base URL of its issuance gateway (reach it through a relay).
    pub url: String,
    /// Its gateway's OHTTP key configurations (`application/ohttp-keys`), hex.
    #[serde(with = "plexus_types::hex_bytes")]
    #[schema(value_type = String)]
    pub ohttp_keys: Vec<u8>,
    /// Block of its last registration.
    pub updated_at: u64,
    /// Its keys, in registration order.
    pub keys: Vec<IssuerKeyInfo>,
}

impl From<plexus_ledger::query::IssuerView> for IssuerInfo {
    fn from(v: plexus_ledger::query::IssuerView) -> Self {
        Self {
            hotkey: v.issuer.hotkey,
            netuid: v.issuer.netuid,
            url: v.issuer.url,
            ohttp_keys: v.issuer.ohttp_keys,
            updated_at: v.issuer.updated_at,
            keys: v.keys.into_iter().map(Into::into).collect(),
        }
    }
}

/// `GET /v1/credits/issuers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Issuers {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The chain's credit price: base units per credit.
    pub credit_price: Amount,
    /// Every issuer, in hotkey order.
    pub issuers: Vec<IssuerInfo>,
}

/// `GET /v1/credits/issuers/{hotkey}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuerAt {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The issuer.
    pub issuer: IssuerInfo,
}

/// A purchase of credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deposit {
    /// Its id.
    pub id: u64,
    /// The buying coldkey.
    #[schema(value_type = String)]
    pub buyer: AccountId,
    /// The issuer hotkey.
    #[schema(value_type = String)]
    pub issuer: AccountId,
    /// The issuer key id, hex.
    #[schema(value_type = String)]
    pub key_id: Hash,
    /// Credits bought.
    pub credits: u32,
    /// Tokens the issuer signs for it.
    pub tokens: u32,
    /// Base units escrowed.
    pub amount: Amount,
    /// Block of the purchase.
    pub block: u64,
}

impl From<plexus_ledger::credits::Deposit> for Deposit {
    fn from(d: plexus_ledger::credits::Deposit) -> Self {
        Self {
            id: d.id,
            buyer: d.buyer,
            issuer: d.issuer,
            key_id: d.key_id,
            credits: d.credits,
            tokens: d.tokens,
            amount: d.amount,
            block: d.block,
        }
    }
}

/// `GET /v1/credits/deposits/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DepositAt {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The deposit.
    pub deposit: Deposit,
}

/// A settled token nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Settlement {
    /// The provider paid.
    #[schema(value_type = String)]
    pub provider: AccountId,
    /// The key the token was signed with, hex.
    #[schema(value_type = String)]
    pub key_id: Hash,
    /// Block of settlement.
    pub block: u64,
}

/// `GET /v1/credits/nonces/{nonce}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NonceStatus {
    /// The committed height this answer reflects.
    pub height: u64,
    /// The token nonce, hex.
    #[schema(value_type = String)]
    pub nonce: Hash,
    /// The settlement, if the nonce was settled.
    pub settled: Option<Settlement>,
}

/// `GET /v1/credits/deposits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deposits {
    /// The committed height this answer reflects.
    pub height: u64,
    /// Deposits, newest first.
    pub deposits: Vec<Deposit>,
}
