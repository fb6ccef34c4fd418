//! Account ids, signing keys and signatures (ed25519), shown to people as bech32m.

use std::{fmt, str::FromStr};

use bech32::{Bech32m, Hrp};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::codec::{CodecError, Decode, Encode, Reader};

/// The human-readable part of every Plexus address.
pub const ADDRESS_HRP: &str = "plx";

/// Why a key, address or signature could not be parsed or checked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The text is not bech32m, or has a different human-readable part.
    #[error("not a plexus address (expected bech32m starting with `plx1`): {0}")]
    BadAddress(String),
    /// The bytes are not a valid ed25519 public key.
    #[error("not a valid ed25519 public key")]
    BadPublicKey,
    /// The signature does not verify against the message and key.
    #[error("signature does not verify")]
    BadSignature,
    /// A hex string had the wrong length or characters.
    #[error("invalid hex: {0}")]
    BadHex(String),
}

/// An account: the 32-byte ed25519 public key that controls it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The bech32m address, e.g. `plx1...`.
    pub fn to_address(&self) -> String {
        // The HRP is a valid constant and 32 bytes always fit in a bech32m string.
        let hrp = Hrp::parse_unchecked(ADDRESS_HRP);
        bech32::encode::<Bech32m>(hrp, &self.0).unwrap_or_default()
    }

    /// Parse a bech32m address or a 64-character hex key.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut out = [0u8; 32];
            hex::decode_to_slice(text, &mut out).map_err(|e| KeyError::BadHex(e.to_string()))?;
            return Ok(Self(out));
        }
        let (hrp, data) =
            bech32::decode(text).map_err(|_| KeyError::BadAddress(text.to_string()))?;
        if hrp.as_str() != ADDRESS_HRP {
            return Err(KeyError::BadAddress(text.to_string()));
        }
        let bytes: [u8; 32] = data
            .try_into()
            .map_err(|_| KeyError::BadAddress(text.to_string()))?;
        Ok(Self(bytes))
    }

    /// Check an ed25519 signature by this account over `message` (strict verification).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::BadPublicKey)?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &sig)
            .map_err(|_| KeyError::BadSignature)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_address())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.to_address())
    }
}

impl FromStr for AccountId {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_address())
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Encode for AccountId {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for AccountId {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self(r.array("account id")?))
    }
}

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 64];
        hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
        Ok(Self(out))
    }
}

impl Encode for Signature {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Signature {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self(r.array("signature")?))
    }
}

/// A signing key for one account. Its secret never leaves this type except through
/// [`Keypair::secret_bytes`], which wallets use to encrypt it at rest.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl Keypair {
    /// Build a keypair from a 32-byte ed25519 seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// Generate a fresh keypair from a cryptographic RNG.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self::from_seed(seed)
    }

    /// A deterministic keypair for tests and development genesis: blake3(label) as seed.
    pub fn from_label(label: &str) -> Self {
        Self::from_seed(*blake3::hash(label.as_bytes()).as_bytes())
    }

    /// The account this key controls.
    pub fn account(&self) -> AccountId {
        AccountId(self.signing.verifying_key().to_bytes())
    }

    /// Sign `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }

    /// The 32-byte seed, for encrypted keystores only.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({})", self.account())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_round_trips_through_bech32m() {
        let id = Keypair::from_label("alice").account();
        let text = id.to_address();
        assert!(text.starts_with("plx1"));
        assert_eq!(AccountId::parse(&text).unwrap(), id);
        assert_eq!(AccountId::parse(&hex::encode(id.0)).unwrap(), id);
    }

    #[test]
    fn an_address_with_another_prefix_is_rejected() {
        let hrp = Hrp::parse("btc").unwrap();
        let text = bech32::encode::<Bech32m>(hrp, &[7u8; 32]).unwrap();
        assert!(matches!(
            AccountId::parse(&text),
            Err(KeyError::BadAddress(_))
        ));
    }

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let alice = Keypair::from_label("alice");
        let bob = Keypair::from_label("bob");
        let sig = alice.sign(b"hello");
        assert!(alice.account().verify(b"hello", &sig).is_ok());
        assert!(alice.account().verify(b"hellO", &sig).is_err());
        assert!(bob.account().verify(b"hello", &sig).is_err());
    }

    /// RFC 8032 section 7.1, test 1: the empty message.
    #[test]
    fn rfc8032_test_vector_one_verifies() {
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let kp = Keypair::from_seed(seed);
        assert_eq!(
            hex::encode(kp.account().0),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = kp.sign(b"");
        assert_eq!(
            hex::encode(sig.0),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }
}
