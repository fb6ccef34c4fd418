//! Integration tests of the API, driving the router with `oneshot` over a real store
//! and the real ledger; each module is named as the sentence it checks.

// Helpers outside `#[test]` functions (the event reader) unwrap too: a test crate.
#![allow(clippy::unwrap_used)]

mod support;

mod a_valid_transaction_is_accepted_and_then_finalized;
mod accounts_subnets_and_metagraphs_reflect_committed_blocks;
mod blocks_are_served_by_height_digest_and_page;
mod credit_issuers_show_each_keys_age_buyers_and_bond;
mod data_tasks_are_listed_and_shown_with_their_contributions;
mod metrics_count_requests_by_route_and_status;
mod proofs_verify_against_the_state_root_of_the_header_served_with_them;
mod rejected_transactions_are_answered_with_a_typed_code;
mod the_event_stream_yields_blocks_after_commits_and_reports_lag;
mod the_openapi_document_covers_every_route;
mod the_server_keeps_serving_after_hostile_input;
mod the_web_app_encodes_and_verifies_like_the_rust_crates;
mod the_web_app_is_served_at_the_root_with_a_single_page_fallback;
