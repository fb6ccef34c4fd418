//! The provider's HTTP behaviour over a scripted engine; the real engine and the
//! official `openai` client are exercised in the CLI's end-to-end tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The API over a real store and the real ledger, shared with the api and client tests.
#[path = "../../../api/tests/it/support.rs"]
mod chain;
mod support;

mod a_client_that_disconnects_cancels_its_generation;
mod a_full_queue_answers_429_with_retry_after;
mod a_provider_service_started_from_its_config_serves_models_in_the_clear_and_over_ohttp;
mod a_spent_id_is_accepted_once_in_sequence_concurrently_and_after_reopen;
mod answers_follow_the_openai_shapes;
mod bad_requests_get_openai_error_objects;
mod the_private_path_serves_each_token_once_and_refuses_hostile_requests;
