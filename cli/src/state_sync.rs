//! `plexus node --state-sync URL`: start a new node from the state at a recent
//! height instead of replaying every block.
//!
//! The node API at URL is trusted for nothing but availability: the header comes
//! with a finality certificate checked against the genesis validators, the
//! finalization marshal will start from is checked the same way, and every chunk of
//! the state tree is checked against the header's state root before it is written
//! (`plexus_storage::Restore`). The state is rebuilt in a file of its own and moved
//! into place only once its root matched; the floor is written first, so a crash at
//! any point leaves either no state (the next start syncs again) or a whole one.

use std::{path::Path, time::Instant};

use anyhow::{Context as _, bail};
use plexus_client::Client;
use plexus_ledger::Genesis;
use plexus_node::{FLOOR_FILE, STATE_FILE};
use plexus_storage::{StateChunk, Store};
use plexus_types::{Block, BlockHeader, block::tx_root};

/// Leaves fetched per request.
const CHUNK: usize = 4_096;

/// What a sync did.
pub(crate) struct Synced {
    pub(crate) height: u64,
    pub(crate) entries: u64,
    pub(crate) chunks: u64,
    pub(crate) seconds: f64,
}

/// Sync the state of `genesis`'s chain at the tip of `url` into `dir`, unless `dir`
/// already holds a state. Returns what was synced, or `None` when nothing was done.
pub(crate) async fn sync(
    dir: &Path,
    genesis: &Genesis,
    url: &str,
) -> anyhow::Result<Option<Synced>> {
    let state = dir.join(STATE_FILE);
    if state.exists() {
        return Ok(None);
    }
    let started = Instant::now();
    let client = Client::new(url)?;
    let validators: Vec<_> = genesis.validators.iter().map(|v| v.public_key).collect();
    let height = client
        .status()
        .await
        .with_context(|| format!("cannot read the tip of {url}"))?
        .node
        .finalized_height;
    if height == 0 {
        bail!("{url} has finalized nothing yet: nothing to sync");
    }
    let header = client
        .certified_header(height, genesis.chain_id, &validators)
        .await
        .with_context(|| format!("the header at {height} from {url} is not certified"))?;
    let block = fetch_block(&client, height, &header).await?;
    let raw = client.finalization_raw(height).await?;
    let floor = hex::decode(&raw.raw).context("the finalization is not hex")?;
    plexus_node::engine::check_floor(&floor, genesis, Some(&header.digest()))?;

    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = dir.join(format!("{STATE_FILE}.sync"));
    if partial.exists() {
        std::fs::remove_file(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    let store = Store::open(&partial)?;
    let mut restore = store.restore(height, header.state_root)?;
    let mut chunks = 0;
    loop {
        let served = client.state_chunk(height, restore.after(), CHUNK).await?;
        let chunk = StateChunk {
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
        };
        if !chunk.entries.is_empty() {
            restore.add_chunk(&chunk)?;
            chunks += 1;
        }
        if chunk.done {
            break;
        }
    }
    let entries = restore.entries();
    let genesis_block = plexus_node::engine::genesis_block(genesis)?;
    restore.finish(&genesis_block, &block)?;
    drop(store);
    write_atomically(&dir.join(FLOOR_FILE), &floor)?;
    std::fs::rename(&partial, &state)
        .with_context(|| format!("cannot move the synced state to {}", state.display()))?;
    Ok(Some(Synced {
        height,
        entries,
        chunks,
        seconds: started.elapsed().as_secs_f64(),
    }))
}

/// The block at `height`, checked against its certified `header`.
async fn fetch_block(client: &Client, height: u64, header: &BlockHeader) -> anyhow::Result<Block> {
    let view = client.block(height).await?;
    let served = BlockHeader::try_from(&view.header).map_err(|e| anyhow::anyhow!("{e}"))?;
    if served.digest() != header.digest() || tx_root(&view.bodies) != header.tx_root {
        bail!("the block served at {height} is not the certified one");
    }
    Ok(Block {
        header: header.clone(),
        txs: view.bodies,
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
