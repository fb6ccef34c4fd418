//! The `plexus` binary, driven as a user would drive it.

mod support;

mod sim_yuma_reproduces_the_ledger_golden_vectors;
