//! A provider must not be able to tell a validator's probe from a user's request
//! (Bittensor miners can: validators sign their queries). A recorder in front of the
//! provider keeps every request it receives from the relay; the test opens them with
//! the provider's own OHTTP key and compares a `plexus chat` turn with the probes of
//! one `plexus validator` epoch: the same HTTP request from the relay, the same BHTTP
//! head, lengths only in the padding buckets every request falls into, and a JSON body
//! of the fields and roles real clients send. What a probe asks, how long it is and
//! its parameters come from the distribution of user requests (the red-team bench
//! measures how well a classifier tells them apart); no field marks it. A probe that
//! asks for a whole answer travels as plain OHTTP, as any non-streaming client's
//! request does, and is compared with the user's request on that media type.

use plexus_privacy::{
    chunked, message::Request, oblivious, oblivious::Gateway, rotation::KeySchedule,
};
use serde_json::Value;

use crate::support::{PrivateNet, Recorded, Recorder, ok};

/// Everything about a request that the provider sees and that no user varies: the
/// question, its length and its parameters taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    /// Method and path the relay used.
    outer_line: (String, String),
    /// The relay's header fields, in order (values but the length's).
    outer_headers: Vec<(String, Option<Vec<u8>>)>,
    /// Method, scheme, authority and path inside.
    inner_line: (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>),
    /// Inner header names.
    inner_headers: Vec<Vec<u8>>,
}

/// Fields `plexus chat` and the OpenAI SDKs send on a chat request.
const CLIENT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "stream",
    "stream_options",
    "seed",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "user",
];

/// The sizes the padding leaves: the plaintext is one of the request buckets.
fn bucketed(len: usize) -> bool {
    plexus_privacy::padding::BUCKETS.contains(&len)
}

/// The request's media type as the relay forwarded it.
fn media_type(r: &Recorded) -> &[u8] {
    r.headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map_or(&[][..], |(_, v)| v.as_slice())
}

/// Open a recorded request: streamed answers are asked for as chunked OHTTP, whole ones
/// as plain OHTTP (`plexus chat` streams; a client of `plexus proxy` may not).
fn shape(r: &Recorded, gateway: &Gateway) -> (Shape, Value, usize) {
    let request = if media_type(r) == chunked::REQUEST_MEDIA_TYPE.as_bytes() {
        chunked::decapsulate(gateway, &r.body)
            .expect("a chunked OHTTP request")
            .request
    } else {
        gateway
            .decapsulate(&r.body)
            .expect("an OHTTP request")
            .request
    };
    let inner = Request::decode(&request).expect("a BHTTP request");
    let body: Value = serde_json::from_slice(&inner.body).expect("a JSON body");
    let shape = Shape {
        outer_line: (r.method.clone(), r.path.clone()),
        outer_headers: r
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), (n != "content-length").then(|| v.clone())))
            .collect(),
        inner_line: (inner.method, inner.scheme, inner.authority, inner.path),
        inner_headers: inner.headers.iter().map(|(n, _)| n.clone()).collect(),
    };
    (shape, body, request.len())
}

/// The last user turn of a chat request body.
fn last_question(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_validator_probe_and_a_user_chat_look_the_same_to_the_provider() {
    let mut recorder = None;
    let net = PrivateNet::start(|port| {
        let r = Recorder::start(port);
        let url = r.url();
        recorder = Some(r);
        url
    });
    let recorder = recorder.unwrap();
    let relay = format!("http://127.0.0.1:{}", net.relay_port);

    // A user's first turn, with `plexus chat`'s defaults.
    net.user("alice", 10, 10, &relay);
    let question = "What is the capital of France?";
    ok(net.cli().args([
        "--json",
        "chat",
        "--name",
        "alice",
        "--message",
        question,
        "--relay",
        &relay,
    ]));
    let user = recorder.seen();
    assert_eq!(user.len(), 1, "one request for one turn: {user:?}");

    // Epochs of the validator, which buys its own credits like any user, until it
    // probed at least twice (its probes arrive at Poisson times: one epoch of a busy
    // provider can hold a single one).
    let mut probes = Vec::new();
    for _ in 0..3 {
        ok(net
            .cli()
            .args(["validator", "--name", "op", "--hotkey", "validator"])
            .args(["--netuid", &net.netuid, "--epochs", "1", "--relay", &relay])
            .arg("--data-dir")
            .arg(net.dir().join("validator-state")));
        probes = recorder.seen().split_off(1);
        if probes.len() >= 2 {
            break;
        }
    }
    assert!(
        probes.len() >= 2,
        "the validator probed: {probes:?}\n{}",
        net.logs()
    );

    let seed: [u8; 32] = std::fs::read(net.dir().join("provider-state/ohttp.seed"))
        .unwrap()
        .try_into()
        .unwrap();
    // The provider's keys of the first key epoch and the next (clients seal to the
    // newest valid one), as it derives them from its seed.
    let schedule =
        KeySchedule::new(&seed, plexus_ledger::params::DEFAULT_ISSUER_KEY_PERIOD).unwrap();
    let gateway = schedule.gateway(schedule.window(0)).unwrap();
    let (user_shape, user_body, user_len) = shape(&user[0], &gateway);
    assert_eq!(last_question(&user_body), question);
    assert!(bucketed(user_len), "{user_len}");
    for probe in &probes {
        let (probe_shape, body, len) = shape(probe, &gateway);
        let probed = last_question(&body);
        assert_ne!(probed, question, "a probe carries its own question");
        // A probe that asks for a whole answer looks like a user's request for one: the
        // same request but for the plain OHTTP media type (the same client code sends
        // both, `plexus_client::private::send`).
        let mut expected = user_shape.clone();
        if body["stream"] != true {
            for (name, value) in &mut expected.outer_headers {
                if name == "content-type" {
                    *value = Some(oblivious::REQUEST_MEDIA_TYPE.as_bytes().to_vec());
                }
            }
        }
        assert_eq!(
            probe_shape, expected,
            "the probe {probed:?} differs from the user's request"
        );
        assert!(
            bucketed(len),
            "the probe {probed:?} is {len} bytes, not a bucket"
        );
        let fields = body.as_object().expect("a JSON object");
        for key in fields.keys() {
            assert!(
                CLIENT_FIELDS.contains(&key.as_str()),
                "the probe {probed:?} sends `{key}`, which no client sends"
            );
        }
        assert_eq!(body["model"], user_body["model"]);
        for m in body["messages"].as_array().expect("messages") {
            let role = m["role"].as_str().unwrap_or_default();
            assert!(["system", "user", "assistant"].contains(&role), "{m}");
            assert!(m["content"].is_string(), "{m}");
        }
    }
}
