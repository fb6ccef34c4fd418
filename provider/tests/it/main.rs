//! The provider's HTTP behaviour over a scripted engine; the real engine and the
//! official `openai` client are exercised in the CLI's end-to-end tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The API over a real store and the real ledger, shared with the api and client tests.
#[path = "../../../api/tests/it/support.rs"]
mod chain;
mod gateway;
mod support;

mod a_client_that_disconnects_cancels_its_generation;
mod a_flood_of_free_encapsulations_writes_nothing_to_disk;
mod a_full_queue_answers_429_with_retry_after;
mod a_plain_chat_request_to_the_public_url_gets_no_model_answer;
mod a_provider_service_started_from_its_config_serves_models_in_the_clear_and_over_ohttp;
mod a_refused_request_spends_no_token;
mod a_relay_cannot_count_output_tokens_from_chunk_sizes_or_count;
mod a_request_sealed_to_a_retired_gateway_key_is_refused;
mod a_request_that_asks_for_more_work_than_it_pays_for_is_refused;
mod a_spent_id_is_accepted_once_in_sequence_concurrently_and_after_reopen;
mod a_token_settled_on_chain_is_refused_by_another_instance_of_the_provider;
mod answers_follow_the_openai_shapes;
mod bad_requests_get_openai_error_objects;
mod the_private_path_serves_each_token_once_and_refuses_hostile_requests;
