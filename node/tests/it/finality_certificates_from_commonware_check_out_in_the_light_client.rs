//! A finalization certificate made by commonware's own simplex types (3 of 4
//! validators sign) checks out in `plexus_types::finality`, and is pinned in
//! `web/test/finality.json` for the web app's verifier. `PLEXUS_BLESS_WEB_VECTORS=1`
//! rewrites the file.

use std::path::PathBuf;

use commonware_codec::DecodeExt as _;
use commonware_consensus::{
    simplex::types::{Finalization, Finalize, Proposal},
    types::{Epoch, Round, View},
};
use commonware_cryptography::ed25519;
use commonware_parallel::Sequential;
use commonware_utils::{iter::NonEmpty, ordered::Set};
use plexus_node::engine::{Scheme, block::to_digest, certificate_parts};
use plexus_types::{
    Hash, Keypair,
    finality::{FinalityError, consensus_namespace, finalize_message, verify_finality},
};
use serde_json::{Value, json};

const CHAIN_ID: u64 = 7;

fn vector_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/test/finality.json")
}

#[test]
fn finality_certificates_from_commonware_check_out_in_the_light_client() {
    let keys: Vec<Keypair> = (0..4)
        .map(|i| Keypair::from_label(&format!("validator-{i}")))
        .collect();
    let private =
        |k: &Keypair| ed25519::PrivateKey::decode(k.secret_bytes().to_vec()).expect("key");
    let participants = Set::from_iter_dedup(keys.iter().map(|k| {
        use commonware_cryptography::Signer as _;
        private(k).public_key()
    }));
    let namespace = consensus_namespace(CHAIN_ID);
    let header = Hash([0xa5; 32]);
    let proposal = Proposal::new(
        Round::new(Epoch::new(0), View::new(300)),
        View::new(299),
        to_digest(header),
    );
    // Three of four validators (the quorum) sign the finalize vote.
    let votes: Vec<Finalize<Scheme, _>> = keys[..3]
        .iter()
        .map(|k| {
            let signer = Scheme::signer(&namespace, participants.clone(), private(k))
                .expect("a participant");
            Finalize::sign(&signer, proposal.clone()).expect("signs")
        })
        .collect();
    let verifier = Scheme::verifier(&namespace, participants);
    let finalization: Finalization<Scheme, _> = Finalization::from_finalizes(
        &verifier,
        NonEmpty::try_new(votes.iter()).expect("votes"),
        &Sequential,
    )
    .expect("a quorum assembles");
    let cert = certificate_parts(&finalization);
    let validators: Vec<_> = keys.iter().map(Keypair::account).collect();

    verify_finality(CHAIN_ID, &validators, &header, &cert)
        .expect("commonware's certificate checks out");
    assert_eq!(
        (cert.view, cert.parent_view, cert.signers.len()),
        (300, 299, 3)
    );
    // Below quorum, for another block, or with a signature moved, it does not.
    let mut two = cert.clone();
    two.signers.pop();
    two.signatures.pop();
    assert!(matches!(
        verify_finality(CHAIN_ID, &validators, &header, &two),
        Err(FinalityError::NoQuorum {
            got: 2,
            quorum: 3,
            validators: 4
        })
    ));
    assert!(matches!(
        verify_finality(CHAIN_ID, &validators, &Hash([0; 32]), &cert),
        Err(FinalityError::OtherBlock { .. })
    ));
    let mut swapped = cert.clone();
    swapped.signatures.swap(0, 1);
    assert!(matches!(
        verify_finality(CHAIN_ID, &validators, &header, &swapped),
        Err(FinalityError::BadSignature(_))
    ));
    let mut repeated = cert.clone();
    repeated.signers[1] = repeated.signers[0];
    assert!(matches!(
        verify_finality(CHAIN_ID, &validators, &header, &repeated),
        Err(FinalityError::BadSigner(_))
    ));

    let fresh = json!({
        "chain_id": CHAIN_ID,
        "validators": validators.iter().map(|v| v.to_address()).collect::<Vec<_>>(),
        "header_digest": header.to_hex(),
        "certificate": cert,
        "message": hex::encode(finalize_message(CHAIN_ID, &cert)),
    });
    let path = vector_path();
    if std::env::var_os("PLEXUS_BLESS_WEB_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&fresh).expect("json") + "\n";
        std::fs::write(&path, text).expect("write the vector");
    }
    let pinned: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect(
            "web/test/finality.json exists: run with PLEXUS_BLESS_WEB_VECTORS=1 to create it",
        ))
        .expect("json");
    assert_eq!(
        pinned, fresh,
        "the pinned web vector differs: bless it if the change is intended"
    );
}
