//! The `plexus` binary, driven as a user would drive it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod a_newcomer_runs_the_economy_from_the_command_line;
mod a_node_killed_at_random_moments_loses_no_finalized_transaction;
mod sim_yuma_reproduces_the_ledger_golden_vectors;
