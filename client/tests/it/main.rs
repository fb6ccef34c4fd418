//! End-to-end tests of the client against the real API router served on a loopback
//! socket, over a real store and the real ledger; each module is named as the
//! sentence it checks.

// Helpers outside `#[test]` functions unwrap too: a test crate.
#![allow(clippy::unwrap_used)]

#[path = "../../../api/tests/it/support.rs"]
mod support;

mod node;

mod a_light_client_follows_the_validator_set_through_certified_hand_overs;
mod a_lying_node_is_caught_by_verified_reads;
mod errors_carry_the_api_code_and_say_what_to_do_next;
mod every_route_has_a_typed_method;
mod the_block_stream_delivers_blocks_lag_notices_and_ends_on_shutdown;
mod the_server_closes_slow_connections_and_bounds_how_many_are_open;
mod transactions_are_submitted_and_awaited_end_to_end;
mod verified_reads_check_proofs_against_the_header;
