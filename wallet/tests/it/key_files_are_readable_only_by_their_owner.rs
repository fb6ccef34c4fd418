#![cfg(unix)]

use std::{os::unix::fs::PermissionsExt, path::Path};

use plexus_wallet::{COLDKEY_FILE, COLDKEYPUB_FILE, WordCount};

use crate::support::{PASSWORD, Root, create};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("an existing path")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn key_files_are_0600_and_folders_0700() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    wallet
        .create_hotkey("miner", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    assert_eq!(mode(&root.path()), 0o700);
    assert_eq!(mode(&wallet.path()), 0o700);
    assert_eq!(mode(&wallet.path().join("hotkeys")), 0o700);
    assert_eq!(mode(&wallet.path().join(COLDKEY_FILE)), 0o600);
    assert_eq!(mode(&wallet.path().join(COLDKEYPUB_FILE)), 0o600);
    assert_eq!(mode(&wallet.path().join("hotkeys").join("miner")), 0o600);
}
