use plexus_wallet::{COLDKEY_FILE, WordCount, list_wallets};

use crate::support::{PASSWORD, Root, create};

#[test]
fn a_missing_root_lists_no_wallets() {
    let root = Root::new();
    assert_eq!(list_wallets(&root.path()).unwrap(), vec![]);
}

#[test]
fn wallets_and_their_hotkeys_come_back_sorted_by_name() {
    let root = Root::new();
    let (zed, _) = create(&root, "zed");
    let (alice, _) = create(&root, "alice");
    let (bob, bob_words) = create(&root, "bob");
    let (m2, _) = alice
        .create_hotkey("miner-2", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    let (m1, _) = alice
        .create_hotkey("miner-1", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    let (v, _) = alice
        .create_hotkey("Validator", PASSWORD, WordCount::Twelve, false)
        .unwrap();

    // Noise that is not a wallet: a stray file, an empty folder, a badly named folder.
    std::fs::write(root.path().join("notes.txt"), b"hi").unwrap();
    std::fs::create_dir_all(root.path().join("empty")).unwrap();
    std::fs::create_dir_all(root.path().join("has space")).unwrap();
    // A stray folder among the hotkeys.
    std::fs::create_dir_all(alice.path().join("hotkeys").join("subdir")).unwrap();
    // bob becomes watch-only.
    std::fs::remove_file(bob.path().join(COLDKEY_FILE)).unwrap();

    let listed = list_wallets(&root.path()).unwrap();
    let names: Vec<&str> = listed.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "zed"]);
    assert_eq!(listed[0].coldkey, alice.coldkey_address());
    assert_eq!(
        listed[0].hotkeys,
        vec![
            ("Validator".to_string(), v),
            ("miner-1".to_string(), m1),
            ("miner-2".to_string(), m2),
        ]
    );
    assert_eq!(listed[1].coldkey, bob_words.account());
    assert!(listed[1].hotkeys.is_empty());
    assert_eq!(listed[2].coldkey, zed.coldkey_address());
    assert_eq!(alice.hotkeys().unwrap(), listed[0].hotkeys);
}
