use crate::support::penguins;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use plexus_synth::{ColumnData, IngestError, Limits, Table};
use std::sync::Arc;

#[test]
fn a_parquet_file_reads_as_the_same_table_as_its_csv() {
    let (schema, table) = penguins();
    let message = "message penguins {
        OPTIONAL BYTE_ARRAY species (UTF8); OPTIONAL BYTE_ARRAY island (UTF8);
        OPTIONAL DOUBLE bill_length_mm; OPTIONAL DOUBLE bill_depth_mm;
        OPTIONAL DOUBLE flipper_length_mm; OPTIONAL DOUBLE body_mass_g;
        OPTIONAL BYTE_ARRAY sex (UTF8); OPTIONAL INT64 year; }";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("penguins.parquet");
    let file = std::fs::File::create(&path).unwrap();
    let mut writer = SerializedFileWriter::new(
        file,
        Arc::new(parse_message_type(message).unwrap()),
        Arc::new(WriterProperties::builder().build()),
    )
    .unwrap();
    let mut group = writer.next_row_group().unwrap();
    for (i, column) in table.columns().iter().enumerate() {
        let mut out = group.next_column().unwrap().unwrap();
        match column {
            ColumnData::Categorical(v) => {
                let values: Vec<ByteArray> = v
                    .iter()
                    .flatten()
                    .map(|s| ByteArray::from(s.as_str()))
                    .collect();
                let defs: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                out.typed::<ByteArrayType>()
                    .write_batch(&values, Some(&defs), None)
                    .unwrap();
            }
            ColumnData::Numerical(v) if schema.columns[i].name == "year" => {
                let values: Vec<i64> = v
                    .iter()
                    .filter(|x| !x.is_nan())
                    .map(|x| *x as i64)
                    .collect();
                let defs: Vec<i16> = v.iter().map(|x| i16::from(!x.is_nan())).collect();
                out.typed::<Int64Type>()
                    .write_batch(&values, Some(&defs), None)
                    .unwrap();
            }
            ColumnData::Numerical(v) => {
                let values: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                let defs: Vec<i16> = v.iter().map(|x| i16::from(!x.is_nan())).collect();
                out.typed::<DoubleType>()
                    .write_batch(&values, Some(&defs), None)
                    .unwrap();
            }
            other => panic!("penguins has no {other:?} column"),
        }
        out.close().unwrap();
    }
    group.close().unwrap();
    writer.close().unwrap();

    let from_parquet = Table::from_parquet_file(
        &schema,
        std::fs::File::open(&path).unwrap(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(from_parquet.num_rows(), 344);
    assert_eq!(from_parquet.to_csv(&schema), table.to_csv(&schema));
    assert_eq!(from_parquet.decimals(), table.decimals());
    assert_eq!(from_parquet.row_keys(&schema), table.row_keys(&schema));

    let limits = Limits {
        max_rows: 100,
        ..Limits::default()
    };
    let err =
        Table::from_parquet_file(&schema, std::fs::File::open(&path).unwrap(), limits).unwrap_err();
    assert!(matches!(err, IngestError::TooManyRows { limit: 100 }));
    std::fs::write(&path, b"PAR1 not really").unwrap();
    let err = Table::from_parquet_file(
        &schema,
        std::fs::File::open(&path).unwrap(),
        Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, IngestError::Parquet(_)), "{err}");
}
