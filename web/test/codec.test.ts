// The transaction encoder, issuance signing bytes, header digest and proof verifier
// against test/vectors.json, which the Rust crates produce and check
// (api/tests/it/the_web_app_encodes_and_verifies_like_the_rust_crates.rs).

import { describe, expect, it } from 'vitest';

import { hex, unhex } from '../src/lib/bytes';
import { encodeTransaction, formatPlx, headerDigest, issuanceBatchSigningBytes, issuanceSigningBytes, parsePlx, signTransaction, type Transaction } from '../src/lib/codec';
import { keypairFromSecret } from '../src/lib/keys';
import { decodeSparseProof, verifyAccountProof } from '../src/lib/proof';

import vectorsJson from './vectors.json';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const vectors = vectorsJson as any;
const key = keypairFromSecret(unhex(vectors.key.secret));

describe('transactions', () => {
  it('the key matches the pinned address', () => {
    expect(key.address).toBe(vectors.key.address);
  });

  const cases: [string, Transaction][] = [
    ['transfer', { chain_id: 7n, sender: key.address, nonce: 3n, fee: 1000n, payload: { type: 'transfer', to: key.address, amount: 123456789n } }],
    ['buy_credits', { chain_id: 7n, sender: key.address, nonce: 4n, fee: 1000n, payload: { type: 'buy_credits', issuer: key.address, denomination: 1, key_epoch: 2, credits: 10 } }],
    ['add_stake', { chain_id: 7n, sender: key.address, nonce: 5n, fee: 1000n, payload: { type: 'add_stake', hotkey: key.address, amount: 42_000_000_000n } }],
    ['remove_stake', { chain_id: 7n, sender: key.address, nonce: 6n, fee: 1000n, payload: { type: 'remove_stake', hotkey: key.address, amount: 1n } }],
  ];
  for (const [name, tx] of cases) {
    it(`${name} encodes, signs and hashes as the Rust types crate does`, () => {
      expect(hex(encodeTransaction(tx))).toBe(vectors[name].unsigned);
      const signed = signTransaction(tx, key);
      expect(hex(signed.encoded)).toBe(vectors[name].signed);
      expect(signed.hash).toBe(vectors[name].hash);
    });
  }

  it('issuance signing bytes match', () => {
    const v = vectors.issuance;
    expect(hex(issuanceSigningBytes(BigInt(v.chain_id), BigInt(v.deposit), v.requests.map(unhex)))).toBe(v.bytes);
  });

  it('issuance batch signing bytes match plexus_types (pinned in types/src/credits.rs)', () => {
    const v = vectors.issuance;
    expect(hex(issuanceBatchSigningBytes(BigInt(v.chain_id), BigInt(v.deposit), 100, v.requests.map(unhex)))).toBe(
      '706c657875732f637265646974732f69737375652f76320700000000000000020000000000000064000000cf505e12a05343652ca824b0a9b528f3a7990cdb19050934d76a7a97d1bea23f',
    );
  });

  it('header digests match', () => {
    expect(headerDigest(vectors.header.header)).toBe(vectors.header.digest);
  });

  it('amounts format and parse like format_plx', () => {
    expect(formatPlx(3_000_000_000n)).toBe('3');
    expect(formatPlx(1_500_000_001n)).toBe('1.500000001');
    expect(parsePlx('1.5')).toBe(1_500_000_000n);
    expect(() => parsePlx('1.0000000001')).toThrow();
  });
});

describe('state proofs', () => {
  const p = vectors.account_proof;
  it('a real account proof verifies against its finalized header and decodes the balance', () => {
    const v = verifyAccountProof(p.address, p.response, p.digest);
    expect(v.balance).toBe(BigInt(p.balance));
    expect(v.nonce).toBe(BigInt(p.nonce));
    expect(v.inclusion).toBe(true);
  });

  it('an exclusion proof verifies with a zero balance', () => {
    const a = vectors.absent_proof;
    const v = verifyAccountProof(a.address, a.response, headerDigest(a.response.header));
    expect(v.inclusion).toBe(false);
    expect(v.balance).toBe(0n);
  });

  it('a header other than the finalized one is refused', () => {
    expect(() => verifyAccountProof(p.address, p.response, '00'.repeat(32))).toThrow(/finalized/);
  });

  it('a tampered value, sibling, root or key is refused', () => {
    const clone = () => JSON.parse(JSON.stringify(p.response));
    const value = clone();
    value.proof.value = value.proof.value.replace(/^../, (b: string) => ((parseInt(b, 16) ^ 1) & 0xff).toString(16).padStart(2, '0'));
    expect(() => verifyAccountProof(p.address, value, p.digest)).toThrow();
    const sibling = clone();
    const bytes = unhex(sibling.proof.proof);
    bytes[bytes.length - 1] ^= 1;
    sibling.proof.proof = hex(bytes);
    expect(() => verifyAccountProof(p.address, sibling, p.digest)).toThrow();
    const root = clone();
    root.header.state_root = '00'.repeat(32);
    expect(() => verifyAccountProof(p.address, root, headerDigest(root.header))).toThrow();
    expect(() => verifyAccountProof(vectors.absent_proof.address, p.response, p.digest)).toThrow(/another state key/);
  });

  it('malformed proofs are refused before hashing', () => {
    expect(() => decodeSparseProof(Uint8Array.of(2))).toThrow();
    expect(() => decodeSparseProof(Uint8Array.of(0, 1, 0, 0, 0))).toThrow(/truncated/);
    expect(() => decodeSparseProof(Uint8Array.of(0, 0, 0, 0, 0, 9))).toThrow(/trailing/);
  });
});
