// The canonical transaction encoding of types/src/tx.rs and types/src/codec.rs:
// little-endian fixed-width integers, u32-length-prefixed byte strings, a u8 payload
// tag; signatures are ed25519 over "plexus/tx/v1" ‖ encoding; the id is blake3 of the
// signed encoding.

import { blake3 } from '@noble/hashes/blake3.js';

import { Writer, concat, hex, unhex, utf8 } from './bytes';
import { type Keypair, parseAddress, sign } from './keys';

export const TX_SIGNING_DOMAIN = utf8('plexus/tx/v1');
export const CREDIT_BUNDLES = [10, 100, 1000] as const;

/** The payloads the browser sends (tags as in `Payload::tag`). */
export type Payload =
  | { type: 'transfer'; to: string; amount: bigint }
  | { type: 'add_stake'; hotkey: string; amount: bigint }
  | { type: 'remove_stake'; hotkey: string; amount: bigint }
  | { type: 'buy_credits'; issuer: string; denomination: number; key_epoch: number; credits: number };

export interface Transaction {
  chain_id: bigint;
  sender: string;
  nonce: bigint;
  fee: bigint;
  payload: Payload;
}

export function encodePayload(p: Payload, w: Writer = new Writer()): Writer {
  switch (p.type) {
    case 'transfer':
      return w.u8(0).raw(parseAddress(p.to)).u64(p.amount);
    case 'add_stake':
      return w.u8(5).raw(parseAddress(p.hotkey)).u64(p.amount);
    case 'remove_stake':
      return w.u8(6).raw(parseAddress(p.hotkey)).u64(p.amount);
    case 'buy_credits':
      return w.u8(16).raw(parseAddress(p.issuer)).u32(p.denomination).u32(p.key_epoch).u32(p.credits);
  }
}

export function encodeTransaction(tx: Transaction): Uint8Array {
  const w = new Writer().u64(tx.chain_id).raw(parseAddress(tx.sender)).u64(tx.nonce).u64(tx.fee);
  return encodePayload(tx.payload, w).finish();
}

export function signingBytes(tx: Transaction): Uint8Array {
  return concat(TX_SIGNING_DOMAIN, encodeTransaction(tx));
}

export interface SignedTransaction {
  encoded: Uint8Array;
  hash: string;
}

export function signTransaction(tx: Transaction, key: Keypair): SignedTransaction {
  if (key.address !== tx.sender) throw new Error('the key does not control the sender');
  const signature = sign(key, signingBytes(tx));
  const encoded = concat(encodeTransaction(tx), signature);
  return { encoded, hash: hex(blake3(encoded)) };
}

/** `issuance_signing_bytes` of types/src/credits.rs. */
export function issuanceSigningBytes(chainId: bigint, deposit: bigint, requests: Uint8Array[]): Uint8Array {
  const h = blake3.create();
  for (const r of requests) {
    h.update(new Writer().u32(r.length).finish());
    h.update(r);
  }
  return new Writer().raw(utf8('plexus/credits/issue/v1')).u64(chainId).u64(deposit).raw(h.digest()).finish();
}

/** Most token requests one issuance batch carries (`plexus_types::credits::ISSUANCE_BATCH`). */
export const ISSUANCE_BATCH = 100;

/**
 * `issuance_batch_signing_bytes`: "plexus/credits/issue/v2" ‖ chain id ‖ deposit ‖
 * first token (u32) ‖ blake3(requests), what the buyer signs for one batch.
 */
export function issuanceBatchSigningBytes(chainId: bigint, deposit: bigint, first: number, requests: Uint8Array[]): Uint8Array {
  const whole = issuanceSigningBytes(chainId, deposit, requests);
  return new Writer().raw(utf8('plexus/credits/issue/v2')).u64(chainId).u64(deposit).u32(first).raw(whole.slice(whole.length - 32)).finish();
}

/** A block header as the API serves it. */
export interface Header {
  chain_id: number;
  height: number;
  parent: string;
  timestamp_ms: number;
  proposer: string;
  tx_root: string;
  state_root: string;
  consensus: string;
}

/** `BlockHeader::digest`: blake3("plexus/block/v1" ‖ encoding). */
export function headerDigest(h: Header): string {
  const enc = new Writer()
    .raw(utf8('plexus/block/v1'))
    .u64(BigInt(h.chain_id))
    .u64(BigInt(h.height))
    .raw(unhex(h.parent))
    .u64(BigInt(h.timestamp_ms))
    .raw(parseAddress(h.proposer))
    .raw(unhex(h.tx_root))
    .raw(unhex(h.state_root))
    .bytes(unhex(h.consensus))
    .finish();
  return hex(blake3(enc));
}

/** Base units per PLX (types: 9 decimals). */
export const PLX = 1_000_000_000n;

export function formatPlx(units: bigint | number): string {
  const u = BigInt(units);
  const whole = u / PLX;
  const frac = (u % PLX).toString().padStart(9, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

export function parsePlx(text: string): bigint {
  const t = text.trim();
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(t);
  if (!m) throw new Error(`not an amount of PLX: ${t}`);
  return BigInt(m[1]) * PLX + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}
