//! Untrusted block bytes: decoding never panics, and what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plexus_types::{Block, Encode};

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::decode_bounded(data) {
        assert_eq!(block.encode(), data, "the encoding is canonical");
        let _ = block.digest();
        let _ = block.tx_root_matches();
    }
});
