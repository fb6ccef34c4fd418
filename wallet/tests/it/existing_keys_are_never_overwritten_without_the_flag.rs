use plexus_wallet::{COLDKEY_FILE, COLDKEYPUB_FILE, Wallet, WalletError, WordCount};

use crate::support::{PASSWORD, Root, create, fast};

#[test]
fn creating_a_wallet_twice_is_refused_and_changes_nothing() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let key_before = std::fs::read(wallet.path().join(COLDKEY_FILE)).unwrap();
    let pub_before = std::fs::read(wallet.path().join(COLDKEYPUB_FILE)).unwrap();

    let err = Wallet::create_with_kdf(
        &root.path(),
        "alice",
        PASSWORD,
        WordCount::Twelve,
        false,
        fast(),
    )
    .unwrap_err();
    assert!(matches!(&err, WalletError::WalletExists { name } if name == "alice"));
    assert_eq!(
        err.to_string(),
        "wallet 'alice' already exists; pass --overwrite to replace it or choose another name"
    );
    let other = crate::support::create(&Root::new(), "x").1;
    assert!(matches!(
        Wallet::regen_coldkey_with_kdf(
            &root.path(),
            "alice",
            &other.phrase(),
            PASSWORD,
            false,
            fast()
        ),
        Err(WalletError::WalletExists { .. })
    ));

    assert_eq!(
        std::fs::read(wallet.path().join(COLDKEY_FILE)).unwrap(),
        key_before
    );
    assert_eq!(
        std::fs::read(wallet.path().join(COLDKEYPUB_FILE)).unwrap(),
        pub_before
    );
    let names: Vec<_> = std::fs::read_dir(wallet.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary files are left: {names:?}");
}

#[test]
fn overwrite_replaces_the_coldkey_and_keeps_the_hotkeys() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let (miner, _) = wallet
        .create_hotkey("miner", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    let (replaced, words) = Wallet::create_with_kdf(
        &root.path(),
        "alice",
        "new password",
        WordCount::Twelve,
        true,
        fast(),
    )
    .unwrap();
    assert_ne!(replaced.coldkey_address(), wallet.coldkey_address());
    let opened = Wallet::open(&root.path(), "alice").unwrap();
    assert_eq!(opened.coldkey_address(), words.account());
    assert_eq!(
        opened.unlock_coldkey("new password").unwrap().account(),
        words.account()
    );
    assert_eq!(
        opened.hotkeys().unwrap(),
        vec![("miner".to_string(), miner)]
    );
}

#[test]
fn a_watch_only_wallet_is_not_replaced_without_the_flag() {
    let root = Root::new();
    let dir = root.path().join("watch");
    std::fs::create_dir_all(&dir).unwrap();
    let (_, words) = create(&Root::new(), "elsewhere");
    std::fs::write(dir.join(COLDKEYPUB_FILE), format!("{}\n", words.account())).unwrap();
    assert!(matches!(
        Wallet::create_with_kdf(
            &root.path(),
            "watch",
            PASSWORD,
            WordCount::Twelve,
            false,
            fast()
        ),
        Err(WalletError::WalletExists { .. })
    ));
    // Restoring its coldkey is an overwrite too, and then it can sign.
    let restored = Wallet::regen_coldkey_with_kdf(
        &root.path(),
        "watch",
        &words.phrase(),
        PASSWORD,
        true,
        fast(),
    )
    .unwrap();
    assert_eq!(restored.coldkey_address(), words.account());
    restored.unlock_coldkey(PASSWORD).unwrap();
}

#[test]
fn creating_or_restoring_a_hotkey_twice_is_refused_unless_overwriting() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let (first, first_words) = wallet
        .create_hotkey("miner", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    let path = wallet.path().join("hotkeys").join("miner");
    let before = std::fs::read(&path).unwrap();

    let err = wallet
        .create_hotkey("miner", PASSWORD, WordCount::Twelve, false)
        .unwrap_err();
    assert!(matches!(&err, WalletError::HotkeyExists { wallet, hotkey }
        if wallet == "alice" && hotkey == "miner"));
    assert!(err.to_string().contains("pass --overwrite to replace it"));
    let (_, other_words) = create(&Root::new(), "x");
    assert!(matches!(
        wallet.regen_hotkey("miner", &other_words.phrase(), PASSWORD, false),
        Err(WalletError::HotkeyExists { .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(wallet.hotkey_address("miner").unwrap(), first);

    let second = wallet
        .regen_hotkey("miner", &other_words.phrase(), PASSWORD, true)
        .unwrap();
    assert_ne!(second, first);
    assert_eq!(
        wallet.unlock_hotkey("miner", PASSWORD).unwrap().account(),
        second
    );
    let _ = first_words;
}
