//! The memoriser attack of issue 20: the training half's own rows with Gaussian noise of
//! 0 to 1 standard deviation per numeric column (clipped to range, categoricals copied).
//! At no noise level may it score above an honest Gaussian-copula sample of the same task.

use crate::data_sets::{honest, noisy_copy, tasks};

#[test]
fn a_noisy_copy_of_the_training_rows_never_outscores_an_honest_copula() {
    let dir = tempfile::tempdir().unwrap();
    let mut beaten = Vec::new();
    for t in tasks(dir.path(), 1) {
        let copula = t.score(&honest(&t, 1), None);
        eprintln!(
            "{}: honest copula score {:.4}, worst AUC {:.4} ({}), {:?}",
            t.name,
            copula.score,
            copula.membership.worst_auc,
            copula.membership.worst_attack,
            copula
                .membership
                .attacks
                .iter()
                .map(|a| a.auc)
                .collect::<Vec<_>>()
        );
        let failed: Vec<String> = copula
            .gates
            .iter()
            .filter(|g| !g.passed)
            .map(|g| format!("{} {:.4} vs {:.4}", g.name, g.statistic, g.limit))
            .collect();
        assert!(
            copula.passed,
            "{}: the honest copula fails {failed:?}",
            t.name
        );
        for step in 0..=10 {
            let k = f64::from(step) / 10.0;
            let s = t.score(&noisy_copy(&t, k, 7 + step as u64), None);
            eprintln!(
                "{}: noise {k:.1} std: score {:.4}, worst AUC {:.4} ({}), {:?} F {:.3} gates {:?}",
                t.name,
                s.score,
                s.membership.worst_auc,
                s.membership.worst_attack,
                s.membership
                    .attacks
                    .iter()
                    .map(|a| a.auc)
                    .collect::<Vec<_>>(),
                s.fidelity,
                s.gates
                    .iter()
                    .filter(|g| !g.passed)
                    .map(|g| g.name.clone())
                    .collect::<Vec<_>>()
            );
            if s.score > copula.score {
                beaten.push(format!(
                    "{} noise {k:.1}: {:.4} > copula {:.4}",
                    t.name, s.score, copula.score
                ));
            }
        }
    }
    assert!(
        beaten.is_empty(),
        "noisy copies outscore the honest copula: {beaten:?}"
    );
}
