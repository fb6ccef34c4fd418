//! Integration tests of the validator, on the models `scripts/setup.sh` installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod teacher_forcing_accepts_the_declared_model_and_rejects_a_truncated_one;
mod the_validator_actor_raises_an_honest_providers_incentive_in_process;
