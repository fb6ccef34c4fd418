//! Contributors' credibility between tasks: an EMA (alpha 0.15) of passing all gates.
//!
//! A validator keeps one [`CredibilityBook`] per data subnet. Scoring a task reads the
//! credibility its contributors had before it; recording the task moves them on. The
//! book remembers what every recorded task started from, so scoring the same task
//! again (a retry, a re-run) gives the same weights and never counts it twice.
//! [`BookFile`] keeps a book as JSON in a file of its own.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use plexus_types::{AccountId, Netuid};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::DutyReport;

/// Why a credibility book could not be read or written.
#[derive(Debug, Error)]
pub enum BookError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a credibility book.
    #[error("{} is not a credibility book: move it away to start from zero", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: plexus_wallet::WalletError,
    },
}

/// Credibility per contributor hotkey, and what each recorded task started from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredibilityBook {
    /// Current credibility (absent: 0, a newcomer).
    pub credibility: BTreeMap<AccountId, f64>,
    /// For each recorded task, its contributors' credibility before it.
    pub tasks: BTreeMap<u64, BTreeMap<AccountId, f64>>,
}

impl CredibilityBook {
    /// The credibility `hotkeys` bring to `task`: what they had before it if it was
    /// recorded already, else their current credibility.
    pub fn before(&self, task: u64, hotkeys: &[AccountId]) -> Vec<(AccountId, f64)> {
        let from = self.tasks.get(&task).unwrap_or(&self.credibility);
        hotkeys
            .iter()
            .map(|h| (*h, from.get(h).copied().unwrap_or(0.0)))
            .collect()
    }

    /// Whether `task` was recorded.
    pub fn has(&self, task: u64) -> bool {
        self.tasks.contains_key(&task)
    }

    /// Record a scored task: remember where its contributors started and move them to
    /// the credibility the report gives them. A task already recorded changes nothing.
    pub fn record(&mut self, report: &DutyReport) {
        if self.has(report.task) {
            return;
        }
        let before = self.before(
            report.task,
            &report
                .submissions
                .iter()
                .map(|s| s.hotkey)
                .collect::<Vec<_>>(),
        );
        self.tasks.insert(report.task, before.into_iter().collect());
        for s in &report.submissions {
            self.credibility.insert(s.hotkey, s.credibility);
        }
    }
}

/// A credibility book kept as JSON in one file, written atomically and readable only
/// by its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookFile(PathBuf);

impl BookFile {
    /// The book at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// The conventional book of `hotkey` (a name or an address) on `netuid` in `folder`.
    pub fn in_folder(folder: &Path, hotkey: &str, netuid: Netuid) -> Self {
        Self(folder.join(format!("{hotkey}-subnet{netuid}-credibility.json")))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The book, empty when the file does not exist yet.
    pub fn load(&self) -> Result<CredibilityBook, BookError> {
        match std::fs::read(&self.0) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| BookError::Corrupt {
                path: self.0.clone(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CredibilityBook::default()),
            Err(source) => Err(BookError::Read {
                path: self.0.clone(),
                source,
            }),
        }
    }

    /// Save `book`: a crash leaves the old file or the new one.
    pub fn save(&self, book: &CredibilityBook) -> Result<(), BookError> {
        // Maps keyed by account addresses and floats always serialize.
        let bytes = serde_json::to_vec_pretty(book).unwrap_or_default();
        plexus_wallet::write_private(&self.0, &bytes).map_err(|source| BookError::Write {
            path: self.0.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use plexus_types::{Hash, Keypair};

    use super::*;
    use crate::SubmissionReport;

    fn report(task: u64, who: &[(AccountId, f64)]) -> DutyReport {
        DutyReport {
            task,
            seed: Hash::ZERO,
            public_reference: true,
            submissions: who
                .iter()
                .map(|(h, c)| SubmissionReport {
                    hotkey: *h,
                    uid: None,
                    content_hash: Hash::ZERO,
                    error: None,
                    score: None,
                    credibility: *c,
                    weight: 0.0,
                })
                .collect(),
            weights: Vec::new(),
            merkle_root: Hash::ZERO,
            rows: 0,
            dataset_csv: Vec::new(),
        }
    }

    #[test]
    fn credibility_carries_over_between_tasks_and_a_rescored_task_counts_once() {
        let [a, b] = ["a", "b"].map(|l| Keypair::from_label(l).account());
        let mut book = CredibilityBook::default();
        assert_eq!(book.before(1, &[a]), vec![(a, 0.0)]);
        book.record(&report(1, &[(a, 0.15)]));
        assert_eq!(book.before(2, &[a, b]), vec![(a, 0.15), (b, 0.0)]);
        book.record(&report(2, &[(a, 0.2775), (b, 0.15)]));
        // Re-scoring task 1 starts from where task 1 started, and records nothing.
        assert_eq!(book.before(1, &[a]), vec![(a, 0.0)]);
        book.record(&report(1, &[(a, 0.15)]));
        assert_eq!(book.credibility[&a], 0.2775);
    }

    #[test]
    fn a_book_file_starts_empty_round_trips_and_names_itself_when_garbled() {
        let dir = tempfile::tempdir().unwrap();
        let file = BookFile::in_folder(dir.path(), "validator", 3);
        assert!(file.path().ends_with("validator-subnet3-credibility.json"));
        assert_eq!(file.load().unwrap(), CredibilityBook::default());
        let mut book = CredibilityBook::default();
        book.record(&report(1, &[(Keypair::from_label("a").account(), 0.15)]));
        file.save(&book).unwrap();
        assert_eq!(file.load().unwrap(), book);
        std::fs::write(file.path(), b"{not json").unwrap();
        let error = file.load().unwrap_err();
        assert!(matches!(error, BookError::Corrupt { .. }));
        assert!(
            error
                .to_string()
                .contains("validator-subnet3-credibility.json is not a credibility book")
        );
    }
}
