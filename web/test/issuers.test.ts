// Issuer key transparency against test/vectors.json `endpoint_proof.issuer`: the
// provider's hotkey is also a credit issuer, with its record and 1-credit key proven
// at the certified tip (written and checked by
// api/tests/it/the_web_app_encodes_and_verifies_like_the_rust_crates.rs). A node that
// lists another RSA key (the attacker's: it would sign only this browser's tokens and so
// tag them) or another OHTTP key for the issuer's gateway is refused before anything is
// paid on chain, blinded or sealed, and nothing reaches the relay.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type * as api from '../src/lib/api';
import * as credits from '../src/lib/credits';
import { keypairFromSecret } from '../src/lib/keys';
import * as transparency from '../src/lib/transparency';

import vectorsJson from './vectors.json';

const v = (vectorsJson as unknown as { endpoint_proof: Record<string, any> }).endpoint_proof;
const iv = v.issuer;
const RELAY = 'http://127.0.0.1:9/relay';
const height: number = v.block.header.height;
const buyer = keypairFromSecret(new Uint8Array(32).fill(9));

/** localStorage for one test. */
function memoryStorage() {
  const store = new Map<string, string>();
  return {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, x: string) => void store.set(k, x),
    removeItem: (k: string) => void store.delete(k),
  };
}

/** The node as the vectors recorded it; `rewrite` lets a test lie about a path's answer. */
function node(rewrite: (path: string, body: any) => any = (_p, b) => b) {
  const answers: Record<string, unknown> = {
    '/v1/chain': v.chain,
    '/v1/status': { node: { finalized_height: height }, tip: null, version: 'test' },
    '/v1/subnets': v.subnets,
    [`/v1/subnets/${v.netuid}/metagraph`]: v.metagraph,
    [`/v1/blocks/${height}`]: v.block,
    [`/v1/blocks/${height}/finalization`]: v.finalization,
    '/v1/credits/issuers': iv.issuers,
    [`/v1/accounts/${buyer.address}`]: { address: buyer.address, balance: 1_000_000_000, nonce: 0 },
    [`/v1/proofs/issuer/${iv.hotkey}?height=${height}`]: iv.record,
    [`/v1/proofs/issuer-key/${iv.key_id}?height=${height}`]: iv.key,
    [`/v1/proofs/issuer-key/${iv.forged_key_id}?height=${height}`]: iv.forged_key,
  };
  return (path: string): unknown => {
    if (!(path in answers)) return undefined;
    return rewrite(path, structuredClone(answers[path]));
  };
}

/** A malicious node's issuer list: every issuer key with the attacker's RSA key. */
const forgeRsa = (path: string, body: any) => {
  if (path === '/v1/credits/issuers') for (const i of body.issuers) for (const k of i.keys) k.spki = iv.forged_spki;
  return body;
};
/** ...with the attacker's RSA key under its own id. */
const forgeRsaAndId = (path: string, body: any) => {
  if (path === '/v1/credits/issuers')
    for (const i of body.issuers)
      for (const k of i.keys) {
        k.spki = iv.forged_spki;
        k.key_id = iv.forged_key_id;
      }
  return body;
};
/** ...with the attacker's OHTTP key for every issuer's gateway. */
const forgeOhttp = (path: string, body: any) => {
  if (path === '/v1/credits/issuers') for (const i of body.issuers) i.ohttp_keys = v.forged_ohttp_keys;
  return body;
};

let relayHits = 0;
let payments = 0;
let served: (path: string) => unknown = node();
const realFetch = globalThis.fetch;

beforeEach(() => {
  relayHits = 0;
  payments = 0;
  served = node();
  vi.stubGlobal('localStorage', memoryStorage());
  // A clock a few seconds after the pinned tip was made.
  vi.spyOn(Date, 'now').mockReturnValue(v.block.header.timestamp_ms + 5_000);
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url === `${RELAY}/v1/relay/targets`) return new Response(JSON.stringify({ count: 1, targets: [{ hotkey: iv.hotkey, url: iv.url }] }), { status: 200 });
    if (url.startsWith(RELAY)) {
      relayHits++;
      return new Response('no gateway here', { status: 502 });
    }
    if ((init?.method ?? 'GET') !== 'GET') {
      payments++;
      return new Response(JSON.stringify({ error: { code: 'refused', message: 'test node' } }), { status: 400 });
    }
    const body = served(url);
    if (body === undefined) return new Response(JSON.stringify({ error: { code: 'not_found', message: url } }), { status: 404 });
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
});

afterEach(() => {
  globalThis.fetch = realFetch;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const listed = () => {
  const issuer = (served('/v1/credits/issuers') as api.Issuers).issuers[0];
  return { issuer, key: issuer.keys[0] };
};

/** A deposit this wallet paid into the issuer's key, as a node lists it. */
const deposit = (): api.Deposit => ({ id: 0, buyer: buyer.address, issuer: iv.hotkey, key_id: iv.key_id, credits: 10, tokens: 10, amount: 10, block: height });

describe('issuer key transparency', () => {
  it('a forged issuer key from a malicious node is never paid or blinded to', async () => {
    for (const [forgery, reason] of [
      [forgeRsa, /proves another RSA key/],
      [forgeRsaAndId, /holds no key/],
      [forgeOhttp, /proves another OHTTP key list/],
    ] as const) {
      served = node(forgery);
      const refused = await credits.buy(buyer, 10, RELAY).catch((e: unknown) => e);
      expect(payments, 'nothing was paid on chain').toBe(0);
      expect(relayHits, 'nothing reached the relay').toBe(0);
      expect(refused, String(reason)).toBeInstanceOf(transparency.IssuerKeyNotProvenError);
      expect(String((refused as Error).message)).toMatch(reason);
      expect(String((refused as Error).message)).toMatch(/nothing was paid/);
    }
    // A paid deposit is never blinded to the attacker's key nor sealed to its gateway key.
    for (const forgery of [forgeRsa, forgeOhttp]) {
      served = node(forgery);
      const refused = await credits.issue(buyer, deposit(), RELAY, 7n).catch((e: unknown) => e);
      expect(relayHits, 'nothing reached the relay').toBe(0);
      expect(refused).toBeInstanceOf(transparency.IssuerKeyNotProvenError);
    }
  });

  it('the issuer key the chain holds is proven', async () => {
    const { issuer, key } = listed();
    const proven = await transparency.proveIssuerKey(issuer, key, { buying: true });
    expect(proven.key.spki).toEqual(Uint8Array.from(Buffer.from(iv.spki, 'hex')));
    expect(proven.issuer.url).toBe(iv.url);
    expect(proven.issuer.keyIds).toEqual([iv.key_id]);
    expect(proven.key).toMatchObject({ denomination: 1, keyEpoch: 0, overIssued: false });
  });

  it('a forged issuer proof or header is refused', async () => {
    const { issuer, key } = listed();
    const lie = async (rewrite: (path: string, body: any) => any, reason: RegExp) => {
      served = node(rewrite);
      await expect(transparency.proveIssuerKey(issuer, key, { buying: true }), String(reason)).rejects.toThrow(reason);
    };
    // The key's value swapped for one holding the attacker's SPKI: the proof no longer leads to it.
    await lie((p, b) => {
      if (p.includes('/proofs/issuer-key/')) b.proof.value = b.proof.value.replace(iv.spki.slice(0, 200), iv.forged_spki.slice(0, 200));
      return b;
    }, /does not match the proof/);
    // The record's proof served for another state key.
    await lie((p, b) => (p.includes('/proofs/issuer/') ? structuredClone(v.endpoint) : b), /another state key/);
    // Proofs against a header other than the certified one.
    await lie((p, b) => {
      if (p.includes('/proofs/')) b.header.timestamp_ms += 1;
      return b;
    }, /not the certified header/);
  });

  it('the proven issuer and key decode as the ledger encodes them', () => {
    const record = Uint8Array.from(Buffer.from(iv.record.proof.value, 'hex'));
    expect(transparency.decodeIssuer(record).url).toBe(iv.url);
    expect(() => transparency.decodeIssuer(record.subarray(0, record.length - 1))).toThrow();
    expect(() => transparency.decodeIssuer(Uint8Array.of(...record, 0))).toThrow(/trailing/);
    const key = Uint8Array.from(Buffer.from(iv.key.proof.value, 'hex'));
    expect(transparency.decodeIssuerKey(key).keyId).toBe(iv.key_id);
    expect(() => transparency.decodeIssuerKey(Uint8Array.of(...key, 0))).toThrow(/trailing/);
  });
});
