// Score-report signatures against test/vectors.json, which the Rust crates produce and
// check (api/tests/it/the_web_app_encodes_and_verifies_like_the_rust_crates.rs).

import { describe, expect, it } from 'vitest';

import { hex } from '../src/lib/bytes';
import { attackBreakdown, canaryCell, parseReport, reportSigningBytes, verifyReport, worstAttack } from '../src/lib/report';
import type { SubmissionScore } from '../src/lib/report';

import vectorsJson from './vectors.json';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const v = (vectorsJson as any).data_report;

describe('data score reports', () => {
  it('sign the same bytes as the Rust crates', () => {
    expect(hex(reportSigningBytes(BigInt(v.task), v.report))).toBe(v.bytes);
  });

  it('verify the validator signature and nothing else', () => {
    expect(verifyReport(BigInt(v.task), v.validator, v.report, v.signature)).toBe(true);
    expect(verifyReport(BigInt(v.task) + 1n, v.validator, v.report, v.signature)).toBe(false);
    expect(verifyReport(BigInt(v.task), v.validator, `${v.report} `, v.signature)).toBe(false);
    expect(verifyReport(BigInt(v.task), 'plx1notanaddress', v.report, v.signature)).toBe(false);
    expect(verifyReport(BigInt(v.task), v.validator, v.report, 'zz')).toBe(false);
  });

  it('parse only duty reports', () => {
    expect(parseReport('{"submissions":[],"weights":[]}')?.submissions).toEqual([]);
    expect(parseReport(v.report)).toBeUndefined();
    expect(parseReport('not json')).toBeUndefined();
  });

  it('show the worst membership-inference AUC, the attack that found it, and the canaries', () => {
    // A submission score as synth serializes it (trimmed to the fields the page reads).
    const report = parseReport(JSON.stringify({
      submissions: [{
        score: {
          fidelity: 0.98, utility: null, privacy: 1, privacy_factor: 0.8, score: 0.78, passed: true, gates: [],
          accepted_rows: 172, overlapping_rows: 0, near_copy_threshold: 0.01,
          quality: { overall: 0.9, column_shapes: 0.9, column_pair_trends: 0.9 },
          membership: {
            attacks: [{ attack: 'distance', auc: 0.6333 }, { attack: 'density_ratio', auc: 0.5562 }, { attack: 'classifier', auc: 0.535 }],
            worst_auc: 0.6333, worst_attack: 'distance', members: 172, non_members: 172, null_sd: 0.0312, limit: 0.7936, factor: 0.80,
          },
          canaries: { planted: 8, reproduced: 1, commitment: 'ab' },
        },
      }],
      weights: [],
    }));
    const sc = report?.submissions[0].score as SubmissionScore;
    expect(worstAttack(sc)).toBe('0.633 (distance)');
    expect(attackBreakdown(sc)).toBe('distance 0.633, density ratio 0.556, classifier 0.535; limit 0.794, privacy factor 0.800');
    expect(canaryCell(sc)).toBe('1 of 8 reproduced');
    // Reports from before the ensemble, and unscored submissions.
    const old = { ...sc, membership: undefined, canaries: undefined };
    expect(worstAttack(old)).toBe('—');
    expect(attackBreakdown(old)).toBe('');
    expect(canaryCell(old)).toBe('—');
    expect(worstAttack(null)).toBe('—');
  });
});
