//! The set-up the scoring benches share: row counts, the data's generator, and the
//! schema as SDMetrics metadata on disk.

use plexus_synth::{GaussianCopula, Schema, Table, seed_from};
use std::path::PathBuf;

#[allow(dead_code, unreachable_pub)]
#[path = "../../tests/it/support.rs"]
pub(crate) mod support;

/// What a scoring bench works from.
pub(crate) struct Setup {
    /// Row counts, from `PLEXUS_BENCH_SIZES` (comma-separated) or the bench's default.
    pub(crate) sizes: Vec<usize>,
    /// The penguins schema.
    pub(crate) schema: Schema,
    /// The stratified copula of the penguins fixture the benches draw rows from.
    pub(crate) copula: GaussianCopula,
    /// A folder for the bench's files.
    pub(crate) dir: tempfile::TempDir,
    /// `dir/metadata.json`: the schema as SDMetrics metadata.
    pub(crate) meta: PathBuf,
}

/// The set-up, with `default_sizes` unless `PLEXUS_BENCH_SIZES` is set.
pub(crate) fn setup(default_sizes: &str) -> Setup {
    let sizes = std::env::var("PLEXUS_BENCH_SIZES")
        .unwrap_or_else(|_| default_sizes.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let (schema, penguins) = support::penguins();
    let copula =
        GaussianCopula::fit_stratified(&schema, &penguins, "species", seed_from(b"bench", 0))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("metadata.json");
    std::fs::write(&meta, schema.to_metadata_json()).unwrap();
    Setup {
        sizes,
        schema,
        copula,
        dir,
        meta,
    }
}

impl Setup {
    /// `n` rows each of a real, a synthetic and a holdout table drawn from the copula,
    /// written to CSV in `dir` (for SDMetrics) and read back as both sides see them.
    pub(crate) fn tables(&self, n: usize) -> ([PathBuf; 3], [Table; 3]) {
        let paths = ["real", "synthetic", "holdout"]
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let t = self.copula.sample(n, seed_from(name.as_bytes(), k as u64));
                let p = self.dir.path().join(format!("{name}-{n}.csv"));
                std::fs::write(&p, t.to_csv(&self.schema)).unwrap();
                p
            })
            .collect::<Vec<_>>();
        let read = |p: &PathBuf| Table::from_csv(&self.schema, &std::fs::read(p).unwrap()).unwrap();
        let tables = [read(&paths[0]), read(&paths[1]), read(&paths[2])];
        (paths.try_into().unwrap(), tables)
    }
}
