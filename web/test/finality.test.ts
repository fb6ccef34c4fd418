// Finality certificates against test/finality.json: a certificate commonware's simplex
// types made (3 of 4 validators), pinned by
// node/tests/it/finality_certificates_from_commonware_check_out_in_the_light_client.rs.

import { describe, expect, it } from 'vitest';

import { hex } from '../src/lib/bytes';
import { type Certificate, finalizeMessage, quorum, trustedValidators, verifyFinality } from '../src/lib/finality';

import v from './finality.json';

const chainId = BigInt(v.chain_id);
const cert = v.certificate as Certificate;

describe('finality certificates', () => {
  it('sign the bytes commonware signs', () => {
    expect(hex(finalizeMessage(chainId, cert))).toBe(v.message);
  });

  it('a quorum of the validators finalized the header', () => {
    expect(verifyFinality(chainId, v.validators, v.header_digest, cert)).toEqual({ signed: 3, quorum: 3, validators: 4, view: 300 });
  });

  it('another header, chain, view, a missing signer or a moved signature is refused', () => {
    expect(() => verifyFinality(chainId, v.validators, '00'.repeat(32), cert)).toThrow(/not this header/);
    expect(() => verifyFinality(chainId + 1n, v.validators, v.header_digest, cert)).toThrow(/does not verify/);
    expect(() => verifyFinality(chainId, v.validators, v.header_digest, { ...cert, view: cert.view + 1 })).toThrow(/does not verify/);
    expect(() => verifyFinality(chainId, v.validators, v.header_digest, { ...cert, signers: cert.signers.slice(1), signatures: cert.signatures.slice(1) })).toThrow(/quorum of 3/);
    expect(() => verifyFinality(chainId, v.validators, v.header_digest, { ...cert, signatures: [cert.signatures[1], cert.signatures[0], cert.signatures[2]] })).toThrow(/does not verify/);
    expect(() => verifyFinality(chainId, v.validators, v.header_digest, { ...cert, signers: [1, 1, 3] })).toThrow(/repeated/);
    expect(() => verifyFinality(chainId, v.validators.slice(0, 3), v.header_digest, cert)).toThrow(/not in the validator set/);
  });

  it('quorum is n − f', () => {
    expect([1, 2, 3, 4, 5, 7, 10, 100].map(quorum)).toEqual([1, 2, 3, 3, 4, 5, 7, 67]);
  });

  it('the first validator set seen for a genesis is kept and a different one refused', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, x: string) => void store.set(k, x) };
    expect(trustedValidators('ab', v.validators, storage).firstSeen).toBe(true);
    expect(trustedValidators('ab', [...v.validators].reverse(), storage).firstSeen).toBe(false);
    expect(() => trustedValidators('ab', v.validators.slice(1), storage)).toThrow(/differs/);
  });
});
