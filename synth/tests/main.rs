//! Integration tests for plexus-synth: parity with SDMetrics, attacks, copula, parsing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod malformed_input_gets_typed_errors_and_never_panics;
mod quality_report_matches_sdmetrics_on_copula_samples_of_penguins_and_scikit_learn_sets;
mod quality_report_matches_sdmetrics_on_the_student_placements_demo;
mod scoring_the_same_submission_with_the_same_seed_gives_the_same_numbers;
mod the_attacks_in_the_spec_score_zero;
mod the_gaussian_copula_scores_above_half_on_penguins;
