//! Canaries: unique rows a validator plants in the private training half of a task it runs;
//! a submission that reproduces one has copied training rows and is zeroed.
//!
//! A canary is drawn column by column (a uniform category, or a uniform value in the
//! column's range at its precision) so that its *cell*, the tuple of its categories and
//! of the [`CANARY_BINS`]-wide bins of its continuous values, holds no real row and is as
//! unlikely as possible under the columns' own frequencies: an honest generator lands a row
//! there with probability about n·Π p(column cell), which the draw keeps tiny. A synthetic
//! row in a canary's cell reproduces it. The check, and a blake3 commitment to the canaries,
//! go into the signed score report.

use std::collections::BTreeSet;

use crate::rng::{SeededRng, derive_seed};
use crate::schema::Schema;
use crate::table::{ColumnData, Table};

/// Equal-width bins per continuous column that make up a canary's cell.
pub const CANARY_BINS: usize = 20;
/// Candidates drawn per canary; the rarest unseen one is kept.
const CANDIDATES: usize = 64;

/// One column's part of a cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// Null.
    Null,
    /// A continuous value's bin.
    Bin(usize),
    /// A category or boolean.
    Label(String),
}

/// How a scored column is cut into cell parts.
#[derive(Debug, Clone)]
enum Cutter {
    /// Continuous: the training range.
    Range(f64, f64),
    /// Discrete: equality.
    Labels,
}

impl Cutter {
    fn part(&self, column: &ColumnData, row: usize) -> Part {
        match self {
            Self::Range(lo, hi) => match column.as_f64().map(|v| v[row]) {
                Some(x) if !x.is_nan() => {
                    let w = (hi - lo) / CANARY_BINS as f64;
                    let b = if w > 0.0 { ((x - lo) / w).floor() } else { 0.0 };
                    Part::Bin(b.clamp(0.0, (CANARY_BINS - 1) as f64) as usize)
                }
                _ => Part::Null,
            },
            Self::Labels => match column.as_labels().and_then(|v| v[row].map(str::to_owned)) {
                Some(l) => Part::Label(l),
                None => Part::Null,
            },
        }
    }
}

/// Canary rows planted in a task's training half, and how their cells are cut.
#[derive(Debug, Clone)]
pub struct Canaries {
    rows: Table,
    columns: Vec<(usize, Cutter)>,
    cells: Vec<Vec<Part>>,
}

/// The canary check of one submission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CanaryCheck {
    /// Canaries planted in the training half.
    pub planted: usize,
    /// Canaries some synthetic row reproduces (their cell).
    pub reproduced: usize,
    /// blake3 (hex) of the canary rows' CSV: binds the report to the canaries planted.
    pub commitment: String,
}

fn cutters(schema: &Schema, train: &Table) -> Vec<(usize, Cutter)> {
    schema
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind.is_scored())
        .map(|(i, c)| {
            if c.kind.is_continuous() {
                let v = train.column(i).as_f64().unwrap_or_default();
                let (lo, hi) = crate::dcr::bounds(&v).unwrap_or((0.0, 0.0));
                (i, Cutter::Range(lo, hi))
            } else {
                (i, Cutter::Labels)
            }
        })
        .collect()
}

fn cell(columns: &[(usize, Cutter)], table: &Table, row: usize) -> Vec<Part> {
    columns
        .iter()
        .map(|(i, c)| c.part(table.column(*i), row))
        .collect()
}

impl Canaries {
    /// Draw `count` canaries for `train` (the real training half) from `seed`. Fewer come
    /// back when no unseen cell is found (a schema with a single scored column, say).
    pub fn draw(schema: &Schema, train: &Table, count: usize, seed: [u8; 32]) -> Self {
        let mut rng = SeededRng::new(derive_seed(&seed, "canaries"));
        let columns = cutters(schema, train);
        let n = train.num_rows();
        let mut seen: BTreeSet<Vec<Part>> = (0..n).map(|r| cell(&columns, train, r)).collect();
        // Each column's cell-part frequencies in T, for the rarity of a candidate.
        let freq: Vec<std::collections::BTreeMap<Part, usize>> = columns
            .iter()
            .map(|(i, c)| {
                let mut m = std::collections::BTreeMap::new();
                for r in 0..n {
                    *m.entry(c.part(train.column(*i), r)).or_insert(0) += 1;
                }
                m
            })
            .collect();
        let labels: Vec<Vec<String>> = columns
            .iter()
            .map(|(i, _)| {
                train
                    .column(*i)
                    .as_labels()
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                    .map(str::to_owned)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            })
            .collect();
        let decimals = train.decimals().to_vec();
        let mut picked: Vec<Vec<ColumnData>> = Vec::new();
        let mut cells = Vec::new();
        for _ in 0..count {
            let mut best: Option<(f64, Vec<Part>, Vec<ColumnData>)> = None;
            for _ in 0..CANDIDATES {
                let mut values = Vec::with_capacity(schema.columns.len());
                for (i, spec) in schema.columns.iter().enumerate() {
                    let k = columns.iter().position(|(c, _)| *c == i);
                    values.push(match (k.map(|k| &columns[k].1), &train.columns()[i]) {
                        (Some(Cutter::Range(lo, hi)), ColumnData::Datetime(_)) => {
                            ColumnData::Datetime(vec![Some(
                                (lo + (hi - lo) * rng.uniform()) as i64,
                            )])
                        }
                        (Some(Cutter::Range(lo, hi)), _) => {
                            let scale =
                                10f64.powi(i32::try_from(decimals[i]).unwrap_or(15).min(15));
                            let x = ((lo + (hi - lo) * rng.uniform()) * scale).round() / scale;
                            ColumnData::Numerical(vec![x.clamp(*lo, *hi)])
                        }
                        (Some(Cutter::Labels), ColumnData::Boolean(_)) => {
                            ColumnData::Boolean(vec![Some(rng.below(2) == 1)])
                        }
                        (Some(Cutter::Labels), _) => {
                            let l = &labels[k.unwrap_or(0)];
                            ColumnData::Categorical(vec![
                                (!l.is_empty()).then(|| l[rng.below(l.len())].clone()),
                            ])
                        }
                        (None, _) => ColumnData::Id(vec![Some(format!(
                            "canary-{}-{}",
                            spec.name,
                            picked.len()
                        ))]),
                    });
                }
                let Ok(row) = Table::from_columns(schema, values.clone()) else {
                    continue;
                };
                let c = cell(&columns, &row, 0);
                if seen.contains(&c) {
                    continue;
                }
                let p: f64 = c
                    .iter()
                    .zip(&freq)
                    .map(|(part, f)| {
                        (f.get(part).copied().unwrap_or(0) as f64 + 0.5) / (n as f64 + 1.0)
                    })
                    .product();
                if best.as_ref().is_none_or(|b| p < b.0) {
                    best = Some((p, c, values));
                }
            }
            if let Some((_, c, values)) = best {
                seen.insert(c.clone());
                cells.push(c);
                picked.push(values);
            }
        }
        let mut rows = train.select(&[]);
        for values in picked {
            if let Ok(t) = Table::from_columns(schema, values) {
                rows = rows.concat(&t);
            }
        }
        Self {
            rows,
            columns,
            cells,
        }
    }

    /// The canary rows.
    pub fn rows(&self) -> &Table {
        &self.rows
    }

    /// How many canaries there are.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The training half as contributors get it: `train` with the canaries appended.
    pub fn plant(&self, train: &Table) -> Table {
        train.concat(&self.rows)
    }

    /// Check `synthetic` for reproduced canaries.
    pub fn check(&self, schema: &Schema, synthetic: &Table) -> CanaryCheck {
        let cells: BTreeSet<Vec<Part>> = (0..synthetic.num_rows())
            .map(|r| cell(&self.columns, synthetic, r))
            .collect();
        CanaryCheck {
            planted: self.cells.len(),
            reproduced: self.cells.iter().filter(|c| cells.contains(*c)).count(),
            commitment: blake3::hash(&self.rows.to_csv(schema)).to_hex().to_string(),
        }
    }
}
