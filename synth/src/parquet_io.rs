//! Parquet ingestion through the row API: each field becomes a cell, typed like CSV text.

use crate::schema::Schema;
use crate::table::{Cell, IngestError, Limits, Table};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

fn perr(e: &parquet::errors::ParquetError) -> IngestError {
    IngestError::Parquet(e.to_string())
}

/// Read a Parquet file. The `parquet` crate asserts on some malformed metadata (a
/// negative column offset, for one) instead of returning an error, so a panic inside
/// it is caught and reported as a malformed file: untrusted input must never crash a
/// validator.
pub(crate) fn read(
    schema: &Schema,
    file: std::fs::File,
    limits: Limits,
) -> Result<Table, IngestError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_unguarded(schema, file, limits)
    }))
    .unwrap_or_else(|_| {
        Err(IngestError::Parquet(
            "malformed file: the Parquet reader rejected its metadata".into(),
        ))
    })
}

fn read_unguarded(
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

fn werr(e: &parquet::errors::ParquetError) -> IngestError {
    IngestError::Parquet(format!("cannot write: {e}"))
}

/// Write `table` as one Parquet row group: numbers as DOUBLE, booleans as BOOLEAN, and
/// labels, ids and datetimes (in their declared format) as UTF-8 strings, all optional,
/// so [`read`] gives the same table back.
pub(crate) fn write(schema: &Schema, table: &Table) -> Result<Vec<u8>, IngestError> {
    use crate::datetime::DatetimeFormat;
    use crate::schema::ColumnKind;
    use crate::table::ColumnData;
    use parquet::basic::{LogicalType, Repetition, Type as Physical};
    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;
    use std::sync::Arc;

    let mut fields = Vec::with_capacity(schema.columns.len());
    for (spec, data) in schema.columns.iter().zip(table.columns()) {
        let (physical, text) = match data {
            ColumnData::Numerical(_) => (Physical::DOUBLE, false),
            ColumnData::Boolean(_) => (Physical::BOOLEAN, false),
            _ => (Physical::BYTE_ARRAY, true),
        };
        let field = Type::primitive_type_builder(&spec.name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(text.then_some(LogicalType::String))
            .build()
            .map_err(|e| werr(&e))?;
        fields.push(Arc::new(field));
    }
    let message = Type::group_type_builder("table")
        .with_fields(fields)
        .build()
        .map_err(|e| werr(&e))?;
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(
        &mut out,
        Arc::new(message),
        Arc::new(WriterProperties::builder().build()),
    )
    .map_err(|e| werr(&e))?;
    let mut group = writer.next_row_group().map_err(|e| werr(&e))?;
    for (spec, data) in schema.columns.iter().zip(table.columns()) {
        let Some(mut column) = group.next_column().map_err(|e| werr(&e))? else {
            return Err(IngestError::Parquet("cannot write: too few columns".into()));
        };
        let defs: Vec<i16> = (0..data.len())
            .map(|i| i16::from(!data.is_null(i)))
            .collect();
        match data {
            ColumnData::Numerical(v) => {
                let values: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                column
                    .typed::<DoubleType>()
                    .write_batch(&values, Some(&defs), None)
                    .map_err(|e| werr(&e))?;
            }
            ColumnData::Boolean(v) => {
                let values: Vec<bool> = v.iter().flatten().copied().collect();
                column
                    .typed::<BoolType>()
                    .write_batch(&values, Some(&defs), None)
                    .map_err(|e| werr(&e))?;
            }
            ColumnData::Datetime(v) => {
                let format = match &spec.kind {
                    ColumnKind::Datetime { format } => DatetimeFormat::parse(format).ok(),
                    _ => None,
                };
                let values: Vec<ByteArray> = v
                    .iter()
                    .flatten()
                    .map(|ns| {
                        ByteArray::from(
                            format
                                .as_ref()
                                .map_or_else(|| ns.to_string(), |f| f.format_ns(*ns))
                                .into_bytes(),
                        )
                    })
                    .collect();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, Some(&defs), None)
                    .map_err(|e| werr(&e))?;
            }
            ColumnData::Categorical(v) | ColumnData::Id(v) => {
                let values: Vec<ByteArray> = v
                    .iter()
                    .flatten()
                    .map(|s| ByteArray::from(s.as_str()))
                    .collect();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, Some(&defs), None)
                    .map_err(|e| werr(&e))?;
            }
        }
        column.close().map_err(|e| werr(&e))?;
    }
    group.close().map_err(|e| werr(&e))?;
    writer.close().map_err(|e| werr(&e))?;
    Ok(out)
}
