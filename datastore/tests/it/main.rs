//! The dataset store and the validator's data duty, driven in-process; each module is
//! named as the sentence it checks.

// Helpers outside `#[test]` functions unwrap too: a test crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod a_canary_copier_is_zeroed_and_the_signed_report_carries_the_check;
mod a_validator_duty_scores_revealed_submissions_and_publishes_the_accepted_rows;
mod the_duty_refuses_an_open_task_and_a_dry_run_scores_without_sending_anything;
