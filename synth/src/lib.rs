//! Score synthetic tabular data against a reference and generate it with a Gaussian copula.
//!
//! Parse tables against an SDV-style [`Schema`] ([`Table::from_csv`]), compare them with the
//! SDMetrics-compatible [`quality_report`], measure privacy with [`dcr()`], score a revealed
//! submission with its gates ([`score_submission`]), and sample baseline data with
//! [`GaussianCopula`]. Every random step takes an explicit seed.
//!
//! Owns synthetic-data generation and scoring. May not depend on the chain, storage or
//! any I/O beyond reading and writing tables.

pub mod canary;
pub mod copula;
mod datetime;
pub mod dcr;
pub mod disclosure;
pub mod mia;
mod parquet_io;
pub mod quality;
pub mod report;
pub mod rng;
pub mod schema;
pub mod score;
pub mod table;
pub mod utility;
pub mod validity;

pub use canary::{CANARY_BINS, Canaries, CanaryCheck};
pub use copula::{CopulaError, GaussianCopula};
pub use datetime::{DatetimeFormat, DatetimeMismatch};
pub use dcr::{DcrOverfitting, dcr, dcr_overfitting_protection, dcr_scaled_by, median};
pub use disclosure::{
    CapMethod, DisclosureError, DisclosureProtection, default_disclosure_protection,
    disclosure_protection,
};
pub use mia::{AttackAuc, MembershipInference, MembershipParams, membership_inference, roc_auc};
pub use quality::{
    Metric, PairDetail, QualityOptions, QualityReport, ShapeDetail, quality_report,
    quality_report_with,
};
pub use report::{QualitySummary, ScoreReport, score_report};
pub use rng::{SeededRng, derive_seed, seed_from};
pub use schema::{ColumnKind, ColumnSpec, Schema, SchemaError};
pub use score::{
    Gate, GateParams, SubmissionScore, WeightInput, near_copy_limit, score_submission,
    score_submission_with_canaries, split_reference, uniform_noise, update_credibility, weights,
};
pub use table::{ColumnData, IngestError, Limits, NULL_TOKENS, Table};
pub use validity::{DataValidity, NewRowSynthesis, data_validity, new_row_synthesis};
