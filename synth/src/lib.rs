//! Score synthetic tabular data against a reference and generate it with a Gaussian copula.
//!
//! Parse tables against an SDV-style [`Schema`] ([`Table::from_csv`]), compare them with the
//! SDMetrics-compatible [`quality_report`], measure privacy with [`dcr`], score a revealed
//! submission with its gates ([`score_submission`]), and sample baseline data with
//! [`GaussianCopula`]. Every random step takes an explicit seed.

mod datetime;
mod parquet_io;
pub mod quality;
pub mod schema;
pub mod table;

pub use datetime::{DatetimeFormat, DatetimeMismatch};
pub use quality::{
    Metric, PairDetail, QualityOptions, QualityReport, ShapeDetail, quality_report,
    quality_report_with,
};
pub use schema::{ColumnKind, ColumnSpec, Schema, SchemaError};
pub use table::{ColumnData, IngestError, Limits, NULL_TOKENS, Table};
