//! Untrusted state-sync chunks (from a peer's API or a snapshot file): restoring
//! from hostile bytes never panics, and nothing but the honest state can finish a
//! restore under the certified root.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use plexus_storage::{StateChunk, Store};
use plexus_types::{AccountId, Block, BlockHeader, Hash};

/// A source store with a small state at height 1, and its honest chunk.
struct Source {
    _dir: tempfile::TempDir,
    genesis: Block,
    block: Block,
    chunk: StateChunk,
}

fn block(height: u64, parent: Hash, root: Hash) -> Block {
    Block {
        header: BlockHeader {
            chain_id: 1,
            height,
            parent,
            timestamp_ms: height,
            proposer: AccountId::default(),
            tx_root: Hash::ZERO,
            state_root: root,
            consensus: Vec::new(),
        },
        txs: Vec::new(),
    }
}

fn source() -> &'static Source {
    static SOURCE: OnceLock<Source> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("source.redb")).unwrap();
        let mut parent = Hash::ZERO;
        let mut blocks = Vec::new();
        for height in 0..2u64 {
            let writes = (0..24u32)
                .map(|i| (format!("key {i}").into_bytes(), Some(format!("{i}@{height}").into_bytes())))
                .collect();
            let b = block(height, parent, store.root_with(&writes).unwrap());
            store.commit_block(&b, &writes).unwrap();
            parent = b.digest();
            blocks.push(b);
        }
        let chunk = store.state_chunk(1, None, 4096).unwrap();
        Source {
            _dir: dir,
            genesis: blocks[0].clone(),
            block: blocks[1].clone(),
            chunk,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let source = source();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut chunk = source.chunk.clone();
    match mode % 4 {
        // A whole chunk as a peer would send it.
        0 => match serde_json::from_slice::<StateChunk>(rest) {
            Ok(parsed) => chunk = parsed,
            Err(_) => return,
        },
        // The honest entries under a hostile proof.
        1 => chunk.proof = rest.to_vec(),
        // A hostile value in an honest chunk.
        2 => {
            let index = rest.first().map_or(0, |&b| usize::from(b)) % chunk.entries.len();
            chunk.entries[index].1 = rest.to_vec();
        }
        // Hostile entries spliced in.
        _ => chunk
            .entries
            .push((rest.iter().take(16).copied().collect(), rest.to_vec())),
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("restored.redb")).unwrap();
    let mut restore = store.restore(1, source.block.header.state_root).unwrap();
    if restore.add_chunk(&chunk).is_ok() && restore.finish(&source.genesis, &source.block).is_ok() {
        // Only the honest state closes under the certified root.
        for (key, value) in &source.chunk.entries {
            assert_eq!(store.get_latest(key).unwrap().as_deref(), Some(value.as_slice()));
        }
    }
});
