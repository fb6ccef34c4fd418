//! A crash between writing the temporary file and renaming it leaves a hidden
//! `.<name>.tmp-<pid>-<random>` file beside the real one. These tests plant such files
//! (partial JSON, garbage, even a complete keystore) and check nothing reads them.

use plexus_wallet::{Wallet, WordCount, list_wallets};

use crate::support::{PASSWORD, Root, create};

#[test]
fn leftover_temp_files_are_skipped_by_open_listing_and_unlock() {
    let root = Root::new();
    let (wallet, cold) = create(&root, "alice");
    let (miner, _) = wallet
        .create_hotkey("miner", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    let hotkeys = wallet.path().join("hotkeys");
    let full_hotkey = std::fs::read(hotkeys.join("miner")).unwrap();

    // A coldkey replacement that died half-written.
    std::fs::write(
        wallet.path().join(".coldkey.tmp-4242-00aa11bb22cc33dd"),
        b"{\"version\":1,\"address\":\"plx1",
    )
    .unwrap();
    // A hotkey that was fully staged but never renamed into place.
    std::fs::write(
        hotkeys.join(".validator.tmp-4242-0123456789abcdef"),
        &full_hotkey,
    )
    .unwrap();
    // Garbage, as a torn write can leave.
    std::fs::write(hotkeys.join(".miner.tmp-1-ffffffffffffffff"), [0u8; 7]).unwrap();

    let opened = Wallet::open(&root.path(), "alice").unwrap();
    assert_eq!(opened.coldkey_address(), cold.account());
    assert_eq!(
        opened.unlock_coldkey(PASSWORD).unwrap().account(),
        cold.account()
    );
    assert_eq!(
        opened.hotkeys().unwrap(),
        vec![("miner".to_string(), miner)]
    );
    assert_eq!(
        opened.unlock_hotkey("miner", PASSWORD).unwrap().account(),
        miner
    );

    let listed = list_wallets(&root.path()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].hotkeys, vec![("miner".to_string(), miner)]);

    // The never-renamed hotkey does not exist, so its name is free.
    assert!(opened.hotkey_address("validator").is_err());
    let (validator, _) = opened
        .with_kdf(crate::support::fast())
        .create_hotkey("validator", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    assert_ne!(validator, miner);
}

#[test]
fn a_leftover_temp_file_does_not_block_replacing_the_key() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    std::fs::write(
        wallet.path().join(".coldkey.tmp-9-0000000000000000"),
        b"partial",
    )
    .unwrap();
    let (replaced, words) = plexus_wallet::Wallet::create_with_kdf(
        &root.path(),
        "alice",
        PASSWORD,
        WordCount::Twelve,
        true,
        crate::support::fast(),
    )
    .unwrap();
    assert_eq!(replaced.coldkey_address(), words.account());
    assert_eq!(
        Wallet::open(&root.path(), "alice")
            .unwrap()
            .coldkey_address(),
        words.account()
    );
}

#[test]
fn a_temp_folder_in_the_root_is_not_a_wallet() {
    let root = Root::new();
    create(&root, "alice");
    std::fs::create_dir_all(root.path().join(".bob.tmp-1-2")).unwrap();
    let names: Vec<String> = list_wallets(&root.path())
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["alice"]);
}
