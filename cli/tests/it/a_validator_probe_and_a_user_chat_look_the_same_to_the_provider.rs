//! A provider must not be able to tell a validator's probe from a user's request
//! (Bittensor miners can: validators sign their queries). A recorder in front of the
//! provider keeps every request it receives from the relay; the test opens them with
//! the provider's own OHTTP key and compares a `plexus chat` turn with the probes of
//! one `plexus validator` epoch: the same HTTP request from the relay, the same
//! encapsulated length, the same BHTTP head, the same padded plaintext length, and
//! the same JSON body but for the words of the question.

use plexus_privacy::{chunked, message::Request, oblivious::Gateway, rotation::KeySchedule};
use serde_json::Value;

use crate::support::{PrivateNet, Recorded, Recorder, ok};

/// Everything about a request that the provider sees, with the question's words
/// taken out.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    /// Method and path the relay used.
    outer_line: (String, String),
    /// The relay's header fields, in order, with their values.
    outer_headers: Vec<(String, Vec<u8>)>,
    /// Length of the encapsulated request.
    encapsulated_len: usize,
    /// Length of the decrypted plaintext (BHTTP plus padding).
    plaintext_len: usize,
    /// Method, scheme, authority and path inside.
    inner_line: (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>),
    /// Inner header names with the length of each value.
    inner_headers: Vec<(Vec<u8>, usize)>,
    /// The JSON body with every message's content emptied.
    body: Value,
}

fn shape(r: &Recorded, gateway: &Gateway) -> (Shape, String) {
    let opened = chunked::decapsulate(gateway, &r.body).expect("a chunked OHTTP request");
    let inner = Request::decode(&opened.request).expect("a BHTTP request");
    let mut body: Value = serde_json::from_slice(&inner.body).expect("a JSON body");
    let question = body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for m in body["messages"].as_array_mut().expect("messages") {
        m["content"] = Value::String(String::new());
    }
    let shape = Shape {
        outer_line: (r.method.clone(), r.path.clone()),
        outer_headers: r.headers.clone(),
        encapsulated_len: r.body.len(),
        plaintext_len: opened.request.len(),
        inner_line: (inner.method, inner.scheme, inner.authority, inner.path),
        inner_headers: inner
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), v.len()))
            .collect(),
        body,
    };
    (shape, question)
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

    // One epoch of the validator, which buys its own credits like any user.
    ok(net
        .cli()
        .args(["validator", "--name", "op", "--hotkey", "validator"])
        .args(["--netuid", &net.netuid, "--epochs", "1", "--relay", &relay])
        .arg("--data-dir")
        .arg(net.dir().join("validator-state")));
    let probes = recorder.seen().split_off(1);
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
    let (user_shape, asked) = shape(&user[0], &gateway);
    assert_eq!(asked, question);
    for probe in &probes {
        let (probe_shape, probed) = shape(probe, &gateway);
        assert_ne!(probed, question, "a probe carries its own question");
        assert_eq!(
            probe_shape, user_shape,
            "the probe {probed:?} differs from the user's request"
        );
    }
}
