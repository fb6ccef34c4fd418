use plexus_wallet::{Wallet, WalletError, WordCount};

use crate::support::{PASSWORD, Root, create};

#[test]
fn the_coldkey_refuses_a_wrong_password() {
    let root = Root::new();
    create(&root, "alice");
    let wallet = Wallet::open(&root.path(), "alice").unwrap();
    for wrong in [
        "",
        "correct horse battery stapl",
        "Correct horse battery staple",
    ] {
        let err = wallet.unlock_coldkey(wrong).unwrap_err();
        match &err {
            WalletError::WrongPassword { path } => assert!(path.ends_with("alice/coldkey")),
            other => panic!("expected WrongPassword, got {other:?}"),
        }
        assert!(err.to_string().starts_with("wrong password for "));
        assert!(wallet.coldkey_mnemonic(wrong).is_err());
    }
    // The right one still works afterwards.
    wallet.unlock_coldkey(PASSWORD).unwrap();
}

#[test]
fn a_hotkey_refuses_the_coldkey_password_when_sealed_under_another() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    wallet
        .create_hotkey("miner", "hot password", WordCount::Twelve, false)
        .unwrap();
    assert!(matches!(
        wallet.unlock_hotkey("miner", PASSWORD),
        Err(WalletError::WrongPassword { .. })
    ));
    wallet.unlock_hotkey("miner", "hot password").unwrap();
}
