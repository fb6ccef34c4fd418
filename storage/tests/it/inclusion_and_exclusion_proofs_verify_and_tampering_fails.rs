use plexus_storage::{ProofError, StateProof, StorageError, verify_proof};
use plexus_types::Hash;

use crate::support::{commit, open, writes};

#[test]
fn an_inclusion_proof_verifies_and_returns_the_value() {
    let (_dir, store) = open();
    commit(
        &store,
        &writes(&[("alice", Some("100")), ("bob", Some("50"))]),
        Vec::new(),
    );
    let root = store.latest_root().expect("root");
    let proof = store.prove(b"alice", None).expect("prove");
    assert_eq!(proof.height, 0);
    assert_eq!(proof.root, root);
    assert_eq!(proof.value, Some(b"100".to_vec()));
    assert_eq!(verify_proof(&root, &proof), Ok(Some(b"100".to_vec())));
}

#[test]
fn an_exclusion_proof_verifies_for_an_absent_key_and_for_an_empty_tree() {
    let (_dir, store) = open();
    commit(&store, &writes(&[]), Vec::new());
    let empty_root = store.latest_root().expect("root");
    let proof = store.prove(b"carol", None).expect("prove");
    assert_eq!(verify_proof(&empty_root, &proof), Ok(None));

    commit(
        &store,
        &writes(&[("alice", Some("100")), ("bob", Some("50"))]),
        Vec::new(),
    );
    let root = store.latest_root().expect("root");
    for key in [&b"carol"[..], b"", b"alice2", &[0xff; 100]] {
        let proof = store.prove(key, None).expect("prove");
        assert_eq!(proof.value, None);
        assert_eq!(verify_proof(&root, &proof), Ok(None), "key {key:?}");
    }
}

#[test]
fn proofs_at_an_older_height_verify_against_that_height_root() {
    let (_dir, store) = open();
    commit(&store, &writes(&[("a", Some("1"))]), Vec::new());
    commit(
        &store,
        &writes(&[("a", Some("2")), ("b", Some("3"))]),
        Vec::new(),
    );
    commit(&store, &writes(&[("a", None)]), Vec::new());
    let roots: Vec<Hash> = (0..3)
        .map(|h| store.state_root(h).expect("root").expect("committed"))
        .collect();

    let expected = [(Some("1"), None), (Some("2"), Some("3")), (None, Some("3"))];
    for (height, (a, b)) in expected.iter().enumerate() {
        let height = height as u64;
        for (key, value) in [(&b"a"[..], a), (b"b", b)] {
            let value = value.map(|v| v.as_bytes().to_vec());
            let proof = store.prove(key, Some(height)).expect("prove");
            assert_eq!(proof.value, value);
            assert_eq!(
                verify_proof(&roots[height as usize], &proof),
                Ok(value.clone())
            );
            assert_eq!(store.get_at(key, height).expect("get_at"), value);
            // A proof from one height does not verify against another height's root.
            let other = roots[(height as usize + 1) % 3];
            let moved = StateProof {
                root: other,
                ..proof
            };
            assert!(verify_proof(&other, &moved).is_err());
        }
    }
    assert!(matches!(
        store.prove(b"a", Some(3)),
        Err(StorageError::NotCommitted {
            height: 3,
            committed: Some(2)
        })
    ));
    assert!(matches!(
        store.get_at(b"a", 9),
        Err(StorageError::NotCommitted { .. })
    ));
}

#[test]
fn tampered_values_keys_roots_and_proof_bytes_fail() {
    let (_dir, store) = open();
    commit(
        &store,
        &writes(&[("alice", Some("100")), ("bob", Some("50"))]),
        Vec::new(),
    );
    let root = store.latest_root().expect("root");
    let inclusion = store.prove(b"alice", None).expect("prove");
    let exclusion = store.prove(b"carol", None).expect("prove");

    // A different value, or claiming absence of a present key.
    let forged = StateProof {
        value: Some(b"1000000".to_vec()),
        ..inclusion.clone()
    };
    assert!(matches!(
        verify_proof(&root, &forged),
        Err(ProofError::Invalid(_))
    ));
    let hidden = StateProof {
        value: None,
        ..inclusion.clone()
    };
    assert!(matches!(
        verify_proof(&root, &hidden),
        Err(ProofError::Invalid(_))
    ));
    // Claiming presence of an absent key.
    let invented = StateProof {
        value: Some(b"1".to_vec()),
        ..exclusion
    };
    assert!(matches!(
        verify_proof(&root, &invented),
        Err(ProofError::Invalid(_))
    ));
    // Another key's proof.
    let swapped = StateProof {
        key: b"bob".to_vec(),
        ..inclusion.clone()
    };
    assert!(matches!(
        verify_proof(&root, &swapped),
        Err(ProofError::Invalid(_))
    ));
    // A root other than the trusted one, whether the proof names it or not.
    let other = Hash([0xaa; 32]);
    assert!(matches!(
        verify_proof(&other, &inclusion),
        Err(ProofError::RootMismatch { .. })
    ));
    let renamed = StateProof {
        root: other,
        ..inclusion.clone()
    };
    assert!(matches!(
        verify_proof(&other, &renamed),
        Err(ProofError::Invalid(_))
    ));
    // Every single-bit flip of the proof body fails, by decoding or by hashing.
    for i in 0..inclusion.proof.len() * 8 {
        let mut bytes = inclusion.proof.clone();
        bytes[i / 8] ^= 1 << (i % 8);
        let flipped = StateProof {
            proof: bytes,
            ..inclusion.clone()
        };
        assert!(verify_proof(&root, &flipped).is_err(), "bit {i}");
    }
}

#[test]
fn a_proof_survives_a_json_round_trip() {
    let (_dir, store) = open();
    commit(&store, &writes(&[("alice", Some("100"))]), Vec::new());
    let root = store.latest_root().expect("root");
    let proof = store.prove(b"alice", None).expect("prove");
    let json = serde_json::to_string(&proof).expect("json");
    let back: StateProof = serde_json::from_str(&json).expect("parse");
    assert_eq!(verify_proof(&root, &back), Ok(Some(b"100".to_vec())));
}
