//! `plexus node --state-sync URL|FILE`: start a new node from the state at a recent
//! height instead of replaying every block; `plexus node snapshot`: write that state
//! to a file (a backup that restores the same way).
//!
//! The node API at URL (or the file) is trusted for nothing but availability: the
//! finalization marshal will start from must carry a quorum of the signatures of its
//! epoch's validators (followed from the genesis set through certified hand-overs)
//! over the block's header, the block's transactions must
//! hash to its `tx_root`, and every chunk of the state tree is checked against the
//! header's state root before it is written (`plexus_storage::Restore`). The state is
//! rebuilt in a file of its own and moved into place only once its root matched; the
//! floor is written first, so a crash at any point leaves either no state (the next
//! start syncs again) or a whole one.

use std::{
    io::{BufRead as _, Write as _},
    path::Path,
    time::Instant,
};

use anyhow::{Context as _, bail};
use plexus_client::Client;
use plexus_ledger::Genesis;
use plexus_node::{FLOOR_FILE, STATE_FILE};
use plexus_storage::{StateChunk, Store};
use plexus_types::{Block, BlockHeader, SignedTransaction, block::tx_root};
use serde::{Deserialize, Serialize};

/// Leaves fetched per request.
const CHUNK: usize = 4_096;
/// The one snapshot format written so far.
const SNAPSHOT_FORMAT: u32 = 1;

/// What a sync or a snapshot did.
pub(crate) struct Synced {
    pub(crate) height: u64,
    pub(crate) entries: u64,
    pub(crate) chunks: u64,
    pub(crate) seconds: f64,
}

/// The first line of a snapshot file: the block the state was taken at and the
/// finalization that certifies it; every later line is one state chunk
/// (`GET /v1/state/chunks`'s JSON).
#[derive(Serialize, Deserialize)]
struct SnapshotHead {
    format: u32,
    header: BlockHeader,
    txs: Vec<SignedTransaction>,
    /// The finalization in commonware's encoding, hex.
    floor: String,
}

/// Where a state comes from: a node's API, or a snapshot file. Neither is trusted:
/// what either serves is checked the same way.
enum Source {
    Api(Client),
    File(std::io::Lines<std::io::BufReader<std::fs::File>>),
}

impl Source {
    fn open(from: &str) -> anyhow::Result<Self> {
        if from.starts_with("http://") || from.starts_with("https://") {
            return Ok(Self::Api(Client::new(from)?));
        }
        let path = from.strip_prefix("file://").unwrap_or(from);
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open the snapshot {path}"))?;
        Ok(Self::File(std::io::BufReader::new(file).lines()))
    }

    /// The block at the source's tip and its finalization, unchecked.
    async fn tip(&mut self) -> anyhow::Result<(Block, Vec<u8>)> {
        match self {
            Self::Api(client) => {
                let height = client.status().await?.node.finalized_height;
                if height == 0 {
                    bail!("the node has finalized nothing yet: nothing to sync");
                }
                let view = client.block(height).await?;
                let header =
                    BlockHeader::try_from(&view.header).map_err(|e| anyhow::anyhow!("{e}"))?;
                let raw = client.finalization_raw(height).await?;
                let floor = hex::decode(&raw.raw).context("the finalization is not hex")?;
                let txs = view.bodies;
                Ok((Block { header, txs }, floor))
            }
            Self::File(lines) => {
                let line = lines.next().context("the snapshot is empty")??;
                let head: SnapshotHead =
                    serde_json::from_str(&line).context("the snapshot's first line")?;
                if head.format != SNAPSHOT_FORMAT {
                    bail!("snapshot format {} is not {SNAPSHOT_FORMAT}", head.format);
                }
                let floor = hex::decode(&head.floor).context("the finalization is not hex")?;
                let (header, txs) = (head.header, head.txs);
                Ok((Block { header, txs }, floor))
            }
        }
    }

    /// The next chunk after `after`, unchecked.
    async fn chunk(
        &mut self,
        height: u64,
        after: Option<[u8; 32]>,
    ) -> anyhow::Result<plexus_client::wire::StateChunk> {
        Ok(match self {
            Self::Api(client) => client.state_chunk(height, after, CHUNK).await?,
            Self::File(lines) => {
                let line = lines
                    .next()
                    .context("the snapshot ends before its last chunk")??;
                serde_json::from_str(&line).context("a snapshot chunk")?
            }
        })
    }
}

/// A served chunk in the store's form.
fn decode(served: &plexus_client::wire::StateChunk) -> anyhow::Result<StateChunk> {
    Ok(StateChunk {
        height: served.height,
        root: served.root,
        entries: served
            .entries
            .iter()
            .map(|[k, v]| Ok((hex::decode(k)?, hex::decode(v)?)))
            .collect::<Result<_, hex::FromHexError>>()
            .context("a state chunk is not hex")?,
        proof: hex::decode(&served.proof).context("a range proof is not hex")?,
        done: served.done,
    })
}

/// The tip of `source`, checked: its finalization carries a quorum of the signatures
/// of its epoch's validators over the block's header (the set followed from the
/// genesis through certified hand-overs, `Client::validator_set`), and its
/// transactions hash to the header's `tx_root`.
async fn certified_tip(source: &mut Source, genesis: &Genesis) -> anyhow::Result<(Block, Vec<u8>)> {
    let (block, floor) = source.tip().await?;
    let height = block.header.height;
    let epoch = height
        .checked_div(genesis.params.consensus.epoch_length)
        .unwrap_or(0);
    let set = match source {
        Source::Api(client) => client
            .validator_set(
                &plexus_client::trust::TrustAnchor::from_genesis(genesis),
                epoch,
            )
            .await
            .with_context(|| format!("following the validator set to epoch {epoch}"))?,
        Source::File(_) if epoch == 0 || genesis.params.consensus.epoch_length == 0 => {
            genesis.validators.iter().map(|v| v.public_key).collect()
        }
        Source::File(_) => bail!(
            "the snapshot was taken in consensus epoch {epoch}, and a snapshot file carries no hand-over proofs of the validator sets since the genesis: sync from a node's API instead"
        ),
    };
    plexus_node::engine::check_floor(
        &floor,
        genesis.chain_id,
        |e| (e == epoch).then(|| set.clone()),
        Some(&block.header.digest()),
    )
    .with_context(|| format!("the block at {height} is not certified"))?;
    if tx_root(&block.txs) != block.header.tx_root {
        bail!("the transactions served for block {height} are not the certified ones");
    }
    Ok((block, floor))
}

/// Feed every chunk of `source` at `block`'s height to a restore into `store`, and
/// finish it; `each` sees every chunk once it checked out.
async fn restore(
    source: &mut Source,
    store: &Store,
    genesis: &Genesis,
    block: &Block,
    mut each: impl FnMut(&plexus_client::wire::StateChunk) -> anyhow::Result<()>,
) -> anyhow::Result<(u64, u64)> {
    let height = block.header.height;
    let mut restore = store.restore(height, block.header.state_root)?;
    let mut chunks = 0;
    loop {
        let served = source.chunk(height, restore.after()).await?;
        let chunk = decode(&served)?;
        if !chunk.entries.is_empty() {
            restore.add_chunk(&chunk)?;
            chunks += 1;
        }
        each(&served)?;
        if chunk.done {
            break;
        }
    }
    let entries = restore.entries();
    restore.finish(&plexus_node::engine::genesis_block(genesis)?, block)?;
    Ok((entries, chunks))
}

/// Sync the state of `genesis`'s chain from `from` (a node API's URL, or a snapshot
/// file) into `dir`, unless `dir` already holds a state. Returns what was synced, or
/// `None` when nothing was done.
pub(crate) async fn sync(
    dir: &Path,
    genesis: &Genesis,
    from: &str,
) -> anyhow::Result<Option<Synced>> {
    let state = dir.join(STATE_FILE);
    if state.exists() {
        return Ok(None);
    }
    let started = Instant::now();
    let mut source = Source::open(from)?;
    let (block, floor) = certified_tip(&mut source, genesis).await?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = dir.join(format!("{STATE_FILE}.sync"));
    if partial.exists() {
        std::fs::remove_file(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    let store = Store::open(&partial)?;
    let (entries, chunks) = restore(&mut source, &store, genesis, &block, |_| Ok(())).await?;
    drop(store);
    write_atomically(&dir.join(FLOOR_FILE), &floor)?;
    std::fs::rename(&partial, &state)
        .with_context(|| format!("cannot move the synced state to {}", state.display()))?;
    Ok(Some(Synced {
        height: block.header.height,
        entries,
        chunks,
        seconds: started.elapsed().as_secs_f64(),
    }))
}

/// Write the state at the tip of the node API `url` to `out`: the certified block
/// and finalization, then every chunk, each checked before it is written (so a
/// snapshot is whole when it exists; it is checked again when restored).
pub(crate) async fn snapshot(genesis: &Genesis, url: &str, out: &Path) -> anyhow::Result<Synced> {
    let started = Instant::now();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("a snapshot is taken from a node's API (http:// or https://), not {url}");
    }
    let mut source = Source::open(url)?;
    let (block, floor) = certified_tip(&mut source, genesis).await?;
    // Every chunk is checked by restoring it into a scratch store, removed after.
    let scratch = out.with_extension("check.redb");
    if scratch.exists() {
        std::fs::remove_file(&scratch)?;
    }
    let store = Store::open(&scratch)?;
    let tmp = out.with_extension("tmp");
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?,
    );
    let head = SnapshotHead {
        format: SNAPSHOT_FORMAT,
        header: block.header.clone(),
        txs: block.txs.clone(),
        floor: hex::encode(&floor),
    };
    writeln!(file, "{}", serde_json::to_string(&head)?)?;
    let (entries, chunks) = restore(&mut source, &store, genesis, &block, |chunk| {
        writeln!(file, "{}", serde_json::to_string(chunk)?)?;
        Ok(())
    })
    .await?;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    drop(store);
    std::fs::remove_file(&scratch)?;
    Ok(Synced {
        height: block.header.height,
        entries,
        chunks,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
