//! Transactions: what a signer asks the ledger to do, and the signature that authorises it.

use serde::{Deserialize, Serialize};

use crate::{
    AccountId, Amount, Hash, Netuid, Signature,
    codec::{CodecError, Decode, Encode, Reader, WriteExt},
    credits::{IssuerKeySpec, read_issuer_keys, read_tokens},
    keys::{KeyError, Keypair},
    subnet::{Endpoint, Hyperparams, MAX_OHTTP_KEYS, MAX_URL, Mechanism},
};

/// Domain separator for transaction signatures.
pub const TX_SIGNING_DOMAIN: &[u8] = b"plexus/tx/v1";
/// Largest encoded signed transaction accepted anywhere.
pub const MAX_TX_BYTES: usize = 64 * 1024;
/// Most `(uid, weight)` entries in one weights transaction.
pub const MAX_WEIGHT_ENTRIES: usize = 4096;
/// Longest subnet name, in bytes.
pub const MAX_SUBNET_NAME: usize = 64;
/// Most rows one data submission (or one published dataset) may declare.
pub const MAX_DATA_ROWS: u64 = 1 << 32;

/// A data task's id, handed out in order from 0.
pub type DataTaskId = u64;

/// What a transaction does. Tags are part of the signed encoding and never reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// Move funds from the signing coldkey to `to`.
    Transfer {
        /// The receiving account.
        to: AccountId,
        /// Base units to move.
        amount: Amount,
    },
    /// Create a subnet owned by the signer, paying the subnet lock cost.
    CreateSubnet {
        /// A human name, at most [`MAX_SUBNET_NAME`] bytes.
        name: String,
        /// What kind of work the subnet pays for.
        mechanism: Mechanism,
        /// Initial hyperparameters.
        hyperparams: Hyperparams,
    },
    /// Change a subnet's hyperparameters (owner coldkey only).
    SetHyperparams {
        /// The subnet.
        netuid: Netuid,
        /// The new hyperparameters.
        hyperparams: Hyperparams,
    },
    /// Register `hotkey` (owned by the signing coldkey) on a subnet at the current burn price.
    Register {
        /// The subnet.
        netuid: Netuid,
        /// The hotkey to register; bound to the signer on first use.
        hotkey: AccountId,
    },
    /// Publish the signing hotkey's endpoint on a subnet.
    Serve {
        /// The subnet.
        netuid: Netuid,
        /// Where and what the hotkey serves.
        endpoint: Endpoint,
    },
    /// Stake coldkey funds to a hotkey (own or delegated).
    AddStake {
        /// The hotkey staked to.
        hotkey: AccountId,
        /// Base units to stake.
        amount: Amount,
    },
    /// Withdraw stake from a hotkey back to the signing coldkey.
    RemoveStake {
        /// The hotkey staked to.
        hotkey: AccountId,
        /// Base units to unstake.
        amount: Amount,
    },
    /// Set the share of dividends a validator hotkey keeps before paying nominators.
    SetTake {
        /// The validator hotkey (owned by the signer).
        hotkey: AccountId,
        /// The take as a proportion of 65535.
        take: u16,
    },
    /// Commit to weights that will be revealed in the next epoch.
    CommitWeights {
        /// The subnet.
        netuid: Netuid,
        /// `weights_commit_hash(...)` of the weights to be revealed.
        commit: Hash,
    },
    /// Reveal weights committed in the previous epoch.
    RevealWeights {
        /// The subnet.
        netuid: Netuid,
        /// Target UIDs.
        uids: Vec<u16>,
        /// Weights, parallel to `uids`.
        weights: Vec<u16>,
        /// The salt mixed into the commit.
        salt: [u8; 32],
        /// The weights version key.
        version: u64,
    },
    /// Set weights directly, where the subnet has commit-reveal disabled.
    SetWeights {
        /// The subnet.
        netuid: Netuid,
        /// Target UIDs.
        uids: Vec<u16>,
        /// Weights, parallel to `uids`.
        weights: Vec<u16>,
        /// The weights version key.
        version: u64,
    },
    /// Post a data task on a data subnet, escrowing `bounty` from the signing coldkey.
    CreateDataTask {
        /// The data subnet whose validators score the contributions.
        netuid: Netuid,
        /// blake3 of the task's schema (SDV metadata JSON bytes).
        schema_hash: Hash,
        /// blake3 of the private reference data the validators score against.
        reference_commitment: Hash,
        /// Base units escrowed now and paid out through the subnet's next epoch once
        /// the dataset is published.
        bounty: Amount,
        /// Last block at which contributors may commit.
        commit_deadline: u64,
        /// Last block at which contributors may reveal (after the commit deadline).
        reveal_deadline: u64,
        /// Fewest rows a submission may reveal.
        min_rows: u64,
        /// Most rows a submission may reveal.
        max_rows: u64,
    },
    /// Commit to a data submission before the task's commit deadline (registered hotkey).
    CommitData {
        /// The task.
        task: DataTaskId,
        /// `data_commit_hash(...)` of the submission to reveal.
        commitment: Hash,
    },
    /// Reveal a committed submission after the commit deadline, up to the reveal deadline.
    RevealData {
        /// The task.
        task: DataTaskId,
        /// blake3 of the submission's canonical CSV bytes: its address in the dataset store.
        content_hash: Hash,
        /// The salt mixed into the commitment.
        salt: [u8; 32],
        /// Rows in the submission.
        rows: u64,
    },
    /// Publish the accepted dataset's Merkle root after the reveal deadline (a validator
    /// hotkey with a permit on the task's subnet); releases the escrowed bounty.
    PublishDataset {
        /// The task.
        task: DataTaskId,
        /// RFC 6962 blake3 Merkle root over the accepted rows' keys, in dataset order.
        merkle_root: Hash,
        /// Rows in the accepted dataset.
        rows: u64,
    },
    /// Publish credit issuer keys and the issuer's OHTTP endpoint (a hotkey with a
    /// validator permit on `netuid`). The url and OHTTP keys replace earlier ones; keys
    /// are added, and a (denomination, key epoch) once published never changes.
    RegisterIssuer {
        /// A subnet on which the signing hotkey holds a validator permit.
        netuid: Netuid,
        /// Base URL of the issuance gateway (reached through a relay).
        url: String,
        /// Encoded OHTTP key configurations of the issuance gateway.
        #[serde(with = "crate::hex_bytes")]
        ohttp_keys: Vec<u8>,
        /// Keys to add.
        keys: Vec<IssuerKeySpec>,
    },
    /// Buy a fixed-size bundle of credits from one issuer key: the bundle's price moves
    /// from the signing coldkey into that key's credit escrow, as a numbered deposit.
    BuyCredits {
        /// The issuer hotkey.
        issuer: AccountId,
        /// The key's denomination (credits per token).
        denomination: u32,
        /// The key's epoch.
        key_epoch: u32,
        /// Credits bought: one of [`crate::credits::CREDIT_BUNDLES`].
        credits: u32,
    },
    /// Claim payment for redeemed tokens (a provider hotkey registered on `netuid`):
    /// every token must verify under a registered issuer key, name the signer as its
    /// origin, and carry a nonce never settled before.
    SettleCredits {
        /// A subnet the signing hotkey is registered on.
        netuid: Netuid,
        /// Encoded type 0x0002 tokens.
        #[serde(with = "crate::hex_list")]
        tokens: Vec<Vec<u8>>,
    },
    /// Take back a credit deposit (its buyer coldkey only, once): in full when the
    /// deposit's issuer key was caught over-issuing, else once the key's settle window
    /// has closed, the deposit's share of what the key's escrow still holds.
    RefundCredits {
        /// The deposit id.
        deposit: u64,
    },
    /// Bond `amount` from the signer's balance to run a consensus validator with
    /// `consensus_key` (the signer is the validator's operator). The first bond names
    /// the key; later bonds must name the same one. The bonded set with the most stake
    /// is chosen at each consensus epoch boundary.
    Bond {
        /// The ed25519 key the validator votes with.
        consensus_key: AccountId,
        /// Base units moved from the balance into the bond.
        amount: Amount,
    },
    /// Start unbonding `amount` of the signer's validator bond: it stops counting at
    /// the next epoch boundary and returns to the balance after the unbonding delay,
    /// slashable until then.
    Unbond {
        /// Base units to unbond.
        amount: Amount,
    },
    /// Replace the signer's validator consensus key from the next consensus epoch.
    RotateConsensusKey {
        /// The new ed25519 key, used by no other validator.
        new_key: AccountId,
    },
    /// Report a validator that signed two different proposals in one round: its bond
    /// is slashed and it leaves the set at the next epoch boundary.
    ReportDoubleSign {
        /// The two conflicting votes.
        evidence: crate::finality::DoubleSign,
    },
}

impl Payload {
    /// A short, stable name for logs, metrics and the API.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Transfer { .. } => "transfer",
            Payload::CreateSubnet { .. } => "create_subnet",
            Payload::SetHyperparams { .. } => "set_hyperparams",
            Payload::Register { .. } => "register",
            Payload::Serve { .. } => "serve",
            Payload::AddStake { .. } => "add_stake",
            Payload::RemoveStake { .. } => "remove_stake",
            Payload::SetTake { .. } => "set_take",
            Payload::CommitWeights { .. } => "commit_weights",
            Payload::RevealWeights { .. } => "reveal_weights",
            Payload::SetWeights { .. } => "set_weights",
            Payload::CreateDataTask { .. } => "create_data_task",
            Payload::CommitData { .. } => "commit_data",
            Payload::RevealData { .. } => "reveal_data",
            Payload::PublishDataset { .. } => "publish_dataset",
            Payload::RegisterIssuer { .. } => "register_issuer",
            Payload::BuyCredits { .. } => "buy_credits",
            Payload::SettleCredits { .. } => "settle_credits",
            Payload::RefundCredits { .. } => "refund_credits",
            Payload::Bond { .. } => "bond",
            Payload::Unbond { .. } => "unbond",
            Payload::RotateConsensusKey { .. } => "rotate_consensus_key",
            Payload::ReportDoubleSign { .. } => "report_double_sign",
        }
    }

    fn tag(&self) -> u8 {
        match self {
            Payload::Transfer { .. } => 0,
            Payload::CreateSubnet { .. } => 1,
            Payload::SetHyperparams { .. } => 2,
            Payload::Register { .. } => 3,
            Payload::Serve { .. } => 4,
            Payload::AddStake { .. } => 5,
            Payload::RemoveStake { .. } => 6,
            Payload::SetTake { .. } => 7,
            Payload::CommitWeights { .. } => 8,
            Payload::RevealWeights { .. } => 9,
            Payload::SetWeights { .. } => 10,
            Payload::CreateDataTask { .. } => 11,
            Payload::CommitData { .. } => 12,
            Payload::RevealData { .. } => 13,
            Payload::PublishDataset { .. } => 14,
            Payload::RegisterIssuer { .. } => 15,
            Payload::BuyCredits { .. } => 16,
            Payload::SettleCredits { .. } => 17,
            Payload::RefundCredits { .. } => 18,
            Payload::Bond { .. } => 19,
            Payload::Unbond { .. } => 20,
            Payload::RotateConsensusKey { .. } => 21,
            Payload::ReportDoubleSign { .. } => 22,
        }
    }
}

fn put_weights(out: &mut Vec<u8>, uids: &[u16], weights: &[u16]) {
    out.put_len(uids.len());
    uids.iter().for_each(|u| out.put_u16(*u));
    out.put_len(weights.len());
    weights.iter().for_each(|w| out.put_u16(*w));
}

fn read_u16s(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u16>, CodecError> {
    r.list(MAX_WEIGHT_ENTRIES, field, |r| r.u16(field))
}

impl Encode for Payload {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.put_u8(self.tag());
        match self {
            Payload::Transfer { to, amount } => {
                to.encode_to(out);
                out.put_u64(*amount);
            }
            Payload::CreateSubnet {
                name,
                mechanism,
                hyperparams,
            } => {
                out.put_bytes(name.as_bytes());
                mechanism.encode_to(out);
                hyperparams.encode_to(out);
            }
            Payload::SetHyperparams {
                netuid,
                hyperparams,
            } => {
                out.put_u16(*netuid);
                hyperparams.encode_to(out);
            }
            Payload::Register { netuid, hotkey } => {
                out.put_u16(*netuid);
                hotkey.encode_to(out);
            }
            Payload::Serve { netuid, endpoint } => {
                out.put_u16(*netuid);
                endpoint.encode_to(out);
            }
            Payload::AddStake { hotkey, amount } | Payload::RemoveStake { hotkey, amount } => {
                hotkey.encode_to(out);
                out.put_u64(*amount);
            }
            Payload::SetTake { hotkey, take } => {
                hotkey.encode_to(out);
                out.put_u16(*take);
            }
            Payload::CommitWeights { netuid, commit } => {
                out.put_u16(*netuid);
                commit.encode_to(out);
            }
            Payload::RevealWeights {
                netuid,
                uids,
                weights,
                salt,
                version,
            } => {
                out.put_u16(*netuid);
                put_weights(out, uids, weights);
                out.extend_from_slice(salt);
                out.put_u64(*version);
            }
            Payload::SetWeights {
                netuid,
                uids,
                weights,
                version,
            } => {
                out.put_u16(*netuid);
                put_weights(out, uids, weights);
                out.put_u64(*version);
            }
            Payload::CreateDataTask {
                netuid,
                schema_hash,
                reference_commitment,
                bounty,
                commit_deadline,
                reveal_deadline,
                min_rows,
                max_rows,
            } => {
                out.put_u16(*netuid);
                schema_hash.encode_to(out);
                reference_commitment.encode_to(out);
                out.put_u64(*bounty);
                out.put_u64(*commit_deadline);
                out.put_u64(*reveal_deadline);
                out.put_u64(*min_rows);
                out.put_u64(*max_rows);
            }
            Payload::CommitData { task, commitment } => {
                out.put_u64(*task);
                commitment.encode_to(out);
            }
            Payload::RevealData {
                task,
                content_hash,
                salt,
                rows,
            } => {
                out.put_u64(*task);
                content_hash.encode_to(out);
                out.extend_from_slice(salt);
                out.put_u64(*rows);
            }
            Payload::PublishDataset {
                task,
                merkle_root,
                rows,
            } => {
                out.put_u64(*task);
                merkle_root.encode_to(out);
                out.put_u64(*rows);
            }
            Payload::RegisterIssuer {
                netuid,
                url,
                ohttp_keys,
                keys,
            } => {
                out.put_u16(*netuid);
                out.put_bytes(url.as_bytes());
                out.put_bytes(ohttp_keys);
                out.put_len(keys.len());
                keys.iter().for_each(|k| k.encode_to(out));
            }
            Payload::BuyCredits {
                issuer,
                denomination,
                key_epoch,
                credits,
            } => {
                issuer.encode_to(out);
                out.put_u32(*denomination);
                out.put_u32(*key_epoch);
                out.put_u32(*credits);
            }
            Payload::SettleCredits { netuid, tokens } => {
                out.put_u16(*netuid);
                out.put_len(tokens.len());
                tokens.iter().for_each(|t| out.put_bytes(t));
            }
            Payload::RefundCredits { deposit } => out.put_u64(*deposit),
            Payload::Bond {
                consensus_key,
                amount,
            } => {
                consensus_key.encode_to(out);
                out.put_u64(*amount);
            }
            Payload::Unbond { amount } => out.put_u64(*amount),
            Payload::RotateConsensusKey { new_key } => new_key.encode_to(out),
            Payload::ReportDoubleSign { evidence } => evidence.encode_to(out),
        }
    }
}

/// Read a row count, refusing anything above [`MAX_DATA_ROWS`].
fn read_rows(r: &mut Reader<'_>) -> Result<u64, CodecError> {
    let rows = r.u64("rows")?;
    if rows > MAX_DATA_ROWS {
        return Err(CodecError::Invalid {
            field: "rows",
            reason: "above MAX_DATA_ROWS",
        });
    }
    Ok(rows)
}

impl Decode for Payload {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let tag = r.u8("payload tag")?;
        Ok(match tag {
            0 => Payload::Transfer {
                to: AccountId::decode_from(r)?,
                amount: r.u64("amount")?,
            },
            1 => Payload::CreateSubnet {
                name: r.string(MAX_SUBNET_NAME, "subnet name")?,
                mechanism: Mechanism::decode_from(r)?,
                hyperparams: Hyperparams::decode_from(r)?,
            },
            2 => Payload::SetHyperparams {
                netuid: r.u16("netuid")?,
                hyperparams: Hyperparams::decode_from(r)?,
            },
            3 => Payload::Register {
                netuid: r.u16("netuid")?,
                hotkey: AccountId::decode_from(r)?,
            },
            4 => Payload::Serve {
                netuid: r.u16("netuid")?,
                endpoint: Endpoint::decode_from(r)?,
            },
            5 => Payload::AddStake {
                hotkey: AccountId::decode_from(r)?,
                amount: r.u64("amount")?,
            },
            6 => Payload::RemoveStake {
                hotkey: AccountId::decode_from(r)?,
                amount: r.u64("amount")?,
            },
            7 => Payload::SetTake {
                hotkey: AccountId::decode_from(r)?,
                take: r.u16("take")?,
            },
            8 => Payload::CommitWeights {
                netuid: r.u16("netuid")?,
                commit: Hash::decode_from(r)?,
            },
            9 => Payload::RevealWeights {
                netuid: r.u16("netuid")?,
                uids: read_u16s(r, "uids")?,
                weights: read_u16s(r, "weights")?,
                salt: r.array("salt")?,
                version: r.u64("version")?,
            },
            10 => Payload::SetWeights {
                netuid: r.u16("netuid")?,
                uids: read_u16s(r, "uids")?,
                weights: read_u16s(r, "weights")?,
                version: r.u64("version")?,
            },
            11 => Payload::CreateDataTask {
                netuid: r.u16("netuid")?,
                schema_hash: Hash::decode_from(r)?,
                reference_commitment: Hash::decode_from(r)?,
                bounty: r.u64("bounty")?,
                commit_deadline: r.u64("commit deadline")?,
                reveal_deadline: r.u64("reveal deadline")?,
                min_rows: read_rows(r)?,
                max_rows: read_rows(r)?,
            },
            12 => Payload::CommitData {
                task: r.u64("task")?,
                commitment: Hash::decode_from(r)?,
            },
            13 => Payload::RevealData {
                task: r.u64("task")?,
                content_hash: Hash::decode_from(r)?,
                salt: r.array("salt")?,
                rows: read_rows(r)?,
            },
            14 => Payload::PublishDataset {
                task: r.u64("task")?,
                merkle_root: Hash::decode_from(r)?,
                rows: read_rows(r)?,
            },
            15 => Payload::RegisterIssuer {
                netuid: r.u16("netuid")?,
                url: r.string(MAX_URL, "url")?,
                ohttp_keys: r.bytes(MAX_OHTTP_KEYS, "ohttp_keys")?,
                keys: read_issuer_keys(r)?,
            },
            16 => Payload::BuyCredits {
                issuer: AccountId::decode_from(r)?,
                denomination: r.u32("denomination")?,
                key_epoch: r.u32("key epoch")?,
                credits: r.u32("credits")?,
            },
            17 => Payload::SettleCredits {
                netuid: r.u16("netuid")?,
                tokens: read_tokens(r)?,
            },
            18 => Payload::RefundCredits {
                deposit: r.u64("deposit")?,
            },
            19 => Payload::Bond {
                consensus_key: AccountId::decode_from(r)?,
                amount: r.u64("amount")?,
            },
            20 => Payload::Unbond {
                amount: r.u64("amount")?,
            },
            21 => Payload::RotateConsensusKey {
                new_key: AccountId::decode_from(r)?,
            },
            22 => Payload::ReportDoubleSign {
                evidence: crate::finality::DoubleSign::decode_from(r)?,
            },
            tag => {
                return Err(CodecError::UnknownTag {
                    field: "payload",
                    tag,
                });
            }
        })
    }
}

/// The hash a hotkey commits to before revealing weights:
/// `blake3("plexus/weights/v1" ‖ hotkey ‖ netuid ‖ uids ‖ weights ‖ salt ‖ version)`.
pub fn weights_commit_hash(
    hotkey: &AccountId,
    netuid: Netuid,
    uids: &[u16],
    weights: &[u16],
    salt: &[u8; 32],
    version: u64,
) -> Hash {
    let mut buf = b"plexus/weights/v1".to_vec();
    hotkey.encode_to(&mut buf);
    buf.put_u16(netuid);
    put_weights(&mut buf, uids, weights);
    buf.extend_from_slice(salt);
    buf.put_u64(version);
    Hash(*blake3::hash(&buf).as_bytes())
}

/// The hash a contributor commits to before revealing a data submission:
/// `blake3("plexus/data/v1" ‖ task ‖ contributor ‖ salt ‖ content_hash)`. Binding the
/// task and the contributor's hotkey means a copied commitment cannot be revealed by
/// anyone else.
pub fn data_commit_hash(
    task: DataTaskId,
    contributor: &AccountId,
    salt: &[u8; 32],
    content_hash: &Hash,
) -> Hash {
    let mut buf = b"plexus/data/v1".to_vec();
    buf.put_u64(task);
    contributor.encode_to(&mut buf);
    buf.extend_from_slice(salt);
    content_hash.encode_to(&mut buf);
    Hash(*blake3::hash(&buf).as_bytes())
}

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The chain this transaction is valid on (replay protection across chains).
    pub chain_id: u64,
    /// The signing account.
    pub sender: AccountId,
    /// The sender's next nonce; strictly sequential.
    pub nonce: u64,
    /// Fee in base units, burned.
    pub fee: Amount,
    /// What to do.
    pub payload: Payload,
}

impl Encode for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.put_u64(self.chain_id);
        self.sender.encode_to(out);
        out.put_u64(self.nonce);
        out.put_u64(self.fee);
        self.payload.encode_to(out);
    }
}

impl Decode for Transaction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            chain_id: r.u64("chain id")?,
            sender: AccountId::decode_from(r)?,
            nonce: r.u64("nonce")?,
            fee: r.u64("fee")?,
            payload: Payload::decode_from(r)?,
        })
    }
}

impl Transaction {
    /// The bytes the sender signs: a domain separator, then the canonical encoding.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = TX_SIGNING_DOMAIN.to_vec();
        self.encode_to(&mut out);
        out
    }

    /// Sign with `key`, which must control `self.sender`.
    pub fn sign(self, key: &Keypair) -> SignedTransaction {
        let signature = key.sign(&self.signing_bytes());
        SignedTransaction {
            tx: self,
            signature,
        }
    }
}

/// A transaction with its sender's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// ed25519 signature by `tx.sender` over [`Transaction::signing_bytes`].
    pub signature: Signature,
}

impl SignedTransaction {
    /// Check the signature (strict ed25519).
    pub fn verify(&self) -> Result<(), KeyError> {
        self.tx
            .sender
            .verify(&self.tx.signing_bytes(), &self.signature)
    }

    /// The transaction id: blake3 over the signed encoding.
    pub fn hash(&self) -> Hash {
        Hash(*blake3::hash(&self.encode()).as_bytes())
    }

    /// Decode untrusted bytes, refusing anything above [`MAX_TX_BYTES`].
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(CodecError::TooLong {
                field: "transaction",
                len: bytes.len(),
                max: MAX_TX_BYTES,
            });
        }
        Self::decode(bytes)
    }
}

impl Encode for SignedTransaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.tx.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedTransaction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            tx: Transaction::decode_from(r)?,
            signature: Signature::decode_from(r)?,
        })
    }
}
