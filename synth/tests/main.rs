//! Integration tests for plexus-synth: parity with SDMetrics, attacks, copula, parsing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod quality_report_matches_sdmetrics_on_the_student_placements_demo;
