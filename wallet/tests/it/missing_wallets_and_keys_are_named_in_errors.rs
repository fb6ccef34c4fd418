use plexus_wallet::{COLDKEY_FILE, Wallet, WalletError, WordCount};

use crate::support::{PASSWORD, Root, create, fast};

#[test]
fn opening_a_wallet_that_does_not_exist_says_where_it_looked() {
    let root = Root::new();
    let err = Wallet::open(&root.path(), "nobody").unwrap_err();
    assert!(matches!(&err, WalletError::WalletNotFound { name, .. } if name == "nobody"));
    assert!(err.to_string().contains(&root.path().display().to_string()));

    // A folder without any key in it is not a wallet either.
    std::fs::create_dir_all(root.path().join("empty")).unwrap();
    assert!(matches!(
        Wallet::open(&root.path(), "empty"),
        Err(WalletError::WalletNotFound { .. })
    ));
}

#[test]
fn a_missing_hotkey_is_named() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let err = wallet.unlock_hotkey("ghost", PASSWORD).unwrap_err();
    assert!(
        matches!(&err, WalletError::HotkeyNotFound { wallet, hotkey }
        if wallet == "alice" && hotkey == "ghost")
    );
    assert!(matches!(
        wallet.hotkey_address("ghost"),
        Err(WalletError::HotkeyNotFound { .. })
    ));
    assert_eq!(wallet.hotkeys().unwrap(), vec![]);
}

#[test]
fn a_watch_only_wallet_shows_its_address_but_cannot_sign() {
    let root = Root::new();
    let (wallet, words) = create(&root, "alice");
    std::fs::remove_file(wallet.path().join(COLDKEY_FILE)).unwrap();
    let opened = Wallet::open(&root.path(), "alice").unwrap();
    assert_eq!(opened.coldkey_address(), words.account());
    let err = opened.unlock_coldkey(PASSWORD).unwrap_err();
    assert!(matches!(err, WalletError::ColdkeyMissing { .. }));
    assert!(err.to_string().contains("regenerate the coldkey"));
}

#[test]
fn an_empty_password_is_refused_for_new_keys() {
    let root = Root::new();
    assert!(matches!(
        Wallet::create_with_kdf(&root.path(), "alice", "", WordCount::Twelve, false, fast()),
        Err(WalletError::EmptyPassword)
    ));
    assert!(!root.path().join("alice").exists());
    let (wallet, _) = create(&root, "alice");
    assert!(matches!(
        wallet.create_hotkey("miner", "", WordCount::Twelve, false),
        Err(WalletError::EmptyPassword)
    ));
}

#[test]
fn a_hotkey_for_a_deleted_wallet_is_refused() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    std::fs::remove_dir_all(wallet.path()).unwrap();
    assert!(matches!(
        wallet.create_hotkey("miner", PASSWORD, WordCount::Twelve, false),
        Err(WalletError::WalletNotFound { .. })
    ));
    assert!(
        !wallet.path().exists(),
        "the wallet folder is not recreated by a hotkey"
    );
}
