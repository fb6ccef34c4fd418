//! Integration tests of the validator, on the models `scripts/setup.sh` installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod a_new_validator_builds_its_private_corpus_from_the_installed_data_set;
mod a_sampled_answer_passes_the_looser_check_and_a_canned_one_fails;
mod teacher_forcing_accepts_the_declared_model_and_rejects_a_truncated_one;
mod the_validator_actor_raises_an_honest_providers_incentive_in_process;
