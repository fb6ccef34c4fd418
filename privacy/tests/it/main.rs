//! Integration tests for plexus-privacy: published vectors, round trips, hostile inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bhttp_messages_round_trip_and_padding_hides_their_length;
mod chunked_responses_stream_equal_sized_chunks_and_detect_truncation;
mod cloudflare_privacypass_ts_verifies_our_tokens_and_we_accept_its_tokens;
mod malformed_and_oversized_inputs_give_typed_errors;
mod ohttp_requests_and_responses_round_trip_through_a_gateway;
mod rfc9458_appendix_a_decapsulates_to_the_published_messages;
mod rfc9474_deterministic_vector_blinds_and_signs_to_the_published_values;
mod rfc9578_type2_vectors_are_reproduced_and_accepted;
mod tokens_round_trip_and_are_bound_to_one_provider;

/// Published test vectors, parsed from `tests/vectors/*.txt`.
pub(crate) mod vectors {
    use std::collections::BTreeMap;

    /// One vector: field name to bytes.
    pub(crate) type Vector = BTreeMap<String, Vec<u8>>;

    /// Parse a vector file: `name = hex` lines, `#` comments, blank lines between vectors.
    pub(crate) fn load(name: &str) -> Vec<Vector> {
        let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let mut out = Vec::new();
        let mut cur = Vector::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            if line.is_empty() {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                continue;
            }
            let (k, v) = line.split_once('=').unwrap();
            cur.insert(k.trim().to_owned(), hex::decode(v.trim()).unwrap());
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    /// The single vector in a file.
    pub(crate) fn one(name: &str) -> Vector {
        let mut all = load(name);
        assert_eq!(all.len(), 1);
        all.remove(0)
    }
}

/// An RNG that replays given bytes, to inject published salts and blinds.
pub(crate) mod scripted {
    use std::convert::Infallible;

    use rsa::rand_core::{TryCryptoRng, TryRng};

    /// Yields the queued bytes in order; panics when they run out.
    pub(crate) struct ScriptedRng(pub(crate) Vec<u8>);

    impl TryRng for ScriptedRng {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut b = [0; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut b = [0; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            assert!(self.0.len() >= dst.len(), "scripted randomness exhausted");
            let rest = self.0.split_off(dst.len());
            dst.copy_from_slice(&self.0);
            self.0 = rest;
            Ok(())
        }
    }

    impl TryCryptoRng for ScriptedRng {}
}
