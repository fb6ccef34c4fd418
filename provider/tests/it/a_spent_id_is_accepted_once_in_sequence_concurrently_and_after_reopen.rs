//! The spent store accepts each id once: in sequence, under concurrency, after reopen;
//! a refused request's tokens become spendable again, and retired keys are pruned.

use std::{
    collections::BTreeSet,
    sync::{Arc, Barrier},
};

use plexus_privacy::oblivious::{Gateway, GatewayKey, encapsulate};
use plexus_privacy::token::{TokenVerifier, VerifiedToken};
use plexus_provider::spent::{Clash, Payment, SpentStore};

use crate::the_private_path_serves_each_token_once_and_refuses_hostile_requests::{issuer, token};

/// A token from the shared test issuer `issuer.plexus` for provider `origin`, encoded.
fn token_for(origin: &str) -> Vec<u8> {
    token(issuer(), "issuer.plexus", origin).encode()
}

/// A replay id no other request has.
fn fresh_replay() -> [u8; 32] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    *blake3::hash(&N.fetch_add(1, Ordering::SeqCst).to_le_bytes()).as_bytes()
}

fn pay<'a>(key: [u8; 32], nonce: [u8; 32], token: &'a [u8]) -> Payment<'a> {
    Payment {
        key_id: key,
        nonce,
        token,
    }
}

/// What a provider does: verify, then spend before serving.
fn redeem(store: &SpentStore, token: &[u8], origin: &str) -> Option<VerifiedToken> {
    let mut v = TokenVerifier::new();
    v.add_key("issuer.plexus", issuer().public().clone());
    let ok = v.verify_for_origin(token, origin).ok()?;
    let paid = [pay(ok.token_key_id, ok.nonce, token)];
    store
        .spend(&fresh_replay(), &paid)
        .unwrap()
        .is_none()
        .then_some(ok)
}

#[test]
fn the_same_token_is_served_once_in_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let store = SpentStore::open(dir.path().join("spent.redb")).unwrap();
    let token = token_for("p.plexus");
    assert!(redeem(&store, &token, "p.plexus").is_some());
    assert!(redeem(&store, &token, "p.plexus").is_none());
    // The nonce and the replay id of the one request that paid.
    assert_eq!(store.len().unwrap(), 2);
}

#[test]
fn the_same_id_spent_concurrently_is_accepted_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SpentStore::open(dir.path().join("spent.redb")).unwrap());
    for round in 0u8..4 {
        let id = [round; 32];
        let threads = 8;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    store
                        .spend(&fresh_replay(), &[pay([7; 32], id, b"t")])
                        .unwrap()
                        .is_none()
                })
            })
            .collect();
        let accepted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&fresh| fresh)
            .count();
        assert_eq!(accepted, 1, "round {round}");
    }
}

#[test]
fn the_same_token_concurrently_is_served_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SpentStore::open(dir.path().join("spent.redb")).unwrap());
    let token = Arc::new(token_for("p.plexus"));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let store = Arc::clone(&store);
            let token = Arc::clone(&token);
            std::thread::spawn(move || redeem(&store, &token, "p.plexus").is_some())
        })
        .collect();
    let served = handles
        .into_iter()
        .filter_map(|h| h.join().ok())
        .filter(|&s| s)
        .count();
    assert_eq!(served, 1);
}

#[test]
fn a_spent_id_stays_spent_after_the_store_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spent.redb");
    let token = token_for("p.plexus");
    {
        let store = SpentStore::open(&path).unwrap();
        assert!(redeem(&store, &token, "p.plexus").is_some());
        // Dropped without any shutdown step, like a crash after the commit, while
        // the request still held its token.
    }
    let store = SpentStore::open(&path).unwrap();
    assert!(redeem(&store, &token, "p.plexus").is_none());
    // A token held by a request that was running is queued for settlement.
    assert_eq!(store.held_len().unwrap(), 0);
    assert_eq!(store.unsettled(10).unwrap(), vec![token]);
    assert!(
        store
            .spend(&fresh_replay(), &[pay([7; 32], [9; 32], b"t")])
            .unwrap()
            .is_none()
    );
    assert!(store.is_spent(&[9; 32]).unwrap());
}

#[test]
fn a_replayed_encapsulated_request_is_served_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SpentStore::open(dir.path().join("replay.redb")).unwrap();
    let gw = Gateway::new(vec![GatewayKey::generate(1).unwrap()]).unwrap();
    let config = &gw.public_configs().unwrap()[0];
    let (enc, _) = encapsulate(config, b"request").unwrap();
    let served = (0u8..3)
        .filter(|i| {
            let opened = gw.decapsulate(&enc).unwrap();
            // Even paid with fresh tokens, the same encapsulation runs once.
            store
                .spend(&opened.replay_id.0, &[pay([7; 32], [100 + i; 32], b"t")])
                .unwrap()
                .is_none()
        })
        .count();
    assert_eq!(served, 1);
    let opened = gw.decapsulate(&enc).unwrap();
    assert_eq!(
        store.check(Some(&opened.replay_id.0), &[]).unwrap(),
        Some(Clash::Replay)
    );
}

#[test]
fn a_request_spends_all_its_tokens_or_none_and_queues_them_for_settlement() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spent.redb");
    let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let k = [7u8; 32];
    {
        let store = SpentStore::open(&path).unwrap();
        assert_eq!(
            store
                .spend(&fresh_replay(), &[pay(k, a, b"ta"), pay(k, b, b"tb")])
                .unwrap(),
            None
        );
        store.commit(&[a, b]).unwrap();
        // c is fresh but b is spent: nothing of this request is spent.
        assert_eq!(
            store
                .spend(&fresh_replay(), &[pay(k, c, b"tc"), pay(k, b, b"tb")])
                .unwrap(),
            Some(Clash::Token(1))
        );
        assert!(!store.is_spent(&c).unwrap());
        // A nonce repeated inside one request is refused too.
        assert_eq!(
            store
                .spend(&fresh_replay(), &[pay(k, c, b"tc"), pay(k, c, b"tc")])
                .unwrap(),
            Some(Clash::Token(1))
        );
        assert_eq!(store.check(None, &[c, c]).unwrap(), Some(Clash::Token(1)));
        assert!(!store.is_spent(&c).unwrap());
    }
    let store = SpentStore::open(&path).unwrap();
    assert_eq!(
        store.unsettled(10).unwrap(),
        vec![b"ta".to_vec(), b"tb".to_vec()]
    );
    store.mark_settled(&[a]).unwrap();
    assert_eq!(store.unsettled(10).unwrap(), vec![b"tb".to_vec()]);
    assert_eq!(store.unsettled_len().unwrap(), 1);
    // Settled tokens stay spent.
    assert_eq!(
        store.spend(&fresh_replay(), &[pay(k, a, b"ta")]).unwrap(),
        Some(Clash::Token(0))
    );
}

#[test]
fn a_refunded_token_is_spendable_again_but_its_encapsulation_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = SpentStore::open(dir.path().join("spent.redb")).unwrap();
    let (replay, nonce, k) = (fresh_replay(), [4u8; 32], [7u8; 32]);
    assert_eq!(store.spend(&replay, &[pay(k, nonce, b"t")]).unwrap(), None);
    store.refund(&[nonce]).unwrap();
    assert!(!store.is_spent(&nonce).unwrap());
    assert_eq!(store.unsettled_len().unwrap(), 0);
    assert_eq!(store.held_len().unwrap(), 0);
    // A relay replaying the refused request cannot make it run (and pay) again.
    assert_eq!(
        store.spend(&replay, &[pay(k, nonce, b"t")]).unwrap(),
        Some(Clash::Replay)
    );
    assert_eq!(
        store
            .spend(&fresh_replay(), &[pay(k, nonce, b"t")])
            .unwrap(),
        None
    );
    // A token already queued for settlement is not refunded.
    store.commit(&[nonce]).unwrap();
    store.refund(&[nonce]).unwrap();
    assert!(store.is_spent(&nonce).unwrap());
}

#[test]
fn the_ids_of_a_retired_issuer_key_are_pruned_except_unsettled_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let store = SpentStore::open(dir.path().join("spent.redb")).unwrap();
    let (old, live) = ([1u8; 32], [2u8; 32]);
    for n in 0u8..10 {
        let (key, nonce) = if n < 6 {
            (old, [n; 32])
        } else {
            (live, [n; 32])
        };
        assert_eq!(
            store
                .spend(&fresh_replay(), &[pay(key, nonce, b"t")])
                .unwrap(),
            None
        );
        store.commit(&[nonce]).unwrap();
    }
    // All but one of the old key's tokens were settled.
    store
        .mark_settled(
            &(0u8..10)
                .filter(|&n| n != 5)
                .map(|n| [n; 32])
                .collect::<Vec<_>>(),
        )
        .unwrap();
    assert_eq!(store.len().unwrap(), 20);
    let dropped = store.prune(&BTreeSet::from([live])).unwrap();
    // Five settled nonces and six replay ids of the old key; the unsettled one stays.
    assert_eq!(dropped, 11);
    assert_eq!(store.len().unwrap(), 9);
    assert!(store.is_spent(&[5; 32]).unwrap());
    assert!(!store.is_spent(&[0; 32]).unwrap());
    assert!(store.is_spent(&[7; 32]).unwrap());
}

#[test]
fn a_store_of_the_first_layout_keeps_its_unsettled_tokens_spent_and_drops_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spent.redb");
    let queued = token(issuer(), "issuer.plexus", "p.plexus");
    {
        // The first layout: id → unix time, and the settlement queue.
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut spent = tx
                .open_table(redb::TableDefinition::<&[u8; 32], u64>::new("spent"))
                .unwrap();
            spent.insert(&queued.nonce, 1).unwrap();
            spent.insert(&[8; 32], 1).unwrap();
            let mut unsettled = tx
                .open_table(redb::TableDefinition::<&[u8; 32], &[u8]>::new("unsettled"))
                .unwrap();
            unsettled
                .insert(&queued.nonce, queued.encode().as_slice())
                .unwrap();
        }
        tx.commit().unwrap();
    }
    let store = SpentStore::open(&path).unwrap();
    assert!(store.is_spent(&queued.nonce).unwrap());
    assert!(!store.is_spent(&[8; 32]).unwrap());
    assert_eq!(store.unsettled(10).unwrap(), vec![queued.encode()]);
    // Filed under its key: pruning another key keeps it.
    assert_eq!(store.prune(&BTreeSet::from([[3u8; 32]])).unwrap(), 0);
    assert!(store.is_spent(&queued.nonce).unwrap());
}
