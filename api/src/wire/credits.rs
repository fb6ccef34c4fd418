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
    /// Distinct coldkeys that bought on this key: how many users share it. A client
    /// refuses a key with fewer buyers than it asks for (a key made for one victim).
    #[serde(default)]
    pub buyers: u64,
    /// Blocks since the key was published (at the answer's height). A client refuses a
    /// key younger than it asks for.
    #[serde(default)]
    pub age_blocks: u64,
    /// Whether the key sells credits now: its key epoch is the chain's current one and
    /// it was not caught over-issuing.
    #[serde(default)]
    pub on_sale: bool,
    /// First block of its key epoch.
    #[serde(default)]
    pub on_sale_from: u64,
    /// First block after its key epoch.
    #[serde(default)]
    pub on_sale_until: u64,
    /// First block at which its tokens no longer settle and its buyers may take back
    /// what is left of their deposits.
    #[serde(default)]
    pub closes_at: u64,
    /// Whether more tokens were settled than were bought on it: its buyers may take
    /// their deposits back in full, and its tokens are worth nothing.
    #[serde(default)]
    pub over_issued: bool,
    /// Tokens recorded but paid nothing (over-issued, or after the key closed).
    #[serde(default)]
    pub unpaid_tokens: u64,
    /// Σ base units refunded to buyers.
    #[serde(default)]
    pub refunded: Amount,
}

impl IssuerKeyInfo {
    /// The key as seen at `height` under `params`.
    pub fn at(
        k: plexus_ledger::credits::IssuerKey,
        params: &plexus_ledger::ChainParams,
        height: u64,
    ) -> Self {
        Self {
            key_id: k.key_id,
            denomination: k.denomination,
            key_epoch: k.key_epoch,
            escrow: k.escrow(),
            registered_at: k.registered_at,
            deposited: k.deposited,
            settled: k.settled,
            slashed: k.slashed,
            tokens_settled: k.tokens_settled,
            buyers: k.buyers,
            age_blocks: height.saturating_sub(k.registered_at),
            on_sale: k.on_sale(params, height),
            on_sale_from: k.on_sale_from(params),
            on_sale_until: k.on_sale_until(params),
            closes_at: k.closes_at(params),
            over_issued: k.over_issued,
            unpaid_tokens: k.unpaid_tokens,
            refunded: k.refunded,
            spki: k.spki,
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
    /// Its open keys, in registration order.
    pub keys: Vec<IssuerKeyInfo>,
    /// Its owner's self-stake on the issuer hotkey: the bond.
    #[serde(default)]
    pub self_stake: Amount,
    /// How much of it stays locked while its keys can be settled: the larger of the
    /// chain's least issuer bond and every base unit deposited into its open keys.
    #[serde(default)]
    pub bond_required: Amount,
    /// Whether it was caught over-issuing: it sells no more credits.
    #[serde(default)]
    pub retired: bool,
}

impl IssuerInfo {
    /// The issuer as seen at `height` under `params`, whose bond must cover
    /// `bond_required`.
    pub fn at(
        v: plexus_ledger::query::IssuerView,
        params: &plexus_ledger::ChainParams,
        height: u64,
        bond_required: Amount,
    ) -> Self {
        Self {
            hotkey: v.issuer.hotkey,
            netuid: v.issuer.netuid,
            url: v.issuer.url,
            ohttp_keys: v.issuer.ohttp_keys,
            updated_at: v.issuer.updated_at,
            keys: v
                .keys
                .into_iter()
                .map(|k| IssuerKeyInfo::at(k, params, height))
                .collect(),
            self_stake: v.self_stake,
            bond_required,
            retired: v.issuer.retired,
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
    /// Base units its buyer took back with `RefundCredits`, if it did.
    #[serde(default)]
    pub refunded: Option<Amount>,
}

impl Deposit {
    /// The deposit with what was refunded of it.
    pub fn with_refund(mut self, refunded: Option<Amount>) -> Self {
        self.refunded = refunded;
        self
    }
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
            refunded: None,
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
