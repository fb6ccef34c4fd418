//! SLIP-0010 ed25519 key derivation along hardened paths.
//!
//! Every Plexus key (coldkey or hotkey) has its own mnemonic and sits at one fixed path,
//! [`PLEXUS_PATH`] = `m/44'/7539'/0'/0'`:
//! purpose 44' (BIP-44 layout), coin type 7539' ("PLEX" on a phone keypad; unassigned
//! in SLIP-0044's registry when this was written), account 0', change 0'. SLIP-0010 has
//! only hardened steps for ed25519, so every level is hardened. The BIP-39 passphrase is
//! empty, as in btcli; the keystore password, not a passphrase, guards the key at rest.

use std::{fmt, str::FromStr};

use hmac::{Hmac, KeyInit, Mac};
use plexus_types::Keypair;
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::WalletError;

/// Added to an index to make it hardened (BIP-32's `i ≥ 2^31`).
pub const HARDENED: u32 = 1 << 31;

/// The SLIP-0044 coin type of Plexus keys: 7539, "PLEX" on a phone keypad.
pub const COIN_TYPE: u32 = 7539;

/// The path every Plexus key is derived at: purpose 44', coin type [`COIN_TYPE`],
/// account 0', change 0', all hardened.
pub const PLEXUS_PATH: &str = "m/44'/7539'/0'/0'";

/// SLIP-0010's HMAC key for the ed25519 master key.
const ED25519_CURVE: &[u8] = b"ed25519 seed";

/// The longest path accepted when parsing (BIP-32 depth is one byte, but no one needs more).
const MAX_DEPTH: usize = 32;

/// A SLIP-0010 path for ed25519: `m` followed by hardened steps only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivationPath {
    /// Step indices below [`HARDENED`]; each is hardened when deriving.
    steps: Vec<u32>,
}

impl DerivationPath {
    /// The path of every Plexus key, [`PLEXUS_PATH`].
    pub fn plexus() -> Self {
        Self {
            steps: vec![44, COIN_TYPE, 0, 0],
        }
    }

    /// A path from step indices, each below 2^31 and hardened when deriving.
    pub fn from_steps(steps: &[u32]) -> Result<Self, WalletError> {
        if steps.len() > MAX_DEPTH {
            return Err(WalletError::InvalidDerivationPath {
                path: format!("{steps:?}"),
                reason: "it is deeper than 32 steps",
            });
        }
        if steps.iter().any(|&s| s >= HARDENED) {
            return Err(WalletError::InvalidDerivationPath {
                path: format!("{steps:?}"),
                reason: "a step index is 2^31 or more",
            });
        }
        Ok(Self {
            steps: steps.to_vec(),
        })
    }

    /// Parse `m/44'/7539'/0'/0'`. A hardened step ends in `'`, `h` or `H`.
    pub fn parse(text: &str) -> Result<Self, WalletError> {
        let bad = |reason| WalletError::InvalidDerivationPath {
            path: text.to_string(),
            reason,
        };
        let mut parts = text.split('/');
        if parts.next() != Some("m") {
            return Err(bad("it does not start with `m`"));
        }
        let mut steps = Vec::new();
        for part in parts {
            let number = part.strip_suffix(['\'', 'h', 'H']).ok_or_else(|| {
                bad("a step is not hardened (ed25519 allows hardened steps only)")
            })?;
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("a step is not a decimal number"));
            }
            let index: u32 = number
                .parse()
                .map_err(|_| bad("a step index is too large"))?;
            if index >= HARDENED {
                return Err(bad("a step index is 2^31 or more"));
            }
            if steps.len() == MAX_DEPTH {
                return Err(bad("it is deeper than 32 steps"));
            }
            steps.push(index);
        }
        Ok(Self { steps })
    }

    /// The step indices, below 2^31 (hardened when deriving).
    pub fn steps(&self) -> &[u32] {
        &self.steps
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for step in &self.steps {
            write!(f, "/{step}'")?;
        }
        Ok(())
    }
}

impl FromStr for DerivationPath {
    type Err = WalletError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A SLIP-0010 extended private key: the 32-byte ed25519 seed and the chain code.
/// Both are wiped from memory on drop.
pub struct ExtendedKey {
    secret: Zeroizing<[u8; 32]>,
    chain_code: Zeroizing<[u8; 32]>,
}

impl ExtendedKey {
    /// The master key of a BIP-39 seed: `HMAC-SHA512(key = "ed25519 seed", seed)`.
    pub fn master(seed: &[u8]) -> Self {
        Self::split(&hmac_sha512(ED25519_CURVE, &[seed]))
    }

    /// The hardened child `index'` (give `index` below 2^31; it is hardened here):
    /// `HMAC-SHA512(key = chain code, 0x00 ‖ secret ‖ be32(index + 2^31))`.
    pub fn child(&self, index: u32) -> Self {
        let hardened = (index | HARDENED).to_be_bytes();
        Self::split(&hmac_sha512(
            self.chain_code.as_slice(),
            &[&[0u8], self.secret.as_slice(), &hardened],
        ))
    }

    /// The 32-byte ed25519 private key (the seed of [`Keypair::from_seed`]).
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The 32-byte chain code.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }

    /// The signing key.
    pub fn keypair(&self) -> Keypair {
        Keypair::from_seed(*self.secret)
    }

    fn split(i: &[u8; 64]) -> Self {
        let mut secret = Zeroizing::new([0u8; 32]);
        let mut chain_code = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&i[..32]);
        chain_code.copy_from_slice(&i[32..]);
        Self { secret, chain_code }
    }
}

impl fmt::Debug for ExtendedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExtendedKey(redacted)")
    }
}

/// Derive the extended key at `path` from a BIP-39 seed.
pub fn derive_ed25519(seed: &[u8], path: &DerivationPath) -> ExtendedKey {
    let mut key = ExtendedKey::master(seed);
    for &step in path.steps() {
        key = key.child(step);
    }
    key
}

/// HMAC-SHA512 over the concatenation of `parts`.
fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 64]> {
    // HMAC pads a key shorter than the hash's block size (128 bytes) with zeros, so a
    // zero-padded block-size key gives the same MAC and needs no fallible constructor.
    // Our keys are 12 or 32 bytes.
    let mut padded = Zeroizing::new([0u8; 128]);
    padded[..key.len()].copy_from_slice(key);
    let block_key: &hmac::digest::Key<Hmac<Sha512>> = (&*padded).into();
    let mut mac = <Hmac<Sha512> as KeyInit>::new(block_key);
    for part in parts {
        mac.update(part);
    }
    let mut out = Zeroizing::new([0u8; 64]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One level of a published vector: (path, chain code, private key, public key
    /// with SLIP-0010's leading 00 byte).
    type Level = (&'static str, &'static str, &'static str, &'static str);

    fn check_vector(seed: &str, levels: &[Level]) {
        let seed = hex::decode(seed).unwrap();
        for (path, chain_code, private, public) in levels {
            let key = derive_ed25519(&seed, &DerivationPath::parse(path).unwrap());
            assert_eq!(
                hex::encode(key.chain_code()),
                *chain_code,
                "chain code at {path}"
            );
            assert_eq!(hex::encode(key.secret()), *private, "private key at {path}");
            let public_hex = format!("00{}", hex::encode(key.keypair().account().as_bytes()));
            assert_eq!(public_hex, *public, "public key at {path}");
        }
    }

    /// SLIP-0010, "Test vector 1 for ed25519", every level.
    #[test]
    fn slip10_ed25519_test_vector_one() {
        check_vector(
            "000102030405060708090a0b0c0d0e0f",
            &[
                (
                    "m",
                    "90046a93de5380a72b5e45010748567d5ea02bbf6522f979e05c0d8d8ca9fffb",
                    "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7",
                    "00a4b2856bfec510abab89753fac1ac0e1112364e7d250545963f135f2a33188ed",
                ),
                (
                    "m/0'",
                    "8b59aa11380b624e81507a27fedda59fea6d0b779a778918a2fd3590e16e9c69",
                    "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3",
                    "008c8a13df77a28f3445213a0f432fde644acaa215fc72dcdf300d5efaa85d350c",
                ),
                (
                    "m/0'/1'",
                    "a320425f77d1b5c2505a6b1b27382b37368ee640e3557c315416801243552f14",
                    "b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2",
                    "001932a5270f335bed617d5b935c80aedb1a35bd9fc1e31acafd5372c30f5c1187",
                ),
                (
                    "m/0'/1'/2'",
                    "2e69929e00b5ab250f49c3fb1c12f252de4fed2c1db88387094a0f8c4c9ccd6c",
                    "92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9",
                    "00ae98736566d30ed0e9d2f4486a64bc95740d89c7db33f52121f8ea8f76ff0fc1",
                ),
                (
                    "m/0'/1'/2'/2'",
                    "8f6d87f93d750e0efccda017d662a1b31a266e4a6f5993b15f5c1f07f74dd5cc",
                    "30d1dc7e5fc04c31219ab25a27ae00b50f6fd66622f6e9c913253d6511d1e662",
                    "008abae2d66361c879b900d204ad2cc4984fa2aa344dd7ddc46007329ac76c429c",
                ),
                (
                    "m/0'/1'/2'/2'/1000000000'",
                    "68789923a0cac2cd5a29172a475fe9e0fb14cd6adb5ad98a3fa70333e7afa230",
                    "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793",
                    "003c24da049451555d51a7014a37337aa4e12d41e485abccfa46b47dfb2af54b7a",
                ),
            ],
        );
    }

    /// SLIP-0010, "Test vector 2 for ed25519", every level.
    #[test]
    fn slip10_ed25519_test_vector_two() {
        check_vector(
            "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542",
            &[
                (
                    "m",
                    "ef70a74db9c3a5af931b5fe73ed8e1a53464133654fd55e7a66f8570b8e33c3b",
                    "171cb88b1b3c1db25add599712e36245d75bc65a1a5c9e18d76f9f2b1eab4012",
                    "008fe9693f8fa62a4305a140b9764c5ee01e455963744fe18204b4fb948249308a",
                ),
                (
                    "m/0'",
                    "0b78a3226f915c082bf118f83618a618ab6dec793752624cbeb622acb562862d",
                    "1559eb2bbec5790b0c65d8693e4d0875b1747f4970ae8b650486ed7470845635",
                    "0086fab68dcb57aa196c77c5f264f215a112c22a912c10d123b0d03c3c28ef1037",
                ),
                (
                    "m/0'/2147483647'",
                    "138f0b2551bcafeca6ff2aa88ba8ed0ed8de070841f0c4ef0165df8181eaad7f",
                    "ea4f5bfe8694d8bb74b7b59404632fd5968b774ed545e810de9c32a4fb4192f4",
                    "005ba3b9ac6e90e83effcd25ac4e58a1365a9e35a3d3ae5eb07b9e4d90bcf7506d",
                ),
                (
                    "m/0'/2147483647'/1'",
                    "73bd9fff1cfbde33a1b846c27085f711c0fe2d66fd32e139d3ebc28e5a4a6b90",
                    "3757c7577170179c7868353ada796c839135b3d30554bbb74a4b1e4a5a58505c",
                    "002e66aa57069c86cc18249aecf5cb5a9cebbfd6fadeab056254763874a9352b45",
                ),
                (
                    "m/0'/2147483647'/1'/2147483646'",
                    "0902fe8a29f9140480a00ef244bd183e8a13288e4412d8389d140aac1794825a",
                    "5837736c89570de861ebc173b1086da4f505d4adb387c6a1b1342d5e4ac9ec72",
                    "00e33c0f7d81d843c572275f287498e8d408654fdf0d1e065b84e2e6f157aab09b",
                ),
                (
                    "m/0'/2147483647'/1'/2147483646'/2'",
                    "5d70af781f3a37b829f0d060924d5e960bdc02e85423494afc0b1a41bbe196d4",
                    "551d333177df541ad876a60ea71f00447931c0a9da16f227c11ea080d7391b8d",
                    "0047150c75db263559a70d5778bf36abbab30fb061ad69f69ece61a72b0cfa4fc0",
                ),
            ],
        );
    }

    #[test]
    fn the_plexus_path_prints_and_parses_as_documented() {
        assert_eq!(DerivationPath::plexus().to_string(), PLEXUS_PATH);
        assert_eq!(
            DerivationPath::parse(PLEXUS_PATH).unwrap(),
            DerivationPath::plexus()
        );
        assert_eq!(
            DerivationPath::parse("m/44h/7539H/0'/0h").unwrap(),
            DerivationPath::plexus()
        );
        assert_eq!(DerivationPath::parse("m").unwrap().steps(), &[] as &[u32]);
    }

    #[test]
    fn malformed_or_unhardened_paths_are_rejected() {
        for bad in [
            "",
            "44'/0'",
            "M/0'",
            "m/",
            "m/0",
            "m/0'/1",
            "m/'",
            "m/-1'",
            "m/+1'",
            "m/2147483648'",
            "m/99999999999'",
            "m/0x1'",
            "m//0'",
        ] {
            assert!(
                matches!(
                    DerivationPath::parse(bad),
                    Err(WalletError::InvalidDerivationPath { .. })
                ),
                "{bad:?} must be rejected"
            );
        }
        let deep = format!("m{}", "/0'".repeat(33));
        assert!(DerivationPath::parse(&deep).is_err());
        assert!(DerivationPath::from_steps(&[HARDENED]).is_err());
        assert_eq!(
            DerivationPath::from_steps(&[44, 7539, 0, 0]).unwrap(),
            DerivationPath::plexus()
        );
    }

    #[test]
    fn the_largest_hardened_index_is_accepted() {
        let path = DerivationPath::parse("m/2147483647'").unwrap();
        assert_eq!(path.steps(), &[HARDENED - 1]);
    }
}
