//! The relay's view of an answer: it forwards every byte, so it sees how many bytes
//! come back, in which pieces and when. Requests that ask for different numbers of
//! output tokens go through the real gateway; the relay-visible transcript of each
//! (chunks, sizes, arrival times) must tell only the answer's bucket, not its length.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use plexus_privacy::{
    chunked, message, oblivious,
    padding::pad_to_bucket,
    token::{Token, authorization_value},
};
use plexus_provider::ProviderConfig;

use crate::{
    gateway::{Running, T, start, tokens},
    support::{MODEL, Scripted},
};

/// What the relay sees of one answer: the size and arrival time of every piece.
#[derive(Debug)]
struct Transcript {
    pieces: Vec<(usize, Duration)>,
}

impl Transcript {
    fn bytes(&self) -> usize {
        self.pieces.iter().map(|(n, _)| n).sum()
    }

    fn duration(&self) -> Duration {
        self.pieces.last().map(|(_, t)| *t).unwrap_or_default()
    }

    /// Bytes that had arrived by `at`.
    fn bytes_by(&self, at: Duration) -> usize {
        self.pieces
            .iter()
            .filter(|(_, t)| *t <= at)
            .map(|(n, _)| n)
            .sum()
    }
}

fn inner(max_tokens: u32, stream: bool, paid: &[Token]) -> Vec<u8> {
    let body = serde_json::json!({
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": max_tokens,
        "stream": stream,
    });
    let bhttp = message::Request {
        method: b"POST".to_vec(),
        path: b"/v1/chat/completions".to_vec(),
        headers: vec![
            (b"content-type".to_vec(), b"application/json".to_vec()),
            (
                b"authorization".to_vec(),
                authorization_value(paid).into_bytes(),
            ),
        ],
        body: body.to_string().into_bytes(),
        ..Default::default()
    };
    pad_to_bucket(bhttp.encode().unwrap()).unwrap()
}

/// Post `sealed` as the relay would and record what comes back.
async fn relay_view(p: &Running, sealed: Vec<u8>, media: &str) -> Transcript {
    let started = Instant::now();
    let response = p
        .http
        .post(p.url.join("/ohttp").unwrap())
        .header("content-type", media)
        .body(sealed)
        .timeout(T)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut pieces = Vec::new();
    while let Some(piece) = body.next().await {
        pieces.push((piece.unwrap().len(), started.elapsed()));
    }
    Transcript { pieces }
}

async fn streamed(p: &Running, max_tokens: u32) -> Transcript {
    let (sealed, _) =
        chunked::encapsulate(&p.config, &inner(max_tokens, true, &tokens(1))).unwrap();
    relay_view(p, sealed, chunked::REQUEST_MEDIA_TYPE).await
}

async fn whole(p: &Running, max_tokens: u32) -> Transcript {
    let (sealed, pending) =
        oblivious::encapsulate(&p.config, &inner(max_tokens, false, &tokens(1))).unwrap();
    let response = p
        .http
        .post(p.url.join("/ohttp").unwrap())
        .header("content-type", oblivious::REQUEST_MEDIA_TYPE)
        .body(sealed)
        .timeout(T)
        .send()
        .await
        .unwrap();
    let bytes = response.bytes().await.unwrap();
    // The answer is really the long one.
    let opened = pending.open(&bytes).unwrap();
    let answer = message::Response::decode(&opened).unwrap();
    assert_eq!(answer.status, 200);
    Transcript {
        pieces: vec![(bytes.len(), Duration::ZERO)],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_cannot_count_output_tokens_from_chunk_sizes_or_count() {
    let dir = tempfile::tempdir().unwrap();
    // A model that writes a short word every 5 ms.
    let engine = Scripted::new(vec!["word "; 64], Duration::from_millis(5));
    let p = start(
        &dir.path().join("spent.redb"),
        engine,
        ProviderConfig::default(),
    )
    .await;

    // Streamed answers of 2, 8 and 30 output tokens (10 to 150 ms of generation).
    let lengths = [2, 8, 30];
    let mut views = Vec::new();
    for n in lengths {
        views.push(streamed(&p, n).await);
    }
    for (n, v) in lengths.iter().zip(&views) {
        eprintln!(
            "{n} tokens: {} bytes in {} pieces over {:?}",
            v.bytes(),
            v.pieces.len(),
            v.duration()
        );
    }
    // The same number of bytes, so the same number of equal-sized chunks.
    let sizes: Vec<usize> = views.iter().map(Transcript::bytes).collect();
    assert!(
        sizes.windows(2).all(|w| w[0] == w[1]),
        "the relay can tell the answers apart by their size: {sizes:?} bytes for {lengths:?} tokens"
    );
    // The same spacing: bytes arrive at a rate set by the clock, not by the tokens,
    // and every answer lasts its whole duration bucket (at least 0.64 s).
    let durations: Vec<Duration> = views.iter().map(Transcript::duration).collect();
    assert!(
        durations.iter().all(|d| *d >= Duration::from_millis(600)),
        "an answer ended with its generation: {durations:?}"
    );
    let spread = durations
        .iter()
        .max()
        .unwrap()
        .saturating_sub(*durations.iter().min().unwrap());
    assert!(
        spread < Duration::from_millis(400),
        "the durations tell the lengths apart: {durations:?}"
    );
    // After 300 ms (twice the longest generation), every answer has sent about the
    // same share of its bytes: the rate does not follow the tokens.
    let early: Vec<usize> = views
        .iter()
        .map(|v| v.bytes_by(Duration::from_millis(300)))
        .collect();
    let (lo, hi) = (*early.iter().min().unwrap(), *early.iter().max().unwrap());
    assert!(
        hi <= lo + sizes[0] / 4,
        "bytes sent in the first 300 ms follow the tokens: {early:?} of {} bytes",
        sizes[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_cannot_read_the_length_of_a_whole_answer_over_256_kib() {
    let dir = tempfile::tempdir().unwrap();
    // Each output token is 10 KiB of text: 30 and 40 tokens make answers of about
    // 300 and 400 KiB, past the request buckets.
    let piece: &'static str = Box::leak("a".repeat(10 << 10).into_boxed_str());
    let engine = Scripted::new(vec![piece; 64], Duration::ZERO);
    let p = start(
        &dir.path().join("spent.redb"),
        engine,
        ProviderConfig::default(),
    )
    .await;
    let mut sizes = Vec::new();
    for n in [30, 40, 7, 12] {
        sizes.push(whole(&p, n).await.bytes());
    }
    eprintln!("sealed sizes for 30, 40, 7, 12 tokens of 10 KiB: {sizes:?}");
    assert_eq!(
        sizes[0], sizes[1],
        "two long answers in one bucket differ in size"
    );
    assert_eq!(sizes[2], sizes[3], "two short answers differ in size");
}
