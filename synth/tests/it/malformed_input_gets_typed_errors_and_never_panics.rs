use plexus_synth::{IngestError, Limits, Schema, Table, quality_report};
use proptest::prelude::*;

fn schema() -> Schema {
    Schema::from_metadata_json(
        r#"{"columns": {"x": {"sdtype": "numerical"}, "d": {"sdtype": "datetime",
        "datetime_format": "%Y-%m-%d"}, "c": {"sdtype": "categorical"},
        "b": {"sdtype": "boolean"}, "id": {"sdtype": "id"}}, "primary_key": "id"}"#,
    )
    .unwrap()
}

#[test]
fn malformed_input_gets_typed_errors() {
    let s = schema();
    let err = |csv: &[u8]| Table::from_csv(&s, csv).unwrap_err();
    // Malformed CSV: a row with too few fields names its line.
    match err(b"x,d,c,b,id\n1,2020-01-01,a,true,1\n2,2020-01-02\n") {
        IngestError::MalformedCsv { line, message } => {
            assert_eq!(line, 3);
            assert!(message.contains("expected 5 fields"), "{message}");
        }
        other => panic!("unexpected {other}"),
    }
    // Wrong schema: says what is missing and what is extra.
    match err(b"x,d,c,b,ident\n") {
        IngestError::WrongSchema {
            missing,
            unexpected,
        } => {
            assert_eq!(missing, ["id"]);
            assert_eq!(unexpected, ["ident"]);
        }
        other => panic!("unexpected {other}"),
    }
    match err(b"x,d,c,b,id,id\n") {
        IngestError::WrongSchema { unexpected, .. } => assert_eq!(unexpected, ["id"]),
        other => panic!("unexpected {other}"),
    }
    // Values that are not of the declared type.
    for (row, expected) in [
        (&b"abc,,,,1"[..], "number"),
        (b"1,2020/01/01,,,1", "datetime in the declared format"),
        (b"1,,,perhaps,1", "boolean"),
    ] {
        let mut csv = b"x,d,c,b,id\n".to_vec();
        csv.extend_from_slice(row);
        match err(&csv) {
            IngestError::BadValue {
                line: 2,
                expected: e,
                ..
            } => assert_eq!(e, expected),
            other => panic!("unexpected {other}"),
        }
    }
    // Non-UTF-8 bytes in a field, and in the header.
    assert!(matches!(
        err(b"x,d,c,b,id\n1,,caf\xe9,,1\n"),
        IngestError::NonUtf8 { line: 2, .. }
    ));
    assert!(matches!(
        err(b"x,d,\xff,b,id\n"),
        IngestError::NonUtf8 { line: 1, .. }
    ));
    // Huge rows and huge inputs stop at the limits, before reading the rest.
    let huge = format!("x,d,c,b,id\n1,,{},,1\n", "a".repeat(1 << 20));
    assert!(matches!(
        err(huge.as_bytes()),
        IngestError::FieldTooLong { limit: 65_536, .. }
    ));
    let many = "x,d,c,b,id\n".to_owned() + &"1,,a,,1\n".repeat(100);
    let limits = Limits {
        max_rows: 99,
        ..Limits::default()
    };
    assert!(matches!(
        Table::from_csv_reader(&s, many.as_bytes(), limits),
        Err(IngestError::TooManyRows { limit: 99 })
    ));
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        Table::from_csv_reader(&s, many.as_bytes(), limits),
        Err(IngestError::TooManyBytes { limit: 100 })
    ));
    let wide = (0..5000)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    assert!(matches!(
        err(wide.as_bytes()),
        IngestError::TooManyColumns { .. }
    ));
    assert!(matches!(err(b""), IngestError::NoHeader));
    // Every error renders as a readable sentence.
    assert!(
        err(b"x,d,c,b,id\n1,,caf\xe9,,1\n")
            .to_string()
            .contains("not valid UTF-8")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let s = schema();
        let mut csv = b"x,d,c,b,id\n".to_vec();
        csv.extend_from_slice(&body);
        let limits = Limits { max_rows: 32, max_bytes: 1 << 12, max_field_bytes: 64, max_columns: 8 };
        for input in [&body[..], &csv[..]] {
            if let Ok(t) = Table::from_csv_reader(&s, input, limits) {
                let again = Table::from_csv(&s, &t.to_csv(&s)).unwrap();
                prop_assert_eq!(again.num_rows(), t.num_rows());
                let _ = quality_report(&s, &t, &again);
            }
        }
    }

    #[test]
    fn well_formed_rows_round_trip(rows in proptest::collection::vec(
        (any::<Option<i32>>(), 0u32..40_000, "[a-z]{0,3}", any::<Option<bool>>()), 1..40)) {
        let s = schema();
        let mut csv = String::from("x,d,c,b,id\n");
        for (i, (x, d, c, b)) in rows.iter().enumerate() {
            let x = x.map(|v| format!("{}", f64::from(v) / 100.0)).unwrap_or_default();
            let d = plexus_synth::DatetimeFormat::parse("%Y-%m-%d").unwrap().format_ns(i64::from(*d) * 86_400_000_000_000);
            let b = b.map(|v| v.to_string()).unwrap_or_default();
            csv.push_str(&format!("{x},{d},{c},{b},{i}\n"));
        }
        let t = Table::from_csv(&s, csv.as_bytes()).unwrap();
        prop_assert_eq!(t.num_rows(), rows.len());
        let again = Table::from_csv(&s, &t.to_csv(&s)).unwrap();
        prop_assert_eq!(again.canonicalize(&t).row_keys(&s), t.canonicalize(&t).row_keys(&s));
        let r = quality_report(&s, &t, &again);
        prop_assert!(r.column_shapes.is_nan() || (r.column_shapes - 1.0).abs() < 1e-12);
    }
}
