"""Run SDMetrics 0.32.0 for the parity tests and export the data sets they compare on.

Usage:
  sdmetrics_bridge.py report META.json REAL.csv SYNTHETIC.csv   -> JSON on stdout
  sdmetrics_bridge.py export-demo OUTDIR      -> student_placements real/synthetic/metadata + scores
  sdmetrics_bridge.py export-sklearn NAME OUTDIR  -> a scikit-learn bundled set as CSV + metadata
  sdmetrics_bridge.py privacy META REAL SYNTHETIC HOLDOUT SPEC.json -> DisclosureProtection
      (cap, zero_cap, generalized_cap; SPEC names known, sensitive, continuous columns)
      and DCROverfittingProtection breakdowns as JSON
  sdmetrics_bridge.py privacy-bench META REAL SYNTHETIC HOLDOUT SPEC.json DCR_ROWS -> the same
      with timings (DisclosureProtection with cap only; DCR of the first DCR_ROWS synthetic rows)
  sdmetrics_bridge.py bench META REAL SYNTHETIC HOLDOUT DCR_ROWS -> timings as JSON (DCR of
      the first DCR_ROWS synthetic rows)
"""

import json
import math
import sys
import time
import warnings

warnings.filterwarnings('ignore')

import pandas as pd  # noqa: E402
from sdmetrics.reports.single_table import QualityReport  # noqa: E402


def _nan_to_none(x):
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _report(real, synthetic, metadata, thresholds=True):
    report = QualityReport()
    if not thresholds:
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    report.generate(real, synthetic, metadata, verbose=False)
    props = report.get_properties().set_index('Property')['Score']
    shapes = report.get_details('Column Shapes')
    pairs = report.get_details('Column Pair Trends')
    return {
        'overall': _nan_to_none(report.get_score()),
        'column_shapes': _nan_to_none(props['Column Shapes']),
        'column_pair_trends': _nan_to_none(props['Column Pair Trends']),
        'shapes': [
            {'column': r['Column'], 'score': _nan_to_none(r['Score'])}
            for _, r in shapes.iterrows()
        ],
        'pairs': [
            {
                'column_1': r['Column 1'],
                'column_2': r['Column 2'],
                'score': _nan_to_none(r['Score']),
                'meets_threshold': bool(r['Meets Threshold?'])
                if not pd.isna(r['Meets Threshold?'])
                else False,
            }
            for _, r in pairs.iterrows()
        ],
    }


def report(meta_path, real_path, synthetic_path):
    with open(meta_path) as f:
        metadata = json.load(f)
    metadata.pop('target', None)
    real = pd.read_csv(real_path)
    synthetic = pd.read_csv(synthetic_path)
    out = _report(real, synthetic, metadata)
    out['no_thresholds'] = _report(real, synthetic, metadata, thresholds=False)
    json.dump(out, sys.stdout)


def export_demo(outdir):
    from sdmetrics.demos import load_single_table_demo

    real, synthetic, metadata = load_single_table_demo()
    name = next(iter(metadata['tables']))
    real, synthetic, table_meta = real[name], synthetic[name], metadata['tables'][name]
    with open(f'{outdir}/metadata.json', 'w') as f:
        json.dump(table_meta, f)
    real.to_csv(f'{outdir}/real.csv', index=False)
    synthetic.to_csv(f'{outdir}/synthetic.csv', index=False)
    out = _report(real, synthetic, table_meta)
    out['no_thresholds'] = _report(real, synthetic, table_meta, thresholds=False)
    json.dump(out, sys.stdout)


def export_sklearn(name, outdir):
    import sklearn.datasets as ds

    frame = getattr(ds, f'load_{name}')(as_frame=True).frame
    columns = {c: {'sdtype': 'numerical'} for c in frame.columns}
    target = 'target'
    if name in ('iris', 'wine', 'breast_cancer'):
        columns[target] = {'sdtype': 'categorical'}
    frame.to_csv(f'{outdir}/real.csv', index=False)
    with open(f'{outdir}/metadata.json', 'w') as f:
        json.dump({'columns': columns, 'target': target}, f)


def bench(meta_path, real_path, synthetic_path, holdout_path, dcr_rows):
    from sdmetrics.single_table import DCROverfittingProtection

    with open(meta_path) as f:
        metadata = json.load(f)
    metadata.pop('target', None)
    real = pd.read_csv(real_path)
    synthetic = pd.read_csv(synthetic_path)
    holdout = pd.read_csv(holdout_path)
    t0 = time.perf_counter()
    report = QualityReport()
    report.generate(real, synthetic, metadata, verbose=False)
    t1 = time.perf_counter()
    dcr_rows = int(dcr_rows)
    dcr = DCROverfittingProtection.compute_breakdown(
        real, synthetic.iloc[:dcr_rows], holdout, metadata, None
    )
    t2 = time.perf_counter()
    json.dump(
        {
            'overall': report.get_score(),
            'closer_to_training': dcr['synthetic_data_percentages']['closer_to_training'],
            'quality_s': t1 - t0,
            'dcr_s': t2 - t1,
        },
        sys.stdout,
    )


def _privacy(meta_path, real_path, synthetic_path, holdout_path, spec_path, methods, dcr_rows=None):
    from sdmetrics.single_table import DCROverfittingProtection, DisclosureProtection

    with open(meta_path) as f:
        metadata = json.load(f)
    metadata.pop('target', None)
    with open(spec_path) as f:
        spec = json.load(f)
    # Exact float parsing, as Rust's: pandas' default parser is off by an ulp on some
    # 17-digit values, which moves a value sitting on a bin edge.
    real = pd.read_csv(real_path, float_precision='round_trip')
    synthetic = pd.read_csv(synthetic_path, float_precision='round_trip')
    holdout = pd.read_csv(holdout_path, float_precision='round_trip')
    out = {}
    for method in methods:
        t0 = time.perf_counter()
        b = DisclosureProtection.compute_breakdown(
            real,
            synthetic,
            spec['known'],
            spec['sensitive'],
            method,
            spec['continuous'] or None,
            spec.get('bins', 10),
        )
        out[method] = {k: _nan_to_none(v) for k, v in b.items()}
        out[method]['seconds'] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = len(synthetic) if dcr_rows is None else int(dcr_rows)
    d = DCROverfittingProtection.compute_breakdown(
        real, synthetic.iloc[:rows], holdout, metadata, None
    )
    out['dcr_overfitting'] = {
        'score': d['score'],
        'closer_to_training': d['synthetic_data_percentages']['closer_to_training'],
        'closer_to_holdout': d['synthetic_data_percentages']['closer_to_holdout'],
        'seconds': time.perf_counter() - t0,
    }
    json.dump(out, sys.stdout)


def privacy(meta_path, real_path, synthetic_path, holdout_path, spec_path):
    _privacy(
        meta_path, real_path, synthetic_path, holdout_path, spec_path,
        ['cap', 'zero_cap', 'generalized_cap'],
    )


def privacy_bench(meta_path, real_path, synthetic_path, holdout_path, spec_path, dcr_rows):
    _privacy(meta_path, real_path, synthetic_path, holdout_path, spec_path, ['cap'], dcr_rows)


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        'report': report,
        'export-demo': export_demo,
        'export-sklearn': export_sklearn,
        'bench': bench,
        'privacy': privacy,
        'privacy-bench': privacy_bench,
    }[cmd](*args)
