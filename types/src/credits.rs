//! Private inference credits: issuer keys, bundles and the tokens providers settle.
//!
//! A credit issuer (a validator hotkey) publishes one RSA key per (denomination, key
//! epoch) with `RegisterIssuer`. A buyer moves the price of a fixed-size bundle into
//! the credit escrow of one issuer key with `BuyCredits`; the issuer then blind-signs
//! `credits / denomination` Privacy Pass tokens (RFC 9578, type 0x0002) for that
//! deposit. Providers redeem tokens off chain and claim payment with `SettleCredits`.
//! Keys follow the chain's schedule (one per denomination per key epoch, sold only in
//! their epoch), the issuer's self-stake is bonded while its keys can be settled, and
//! a buyer takes back with `RefundCredits` what an over-issuing or vanished issuer
//! owes it (the ledger's `credits` module has the rules).
//!
//! Names inside token challenges are the bech32 addresses of hotkeys: the challenge's
//! `issuer_name` is the issuer hotkey, and its single `origin_info` entry the provider
//! hotkey the token may be spent at.

use serde::{Deserialize, Serialize};

use crate::{
    CodecError, Decode, Encode,
    codec::{Reader, WriteExt},
};

/// The bundle sizes a buyer may purchase, in credits. Fixed sizes keep purchase
/// amounts from fingerprinting buyers.
pub const CREDIT_BUNDLES: [u32; 3] = [10, 100, 1000];
/// Longest encoded issuer public key (RSASSA-PSS `SubjectPublicKeyInfo`).
pub const MAX_ISSUER_SPKI: usize = 800;
/// Most keys one `RegisterIssuer` publishes.
pub const MAX_ISSUER_KEYS: usize = 4;
/// Most tokens one `SettleCredits` claims.
pub const MAX_SETTLE_TOKENS: usize = 128;
/// Length of an encoded type 0x0002 token (2 + 32 + 32 + 32 + 256 bytes).
pub const TOKEN_BYTES: usize = 354;
/// Most token requests one issuance carries (the largest bundle of 1-credit tokens).
pub const MAX_TOKENS_PER_ISSUANCE: usize = 1000;
/// Most token requests one batch of an issuance carries. A deposit of `n` tokens is
/// issued in `ceil(n / ISSUANCE_BATCH)` requests, batch `i` covering tokens
/// `[i·B, min((i+1)·B, n))` ([`IssuanceRequest::first`] = `i·B`), so every bundle fits
/// the private path's largest padded request (a batch is about 52 KB of JSON; 1,000
/// tokens in one request would be about 520 KB, over its 256 KiB).
pub const ISSUANCE_BATCH: usize = 100;
/// Path of the issuance resource inside the OHTTP request to an issuer.
pub const ISSUE_PATH: &str = "/v1/issue";
/// Output tokens one credit pays for.
pub const TOKENS_PER_CREDIT: u32 = 512;
/// Request body bytes one credit pays for: a prompt of n bytes is at most n tokens of
/// any byte-level tokenizer, so the body's length bounds the input the engine reads.
/// The first `BODY_BYTES_PER_CREDIT - 1` bytes of every request come with its minimum
/// price of one credit.
pub const BODY_BYTES_PER_CREDIT: u64 = 16_384;
/// Embedding inputs one credit pays for.
pub const EMBEDDING_INPUTS_PER_CREDIT: u64 = 256;
/// `max_tokens` a chat completion that names none is priced at, and served with on the
/// private path.
pub const DEFAULT_CHAT_MAX_TOKENS: u32 = 512;
/// `max_tokens` of a text completion that names none (OpenAI's default).
pub const DEFAULT_COMPLETION_MAX_TOKENS: u32 = 16;
/// The chat completions route.
pub const CHAT_PATH: &str = "/v1/chat/completions";
/// The text completions route.
pub const COMPLETIONS_PATH: &str = "/v1/completions";
/// The embeddings route.
pub const EMBEDDINGS_PATH: &str = "/v1/embeddings";
/// The model list (free).
pub const MODELS_PATH: &str = "/v1/models";

/// What a buyer sends an issuer (inside OHTTP, `POST` [`ISSUE_PATH`], JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuanceRequest {
    /// The deposit id from the `BuyCredits` event.
    pub deposit: u64,
    /// The index of the first token of this batch ([`ISSUANCE_BATCH`]); absent, the
    /// request covers the whole deposit and is signed with [`issuance_signing_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u32>,
    /// RFC 9578 TokenRequests, hex.
    pub token_requests: Vec<String>,
    /// The buyer coldkey's ed25519 signature over [`issuance_signing_bytes`] (whole
    /// deposit) or [`issuance_batch_signing_bytes`] (a batch), hex.
    pub signature: String,
}

/// The batches of a deposit of `tokens` tokens: `(first, len)` in order.
pub fn issuance_batches(tokens: u32) -> impl Iterator<Item = (u32, u32)> {
    let batch = ISSUANCE_BATCH as u32;
    (0..tokens.div_ceil(batch)).map(move |i| {
        let first = i * batch;
        (first, batch.min(tokens - first))
    })
}

/// What the issuer answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuanceResponse {
    /// RFC 9578 TokenResponses (blind signatures), hex, in request order.
    pub token_responses: Vec<String>,
}

/// The work a request asks of a provider, as the price counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// The most output tokens the engine may generate (`max_tokens` as served).
    pub output_tokens: u64,
    /// Embedding inputs.
    pub embedding_inputs: u64,
    /// Length of the request body in bytes (it bounds the prompt).
    pub body_bytes: u64,
    /// Whether the request is free (the model list).
    pub free: bool,
}

impl Work {
    /// Its price, the one pricing rule of the private path: `ceil(output_tokens /
    /// TOKENS_PER_CREDIT) + ceil(embedding_inputs / EMBEDDING_INPUTS_PER_CREDIT) +
    /// floor(body_bytes / BODY_BYTES_PER_CREDIT)`, at least one credit; nothing for a
    /// free request.
    pub fn credits(&self) -> u64 {
        if self.free {
            return 0;
        }
        let output = self.output_tokens.div_ceil(u64::from(TOKENS_PER_CREDIT));
        let inputs = self.embedding_inputs.div_ceil(EMBEDDING_INPUTS_PER_CREDIT);
        let body = self.body_bytes / BODY_BYTES_PER_CREDIT;
        output.saturating_add(inputs).saturating_add(body).max(1)
    }
}

/// The work a request to `path` with `body` asks for, read the way the provider reads
/// the request: on chat completions the output limit is `max_completion_tokens` when it
/// is a whole number, else `max_tokens`, else [`DEFAULT_CHAT_MAX_TOKENS`]; on text
/// completions `max_tokens`, else [`DEFAULT_COMPLETION_MAX_TOKENS`], either times the
/// number of choices `n`; on embeddings the number of inputs (an array of token ids is
/// one). A body the provider would refuse costs what this reading gives;
/// the provider refuses it before spending anything.
pub fn work_for(path: &str, body: &[u8]) -> Work {
    let route = path.split('?').next().unwrap_or_default();
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let limit = |key: &str| {
        json.as_ref()
            .and_then(|v| v.get(key))
            .and_then(serde_json::Value::as_u64)
    };
    let body_bytes = u64::try_from(body.len()).unwrap_or(u64::MAX);
    let mut work = Work {
        body_bytes,
        ..Work::default()
    };
    // Every choice (`n`) is a whole answer.
    let choices = limit("n").unwrap_or(1).max(1);
    match route {
        MODELS_PATH => work.free = true,
        COMPLETIONS_PATH => {
            work.output_tokens = limit("max_tokens")
                .unwrap_or(u64::from(DEFAULT_COMPLETION_MAX_TOKENS))
                .saturating_mul(choices);
        }
        EMBEDDINGS_PATH => {
            let input = json.as_ref().and_then(|v| v.get("input"));
            work.embedding_inputs = match input {
                // One input as token ids.
                Some(serde_json::Value::Array(inputs))
                    if inputs.first().is_some_and(serde_json::Value::is_number) =>
                {
                    1
                }
                Some(serde_json::Value::Array(inputs)) => {
                    u64::try_from(inputs.len()).unwrap_or(u64::MAX)
                }
                _ => 1,
            };
        }
        _ => {
            work.output_tokens = limit("max_completion_tokens")
                .or_else(|| limit("max_tokens"))
                .unwrap_or(u64::from(DEFAULT_CHAT_MAX_TOKENS))
                .saturating_mul(choices);
        }
    }
    work
}

/// Credits a request to `path` with `body` costs: [`Work::credits`] of [`work_for`].
/// Clients pay it; providers charge [`Work::credits`] of the request they parsed, which
/// is never more for a request they serve. The web app's `creditsFor` follows the same
/// vectors (`web/test/vectors.json`, `pricing`).
pub fn credits_for(path: &str, body: &[u8]) -> u64 {
    work_for(path, body).credits()
}

/// One issuer public key: which tokens it signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerKeySpec {
    /// Credits one token of this key is worth (at least 1).
    pub denomination: u32,
    /// The issuer's key epoch; (denomination, key epoch) names one key for good.
    pub key_epoch: u32,
    /// The RFC 9578 `token-key`: an RSASSA-PSS SPKI of a 2048-bit key.
    #[serde(with = "crate::hex_bytes")]
    pub spki: Vec<u8>,
}

impl Encode for IssuerKeySpec {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.put_u32(self.denomination);
        out.put_u32(self.key_epoch);
        out.put_bytes(&self.spki);
    }
}

impl Decode for IssuerKeySpec {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            denomination: r.u32("denomination")?,
            key_epoch: r.u32("key epoch")?,
            spki: r.bytes(MAX_ISSUER_SPKI, "issuer spki")?,
        })
    }
}

/// Read a list of issuer keys (at most [`MAX_ISSUER_KEYS`]).
pub(crate) fn read_issuer_keys(r: &mut Reader<'_>) -> Result<Vec<IssuerKeySpec>, CodecError> {
    r.list(MAX_ISSUER_KEYS, "issuer keys", IssuerKeySpec::decode_from)
}

/// Read a list of settled tokens (at most [`MAX_SETTLE_TOKENS`], each [`TOKEN_BYTES`]).
pub(crate) fn read_tokens(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>, CodecError> {
    r.list(MAX_SETTLE_TOKENS, "tokens", |r| {
        let token = r.bytes(TOKEN_BYTES, "token")?;
        if token.len() != TOKEN_BYTES {
            return Err(CodecError::Invalid {
                field: "token",
                reason: "a type 0x0002 token is 354 bytes",
            });
        }
        Ok(token)
    })
}

/// The bytes a buyer's coldkey signs to ask an issuer to sign tokens for a deposit:
/// `"plexus/credits/issue/v1" ‖ chain id ‖ deposit id ‖ blake3(token requests)`.
/// Binding the blinded requests means a relay or anyone who sees the request cannot
/// swap in its own.
pub fn issuance_signing_bytes(chain_id: u64, deposit: u64, token_requests: &[Vec<u8>]) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    for request in token_requests {
        let mut len = Vec::with_capacity(4);
        len.put_len(request.len());
        h.update(&len);
        h.update(request);
    }
    let mut out = b"plexus/credits/issue/v1".to_vec();
    out.put_u64(chain_id);
    out.put_u64(deposit);
    out.extend_from_slice(h.finalize().as_bytes());
    out
}

/// The bytes a buyer's coldkey signs for one batch of a deposit's tokens:
/// `"plexus/credits/issue/v2" ‖ chain id ‖ deposit id ‖ first ‖ blake3(token requests)`,
/// `first` being the index of the batch's first token. Binding `first` keeps a batch
/// from being presented as another.
pub fn issuance_batch_signing_bytes(
    chain_id: u64,
    deposit: u64,
    first: u32,
    token_requests: &[Vec<u8>],
) -> Vec<u8> {
    let whole = issuance_signing_bytes(chain_id, deposit, token_requests);
    let digest = &whole[whole.len() - 32..];
    let mut out = b"plexus/credits/issue/v2".to_vec();
    out.put_u64(chain_id);
    out.put_u64(deposit);
    out.put_u32(first);
    out.extend_from_slice(digest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(body: &[u8]) -> u64 {
        credits_for(CHAT_PATH, body)
    }

    #[test]
    fn a_request_costs_one_credit_per_512_output_tokens() {
        assert_eq!(chat(b"{}"), 1);
        assert_eq!(chat(b"not json"), 1);
        assert_eq!(chat(br#"{"max_tokens": 1}"#), 1);
        assert_eq!(chat(br#"{"max_tokens": 512}"#), 1);
        assert_eq!(chat(br#"{"max_tokens": 513}"#), 2);
        assert_eq!(
            chat(br#"{"max_completion_tokens": 2048, "max_tokens": 1}"#),
            4
        );
    }

    #[test]
    fn a_null_max_completion_tokens_does_not_buy_a_long_answer_for_one_credit() {
        // The provider generates up to `max_tokens` when `max_completion_tokens` is
        // null, so the price must follow the same field.
        assert_eq!(
            chat(br#"{"max_completion_tokens": null, "max_tokens": 2048}"#),
            4
        );
        assert_eq!(
            chat(br#"{"max_completion_tokens": "x", "max_tokens": 1024}"#),
            2
        );
    }

    #[test]
    fn a_text_completion_is_priced_by_the_max_tokens_it_runs_with() {
        // Text completions have no `max_completion_tokens`: the provider runs
        // `max_tokens`, so that is what the request pays for.
        let body = br#"{"max_completion_tokens": 1, "max_tokens": 4096}"#;
        assert_eq!(credits_for(COMPLETIONS_PATH, body), 8);
        assert_eq!(credits_for(COMPLETIONS_PATH, b"{}"), 1);
    }

    #[test]
    fn embeddings_are_priced_by_their_inputs_and_every_request_by_its_length() {
        let inputs: Vec<String> = (0..2048).map(|i| i.to_string()).collect();
        let body = serde_json::json!({ "input": inputs }).to_string();
        let bytes = body.len() as u64;
        assert_eq!(
            credits_for(EMBEDDINGS_PATH, body.as_bytes()),
            8 + bytes / BODY_BYTES_PER_CREDIT
        );
        assert_eq!(credits_for(EMBEDDINGS_PATH, br#"{"input": "one"}"#), 1);
        let long = serde_json::json!({
            "max_tokens": 1,
            "messages": [{"role": "user", "content": "x".repeat(100_000)}],
        })
        .to_string();
        assert_eq!(
            chat(long.as_bytes()),
            1 + long.len() as u64 / BODY_BYTES_PER_CREDIT
        );
        assert_eq!(credits_for(MODELS_PATH, b""), 0);
    }

    #[test]
    fn an_issuer_key_round_trips_and_its_encoding_is_pinned() {
        let k = IssuerKeySpec {
            denomination: 1,
            key_epoch: 7,
            spki: vec![0xaa; 3],
        };
        let bytes = k.encode();
        assert_eq!(
            bytes,
            [1, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 0xaa, 0xaa, 0xaa].to_vec()
        );
        assert_eq!(IssuerKeySpec::decode(&bytes).unwrap(), k);
    }

    #[test]
    fn issuance_signing_bytes_bind_every_request() {
        let a = issuance_signing_bytes(1, 2, &[vec![1, 2], vec![3]]);
        let b = issuance_signing_bytes(1, 2, &[vec![1], vec![2, 3]]);
        let c = issuance_signing_bytes(1, 3, &[vec![1, 2], vec![3]]);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with(b"plexus/credits/issue/v1"));
    }

    #[test]
    fn a_deposit_is_cut_into_aligned_batches_that_cover_each_token_once() {
        assert_eq!(issuance_batches(10).collect::<Vec<_>>(), [(0, 10)]);
        assert_eq!(issuance_batches(100).collect::<Vec<_>>(), [(0, 100)]);
        assert_eq!(
            issuance_batches(250).collect::<Vec<_>>(),
            [(0, 100), (100, 100), (200, 50)]
        );
        assert_eq!(issuance_batches(1000).count(), 10);
        assert_eq!(issuance_batches(0).count(), 0);
        for bundle in CREDIT_BUNDLES {
            assert_eq!(
                issuance_batches(bundle).map(|(_, n)| n).sum::<u32>(),
                bundle
            );
        }
    }

    #[test]
    fn batch_signing_bytes_bind_the_batch_and_differ_from_the_whole_deposit() {
        let requests = [vec![1, 2], vec![3]];
        let a = issuance_batch_signing_bytes(1, 2, 0, &requests);
        assert_ne!(a, issuance_batch_signing_bytes(1, 2, 100, &requests));
        assert_ne!(a, issuance_batch_signing_bytes(1, 3, 0, &requests));
        assert_ne!(a, issuance_signing_bytes(1, 2, &requests));
        assert!(a.starts_with(b"plexus/credits/issue/v2"));
        assert_eq!(a.len(), 23 + 8 + 8 + 4 + 32);
        // Pinned: the web app signs the same bytes (web/test/codec.test.ts).
        assert_eq!(
            hex::encode(issuance_batch_signing_bytes(7, 2, 100, &requests)),
            "706c657875732f637265646974732f69737375652f76320700000000000000020000000000000064000000cf505e12a05343652ca824b0a9b528f3a7990cdb19050934d76a7a97d1bea23f"
        );
    }
}
