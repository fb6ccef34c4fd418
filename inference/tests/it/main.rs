//! Integration tests of the inference engines, on the models `scripts/setup.sh`
//! installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod a_chat_completion_follows_the_gguf_template;
mod a_prompt_longer_than_the_context_is_refused;
mod an_upstream_openai_server_is_streamed_parsed_and_cancelled;
mod dropping_a_generation_frees_its_worker;
mod greedy_generation_gives_the_same_tokens_twice;
mod logprobs_penalties_bias_and_truncation_shape_a_generation;
mod sentence_embeddings_match_the_reference_cosine;
mod stop_strings_and_max_tokens_end_a_generation;
mod teacher_forcing_accepts_the_models_own_tokens_and_rejects_others;
mod the_model_identity_is_the_blake3_of_its_weights;
