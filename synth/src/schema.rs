//! Task schemas: SDV/SDMetrics metadata JSON, read as is, in column order.

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use std::fmt;

/// Errors reading or checking a schema.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The metadata is not valid JSON or does not have the SDV shape.
    #[error("metadata is not valid SDV metadata JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Multi-table metadata was given without naming a table, or with a table it lacks.
    #[error("metadata has tables {available:?}; name one of them (asked for {requested:?})")]
    Table {
        /// Table names present in the metadata.
        available: Vec<String>,
        /// The table asked for, if any.
        requested: Option<String>,
    },
    /// A column appears twice.
    #[error("column {0:?} is declared twice")]
    DuplicateColumn(String),
    /// A datetime column has no `datetime_format`.
    #[error("datetime column {0:?} has no datetime_format")]
    MissingDatetimeFormat(String),
    /// A datetime format uses a directive this crate does not parse.
    #[error("datetime column {column:?}: unsupported format {format:?}")]
    UnsupportedDatetimeFormat {
        /// The column.
        column: String,
        /// The format string.
        format: String,
    },
    /// The primary key or target names a column that is not declared.
    #[error("{role} {name:?} is not a declared column")]
    UnknownColumn {
        /// `primary_key` or `target`.
        role: &'static str,
        /// The missing column's name.
        name: String,
    },
    /// The schema declares no columns.
    #[error("the schema declares no columns")]
    Empty,
}

/// The statistical type of a column (SDV's `sdtype`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ColumnKind {
    /// A real number.
    Numerical,
    /// A timestamp written with a strftime-style format; canonically int64 ns UTC.
    Datetime {
        /// The strftime-style format, e.g. `%Y-%m-%d`.
        format: String,
    },
    /// One of a set of labels.
    Categorical,
    /// True or false.
    Boolean,
    /// An identifier (or any other sdtype): carried, never scored.
    Id,
}

impl ColumnKind {
    /// Numerical or datetime: compared by value and distance.
    pub fn is_continuous(&self) -> bool {
        matches!(self, Self::Numerical | Self::Datetime { .. })
    }

    /// Categorical or boolean: compared by equality.
    pub fn is_discrete(&self) -> bool {
        matches!(self, Self::Categorical | Self::Boolean)
    }

    /// Whether the quality report and distances look at this column.
    pub fn is_scored(&self) -> bool {
        !matches!(self, Self::Id)
    }
}

/// One declared column.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnSpec {
    /// Column name, as in the CSV header.
    pub name: String,
    /// Its statistical type.
    pub kind: ColumnKind,
    /// Allowed categories (categorical columns), if the task fixes them.
    pub categories: Option<Vec<String>>,
    /// Allowed closed range (numerical columns), if the task fixes it.
    pub range: Option<(f64, f64)>,
}

/// A task schema: columns in declared order, optional primary key and target.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    /// Columns in schema order (the order pairs and row keys use).
    pub columns: Vec<ColumnSpec>,
    /// The primary key column, if any.
    pub primary_key: Option<String>,
    /// The target column for the utility score, if any.
    pub target: Option<String>,
}

#[derive(Deserialize)]
struct RawColumn {
    sdtype: String,
    datetime_format: Option<String>,
    #[serde(default)]
    categories: Option<Vec<String>>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

/// Columns in the order the JSON object lists them (serde_json's map would sort them).
struct OrderedColumns(Vec<(String, RawColumn)>);

impl<'de> Deserialize<'de> for OrderedColumns {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedColumns;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of column name to column metadata")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, RawColumn>()? {
                    out.push((k, v));
                }
                Ok(OrderedColumns(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct RawTable {
    columns: OrderedColumns,
    primary_key: Option<String>,
    target: Option<String>,
}

#[derive(Deserialize)]
struct RawMulti {
    tables: OrderedTables,
}

struct OrderedTables(Vec<(String, RawTable)>);

impl<'de> Deserialize<'de> for OrderedTables {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedTables;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of table name to table metadata")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, RawTable>()? {
                    out.push((k, v));
                }
                Ok(OrderedTables(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl Schema {
    /// Read SDV single-table metadata JSON (`{"columns": {...}, "primary_key": ...}`), or
    /// multi-table metadata (`{"tables": {...}}`) when it holds exactly one table.
    pub fn from_metadata_json(json: &str) -> Result<Self, SchemaError> {
        Self::from_metadata_json_table(json, None)
    }

    /// Read SDV metadata JSON; with `"tables"`, take the named table (or the only one).
    pub fn from_metadata_json_table(json: &str, table: Option<&str>) -> Result<Self, SchemaError> {
        let value: serde_json::Value = serde_json::from_str(json)?;
        let raw = if value.get("tables").is_some() {
            let multi: RawMulti = serde_json::from_str(json)?;
            let available: Vec<String> = multi.tables.0.iter().map(|(n, _)| n.clone()).collect();
            let pick = match table {
                Some(t) => multi.tables.0.into_iter().find(|(n, _)| n == t),
                None if available.len() == 1 => multi.tables.0.into_iter().next(),
                None => None,
            };
            match pick {
                Some((_, t)) => t,
                None => {
                    return Err(SchemaError::Table {
                        available,
                        requested: table.map(str::to_owned),
                    });
                }
            }
        } else {
            serde_json::from_str::<RawTable>(json)?
        };
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawTable) -> Result<Self, SchemaError> {
        let mut columns = Vec::with_capacity(raw.columns.0.len());
        for (name, c) in raw.columns.0 {
            let kind = match c.sdtype.as_str() {
                "numerical" => ColumnKind::Numerical,
                "datetime" => {
                    let format = c
                        .datetime_format
                        .ok_or_else(|| SchemaError::MissingDatetimeFormat(name.clone()))?;
                    ColumnKind::Datetime { format }
                }
                "categorical" | "ordinal" => ColumnKind::Categorical,
                "boolean" => ColumnKind::Boolean,
                _ => ColumnKind::Id,
            };
            let range = match (c.min, c.max) {
                (Some(lo), Some(hi)) => Some((lo, hi)),
                (Some(lo), None) => Some((lo, f64::INFINITY)),
                (None, Some(hi)) => Some((f64::NEG_INFINITY, hi)),
                (None, None) => None,
            };
            columns.push(ColumnSpec {
                name,
                kind,
                categories: c.categories,
                range,
            });
        }
        Self::new(columns, raw.primary_key, raw.target)
    }

    /// Build a schema from columns, checking names, formats, key and target.
    pub fn new(
        columns: Vec<ColumnSpec>,
        primary_key: Option<String>,
        target: Option<String>,
    ) -> Result<Self, SchemaError> {
        if columns.is_empty() {
            return Err(SchemaError::Empty);
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &columns {
            if !seen.insert(c.name.as_str()) {
                return Err(SchemaError::DuplicateColumn(c.name.clone()));
            }
            if let ColumnKind::Datetime { format } = &c.kind {
                crate::datetime::DatetimeFormat::parse(format).map_err(|_| {
                    SchemaError::UnsupportedDatetimeFormat {
                        column: c.name.clone(),
                        format: format.clone(),
                    }
                })?;
            }
        }
        for (role, name) in [("primary_key", &primary_key), ("target", &target)] {
            if let Some(name) = name
                && !seen.contains(name.as_str())
            {
                return Err(SchemaError::UnknownColumn {
                    role,
                    name: name.clone(),
                });
            }
        }
        Ok(Self {
            columns,
            primary_key,
            target,
        })
    }

    /// The index of a column by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The schema as SDV single-table metadata JSON (column order kept).
    pub fn to_metadata_json(&self) -> String {
        let mut cols = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let mut obj = serde_json::Map::new();
            let sdtype = match &c.kind {
                ColumnKind::Numerical => "numerical",
                ColumnKind::Datetime { format } => {
                    obj.insert("datetime_format".into(), format.clone().into());
                    "datetime"
                }
                ColumnKind::Categorical => "categorical",
                ColumnKind::Boolean => "boolean",
                ColumnKind::Id => "id",
            };
            obj.insert("sdtype".into(), sdtype.into());
            cols.push(format!(
                "{}: {}",
                serde_json::Value::from(c.name.clone()),
                serde_json::Value::Object(obj)
            ));
        }
        let mut out = format!("{{\"columns\": {{{}}}", cols.join(", "));
        if let Some(pk) = &self.primary_key {
            out.push_str(&format!(
                ", \"primary_key\": {}",
                serde_json::Value::from(pk.clone())
            ));
        }
        if let Some(t) = &self.target {
            out.push_str(&format!(
                ", \"target\": {}",
                serde_json::Value::from(t.clone())
            ));
        }
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_declared_order_and_reads_multi_table() {
        let json = r#"{"tables": {"t": {"primary_key": "id", "columns": {
            "z": {"sdtype": "numerical"}, "a": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"},
            "id": {"sdtype": "id"}, "m": {"sdtype": "boolean"}}}}}"#;
        let s = Schema::from_metadata_json(json).unwrap();
        let names: Vec<_> = s.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["z", "a", "id", "m"]);
        assert_eq!(s.primary_key.as_deref(), Some("id"));
        let again = Schema::from_metadata_json(&s.to_metadata_json()).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn rejects_bad_metadata() {
        assert!(Schema::from_metadata_json("{").is_err());
        assert!(Schema::from_metadata_json(r#"{"columns": {}}"#).is_err());
        assert!(
            Schema::from_metadata_json(r#"{"columns": {"d": {"sdtype": "datetime"}}}"#).is_err()
        );
        assert!(
            Schema::from_metadata_json(
                r#"{"columns": {"a": {"sdtype": "numerical"}}, "primary_key": "b"}"#
            )
            .is_err()
        );
    }
}
