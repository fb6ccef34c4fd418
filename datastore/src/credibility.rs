//! Contributors' credibility between tasks: an EMA (alpha 0.15) of passing all gates.
//!
//! A validator keeps one [`CredibilityBook`] per data subnet. Scoring a task reads the
//! credibility its contributors had before it; recording the task moves them on. The
//! book remembers what every recorded task started from, so scoring the same task
//! again (a retry, a re-run) gives the same weights and never counts it twice.

use std::collections::BTreeMap;

use plexus_types::AccountId;
use serde::{Deserialize, Serialize};

use crate::DutyReport;

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

#[cfg(test)]
mod tests {
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
}
