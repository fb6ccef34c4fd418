//! Signature checks: batch verification with exactly the acceptance of `verify_strict`.
//!
//! `ed25519_dalek::verify_batch` checks the cofactorless equation for all
//! signatures at once (about twice as fast per signature), but unlike
//! `verify_strict` it accepts small-order keys, small-order `R` and non-canonical
//! `R` encodings. We reject those first, per signature, so a batch accepts exactly
//! the signatures strict verification accepts (up to the batch's 2^-128 soundness
//! error). When a batch fails, each signature is checked alone to find the culprits.

use ed25519_dalek::{Signature, VerifyingKey};
use plexus_types::SignedTransaction;

/// Whether `bytes` is the canonical encoding of a field element's y (y < 2^255 − 19).
fn canonical_y(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    // p = 2^255 - 19: little-endian ed ff .. ff 7f.
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|b| *b == 0xff) && y[0] >= 0xed;
    !non_canonical
}

/// Per-signature checks that `verify_strict` makes and `verify_batch` does not.
fn strict_prechecks(tx: &SignedTransaction) -> Option<(VerifyingKey, Signature)> {
    let key = VerifyingKey::from_bytes(tx.tx.sender.as_bytes()).ok()?;
    if key.is_weak() {
        return None;
    }
    let sig = Signature::from_bytes(&tx.signature.0);
    let r_bytes = *sig.r_bytes();
    if !canonical_y(&r_bytes) {
        return None;
    }
    // R decompresses and is not of small order (VerifyingKey does exactly this decoding).
    let r = VerifyingKey::from_bytes(&r_bytes).ok()?;
    if r.is_weak() {
        return None;
    }
    Some((key, sig))
}

/// Verify every transaction's signature; `result[i]` says whether `txs[i]` verifies.
pub(crate) fn verify_all(txs: &[SignedTransaction]) -> Vec<bool> {
    let messages: Vec<Vec<u8>> = txs.iter().map(|t| t.tx.signing_bytes()).collect();
    let prechecked: Vec<Option<(VerifyingKey, Signature)>> =
        txs.iter().map(strict_prechecks).collect();
    let mut ok: Vec<bool> = prechecked.iter().map(Option::is_some).collect();
    let idx: Vec<usize> = (0..txs.len()).filter(|i| ok[*i]).collect();
    if idx.is_empty() {
        return ok;
    }
    let msgs: Vec<&[u8]> = idx.iter().map(|i| messages[*i].as_slice()).collect();
    let (keys, sigs): (Vec<VerifyingKey>, Vec<Signature>) =
        idx.iter().filter_map(|i| prechecked[*i]).unzip();
    if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_err() {
        for (j, i) in idx.iter().enumerate() {
            ok[*i] = keys[j].verify_strict(msgs[j], &sigs[j]).is_ok();
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use plexus_types::{AccountId, Keypair, Payload, Transaction};

    fn tx(key: &Keypair, nonce: u64) -> SignedTransaction {
        Transaction {
            chain_id: 1,
            sender: key.account(),
            nonce,
            fee: 1,
            payload: Payload::Transfer {
                to: AccountId([9; 32]),
                amount: 1,
            },
        }
        .sign(key)
    }

    #[test]
    fn a_batch_finds_the_one_bad_signature_among_good_ones() {
        let keys: Vec<Keypair> = (0..8)
            .map(|i| Keypair::from_label(&format!("k{i}")))
            .collect();
        let mut txs: Vec<SignedTransaction> = keys.iter().map(|k| tx(k, 0)).collect();
        txs[5].tx.nonce = 1;
        let ok = verify_all(&txs);
        assert_eq!(ok, vec![true, true, true, true, true, false, true, true]);
        for (t, ok) in txs.iter().zip(ok) {
            assert_eq!(t.verify().is_ok(), ok);
        }
    }

    #[test]
    fn a_small_order_key_or_r_is_rejected_as_verify_strict_does() {
        // The identity point (y = 1) as key and as R, with s = 0: the cofactorless
        // equation holds, so only the strict prechecks reject it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut t = tx(&Keypair::from_label("x"), 0);
        t.tx.sender = AccountId(identity);
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&identity);
        t.signature = plexus_types::Signature(sig);
        assert!(!verify_all(std::slice::from_ref(&t))[0]);
        assert!(t.verify().is_err());
        assert!(!canonical_y(&[0xff; 32]));
        assert!(canonical_y(&identity));
    }
}
