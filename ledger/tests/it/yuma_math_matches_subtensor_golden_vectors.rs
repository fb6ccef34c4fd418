//! The math helpers against the golden vectors of LEDGER.md (from subtensor's
//! `tests/math.rs`), and the sorted-median shortcut against subtensor's pivot search.

use plexus_ledger::yuma::dense;
use plexus_ledger::yuma::math::{self, I32F32, SparseRow};
use proptest::prelude::*;

fn fx(s: &str) -> I32F32 {
    s.parse().expect("decimal literal")
}

fn fxs(xs: &[&str]) -> Vec<I32F32> {
    xs.iter().map(|x| fx(x)).collect()
}

/// Dense rows to sparse rows, dropping zeros (subtensor's `vec_to_sparse_mat_fixed`).
fn sparse(rows: &[&[&str]]) -> Vec<SparseRow> {
    rows.iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(j, x)| (u16::try_from(j).expect("few columns"), fx(x)))
                .filter(|(_, v)| *v > I32F32::ZERO)
                .collect()
        })
        .collect()
}

#[test]
fn weighted_median_follows_the_majority() {
    let majority = fx("0.51");
    let cases: [(&[&str], &[&str], &str); 3] = [
        (&["0.49", "0.51"], &["0.5", "1.0"], "1.0"),
        (&["0.51", "0.49"], &["0.5", "1.0"], "0.5"),
        (&["0.49", "0.01", "0.5"], &["0.5", "0.7", "1.0"], "0.7"),
    ];
    for (stake, score, expected) in cases {
        let (stake, score) = (fxs(stake), fxs(score));
        assert_eq!(
            math::weighted_median(&stake, &score, majority),
            fx(expected),
            "{stake:?}"
        );
        assert_eq!(
            dense::weighted_median(&stake, &score, majority),
            fx(expected),
            "{stake:?}"
        );
    }
}

#[test]
fn weighted_median_handles_subtensors_edge_cases() {
    let majority = fx("0.51");
    let cases: [(&[&str], &[&str], &str); 7] = [
        (&[], &[], "0"),
        (&["0.49", "0", "0.51"], &["0.5", "0.7", "1"], "1"),
        (&["0.49", "0.51", "0"], &["0.5", "0.7", "1"], "0.7"),
        (&["0", "0.49", "0.51"], &["0.5", "0.7", "1"], "1"),
        (&["0", "0.49", "0", "0.51"], &["0.5", "0.5", "1", "1"], "1"),
        (
            &["0.2", "0.2", "0.2", "0.2", "0.2"],
            &["0.8", "0.2", "1", "0.6", "0.4"],
            "0.6",
        ),
        (
            &[
                "0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1",
            ],
            &[
                "0.8", "0.8", "0.2", "0.2", "1.0", "1.0", "0.6", "0.6", "0.4", "0.4",
            ],
            "0.6",
        ),
    ];
    for (stake, score, expected) in cases {
        let (stake, score) = (fxs(stake), fxs(score));
        assert_eq!(
            math::weighted_median(&stake, &score, majority),
            fx(expected),
            "{stake:?}"
        );
    }
}

#[test]
fn column_median_depends_on_kappa() {
    let stake = fxs(&["0", "0.75", "0.25", "0"]);
    let weights = sparse(&[
        &["0", "0.1", "0"],
        &["0", "0.2", "0.4"],
        &["0", "0.3", "0.1"],
        &["0", "0.4", "0.5"],
    ]);
    for (kappa, expected) in [
        ("0.24", ["0", "0.3", "0.4"]),
        ("0.26", ["0", "0.2", "0.4"]),
        ("0.76", ["0", "0.2", "0.1"]),
    ] {
        assert_eq!(
            math::weighted_median_col(&stake, &weights, 3, fx(kappa)),
            fxs(&expected),
            "kappa {kappa}"
        );
    }
}

#[test]
fn column_median_of_subtensors_other_cases() {
    assert!(math::weighted_median_col(&[], &[], 0, fx("0.5")).is_empty());
    let zero = math::weighted_median_col(&fxs(&["0", "0"]), &[vec![], vec![]], 2, fx("0.5"));
    assert_eq!(zero, fxs(&["0", "0"]));
    let stake = fxs(&["0", "0.3", "0.2", "0.5"]);
    let weights = sparse(&[
        &["0", "0.1", "0"],
        &["0", "0.2", "0.4"],
        &["0", "0.3", "0.1"],
        &["0", "0", "0.5"],
    ]);
    assert_eq!(
        math::weighted_median_col(&stake, &weights, 3, fx("0.51")),
        fxs(&["0", "0", "0.4"])
    );
}

#[test]
fn column_clip_caps_each_column_at_its_threshold() {
    let thresholds = fxs(&["0", "5", "12"]);
    let weights = sparse(&[
        &["0", "2", "3"],
        &["4", "5", "6"],
        &["7", "8", "9"],
        &["10", "11", "12"],
    ]);
    let expected = sparse(&[
        &["0", "2", "3"],
        &["0", "5", "6"],
        &["0", "5", "9"],
        &["0", "5", "12"],
    ]);
    assert_eq!(math::col_clip(&weights, &thresholds), expected);

    let weights = sparse(&[
        &["0", "2", "3"],
        &["4", "5", "6"],
        &["0", "0", "0"],
        &["10", "11", "12"],
    ]);
    let expected = sparse(&[
        &["0", "2", "3"],
        &["0", "5", "6"],
        &["0", "0", "0"],
        &["0", "5", "12"],
    ]);
    assert_eq!(math::col_clip(&weights, &thresholds), expected);
}

proptest! {
    /// The sort-based median equals subtensor's pivot search on arbitrary input,
    /// including zero stakes, ties and majorities above the total stake.
    #[test]
    fn sorted_median_equals_subtensors_pivot_search(
        entries in prop::collection::vec((0u8..4, 0u8..6), 0..40),
        majority in 0u64..=(1u64 << 33),
    ) {
        let stake: Vec<I32F32> = entries.iter().map(|(s, _)| I32F32::from_num(*s) / 8).collect();
        let score: Vec<I32F32> = entries.iter().map(|(_, x)| I32F32::from_num(*x) / 5).collect();
        let majority = I32F32::from_bits(i64::try_from(majority).unwrap());
        prop_assert_eq!(
            math::weighted_median(&stake, &score, majority),
            dense::weighted_median(&stake, &score, majority)
        );
    }
}

/// Subtensor's `weighted_median_col`, column by column, through the pivot search.
fn column_medians_by_pivot_search(
    stake: &[I32F32],
    rows: &[SparseRow],
    columns: usize,
    kappa: I32F32,
) -> Vec<I32F32> {
    let voters: Vec<usize> = (0..stake.len())
        .filter(|&i| stake[i] > I32F32::ZERO)
        .collect();
    let mut use_stake: Vec<I32F32> = voters.iter().map(|&i| stake[i]).collect();
    math::normalize(&mut use_stake);
    (0..columns)
        .map(|j| {
            let score: Vec<I32F32> = voters
                .iter()
                .map(|&i| {
                    rows.get(i)
                        .and_then(|r| r.iter().find(|e| usize::from(e.0) == j))
                        .map_or(I32F32::ZERO, |e| e.1)
                })
                .collect();
            dense::weighted_median(&use_stake, &score, kappa)
        })
        .collect()
}

proptest! {
    /// Both gathering strategies (dense blocks, sparse transposition; sorted or
    /// unsorted rows) give subtensor's column medians.
    #[test]
    fn column_medians_equal_subtensors_column_by_column(
        stake in prop::collection::vec(prop_oneof![Just(0u32), 1u32..1000], 1..12),
        rows in prop::collection::vec(
            prop::collection::btree_map(0u16..100, 0u32..6, 0..40),
            1..12,
        ),
        shuffle in any::<bool>(),
        columns in prop_oneof![Just(40usize), Just(100usize)],
        kappa in 0u32..=(1 << 16),
    ) {
        let stake: Vec<I32F32> = stake.iter().map(|s| I32F32::from_num(*s) / 1000).collect();
        let rows: Vec<SparseRow> = rows
            .iter()
            .map(|r| {
                let mut row: SparseRow =
                    r.iter().map(|(j, w)| (*j, I32F32::from_num(*w) / 5)).collect();
                if shuffle {
                    row.reverse();
                }
                row
            })
            .collect();
        let kappa = I32F32::from_num(kappa) / 65_536;
        prop_assert_eq!(
            math::weighted_median_col(&stake, &rows, columns, kappa),
            column_medians_by_pivot_search(&stake, &rows, columns, kappa)
        );
    }
}
