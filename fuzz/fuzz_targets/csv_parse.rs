//! Untrusted CSV bytes: parsing never panics, and what parses writes back to CSV that parses to the same rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plexus_synth::{Limits, Schema, Table, dcr, quality_report};
use std::sync::OnceLock;

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::from_metadata_json(
            r#"{"columns": {"x": {"sdtype": "numerical"}, "d": {"sdtype": "datetime",
            "datetime_format": "%Y-%m-%d %H:%M:%S"}, "c": {"sdtype": "categorical"},
            "b": {"sdtype": "boolean"}, "id": {"sdtype": "id"}}, "primary_key": "id"}"#,
        )
        .expect("the fuzz schema is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_rows: 64,
        max_bytes: 1 << 16,
        max_field_bytes: 256,
        max_columns: 16,
    };
    // A header the schema accepts, so the fuzzer spends its time in the rows.
    let mut input = b"x,d,c,b,id\n".to_vec();
    input.extend_from_slice(data);
    for bytes in [data, input.as_slice()] {
        let Ok(table) = Table::from_csv_reader(schema(), bytes, limits) else {
            continue;
        };
        let written = table.to_csv(schema());
        let again = Table::from_csv(schema(), &written).expect("written CSV parses");
        assert_eq!(again.num_rows(), table.num_rows());
        assert_eq!(
            again.canonicalize(&table).row_keys(schema()),
            table.canonicalize(&table).row_keys(schema()),
            "a round trip keeps every row"
        );
        let _ = quality_report(schema(), &table, &again);
        let _ = dcr(schema(), &again, &table);
    }
});
