//! Parquet ingestion through the row API: each field becomes a cell, typed like CSV text.

use crate::schema::Schema;
use crate::table::{Cell, IngestError, Limits, Table};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

fn perr(e: &parquet::errors::ParquetError) -> IngestError {
    IngestError::Parquet(e.to_string())
}

pub(crate) fn read(
    schema: &Schema,
    file: std::fs::File,
    limits: Limits,
) -> Result<Table, IngestError> {
    let len = file.metadata()?.len();
    if len > limits.max_bytes {
        return Err(IngestError::TooManyBytes {
            limit: limits.max_bytes,
        });
    }
    let reader = SerializedFileReader::new(file).map_err(|e| perr(&e))?;
    let meta = reader.metadata().file_metadata();
    let total = usize::try_from(meta.num_rows()).unwrap_or(usize::MAX);
    if total > limits.max_rows {
        return Err(IngestError::TooManyRows {
            limit: limits.max_rows,
        });
    }
    let names: Vec<String> = meta
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    if names.len() > limits.max_columns {
        return Err(IngestError::TooManyColumns {
            limit: limits.max_columns,
        });
    }
    let mut builder = Table::builder_parts(schema);
    let mapping = builder.header(&names)?;
    for row in reader.get_row_iter(None).map_err(|e| perr(&e))? {
        let row = row.map_err(|e| perr(&e))?;
        if builder.rows() >= limits.max_rows {
            return Err(IngestError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        let line = builder.rows() as u64 + 1;
        for (k, (_, field)) in row.get_column_iter().enumerate() {
            let col = *mapping.get(k).ok_or_else(|| {
                IngestError::Parquet(format!("row {line} has more fields than the header"))
            })?;
            let text;
            let cell = match field {
                Field::Null => Cell::Null,
                Field::Bool(b) => Cell::Bool(*b),
                Field::Byte(v) => Cell::Number(f64::from(*v)),
                Field::Short(v) => Cell::Number(f64::from(*v)),
                Field::Int(v) => Cell::Number(f64::from(*v)),
                Field::Long(v) => Cell::Number(*v as f64),
                Field::UByte(v) => Cell::Number(f64::from(*v)),
                Field::UShort(v) => Cell::Number(f64::from(*v)),
                Field::UInt(v) => Cell::Number(f64::from(*v)),
                Field::ULong(v) => Cell::Number(*v as f64),
                Field::Float16(v) => Cell::Number(f64::from(*v)),
                Field::Float(v) => Cell::Number(f64::from(*v)),
                Field::Double(v) => Cell::Number(*v),
                Field::Str(s) => {
                    if s.len() > limits.max_field_bytes {
                        return Err(IngestError::FieldTooLong {
                            line,
                            limit: limits.max_field_bytes,
                        });
                    }
                    Cell::Text(s)
                }
                Field::Date(d) => Cell::Nanos(i64::from(*d) * 86_400 * 1_000_000_000),
                Field::TimestampMillis(v) => Cell::Nanos(v.saturating_mul(1_000_000)),
                Field::TimestampMicros(v) => Cell::Nanos(v.saturating_mul(1_000)),
                other => {
                    text = other.to_string();
                    if text.len() > limits.max_field_bytes {
                        return Err(IngestError::FieldTooLong {
                            line,
                            limit: limits.max_field_bytes,
                        });
                    }
                    Cell::Text(&text)
                }
            };
            builder.push(col, cell, line)?;
        }
        builder.end_row();
    }
    Ok(builder.finish())
}
