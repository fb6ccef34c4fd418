use plexus_storage::MAX_BLOCKS_PER_RANGE;
use plexus_types::Hash;

use crate::support::{commit, open, transfer, writes};

#[test]
fn blocks_are_found_by_height_and_digest_and_transactions_by_hash() {
    let (_dir, store) = open();
    let mut blocks = Vec::new();
    for h in 0..4u64 {
        let txs = (0..h).map(|n| transfer(&format!("user{h}"), n)).collect();
        blocks.push(commit(&store, &writes(&[("h", Some(&h.to_string()))]), txs));
    }
    for (h, b) in blocks.iter().enumerate() {
        assert_eq!(store.block(h as u64).expect("block").as_ref(), Some(b));
        assert_eq!(
            store
                .block_by_digest(&b.digest())
                .expect("by digest")
                .as_ref(),
            Some(b)
        );
        assert_eq!(
            store.height_of(&b.digest()).expect("height"),
            Some(h as u64)
        );
        assert_eq!(
            store.header(h as u64).expect("header").as_ref(),
            Some(&b.header)
        );
        for (i, tx) in b.txs.iter().enumerate() {
            let found = store.tx(&tx.hash()).expect("tx").expect("indexed");
            assert_eq!((found.height, found.index as usize), (h as u64, i));
            assert_eq!(&found.tx, tx);
        }
    }
    assert_eq!(store.block(4).expect("block"), None);
    assert_eq!(
        store.block_by_digest(&Hash([1; 32])).expect("by digest"),
        None
    );
    assert_eq!(store.tx(&Hash([1; 32])).expect("tx"), None);

    assert_eq!(
        store.blocks_range(1..3).expect("range"),
        blocks[1..3].to_vec()
    );
    assert_eq!(
        store.blocks_range(2..).expect("range"),
        blocks[2..].to_vec()
    );
    assert_eq!(
        store.blocks_range(..=1).expect("range"),
        blocks[..=1].to_vec()
    );
    assert!(store.blocks_range(10..20).expect("range").is_empty());
    assert!(
        store
            .blocks_range((
                std::ops::Bound::Excluded(u64::MAX),
                std::ops::Bound::Unbounded
            ))
            .expect("range")
            .is_empty()
    );
}

#[test]
fn a_block_range_returns_at_most_the_page_size() {
    let (_dir, store) = open();
    for _ in 0..MAX_BLOCKS_PER_RANGE + 3 {
        commit(&store, &writes(&[]), Vec::new());
    }
    let page = store.blocks_range(..).expect("range");
    assert_eq!(page.len(), MAX_BLOCKS_PER_RANGE);
    assert_eq!(page[0].header.height, 0);
    let rest = store
        .blocks_range(MAX_BLOCKS_PER_RANGE as u64..)
        .expect("range");
    assert_eq!(rest.len(), 3);
}
