//! A pinned vector for our own path: if this changes, every existing wallet's
//! addresses change, so it must never change.

use plexus_wallet::{DerivationPath, Mnemonic, PLEXUS_PATH, derive_ed25519};

const PHRASE: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

#[test]
fn the_path_is_m_44_7539_0_0_all_hardened() {
    assert_eq!(PLEXUS_PATH, "m/44'/7539'/0'/0'");
    assert_eq!(DerivationPath::plexus().steps(), &[44, 7539, 0, 0]);
}

#[test]
fn the_abandon_about_mnemonic_gives_a_pinned_key_and_address() {
    let mnemonic = Mnemonic::parse(PHRASE).unwrap();
    let key = mnemonic.keypair();
    assert_eq!(hex::encode(key.secret_bytes()), PINNED_SECRET);
    assert_eq!(key.account().to_address(), PINNED_ADDRESS);

    // The same key, spelled out through the lower-level functions.
    let seed = mnemonic.to_seed("");
    let manual = derive_ed25519(seed.as_slice(), &"m/44'/7539'/0'/0'".parse().unwrap());
    assert_eq!(hex::encode(manual.secret()), PINNED_SECRET);

    // A passphrase or another path gives another key.
    assert_ne!(
        mnemonic
            .keypair_at("TREZOR", &DerivationPath::plexus())
            .account(),
        key.account()
    );
    assert_ne!(
        mnemonic
            .keypair_at("", &DerivationPath::parse("m/44'/7539'/1'/0'").unwrap())
            .account(),
        key.account()
    );
}

/// Computed independently (Python hashlib + hmac, the `cryptography` package for the
/// public key, a hand-written bech32m encoder) when this test was written.
const PINNED_SECRET: &str = "6b11d5b0470924c37b07f53043b5759a5a3dd2df8ff53202bc1e2c6584944062";
const PINNED_ADDRESS: &str = "plx1umfzchf0qa3cjgadmhcsx4edpv45vmfau7c7vvdtckak6y4qe6fq7g553j";
