//! BIP-39 English mnemonics of 12 or 24 words: generation, checked parsing, seeds.

use std::fmt;

use bip39::Language;
use plexus_types::{AccountId, Keypair};
use rand::{TryRng, rngs::SysRng};
use zeroize::Zeroizing;

use crate::{DerivationPath, WalletError};

/// How many words a new mnemonic has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WordCount {
    /// 12 words: 128 bits of entropy (btcli's default, and ours).
    #[default]
    Twelve,
    /// 24 words: 256 bits of entropy.
    TwentyFour,
}

impl WordCount {
    /// The number of words.
    pub const fn words(self) -> usize {
        match self {
            Self::Twelve => 12,
            Self::TwentyFour => 24,
        }
    }

    /// The number of entropy bytes behind that many words.
    pub const fn entropy_bytes(self) -> usize {
        match self {
            Self::Twelve => 16,
            Self::TwentyFour => 32,
        }
    }
}

impl TryFrom<usize> for WordCount {
    type Error = WalletError;

    /// Accept 12 or 24 (e.g. from a `--words` flag).
    fn try_from(words: usize) -> Result<Self, WalletError> {
        match words {
            12 => Ok(Self::Twelve),
            24 => Ok(Self::TwentyFour),
            _ => Err(WalletError::UnsupportedWordCount { words }),
        }
    }
}

/// A BIP-39 English mnemonic of 12 or 24 words: the backup of exactly one key.
///
/// The words are wiped from memory when the value is dropped, and `Debug` shows only
/// the word count. Read the words with [`Mnemonic::phrase`] to show them to their owner.
pub struct Mnemonic {
    inner: bip39::Mnemonic,
}

impl Mnemonic {
    /// A fresh mnemonic from the operating system's random number generator.
    pub fn generate(words: WordCount) -> Result<Self, WalletError> {
        let mut entropy = Zeroizing::new([0u8; 32]);
        let entropy = &mut entropy[..words.entropy_bytes()];
        SysRng
            .try_fill_bytes(entropy)
            .map_err(|e| WalletError::Random {
                reason: e.to_string(),
            })?;
        Self::from_entropy(entropy)
    }

    /// The mnemonic that encodes `entropy` (16 bytes for 12 words, 32 for 24).
    pub fn from_entropy(entropy: &[u8]) -> Result<Self, WalletError> {
        if entropy.len() != 16 && entropy.len() != 32 {
            return Err(WalletError::EntropyLength { len: entropy.len() });
        }
        let inner = bip39::Mnemonic::from_entropy_in(Language::English, entropy)
            .map_err(|_| WalletError::EntropyLength { len: entropy.len() })?;
        Ok(Self { inner })
    }

    /// Parse a phrase typed by a person: 12 or 24 English words separated by any
    /// whitespace, in any letter case. The checksum is verified.
    ///
    /// Errors name the position of a bad word but never the word itself, so they can
    /// be logged without leaking part of a secret.
    pub fn parse(phrase: &str) -> Result<Self, WalletError> {
        let lower = Zeroizing::new(phrase.to_lowercase());
        let found = lower.split_whitespace().count();
        if found != 12 && found != 24 {
            return Err(WalletError::MnemonicWordCount { found });
        }
        let inner =
            bip39::Mnemonic::parse_in(Language::English, lower.as_str()).map_err(|e| match e {
                bip39::Error::UnknownWord(index) => WalletError::MnemonicUnknownWord {
                    position: index + 1,
                },
                bip39::Error::BadWordCount(found) => WalletError::MnemonicWordCount { found },
                _ => WalletError::MnemonicChecksum,
            })?;
        Ok(Self { inner })
    }

    /// The words, separated by single spaces. Wiped from memory when dropped.
    pub fn phrase(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(24 * 9));
        for (i, word) in self.inner.words().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    }

    /// The number of words: 12 or 24.
    pub fn word_count(&self) -> usize {
        self.inner.word_count()
    }

    /// The entropy the words encode (16 or 32 bytes).
    pub fn to_entropy(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.inner.to_entropy())
    }

    /// The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512 over the words, salted with
    /// `"mnemonic" + passphrase` (NFKD-normalized), 2048 rounds.
    pub fn to_seed(&self, passphrase: &str) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.inner.to_seed(passphrase))
    }

    /// The key a Plexus wallet derives from this mnemonic: the BIP-39 seed with an empty
    /// passphrase, then SLIP-0010 ed25519 at [`DerivationPath::plexus`].
    pub fn keypair(&self) -> Keypair {
        self.keypair_at("", &DerivationPath::plexus())
    }

    /// The key at any hardened SLIP-0010 path, with a BIP-39 passphrase.
    pub fn keypair_at(&self, passphrase: &str, path: &DerivationPath) -> Keypair {
        let seed = self.to_seed(passphrase);
        crate::slip10::derive_ed25519(seed.as_slice(), path).keypair()
    }

    /// The account of [`Mnemonic::keypair`].
    pub fn account(&self) -> AccountId {
        self.keypair().account()
    }
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mnemonic({} words, redacted)", self.word_count())
    }
}

impl PartialEq for Mnemonic {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Eq for Mnemonic {}

#[cfg(test)]
mod tests {
    use super::*;

    /// BIP-39's published English vectors (trezor/python-mnemonic `vectors.json`), all
    /// with the passphrase "TREZOR": (entropy, mnemonic, seed).
    const TREZOR_VECTORS: &[(&str, &str, &str)] = &[
        (
            "00000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
        ),
        (
            "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607",
        ),
        (
            "80808080808080808080808080808080",
            "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
            "d71de856f81a8acc65e6fc851a38d4d7ec216fd0796d0a6827a3ad6ed5511a30fa280f12eb2e47ed2ac03b5c462a0358d18d69fe4f985ec81778c1b370b652a8",
        ),
        (
            "ffffffffffffffffffffffffffffffff",
            "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
            "ac27495480225222079d7be181583751e86f571027b0497b5b5d11218e0a8a13332572917f0f8e5a589620c6f15b11c61dee327651a14c34e18231052e48c069",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
            "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8",
        ),
        (
            "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
            "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title",
            "bc09fca1804f7e69da93c2f2028eb238c227f2e9dda30cd63699232578480a4021b146ad717fbb7e451ce9eb835f43620bf5c514db0f8add49f5d121449d3e87",
        ),
        (
            "8080808080808080808080808080808080808080808080808080808080808080",
            "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless",
            "c0c519bd0e91a2ed54357d9d1ebef6f5af218a153624cf4f2da911a0ed8f7a09e2ef61af0aca007096df430022f7a2b6fb91661a9589097069720d015e4e982f",
        ),
        (
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
            "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf60f5d4564b8ba3f05a69890ad",
        ),
        (
            "9e885d952ad362caeb4efe34a8e91bd2",
            "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
            "274ddc525802f7c828d8ef7ddbcdc5304e87ac3535913611fbbfa986d0c9e5476c91689f9c8a54fd55bd38606aa6a8595ad213d4c9c9f9aca3fb217069a41028",
        ),
        (
            "68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
            "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis maple dilemma loan word shrug inflict delay length",
            "64c87cde7e12ecf6704ab95bb1408bef047c22db4cc7491c4271d170a1b213d20b385bc1588d9c7b38f1b39d415665b8a9030c9ec653d75e65f847d8fc1fc440",
        ),
        (
            "c0ba5a8e914111210f2bd131f3d5e08d",
            "scheme spot photo card baby mountain device kick cradle pact join borrow",
            "ea725895aaae8d4c1cf682c1bfd2d358d52ed9f0f0591131b559e2724bb234fca05aa9c02c57407e04ee9dc3b454aa63fbff483a8b11de949624b9f1831a9612",
        ),
        (
            "9f6a2878b2520799a44ef18bc7df394e7061a224d2c33cd015b157d746869863",
            "panda eyebrow bullet gorilla call smoke muffin taste mesh discover soft ostrich alcohol speed nation flash devote level hobby quick inner drive ghost inside",
            "72be8e052fc4919d2adf28d5306b5474b0069df35b02303de8c1729c9538dbb6fc2d731d5f832193cd9fb6aeecbc469594a70e3dd50811b5067f3b88b28c3e8d",
        ),
        (
            "23db8160a31d3e0dca3688ed941adbf3",
            "cat swing flag economy stadium alone churn speed unique patch report train",
            "deb5f45449e615feff5640f2e49f933ff51895de3b4381832b3139941c57b59205a42480c52175b6efcffaa58a2503887c1e8b363a707256bdd2b587b46541f5",
        ),
        (
            "066dca1a2bb7e8a1db2832148ce9933eea0f3ac9548d793112d9a95c9407efad",
            "all hour make first leader extend hole alien behind guard gospel lava path output census museum junior mass reopen famous sing advance salt reform",
            "26e975ec644423f4a4c4f4215ef09b4bd7ef924e85d1d17c4cf3f136c2863cf6df0a475045652c57eb5fb41513ca2a2d67722b77e954b4b3fc11f7590449191d",
        ),
        (
            "f30f8c1da665478f49b001d94c5fc452",
            "vessel ladder alter error federal sibling chat ability sun glass valve picture",
            "2aaa9242daafcee6aa9d7269f17d4efe271e1b9a529178d7dc139cd18747090bf9d60295d0ce74309a78852a9caadf0af48aae1c6253839624076224374bc63f",
        ),
        (
            "f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f",
            "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold",
            "01f5bced59dec48e362f2c45b5de68b9fd6c92c6634f44d6d40aab69056506f0e35524a518034ddc1192e1dacd32c1ed3eaa3c3b131c88ed8e7e54c49a5d0998",
        ),
    ];

    /// The 18-word vectors from the same file: valid BIP-39, but not a Plexus length.
    const TREZOR_18_WORD_PHRASES: &[&str] = &[
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon agent",
        "gravity machine north sort system female filter attitude volume fold club stay feature office ecology stable narrow fog",
        "horn tenant knee talent sponsor spell gate clip pulse soap slush warm silver nephew swap uncle crack brave",
    ];

    #[test]
    fn every_trezor_vector_gives_its_entropy_words_and_seed() {
        assert!(TREZOR_VECTORS.len() >= 12);
        let mut long = 0;
        for (entropy, phrase, seed) in TREZOR_VECTORS {
            let entropy = hex::decode(entropy).unwrap();
            let from_entropy = Mnemonic::from_entropy(&entropy).unwrap();
            assert_eq!(from_entropy.phrase().as_str(), *phrase);

            let parsed = Mnemonic::parse(phrase).unwrap();
            assert_eq!(parsed, from_entropy);
            assert_eq!(parsed.to_entropy().as_slice(), entropy.as_slice());
            assert_eq!(
                hex::encode(parsed.to_seed("TREZOR").as_slice()),
                *seed,
                "{phrase}"
            );
            if parsed.word_count() == 24 {
                long += 1;
            }
        }
        assert!(long >= 4, "the vectors include 24-word mnemonics");
    }

    #[test]
    fn an_eighteen_word_phrase_is_refused_with_its_word_count() {
        for phrase in TREZOR_18_WORD_PHRASES {
            assert!(matches!(
                Mnemonic::parse(phrase),
                Err(WalletError::MnemonicWordCount { found: 18 })
            ));
        }
    }

    #[test]
    fn parsing_ignores_case_and_extra_whitespace() {
        let messy =
            "  Legal WINNER thank year\twave sausage worth useful\n legal winner thank yellow ";
        let clean = "legal winner thank year wave sausage worth useful legal winner thank yellow";
        assert_eq!(Mnemonic::parse(messy).unwrap().phrase().as_str(), clean);
    }

    #[test]
    fn a_misspelled_word_is_reported_by_position_only() {
        let err = Mnemonic::parse(
            "abandon abandon abandonn abandon abandon abandon abandon abandon abandon abandon abandon about",
        )
        .unwrap_err();
        assert!(matches!(
            err,
            WalletError::MnemonicUnknownWord { position: 3 }
        ));
        assert!(!err.to_string().contains("abandonn"));
    }

    #[test]
    fn a_bad_checksum_is_reported() {
        let err = Mnemonic::parse(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
        )
        .unwrap_err();
        assert!(matches!(err, WalletError::MnemonicChecksum));
        assert!(err.to_string().contains("check it against your backup"));
    }

    #[test]
    fn wrong_word_counts_are_reported() {
        assert!(matches!(
            Mnemonic::parse(""),
            Err(WalletError::MnemonicWordCount { found: 0 })
        ));
        assert!(matches!(
            Mnemonic::parse("zoo zoo zoo"),
            Err(WalletError::MnemonicWordCount { found: 3 })
        ));
        assert!(matches!(
            WordCount::try_from(18),
            Err(WalletError::UnsupportedWordCount { words: 18 })
        ));
        assert_eq!(WordCount::try_from(24).unwrap(), WordCount::TwentyFour);
        assert!(matches!(
            Mnemonic::from_entropy(&[0u8; 20]),
            Err(WalletError::EntropyLength { len: 20 })
        ));
    }

    #[test]
    fn generated_mnemonics_have_the_asked_length_and_differ() {
        let a = Mnemonic::generate(WordCount::Twelve).unwrap();
        let b = Mnemonic::generate(WordCount::Twelve).unwrap();
        let c = Mnemonic::generate(WordCount::TwentyFour).unwrap();
        assert_eq!(a.word_count(), 12);
        assert_eq!(c.word_count(), 24);
        assert_ne!(a, b);
        assert_eq!(Mnemonic::parse(&a.phrase()).unwrap(), a);
    }

    #[test]
    fn debug_output_hides_the_words() {
        let m = Mnemonic::parse(TREZOR_VECTORS[1].1).unwrap();
        let shown = format!("{m:?}");
        assert_eq!(shown, "Mnemonic(12 words, redacted)");
    }
}
