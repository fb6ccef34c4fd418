use crate::support::penguins;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use plexus_synth::{ColumnData, IngestError, Limits, Schema, SeededRng, Table};
use std::sync::Arc;

/// Write `table` (penguins) as a Parquet file at `path`.
fn write_parquet(schema: &Schema, table: &Table, path: &std::path::Path) {
    let message = "message penguins {
        OPTIONAL BYTE_ARRAY species (UTF8); OPTIONAL BYTE_ARRAY island (UTF8);
        OPTIONAL DOUBLE bill_length_mm; OPTIONAL DOUBLE bill_depth_mm;
        OPTIONAL DOUBLE flipper_length_mm; OPTIONAL DOUBLE body_mass_g;
        OPTIONAL BYTE_ARRAY sex (UTF8); OPTIONAL INT64 year; }";
    let file = std::fs::File::create(path).unwrap();
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
}

#[test]
fn a_parquet_file_reads_as_the_same_table_as_its_csv() {
    let (schema, table) = penguins();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("penguins.parquet");
    write_parquet(&schema, &table, &path);

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

#[test]
fn a_corrupted_parquet_file_gets_an_error_and_never_a_panic() {
    let (schema, table) = penguins();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("penguins.parquet");
    write_parquet(&schema, &table, &good);
    let bytes = std::fs::read(&good).unwrap();
    let path = dir.path().join("corrupt.parquet");
    let mut rng = SeededRng::from_u64(6);
    let (mut errors, mut read) = (0, 0);
    for case in 0..400 {
        let mut corrupt = bytes.clone();
        match case % 4 {
            // Truncated anywhere.
            0 => corrupt.truncate(rng.below(bytes.len())),
            // A few random bytes anywhere.
            1 => {
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(corrupt.len());
                    corrupt[at] = rng.below(256) as u8;
                }
            }
            // The footer (metadata and its length) is where a reader trusts sizes.
            _ => {
                let tail = corrupt.len() - 1 - rng.below(200.min(corrupt.len() - 1));
                corrupt[tail] = rng.below(256) as u8;
            }
        }
        std::fs::write(&path, &corrupt).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let got =
            std::panic::catch_unwind(|| Table::from_parquet_file(&schema, file, Limits::default()));
        match got {
            Ok(Ok(_)) => read += 1,
            Ok(Err(_)) => errors += 1,
            Err(_) => panic!("case {case}: reading a corrupted Parquet file panicked"),
        }
    }
    assert!(errors > 100, "{errors} errors, {read} read");
}

#[test]
fn a_table_written_as_parquet_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (penguins_schema, penguins) = penguins();
    // Every column kind, with nulls, odd names and a datetime format.
    let schema = Schema::from_metadata_json(
        r#"{"columns": {"x y": {"sdtype": "numerical"}, "when": {"sdtype": "datetime",
        "datetime_format": "%Y-%m-%d %H:%M:%S"}, "c,1": {"sdtype": "categorical"},
        "b": {"sdtype": "boolean"}, "id": {"sdtype": "id"}}, "primary_key": "id"}"#,
    )
    .unwrap();
    let csv = "x y,when,\"c,1\",b,id\n1.25,2024-02-29 23:59:58,a,True,r1\n,,,,\n-3,1970-01-01 00:00:00,é \"q\",False,r3\n";
    let mixed = Table::from_csv(&schema, csv.as_bytes()).unwrap();
    for (name, schema, table) in [
        ("mixed", &schema, &mixed),
        ("penguins", &penguins_schema, &penguins),
    ] {
        let path = dir.path().join(format!("{name}.parquet"));
        std::fs::write(&path, table.to_parquet(schema).unwrap()).unwrap();
        let back = Table::from_parquet_file(
            schema,
            std::fs::File::open(&path).unwrap(),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(back.to_csv(schema), table.to_csv(schema), "{name}");
        assert_eq!(back.row_keys(schema), table.row_keys(schema), "{name}");
    }
}
