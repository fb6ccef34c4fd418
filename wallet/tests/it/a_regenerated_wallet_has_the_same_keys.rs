use plexus_wallet::{Wallet, WalletError, WordCount};

use crate::support::{PASSWORD, Root, create, fast};

#[test]
fn regenerating_from_the_mnemonics_restores_every_address() {
    let first = Root::new();
    let (wallet, cold_words) = create(&first, "alice");
    let (miner, miner_words) = wallet
        .create_hotkey("miner", PASSWORD, WordCount::TwentyFour, false)
        .unwrap();

    // On another machine, from the written-down words, with a new password.
    let second = Root::new();
    let restored = Wallet::regen_coldkey_with_kdf(
        &second.path(),
        "alice",
        &cold_words.phrase(),
        "new password",
        false,
        fast(),
    )
    .unwrap();
    assert_eq!(restored.coldkey_address(), wallet.coldkey_address());
    let hot = restored
        .regen_hotkey("miner", &miner_words.phrase(), "new password", false)
        .unwrap();
    assert_eq!(hot, miner);

    let opened = Wallet::open(&second.path(), "alice").unwrap();
    assert_eq!(
        opened
            .unlock_coldkey("new password")
            .unwrap()
            .secret_bytes(),
        wallet.unlock_coldkey(PASSWORD).unwrap().secret_bytes()
    );
    assert_eq!(
        opened
            .unlock_hotkey("miner", "new password")
            .unwrap()
            .account(),
        miner
    );
}

#[test]
fn a_phrase_as_typed_by_a_person_is_accepted() {
    let root = Root::new();
    let (_, words) = create(&Root::new(), "x");
    let messy = format!(
        "  {}  \n",
        words.phrase().to_uppercase().replace(' ', "\t ")
    );
    let restored =
        Wallet::regen_coldkey_with_kdf(&root.path(), "alice", &messy, PASSWORD, false, fast())
            .unwrap();
    assert_eq!(restored.coldkey_address(), words.account());
}

#[test]
fn a_bad_phrase_is_refused_and_writes_nothing() {
    let root = Root::new();
    type Expect = fn(&WalletError) -> bool;
    let cases: [(&str, Expect); 3] = [
        (
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
            |e| matches!(e, WalletError::MnemonicChecksum),
        ),
        (
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon plexus",
            |e| matches!(e, WalletError::MnemonicUnknownWord { position: 12 }),
        ),
        ("abandon about", |e| {
            matches!(e, WalletError::MnemonicWordCount { found: 2 })
        }),
    ];
    for (phrase, expected) in cases {
        let err =
            Wallet::regen_coldkey_with_kdf(&root.path(), "alice", phrase, PASSWORD, false, fast())
                .unwrap_err();
        assert!(expected(&err), "{phrase}: {err:?}");
    }
    assert!(!root.path().exists(), "nothing was written");
}
