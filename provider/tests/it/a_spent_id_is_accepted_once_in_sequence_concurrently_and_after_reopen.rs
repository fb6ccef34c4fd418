//! The spent store accepts each id once: in sequence, under concurrency, after reopen.

use std::sync::{Arc, Barrier};

use plexus_privacy::oblivious::{Gateway, GatewayKey, encapsulate};
use plexus_privacy::token::{TokenVerifier, VerifiedToken};
use plexus_provider::spent::SpentStore;

use crate::the_private_path_serves_each_token_once_and_refuses_hostile_requests::{issuer, token};

/// A token from the shared test issuer `issuer.plexus` for provider `origin`, encoded.
fn token_for(origin: &str) -> Vec<u8> {
    token(issuer(), "issuer.plexus", origin).encode()
}

/// What a provider does: verify, then spend before serving.
fn redeem(store: &SpentStore, token: &[u8], origin: &str) -> Option<VerifiedToken> {
    let mut v = TokenVerifier::new();
    v.add_key("issuer.plexus", issuer().public().clone());
    let ok = v.verify_for_origin(token, origin).ok()?;
    store.spend(&ok.nonce, 0).unwrap().then_some(ok)
}

#[test]
fn the_same_token_is_served_once_in_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let store = SpentStore::open(dir.path().join("spent.redb")).unwrap();
    let token = token_for("p.plexus");
    assert!(redeem(&store, &token, "p.plexus").is_some());
    assert!(redeem(&store, &token, "p.plexus").is_none());
    assert_eq!(store.len().unwrap(), 1);
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
                    store.spend(&id, 1).unwrap()
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
        // Dropped without any shutdown step, like a crash after the commit.
    }
    let store = SpentStore::open(&path).unwrap();
    assert!(redeem(&store, &token, "p.plexus").is_none());
    assert!(store.spend(&[9; 32], 0).unwrap());
    assert!(store.is_spent(&[9; 32]).unwrap());
}

#[test]
fn a_replayed_encapsulated_request_is_served_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SpentStore::open(dir.path().join("replay.redb")).unwrap();
    let gw = Gateway::new(vec![GatewayKey::generate(1).unwrap()]).unwrap();
    let config = &gw.public_configs().unwrap()[0];
    let (enc, _) = encapsulate(config, b"request").unwrap();
    let served = (0..3)
        .filter(|_| {
            let opened = gw.decapsulate(&enc).unwrap();
            store.spend(&opened.replay_id.0, 0).unwrap()
        })
        .count();
    assert_eq!(served, 1);
}

#[test]
fn a_request_spends_all_its_tokens_or_none_and_queues_them_for_settlement() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spent.redb");
    let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    {
        let store = SpentStore::open(&path).unwrap();
        assert_eq!(
            store.spend_tokens(&[(a, b"ta"), (b, b"tb")], 0).unwrap(),
            None
        );
        // c is fresh but b is spent: nothing of this request is spent.
        assert_eq!(
            store.spend_tokens(&[(c, b"tc"), (b, b"tb")], 0).unwrap(),
            Some(1)
        );
        assert!(!store.is_spent(&c).unwrap());
        // A nonce repeated inside one request is refused too.
        assert_eq!(
            store.spend_tokens(&[(c, b"tc"), (c, b"tc")], 0).unwrap(),
            Some(1)
        );
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
    assert_eq!(store.spend_tokens(&[(a, b"ta")], 0).unwrap(), Some(0));
}
