// The node's HTTP API (api/src/lib.rs), same origin as this page.

import { hex } from './bytes';
import { type Header, type Payload, signTransaction } from './codec';
import type { Keypair } from './keys';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Same origin: the node that served this page. */
const base = '';

/** `fetch` on the node, with an unreachable node as an `ApiError`. */
async function reach(path: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(base + path, init);
  } catch (e) {
    throw new ApiError(0, 'unreachable', `the node does not answer (${String(e)})`);
  }
}

/** The API's `{"error": {"code", "message"}}` answer as an `ApiError`. */
function failure(status: number, body: unknown): ApiError {
  const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return new ApiError(status, err?.code ?? 'error', err?.message ?? `HTTP ${status}`);
}

export async function get<T>(path: string): Promise<T> {
  const res = await reach(path, { headers: { accept: 'application/json' } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'not_json', `HTTP ${res.status}: not a JSON answer`);
  }
  if (!res.ok) throw failure(res.status, body);
  return body as T;
}

/** A file (not JSON) from the node; errors are the API's JSON errors. */
export async function getFile(path: string): Promise<Blob> {
  const res = await reach(path);
  if (!res.ok) throw failure(res.status, await res.json().catch(() => undefined));
  return res.blob();
}

export async function submitTx(encodedHex: string): Promise<string> {
  const res = await fetch(`${base}/v1/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tx: encodedHex }),
  });
  const body = (await res.json()) as { hash?: string };
  if (!res.ok || !body.hash) throw failure(res.status, body);
  return body.hash;
}

export interface TxView {
  hash: string;
  status: 'pending' | 'finalized';
  height: number | null;
  index: number | null;
  transaction: { tx: { chain_id: number; sender: string; nonce: number; fee: number; payload: Record<string, unknown> & { type: string } }; signature: string } | null;
  encoded: string | null;
}

export async function waitForTx(hash: string, timeoutMs = 60_000): Promise<TxView> {
  const until = Date.now() + timeoutMs;
  let delay = 150;
  for (;;) {
    try {
      const v = await get<TxView>(`/v1/transactions/${hash}`);
      if (v.status === 'finalized') return v;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
    }
    if (Date.now() > until) throw new Error(`transaction ${hash} was not finalized in time`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1000);
  }
}

export interface Account { height: number; address: string; balance: number; nonce: number }
export interface TxSummary { hash: string; sender: string; nonce: number; fee: number; kind: string }
export interface BlockSummary { height: number; digest: string; header: Header; tx_count: number }
export interface BlockPage { blocks: BlockSummary[]; next: number | null }
export interface BlockView { height: number; digest: string; header: Header; transactions: TxSummary[] }
export interface Status {
  node: { finalized_height: number; view: number; tip_height: number; peers: number; validators: number; mempool_size: number; halted: string | null };
  tip: { height: number; digest: string; state_root: string } | null;
  version: string;
}
export interface Endpoint { url: string; ohttp_keys: string; model: string; weights_hash: string; operator: string }
export interface Neuron {
  uid: number; hotkey: string; coldkey: string; stake: number; rank: number; trust: number; consensus: number;
  incentive: number; dividends: number; emission: number; validator_trust: number; validator_permit: boolean;
  last_update: number; registered_at: number; endpoint: Endpoint | null;
}
export interface Subnet {
  netuid: number; name: string; mechanism: 'inference' | 'data' | 'generic'; owner: string; created_at: number;
  hyperparams: Record<string, unknown>; n: number; burn_price: number; pending_emission: number;
  last_epoch_block: number; epoch_index: number; next_epoch_block: number; last_epoch_emission: number;
}
export interface Metagraph { height: number; netuid: number; neurons: Neuron[] }
export interface EpochNeuron { uid: number; hotkey: string; incentive: number; dividends: number; trust: number; validator_trust: number; emission: number }
export interface EpochResult { epoch: number; height: number; emission: number; neurons: EpochNeuron[] }
/** `GET /v1/subnets/{netuid}/history`: past epochs, newest first, from the chain's versioned state. */
export interface SubnetHistory { netuid: number; oldest_height: number; epochs: EpochResult[] }
export interface Supply {
  height: number; genesis: number; emitted: number; burned: number; total_issuance: number; total_stake: number;
  data_escrow: number; credit_escrow: number; cap: number;
}
export interface Chain { chain_id: number; genesis_digest: string; params: Record<string, unknown> & { min_fee?: number }; validators: { public_key: string }[] }
export interface IssuerKeyInfo { key_id: string; denomination: number; key_epoch: number; spki: string; registered_at: number; deposited: number; settled: number; slashed: number; escrow: number; tokens_settled: number; on_sale?: boolean }
export interface IssuerInfo { hotkey: string; netuid: number; url: string; ohttp_keys: string; updated_at: number; keys: IssuerKeyInfo[] }
export interface Issuers { height: number; credit_price: number; issuers: IssuerInfo[] }
export interface Deposit { id: number; buyer: string; issuer: string; key_id: string; credits: number; tokens: number; amount: number; block: number }
export interface DataContribution { hotkey: string; uid: number | null; commitment: string; committed_at: number; content_hash: string | null; salt: string | null; rows: number | null; revealed_at: number | null; [k: string]: unknown }
export interface DataPublication { merkle_root: string; rows: number; validator: string; block: number; [k: string]: unknown }
export interface DataTask {
  id: number; netuid: number; creator: string; schema_hash: string; reference_commitment: string; bounty: number; escrow: number;
  commit_deadline: number; reveal_deadline: number; min_rows: number; max_rows: number; created_at: number; commits: number;
  reveals: number; revealed_rows: number; phase: string; published: DataPublication | null; contributions: DataContribution[];
}
export interface DataReport { validator: string; uid: number; report: string; signature: string }
export interface DataReports { height: number; task: number; reports: DataReport[] }
export interface ProofResponse {
  proof: { height: number; root: string; key: string; value: string | null; proof: string };
  header: Header;
}

/**
 * Sign `payload` from `key`'s account at its next nonce with the chain's minimum fee,
 * submit it (then call `submitted`) and wait until it is finalized.
 */
export async function sendPayload(key: Keypair, payload: Payload, submitted: (hash: string) => void = () => {}): Promise<{ hash: string; height: number; chainId: bigint }> {
  const chain = await get<Chain>('/v1/chain');
  const account = await get<Account>(`/v1/accounts/${key.address}`);
  const chainId = BigInt(chain.chain_id);
  const signed = signTransaction({ chain_id: chainId, sender: key.address, nonce: BigInt(account.nonce), fee: BigInt(chain.params.min_fee ?? 0), payload }, key);
  const hash = await submitTx(hex(signed.encoded));
  submitted(hash);
  const view = await waitForTx(hash);
  return { hash, height: view.height ?? 0, chainId };
}
