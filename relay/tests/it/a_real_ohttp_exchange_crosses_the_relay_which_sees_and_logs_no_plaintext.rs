//! A real OHTTP exchange (HPKE-sealed, padded BHTTP) through the relay: the gateway
//! opens the request and the client the response, while everything the relay
//! handled, and everything it logged at any level, holds neither the prompt, nor the
//! answer, nor the client's address, nor (on success) the target.

use std::{
    io,
    sync::{Arc, Mutex},
};

use axum::{body::Bytes, http::StatusCode};
use plexus_privacy::{
    message::{Request, Response},
    oblivious::{self, Gateway, GatewayKey, decode_key_list, encapsulate},
    padding::pad_to_bucket,
};
use tracing_subscriber::{filter::Targets, layer::SubscriberExt as _};

use crate::support::{
    CLIENT_IP, answer, client, hotkey, local_config, recording_gateway, relay, serve_relay,
};

const PROMPT: &str = "my secret plan involves 42 zebras";
const ANSWER: &str = "the zebras are ready at dawn";

/// Everything written to it, shared.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_exchange_round_trips_and_the_relay_sees_and_logs_only_ciphertext() {
    // All of the relay's logs, at every level, on this (single) test thread.
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(Targets::new().with_target("plexus_relay", tracing::Level::TRACE));
    let _logs = tracing::subscriber::set_default(subscriber);

    let keys = Arc::new(Gateway::new(vec![GatewayKey::generate(1).unwrap()]).unwrap());
    let opener = Arc::clone(&keys);
    let (gateway, log) = recording_gateway(move |body: Bytes| {
        let opened = opener.decapsulate(&body).unwrap();
        let request = Request::decode(&opened.request).unwrap();
        assert_eq!(request.body, PROMPT.as_bytes());
        let response = Response {
            status: 200,
            headers: vec![(b"content-type".to_vec(), b"text/plain".to_vec())],
            body: ANSWER.as_bytes().to_vec(),
        };
        let sealed = opened.response.seal(&response.encode().unwrap()).unwrap();
        answer(StatusCode::OK, oblivious::RESPONSE_MEDIA_TYPE, sealed)
    })
    .await;
    let target = hotkey(4);
    let relay = relay(local_config(), &[(target, gateway)]);
    let base = serve_relay(relay).await;

    let config = &decode_key_list(&keys.key_list().unwrap()).unwrap()[0];
    let request = Request {
        method: b"POST".to_vec(),
        scheme: b"https".to_vec(),
        authority: b"provider".to_vec(),
        path: b"/v1/chat/completions".to_vec(),
        headers: vec![(b"content-type".to_vec(), b"text/plain".to_vec())],
        body: PROMPT.as_bytes().to_vec(),
    };
    let plaintext = pad_to_bucket(request.encode().unwrap()).unwrap();
    let (sealed, pending) = encapsulate(config, &plaintext).unwrap();
    let response = client()
        .post(format!("{base}/v1/relay/{}", target.to_address()))
        .header("content-type", oblivious::REQUEST_MEDIA_TYPE)
        .body(sealed.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let sealed_answer = response.bytes().await.unwrap();
    let opened = Response::decode(&pending.open(&sealed_answer).unwrap()).unwrap();
    assert_eq!(opened.body, ANSWER.as_bytes());

    // The relay's whole view: the ciphertexts it carried, and its logs.
    let forwarded = log.lock().unwrap()[0].body.clone();
    assert!(forwarded == sealed, "the relay altered the ciphertext");
    assert_eq!(
        forwarded.len(),
        4096 + oblivious::MIN_ENCAPSULATED_REQUEST_LEN,
        "the relay learns only the size bucket"
    );
    for seen in [&forwarded[..], &sealed_answer[..]] {
        assert!(!contains(seen, PROMPT.as_bytes()));
        assert!(!contains(seen, ANSWER.as_bytes()));
        assert!(!contains(seen, b"chat/completions"));
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("relay: forwarded"),
        "the capture must see the relay's logs: {logs}"
    );
    for secret in [
        PROMPT,
        ANSWER,
        "zebras",
        &CLIENT_IP.to_string(),
        &target.to_address(),
    ] {
        assert!(
            !logs.contains(secret),
            "the relay logged {secret:?}: {logs}"
        );
    }
}
