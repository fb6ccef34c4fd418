use plexus_wallet::{Wallet, WalletError, WordCount};
use proptest::prelude::*;

use crate::support::{Root, fast};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any non-empty password, including any Unicode, seals a coldkey and a hotkey that
    /// unlock with exactly that password and no other.
    #[test]
    fn a_wallet_round_trips_with_any_password(
        password in "\\PC{1,48}",
        other in "\\PC{1,48}",
        long in any::<bool>(),
    ) {
        let words = if long { WordCount::TwentyFour } else { WordCount::Twelve };
        let root = Root::new();
        let (wallet, cold) =
            Wallet::create_with_kdf(&root.path(), "w", &password, words, false, fast()).unwrap();
        let (hot, hot_words) = wallet.create_hotkey("h", &password, words, false).unwrap();

        let opened = Wallet::open(&root.path(), "w").unwrap();
        prop_assert_eq!(opened.coldkey_address(), cold.account());
        prop_assert_eq!(opened.unlock_coldkey(&password).unwrap().account(), cold.account());
        prop_assert_eq!(opened.unlock_hotkey("h", &password).unwrap().account(), hot);
        prop_assert_eq!(hot_words.account(), hot);
        if other != password {
            let cold_refused = matches!(
                opened.unlock_coldkey(&other),
                Err(WalletError::WrongPassword { .. })
            );
            let hot_refused = matches!(
                opened.unlock_hotkey("h", &other),
                Err(WalletError::WrongPassword { .. })
            );
            prop_assert!(cold_refused);
            prop_assert!(hot_refused);
        }
    }
}
