// Validators' signed score reports for data tasks (types/src/data.rs): the signature is
// checked here, in the browser, against the validator's address before a score is shown.

import { concat, unhex, utf8 } from './bytes';
import { parseAddress, verify } from './keys';

export const REPORT_SIGNING_DOMAIN = utf8('plexus/data-report/v1');

/** What a report's signature covers: domain ‖ task (u64 big-endian) ‖ the report's UTF-8. */
export function reportSigningBytes(task: bigint, report: string): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setBigUint64(0, task, false);
  return concat(REPORT_SIGNING_DOMAIN, id, utf8(report));
}

/** Whether `signature` (hex) is `validator`'s over `report` for `task`; false on any malformed input. */
export function verifyReport(task: bigint, validator: string, report: string, signature: string): boolean {
  try {
    return verify(parseAddress(validator), reportSigningBytes(task, report), unhex(signature));
  } catch {
    return false;
  }
}

export interface Gate { name: string; statistic: number; limit: number; passed: boolean }
export interface SubmissionScore {
  fidelity: number; utility: number | null; privacy: number; privacy_factor: number; score: number; passed: boolean;
  gates: Gate[]; accepted_rows: number; overlapping_rows: number; near_copy_threshold: number;
  quality: { overall: number; column_shapes: number; column_pair_trends: number | null };
}
export interface SubmissionReport { hotkey: string; uid: number | null; content_hash: string; error: string | null; score: SubmissionScore | null; credibility: number; weight: number }
export interface DutyReport { task: number; seed: string; public_reference: boolean; submissions: SubmissionReport[]; weights: [number, number][]; merkle_root: string; rows: number }

/** Parse a verified report's JSON, or undefined when it is not a duty report. */
export function parseReport(text: string): DutyReport | undefined {
  try {
    const r = JSON.parse(text) as DutyReport;
    return Array.isArray(r?.submissions) ? r : undefined;
  } catch {
    return undefined;
  }
}
