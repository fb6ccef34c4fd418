//! Privacy Pass publicly verifiable tokens, type 0x0002 (RFC 9578 section 6).
//!
//! Blind RSA is RSABSSA-SHA384-PSS-Deterministic (RFC 9474) with 2048-bit keys, through
//! `blind-rsa-signatures`. The issuer's public key is published as an RSASSA-PSS
//! `SubjectPublicKeyInfo` (the RFC 9578 `token-key` encoding); its key id is the
//! SHA-256 of that encoding.
//!
//! Flow: the client builds a [`TokenChallenge`] naming the provider in `origin_info`,
//! calls [`begin_issuance`] to get a [`TokenRequest`] and a [`PendingToken`]; the
//! issuer answers with [`IssuerKey::issue`]; the client calls [`PendingToken::finalize`]
//! to get a [`Token`]; the provider checks it with [`TokenVerifier::verify_for_origin`]
//! and then spends its nonce in the provider's spent store
//! (`plexus_provider::spent::SpentStore`).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use blind_rsa_signatures::{
    BlindMessage, BlindSignature, BlindingResult, DefaultRng, KeyPairSha384PSSDeterministic,
    PublicKeySha384PSSDeterministic, Secret, SecretKeySha384PSSDeterministic, Signature,
};
use rsa::rand_core::CryptoRng;
use sha2::{Digest, Sha256};

/// The token type of publicly verifiable blind RSA tokens.
pub const TOKEN_TYPE: u16 = 0x0002;
/// RSA modulus size in bits.
pub const MODULUS_BITS: usize = 2048;
/// Bytes in a signature, a blinded message and an authenticator (`Nk`).
pub const NK: usize = MODULUS_BITS / 8;
/// Bytes in a token key id (`Nid`).
pub const NID: usize = 32;
/// Bytes in a client nonce.
pub const NONCE_LEN: usize = 32;
/// Bytes in an encoded [`TokenRequest`].
pub const TOKEN_REQUEST_LEN: usize = 2 + 1 + NK;
/// Bytes in an encoded [`TokenResponse`].
pub const TOKEN_RESPONSE_LEN: usize = NK;
/// Bytes in an encoded [`Token`].
pub const TOKEN_LEN: usize = 2 + NONCE_LEN + 32 + NID + NK;
/// Longest encoded [`TokenChallenge`] accepted.
pub const MAX_CHALLENGE_LEN: usize = 4096;
/// Longest encoded issuer public key (SPKI) accepted.
pub const MAX_SPKI_LEN: usize = 800;

/// The HTTP authentication scheme that carries tokens (RFC 9577 section 2.2).
pub const AUTH_SCHEME: &str = "PrivateToken";
/// Most tokens accepted in one `Authorization` header value.
pub const MAX_TOKENS_PER_HEADER: usize = 16;
/// Longest `Authorization` header value parsed.
pub const MAX_AUTHORIZATION_LEN: usize = MAX_TOKENS_PER_HEADER * (AUTH_SCHEME.len() + 8 + 480);

/// Errors from token issuance and redemption.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// A wire message had the wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    WrongLength {
        /// The message kind.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// Input longer than the limit for its kind.
    #[error("{what} of {got} bytes exceeds {max}")]
    Oversized {
        /// The input kind.
        what: &'static str,
        /// Limit.
        max: usize,
        /// Length received.
        got: usize,
    },
    /// The token type is not 0x0002.
    #[error("unsupported token type {0:#06x}")]
    WrongTokenType(u16),
    /// A token challenge is malformed.
    #[error("malformed token challenge")]
    MalformedChallenge,
    /// The issuer key is malformed or has unsupported parameters.
    #[error("invalid issuer key")]
    InvalidKey,
    /// The request names a different issuer key.
    #[error("token request names another key")]
    KeyMismatch,
    /// No known issuer key has the token's key id.
    #[error("unknown issuer key")]
    UnknownKey,
    /// The token was issued for another challenge, e.g. another provider.
    #[error("token is bound to another challenge or origin")]
    WrongChallenge,
    /// The signature does not verify.
    #[error("invalid token signature")]
    BadSignature,
    /// An `Authorization` header value is not a list of `PrivateToken token=…` credentials.
    #[error("malformed PrivateToken authorization")]
    MalformedAuthorization,
    /// Signing or blinding failed.
    #[error("blind RSA failure: {0}")]
    Crypto(blind_rsa_signatures::Error),
}

fn exact(what: &'static str, bytes: &[u8], expected: usize) -> Result<(), TokenError> {
    if bytes.len() != expected {
        return Err(TokenError::WrongLength {
            what,
            expected,
            got: bytes.len(),
        });
    }
    Ok(())
}

/// An issuer public key and its key id.
#[derive(Debug, Clone)]
pub struct IssuerPublicKey {
    key: PublicKeySha384PSSDeterministic,
    spki: Vec<u8>,
    key_id: [u8; NID],
}

impl PartialEq for IssuerPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for IssuerPublicKey {}

impl IssuerPublicKey {
    fn from_key(key: PublicKeySha384PSSDeterministic) -> Result<Self, TokenError> {
        if key.components().n().len() != NK {
            return Err(TokenError::InvalidKey);
        }
        let spki = key.to_spki().map_err(|_| TokenError::InvalidKey)?;
        let key_id = Sha256::digest(&spki).into();
        Ok(Self { key, spki, key_id })
    }

    /// Parse an RSASSA-PSS `SubjectPublicKeyInfo` (the `token-key` encoding).
    ///
    /// The key id is computed over the bytes given, as RFC 9578 section 6.5 says; only
    /// the canonical encoding (the one [`IssuerKey`] publishes) is accepted, so a key
    /// has exactly one key id.
    pub fn from_spki(spki: &[u8]) -> Result<Self, TokenError> {
        if spki.len() > MAX_SPKI_LEN {
            return Err(TokenError::Oversized {
                what: "issuer key",
                max: MAX_SPKI_LEN,
                got: spki.len(),
            });
        }
        let key =
            PublicKeySha384PSSDeterministic::from_spki(spki).map_err(|_| TokenError::InvalidKey)?;
        if key.components().n().len() != NK {
            return Err(TokenError::InvalidKey);
        }
        // Only the canonical RSASSA-PSS encoding: one key, one key id.
        if key.to_spki().map_err(|_| TokenError::InvalidKey)? != spki {
            return Err(TokenError::InvalidKey);
        }
        Ok(Self {
            key,
            spki: spki.to_vec(),
            key_id: Sha256::digest(spki).into(),
        })
    }

    /// The `token-key` encoding.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// The token key id: SHA-256 of [`Self::spki`].
    pub fn key_id(&self) -> [u8; NID] {
        self.key_id
    }

    /// The truncated key id carried in a token request: the last byte of the key id.
    pub fn truncated_key_id(&self) -> u8 {
        self.key_id[NID - 1]
    }
}

/// An issuer's private key.
#[derive(Debug, Clone)]
pub struct IssuerKey {
    secret: SecretKeySha384PSSDeterministic,
    public: IssuerPublicKey,
}

impl IssuerKey {
    /// Generate a fresh 2048-bit key.
    pub fn generate() -> Result<Self, TokenError> {
        Self::generate_with_rng(&mut DefaultRng)
    }

    /// Generate a fresh 2048-bit key from `rng`.
    pub fn generate_with_rng<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<Self, TokenError> {
        let kp = KeyPairSha384PSSDeterministic::generate(rng, MODULUS_BITS)
            .map_err(TokenError::Crypto)?;
        Ok(Self {
            public: IssuerPublicKey::from_key(kp.pk)?,
            secret: kp.sk,
        })
    }

    /// Load a PKCS#8 or PKCS#1 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self, TokenError> {
        let secret =
            SecretKeySha384PSSDeterministic::from_pem(pem).map_err(|_| TokenError::InvalidKey)?;
        Self::from_secret(secret)
    }

    /// Load a PKCS#8 or PKCS#1 DER private key.
    pub fn from_der(der: &[u8]) -> Result<Self, TokenError> {
        let secret =
            SecretKeySha384PSSDeterministic::from_der(der).map_err(|_| TokenError::InvalidKey)?;
        Self::from_secret(secret)
    }

    /// Wrap a secret key from `blind-rsa-signatures`.
    pub fn from_secret(secret: SecretKeySha384PSSDeterministic) -> Result<Self, TokenError> {
        let public = IssuerPublicKey::from_key(secret.public_key().map_err(TokenError::Crypto)?)?;
        Ok(Self { secret, public })
    }

    /// Export the private key as PKCS#8 DER.
    pub fn to_der(&self) -> Result<Vec<u8>, TokenError> {
        self.secret.to_der().map_err(TokenError::Crypto)
    }

    /// The public key.
    pub fn public(&self) -> &IssuerPublicKey {
        &self.public
    }

    /// Answer an encoded token request (RFC 9578 section 6.2).
    pub fn issue(&self, request: &[u8]) -> Result<TokenResponse, TokenError> {
        let request = TokenRequest::decode(request)?;
        if request.truncated_token_key_id != self.public.truncated_key_id() {
            return Err(TokenError::KeyMismatch);
        }
        let sig = self
            .secret
            .blind_sign(&request.blinded_msg)
            .map_err(TokenError::Crypto)?;
        Ok(TokenResponse { blind_sig: sig.0 })
    }

    /// Run the whole issuance protocol here, client and issuer halves, for one token
    /// of `challenge`: what an issuer that signs for itself can do at will, and what
    /// tests and benchmarks use to mint tokens.
    pub fn issue_locally(&self, challenge: &TokenChallenge) -> Result<Token, TokenError> {
        let (request, pending) = begin_issuance(&self.public, challenge)?;
        let response = self.issue(&request.encode())?;
        pending.finalize(&response.encode())
    }
}

/// A token challenge (RFC 9577 section 2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenChallenge {
    /// Token type; 0x0002 here.
    pub token_type: u16,
    /// Issuer name.
    pub issuer_name: String,
    /// Empty, or 32 bytes.
    pub redemption_context: Vec<u8>,
    /// Origins the token may be redeemed at; empty means any.
    pub origin_info: Vec<String>,
}

impl TokenChallenge {
    /// The challenge a provider expects: issuer `issuer_name`, no redemption context,
    /// and `origin_info = [origin]`.
    pub fn for_origin(issuer_name: &str, origin: &str) -> Self {
        Self {
            token_type: TOKEN_TYPE,
            issuer_name: issuer_name.to_owned(),
            redemption_context: Vec::new(),
            origin_info: vec![origin.to_owned()],
        }
    }

    /// Encode (RFC 9577 section 2.1.1).
    pub fn encode(&self) -> Result<Vec<u8>, TokenError> {
        let issuer = self.issuer_name.as_bytes();
        if issuer.is_empty()
            || !(self.redemption_context.is_empty() || self.redemption_context.len() == 32)
        {
            return Err(TokenError::MalformedChallenge);
        }
        if self
            .origin_info
            .iter()
            .any(|o| o.is_empty() || o.contains(','))
        {
            return Err(TokenError::MalformedChallenge);
        }
        let origins = self.origin_info.join(",");
        let issuer_len = u16::try_from(issuer.len()).map_err(|_| TokenError::MalformedChallenge)?;
        let origins_len =
            u16::try_from(origins.len()).map_err(|_| TokenError::MalformedChallenge)?;
        let ctx_len = u8::try_from(self.redemption_context.len())
            .map_err(|_| TokenError::MalformedChallenge)?;
        let mut out = Vec::new();
        out.extend_from_slice(&self.token_type.to_be_bytes());
        out.extend_from_slice(&issuer_len.to_be_bytes());
        out.extend_from_slice(issuer);
        out.push(ctx_len);
        out.extend_from_slice(&self.redemption_context);
        out.extend_from_slice(&origins_len.to_be_bytes());
        out.extend_from_slice(origins.as_bytes());
        if out.len() > MAX_CHALLENGE_LEN {
            return Err(TokenError::Oversized {
                what: "token challenge",
                max: MAX_CHALLENGE_LEN,
                got: out.len(),
            });
        }
        Ok(out)
    }

    /// Decode, refusing trailing bytes and inputs over [`MAX_CHALLENGE_LEN`].
    pub fn decode(bytes: &[u8]) -> Result<Self, TokenError> {
        if bytes.len() > MAX_CHALLENGE_LEN {
            return Err(TokenError::Oversized {
                what: "token challenge",
                max: MAX_CHALLENGE_LEN,
                got: bytes.len(),
            });
        }
        let mut r = Reader(bytes);
        let token_type = r.u16()?;
        let issuer_len = usize::from(r.u16()?);
        let issuer = r.take(issuer_len)?;
        let ctx_len = usize::from(r.u8()?);
        if ctx_len != 0 && ctx_len != 32 {
            return Err(TokenError::MalformedChallenge);
        }
        let ctx = r.take(ctx_len)?;
        let origins_len = usize::from(r.u16()?);
        let origins = r.take(origins_len)?;
        if !r.0.is_empty() || issuer.is_empty() {
            return Err(TokenError::MalformedChallenge);
        }
        let issuer_name =
            String::from_utf8(issuer.to_vec()).map_err(|_| TokenError::MalformedChallenge)?;
        let origins = std::str::from_utf8(origins).map_err(|_| TokenError::MalformedChallenge)?;
        let origin_info = if origins.is_empty() {
            Vec::new()
        } else {
            origins.split(',').map(str::to_owned).collect()
        };
        if origin_info.iter().any(String::is_empty) {
            return Err(TokenError::MalformedChallenge);
        }
        Ok(Self {
            token_type,
            issuer_name,
            redemption_context: ctx.to_vec(),
            origin_info,
        })
    }

    /// SHA-256 of the encoding, carried in the token.
    pub fn digest(&self) -> Result<[u8; 32], TokenError> {
        Ok(Sha256::digest(self.encode()?).into())
    }

    /// Whether a token for this challenge may be redeemed at `origin`.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origin_info.is_empty() || self.origin_info.iter().any(|o| o == origin)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TokenError> {
        if self.0.len() < n {
            return Err(TokenError::MalformedChallenge);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, TokenError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, TokenError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

/// A token request (RFC 9578 section 6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Token type; 0x0002.
    pub token_type: u16,
    /// Last byte of the issuer key id.
    pub truncated_token_key_id: u8,
    /// The blinded message, `Nk` bytes.
    pub blinded_msg: Vec<u8>,
}

impl TokenRequest {
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TOKEN_REQUEST_LEN);
        out.extend_from_slice(&self.token_type.to_be_bytes());
        out.push(self.truncated_token_key_id);
        out.extend_from_slice(&self.blinded_msg);
        out
    }

    /// Decode, checking the length and token type.
    pub fn decode(bytes: &[u8]) -> Result<Self, TokenError> {
        exact("token request", bytes, TOKEN_REQUEST_LEN)?;
        let token_type = u16::from_be_bytes([bytes[0], bytes[1]]);
        if token_type != TOKEN_TYPE {
            return Err(TokenError::WrongTokenType(token_type));
        }
        Ok(Self {
            token_type,
            truncated_token_key_id: bytes[2],
            blinded_msg: bytes[3..].to_vec(),
        })
    }
}

/// A token response (RFC 9578 section 6.2): the blind signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The blind signature, `Nk` bytes.
    pub blind_sig: Vec<u8>,
}

impl TokenResponse {
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        self.blind_sig.clone()
    }

    /// Decode, checking the length.
    pub fn decode(bytes: &[u8]) -> Result<Self, TokenError> {
        exact("token response", bytes, TOKEN_RESPONSE_LEN)?;
        Ok(Self {
            blind_sig: bytes.to_vec(),
        })
    }
}

/// A token (RFC 9577 section 2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Token type; 0x0002.
    pub token_type: u16,
    /// Client nonce: the double-spend key.
    pub nonce: [u8; NONCE_LEN],
    /// SHA-256 of the challenge.
    pub challenge_digest: [u8; 32],
    /// Issuer key id.
    pub token_key_id: [u8; NID],
    /// The RSA signature over the token input.
    pub authenticator: Vec<u8>,
}

impl Token {
    /// The signed message: type, nonce, challenge digest, key id.
    pub fn token_input(&self) -> Vec<u8> {
        token_input(
            self.token_type,
            &self.nonce,
            &self.challenge_digest,
            &self.token_key_id,
        )
    }

    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.token_input();
        out.extend_from_slice(&self.authenticator);
        out
    }

    /// Decode, checking the length and token type.
    pub fn decode(bytes: &[u8]) -> Result<Self, TokenError> {
        exact("token", bytes, TOKEN_LEN)?;
        let token_type = u16::from_be_bytes([bytes[0], bytes[1]]);
        if token_type != TOKEN_TYPE {
            return Err(TokenError::WrongTokenType(token_type));
        }
        let mut nonce = [0; NONCE_LEN];
        nonce.copy_from_slice(&bytes[2..34]);
        let mut challenge_digest = [0; 32];
        challenge_digest.copy_from_slice(&bytes[34..66]);
        let mut token_key_id = [0; NID];
        token_key_id.copy_from_slice(&bytes[66..98]);
        Ok(Self {
            token_type,
            nonce,
            challenge_digest,
            token_key_id,
            authenticator: bytes[98..].to_vec(),
        })
    }
}

fn token_input(token_type: u16, nonce: &[u8], digest: &[u8], key_id: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + NONCE_LEN + 32 + NID + NK);
    out.extend_from_slice(&token_type.to_be_bytes());
    out.extend_from_slice(nonce);
    out.extend_from_slice(digest);
    out.extend_from_slice(key_id);
    out
}

/// Client state between a token request and its response.
#[derive(Debug, Clone)]
pub struct PendingToken {
    issuer: IssuerPublicKey,
    nonce: [u8; NONCE_LEN],
    challenge_digest: [u8; 32],
    blinding: BlindingState,
}

#[derive(Debug, Clone)]
struct BlindingState(BlindingResult);

/// Start issuance: a random nonce, then blind the token input (RFC 9578 section 6.1).
pub fn begin_issuance(
    issuer: &IssuerPublicKey,
    challenge: &TokenChallenge,
) -> Result<(TokenRequest, PendingToken), TokenError> {
    let mut rng = DefaultRng;
    let mut nonce = [0u8; NONCE_LEN];
    rsa::rand_core::Rng::fill_bytes(&mut rng, &mut nonce);
    begin_issuance_with(issuer, challenge, nonce, &mut rng)
}

/// Start issuance with a given nonce and a given RNG for the PSS salt and the blind.
///
/// `rng` first supplies the 48-byte salt, then the blind `r`. Use this only to
/// reproduce test vectors; real clients call [`begin_issuance`].
pub fn begin_issuance_with<R: CryptoRng + ?Sized>(
    issuer: &IssuerPublicKey,
    challenge: &TokenChallenge,
    nonce: [u8; NONCE_LEN],
    rng: &mut R,
) -> Result<(TokenRequest, PendingToken), TokenError> {
    if challenge.token_type != TOKEN_TYPE {
        return Err(TokenError::WrongTokenType(challenge.token_type));
    }
    let challenge_digest = challenge.digest()?;
    let input = token_input(TOKEN_TYPE, &nonce, &challenge_digest, &issuer.key_id);
    let blinding = issuer.key.blind(rng, &input).map_err(TokenError::Crypto)?;
    let request = TokenRequest {
        token_type: TOKEN_TYPE,
        truncated_token_key_id: issuer.truncated_key_id(),
        blinded_msg: blinding.blind_message.0.clone(),
    };
    Ok((
        request,
        PendingToken {
            issuer: issuer.clone(),
            nonce,
            challenge_digest,
            blinding: BlindingState(blinding),
        },
    ))
}

impl PendingToken {
    /// Unblind the issuer's response into a token; the signature is verified.
    pub fn finalize(self, response: &[u8]) -> Result<Token, TokenError> {
        let response = TokenResponse::decode(response)?;
        let input = token_input(
            TOKEN_TYPE,
            &self.nonce,
            &self.challenge_digest,
            &self.issuer.key_id,
        );
        let sig = self
            .issuer
            .key
            .finalize(
                &BlindSignature(response.blind_sig),
                &self.blinding.0,
                &input,
            )
            .map_err(|_| TokenError::BadSignature)?;
        Ok(Token {
            token_type: TOKEN_TYPE,
            nonce: self.nonce,
            challenge_digest: self.challenge_digest,
            token_key_id: self.issuer.key_id,
            authenticator: sig.0,
        })
    }

    /// The nonce this token will carry.
    pub fn nonce(&self) -> [u8; NONCE_LEN] {
        self.nonce
    }

    /// The client state, to keep (sealed: it unblinds the issuer's answer) until the
    /// answer comes, across a restart: `nonce || digest || u16 len || secret || u16 len
    /// || blinded message`. The issuer key is kept beside it by the caller.
    pub fn encode(&self) -> Vec<u8> {
        let secret = &self.blinding.0.secret.0;
        let blinded = &self.blinding.0.blind_message.0;
        let mut out = Vec::with_capacity(NONCE_LEN + 32 + 4 + secret.len() + blinded.len());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.challenge_digest);
        for part in [secret, blinded] {
            // Both are at most the modulus size (256 bytes).
            out.extend_from_slice(&u16::try_from(part.len()).unwrap_or(u16::MAX).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// The state [`PendingToken::encode`] wrote, for a request to `issuer`.
    pub fn decode(issuer: &IssuerPublicKey, bytes: &[u8]) -> Result<Self, TokenError> {
        let malformed = || TokenError::WrongLength {
            what: "pending token",
            expected: NONCE_LEN + 32 + 4 + 2 * NK,
            got: bytes.len(),
        };
        let (nonce, rest) = bytes.split_at_checked(NONCE_LEN).ok_or_else(malformed)?;
        let (digest, mut rest) = rest.split_at_checked(32).ok_or_else(malformed)?;
        let mut parts = [Vec::new(), Vec::new()];
        for part in &mut parts {
            let (len, tail) = rest.split_at_checked(2).ok_or_else(malformed)?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            if len > NK {
                return Err(malformed());
            }
            let (value, tail) = tail.split_at_checked(len).ok_or_else(malformed)?;
            *part = value.to_vec();
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(malformed());
        }
        let [secret, blinded] = parts;
        Ok(Self {
            issuer: issuer.clone(),
            nonce: nonce.try_into().map_err(|_| malformed())?,
            challenge_digest: digest.try_into().map_err(|_| malformed())?,
            blinding: BlindingState(BlindingResult {
                blind_message: BlindMessage(blinded),
                secret: Secret(secret),
                msg_randomizer: None,
            }),
        })
    }
}

/// A verified token: what the provider needs to spend and settle it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The nonce to spend.
    pub nonce: [u8; NONCE_LEN],
    /// The issuer key id.
    pub token_key_id: [u8; NID],
    /// The issuer name registered with that key.
    pub issuer_name: String,
}

/// Verifies tokens against a set of issuer keys (e.g. those registered on chain).
#[derive(Debug, Clone, Default)]
pub struct TokenVerifier {
    keys: BTreeMap<[u8; NID], (String, IssuerPublicKey)>,
}

impl TokenVerifier {
    /// An empty verifier.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trust `key`, issued under `issuer_name`.
    pub fn add_key(&mut self, issuer_name: &str, key: IssuerPublicKey) {
        self.keys.insert(key.key_id, (issuer_name.to_owned(), key));
    }

    /// Verify an encoded token against an explicit challenge.
    pub fn verify(
        &self,
        token: &[u8],
        challenge: &TokenChallenge,
    ) -> Result<VerifiedToken, TokenError> {
        let token = Token::decode(token)?;
        let (issuer_name, key) = self
            .keys
            .get(&token.token_key_id)
            .ok_or(TokenError::UnknownKey)?;
        if token.challenge_digest != challenge.digest()? {
            return Err(TokenError::WrongChallenge);
        }
        key.key
            .verify(
                &Signature(token.authenticator.clone()),
                None,
                token.token_input(),
            )
            .map_err(|_| TokenError::BadSignature)?;
        Ok(VerifiedToken {
            nonce: token.nonce,
            token_key_id: token.token_key_id,
            issuer_name: issuer_name.clone(),
        })
    }

    /// Verify an encoded token at provider `origin`: the token must have been issued
    /// for [`TokenChallenge::for_origin`] with the issuer name its key is registered
    /// under, so a token bound to another provider is refused.
    pub fn verify_for_origin(
        &self,
        token: &[u8],
        origin: &str,
    ) -> Result<VerifiedToken, TokenError> {
        let decoded = Token::decode(token)?;
        let (issuer_name, _) = self
            .keys
            .get(&decoded.token_key_id)
            .ok_or(TokenError::UnknownKey)?;
        let challenge = TokenChallenge::for_origin(issuer_name, origin);
        self.verify(token, &challenge)
    }
}

/// The `Authorization` header value for `tokens`: one `PrivateToken token=<base64url>`
/// credential per token, comma-separated (RFC 9577 section 2.2).
pub fn authorization_value(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| format!("{AUTH_SCHEME} token={}", URL_SAFE_NO_PAD.encode(t.encode())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse an `Authorization` header value into encoded tokens (not yet verified).
///
/// Accepts base64url with or without padding and a quoted or bare `token` parameter;
/// refuses other schemes, other parameters, more than [`MAX_TOKENS_PER_HEADER`] tokens
/// and values over [`MAX_AUTHORIZATION_LEN`].
pub fn parse_authorization(value: &str) -> Result<Vec<Vec<u8>>, TokenError> {
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(TokenError::Oversized {
            what: "authorization header",
            max: MAX_AUTHORIZATION_LEN,
            got: value.len(),
        });
    }
    let mut out = Vec::new();
    for credential in value.split(',') {
        let credential = credential.trim();
        let (scheme, param) = credential
            .split_once(' ')
            .ok_or(TokenError::MalformedAuthorization)?;
        if !scheme.eq_ignore_ascii_case(AUTH_SCHEME) {
            return Err(TokenError::MalformedAuthorization);
        }
        let (name, encoded) = param
            .trim()
            .split_once('=')
            .ok_or(TokenError::MalformedAuthorization)?;
        if !name.trim().eq_ignore_ascii_case("token") {
            return Err(TokenError::MalformedAuthorization);
        }
        let encoded = encoded.trim();
        let encoded = encoded
            .strip_prefix('"')
            .and_then(|e| e.strip_suffix('"'))
            .unwrap_or(encoded)
            .trim_end_matches('=');
        let token = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| TokenError::MalformedAuthorization)?;
        exact("token", &token, TOKEN_LEN)?;
        out.push(token);
        if out.len() > MAX_TOKENS_PER_HEADER {
            return Err(TokenError::MalformedAuthorization);
        }
    }
    Ok(out)
}
