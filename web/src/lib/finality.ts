// Finality certificates (types/src/finality.rs): a block is final when a quorum of the
// genesis validators signed its header digest in simplex's finalize vote. Checked here,
// byte for byte as commonware signs: varint(|ns|) ‖ ns ‖ varint(epoch) ‖ varint(view) ‖
// varint(parent view) ‖ digest, with ns = "plexus/consensus/v1/{chain id}_FINALIZE".

import { concat, hex, unhex, utf8 } from './bytes';
import { parseAddress, verify } from './keys';

export interface Certificate {
  epoch: number;
  view: number;
  parent_view: number;
  payload: string;
  signers: number[];
  signatures: string[];
}

function varint(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** Signatures needed out of `n` validators: n − ⌊(n − 1)/3⌋. */
export function quorum(n: number): number {
  return n - Math.floor(Math.max(0, n - 1) / 3);
}

/** The bytes each signer of `cert` signed on chain `chainId`. */
export function finalizeMessage(chainId: bigint, cert: Certificate): Uint8Array {
  const namespace = utf8(`plexus/consensus/v1/${chainId}_FINALIZE`);
  return concat(varint(BigInt(namespace.length)), namespace, varint(BigInt(cert.epoch)), varint(BigInt(cert.view)), varint(BigInt(cert.parent_view)), unhex(cert.payload));
}

export interface Finality {
  signed: number;
  quorum: number;
  validators: number;
  view: number;
}

/**
 * Check that `cert` finalizes the header with digest `headerDigest` (hex): a quorum of
 * `validators` (addresses, any order: signer indices count in the set sorted by key
 * bytes) signed it. Throws with the reason otherwise.
 */
export function verifyFinality(chainId: bigint, validators: string[], headerDigest: string, cert: Certificate): Finality {
  if (cert.payload !== headerDigest) throw new Error(`the certificate finalizes ${cert.payload}, not this header (${headerDigest})`);
  if (cert.signers.length !== cert.signatures.length) throw new Error(`${cert.signers.length} signers but ${cert.signatures.length} signatures`);
  const set = [...new Set(validators.map((v) => hex(parseAddress(v))))].sort();
  let previous = -1;
  for (const signer of cert.signers) {
    if (!Number.isInteger(signer) || signer <= previous || signer >= set.length) throw new Error(`signer ${signer} is repeated, out of order or not in the validator set`);
    previous = signer;
  }
  const need = quorum(set.length);
  if (cert.signers.length < need) throw new Error(`${cert.signers.length} of ${set.length} validators signed, fewer than the quorum of ${need}`);
  const message = finalizeMessage(chainId, cert);
  cert.signers.forEach((signer, i) => {
    if (!verify(unhex(set[signer]), message, unhex(cert.signatures[i]))) throw new Error(`the signature of validator ${signer} does not verify`);
  });
  return { signed: cert.signers.length, quorum: need, validators: set.length, view: cert.view };
}

/**
 * The validator set this browser trusts for the chain with `genesisDigest`: the one it
 * saw first (kept in localStorage). A node that later serves another set for the same
 * genesis is refused.
 */
export function trustedValidators(genesisDigest: string, served: string[], storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage): { validators: string[]; firstSeen: boolean } {
  const key = `plexus:validators:${genesisDigest}`;
  const sorted = [...served].sort();
  const pinned = storage.getItem(key);
  if (pinned === null) {
    storage.setItem(key, JSON.stringify(sorted));
    return { validators: sorted, firstSeen: true };
  }
  const known = JSON.parse(pinned) as string[];
  if (JSON.stringify(known) !== JSON.stringify(sorted)) throw new Error(`this node serves a validator set for genesis ${genesisDigest.slice(0, 12)}… that differs from the one this browser saw first: refusing it`);
  return { validators: known, firstSeen: false };
}
