use plexus_wallet::{COLDKEYPUB_FILE, DerivationPath, Mnemonic, Wallet, WordCount, derive_ed25519};

use crate::support::{PASSWORD, Root, create, fast};

#[test]
fn the_coldkey_round_trips_through_create_open_and_unlock() {
    let root = Root::new();
    let (created, mnemonic) = create(&root, "alice");
    let opened = Wallet::open(&root.path(), "alice").unwrap();
    assert_eq!(opened.name(), "alice");
    assert_eq!(opened.coldkey_address(), created.coldkey_address());
    assert_eq!(opened.coldkey_address(), mnemonic.account());

    // Unlocking gives exactly the key SLIP-0010 derives from the mnemonic's seed.
    let unlocked = opened.unlock_coldkey(PASSWORD).unwrap();
    let seed = mnemonic.to_seed("");
    let derived = derive_ed25519(seed.as_slice(), &DerivationPath::plexus());
    assert_eq!(unlocked.secret_bytes(), *derived.secret());
    assert_eq!(unlocked.account(), opened.coldkey_address());

    // It signs for the address the wallet shows.
    let signature = unlocked.sign(b"transfer");
    opened
        .coldkey_address()
        .verify(b"transfer", &signature)
        .unwrap();

    // The mnemonic can be read back for backup.
    assert_eq!(opened.coldkey_mnemonic(PASSWORD).unwrap(), mnemonic);
}

#[test]
fn coldkeypub_holds_the_address_in_plain_text() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let text = std::fs::read_to_string(wallet.path().join(COLDKEYPUB_FILE)).unwrap();
    assert_eq!(text, format!("{}\n", wallet.coldkey_address()));
    assert!(text.starts_with("plx1"));
}

#[test]
fn each_hotkey_has_its_own_mnemonic_and_unlocks_to_it() {
    let root = Root::new();
    let (wallet, cold) = create(&root, "alice");
    let (miner, miner_words) = wallet
        .create_hotkey("miner", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    let (validator, validator_words) = wallet
        .create_hotkey(
            "validator",
            "another password",
            WordCount::TwentyFour,
            false,
        )
        .unwrap();
    assert_eq!(validator_words.word_count(), 24);
    assert_ne!(miner_words, cold);
    assert_ne!(miner_words, validator_words);
    assert_ne!(miner, wallet.coldkey_address());

    let opened = Wallet::open(&root.path(), "alice").unwrap();
    assert_eq!(opened.hotkey_address("miner").unwrap(), miner);
    assert_eq!(
        opened.unlock_hotkey("miner", PASSWORD).unwrap().account(),
        miner
    );
    assert_eq!(miner_words.account(), miner);
    assert_eq!(
        opened
            .unlock_hotkey("validator", "another password")
            .unwrap()
            .account(),
        validator
    );
    assert_eq!(
        opened
            .hotkey_mnemonic("validator", "another password")
            .unwrap(),
        validator_words
    );
}

#[test]
fn a_24_word_wallet_with_the_default_argon2_settings_round_trips() {
    let root = Root::new();
    let (wallet, mnemonic) = Wallet::create(
        &root.path(),
        "strong",
        PASSWORD,
        WordCount::TwentyFour,
        false,
    )
    .unwrap();
    assert_eq!(mnemonic.word_count(), 24);
    let reparsed = Mnemonic::parse(&mnemonic.phrase()).unwrap();
    let opened = Wallet::open(&root.path(), "strong").unwrap();
    assert_eq!(
        opened.unlock_coldkey(PASSWORD).unwrap().account(),
        reparsed.account()
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wallet.path().join("coldkey")).unwrap()).unwrap();
    assert_eq!(doc["kdf"]["m_cost"], 65536);
    assert_eq!(doc["kdf"]["t_cost"], 3);
}

#[test]
fn a_wallet_keeps_its_kdf_settings_for_the_hotkeys_it_writes() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    wallet
        .create_hotkey("miner", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(wallet.path().join("hotkeys").join("miner")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["kdf"]["m_cost"], fast().m_cost);

    // A handle opened later uses what it is told to.
    let reopened = Wallet::open(&root.path(), "alice")
        .unwrap()
        .with_kdf(fast());
    reopened
        .create_hotkey("second", PASSWORD, WordCount::Twelve, false)
        .unwrap();
}
