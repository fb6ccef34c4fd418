//! Data tasks: a requester escrows a bounty for synthetic data on a data subnet,
//! contributors commit and then reveal content-addressed submissions, and a
//! validator publishes the accepted dataset's Merkle root (see `DATA.md`).
//!
//! Deadlines are block heights:
//! - `CommitData` lands at a height `<= commit_deadline`, from a hotkey registered
//!   on the task's subnet; a later commit by the same hotkey replaces the earlier one.
//! - `RevealData` lands at `commit_deadline < height <= reveal_deadline` and must open
//!   the hotkey's commit: `data_commit_hash(task, hotkey, salt, content_hash)`.
//! - `PublishDataset` lands at a height `> reveal_deadline`, from a hotkey with a
//!   validator permit on the subnet, once per task.
//!
//! The bounty leaves the creator's balance into the escrow (tracked under
//! [`keys::escrow_key`], counted by the supply invariant). Publication releases it:
//! into the subnet's pending emission, so the next epoch pays it through Yuma like
//! block emission (owner cut, miners by the validators' weights, validators), or back
//! to the creator when nobody revealed. Nothing is minted or burned.

pub mod keys;

use plexus_types::{
    AccountId, Amount, CodecError, Decode, Encode, Hash, Mechanism, Netuid,
    codec::{Reader, WriteExt},
    tx::{DataTaskId, data_commit_hash},
};
use serde::{Deserialize, Serialize};

use crate::{
    TxError, accounts,
    context::TxContext,
    events::Event,
    neurons,
    state::{self, MAX_STORED_LIST, StateError, Value},
    store::{Overlay, StateReader},
    subnets,
};

/// The published accepted dataset of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    /// RFC 6962 blake3 Merkle root over the accepted rows' keys.
    pub merkle_root: Hash,
    /// Rows in the dataset.
    pub rows: u64,
    /// The validator hotkey that published it.
    pub validator: AccountId,
    /// Block of publication.
    pub block: u64,
}

/// A data task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataTask {
    /// Its id.
    pub id: DataTaskId,
    /// The data subnet.
    pub netuid: Netuid,
    /// The coldkey that posted it and paid the bounty.
    pub creator: AccountId,
    /// blake3 of the schema (SDV metadata JSON bytes).
    pub schema_hash: Hash,
    /// blake3 of the reference data.
    pub reference_commitment: Hash,
    /// The bounty posted.
    pub bounty: Amount,
    /// Still in escrow (the bounty until publication, then 0).
    pub escrow: Amount,
    /// Last block for commits.
    pub commit_deadline: u64,
    /// Last block for reveals.
    pub reveal_deadline: u64,
    /// Fewest rows per submission.
    pub min_rows: u64,
    /// Most rows per submission.
    pub max_rows: u64,
    /// Block of creation.
    pub created_at: u64,
    /// Contributors that committed.
    pub commits: u32,
    /// Contributors that revealed.
    pub reveals: u32,
    /// Σ rows revealed.
    pub revealed_rows: u64,
    /// The published dataset, once there is one.
    pub published: Option<Publication>,
}

impl Value for DataTask {
    fn put(&self, out: &mut Vec<u8>) {
        out.put_u64(self.id);
        out.put_u16(self.netuid);
        self.creator.encode_to(out);
        self.schema_hash.encode_to(out);
        self.reference_commitment.encode_to(out);
        out.put_u64(self.bounty);
        out.put_u64(self.escrow);
        out.put_u64(self.commit_deadline);
        out.put_u64(self.reveal_deadline);
        out.put_u64(self.min_rows);
        out.put_u64(self.max_rows);
        out.put_u64(self.created_at);
        out.put_u32(self.commits);
        out.put_u32(self.reveals);
        out.put_u64(self.revealed_rows);
        match &self.published {
            None => out.put_bool(false),
            Some(p) => {
                out.put_bool(true);
                p.merkle_root.encode_to(out);
                out.put_u64(p.rows);
                p.validator.encode_to(out);
                out.put_u64(p.block);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            id: r.u64("task id")?,
            netuid: r.u16("netuid")?,
            creator: AccountId::decode_from(r)?,
            schema_hash: Hash::decode_from(r)?,
            reference_commitment: Hash::decode_from(r)?,
            bounty: r.u64("bounty")?,
            escrow: r.u64("escrow")?,
            commit_deadline: r.u64("commit deadline")?,
            reveal_deadline: r.u64("reveal deadline")?,
            min_rows: r.u64("min rows")?,
            max_rows: r.u64("max rows")?,
            created_at: r.u64("created at")?,
            commits: r.u32("commits")?,
            reveals: r.u32("reveals")?,
            revealed_rows: r.u64("revealed rows")?,
            published: r.option("publication", |r| {
                Ok(Publication {
                    merkle_root: Hash::decode_from(r)?,
                    rows: r.u64("published rows")?,
                    validator: AccountId::decode_from(r)?,
                    block: r.u64("published block")?,
                })
            })?,
        })
    }
}

/// A revealed submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reveal {
    /// blake3 of the submission's canonical CSV: its address in the dataset store.
    pub content_hash: Hash,
    /// The salt of the commitment.
    pub salt: [u8; 32],
    /// Rows declared.
    pub rows: u64,
    /// Block of the reveal.
    pub block: u64,
}

/// One contributor's commitment and, after the commit deadline, its reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// The contributor's hotkey.
    pub hotkey: AccountId,
    /// `data_commit_hash` of the submission.
    pub commitment: Hash,
    /// Block of the (latest) commit.
    pub committed_at: u64,
    /// The reveal, once made.
    pub reveal: Option<Reveal>,
}

impl Value for Contribution {
    fn put(&self, out: &mut Vec<u8>) {
        self.hotkey.encode_to(out);
        self.commitment.encode_to(out);
        out.put_u64(self.committed_at);
        match &self.reveal {
            None => out.put_bool(false),
            Some(r) => {
                out.put_bool(true);
                r.content_hash.encode_to(out);
                out.extend_from_slice(&r.salt);
                out.put_u64(r.rows);
                out.put_u64(r.block);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            hotkey: AccountId::decode_from(r)?,
            commitment: Hash::decode_from(r)?,
            committed_at: r.u64("committed at")?,
            reveal: r.option("reveal", |r| {
                Ok(Reveal {
                    content_hash: Hash::decode_from(r)?,
                    salt: r.array("salt")?,
                    rows: r.u64("rows")?,
                    block: r.u64("reveal block")?,
                })
            })?,
        })
    }
}

/// The number of data tasks ever created (ids run from 0 to this, exclusive).
pub fn task_count(state: &impl StateReader) -> Result<u64, StateError> {
    state::get_or_default(state, &keys::next_task_key())
}

/// Base units held in escrow by every task together.
pub fn escrow_total(state: &impl StateReader) -> Result<Amount, StateError> {
    state::get_or_default(state, &keys::escrow_key())
}

/// A data task.
pub fn task(state: &impl StateReader, id: DataTaskId) -> Result<Option<DataTask>, StateError> {
    state::get(state, &keys::task_key(id))
}

/// A task's contributions, in the order of their first commit.
pub fn contributions(
    state: &impl StateReader,
    id: DataTaskId,
) -> Result<Vec<Contribution>, StateError> {
    let hotkeys: Vec<AccountId> = state::get_or_default(state, &keys::contributors_key(id))?;
    let mut out = Vec::with_capacity(hotkeys.len().min(MAX_STORED_LIST));
    for hotkey in hotkeys {
        if let Some(c) = contribution(state, id, &hotkey)? {
            out.push(c);
        }
    }
    Ok(out)
}

/// One contributor's contribution to a task.
pub fn contribution(
    state: &impl StateReader,
    id: DataTaskId,
    hotkey: &AccountId,
) -> Result<Option<Contribution>, StateError> {
    state::get(state, &keys::contribution_key(id, hotkey))
}

fn require_task(state: &impl StateReader, id: DataTaskId) -> Result<DataTask, TxError> {
    task(state, id)?.ok_or(TxError::UnknownDataTask { task: id })
}

/// The subnet of a task, for the mempool's fee-free check.
pub(crate) fn task_netuid(state: &impl StateReader, id: DataTaskId) -> Result<Netuid, TxError> {
    Ok(require_task(state, id)?.netuid)
}

/// Stateless checks of `CreateDataTask`.
pub(crate) fn check_create(
    bounty: Amount,
    commit_deadline: u64,
    reveal_deadline: u64,
    min_rows: u64,
    max_rows: u64,
) -> Result<(), TxError> {
    if bounty == 0 {
        return Err(TxError::ZeroAmount("bounty"));
    }
    if reveal_deadline <= commit_deadline {
        return Err(TxError::InvalidDataTask(
            "the reveal deadline must come after the commit deadline",
        ));
    }
    if min_rows == 0 {
        return Err(TxError::InvalidDataTask("min_rows must be at least 1"));
    }
    if max_rows < min_rows {
        return Err(TxError::InvalidDataTask(
            "max_rows must be at least min_rows",
        ));
    }
    Ok(())
}

fn add_escrow<R: StateReader>(ov: &mut Overlay<R>, amount: Amount) -> Result<(), TxError> {
    let total = escrow_total(ov)?
        .checked_add(amount)
        .ok_or(TxError::Overflow("escrow"))?;
    state::put_or_delete(ov, keys::escrow_key(), &total);
    Ok(())
}

fn release_escrow<R: StateReader>(ov: &mut Overlay<R>, amount: Amount) -> Result<(), TxError> {
    let total = escrow_total(ov)?
        .checked_sub(amount)
        .ok_or(TxError::Overflow("escrow release"))?;
    state::put_or_delete(ov, keys::escrow_key(), &total);
    Ok(())
}

/// CreateDataTask: escrow the bounty and record the task (phase 2 checked the funds).
pub(crate) fn create<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    netuid: Netuid,
    schema_hash: Hash,
    reference_commitment: Hash,
    bounty: Amount,
    (commit_deadline, reveal_deadline): (u64, u64),
    (min_rows, max_rows): (u64, u64),
) -> Result<DataTaskId, TxError> {
    let (ov, creator, height) = (&mut cx.state, &cx.sender, cx.height);
    let info = subnets::info(ov, netuid)?.ok_or(TxError::UnknownSubnet { netuid })?;
    if info.mechanism != Mechanism::Data {
        return Err(TxError::NotADataSubnet {
            netuid,
            mechanism: info.mechanism,
        });
    }
    if commit_deadline < height {
        return Err(TxError::DeadlinePassed {
            deadline: commit_deadline,
            height,
        });
    }
    let id = task_count(ov)?;
    let next = id.checked_add(1).ok_or(TxError::Overflow("task id"))?;
    accounts::debit(ov, creator, bounty, "bounty + fee")?;
    add_escrow(ov, bounty)?;
    let task = DataTask {
        id,
        netuid,
        creator: *creator,
        schema_hash,
        reference_commitment,
        bounty,
        escrow: bounty,
        commit_deadline,
        reveal_deadline,
        min_rows,
        max_rows,
        created_at: height,
        commits: 0,
        reveals: 0,
        revealed_rows: 0,
        published: None,
    };
    state::put(ov, keys::task_key(id), &task);
    state::put(ov, keys::next_task_key(), &next);
    cx.events.push(Event::DataTaskCreated {
        task: id,
        netuid,
        creator: *creator,
        bounty,
    });
    Ok(id)
}

/// CommitData: record (or replace) the hotkey's commitment before the commit deadline.
pub(crate) fn commit<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    id: DataTaskId,
    commitment: Hash,
) -> Result<(), TxError> {
    let (ov, hotkey, height) = (&mut cx.state, &cx.sender, cx.height);
    let mut task = require_task(ov, id)?;
    if height > task.commit_deadline {
        return Err(TxError::CommitClosed {
            task: id,
            deadline: task.commit_deadline,
        });
    }
    neurons::require_registered(ov, task.netuid, hotkey)?;
    if contribution(ov, id, hotkey)?.is_none() {
        let mut list: Vec<AccountId> = state::get_or_default(ov, &keys::contributors_key(id))?;
        if list.len() >= MAX_STORED_LIST {
            return Err(TxError::Overflow("contributors"));
        }
        list.push(*hotkey);
        state::put(ov, keys::contributors_key(id), &list);
        task.commits = task
            .commits
            .checked_add(1)
            .ok_or(TxError::Overflow("commits"))?;
        state::put(ov, keys::task_key(id), &task);
    }
    let c = Contribution {
        hotkey: *hotkey,
        commitment,
        committed_at: height,
        reveal: None,
    };
    state::put(ov, keys::contribution_key(id, hotkey), &c);
    cx.events.push(Event::DataCommitted {
        task: id,
        hotkey: *hotkey,
        commitment,
    });
    Ok(())
}

/// RevealData: open the hotkey's commitment inside the reveal window.
pub(crate) fn reveal<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    id: DataTaskId,
    content_hash: Hash,
    salt: &[u8; 32],
    rows: u64,
) -> Result<(), TxError> {
    let (ov, hotkey, height) = (&mut cx.state, &cx.sender, cx.height);
    let mut task = require_task(ov, id)?;
    if height <= task.commit_deadline {
        return Err(TxError::RevealNotOpen {
            task: id,
            opens_at: task.commit_deadline.saturating_add(1),
        });
    }
    if height > task.reveal_deadline {
        return Err(TxError::RevealClosed {
            task: id,
            deadline: task.reveal_deadline,
        });
    }
    neurons::require_registered(ov, task.netuid, hotkey)?;
    let mut c = contribution(ov, id, hotkey)?.ok_or(TxError::NoDataCommit { task: id })?;
    if c.reveal.is_some() {
        return Err(TxError::AlreadyRevealed { task: id });
    }
    if data_commit_hash(id, hotkey, salt, &content_hash) != c.commitment {
        return Err(TxError::DataCommitMismatch);
    }
    if rows < task.min_rows || rows > task.max_rows {
        return Err(TxError::RowsOutOfBounds {
            rows,
            min: task.min_rows,
            max: task.max_rows,
        });
    }
    c.reveal = Some(Reveal {
        content_hash,
        salt: *salt,
        rows,
        block: height,
    });
    state::put(ov, keys::contribution_key(id, hotkey), &c);
    task.reveals = task
        .reveals
        .checked_add(1)
        .ok_or(TxError::Overflow("reveals"))?;
    task.revealed_rows = task
        .revealed_rows
        .checked_add(rows)
        .ok_or(TxError::Overflow("revealed rows"))?;
    state::put(ov, keys::task_key(id), &task);
    cx.events.push(Event::DataRevealed {
        task: id,
        hotkey: *hotkey,
        content_hash,
        rows,
    });
    Ok(())
}

/// PublishDataset: record the accepted dataset's root and release the escrow.
pub(crate) fn publish<R: StateReader>(
    cx: &mut TxContext<'_, R>,
    id: DataTaskId,
    merkle_root: Hash,
    rows: u64,
) -> Result<(), TxError> {
    let (ov, hotkey, height) = (&mut cx.state, &cx.sender, cx.height);
    let mut task = require_task(ov, id)?;
    if height <= task.reveal_deadline {
        return Err(TxError::PublishTooEarly {
            task: id,
            opens_at: task.reveal_deadline.saturating_add(1),
        });
    }
    if task.published.is_some() {
        return Err(TxError::AlreadyPublished { task: id });
    }
    let netuid = task.netuid;
    let (uid, _) = neurons::require_registered(ov, netuid, hotkey)?;
    if !neurons::scores(ov, netuid, uid)?.permit {
        return Err(TxError::NoValidatorPermit { netuid });
    }
    if rows > task.revealed_rows {
        return Err(TxError::RowsOutOfBounds {
            rows,
            min: 0,
            max: task.revealed_rows,
        });
    }
    let released = task.escrow;
    release_escrow(ov, released)?;
    let refunded = task.reveals == 0;
    if refunded {
        accounts::credit(ov, &task.creator, released)?;
    } else {
        let (_, mut st) = subnets::require(ov, netuid)?;
        st.pending_emission = st
            .pending_emission
            .checked_add(released)
            .ok_or(TxError::Overflow("pending emission"))?;
        subnets::put_subnet_state(ov, netuid, &st);
    }
    task.escrow = 0;
    task.published = Some(Publication {
        merkle_root,
        rows,
        validator: *hotkey,
        block: height,
    });
    state::put(ov, keys::task_key(id), &task);
    cx.events.push(Event::DatasetPublished {
        task: id,
        merkle_root,
        rows,
        released,
        refunded,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_and_a_contribution_round_trip() {
        let task = DataTask {
            id: 3,
            netuid: 1,
            creator: AccountId([1; 32]),
            schema_hash: Hash([2; 32]),
            reference_commitment: Hash([3; 32]),
            bounty: 10,
            escrow: 10,
            commit_deadline: 5,
            reveal_deadline: 9,
            min_rows: 1,
            max_rows: 100,
            created_at: 2,
            commits: 1,
            reveals: 1,
            revealed_rows: 50,
            published: Some(Publication {
                merkle_root: Hash([4; 32]),
                rows: 50,
                validator: AccountId([5; 32]),
                block: 10,
            }),
        };
        assert_eq!(DataTask::from_bytes(&task.to_bytes()).unwrap(), task);
        let c = Contribution {
            hotkey: AccountId([6; 32]),
            commitment: Hash([7; 32]),
            committed_at: 4,
            reveal: Some(Reveal {
                content_hash: Hash([8; 32]),
                salt: [9; 32],
                rows: 50,
                block: 7,
            }),
        };
        assert_eq!(Contribution::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn stateless_checks_reject_inverted_deadlines_and_empty_bounds() {
        assert!(matches!(
            check_create(0, 1, 2, 1, 1),
            Err(TxError::ZeroAmount("bounty"))
        ));
        assert!(matches!(
            check_create(1, 2, 2, 1, 1),
            Err(TxError::InvalidDataTask(_))
        ));
        assert!(matches!(
            check_create(1, 1, 2, 0, 1),
            Err(TxError::InvalidDataTask(_))
        ));
        assert!(matches!(
            check_create(1, 1, 2, 5, 4),
            Err(TxError::InvalidDataTask(_))
        ));
        assert!(check_create(1, 1, 2, 1, 1).is_ok());
    }
}
