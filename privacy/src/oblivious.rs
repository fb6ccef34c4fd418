//! Oblivious HTTP (RFC 9458): key configurations, client encapsulation and gateway decapsulation.
//!
//! [`ohttp::Server`] holds one key; [`Gateway`] holds several and routes on the key id
//! (the first byte of an encapsulated request) itself. Configurations are validated
//! here before they reach `ohttp`, whose constructors panic on bad input.
//!
//! OHTTP has no replay protection: [`Decapsulated::replay_id`] names each encapsulated
//! request (SHA-256 over its header and encapsulated key) so callers can reject a
//! request they have already served, for example with
//! `plexus_provider::spent::SpentStore`.

use std::collections::BTreeMap;

use ohttp::hpke::{Aead, Kdf, Kem};
use ohttp::{KeyConfig, SymmetricSuite};
use sha2::{Digest, Sha256};

/// The media type of an encoded list of key configurations.
pub const KEYS_MEDIA_TYPE: &str = "application/ohttp-keys";
/// The media type of an encapsulated request.
pub const REQUEST_MEDIA_TYPE: &str = "message/ohttp-req";
/// The media type of an encapsulated response.
pub const RESPONSE_MEDIA_TYPE: &str = "message/ohttp-res";

/// KEM used for every key this crate generates: DHKEM(X25519, HKDF-SHA256).
pub const KEM: Kem = Kem::X25519Sha256;
/// Symmetric suites this crate offers, in order of preference.
pub const SYMMETRIC_SUITES: [SymmetricSuite; 2] = [
    SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm),
    SymmetricSuite::new(Kdf::HkdfSha256, Aead::ChaCha20Poly1305),
];

/// Bytes in an encapsulated request header: key id, KEM, KDF and AEAD ids.
pub const REQUEST_HEADER_LEN: usize = 7;
/// Bytes in an X25519 encapsulated key.
pub const ENC_LEN: usize = 32;
/// Bytes in an AEAD tag (AES-128-GCM and ChaCha20-Poly1305 alike).
pub const TAG_LEN: usize = 16;
/// Bytes in the shortest response nonce, `max(Nn, Nk)` for AES-128-GCM (32 for ChaCha20-Poly1305).
pub const RESPONSE_NONCE_LEN: usize = 16;
/// Shortest well-formed encapsulated request (an empty plaintext).
pub const MIN_ENCAPSULATED_REQUEST_LEN: usize = REQUEST_HEADER_LEN + ENC_LEN + TAG_LEN;
/// Longest plaintext request accepted: the largest padding bucket.
pub const MAX_REQUEST_LEN: usize = crate::padding::MAX_BUCKET;
/// Longest encapsulated request a gateway will try to open.
pub const MAX_ENCAPSULATED_REQUEST_LEN: usize = MIN_ENCAPSULATED_REQUEST_LEN + MAX_REQUEST_LEN;
/// Longest plaintext response (non-chunked): 4 MiB.
pub const MAX_RESPONSE_LEN: usize = 4 << 20;
/// Longest encapsulated response a client will try to open.
pub const MAX_ENCAPSULATED_RESPONSE_LEN: usize = RESPONSE_NONCE_LEN + MAX_RESPONSE_LEN + TAG_LEN;
/// Longest `application/ohttp-keys` body a client will parse.
pub const MAX_KEY_LIST_LEN: usize = 4096;
/// Most key configurations a gateway serves at once (rotation keeps at most two live).
pub const MAX_KEYS: usize = 8;

/// Errors from OHTTP key handling, encapsulation and decapsulation.
#[derive(Debug, thiserror::Error)]
pub enum OhttpError {
    /// The input was longer than the limit for its kind.
    #[error("input of {len} bytes exceeds the limit of {max}")]
    Oversized {
        /// Length received.
        len: usize,
        /// Limit that applies.
        max: usize,
    },
    /// The input ended before a complete message.
    #[error("input of {len} bytes is shorter than the minimum of {min}")]
    Truncated {
        /// Length received.
        len: usize,
        /// Minimum length.
        min: usize,
    },
    /// No gateway key has this id.
    #[error("no key with id {0}")]
    UnknownKeyId(u8),
    /// Two gateway keys share an id.
    #[error("duplicate key id {0}")]
    DuplicateKeyId(u8),
    /// More keys than [`MAX_KEYS`].
    #[error("too many keys: {0}")]
    TooManyKeys(usize),
    /// The KEM, KDF or AEAD named is not one this crate accepts.
    #[error("unsupported algorithm suite")]
    UnsupportedSuite,
    /// A key configuration or key list is malformed.
    #[error("malformed key configuration")]
    MalformedKeyConfig,
    /// An encapsulated message is malformed.
    #[error("malformed encapsulated message")]
    Malformed,
    /// The key list held no configuration this crate supports.
    #[error("no supported key configuration")]
    NoUsableKey,
    /// Input keying material was too short.
    #[error("input keying material must be at least 32 bytes")]
    ShortIkm,
    /// Authentication failed: the ciphertext was altered, or sealed to another key.
    #[error("decryption failed")]
    Decrypt,
    /// The plaintext was longer than the limit.
    #[error("plaintext of {len} bytes exceeds the limit of {max}")]
    PlaintextTooLong {
        /// Length given.
        len: usize,
        /// Limit that applies.
        max: usize,
    },
    /// Any other failure inside the `ohttp` crate.
    #[error("ohttp: {0}")]
    Ohttp(ohttp::Error),
}

impl From<ohttp::Error> for OhttpError {
    fn from(e: ohttp::Error) -> Self {
        match e {
            ohttp::Error::Aead(_) | ohttp::Error::Hpke(_) => Self::Decrypt,
            ohttp::Error::Unsupported | ohttp::Error::InvalidKem => Self::UnsupportedSuite,
            ohttp::Error::Format | ohttp::Error::Truncated => Self::Malformed,
            other => Self::Ohttp(other),
        }
    }
}

/// A gateway key pair with its configuration (key id and suites).
#[derive(Debug, Clone)]
pub struct GatewayKey {
    key_id: u8,
    server: ohttp::Server,
}

impl GatewayKey {
    /// Generate a fresh X25519 key with id `key_id`.
    pub fn generate(key_id: u8) -> Result<Self, OhttpError> {
        let config = KeyConfig::new(key_id, KEM, SYMMETRIC_SUITES.to_vec())?;
        Ok(Self {
            key_id,
            server: ohttp::Server::new(config)?,
        })
    }

    /// Derive a key deterministically from at least 32 bytes of secret keying material
    /// (HPKE `DeriveKeyPair`), so a gateway can restore its key from a stored seed.
    pub fn derive(key_id: u8, ikm: &[u8]) -> Result<Self, OhttpError> {
        if ikm.len() < 32 {
            return Err(OhttpError::ShortIkm);
        }
        let config = KeyConfig::derive(key_id, KEM, SYMMETRIC_SUITES.to_vec(), ikm)?;
        Ok(Self {
            key_id,
            server: ohttp::Server::new(config)?,
        })
    }

    /// The key id, the first byte of every request sealed to this key.
    pub fn key_id(&self) -> u8 {
        self.key_id
    }

    /// The public key configuration, encoded as in RFC 9458 section 3.
    pub fn public_config(&self) -> Result<PublicKeyConfig, OhttpError> {
        let encoded = self.server.config().encode()?;
        PublicKeyConfig::decode(&encoded)
    }
}

/// A public key configuration a client can seal requests to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyConfig {
    key_id: u8,
    encoded: Vec<u8>,
}

impl PublicKeyConfig {
    /// Decode and validate one key configuration (RFC 9458 section 3).
    ///
    /// Accepts only X25519 configurations offering at least one of
    /// [`SYMMETRIC_SUITES`]; the first offered suite that this crate supports is used.
    pub fn decode(encoded: &[u8]) -> Result<Self, OhttpError> {
        if encoded.len() > MAX_KEY_LIST_LEN {
            return Err(OhttpError::Oversized {
                len: encoded.len(),
                max: MAX_KEY_LIST_LEN,
            });
        }
        // key_id(1) kem(2) pk(32) suites_len(2) suites(4n)
        let min = 1 + 2 + ENC_LEN + 2 + 4;
        if encoded.len() < min {
            return Err(OhttpError::Truncated {
                len: encoded.len(),
                min,
            });
        }
        if u16::from_be_bytes([encoded[1], encoded[2]]) != u16::from(KEM) {
            return Err(OhttpError::UnsupportedSuite);
        }
        let suites_len = usize::from(u16::from_be_bytes([encoded[35], encoded[36]]));
        if suites_len == 0 || suites_len % 4 != 0 || encoded.len() != 37 + suites_len {
            return Err(OhttpError::MalformedKeyConfig);
        }
        let supported = encoded[37..].chunks_exact(4).any(|s| {
            let kdf = u16::from_be_bytes([s[0], s[1]]);
            let aead = u16::from_be_bytes([s[2], s[3]]);
            SYMMETRIC_SUITES
                .iter()
                .any(|o| u16::from(o.kdf()) == kdf && u16::from(o.aead()) == aead)
        });
        if !supported {
            return Err(OhttpError::UnsupportedSuite);
        }
        // Let `ohttp` parse the public key itself; the result is rebuilt per request.
        KeyConfig::decode(encoded).map_err(|e| match OhttpError::from(e) {
            OhttpError::Malformed => OhttpError::MalformedKeyConfig,
            other => other,
        })?;
        Ok(Self {
            key_id: encoded[0],
            encoded: encoded.to_vec(),
        })
    }

    /// The key id.
    pub fn key_id(&self) -> u8 {
        self.key_id
    }

    /// The encoded configuration.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }
}

/// Encode key configurations as an `application/ohttp-keys` body (RFC 9458 section 3.2).
pub fn encode_key_list(configs: &[PublicKeyConfig]) -> Result<Vec<u8>, OhttpError> {
    let mut out = Vec::new();
    for c in configs {
        let len = u16::try_from(c.encoded.len()).map_err(|_| OhttpError::MalformedKeyConfig)?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&c.encoded);
    }
    if out.len() > MAX_KEY_LIST_LEN {
        return Err(OhttpError::Oversized {
            len: out.len(),
            max: MAX_KEY_LIST_LEN,
        });
    }
    Ok(out)
}

/// Decode an `application/ohttp-keys` body, keeping every supported configuration
/// in order. Unsupported configurations are skipped; malformed framing is an error.
///
/// Do not pick a key by position: pick the one the chain registry names.
pub fn decode_key_list(body: &[u8]) -> Result<Vec<PublicKeyConfig>, OhttpError> {
    if body.len() > MAX_KEY_LIST_LEN {
        return Err(OhttpError::Oversized {
            len: body.len(),
            max: MAX_KEY_LIST_LEN,
        });
    }
    let mut rest = body;
    let mut out = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(OhttpError::MalformedKeyConfig);
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let Some(item) = rest.get(2..2 + len) else {
            return Err(OhttpError::MalformedKeyConfig);
        };
        match PublicKeyConfig::decode(item) {
            Ok(c) => out.push(c),
            Err(OhttpError::UnsupportedSuite) => {}
            Err(e) => return Err(e),
        }
        rest = &rest[2 + len..];
    }
    if out.is_empty() {
        return Err(OhttpError::NoUsableKey);
    }
    Ok(out)
}

/// Seal a request to a gateway's public key configuration.
///
/// Returns the encapsulated request (`message/ohttp-req`) and the state needed to
/// open the matching response.
pub fn encapsulate(
    config: &PublicKeyConfig,
    request: &[u8],
) -> Result<(Vec<u8>, PendingResponse), OhttpError> {
    if request.len() > MAX_REQUEST_LEN {
        return Err(OhttpError::PlaintextTooLong {
            len: request.len(),
            max: MAX_REQUEST_LEN,
        });
    }
    let client = ohttp::ClientRequest::from_encoded_config(&config.encoded)?;
    let (enc, response) = client.encapsulate(request)?;
    Ok((enc, PendingResponse { inner: response }))
}

/// Client state waiting for the response to one encapsulated request.
pub struct PendingResponse {
    inner: ohttp::ClientResponse,
}

impl std::fmt::Debug for PendingResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingResponse")
    }
}

impl PendingResponse {
    /// Open an encapsulated response (`message/ohttp-res`).
    pub fn open(self, encapsulated: &[u8]) -> Result<Vec<u8>, OhttpError> {
        check_len(
            encapsulated.len(),
            RESPONSE_NONCE_LEN + TAG_LEN,
            MAX_ENCAPSULATED_RESPONSE_LEN,
        )?;
        Ok(self.inner.decapsulate(encapsulated)?)
    }
}

fn check_len(len: usize, min: usize, max: usize) -> Result<(), OhttpError> {
    if len > max {
        return Err(OhttpError::Oversized { len, max });
    }
    if len < min {
        return Err(OhttpError::Truncated { len, min });
    }
    Ok(())
}

/// Identifies one encapsulated request: SHA-256 over its header and encapsulated key.
///
/// A replayed request has the same id; a fresh request from any client has a fresh
/// ephemeral key and so a fresh id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplayId(pub [u8; 32]);

impl ReplayId {
    /// Compute the id of an encapsulated request (at least header and key long).
    pub fn of(encapsulated: &[u8]) -> Option<Self> {
        let prefix = encapsulated.get(..REQUEST_HEADER_LEN + ENC_LEN)?;
        Some(Self(Sha256::digest(prefix).into()))
    }
}

/// An OHTTP gateway holding one or more keys.
#[derive(Debug, Clone)]
pub struct Gateway {
    keys: BTreeMap<u8, GatewayKey>,
}

impl Gateway {
    /// Build a gateway from keys with distinct ids.
    pub fn new(keys: Vec<GatewayKey>) -> Result<Self, OhttpError> {
        if keys.len() > MAX_KEYS {
            return Err(OhttpError::TooManyKeys(keys.len()));
        }
        let mut map = BTreeMap::new();
        for k in keys {
            let id = k.key_id();
            if map.insert(id, k).is_some() {
                return Err(OhttpError::DuplicateKeyId(id));
            }
        }
        Ok(Self { keys: map })
    }

    /// The public configurations of every key, in key id order.
    pub fn public_configs(&self) -> Result<Vec<PublicKeyConfig>, OhttpError> {
        self.keys.values().map(GatewayKey::public_config).collect()
    }

    /// The `application/ohttp-keys` body for every key.
    pub fn key_list(&self) -> Result<Vec<u8>, OhttpError> {
        encode_key_list(&self.public_configs()?)
    }

    /// Open an encapsulated request.
    ///
    /// Checks length limits and the key id before any cryptography runs.
    pub fn decapsulate(&self, encapsulated: &[u8]) -> Result<Decapsulated, OhttpError> {
        check_len(
            encapsulated.len(),
            MIN_ENCAPSULATED_REQUEST_LEN,
            MAX_ENCAPSULATED_REQUEST_LEN,
        )?;
        let key_id = encapsulated[0];
        let key = self
            .keys
            .get(&key_id)
            .ok_or(OhttpError::UnknownKeyId(key_id))?;
        let replay_id = ReplayId::of(encapsulated).ok_or(OhttpError::Truncated {
            len: encapsulated.len(),
            min: MIN_ENCAPSULATED_REQUEST_LEN,
        })?;
        let (request, response) = key.server.decapsulate(encapsulated)?;
        Ok(Decapsulated {
            key_id,
            replay_id,
            request,
            response: ResponseSealer { inner: response },
        })
    }
}

impl Gateway {
    /// The `ohttp` server for key `key_id`.
    pub(crate) fn server(&self, key_id: u8) -> Result<&ohttp::Server, OhttpError> {
        self.keys
            .get(&key_id)
            .map(|k| &k.server)
            .ok_or(OhttpError::UnknownKeyId(key_id))
    }
}

/// A decapsulated request and the means to answer it.
#[derive(Debug)]
pub struct Decapsulated {
    /// Id of the key the request was sealed to.
    pub key_id: u8,
    /// Replay id: reject the request if this id was seen before.
    pub replay_id: ReplayId,
    /// The plaintext (BHTTP, possibly padded).
    pub request: Vec<u8>,
    /// Seals the response.
    pub response: ResponseSealer,
}

/// Seals the response to one decapsulated request.
#[derive(Debug)]
pub struct ResponseSealer {
    inner: ohttp::ServerResponse,
}

impl ResponseSealer {
    /// Seal a response, producing a `message/ohttp-res` body.
    pub fn seal(self, response: &[u8]) -> Result<Vec<u8>, OhttpError> {
        if response.len() > MAX_RESPONSE_LEN {
            return Err(OhttpError::PlaintextTooLong {
                len: response.len(),
                max: MAX_RESPONSE_LEN,
            });
        }
        Ok(self.inner.encapsulate(response)?)
    }
}
