//! Untrusted transaction bytes: decoding never panics, and what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plexus_types::{Encode, SignedTransaction};

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = SignedTransaction::decode_bounded(data) {
        assert_eq!(tx.encode(), data, "the encoding is canonical");
        let _ = tx.verify();
        let _ = tx.hash();
    }
});
