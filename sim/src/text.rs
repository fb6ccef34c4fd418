//! A network simulation's report as people read it.

use plexus_types::text_table;
use serde::Serialize;

use crate::network::{Earnings, Report, Scenario};

fn plx(base_units: u64) -> String {
    format!("{:.2} PLX", base_units as f64 / 1e9)
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{:.2} %", x * 100.0))
}

fn times(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{x:.3}×"))
}

/// A serde enum's name (`honest`, `lazy`, …).
fn name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn rows<S: Serialize>(side: &[Earnings<S>]) -> Vec<Vec<String>> {
    side.iter()
        .map(|e| {
            vec![
                name(&e.strategy),
                e.count.to_string(),
                plx(e.emission),
                percent(Some(e.share)),
                percent(e.per_capita),
                percent(e.late_per_capita),
            ]
        })
        .collect()
}

/// `plexus sim network`'s tables: each side's earnings per strategy, then the ratios.
pub fn report_text(scenario: &Scenario, r: &Report) -> String {
    let late = format!("last {} per capita", r.late_epochs);
    let headers = [
        "strategy",
        "count",
        "earned",
        "share",
        "per capita",
        late.as_str(),
    ];
    let mut out = format!(
        "{} epochs, seed {}, {}, commit-reveal {}; {} paid per epoch; \
         offline providers answer nothing from epoch {}\n\n",
        r.epochs,
        r.seed,
        name(&r.yuma),
        if r.commit_reveal { "on" } else { "off" },
        plx(r.emission_per_epoch),
        r.offline_from,
    );
    out.push_str(&format!(
        "providers: incentive, {} ({} answers re-executed: {} passed, {} failed; \
         {} honest answers rejected, {} cheats missed)\n",
        plx(r.miner_emission),
        r.checks.passed + r.checks.failed,
        r.checks.passed,
        r.checks.failed,
        r.checks.honest_failed,
        r.checks.cheats_passed,
    ));
    out.push_str(&text_table(&headers, &rows(&r.providers)));
    out.push_str(&format!(
        "\n\nvalidators: dividends, {} (stake {} per honest validator, {} per copier)\n",
        plx(r.validator_emission),
        plx(scenario.validator_stake),
        plx(scenario.copier_stake),
    ));
    out.push_str(&text_table(&headers, &rows(&r.validators)));
    out.push_str(&format!(
        "\n\nlazy provider / honest provider, per capita: {}\n\
         probe detector ({} per mille of probes recognised) / honest provider, per capita: {}\n\
         copier / honest validator, per capita and unit of stake: {} (last {} epochs: {})\n",
        times(r.lazy_over_honest),
        scenario.probe_detection_per_mille,
        times(r.detector_over_honest),
        times(r.copier_over_honest),
        r.late_epochs,
        times(r.late_copier_over_honest),
    ));
    out
}
