//! Tables parsed against a schema: bounded CSV and Parquet ingestion, canonical form, CSV output.

use crate::datetime::DatetimeFormat;
use crate::schema::{ColumnKind, Schema};
use std::io::Read;

/// Strings read as null: the spec's `NA`, empty and `NaN`, plus pandas' default NA spellings,
/// so that the same CSV means the same thing here and in SDMetrics.
pub const NULL_TOKENS: [&str; 21] = [
    "", "NA", "NaN", "nan", "-NaN", "-nan", "N/A", "n/a", "NULL", "null", "None", "<NA>", "#N/A",
    "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "1.#IND", "1.#QNAN", "NAN", "-NAN",
];

/// Upper bounds on untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most data rows accepted.
    pub max_rows: usize,
    /// Most input bytes accepted.
    pub max_bytes: u64,
    /// Most bytes in one field.
    pub max_field_bytes: usize,
    /// Most columns in the header.
    pub max_columns: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rows: 2_000_000,
            max_bytes: 512 << 20,
            max_field_bytes: 64 << 10,
            max_columns: 4096,
        }
    }
}

/// Errors reading a table.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input is not well-formed CSV (e.g. a row with the wrong number of fields).
    #[error("malformed CSV at line {line}: {message}")]
    MalformedCsv {
        /// 1-based line number, 0 if unknown.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// A field is not valid UTF-8.
    #[error("line {line}, column {column:?}: field is not valid UTF-8")]
    NonUtf8 {
        /// 1-based line number.
        line: u64,
        /// The column (or `header`).
        column: String,
    },
    /// The input is empty: no header row.
    #[error("input has no header row")]
    NoHeader,
    /// The header does not match the schema.
    #[error("header does not match the schema: missing {missing:?}, unexpected {unexpected:?}")]
    WrongSchema {
        /// Schema columns absent from the header.
        missing: Vec<String>,
        /// Header columns absent from the schema (or repeated).
        unexpected: Vec<String>,
    },
    /// A value does not parse as its column's declared type.
    #[error("line {line}, column {column:?}: {value:?} is not a valid {expected}")]
    BadValue {
        /// 1-based line number (row number for Parquet).
        line: u64,
        /// The column.
        column: String,
        /// The offending value (truncated to 64 bytes).
        value: String,
        /// The declared type.
        expected: &'static str,
    },
    /// More rows than the limit.
    #[error("more than {limit} rows")]
    TooManyRows {
        /// The limit.
        limit: usize,
    },
    /// More bytes than the limit.
    #[error("input larger than {limit} bytes")]
    TooManyBytes {
        /// The limit.
        limit: u64,
    },
    /// A field longer than the limit.
    #[error("line {line}: a field is longer than {limit} bytes")]
    FieldTooLong {
        /// 1-based line number.
        line: u64,
        /// The limit.
        limit: usize,
    },
    /// More header columns than the limit.
    #[error("more than {limit} columns")]
    TooManyColumns {
        /// The limit.
        limit: usize,
    },
    /// The Parquet file could not be read.
    #[error("parquet: {0}")]
    Parquet(String),
    /// Reading the input failed.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The values of one column, typed by the schema. Nulls: NaN, `None`.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Numerical values; NaN is null.
    Numerical(Vec<f64>),
    /// Datetimes as ns since the Unix epoch, UTC.
    Datetime(Vec<Option<i64>>),
    /// Categorical labels (trimmed; numbers spelled canonically).
    Categorical(Vec<Option<String>>),
    /// Booleans.
    Boolean(Vec<Option<bool>>),
    /// Identifiers and other unscored text.
    Id(Vec<Option<String>>),
}

impl ColumnData {
    fn empty_for(kind: &ColumnKind) -> Self {
        match kind {
            ColumnKind::Numerical => Self::Numerical(Vec::new()),
            ColumnKind::Datetime { .. } => Self::Datetime(Vec::new()),
            ColumnKind::Categorical => Self::Categorical(Vec::new()),
            ColumnKind::Boolean => Self::Boolean(Vec::new()),
            ColumnKind::Id => Self::Id(Vec::new()),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Self::Numerical(v) => v.len(),
            Self::Datetime(v) => v.len(),
            Self::Categorical(v) | Self::Id(v) => v.len(),
            Self::Boolean(v) => v.len(),
        }
    }

    /// Whether the column has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether value `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            Self::Numerical(v) => v[i].is_nan(),
            Self::Datetime(v) => v[i].is_none(),
            Self::Categorical(v) | Self::Id(v) => v[i].is_none(),
            Self::Boolean(v) => v[i].is_none(),
        }
    }

    /// Continuous columns as f64 (datetimes as ns), NaN for null; `None` for discrete columns.
    pub fn as_f64(&self) -> Option<Vec<f64>> {
        match self {
            Self::Numerical(v) => Some(v.clone()),
            Self::Datetime(v) => Some(v.iter().map(|x| x.map_or(f64::NAN, |x| x as f64)).collect()),
            _ => None,
        }
    }

    /// Discrete columns as labels (`"True"`/`"False"` for booleans); `None` for continuous ones.
    pub fn as_labels(&self) -> Option<Vec<Option<&str>>> {
        match self {
            Self::Categorical(v) | Self::Id(v) => Some(v.iter().map(|x| x.as_deref()).collect()),
            Self::Boolean(v) => Some(
                v.iter()
                    .map(|x| x.map(|b| if b { "True" } else { "False" }))
                    .collect(),
            ),
            _ => None,
        }
    }

    fn push_null(&mut self) {
        match self {
            Self::Numerical(v) => v.push(f64::NAN),
            Self::Datetime(v) => v.push(None),
            Self::Categorical(v) | Self::Id(v) => v.push(None),
            Self::Boolean(v) => v.push(None),
        }
    }

    /// The values at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Self {
        match self {
            Self::Numerical(v) => Self::Numerical(rows.iter().map(|&i| v[i]).collect()),
            Self::Datetime(v) => Self::Datetime(rows.iter().map(|&i| v[i]).collect()),
            Self::Categorical(v) => Self::Categorical(rows.iter().map(|&i| v[i].clone()).collect()),
            Self::Id(v) => Self::Id(rows.iter().map(|&i| v[i].clone()).collect()),
            Self::Boolean(v) => Self::Boolean(rows.iter().map(|&i| v[i]).collect()),
        }
    }

    fn extend_from(&mut self, other: &Self) {
        match (self, other) {
            (Self::Numerical(a), Self::Numerical(b)) => a.extend_from_slice(b),
            (Self::Datetime(a), Self::Datetime(b)) => a.extend_from_slice(b),
            (Self::Categorical(a), Self::Categorical(b)) | (Self::Id(a), Self::Id(b)) => {
                a.extend_from_slice(b)
            }
            (Self::Boolean(a), Self::Boolean(b)) => a.extend_from_slice(b),
            _ => {}
        }
    }
}

/// A table whose columns follow a schema, in schema order.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    columns: Vec<ColumnData>,
    /// Most decimals written in each numerical column's text (0 for other columns).
    decimals: Vec<u32>,
    rows: usize,
}

fn truncate(s: &str) -> String {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// Number of digits after the decimal point in a plain decimal spelling (0 with an exponent).
fn written_decimals(s: &str) -> u32 {
    if s.contains(['e', 'E']) {
        return 0;
    }
    s.split_once('.').map_or(0, |(_, f)| f.len() as u32)
}

/// Spell a finite number the way Python's `repr` would compare: integral values without `.0`.
fn canonical_number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" | "1.0" => Some(true),
        "false" | "f" | "no" | "n" | "0" | "0.0" => Some(false),
        _ => None,
    }
}

/// One cell before typing, from CSV text or a Parquet field.
pub(crate) enum Cell<'a> {
    Null,
    Text(&'a str),
    Number(f64),
    Bool(bool),
    Nanos(i64),
}

struct Builder<'s> {
    schema: &'s Schema,
    formats: Vec<Option<DatetimeFormat>>,
    columns: Vec<ColumnData>,
    decimals: Vec<u32>,
    rows: usize,
}

impl<'s> Builder<'s> {
    fn new(schema: &'s Schema) -> Self {
        let formats = schema
            .columns
            .iter()
            .map(|c| match &c.kind {
                ColumnKind::Datetime { format } => DatetimeFormat::parse(format).ok(),
                _ => None,
            })
            .collect();
        Self {
            schema,
            formats,
            columns: schema
                .columns
                .iter()
                .map(|c| ColumnData::empty_for(&c.kind))
                .collect(),
            decimals: vec![0; schema.columns.len()],
            rows: 0,
        }
    }

    fn push(&mut self, col: usize, cell: Cell<'_>, line: u64) -> Result<(), IngestError> {
        let cell = match cell {
            Cell::Text(t) => {
                let t = t.trim();
                if NULL_TOKENS.contains(&t) {
                    Cell::Null
                } else {
                    Cell::Text(t)
                }
            }
            Cell::Number(v) if v.is_nan() => Cell::Null,
            other => other,
        };
        let bad = |value: String, expected: &'static str| IngestError::BadValue {
            line,
            column: self.schema.columns[col].name.clone(),
            value: truncate(&value),
            expected,
        };
        let data = &mut self.columns[col];
        if matches!(cell, Cell::Null) {
            data.push_null();
            return Ok(());
        }
        match data {
            ColumnData::Numerical(v) => {
                let x = match cell {
                    Cell::Text(t) => {
                        let x: f64 = t.parse().map_err(|_| bad(t.into(), "number"))?;
                        self.decimals[col] = self.decimals[col].max(written_decimals(t));
                        x
                    }
                    Cell::Number(x) => {
                        if x.is_finite() {
                            let d = written_decimals(&format!("{x}"));
                            self.decimals[col] = self.decimals[col].max(d);
                        }
                        x
                    }
                    Cell::Bool(b) => f64::from(u8::from(b)),
                    Cell::Nanos(n) => n as f64,
                    Cell::Null => f64::NAN,
                };
                if !x.is_finite() {
                    return Err(bad(x.to_string(), "finite number"));
                }
                v.push(x);
            }
            ColumnData::Datetime(v) => {
                let ns = match cell {
                    Cell::Text(t) => self.formats[col]
                        .as_ref()
                        .and_then(|f| f.parse_ns(t).ok())
                        .ok_or_else(|| bad(t.into(), "datetime in the declared format"))?,
                    Cell::Nanos(n) => n,
                    Cell::Number(x) => return Err(bad(x.to_string(), "datetime")),
                    Cell::Bool(b) => return Err(bad(b.to_string(), "datetime")),
                    Cell::Null => return Ok(()),
                };
                v.push(Some(ns));
            }
            ColumnData::Categorical(v) => {
                let s = match cell {
                    Cell::Text(t) => match t.parse::<f64>() {
                        Ok(x) if x.is_finite() && !t.starts_with(['+', '.']) => canonical_number(x),
                        _ => t.to_owned(),
                    },
                    Cell::Number(x) => canonical_number(x),
                    Cell::Bool(b) => if b { "True" } else { "False" }.to_owned(),
                    Cell::Nanos(n) => n.to_string(),
                    Cell::Null => return Ok(()),
                };
                v.push(Some(s));
            }
            ColumnData::Boolean(v) => {
                let b = match cell {
                    Cell::Text(t) => parse_bool(t).ok_or_else(|| bad(t.into(), "boolean"))?,
                    Cell::Bool(b) => b,
                    Cell::Number(x) if x == 0.0 || x == 1.0 => x == 1.0,
                    Cell::Number(x) => return Err(bad(x.to_string(), "boolean")),
                    Cell::Nanos(n) => return Err(bad(n.to_string(), "boolean")),
                    Cell::Null => return Ok(()),
                };
                v.push(Some(b));
            }
            ColumnData::Id(v) => {
                let s = match cell {
                    Cell::Text(t) => t.to_owned(),
                    Cell::Number(x) => canonical_number(x),
                    Cell::Bool(b) => b.to_string(),
                    Cell::Nanos(n) => n.to_string(),
                    Cell::Null => return Ok(()),
                };
                v.push(Some(s));
            }
        }
        Ok(())
    }

    fn finish(self) -> Table {
        Table {
            columns: self.columns,
            decimals: self.decimals,
            rows: self.rows,
        }
    }
}

/// A reader that fails once more than `limit` bytes have passed.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(BytesExceeded(self.limit)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("input larger than {0} bytes")]
struct BytesExceeded(u64);

fn csv_error(e: csv::Error) -> IngestError {
    let line = e.position().map_or(0, csv::Position::line);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => {
            match io.get_ref().and_then(|i| i.downcast_ref::<BytesExceeded>()) {
                Some(BytesExceeded(limit)) => IngestError::TooManyBytes { limit: *limit },
                None => IngestError::Io(io),
            }
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => IngestError::MalformedCsv {
            line,
            message: format!("expected {expected_len} fields, found {len}"),
        },
        other => IngestError::MalformedCsv {
            line,
            message: format!("{other:?}"),
        },
    }
}

impl Table {
    /// Parse CSV bytes (header row first) against the schema, within the default limits.
    pub fn from_csv(schema: &Schema, input: &[u8]) -> Result<Self, IngestError> {
        Self::from_csv_reader(schema, input, Limits::default())
    }

    /// Parse CSV from a reader against the schema, within `limits`.
    pub fn from_csv_reader<R: Read>(
        schema: &Schema,
        input: R,
        limits: Limits,
    ) -> Result<Self, IngestError> {
        let bounded = Bounded {
            inner: input,
            left: limits.max_bytes,
            limit: limits.max_bytes,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(false)
            .from_reader(bounded);
        let mut record = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut record).map_err(csv_error)? {
            return Err(IngestError::NoHeader);
        }
        if record.len() > limits.max_columns {
            return Err(IngestError::TooManyColumns {
                limit: limits.max_columns,
            });
        }
        let mut header = Vec::with_capacity(record.len());
        for (k, field) in record.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|_| IngestError::NonUtf8 {
                line: 1,
                column: format!("header #{k}"),
            })?;
            // A UTF-8 byte-order mark on the first name is not part of it.
            let name = if k == 0 {
                name.trim_start_matches('\u{feff}')
            } else {
                name
            };
            header.push(name.trim().to_owned());
        }
        let mapping = header_mapping(schema, &header)?;
        let mut builder = Builder::new(schema);
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(csv_error(e)),
            }
            if builder.rows >= limits.max_rows {
                return Err(IngestError::TooManyRows {
                    limit: limits.max_rows,
                });
            }
            let line = record.position().map_or(0, csv::Position::line);
            for (k, field) in record.iter().enumerate() {
                if field.len() > limits.max_field_bytes {
                    return Err(IngestError::FieldTooLong {
                        line,
                        limit: limits.max_field_bytes,
                    });
                }
                let text = std::str::from_utf8(field).map_err(|_| IngestError::NonUtf8 {
                    line,
                    column: header[k].clone(),
                })?;
                builder.push(mapping[k], Cell::Text(text), line)?;
            }
            builder.rows += 1;
        }
        Ok(builder.finish())
    }

    /// Read a Parquet file against the schema, within `limits` (rows and columns).
    pub fn from_parquet_file(
        schema: &Schema,
        file: std::fs::File,
        limits: Limits,
    ) -> Result<Self, IngestError> {
        crate::parquet_io::read(schema, file, limits)
    }

    /// Write the table as a Parquet file (numbers as DOUBLE, booleans as BOOLEAN, labels,
    /// ids and datetimes in their declared format as UTF-8; nulls as nulls) that
    /// [`Table::from_parquet_file`] reads back as the same table.
    pub fn to_parquet(&self, schema: &Schema) -> Result<Vec<u8>, IngestError> {
        crate::parquet_io::write(schema, self)
    }

    /// Build a table from typed columns in schema order (lengths must agree).
    pub fn from_columns(schema: &Schema, columns: Vec<ColumnData>) -> Result<Self, IngestError> {
        let rows = columns.first().map_or(0, ColumnData::len);
        let mismatch = columns.len() != schema.columns.len()
            || columns.iter().any(|c| c.len() != rows)
            || columns.iter().zip(&schema.columns).any(|(c, s)| {
                std::mem::discriminant(c) != std::mem::discriminant(&ColumnData::empty_for(&s.kind))
            });
        if mismatch {
            return Err(IngestError::WrongSchema {
                missing: Vec::new(),
                unexpected: Vec::new(),
            });
        }
        let mut decimals = vec![0; columns.len()];
        for (d, c) in decimals.iter_mut().zip(&columns) {
            if let ColumnData::Numerical(v) = c {
                *d = v
                    .iter()
                    .filter(|x| x.is_finite())
                    .map(|x| written_decimals(&format!("{x}")))
                    .max()
                    .unwrap_or(0);
            }
        }
        Ok(Self {
            columns,
            decimals,
            rows,
        })
    }

    /// A table from columns already checked against the schema.
    pub(crate) fn from_parts(columns: Vec<ColumnData>, decimals: Vec<u32>, rows: usize) -> Self {
        Self {
            columns,
            decimals,
            rows,
        }
    }

    pub(crate) fn builder_parts(schema: &Schema) -> ParquetBuilder<'_> {
        ParquetBuilder(Builder::new(schema))
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// Columns in schema order.
    pub fn columns(&self) -> &[ColumnData] {
        &self.columns
    }

    /// Column `i` (schema order).
    pub fn column(&self, i: usize) -> &ColumnData {
        &self.columns[i]
    }

    /// Most decimals written in each numerical column.
    pub fn decimals(&self) -> &[u32] {
        &self.decimals
    }

    /// The rows at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Self {
        Self {
            columns: self.columns.iter().map(|c| c.select(rows)).collect(),
            decimals: self.decimals.clone(),
            rows: rows.len(),
        }
    }

    /// This table's rows followed by `other`'s (same schema).
    pub fn concat(&self, other: &Self) -> Self {
        let mut columns = self.columns.clone();
        for (a, b) in columns.iter_mut().zip(&other.columns) {
            a.extend_from(b);
        }
        Self {
            columns,
            decimals: self
                .decimals
                .iter()
                .zip(&other.decimals)
                .map(|(a, b)| *a.max(b))
                .collect(),
            rows: self.rows + other.rows,
        }
    }

    /// Canonical form against a reference: numerics rounded to the reference's decimals.
    pub fn canonicalize(&self, reference: &Self) -> Self {
        let mut out = self.clone();
        for ((c, d), rd) in out
            .columns
            .iter_mut()
            .zip(out.decimals.iter_mut())
            .zip(&reference.decimals)
        {
            if let ColumnData::Numerical(v) = c {
                let scale = 10f64.powi(i32::try_from(*rd).unwrap_or(i32::MAX).min(15));
                for x in v.iter_mut().filter(|x| x.is_finite()) {
                    *x = (*x * scale).round_ties_even() / scale;
                }
                *d = *rd;
            }
        }
        out
    }

    /// Canonical text of value `(row, col)`: what the row key hashes.
    fn canonical_value(&self, row: usize, col: usize) -> String {
        let text = match &self.columns[col] {
            ColumnData::Numerical(v) if v[row].is_nan() => String::new(),
            ColumnData::Numerical(v) => {
                let d = usize::try_from(self.decimals[col]).unwrap_or(0);
                let s = format!("{:.*}", d, v[row]);
                if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
                    s[1..].to_owned()
                } else {
                    s
                }
            }
            ColumnData::Datetime(v) => v[row].map_or(String::new(), |x| x.to_string()),
            ColumnData::Categorical(v) | ColumnData::Id(v) => v[row].clone().unwrap_or_default(),
            ColumnData::Boolean(v) => v[row].map_or(String::new(), |b| b.to_string()),
        };
        escape_key(text)
    }

    /// Row keys: blake3 of `c1=v1|c2=v2|…` over the scored (non-id) columns in schema order.
    pub fn row_keys(&self, schema: &Schema) -> Vec<[u8; 32]> {
        use rayon::prelude::*;
        (0..self.rows)
            .into_par_iter()
            .map(|r| {
                let mut h = blake3::Hasher::new();
                let mut first = true;
                for (c, spec) in schema.columns.iter().enumerate() {
                    if !spec.kind.is_scored() {
                        continue;
                    }
                    if !first {
                        h.update(b"|");
                    }
                    first = false;
                    h.update(spec.name.as_bytes());
                    h.update(b"=");
                    h.update(self.canonical_value(r, c).as_bytes());
                }
                *h.finalize().as_bytes()
            })
            .collect()
    }

    /// Write the table as CSV (header first; nulls empty; datetimes in their declared format).
    pub fn to_csv(&self, schema: &Schema) -> Vec<u8> {
        let formats: Vec<Option<DatetimeFormat>> = schema
            .columns
            .iter()
            .map(|c| match &c.kind {
                ColumnKind::Datetime { format } => DatetimeFormat::parse(format).ok(),
                _ => None,
            })
            .collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut rec = csv::StringRecord::new();
        for c in &schema.columns {
            rec.push_field(&c.name);
        }
        // Writing into a Vec cannot fail.
        let _ = w.write_record(&rec);
        for r in 0..self.rows {
            rec.clear();
            for (c, data) in self.columns.iter().enumerate() {
                let s = match data {
                    ColumnData::Numerical(v) if v[r].is_nan() => String::new(),
                    // Shortest round-trip spelling: every reader gets the same double back.
                    ColumnData::Numerical(v) => format!("{}", v[r]),
                    ColumnData::Datetime(v) => v[r].map_or(String::new(), |x| match &formats[c] {
                        Some(f) => f.format_ns(x),
                        None => x.to_string(),
                    }),
                    ColumnData::Categorical(v) | ColumnData::Id(v) => {
                        v[r].clone().unwrap_or_default()
                    }
                    ColumnData::Boolean(v) => {
                        v[r].map_or(String::new(), |b| if b { "True" } else { "False" }.into())
                    }
                };
                rec.push_field(&s);
            }
            let _ = w.write_record(&rec);
        }
        w.into_inner().unwrap_or_default()
    }
}

/// Escape the key separators so `a|b=c` cannot collide with another row's spelling.
fn escape_key(s: String) -> String {
    if s.contains(['|', '=', '\\']) {
        s.replace('\\', "\\\\")
            .replace('|', "\\|")
            .replace('=', "\\=")
    } else {
        s
    }
}

/// Map header position → schema column index, or say what is missing and extra.
fn header_mapping(schema: &Schema, header: &[String]) -> Result<Vec<usize>, IngestError> {
    let mut mapping = Vec::with_capacity(header.len());
    let mut seen = vec![false; schema.columns.len()];
    let mut unexpected = Vec::new();
    for name in header {
        match schema.index_of(name) {
            Some(i) if !seen[i] => {
                seen[i] = true;
                mapping.push(i);
            }
            _ => unexpected.push(name.clone()),
        }
    }
    let missing: Vec<String> = schema
        .columns
        .iter()
        .zip(&seen)
        .filter(|(_, s)| !**s)
        .map(|(c, _)| c.name.clone())
        .collect();
    if !missing.is_empty() || !unexpected.is_empty() {
        return Err(IngestError::WrongSchema {
            missing,
            unexpected,
        });
    }
    Ok(mapping)
}

/// Typed-column builder used by the Parquet reader.
pub(crate) struct ParquetBuilder<'s>(Builder<'s>);

impl ParquetBuilder<'_> {
    pub(crate) fn header(&self, names: &[String]) -> Result<Vec<usize>, IngestError> {
        header_mapping(self.0.schema, names)
    }

    pub(crate) fn push(&mut self, col: usize, cell: Cell<'_>, row: u64) -> Result<(), IngestError> {
        self.0.push(col, cell, row)
    }

    pub(crate) fn end_row(&mut self) {
        self.0.rows += 1;
    }

    pub(crate) fn rows(&self) -> usize {
        self.0.rows
    }

    pub(crate) fn finish(self) -> Table {
        self.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::from_metadata_json(
            r#"{"columns": {"x": {"sdtype": "numerical"}, "d": {"sdtype": "datetime",
            "datetime_format": "%Y-%m-%d"}, "c": {"sdtype": "categorical"},
            "b": {"sdtype": "boolean"}, "id": {"sdtype": "id"}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn parses_typed_columns_in_schema_order() {
        let csv =
            "id,b,c,d,x\n1, True ,a,2020-01-01,1.50\n2,false,NA,,NaN\n3,0,2.0,2020-01-02,-3\n";
        let t = Table::from_csv(&schema(), csv.as_bytes()).unwrap();
        assert_eq!(t.num_rows(), 3);
        let ColumnData::Numerical(x) = t.column(0) else {
            panic!()
        };
        assert_eq!(x[0], 1.5);
        assert!(x[1].is_nan());
        assert_eq!(t.decimals()[0], 2);
        assert_eq!(
            t.column(2),
            &ColumnData::Categorical(vec![Some("a".into()), None, Some("2".into())])
        );
        assert_eq!(
            t.column(3),
            &ColumnData::Boolean(vec![Some(true), Some(false), Some(false)])
        );
        let keys = t.row_keys(&schema());
        assert_eq!(keys.len(), 3);
        assert_ne!(keys[0], keys[1]);
        let again = Table::from_csv(&schema(), t.to_csv(&schema()).as_slice()).unwrap();
        assert_eq!(again.canonicalize(&t).row_keys(&schema()), keys);
    }

    #[test]
    fn rejects_bad_input_with_typed_errors() {
        let s = schema();
        let e = |csv: &[u8]| Table::from_csv(&s, csv).unwrap_err();
        assert!(matches!(e(b""), IngestError::NoHeader));
        assert!(matches!(e(b"x,d,c,b\n"), IngestError::WrongSchema { .. }));
        assert!(matches!(
            e(b"x,d,c,b,id,zz\n"),
            IngestError::WrongSchema { .. }
        ));
        assert!(matches!(
            e(b"x,d,c,b,id\n1,2020-01-01,a,true\n"),
            IngestError::MalformedCsv { .. }
        ));
        assert!(matches!(
            e(b"x,d,c,b,id\nabc,,,,\n"),
            IngestError::BadValue { .. }
        ));
        assert!(matches!(
            e(b"x,d,c,b,id\n1,2020-13-01,,,\n"),
            IngestError::BadValue { .. }
        ));
        assert!(matches!(
            e(b"x,d,c,b,id\n1,,,maybe,\n"),
            IngestError::BadValue { .. }
        ));
        assert!(matches!(
            e(b"x,d,c,b,id\ninf,,,,\n"),
            IngestError::BadValue { .. }
        ));
        assert!(matches!(
            e(b"x,d,c,b,id\n1,,\xff,,\n"),
            IngestError::NonUtf8 { .. }
        ));
        let limits = Limits {
            max_rows: 1,
            ..Limits::default()
        };
        let r = Table::from_csv_reader(&s, &b"x,d,c,b,id\n1,,,,\n2,,,,\n"[..], limits);
        assert!(matches!(r, Err(IngestError::TooManyRows { .. })));
        let limits = Limits {
            max_bytes: 12,
            ..Limits::default()
        };
        let r = Table::from_csv_reader(&s, &b"x,d,c,b,id\n1,,,,\n2,,,,\n"[..], limits);
        assert!(matches!(r, Err(IngestError::TooManyBytes { .. })));
        let limits = Limits {
            max_field_bytes: 3,
            ..Limits::default()
        };
        let r = Table::from_csv_reader(&s, &b"x,d,c,b,id\n1,,abcd,,\n"[..], limits);
        assert!(matches!(r, Err(IngestError::FieldTooLong { .. })));
    }
}
