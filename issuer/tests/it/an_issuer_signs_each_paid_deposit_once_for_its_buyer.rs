//! The issuer signs a deposit's tokens once, for the buyer's signature only.

use plexus_issuer::{IssuanceRequest, IssueError, Issuer};
use plexus_ledger::credits::Deposit;
use plexus_privacy::token::{IssuerKey, TokenChallenge, TokenVerifier, begin_issuance};
use plexus_types::{
    Hash, Keypair,
    credits::{issuance_batch_signing_bytes, issuance_signing_bytes},
};

const CHAIN: u64 = 7;

fn setup(dir: &std::path::Path) -> (Issuer, IssuerKey, Keypair, Keypair, Deposit) {
    let key = IssuerKey::generate().unwrap();
    let hot = Keypair::from_label("issuer");
    let buyer = Keypair::from_label("buyer");
    let issuer = Issuer::open(
        hot.account(),
        CHAIN,
        vec![key.clone()],
        &dir.join("issuer.redb"),
    )
    .unwrap();
    let deposit = Deposit {
        id: 3,
        buyer: buyer.account(),
        issuer: hot.account(),
        key_id: Hash(key.public().key_id()),
        credits: 10,
        tokens: 3,
        amount: 10,
        block: 1,
    };
    (issuer, key, hot, buyer, deposit)
}

fn request(
    key: &IssuerKey,
    issuer: &Keypair,
    signer: &Keypair,
    n: usize,
) -> (IssuanceRequest, Vec<plexus_privacy::token::PendingToken>) {
    let challenge = TokenChallenge::for_origin(&issuer.account().to_address(), "plx1provider");
    let (reqs, pending): (Vec<_>, Vec<_>) = (0..n)
        .map(|_| {
            let (r, p) = begin_issuance(key.public(), &challenge).unwrap();
            (r.encode(), p)
        })
        .unzip();
    let sig = signer.sign(&issuance_signing_bytes(CHAIN, 3, &reqs));
    (
        IssuanceRequest {
            deposit: 3,
            first: None,
            token_requests: reqs.iter().map(hex::encode).collect(),
            signature: hex::encode(sig.0),
        },
        pending,
    )
}

#[test]
fn a_paid_deposit_gets_its_tokens_once_and_a_retry_gets_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, key, hot, buyer, deposit) = setup(dir.path());
    let (req, pending) = request(&key, &hot, &buyer, 3);
    let answer = issuer.issue(&req, &deposit).unwrap();
    assert!(issuer.is_used(3).unwrap());
    let mut verifier = TokenVerifier::new();
    verifier.add_key(&hot.account().to_address(), key.public().clone());
    for (p, r) in pending.into_iter().zip(&answer.token_responses) {
        let token = p.finalize(&hex::decode(r).unwrap()).unwrap();
        verifier
            .verify_for_origin(&token.encode(), "plx1provider")
            .unwrap();
    }
    // The same request again (a lost answer): the same answer, nothing new signed.
    assert_eq!(issuer.issue(&req, &deposit).unwrap(), answer);
    // Other requests for the used deposit are refused, also after a restart.
    let (other, _) = request(&key, &hot, &buyer, 3);
    assert!(matches!(
        issuer.issue(&other, &deposit),
        Err(IssueError::DepositUsed(3))
    ));
    drop(issuer);
    let issuer = Issuer::open(
        hot.account(),
        CHAIN,
        vec![key],
        &dir.path().join("issuer.redb"),
    )
    .unwrap();
    assert!(matches!(
        issuer.issue(&other, &deposit),
        Err(IssueError::DepositUsed(3))
    ));
    assert_eq!(issuer.issue(&req, &deposit).unwrap(), answer);
}

#[test]
fn requests_not_signed_by_the_buyer_or_not_matching_the_deposit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, key, hot, buyer, deposit) = setup(dir.path());
    let (stolen, _) = request(&key, &hot, &Keypair::from_label("thief"), 3);
    assert!(matches!(
        issuer.issue(&stolen, &deposit),
        Err(IssueError::BadSignature)
    ));
    let (short, _) = request(&key, &hot, &buyer, 2);
    assert!(matches!(
        issuer.issue(&short, &deposit),
        Err(IssueError::WrongCount {
            want: 3,
            got: 2,
            ..
        })
    ));
    let (ok, _) = request(&key, &hot, &buyer, 3);
    let elsewhere = Deposit {
        issuer: Keypair::from_label("other").account(),
        ..deposit
    };
    assert!(matches!(
        issuer.issue(&ok, &elsewhere),
        Err(IssueError::OtherIssuer { .. })
    ));
    let unknown = Deposit {
        key_id: Hash([9; 32]),
        ..deposit
    };
    assert!(matches!(
        issuer.issue(&ok, &unknown),
        Err(IssueError::UnknownKey(_))
    ));
    let mut garbled = ok.clone();
    garbled.signature = "zz".into();
    assert!(matches!(
        issuer.issue(&garbled, &deposit),
        Err(IssueError::Malformed(_))
    ));
    // A request for another key (wrong truncated key id) is refused.
    let foreign = std::iter::repeat_with(|| IssuerKey::generate().unwrap())
        .find(|k| k.public().truncated_key_id() != key.public().truncated_key_id())
        .unwrap();
    let (wrong_key, _) = request(&foreign, &hot, &buyer, 3);
    assert!(matches!(
        issuer.issue(&wrong_key, &deposit),
        Err(IssueError::BadRequest { index: 0, .. })
    ));
    // None of the refusals used the deposit.
    assert!(!issuer.is_used(3).unwrap());
    issuer.issue(&ok, &deposit).unwrap();
}

#[test]
fn replaying_a_served_issuance_request_costs_the_issuer_no_rsa_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, key, hot, buyer, deposit) = setup(dir.path());
    let (req, _) = request(&key, &hot, &buyer, 3);
    let answer = issuer.issue(&req, &deposit).unwrap();
    assert_eq!(issuer.signatures(), 3);
    // A relay (or the buyer) replays the request: each replay is answered from the
    // record, and a different request for the served deposit is refused, all without
    // one more RSA signature.
    for _ in 0..5 {
        assert_eq!(issuer.issue(&req, &deposit).unwrap(), answer);
    }
    let (other, _) = request(&key, &hot, &buyer, 3);
    assert!(matches!(
        issuer.issue(&other, &deposit),
        Err(IssueError::DepositUsed(3))
    ));
    assert_eq!(issuer.signatures(), 3, "replays cost RSA signatures");
}

/// A batch of `n` requests from token `first` of deposit 3, signed by `signer`.
fn batch(key: &IssuerKey, signer: &Keypair, first: u32, n: usize) -> IssuanceRequest {
    let challenge = TokenChallenge::for_origin("plx1issuer", "plx1provider");
    let reqs: Vec<_> = (0..n)
        .map(|_| begin_issuance(key.public(), &challenge).unwrap().0.encode())
        .collect();
    let sig = signer.sign(&issuance_batch_signing_bytes(CHAIN, 3, first, &reqs));
    IssuanceRequest {
        deposit: 3,
        first: Some(first),
        token_requests: reqs.iter().map(hex::encode).collect(),
        signature: hex::encode(sig.0),
    }
}

#[test]
fn a_large_deposit_is_issued_batch_by_batch_and_each_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, key, _hot, buyer, deposit) = setup(dir.path());
    let deposit = Deposit {
        tokens: 250,
        credits: 250,
        ..deposit
    };
    // Only the aligned batches exist: [0, 100), [100, 200), [200, 250).
    assert!(matches!(
        issuer.issue(&batch(&key, &buyer, 50, 100), &deposit),
        Err(IssueError::BadBatch { first: 50, .. })
    ));
    assert!(matches!(
        issuer.issue(&batch(&key, &buyer, 200, 100), &deposit),
        Err(IssueError::WrongCount {
            want: 50,
            got: 100,
            ..
        })
    ));
    // The batch signature binds its position: batch 0's requests as batch 100 fail.
    let mut moved = batch(&key, &buyer, 0, 100);
    moved.first = Some(100);
    assert!(matches!(
        issuer.issue(&moved, &deposit),
        Err(IssueError::BadSignature)
    ));
    let first = batch(&key, &buyer, 0, 100);
    let answer = issuer.issue(&first, &deposit).unwrap();
    assert_eq!(answer.token_responses.len(), 100);
    assert!(issuer.is_used(3).unwrap());
    // A replay is answered from the record; another request for the same tokens, or a
    // whole-deposit request over them, is refused.
    assert_eq!(issuer.issue(&first, &deposit).unwrap(), answer);
    assert!(matches!(
        issuer.issue(&batch(&key, &buyer, 0, 100), &deposit),
        Err(IssueError::DepositUsed(3))
    ));
    let (whole, _) = request(&key, &Keypair::from_label("issuer"), &buyer, 250);
    assert!(matches!(
        issuer.issue(&whole, &deposit),
        Err(IssueError::DepositUsed(3))
    ));
    issuer
        .issue(&batch(&key, &buyer, 100, 100), &deposit)
        .unwrap();
    issuer
        .issue(&batch(&key, &buyer, 200, 50), &deposit)
        .unwrap();
    assert_eq!(issuer.signatures(), 250);
}

#[test]
fn a_request_with_one_bad_token_request_costs_no_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, key, hot, buyer, deposit) = setup(dir.path());
    let challenge = TokenChallenge::for_origin(&hot.account().to_address(), "plx1provider");
    let mut reqs: Vec<_> = (0..3)
        .map(|_| begin_issuance(key.public(), &challenge).unwrap().0.encode())
        .collect();
    reqs[2][2] ^= 0xff; // the last one names another key
    let sig = buyer.sign(&issuance_signing_bytes(CHAIN, 3, &reqs));
    let bad = IssuanceRequest {
        deposit: 3,
        first: None,
        token_requests: reqs.iter().map(hex::encode).collect(),
        signature: hex::encode(sig.0),
    };
    assert!(matches!(
        issuer.issue(&bad, &deposit),
        Err(IssueError::BadRequest { index: 2, .. })
    ));
    assert_eq!(issuer.signatures(), 0);
    assert!(!issuer.is_used(3).unwrap());
}

#[test]
fn replays_of_one_deposit_past_its_burst_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, ..) = setup(dir.path());
    let issuer = issuer.with_limits(plexus_issuer::DepositLimits {
        burst: 4,
        refill_every: std::time::Duration::from_secs(60),
        max_tracked: 16,
    });
    for _ in 0..4 {
        issuer.admit(3).unwrap();
    }
    assert!(matches!(
        issuer.admit(3),
        Err(IssueError::RateLimited { deposit: 3, .. })
    ));
    issuer.admit(4).unwrap();
}
