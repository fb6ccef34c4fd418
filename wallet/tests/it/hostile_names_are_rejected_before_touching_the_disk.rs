use plexus_wallet::{Wallet, WalletError, WordCount};

use crate::support::{PASSWORD, Root, create, fast};

const HOSTILE: &[&str] = &[
    "",
    ".",
    "..",
    "../escape",
    "../../etc",
    "a/b",
    "/abs",
    "back\\slash",
    ".hidden",
    "nul\0",
    "tab\tname",
    "ünïcode",
    "spa ce",
    "0123456789012345678901234567890123456789012345678901234567890123x",
];

fn outside_entries(root: &Root) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(root.outside())
        .expect("a readable folder")
        .map(|e| e.expect("a folder entry").file_name())
        .collect();
    names.sort();
    names
}

#[test]
fn hostile_wallet_names_are_refused_by_every_entry_point() {
    let root = Root::new();
    create(&root, "alice");
    let before = outside_entries(&root);
    let (_, words) = create(&Root::new(), "x");
    for name in HOSTILE {
        let invalid = |r: Result<(), WalletError>| {
            matches!(r, Err(WalletError::InvalidName { kind: "wallet", .. }))
        };
        assert!(
            invalid(
                Wallet::create_with_kdf(
                    &root.path(),
                    name,
                    PASSWORD,
                    WordCount::Twelve,
                    true,
                    fast()
                )
                .map(|_| ())
            ),
            "create {name:?}"
        );
        assert!(
            invalid(
                Wallet::regen_coldkey_with_kdf(
                    &root.path(),
                    name,
                    &words.phrase(),
                    PASSWORD,
                    true,
                    fast()
                )
                .map(|_| ())
            ),
            "regen {name:?}"
        );
        assert!(
            invalid(Wallet::open(&root.path(), name).map(|_| ())),
            "open {name:?}"
        );
    }
    assert_eq!(
        outside_entries(&root),
        before,
        "nothing was written beside the root"
    );
    let inside: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
    assert_eq!(inside.len(), 1, "only alice exists in the root");
}

#[test]
fn hostile_hotkey_names_are_refused_by_every_entry_point() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let (_, words) = create(&Root::new(), "x");
    for name in HOSTILE {
        let invalid = |r: Result<(), WalletError>| {
            matches!(r, Err(WalletError::InvalidName { kind: "hotkey", .. }))
        };
        assert!(
            invalid(
                wallet
                    .create_hotkey(name, PASSWORD, WordCount::Twelve, true)
                    .map(|_| ())
            ),
            "create {name:?}"
        );
        assert!(
            invalid(
                wallet
                    .regen_hotkey(name, &words.phrase(), PASSWORD, true)
                    .map(|_| ())
            ),
            "regen {name:?}"
        );
        assert!(
            invalid(wallet.unlock_hotkey(name, PASSWORD).map(|_| ())),
            "unlock {name:?}"
        );
        assert!(
            invalid(wallet.hotkey_address(name).map(|_| ())),
            "address {name:?}"
        );
    }
    // Neither the wallet folder nor the one above it gained anything.
    assert!(!wallet.path().join("hotkeys").exists());
    assert!(!root.path().join("escape").exists());
    assert!(!root.outside().join("escape").exists());
}

#[test]
fn the_error_explains_the_rule() {
    let root = Root::new();
    let err = Wallet::open(&root.path(), "../escape").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid wallet name \"../escape\": it contains a path separator; use 1 to 64 \
         letters, digits, '-', '_' or '.', not starting with '.'"
    );
}
