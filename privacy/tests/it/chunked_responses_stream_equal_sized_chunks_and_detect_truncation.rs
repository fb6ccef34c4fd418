//! Chunked OHTTP: a streamed response arrives chunk by chunk, every framed event is
//! the same size on the wire, and a cut or altered stream is refused.

use plexus_privacy::chunked::{self, ChunkedResponse};
use plexus_privacy::oblivious::{Gateway, GatewayKey, OhttpError};
use plexus_privacy::padding::{frame_event, unframe_event};
use proptest::prelude::*;

fn gateway() -> Gateway {
    Gateway::new(vec![GatewayKey::generate(4).unwrap()]).unwrap()
}

/// Feed `bytes` in pieces of `step`, collecting every chunk that completes.
fn drain(client: &mut ChunkedResponse, bytes: &[u8], step: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for piece in bytes.chunks(step.max(1)) {
        client.push(piece).unwrap();
        while let Some(chunk) = client.next_chunk().unwrap() {
            out.push(chunk);
        }
    }
    out
}

#[test]
fn events_stream_through_in_order_with_equal_wire_sizes() {
    let gw = gateway();
    let config = &gw.public_configs().unwrap()[0];
    let (enc, mut client) = chunked::encapsulate(config, b"POST /v1/chat/completions").unwrap();
    let mut opened = chunked::decapsulate(&gw, &enc).unwrap();
    assert_eq!(opened.request, b"POST /v1/chat/completions");

    let events = [
        "data: {\"delta\":\"Hel\"}\n\n",
        "data: {\"delta\":\"lo, world\"}\n\n",
        "data: [DONE]\n\n",
    ];
    let mut wire = Vec::new();
    let mut sizes = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let sealed = opened
            .response
            .seal_chunk(&frame_event(e.as_bytes()).unwrap())
            .unwrap();
        // The first piece also carries the 16-byte response nonce.
        sizes.push(if i == 0 {
            sealed.len() - 16
        } else {
            sealed.len()
        });
        wire.push(sealed);
    }
    assert!(sizes.iter().all(|&s| s == sizes[0]), "{sizes:?}");
    let last = opened.response.finish().unwrap();

    let mut got = Vec::new();
    for piece in &wire {
        got.extend(drain(&mut client, piece, 7));
    }
    got.extend(drain(&mut client, &last, 7));
    client.finish();
    assert!(client.next_chunk().unwrap().is_none());
    assert!(client.is_done());
    let texts: Vec<&[u8]> = got.iter().map(|f| unframe_event(f).unwrap()).collect();
    assert_eq!(
        texts,
        events.iter().map(|e| e.as_bytes()).collect::<Vec<_>>()
    );
}

/// Regression: the `ohttp` 0.8 reader misreads a two-byte chunk length that arrives
/// one byte at a time as the final chunk; `ChunkedResponse` hands it whole chunks.
#[test]
fn a_chunk_length_split_across_reads_is_read_correctly() {
    let gw = gateway();
    let config = &gw.public_configs().unwrap()[0];
    let (enc, mut client) = chunked::encapsulate(config, b"q").unwrap();
    let mut opened = chunked::decapsulate(&gw, &enc).unwrap();
    let mut wire = opened.response.seal_chunk(&[7; 100]).unwrap();
    wire.extend(opened.response.seal_chunk(&[8; 5000]).unwrap());
    wire.extend(opened.response.finish().unwrap());
    let got = drain(&mut client, &wire, 1);
    client.finish();
    assert!(client.next_chunk().unwrap().is_none());
    assert!(client.is_done());
    assert_eq!(got, vec![vec![7; 100], vec![8; 5000]]);
}

#[test]
fn a_stream_cut_before_its_final_chunk_is_an_error() {
    let gw = gateway();
    let config = &gw.public_configs().unwrap()[0];
    let (enc, mut client) = chunked::encapsulate(config, b"q").unwrap();
    let mut opened = chunked::decapsulate(&gw, &enc).unwrap();
    let first = opened.response.seal_chunk(b"partial answer").unwrap();
    assert_eq!(
        drain(&mut client, &first, 100),
        vec![b"partial answer".to_vec()]
    );
    client.finish();
    assert!(client.next_chunk().is_err());
    assert!(!client.is_done());
}

#[test]
fn an_altered_chunk_fails_authentication() {
    let gw = gateway();
    let config = &gw.public_configs().unwrap()[0];
    let (enc, mut client) = chunked::encapsulate(config, b"q").unwrap();
    let mut opened = chunked::decapsulate(&gw, &enc).unwrap();
    let mut sealed = opened.response.seal_chunk(b"answer").unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    client.push(&sealed).unwrap();
    assert!(matches!(client.next_chunk(), Err(OhttpError::Decrypt)));
}

#[test]
fn chunked_requests_are_checked_like_plain_ones() {
    let gw = gateway();
    let other = GatewayKey::generate(5).unwrap().public_config().unwrap();
    let (enc, _) = chunked::encapsulate(&other, b"q").unwrap();
    assert!(matches!(
        chunked::decapsulate(&gw, &enc),
        Err(OhttpError::UnknownKeyId(5))
    ));
    assert!(matches!(
        chunked::decapsulate(&gw, &[4; 10]),
        Err(OhttpError::Truncated { .. })
    ));
    let config = &gw.public_configs().unwrap()[0];
    let (enc, _) = chunked::encapsulate(config, b"q").unwrap();
    let a = chunked::decapsulate(&gw, &enc).unwrap();
    let b = chunked::decapsulate(&gw, &enc).unwrap();
    assert_eq!(a.replay_id, b.replay_id);
    // A chunked request is not a plain one.
    assert!(gw.decapsulate(&enc).is_err());
    // The largest request fits; anything longer is refused before decryption.
    let big = vec![3u8; plexus_privacy::oblivious::MAX_REQUEST_LEN];
    let (enc, _) = chunked::encapsulate(config, &big).unwrap();
    assert_eq!(chunked::decapsulate(&gw, &enc).unwrap().request, big);
    assert!(matches!(
        chunked::decapsulate(&gw, &vec![4; chunked::MAX_ENCAPSULATED_REQUEST_LEN + 1]),
        Err(OhttpError::Oversized { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn any_sequence_of_chunks_round_trips(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..2000), 0..8),
        step in 1usize..300,
    ) {
        let gw = gateway();
        let config = &gw.public_configs().unwrap()[0];
        let (enc, mut client) = chunked::encapsulate(config, b"q").unwrap();
        let mut opened = chunked::decapsulate(&gw, &enc).unwrap();
        let mut wire = Vec::new();
        for c in &chunks {
            wire.extend(opened.response.seal_chunk(c).unwrap());
        }
        wire.extend(opened.response.finish().unwrap());
        let got = drain(&mut client, &wire, step);
        client.finish();
        prop_assert!(client.next_chunk().unwrap().is_none());
        prop_assert!(client.is_done());
        prop_assert_eq!(got.concat(), chunks.concat());
    }
}
