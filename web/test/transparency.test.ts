// Key transparency against test/vectors.json `endpoint_proof`: a provider serving the
// `private` vectors' OHTTP key on subnet 1, with the tip's header, its finality
// certificate and the registration and endpoint proofs as the API serves them (written
// and checked by api/tests/it/the_web_app_encodes_and_verifies_like_the_rust_crates.rs).
// A node that lists another key (the attacker's) for that provider is refused before
// anything is sealed, and nothing reaches the relay.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { unhex } from '../src/lib/bytes';
import * as credits from '../src/lib/credits';
import type { Header } from '../src/lib/codec';
import { decodeKeyList } from '../src/lib/ohttp';
import * as priv from '../src/lib/private';
import * as transparency from '../src/lib/transparency';

import vectorsJson from './vectors.json';

const v = (vectorsJson as unknown as { endpoint_proof: Record<string, any> }).endpoint_proof;
const RELAY = 'http://127.0.0.1:9/relay';
const height: number = v.block.header.height;

/** A clock a few seconds after the pinned tip was made. */
const now = () => v.block.header.timestamp_ms + 5_000;

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
    [`/v1/proofs/registration/${v.netuid}/${v.hotkey}?height=${height}`]: v.registration,
    [`/v1/proofs/endpoint/${v.netuid}/${v.uid}?height=${height}`]: v.endpoint,
    [`/v1/proofs/registration/${v.netuid}/${v.unregistered.hotkey}?height=${height}`]: v.unregistered.registration,
  };
  return (path: string): unknown => {
    if (!(path in answers)) return undefined;
    return rewrite(path, structuredClone(answers[path]));
  };
}

/** The metagraph a malicious node serves: every provider listed with the attacker's key. */
const forgeMetagraph = (path: string, body: any) => {
  if (path.endsWith('/metagraph')) for (const n of body.neurons) if (n.endpoint) n.endpoint.ohttp_keys = v.forged_ohttp_keys;
  return body;
};

let relayHits = 0;
let served: (path: string) => unknown = node();
const realFetch = globalThis.fetch;

beforeEach(() => {
  relayHits = 0;
  served = node();
  transparency.clearProvenKeys();
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    const url = String(input);
    if (url.startsWith(RELAY)) {
      relayHits++;
      return new Response('no gateway here', { status: 502 });
    }
    const body = served(url);
    if (body === undefined) return new Response(JSON.stringify({ error: { code: 'not_found', message: url } }), { status: 404 });
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
});

afterEach(() => {
  globalThis.fetch = realFetch;
});

/** What the chat does with a provider the node listed: prove its key, then seal and send. */
async function chatWith(target: credits.ProviderTarget, storage = memoryStorage()): Promise<unknown> {
  let route: priv.Route;
  try {
    route = await transparency.provenRoute(RELAY, target, { storage, now });
  } catch (e) {
    return e;
  }
  const body = new TextEncoder().encode(credits.chatBody(target.model, [{ role: 'user', content: 'my secret' }], 8));
  await priv.sendStreamed(route, { method: 'POST', path: '/v1/chat/completions', body, tokens: [] }).catch(() => undefined);
  return undefined;
}

describe('key transparency', () => {
  it('a forged provider key from a malicious node is never sealed to', async () => {
    served = node(forgeMetagraph);
    const [listed] = await credits.providers();
    expect(listed.hotkey).toBe(v.hotkey);
    expect(listed.config.encoded).toEqual(decodeKeyList(unhex(v.forged_ohttp_keys))[0].encoded);
    const refused = await chatWith(listed);
    expect(refused).toBeInstanceOf(transparency.KeyNotProvenError);
    expect(String((refused as Error).message)).toMatch(/proves other keys/);
    expect(relayHits, 'nothing reached the relay').toBe(0);
  });

  it('the key the chain holds is proven and sealed to', async () => {
    const [listed] = await credits.providers();
    expect(await chatWith(listed)).toBeUndefined();
    expect(relayHits).toBe(1);
    const proven = await transparency.proveProviderKey(listed, { storage: memoryStorage(), now });
    expect(proven).toMatchObject({ uid: v.uid, url: 'http://127.0.0.1:8090', model: 'SmolLM2-135M-Instruct', operator: 'provider-operator' });
  });

  it('a provider the node lists but the chain does not register is refused', async () => {
    const [listed] = await credits.providers();
    const refused = await chatWith({ ...listed, hotkey: v.unregistered.hotkey });
    expect(String((refused as Error).message)).toMatch(/not registered on subnet 1/);
    expect(relayHits).toBe(0);
  });

  it('a forged proof, header or certificate is refused', async () => {
    const [listed] = await credits.providers();
    const lie = async (rewrite: (path: string, body: any) => any, reason: RegExp) => {
      transparency.clearProvenKeys();
      served = node(rewrite);
      const refused = await chatWith(listed);
      expect(refused, String(reason)).toBeInstanceOf(transparency.KeyNotProvenError);
      expect(String((refused as Error).message)).toMatch(reason);
    };
    // The endpoint value swapped for one holding the attacker's key: the proof no longer leads to it.
    await lie((p, b) => {
      if (p.includes('/proofs/endpoint/')) b.proof.value = b.proof.value.replace(v.ohttp_keys, v.forged_ohttp_keys);
      return b;
    }, /does not match the proof/);
    // A header with another state root (the attacker's own tree): its certificate does not cover it.
    await lie((p, b) => {
      if (p === `/v1/blocks/${height}`) b.header.state_root = '00'.repeat(32);
      return b;
    }, /not this header/);
    // A certificate the validator never signed.
    await lie((p, b) => {
      if (p.endsWith('/finalization')) b.certificate.signatures[0] = (b.certificate.signatures[0][0] === '0' ? '1' : '0') + b.certificate.signatures[0].slice(1);
      return b;
    }, /does not verify/);
    // Proofs against a header other than the certified one.
    await lie((p, b) => {
      if (p.includes('/proofs/')) (b.header as Header).timestamp_ms += 1;
      return b;
    }, /not the certified header/);
    // No certificate at all.
    await lie((p, b) => (p.endsWith('/finalization') ? undefined : b), /no finality certificate/);
    expect(relayHits).toBe(0);
  });

  it('a certified but stale state replayed by a node is refused', async () => {
    const [listed] = await credits.providers();
    const later = () => v.block.header.timestamp_ms + transparency.MAX_HEADER_AGE_MS + 60_000;
    await expect(transparency.proveProviderKey(listed, { storage: memoryStorage(), now: later })).rejects.toThrow(/replaying an old state/);
  });

  it('the first chain seen is pinned and a node serving other validators is refused', async () => {
    const storage = memoryStorage();
    const [listed] = await credits.providers();
    await transparency.proveProviderKey(listed, { storage, now });
    transparency.clearProvenKeys();
    served = node((p, b) => {
      if (p === '/v1/chain') b.validators = [{ ...b.validators[0], public_key: v.hotkey }];
      return b;
    });
    await expect(transparency.proveProviderKey(listed, { storage, now })).rejects.toThrow(/differs from the chain this browser pinned/);
    // A configured anchor wins over whatever the node serves.
    transparency.clearProvenKeys();
    const anchor = transparency.anchorOf(v.chain);
    await expect(transparency.proveProviderKey(listed, { storage: memoryStorage(), configured: anchor, now })).resolves.toMatchObject({ uid: v.uid });
  });

  it('a proven key is remembered per hotkey and key bytes', async () => {
    const [listed] = await credits.providers();
    await transparency.proveProviderKey(listed, { storage: memoryStorage(), now });
    served = () => undefined;
    await expect(transparency.proveProviderKey(listed, { storage: memoryStorage(), now })).resolves.toMatchObject({ uid: v.uid });
    const forged = decodeKeyList(unhex(v.forged_ohttp_keys))[0];
    await expect(transparency.proveProviderKey({ ...listed, config: forged }, { storage: memoryStorage(), now })).rejects.toThrow(transparency.KeyNotProvenError);
  });

  it('the proven endpoint decodes as the ledger encodes it', () => {
    const value = unhex(v.endpoint.proof.value);
    const e = transparency.decodeEndpoint(value);
    expect(e.ohttpKeys).toEqual(unhex(v.ohttp_keys));
    expect(e.weightsHash).toBe('5a'.repeat(32));
    expect(() => transparency.decodeEndpoint(value.subarray(0, value.length - 1))).toThrow();
    expect(() => transparency.decodeEndpoint(Uint8Array.of(...value, 0))).toThrow(/trailing/);
  });
});

// A chain whose validator set follows stake (test/vectors.json `hand_over`: epochs of
// four blocks; a newcomer bonds in epoch 0, a genesis validator unbonds in epoch 1):
// the browser trusts the genesis set only and follows each hand-over.
const ho = (vectorsJson as unknown as { hand_over: Record<string, any> }).hand_over;

function handOverNode(rewrite: (path: string, body: any) => any = (_p, b) => b) {
  const answers: Record<string, unknown> = {
    '/v1/chain': ho.chain,
    '/v1/status': { node: { finalized_height: ho.height }, tip: null, version: 'test' },
    [`/v1/blocks/${ho.height}`]: ho.block,
    [`/v1/blocks/${ho.height}/finalization`]: ho.finalization,
  };
  for (const step of ho.hand_overs) {
    answers[`/v1/proofs/validator-set/${step.epoch}`] = step.proof;
    answers[`/v1/blocks/${step.proof.header.height}/finalization`] = step.finalization;
  }
  return async <T>(path: string): Promise<T> => {
    if (!(path in answers)) throw new Error(`not served: ${path}`);
    return rewrite(path, structuredClone(answers[path])) as T;
  };
}

describe('validator sets followed through certified hand-overs', () => {
  beforeEach(() => transparency.forgetFollowedSets());

  it('each epoch set is followed from the genesis set and certifies the tip', async () => {
    const anchor = transparency.anchorOf(ho.chain);
    expect(anchor.epochLength).toBe(4n);
    for (const step of ho.hand_overs) {
      expect(await transparency.validatorSet(anchor, BigInt(step.epoch), handOverNode())).toEqual(step.set);
    }
    const header = await transparency.certifiedTip(anchor, handOverNode());
    expect(header.height).toBe(ho.height);
    // The genesis set alone does not certify a block of a later epoch.
    const fixed = { ...anchor, epochLength: 0n };
    await expect(transparency.certifiedTip(fixed, handOverNode())).rejects.toThrow(/epoch/);
  });

  it('a node that serves another epoch\'s hand-over is caught', async () => {
    const [first] = ho.hand_overs;
    const lying = handOverNode((path, body) => (path === '/v1/proofs/validator-set/2' ? structuredClone(first.proof) : body));
    await expect(transparency.validatorSet(transparency.anchorOf(ho.chain), 2n, lying)).rejects.toThrow(/boundary/);
  });

  it('a node that hands over to a set of its own is caught', async () => {
    // Its own keys sign the boundary block: the genesis set never did.
    const lying = handOverNode((path, body) => {
      if (path.endsWith('/finalization')) body.certificate.signatures = body.certificate.signatures.map(() => 'ab'.repeat(64));
      return body;
    });
    await expect(transparency.validatorSet(transparency.anchorOf(ho.chain), 1n, lying)).rejects.toThrow();
  });

  it('a late block vouched for under an older epoch is refused', async () => {
    const lying = handOverNode((path, body) => {
      if (path === `/v1/blocks/${ho.height}/finalization`) body.certificate.epoch = 0;
      return body;
    });
    await expect(transparency.certifiedTip(transparency.anchorOf(ho.chain), lying)).rejects.toThrow(new RegExp(`belongs to consensus epoch ${Math.floor(ho.height / 4)}`));
  });
});
