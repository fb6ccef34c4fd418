// Verify the node's state proofs in the browser, as plexus_storage::verify_proof and
// the client's `check` do: the header must be the finalized block's (its digest equals
// the digest the chain lists at that height), its state root must be the proof's root,
// and the jmt sparse Merkle proof (borsh-encoded, SHA-256) must lead from the key's
// leaf to that root.

import { sha256 } from '@noble/hashes/sha2.js';

import type { Header } from './codec';
import { headerDigest } from './codec';
import { concat, equal, hex, readU64LE, unhex, utf8 } from './bytes';
import { parseAddress } from './keys';

const LEAF = utf8('JMT::LeafNode');
const INTERNAL = utf8('JMT::IntrnalNode');
const PLACEHOLDER = utf8('SPARSE_MERKLE_PLACEHOLDER_HASH__');
const MAX_PROOF_BYTES = 256 * 65 + 128;

type Node = { kind: 'null' } | { kind: 'internal'; left: Uint8Array; right: Uint8Array } | { kind: 'leaf'; keyHash: Uint8Array; valueHash: Uint8Array };

interface SparseProof {
  leaf?: { keyHash: Uint8Array; valueHash: Uint8Array };
  siblings: Node[];
}

/** Decode the borsh encoding of `jmt::proof::SparseMerkleProof<Sha256>`. */
export function decodeSparseProof(bytes: Uint8Array): SparseProof {
  if (bytes.length > MAX_PROOF_BYTES) throw new Error('proof too large');
  let at = 0;
  const take = (n: number) => {
    if (at + n > bytes.length) throw new Error('proof truncated');
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const out: SparseProof = { siblings: [] };
  const tag = take(1)[0];
  if (tag === 1) out.leaf = { keyHash: take(32), valueHash: take(32) };
  else if (tag !== 0) throw new Error('proof: bad option tag');
  const n = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
  take(4);
  if (n > 256) throw new Error('proof has more than 256 siblings');
  for (let i = 0; i < n; i++) {
    const kind = take(1)[0];
    if (kind === 0) out.siblings.push({ kind: 'null' });
    else if (kind === 1) out.siblings.push({ kind: 'internal', left: take(32), right: take(32) });
    else if (kind === 2) out.siblings.push({ kind: 'leaf', keyHash: take(32), valueHash: take(32) });
    else throw new Error('proof: bad node tag');
  }
  if (at !== bytes.length) throw new Error('proof: trailing bytes');
  return out;
}

const leafHash = (k: Uint8Array, v: Uint8Array) => sha256(concat(LEAF, k, v));
const internalHash = (l: Uint8Array, r: Uint8Array) => sha256(concat(INTERNAL, l, r));
function nodeHash(n: Node): Uint8Array {
  if (n.kind === 'null') return PLACEHOLDER;
  if (n.kind === 'internal') return internalHash(n.left, n.right);
  return leafHash(n.keyHash, n.valueHash);
}

const bit = (h: Uint8Array, i: number) => ((h[i >> 3] >> (7 - (i & 7))) & 1) === 1;
function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  while (i < 256 && bit(a, i) === bit(b, i)) i++;
  return i;
}

/** `SparseMerkleProof::verify`: throws unless the proof shows `value` (or its absence) under `key` in `root`. */
export function verifySparse(root: Uint8Array, key: Uint8Array, value: Uint8Array | null, proof: SparseProof): void {
  const keyHash = sha256(key);
  if (value !== null) {
    if (!proof.leaf) throw new Error('expected an inclusion proof, found an exclusion proof');
    if (!equal(proof.leaf.keyHash, keyHash)) throw new Error('the proof is for another key');
    if (!equal(proof.leaf.valueHash, sha256(value))) throw new Error('the value does not match the proof');
  } else if (proof.leaf) {
    if (equal(proof.leaf.keyHash, keyHash)) throw new Error('expected an exclusion proof, but the key exists');
    if (commonPrefixBits(keyHash, proof.leaf.keyHash) < proof.siblings.length) throw new Error('not a valid exclusion proof');
  }
  let current = proof.leaf ? leafHash(proof.leaf.keyHash, proof.leaf.valueHash) : PLACEHOLDER;
  const n = proof.siblings.length;
  for (let j = 0; j < n; j++) {
    const sibling = nodeHash(proof.siblings[j]);
    current = bit(keyHash, n - 1 - j) ? internalHash(sibling, current) : internalHash(current, sibling);
  }
  if (!equal(current, root)) throw new Error(`the proof leads to root ${hex(current)}, not ${hex(root)}`);
}

/** `account_key`: [0x01, 0x00] ‖ account. */
export function accountKey(address: string): Uint8Array {
  return concat(Uint8Array.of(0x01, 0x00), parseAddress(address));
}

export interface VerifiedAccount {
  balance: bigint;
  nonce: bigint;
  height: number;
  stateRoot: string;
  headerDigest: string;
  siblings: number;
  inclusion: boolean;
}

/**
 * Check a `/v1/proofs/account/{address}` answer against `finalizedDigest`, the digest the
 * chain lists for that height (`/v1/blocks/{height}`), and decode the proven account.
 */
export function verifyAccountProof(
  address: string,
  response: { proof: { height: number; root: string; key: string; value: string | null; proof: string }; header: Header },
  finalizedDigest: string,
): VerifiedAccount {
  const { proof, header } = response;
  const key = accountKey(address);
  if (!equal(unhex(proof.key), key)) throw new Error('the proof is for another state key');
  if (proof.height !== header.height) throw new Error(`the proof is at height ${proof.height} but the header at ${header.height}`);
  const digest = headerDigest(header);
  if (digest !== finalizedDigest) throw new Error(`the served header ${digest} is not the finalized block ${finalizedDigest}`);
  if (proof.root !== header.state_root) throw new Error('the proof root is not the header state root');
  const value = proof.value === null ? null : unhex(proof.value);
  verifySparse(unhex(header.state_root), key, value, decodeSparseProof(unhex(proof.proof)));
  let balance = 0n;
  let nonce = 0n;
  if (value !== null) {
    if (value.length !== 16) throw new Error('the proven account does not decode');
    balance = readU64LE(value, 0);
    nonce = readU64LE(value, 8);
  }
  return {
    balance,
    nonce,
    height: header.height,
    stateRoot: header.state_root,
    headerDigest: digest,
    siblings: decodeSparseProof(unhex(proof.proof)).siblings.length,
    inclusion: value !== null,
  };
}
