// Score-report signatures against test/vectors.json, which the Rust crates produce and
// check (api/tests/it/the_web_app_encodes_and_verifies_like_the_rust_crates.rs).

import { describe, expect, it } from 'vitest';

import { hex } from '../src/lib/bytes';
import { parseReport, reportSigningBytes, verifyReport } from '../src/lib/report';

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
});
