//! The encrypted keystore file: a mnemonic sealed with argon2id and XChaCha20-Poly1305.
//!
//! The format is specified in the crate documentation (`lib.rs`, "Keystore format").

use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::{
    Key, XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit as _, Payload},
};
use hmac::{Hmac, Mac};
use plexus_types::AccountId;
use rand::{TryRng, rngs::SysRng};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Mnemonic, WalletError};

/// The keystore format this build writes and reads.
pub const KEYSTORE_VERSION: u32 = 1;

/// Larger keystore files are rejected unread (a real one is under 1 KiB).
pub const MAX_KEYSTORE_BYTES: usize = 16 * 1024;

const KDF_NAME: &str = "argon2id";
const CIPHER_NAME: &str = "xchacha20poly1305";
const SALT_BYTES: usize = 16;
const NONCE_BYTES: usize = 24;
const CHECK_BYTES: usize = 32;
/// 24 words of at most 8 letters, 23 spaces, and the 16-byte tag, with room to spare.
const MAX_CIPHERTEXT_BYTES: usize = 512;
const AAD_DOMAIN: &[u8] = b"plexus keystore\0";
const ENCRYPTION_KEY_LABEL: &[u8] = b"plexus keystore v1: encryption key";
const PASSWORD_CHECK_LABEL: &[u8] = b"plexus keystore v1: password check";

/// Largest accepted memory cost: 4 GiB, in KiB.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
/// Largest accepted number of passes.
const MAX_T_COST: u32 = 64;
/// Largest accepted parallelism.
const MAX_P_COST: u32 = 64;

/// Argon2id cost parameters for sealing a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory cost in KiB (at least 8 per lane).
    pub m_cost: u32,
    /// Number of passes over the memory.
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// RFC 9106's second recommended setting: 64 MiB, 3 passes, 4 lanes.
    fn default() -> Self {
        Self {
            m_cost: 64 * 1024,
            t_cost: 3,
            p_cost: 4,
        }
    }
}

impl KdfParams {
    /// The cheapest parameters argon2id accepts (8 KiB, 1 pass, 1 lane). For tests only:
    /// a key sealed with these falls to a password guesser quickly.
    pub const fn insecure_fast() -> Self {
        Self {
            m_cost: 8,
            t_cost: 1,
            p_cost: 1,
        }
    }

    /// Check the parameters are within the bounds this crate reads back.
    pub fn validate(&self) -> Result<(), WalletError> {
        let bad = |reason: String| Err(WalletError::InvalidKdfParams { reason });
        if self.p_cost == 0 || self.p_cost > MAX_P_COST {
            return bad(format!(
                "p_cost {} is outside 1..={MAX_P_COST}",
                self.p_cost
            ));
        }
        if self.t_cost == 0 || self.t_cost > MAX_T_COST {
            return bad(format!(
                "t_cost {} is outside 1..={MAX_T_COST}",
                self.t_cost
            ));
        }
        let min_m = 8 * self.p_cost;
        if self.m_cost < min_m || self.m_cost > MAX_M_COST_KIB {
            return bad(format!(
                "m_cost {} KiB is outside {min_m}..={MAX_M_COST_KIB} (8 KiB per lane, at most \
                 4 GiB)",
                self.m_cost
            ));
        }
        Ok(())
    }

    fn argon2(&self) -> Result<Argon2<'static>, argon2::Error> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, Some(32))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// The JSON document, as written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeystoreJson {
    version: u64,
    address: String,
    kdf: KdfJson,
    cipher: CipherJson,
    ciphertext: String,
    password_check: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfJson {
    name: String,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CipherJson {
    name: String,
    nonce: String,
}

/// Just the version, read first so a newer format gets a clear error.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<u64>,
}

/// A parsed, structurally valid keystore (the secret is still sealed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Keystore {
    address: AccountId,
    kdf: KdfParams,
    salt: Vec<u8>,
    nonce: [u8; NONCE_BYTES],
    ciphertext: Vec<u8>,
    password_check: [u8; CHECK_BYTES],
}

impl Keystore {
    /// Encrypt `mnemonic` under `password`.
    pub(crate) fn seal(
        mnemonic: &Mnemonic,
        password: &str,
        kdf: &KdfParams,
    ) -> Result<Self, WalletError> {
        if password.is_empty() {
            return Err(WalletError::EmptyPassword);
        }
        kdf.validate()?;
        let mut salt = vec![0u8; SALT_BYTES];
        let mut nonce = [0u8; NONCE_BYTES];
        fill_random(&mut salt)?;
        fill_random(&mut nonce)?;
        let (key, password_check) =
            derive_keys(password, &salt, kdf).map_err(|e| WalletError::InvalidKdfParams {
                reason: e.to_string(),
            })?;
        let mut store = Self {
            address: mnemonic.account(),
            kdf: *kdf,
            salt,
            nonce,
            ciphertext: Vec::new(),
            password_check,
        };
        let phrase = mnemonic.phrase();
        let aad = store.associated_data();
        let cipher = XChaCha20Poly1305::new(&Key::from(*key));
        store.ciphertext = cipher
            .encrypt(
                &XNonce::from(store.nonce),
                Payload {
                    msg: phrase.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| WalletError::InvalidKdfParams {
                reason: "the cipher refused the plaintext".to_string(),
            })?;
        Ok(store)
    }

    /// Decrypt the mnemonic. `path` names the file in errors.
    pub(crate) fn unseal(&self, password: &str, path: &Path) -> Result<Mnemonic, WalletError> {
        let (key, check) = derive_keys(password, &self.salt, &self.kdf)
            .map_err(|e| WalletError::corrupt(path, format!("argon2id refused it: {e}")))?;
        if !constant_time_eq(&check, &self.password_check) {
            return Err(WalletError::WrongPassword {
                path: path.to_path_buf(),
            });
        }
        let aad = self.associated_data();
        let cipher = XChaCha20Poly1305::new(&Key::from(*key));
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    &XNonce::from(self.nonce),
                    Payload {
                        msg: &self.ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| {
                    WalletError::corrupt(
                        path,
                        "the password is right but the ciphertext or its header was changed",
                    )
                })?,
        );
        let phrase = std::str::from_utf8(&plaintext)
            .map_err(|_| WalletError::corrupt(path, "the decrypted secret is not text"))?;
        let mnemonic = Mnemonic::parse(phrase)
            .map_err(|_| WalletError::corrupt(path, "the decrypted secret is not a mnemonic"))?;
        if mnemonic.account() != self.address {
            return Err(WalletError::corrupt(
                path,
                "the decrypted key does not match the file's address",
            ));
        }
        Ok(mnemonic)
    }

    /// The account the sealed key controls (readable without the password).
    pub(crate) fn address(&self) -> AccountId {
        self.address
    }

    /// The JSON text, pretty-printed, with a final newline.
    pub(crate) fn to_json(&self) -> String {
        let doc = KeystoreJson {
            version: u64::from(KEYSTORE_VERSION),
            address: self.address.to_address(),
            kdf: KdfJson {
                name: KDF_NAME.to_string(),
                m_cost: self.kdf.m_cost,
                t_cost: self.kdf.t_cost,
                p_cost: self.kdf.p_cost,
                salt: hex::encode(&self.salt),
            },
            cipher: CipherJson {
                name: CIPHER_NAME.to_string(),
                nonce: hex::encode(self.nonce),
            },
            ciphertext: hex::encode(&self.ciphertext),
            password_check: hex::encode(self.password_check),
        };
        // Serializing plain strings and integers cannot fail.
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parse and check a keystore file's bytes. `path` names the file in errors.
    pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Self, WalletError> {
        let corrupt = |reason: String| WalletError::corrupt(path, reason);
        if bytes.len() > MAX_KEYSTORE_BYTES {
            return Err(corrupt(format!(
                "it is {} bytes, more than a keystore's {MAX_KEYSTORE_BYTES}",
                bytes.len()
            )));
        }
        let probe: VersionProbe = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(format!("it is not keystore JSON: {e}")))?;
        match probe.version {
            None => return Err(corrupt("it has no version field".to_string())),
            Some(v) if v != u64::from(KEYSTORE_VERSION) => {
                return Err(WalletError::UnsupportedVersion {
                    path: path.to_path_buf(),
                    version: v,
                    supported: KEYSTORE_VERSION,
                });
            }
            Some(_) => {}
        }
        let doc: KeystoreJson = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(format!("it is not keystore JSON: {e}")))?;

        let address = AccountId::parse(&doc.address)
            .map_err(|_| corrupt("its address is not a plexus address".to_string()))?;
        if address.to_address() != doc.address {
            return Err(corrupt(
                "its address is not in canonical bech32m form".to_string(),
            ));
        }
        if doc.kdf.name != KDF_NAME {
            return Err(corrupt(format!("unknown kdf {:?}", doc.kdf.name)));
        }
        if doc.cipher.name != CIPHER_NAME {
            return Err(corrupt(format!("unknown cipher {:?}", doc.cipher.name)));
        }
        let kdf = KdfParams {
            m_cost: doc.kdf.m_cost,
            t_cost: doc.kdf.t_cost,
            p_cost: doc.kdf.p_cost,
        };
        kdf.validate().map_err(|e| corrupt(e.to_string()))?;
        let salt = decode_hex(&doc.kdf.salt, "salt", 8..=64).map_err(corrupt)?;
        let nonce =
            decode_hex(&doc.cipher.nonce, "nonce", NONCE_BYTES..=NONCE_BYTES).map_err(corrupt)?;
        let ciphertext = decode_hex(&doc.ciphertext, "ciphertext", 17..=MAX_CIPHERTEXT_BYTES)
            .map_err(corrupt)?;
        let check = decode_hex(
            &doc.password_check,
            "password_check",
            CHECK_BYTES..=CHECK_BYTES,
        )
        .map_err(corrupt)?;
        let mut store = Self {
            address,
            kdf,
            salt,
            nonce: [0; NONCE_BYTES],
            ciphertext,
            password_check: [0; CHECK_BYTES],
        };
        store.nonce.copy_from_slice(&nonce);
        store.password_check.copy_from_slice(&check);
        Ok(store)
    }

    /// The bytes the AEAD authenticates besides the plaintext: every header field, each
    /// length-prefixed, in a fixed order.
    fn associated_data(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(AAD_DOMAIN);
        out.extend_from_slice(&KEYSTORE_VERSION.to_be_bytes());
        push_prefixed(&mut out, self.address.as_bytes());
        push_prefixed(&mut out, KDF_NAME.as_bytes());
        out.extend_from_slice(&self.kdf.m_cost.to_be_bytes());
        out.extend_from_slice(&self.kdf.t_cost.to_be_bytes());
        out.extend_from_slice(&self.kdf.p_cost.to_be_bytes());
        push_prefixed(&mut out, &self.salt);
        push_prefixed(&mut out, CIPHER_NAME.as_bytes());
        push_prefixed(&mut out, &self.nonce);
        push_prefixed(&mut out, &self.password_check);
        out
    }
}

/// argon2id → master secret → (cipher key, password check).
fn derive_keys(
    password: &str,
    salt: &[u8],
    kdf: &KdfParams,
) -> Result<(Zeroizing<[u8; 32]>, [u8; CHECK_BYTES]), argon2::Error> {
    let mut master = Zeroizing::new([0u8; 32]);
    kdf.argon2()?
        .hash_password_into(password.as_bytes(), salt, master.as_mut_slice())?;
    let key = hmac_sha256(&master, ENCRYPTION_KEY_LABEL);
    let check = hmac_sha256(&master, PASSWORD_CHECK_LABEL);
    Ok((key, *check))
}

fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC zero-pads keys shorter than SHA-256's 64-byte block, so padding the 32-byte
    // key ourselves gives the same MAC through the infallible constructor.
    let mut padded = Zeroizing::new([0u8; 64]);
    padded[..32].copy_from_slice(key);
    let block_key: &hmac::digest::Key<Hmac<Sha256>> = (&*padded).into();
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new(block_key);
    mac.update(message);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

fn constant_time_eq(a: &[u8; CHECK_BYTES], b: &[u8; CHECK_BYTES]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn push_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    // Every field here is at most a few hundred bytes.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn decode_hex(
    text: &str,
    field: &str,
    len: std::ops::RangeInclusive<usize>,
) -> Result<Vec<u8>, String> {
    if text.len() > 2 * len.end() {
        return Err(format!("its {field} is too long"));
    }
    let bytes = hex::decode(text).map_err(|_| format!("its {field} is not hex"))?;
    if !len.contains(&bytes.len()) {
        return Err(format!(
            "its {field} is {} bytes, not {}..={}",
            bytes.len(),
            len.start(),
            len.end()
        ));
    }
    Ok(bytes)
}

/// Fill `buf` from the operating system's random number generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), WalletError> {
    SysRng.try_fill_bytes(buf).map_err(|e| WalletError::Random {
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::WordCount;

    const PHRASE: &str =
        "legal winner thank year wave sausage worth useful legal winner thank yellow";

    fn path() -> &'static Path {
        Path::new("test-keystore")
    }

    fn sealed(password: &str) -> (Mnemonic, Keystore) {
        let mnemonic = Mnemonic::parse(PHRASE).unwrap();
        let store = Keystore::seal(&mnemonic, password, &KdfParams::insecure_fast()).unwrap();
        (mnemonic, store)
    }

    fn edit(store: &Keystore, change: impl FnOnce(&mut serde_json::Value)) -> Keystore {
        let mut doc: serde_json::Value = serde_json::from_str(&store.to_json()).unwrap();
        change(&mut doc);
        Keystore::parse(doc.to_string().as_bytes(), path()).unwrap()
    }

    #[test]
    fn a_sealed_mnemonic_unseals_with_its_password() {
        let (mnemonic, store) = sealed("hunter2");
        let back = Keystore::parse(store.to_json().as_bytes(), path()).unwrap();
        assert_eq!(back, store);
        assert_eq!(back.address(), mnemonic.account());
        assert_eq!(back.unseal("hunter2", path()).unwrap(), mnemonic);
    }

    #[test]
    fn the_json_has_the_documented_shape() {
        let (mnemonic, store) = sealed("pw");
        let doc: serde_json::Value = serde_json::from_str(&store.to_json()).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["address"], mnemonic.account().to_address());
        assert_eq!(doc["kdf"]["name"], "argon2id");
        assert_eq!(doc["kdf"]["m_cost"], 8);
        assert_eq!(doc["kdf"]["salt"].as_str().unwrap().len(), 32);
        assert_eq!(doc["cipher"]["name"], "xchacha20poly1305");
        assert_eq!(doc["cipher"]["nonce"].as_str().unwrap().len(), 48);
        assert_eq!(doc["password_check"].as_str().unwrap().len(), 64);
        let text = store.to_json();
        assert!(!text.contains("legal"), "the mnemonic is not in the file");
    }

    #[test]
    fn two_seals_of_one_key_use_fresh_salt_and_nonce() {
        let (_, a) = sealed("pw");
        let (_, b) = sealed("pw");
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn a_wrong_password_is_reported_as_such() {
        let (_, store) = sealed("right");
        assert!(matches!(
            store.unseal("wrong", path()),
            Err(WalletError::WrongPassword { .. })
        ));
    }

    #[test]
    fn an_empty_password_is_refused_when_sealing() {
        let mnemonic = Mnemonic::parse(PHRASE).unwrap();
        assert!(matches!(
            Keystore::seal(&mnemonic, "", &KdfParams::insecure_fast()),
            Err(WalletError::EmptyPassword)
        ));
    }

    #[test]
    fn a_flipped_ciphertext_bit_is_reported_as_corruption() {
        let (_, store) = sealed("pw");
        let mut bad = store.clone();
        bad.ciphertext[0] ^= 1;
        assert!(matches!(
            bad.unseal("pw", path()),
            Err(WalletError::Corrupt { .. })
        ));
        let mut bad = store;
        let last = bad.ciphertext.len() - 1;
        bad.ciphertext[last] ^= 0x80;
        assert!(matches!(
            bad.unseal("pw", path()),
            Err(WalletError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_changed_address_fails_authentication() {
        let (_, store) = sealed("pw");
        let other = Mnemonic::generate(WordCount::Twelve).unwrap().account();
        let bad = edit(&store, |doc| doc["address"] = other.to_address().into());
        assert!(matches!(
            bad.unseal("pw", path()),
            Err(WalletError::Corrupt { .. })
        ));
    }

    #[test]
    fn changed_kdf_settings_fail_to_open() {
        let (_, store) = sealed("pw");
        for field in ["m_cost", "t_cost"] {
            let bad = edit(&store, |doc| doc["kdf"][field] = 9.into());
            assert!(bad.unseal("pw", path()).is_err(), "{field}");
        }
        let bad = edit(&store, |doc| {
            doc["kdf"]["salt"] = "00112233445566778899aabbccddeeff".into()
        });
        assert!(bad.unseal("pw", path()).is_err());
        let bad = edit(&store, |doc| {
            doc["cipher"]["nonce"] = hex::encode([7u8; 24]).into()
        });
        assert!(matches!(
            bad.unseal("pw", path()),
            Err(WalletError::Corrupt { .. })
        ));
    }

    #[test]
    fn malformed_headers_are_rejected_before_any_work() {
        let (_, store) = sealed("pw");
        let doc: serde_json::Value = serde_json::from_str(&store.to_json()).unwrap();
        type Edit = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("kdf name", Box::new(|d| d["kdf"]["name"] = "scrypt".into())),
            (
                "cipher name",
                Box::new(|d| d["cipher"]["name"] = "aes".into()),
            ),
            (
                "huge m_cost",
                Box::new(|d| d["kdf"]["m_cost"] = u32::MAX.into()),
            ),
            ("zero t_cost", Box::new(|d| d["kdf"]["t_cost"] = 0.into())),
            (
                "short nonce",
                Box::new(|d| d["cipher"]["nonce"] = "00".into()),
            ),
            ("odd hex", Box::new(|d| d["ciphertext"] = "abc".into())),
            ("short salt", Box::new(|d| d["kdf"]["salt"] = "0011".into())),
            (
                "hex address",
                Box::new(|d| d["address"] = hex::encode([1u8; 32]).into()),
            ),
            (
                "junk address",
                Box::new(|d| d["address"] = "plx1nope".into()),
            ),
            ("extra field", Box::new(|d| d["note"] = "hi".into())),
            (
                "no check",
                Box::new(|d| d["password_check"] = serde_json::Value::Null),
            ),
            (
                "no version",
                Box::new(|d| d["version"] = serde_json::Value::Null),
            ),
        ];
        for (what, change) in cases {
            let mut bad = doc.clone();
            change(&mut bad);
            assert!(
                matches!(
                    Keystore::parse(bad.to_string().as_bytes(), path()),
                    Err(WalletError::Corrupt { .. })
                ),
                "{what}"
            );
        }
        for junk in [&b""[..], b"[]", b"null", b"{", &[0xff; 10]] {
            assert!(matches!(
                Keystore::parse(junk, path()),
                Err(WalletError::Corrupt { .. })
            ));
        }
        let huge = vec![b' '; MAX_KEYSTORE_BYTES + 1];
        assert!(matches!(
            Keystore::parse(&huge, path()),
            Err(WalletError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_newer_version_is_named_in_the_error() {
        let (_, store) = sealed("pw");
        let mut doc: serde_json::Value = serde_json::from_str(&store.to_json()).unwrap();
        doc["version"] = 2.into();
        doc["future_field"] = true.into();
        let err = Keystore::parse(doc.to_string().as_bytes(), path()).unwrap_err();
        assert!(matches!(
            err,
            WalletError::UnsupportedVersion {
                version: 2,
                supported: 1,
                ..
            }
        ));
    }

    #[test]
    fn kdf_params_outside_the_bounds_are_refused() {
        assert!(KdfParams::default().validate().is_ok());
        assert!(KdfParams::insecure_fast().validate().is_ok());
        for bad in [
            KdfParams {
                m_cost: 7,
                t_cost: 1,
                p_cost: 1,
            },
            KdfParams {
                m_cost: 16,
                t_cost: 1,
                p_cost: 4,
            },
            KdfParams {
                m_cost: 64,
                t_cost: 0,
                p_cost: 1,
            },
            KdfParams {
                m_cost: 64,
                t_cost: 1,
                p_cost: 0,
            },
            KdfParams {
                m_cost: u32::MAX,
                t_cost: 1,
                p_cost: 1,
            },
            KdfParams {
                m_cost: 64,
                t_cost: 65,
                p_cost: 1,
            },
        ] {
            assert!(matches!(
                bad.validate(),
                Err(WalletError::InvalidKdfParams { .. })
            ));
        }
    }

    #[test]
    fn the_default_kdf_params_seal_and_unseal() {
        let mnemonic = Mnemonic::parse(PHRASE).unwrap();
        let store = Keystore::seal(&mnemonic, "strong", &KdfParams::default()).unwrap();
        let back = Keystore::parse(store.to_json().as_bytes(), path()).unwrap();
        assert_eq!(back.kdf, KdfParams::default());
        assert_eq!(back.unseal("strong", path()).unwrap(), mnemonic);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any non-empty password (any Unicode) round-trips, and any other password fails.
        #[test]
        fn a_keystore_round_trips_with_any_password(
            password in "\\PC{1,40}",
            other in "\\PC{1,40}",
            entropy in proptest::collection::vec(any::<u8>(), 16),
        ) {
            let mnemonic = Mnemonic::from_entropy(&entropy).unwrap();
            let store = Keystore::seal(&mnemonic, &password, &KdfParams::insecure_fast()).unwrap();
            let back = Keystore::parse(store.to_json().as_bytes(), path()).unwrap();
            prop_assert_eq!(back.unseal(&password, path()).unwrap(), mnemonic);
            if other != password {
                let wrong_rejected = matches!(
                    back.unseal(&other, path()),
                    Err(WalletError::WrongPassword { .. })
                );
                prop_assert!(wrong_rejected);
            }
        }
    }
}
