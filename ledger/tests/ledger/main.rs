//! Integration tests of the ledger; each module is named as the sentence it checks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::needless_pass_by_value
)]

mod support;

mod a_block_is_valid_only_if_every_transaction_applies;
mod a_full_subnet_prunes_the_lowest_emission_uid;
mod block_emission_halves_at_the_golden_issuances;
mod commit_reveal_rejects_early_late_and_mismatched_reveals;
mod credits_are_escrowed_at_purchase_and_each_token_is_paid_once;
mod data_tasks_escrow_the_bounty_and_enforce_their_deadlines;
mod hotkeys_belong_to_one_coldkey_and_stake_moves_both_ways;
mod rejected_transactions_change_nothing;
mod supply_is_conserved_under_random_transactions_and_epochs;
mod the_burn_price_grows_on_registration_and_decays_with_its_half_life;
mod the_full_economy_runs_from_faucet_to_emission_in_the_metagraph;
mod weights_are_validated_and_stored_max_upscaled;
