//! The `plexus` binary, driven as a user would drive it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod a_newcomer_runs_the_economy_from_the_command_line;
mod a_node_killed_at_random_moments_loses_no_finalized_transaction;
mod a_provider_under_32_concurrent_streams_serves_them_or_says_429;
mod contributors_earn_for_verified_synthetic_data_from_the_command_line;
mod sim_yuma_reproduces_the_ledger_golden_vectors;
mod the_openai_python_package_talks_to_a_provider_serving_on_chain;
