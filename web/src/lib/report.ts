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
/** The membership-inference ensemble's outcome (synth/src/mia.rs): ROC AUC of each attack. */
export interface MembershipInference {
  attacks: { attack: string; auc: number }[]; worst_auc: number; worst_attack: string;
  members: number; non_members: number; null_sd: number; limit: number; factor: number;
}
/** The canary check (synth/src/canary.rs), when the validator planted canaries. */
export interface CanaryCheck { planted: number; reproduced: number; commitment: string }
export interface SubmissionScore {
  fidelity: number; utility: number | null; privacy: number; privacy_factor: number; score: number; passed: boolean;
  gates: Gate[]; accepted_rows: number; overlapping_rows: number; near_copy_threshold: number;
  quality: { overall: number; column_shapes: number; column_pair_trends: number | null };
  /** Absent in reports from validators before membership inference was scored. */
  membership?: MembershipInference;
  canaries?: CanaryCheck | null;
}

/** Worst-case membership-inference AUC and the attack that found it, e.g. `0.634 (distance)`; `—` when not reported. */
export function worstAttack(score: SubmissionScore | null | undefined): string {
  const m = score?.membership;
  if (!m || !Number.isFinite(m.worst_auc)) return '—';
  return `${m.worst_auc.toFixed(3)} (${m.worst_attack.replace(/_/g, ' ')})`;
}

/** Every attack's AUC, for a tooltip: `distance 0.634, density ratio 0.556, classifier 0.535`. */
export function attackBreakdown(score: SubmissionScore | null | undefined): string {
  const m = score?.membership;
  if (!m) return '';
  const list = m.attacks.map((a) => `${a.attack.replace(/_/g, ' ')} ${a.auc.toFixed(3)}`).join(', ');
  return `${list}; limit ${m.limit.toFixed(3)}, privacy factor ${m.factor.toFixed(3)}`;
}

/** The canary check as a cell: `2 of 8 reproduced`, or `—` when none were planted. */
export function canaryCell(score: SubmissionScore | null | undefined): string {
  const c = score?.canaries;
  return c ? `${c.reproduced} of ${c.planted} reproduced` : '—';
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
