use plexus_wallet::{COLDKEY_FILE, COLDKEYPUB_FILE, Mnemonic, Wallet, WalletError, WordCount};

use crate::support::{PASSWORD, Root, create, edit_json};

fn flip_hex_digit(text: &str, at: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars[at] = if chars[at] == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}

#[test]
fn a_changed_ciphertext_is_reported_as_corruption_not_a_wrong_password() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let path = wallet.path().join(COLDKEY_FILE);
    edit_json(&path, |doc| {
        let ct = doc["ciphertext"].as_str().unwrap().to_string();
        doc["ciphertext"] = flip_hex_digit(&ct, 10).into();
    });
    let err = Wallet::open(&root.path(), "alice")
        .unwrap()
        .unlock_coldkey(PASSWORD)
        .unwrap_err();
    assert!(matches!(err, WalletError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("restore the key from its mnemonic")
    );
}

#[test]
fn a_swapped_address_is_caught_at_open_and_at_unlock() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let attacker = Mnemonic::generate(WordCount::Twelve).unwrap().account();
    let key_path = wallet.path().join(COLDKEY_FILE);
    edit_json(&key_path, |doc| {
        doc["address"] = attacker.to_address().into()
    });

    // coldkeypub.txt still names the real key: opening refuses to pick one.
    assert!(matches!(
        Wallet::open(&root.path(), "alice"),
        Err(WalletError::Corrupt { .. })
    ));

    // An attacker who rewrites both files gets past open (no password is involved),
    // but the associated data stops the key from unlocking as the attacker's address.
    std::fs::write(wallet.path().join(COLDKEYPUB_FILE), format!("{attacker}\n")).unwrap();
    let opened = Wallet::open(&root.path(), "alice").unwrap();
    assert_eq!(opened.coldkey_address(), attacker);
    assert!(matches!(
        opened.unlock_coldkey(PASSWORD),
        Err(WalletError::Corrupt { .. })
    ));
}

#[test]
fn changed_kdf_settings_or_salt_do_not_open() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let path = wallet.path().join(COLDKEY_FILE);
    let original = std::fs::read(&path).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 4] = [
        ("m_cost", |d| d["kdf"]["m_cost"] = 16.into()),
        ("t_cost", |d| d["kdf"]["t_cost"] = 2.into()),
        ("p_cost", |d| {
            d["kdf"]["p_cost"] = 2.into();
            d["kdf"]["m_cost"] = 16.into();
        }),
        ("salt", |d| {
            let salt = d["kdf"]["salt"].as_str().unwrap().to_string();
            d["kdf"]["salt"] = flip_hex_digit(&salt, 0).into();
        }),
    ];
    for (what, change) in edits {
        std::fs::write(&path, &original).unwrap();
        edit_json(&path, change);
        let result = Wallet::open(&root.path(), "alice")
            .unwrap()
            .unlock_coldkey(PASSWORD);
        assert!(
            matches!(result, Err(WalletError::WrongPassword { .. })),
            "{what}: {result:?}"
        );
    }
}

#[test]
fn a_changed_nonce_or_password_check_does_not_open() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    let path = wallet.path().join(COLDKEY_FILE);
    let original = std::fs::read(&path).unwrap();
    for field in ["nonce", "password_check"] {
        std::fs::write(&path, &original).unwrap();
        edit_json(&path, |doc| {
            let (parent, key) = if field == "nonce" {
                (&mut doc["cipher"], "nonce")
            } else {
                (doc, "password_check")
            };
            let text = parent[key].as_str().unwrap().to_string();
            parent[key] = flip_hex_digit(&text, 3).into();
        });
        assert!(
            Wallet::open(&root.path(), "alice")
                .unwrap()
                .unlock_coldkey(PASSWORD)
                .is_err(),
            "{field}"
        );
    }
}

#[test]
fn a_newer_version_asks_for_an_upgrade() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    edit_json(&wallet.path().join(COLDKEY_FILE), |doc| {
        doc["version"] = 7.into()
    });
    let err = Wallet::open(&root.path(), "alice").unwrap_err();
    assert!(matches!(
        err,
        WalletError::UnsupportedVersion { version: 7, .. }
    ));
    assert!(err.to_string().contains("upgrade plexus"));
}

#[test]
fn a_truncated_or_garbage_file_is_reported_as_corruption() {
    let root = Root::new();
    let (wallet, _) = create(&root, "alice");
    wallet
        .create_hotkey("miner", PASSWORD, WordCount::Twelve, false)
        .unwrap();
    let hot = wallet.path().join("hotkeys").join("miner");
    let text = std::fs::read(&hot).unwrap();
    std::fs::write(&hot, &text[..text.len() / 2]).unwrap();
    assert!(matches!(
        wallet.unlock_hotkey("miner", PASSWORD),
        Err(WalletError::Corrupt { .. })
    ));
    assert!(matches!(wallet.hotkeys(), Err(WalletError::Corrupt { .. })));

    std::fs::write(wallet.path().join(COLDKEY_FILE), [0xffu8; 64]).unwrap();
    assert!(matches!(
        Wallet::open(&root.path(), "alice"),
        Err(WalletError::Corrupt { .. })
    ));
}
