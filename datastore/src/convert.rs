//! Convert a verified dataset CSV to Parquet.

use plexus_synth::{IngestError, Schema, Table};
use thiserror::Error;

/// Why a dataset could not be converted.
#[derive(Debug, Error)]
pub enum ConvertError {
    /// The CSV does not parse against the schema.
    #[error("the dataset does not parse against the task schema")]
    Unparsable(#[source] IngestError),
    /// The Parquet writer failed.
    #[error(transparent)]
    Write(IngestError),
}

/// A dataset CSV as Parquet, typed by the task's schema.
pub fn csv_as_parquet(schema: &Schema, csv: &[u8]) -> Result<Vec<u8>, ConvertError> {
    Table::from_csv(schema, csv)
        .map_err(ConvertError::Unparsable)?
        .to_parquet(schema)
        .map_err(ConvertError::Write)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::test_support::META;

    #[test]
    fn a_dataset_converts_to_parquet_with_the_same_rows_and_garbage_is_refused() {
        let schema = Schema::from_metadata_json(META).unwrap();
        let csv = b"kind,size\na,1.5\nb,2\n";
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), csv_as_parquet(&schema, csv).unwrap()).unwrap();
        let back = Table::from_parquet_file(
            &schema,
            std::fs::File::open(file.path()).unwrap(),
            plexus_synth::Limits::default(),
        );
        let from_csv = Table::from_csv(&schema, csv).unwrap();
        assert_eq!(back.unwrap().row_keys(&schema), from_csv.row_keys(&schema));
        assert!(matches!(
            csv_as_parquet(&schema, b"nope\n1\n"),
            Err(ConvertError::Unparsable(_))
        ));
    }
}
