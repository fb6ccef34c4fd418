//! The private path over a real loopback socket: whole and streamed answers, each
//! token served once (in sequence, concurrently, across a restart), and every hostile
//! request refused while the gateway keeps serving.

use std::{path::Path, sync::OnceLock, time::Duration};

use futures::StreamExt as _;
use plexus_client::private::{PlainRequest, Route, send, send_streamed};
use plexus_privacy::{
    oblivious::{self, Gateway, GatewayKey, PublicKeyConfig},
    token::{IssuerKey, Token, TokenChallenge, begin_issuance},
};
use plexus_provider::{
    ProviderConfig,
    private::{GatewayLimits, Keyring, PrivateGateway, private_router},
    spent::SpentStore,
};
use reqwest::Url;

use crate::support::{Scripted, chat, provider, sse_data};

const ISSUER: &str = "plx1issuer";
const ORIGIN: &str = "plx1provider";

pub(crate) fn issuer() -> &'static IssuerKey {
    static KEY: OnceLock<IssuerKey> = OnceLock::new();
    KEY.get_or_init(|| IssuerKey::generate().unwrap())
}

pub(crate) fn token(key: &IssuerKey, issuer_name: &str, origin: &str) -> Token {
    let challenge = TokenChallenge::for_origin(issuer_name, origin);
    let (request, pending) = begin_issuance(key.public(), &challenge).unwrap();
    pending
        .finalize(&key.issue(&request.encode()).unwrap().encode())
        .unwrap()
}

struct Running {
    url: Url,
    config: PublicKeyConfig,
    gateway: PrivateGateway,
    server: tokio::task::JoinHandle<()>,
    shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    /// Stops the way a process exits: every connection closed, then wait until the
    /// last connection task has let go of the spent store at `spent` (a restarted
    /// process could not open it before the old one is gone either).
    async fn stop(self, spent: &Path) {
        let _ = self.shutdown.send(());
        self.server.await.unwrap();
        drop(self.gateway);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match SpentStore::open(spent) {
                Ok(_) => return,
                Err(e) if std::time::Instant::now() > deadline => {
                    panic!("the stopped provider still holds its spent store: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
}

/// A provider with the private path on 127.0.0.1, its spent store at `spent`.
async fn start(spent: &Path) -> Running {
    let engine = Scripted::new(vec!["Hello", ",", " world"], Duration::ZERO);
    let (provider, _) = provider(engine, ProviderConfig::default());
    let ohttp = Gateway::new(vec![GatewayKey::derive(1, &[5; 32]).unwrap()]).unwrap();
    let config = ohttp.public_configs().unwrap().remove(0);
    let gateway = PrivateGateway::new(
        ohttp,
        ORIGIN.into(),
        SpentStore::open(spent).unwrap(),
        provider,
        GatewayLimits::default(),
    );
    let mut keyring = Keyring::new();
    keyring.add(ISSUER, issuer().public().clone(), 1);
    gateway.set_keyring(keyring);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let app = private_router(gateway.clone());
    let (shutdown, stopped) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Running {
        url,
        config,
        gateway,
        server,
        shutdown,
    }
}

fn chat_request(stream: bool, tokens: Vec<Token>) -> PlainRequest {
    PlainRequest {
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        body: chat(stream).to_string().into_bytes(),
        tokens,
    }
}

const T: Duration = Duration::from_secs(20);

fn code(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_buys_one_answer_whole_or_streamed_and_is_queued_for_settlement() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(&dir.path().join("spent.redb")).await;
    let route = Route::direct(&p.url, p.config.clone()).unwrap();
    let http = reqwest::Client::new();

    let t = token(issuer(), ISSUER, ORIGIN);
    let answer = send(&http, &route, &chat_request(false, vec![t.clone()]), T)
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello, world");

    // The same token again, in sequence: refused inside the sealed answer.
    let again = send(&http, &route, &chat_request(false, vec![t]), T)
        .await
        .unwrap();
    assert_eq!(
        (again.status, code(&again.body).as_str()),
        (409, "token_already_spent")
    );

    // Streamed: the head first, then SSE events in fixed-size frames.
    let streamed = send_streamed(
        &http,
        &route,
        &chat_request(true, vec![token(issuer(), ISSUER, ORIGIN)]),
        T,
    )
    .await
    .unwrap();
    assert_eq!(streamed.head.status, 200);
    assert_eq!(
        streamed.head.content_type.as_deref(),
        Some("text/event-stream")
    );
    let pieces: Vec<Vec<u8>> = streamed.body.map(Result::unwrap).collect().await;
    let text = pieces.concat();
    let data = sse_data(&text);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let content: String = data
        .iter()
        .filter(|d| d.as_str() != "[DONE]")
        .filter_map(|d| {
            serde_json::from_str::<serde_json::Value>(d).unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Hello, world");
    // Both redeemed tokens wait for settlement.
    assert_eq!(p.gateway.spent().unsettled(10).unwrap().len(), 2);
    p.server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_token_spent_concurrently_and_after_a_restart_is_served_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spent.redb");
    let t = token(issuer(), ISSUER, ORIGIN);
    {
        let p = start(&path).await;
        let route = Route::direct(&p.url, p.config.clone()).unwrap();
        let http = reqwest::Client::new();
        let tries = (0..8).map(|_| {
            let (http, route, t) = (http.clone(), route.clone(), t.clone());
            tokio::spawn(async move {
                send(&http, &route, &chat_request(false, vec![t]), T)
                    .await
                    .unwrap()
                    .status
            })
        });
        let statuses: Vec<u16> = futures::future::join_all(tries)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|&&s| s == 409).count(),
            7,
            "{statuses:?}"
        );
        drop(http);
        p.stop(&path).await;
    }
    // A new process over the same store: the token stays spent.
    let p = start(&path).await;
    let route = Route::direct(&p.url, p.config.clone()).unwrap();
    let answer = send(
        &reqwest::Client::new(),
        &route,
        &chat_request(false, vec![t]),
        T,
    )
    .await
    .unwrap();
    assert_eq!(
        (answer.status, code(&answer.body).as_str()),
        (409, "token_already_spent")
    );
    p.server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_with_clear_errors_and_the_gateway_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(&dir.path().join("spent.redb")).await;
    let route = Route::direct(&p.url, p.config.clone()).unwrap();
    let http = reqwest::Client::new();

    // Sealed refusals: a token for another provider, a token of an unknown issuer key,
    // no token, too few credits.
    let cases = [
        (
            vec![token(issuer(), ISSUER, "plx1someoneelse")],
            "token_for_another_provider",
        ),
        (
            vec![token(&IssuerKey::generate().unwrap(), ISSUER, ORIGIN)],
            "unknown_issuer_key",
        ),
        (vec![], "missing_token"),
    ];
    for (tokens, want) in cases {
        let answer = send(&http, &route, &chat_request(false, tokens), T)
            .await
            .unwrap();
        assert_eq!(code(&answer.body), want);
        assert_eq!(answer.status, 401);
    }
    let mut costly = chat_request(false, vec![token(issuer(), ISSUER, ORIGIN)]);
    // A valid request (the provider checks it as its route would before pricing it)
    // asking for more than one credit buys.
    costly.body = serde_json::json!({
        "model": "scripted-1",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 2000,
    })
    .to_string()
    .into_bytes();
    let answer = send(&http, &route, &costly, T).await.unwrap();
    assert_eq!(
        (answer.status, code(&answer.body).as_str()),
        (402, "insufficient_credits")
    );

    // Outer refusals, in plain HTTP: a replayed encapsulation, a key not registered
    // (another key id), a ciphertext for another key with the same id, garbage,
    // an oversized body, the wrong media type.
    let ohttp_url = p.url.join("ohttp").unwrap();
    let raw = |body: Vec<u8>, ct: &'static str| {
        let http = http.clone();
        let url = ohttp_url.clone();
        async move {
            let r = http
                .post(url)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            (status, code)
        }
    };
    let inner = {
        let bhttp = plexus_privacy::message::Request {
            method: b"GET".to_vec(),
            path: b"/v1/models".to_vec(),
            ..Default::default()
        };
        plexus_privacy::padding::pad_to_bucket(bhttp.encode().unwrap()).unwrap()
    };
    // A free request persists nothing, so its replay is answered again (it changes
    // nothing and tells the relay nothing new); a paid one runs once.
    let (sealed, _) = oblivious::encapsulate(&p.config, &inner).unwrap();
    assert_eq!(raw(sealed.clone(), "message/ohttp-req").await.0, 200);
    assert_eq!(raw(sealed, "message/ohttp-req").await.0, 200);
    let paid = {
        let bhttp = plexus_privacy::message::Request {
            method: b"POST".to_vec(),
            path: b"/v1/chat/completions".to_vec(),
            headers: vec![
                (b"content-type".to_vec(), b"application/json".to_vec()),
                (
                    b"authorization".to_vec(),
                    plexus_privacy::token::authorization_value(&[token(issuer(), ISSUER, ORIGIN)])
                        .into_bytes(),
                ),
            ],
            body: chat(false).to_string().into_bytes(),
            ..Default::default()
        };
        plexus_privacy::padding::pad_to_bucket(bhttp.encode().unwrap()).unwrap()
    };
    let (sealed, _) = oblivious::encapsulate(&p.config, &paid).unwrap();
    assert_eq!(raw(sealed.clone(), "message/ohttp-req").await.0, 200);
    assert_eq!(
        raw(sealed, "message/ohttp-req").await,
        (400, "replayed_request".into())
    );
    let foreign = GatewayKey::derive(9, &[6; 32])
        .unwrap()
        .public_config()
        .unwrap();
    let (sealed, _) = oblivious::encapsulate(&foreign, &inner).unwrap();
    assert_eq!(
        raw(sealed, "message/ohttp-req").await,
        (400, "unknown_ohttp_key".into())
    );
    let tagged = GatewayKey::derive(1, &[7; 32])
        .unwrap()
        .public_config()
        .unwrap();
    let (sealed, _) = oblivious::encapsulate(&tagged, &inner).unwrap();
    assert_eq!(
        raw(sealed, "message/ohttp-req").await,
        (400, "ohttp_decrypt_failed".into())
    );
    assert_eq!(raw(vec![1; 30], "message/ohttp-req").await.0, 400);
    assert_eq!(raw(vec![1; 300], "message/ohttp-chunked-req").await.0, 400);
    assert_eq!(
        raw(
            vec![1; oblivious::MAX_ENCAPSULATED_REQUEST_LEN + 1],
            "message/ohttp-req"
        )
        .await,
        (413, "request_too_large".into())
    );
    assert_eq!(
        raw(b"{}".to_vec(), "application/json").await,
        (415, "unsupported_media_type".into())
    );

    // Still serving.
    let answer = send(
        &http,
        &route,
        &chat_request(false, vec![token(issuer(), ISSUER, ORIGIN)]),
        T,
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    p.server.abort();
}
