//! Interop with Cloudflare's `@cloudflare/privacypass-ts` (0.8.1, run with node): it
//! verifies tokens our issuer signed, and tokens it finalizes from our issuer's
//! responses are accepted by our provider. Challenges, token requests, tokens, the issuer
//! key and the `Authorization` header agree byte for byte.
//!
//! The node side is `tests/interop/interop.mjs`; its packages come from
//! `tests/interop/package-lock.json` through `./scripts/setup.sh`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use plexus_privacy::token::{
    IssuerKey, TOKEN_LEN, TOKEN_REQUEST_LEN, Token, TokenChallenge, TokenError, TokenRequest,
    TokenVerifier, authorization_value, begin_issuance, parse_authorization,
};

use super::tokens_round_trip_and_are_bound_to_one_provider::issuer;

const ISSUER: &str = "issuer.plexus";
const PROVIDER: &str = "provider-a.plexus";
const OTHER_PROVIDER: &str = "provider-b.plexus";
/// The version `tests/interop/package-lock.json` pins.
const PRIVACYPASS_TS_VERSION: &str = "0.8.1";

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// One reply from the node side: `key=value` fields.
struct Reply(BTreeMap<String, String>);

impl Reply {
    fn raw(&self, key: &str) -> &str {
        self.0
            .get(key)
            .unwrap_or_else(|| panic!("reply has no {key}: {:?}", self.0))
    }
    fn bytes(&self, key: &str) -> Vec<u8> {
        hex::decode(self.raw(key)).unwrap()
    }
    fn text(&self, key: &str) -> String {
        String::from_utf8(self.bytes(key)).unwrap()
    }
    fn flag(&self, key: &str) -> bool {
        match self.raw(key) {
            "true" => true,
            "false" => false,
            other => panic!("{key}={other} is not a flag"),
        }
    }
}

/// `tests/interop/interop.mjs` running under node, spoken to line by line.
struct PrivacyPassTs {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl PrivacyPassTs {
    /// Start the node side; panics, naming the setup script, if it is not installed.
    fn start() -> Self {
        let dir = interop_dir();
        let package = dir.join("node_modules/@cloudflare/privacypass-ts/package.json");
        assert!(
            package.is_file(),
            "{} is missing: run ./scripts/setup.sh (it runs `npm ci` in {})",
            package.display(),
            dir.display()
        );
        let mut child = Command::new("node")
            .arg("interop.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node ({e}): run ./scripts/setup.sh"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut node = Self {
            child,
            stdin,
            stdout,
        };
        let version = node.call("hello", &[]).unwrap().text("version");
        assert_eq!(
            version, PRIVACYPASS_TS_VERSION,
            "stale tests/interop/node_modules: run ./scripts/setup.sh"
        );
        node
    }

    /// Send one request; `Err` carries the node side's error message.
    fn call(&mut self, op: &str, args: &[(&str, &[u8])]) -> Result<Reply, String> {
        let mut line = op.to_owned();
        for (key, value) in args {
            line.push_str(&format!(" {key}={}", hex::encode(value)));
        }
        self.send(&line)
    }

    fn send(&mut self, line: &str) -> Result<Reply, String> {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let mut reply = String::new();
        let n = self.stdout.read_line(&mut reply).unwrap();
        assert!(
            n > 0,
            "node exited while answering {line} (its stderr is above; \
             run ./scripts/setup.sh if its packages are missing)"
        );
        let reply = reply.trim_end();
        if let Some(message) = reply.strip_prefix("err ") {
            return Err(message.to_owned());
        }
        let fields = reply
            .strip_prefix("ok")
            .unwrap_or_else(|| panic!("bad reply {reply}"))
            .split_whitespace()
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        Ok(Reply(fields))
    }

    fn ok(&mut self, op: &str, args: &[(&str, &[u8])]) -> Reply {
        self.call(op, args)
            .unwrap_or_else(|e| panic!("privacypass-ts {op} failed: {e}"))
    }

    /// Verify `token` as an origin built on privacypass-ts would, for the challenge
    /// `issuer_name`, no redemption context, `origin_info = origins`.
    fn verify(
        &mut self,
        token: &[u8],
        token_key: &[u8],
        issuer_name: &str,
        origins: &str,
    ) -> Reply {
        self.ok(
            "verify",
            &[
                ("token", token),
                ("token_key", token_key),
                ("issuer_name", issuer_name.as_bytes()),
                ("redemption_context", &[]),
                ("origin_info", origins.as_bytes()),
            ],
        )
    }
}

impl Drop for PrivacyPassTs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn verifier() -> TokenVerifier {
    let mut v = TokenVerifier::new();
    v.add_key(ISSUER, issuer().public().clone());
    v
}

fn challenges() -> Vec<TokenChallenge> {
    let mut two_origins = TokenChallenge::for_origin(ISSUER, PROVIDER);
    two_origins.origin_info.push(OTHER_PROVIDER.to_owned());
    let mut any_origin = TokenChallenge::for_origin(ISSUER, PROVIDER);
    any_origin.origin_info.clear();
    let mut with_context = TokenChallenge::for_origin("issuer.example", "origin.example");
    with_context.redemption_context = (0..32).collect();
    vec![
        TokenChallenge::for_origin(ISSUER, PROVIDER),
        two_origins,
        any_origin,
        with_context,
    ]
}

#[test]
fn privacypass_ts_encodes_and_decodes_our_challenges_byte_for_byte() {
    let mut node = PrivacyPassTs::start();
    for challenge in challenges() {
        let ours = challenge.encode().unwrap();
        let origins = challenge.origin_info.join(",");

        let built = node
            .ok(
                "encode_challenge",
                &[
                    ("issuer_name", challenge.issuer_name.as_bytes()),
                    ("redemption_context", &challenge.redemption_context),
                    ("origin_info", origins.as_bytes()),
                ],
            )
            .bytes("challenge");
        assert_eq!(built, ours, "{challenge:?}");
        assert_eq!(TokenChallenge::decode(&built).unwrap(), challenge);

        let decoded = node.ok("decode_challenge", &[("challenge", &ours)]);
        assert_eq!(
            decoded.bytes("token_type"),
            challenge.token_type.to_be_bytes()
        );
        assert_eq!(decoded.text("issuer_name"), challenge.issuer_name);
        assert_eq!(
            decoded.bytes("redemption_context"),
            challenge.redemption_context
        );
        assert_eq!(decoded.text("origin_info"), origins);
        assert_eq!(decoded.bytes("reencoded"), ours);
    }
}

#[test]
fn privacypass_ts_verifies_tokens_our_issuer_signed_and_rejects_tampered_copies() {
    let mut node = PrivacyPassTs::start();
    let key = issuer().public();

    // Our published token-key is the encoding privacypass-ts derives from the same
    // key, so both compute the same key id.
    let token_key = node.ok("token_key", &[("token_key", key.spki())]);
    assert_eq!(token_key.bytes("reencoded"), key.spki());
    assert_eq!(token_key.bytes("key_id"), key.key_id());
    assert_eq!(
        token_key.bytes("truncated_key_id"),
        [key.truncated_key_id()]
    );

    let challenge = TokenChallenge::for_origin(ISSUER, PROVIDER);
    let (request, pending) = begin_issuance(key, &challenge).unwrap();
    let request = request.encode();
    let parsed = node.ok("decode_token_request", &[("token_request", &request)]);
    assert_eq!(parsed.bytes("token_type"), [0x00, 0x02]);
    assert_eq!(parsed.bytes("truncated_key_id"), [key.truncated_key_id()]);
    assert_eq!(parsed.bytes("reencoded"), request);

    let response = issuer().issue(&request).unwrap();
    let token = pending.finalize(&response.encode()).unwrap();
    let encoded = token.encode();

    let verdict = node.verify(&encoded, key.spki(), ISSUER, PROVIDER);
    assert!(verdict.flag("signature"));
    assert!(verdict.flag("challenge"));
    assert!(verdict.flag("key_id"));
    assert!(verdict.flag("valid"));
    assert_eq!(verdict.bytes("reencoded"), encoded);

    // Its Authorization header is ours, and each side parses the other's.
    let header = verdict.text("authorization");
    assert_eq!(header, authorization_value(std::slice::from_ref(&token)));
    assert_eq!(parse_authorization(&header).unwrap(), vec![encoded.clone()]);
    let second = {
        let (request, pending) = begin_issuance(key, &challenge).unwrap();
        let response = issuer().issue(&request.encode()).unwrap();
        pending.finalize(&response.encode()).unwrap()
    };
    let expected = vec![encoded.clone(), second.encode()];
    let both = authorization_value(&[token, second]);
    let tokens = node
        .ok("parse_authorization", &[("authorization", both.as_bytes())])
        .raw("tokens")
        .split(',')
        .map(|t| hex::decode(t).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(tokens, expected);

    // The same token, for another origin's challenge: the signature holds, the binding
    // does not.
    let elsewhere = node.verify(&encoded, key.spki(), ISSUER, OTHER_PROVIDER);
    assert!(elsewhere.flag("signature"));
    assert!(!elsewhere.flag("challenge"));
    assert!(!elsewhere.flag("valid"));

    // One flipped bit in each field, and the token fails privacypass-ts's checks.
    for (field, at) in [
        ("nonce", 2),
        ("challenge digest", 34),
        ("key id", 66),
        ("authenticator", 98),
        ("last authenticator byte", TOKEN_LEN - 1),
    ] {
        let mut tampered = encoded.clone();
        tampered[at] ^= 0x01;
        let verdict = node.verify(&tampered, key.spki(), ISSUER, PROVIDER);
        assert!(!verdict.flag("signature"), "tampered {field} verified");
        assert!(!verdict.flag("valid"), "tampered {field} accepted");
        assert!(verifier().verify_for_origin(&tampered, PROVIDER).is_err());
    }

    // Another issuer's key does not verify our issuer's signature.
    let stranger = IssuerKey::generate().unwrap();
    let verdict = node.verify(&encoded, stranger.public().spki(), ISSUER, PROVIDER);
    assert!(!verdict.flag("signature"));
    assert!(!verdict.flag("key_id"));
}

#[test]
fn tokens_privacypass_ts_finalizes_from_our_issuer_are_accepted_for_their_origin_only() {
    let mut node = PrivacyPassTs::start();
    let key = issuer().public();
    let challenge = TokenChallenge::for_origin(ISSUER, PROVIDER)
        .encode()
        .unwrap();

    let mut tokens = Vec::new();
    for _ in 0..3 {
        let request = node.ok(
            "request",
            &[("token_key", key.spki()), ("challenge", &challenge)],
        );
        let token_request = request.bytes("token_request");
        assert_eq!(token_request.len(), TOKEN_REQUEST_LEN);
        assert_eq!(
            TokenRequest::decode(&token_request)
                .unwrap()
                .truncated_token_key_id,
            key.truncated_key_id()
        );
        let response = issuer().issue(&token_request).unwrap().encode();
        let finalized = node.ok(
            "finalize",
            &[("id", &request.bytes("id")), ("token_response", &response)],
        );
        let token = finalized.bytes("token");
        assert_eq!(token.len(), TOKEN_LEN);

        let verified = verifier().verify_for_origin(&token, PROVIDER).unwrap();
        assert_eq!(verified.issuer_name, ISSUER);
        assert_eq!(verified.token_key_id, key.key_id());
        assert_eq!(Token::decode(&token).unwrap().encode(), token);
        assert_eq!(
            verifier().verify_for_origin(&token, OTHER_PROVIDER),
            Err(TokenError::WrongChallenge)
        );

        // Its Authorization header parses on our side to the same token.
        let header = finalized.text("authorization");
        assert_eq!(parse_authorization(&header).unwrap(), vec![token.clone()]);
        tokens.push(token);
    }
    // Fresh nonces: three distinct tokens.
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 3);

    // privacypass-ts's client checks our issuer's answer: a response signed by another
    // key, altered or cut short is refused at finalize.
    let stranger = IssuerKey::generate().unwrap();
    for bad in [Bad::OtherKey, Bad::FlippedByte, Bad::Truncated] {
        let request = node.ok(
            "request",
            &[("token_key", key.spki()), ("challenge", &challenge)],
        );
        let token_request = request.bytes("token_request");
        let response = match bad {
            Bad::OtherKey => {
                // Our issuer refuses a request naming another key; sign it anyway. The
                // blinded message lies below our key's modulus, not always below a
                // stranger's (RSA then refuses it): draw strangers until one can sign.
                let mut renamed = TokenRequest::decode(&token_request).unwrap();
                std::iter::once(stranger.clone())
                    .chain(std::iter::repeat_with(|| IssuerKey::generate().unwrap()))
                    .take(32)
                    .find_map(|other| {
                        renamed.truncated_token_key_id = other.public().truncated_key_id();
                        other.issue(&renamed.encode()).ok()
                    })
                    .expect("one of 32 keys has a modulus above the blinded message")
                    .encode()
            }
            Bad::FlippedByte => {
                let mut response = issuer().issue(&token_request).unwrap().encode();
                response[17] ^= 0x80;
                response
            }
            Bad::Truncated => {
                let mut response = issuer().issue(&token_request).unwrap().encode();
                response.pop();
                response
            }
        };
        let finalized = node.call(
            "finalize",
            &[("id", &request.bytes("id")), ("token_response", &response)],
        );
        assert!(finalized.is_err(), "{bad:?} response finalized");
    }
}

/// Ways an issuer's response can be wrong.
#[derive(Debug, Clone, Copy)]
enum Bad {
    /// Signed by another issuer key.
    OtherKey,
    /// One bit of the blind signature flipped.
    FlippedByte,
    /// One byte short.
    Truncated,
}
