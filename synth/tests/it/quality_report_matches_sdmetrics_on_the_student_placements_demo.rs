use crate::support::{assert_parity, bridge, num};
use plexus_synth::{QualityOptions, Schema, Table, quality_report, quality_report_with};

#[test]
fn quality_report_matches_sdmetrics_on_the_student_placements_demo() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let theirs = bridge(&["export-demo", out]);
    // SDMetrics' own golden numbers for its demo, as DATA.md records them.
    assert!((num(&theirs["overall"]) - 0.776727).abs() < 5e-7);
    assert!((num(&theirs["column_shapes"]) - 0.851108).abs() < 5e-7);
    assert!((num(&theirs["column_pair_trends"]) - 0.702346).abs() < 5e-7);
    assert!((num(&theirs["no_thresholds"]["overall"]) - 0.838042).abs() < 5e-7);

    let schema = Schema::from_metadata_json(
        &std::fs::read_to_string(dir.path().join("metadata.json")).unwrap(),
    )
    .unwrap();
    let real = Table::from_csv(
        &schema,
        &std::fs::read(dir.path().join("real.csv")).unwrap(),
    )
    .unwrap();
    let synthetic = Table::from_csv(
        &schema,
        &std::fs::read(dir.path().join("synthetic.csv")).unwrap(),
    )
    .unwrap();
    let ours = quality_report(&schema, &real, &synthetic);
    assert_parity(&ours, &theirs, "student_placements");
    let ours = quality_report_with(&schema, &real, &synthetic, QualityOptions::no_thresholds());
    assert_parity(
        &ours,
        &theirs["no_thresholds"],
        "student_placements, no thresholds",
    );
}
