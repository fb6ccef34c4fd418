// Credits: buy a bundle on chain and fetch blind-signed Privacy Pass tokens through a
// relay, exactly as plexus_session::issuance does; keep unspent tokens sealed in this
// browser; pick a provider and pay it per request (plexus_session::Session).

import { TokenChallenge, publicVerif } from '@cloudflare/privacypass-ts';

import * as api from './api';
import { fresh, hex, unhex, utf8 } from './bytes';
import { CREDIT_BUNDLES, ISSUANCE_BATCH, issuanceBatchSigningBytes } from './codec';
import { type Keypair, sign } from './keys';
import type { KeyConfig } from './ohttp';
import type { Party } from './operator';
import * as priv from './private';
import { IssuerKeyNotProvenError, proveIssuerKey } from './transparency';
import * as vault from './vault';

export const TOKEN_TYPE = 0x0002;
export const TOKENS_PER_CREDIT = 512;
export const DEFAULT_MAX_TOKENS = 256;
export const ISSUE_PATH = '/v1/issue';

export interface StoredCredit {
  issuer: string;
  origin: string;
  denomination: number;
  token: string;
}

const storeId = (address: string) => `credits:${address}`;

export async function stored(address: string): Promise<StoredCredit[]> {
  return (await vault.getValue<StoredCredit[]>(storeId(address))) ?? [];
}

async function saveStore(address: string, credits: StoredCredit[]): Promise<void> {
  await vault.put(storeId(address), credits);
}

export async function perOrigin(address: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const c of await stored(address)) out.set(c.origin, (out.get(c.origin) ?? 0) + c.denomination);
  return out;
}

export async function balance(address: string): Promise<number> {
  return [...(await perOrigin(address)).values()].reduce((a, b) => a + b, 0);
}

export interface ProviderTarget {
  hotkey: string;
  model: string;
  config: KeyConfig;
  operator: string;
  netuid: number;
  /** Its gateway's URL on chain, to compare with the relay's. */
  url: string;
  /** The account that owns its hotkey. */
  coldkey: string;
  role: 'provider';
}

/** Every provider with an OHTTP key on chain (any subnet but data subnets). */
export async function providers(): Promise<ProviderTarget[]> {
  const out: ProviderTarget[] = [];
  const { subnets } = await api.get<{ subnets: api.Subnet[] }>('/v1/subnets');
  for (const s of subnets) {
    if (s.mechanism === 'data') continue;
    const mg = await api.get<api.Metagraph>(`/v1/subnets/${s.netuid}/metagraph`);
    for (const n of mg.neurons) {
      if (!n.endpoint) continue;
      let configs: KeyConfig[];
      try {
        configs = priv.decodeConfigList(n.endpoint.ohttp_keys);
      } catch {
        continue;
      }
      // The last published key: the newest after a rotation.
      out.push({ hotkey: n.hotkey, model: n.endpoint.model, config: configs[configs.length - 1], operator: n.endpoint.operator, netuid: s.netuid, url: n.endpoint.url, coldkey: n.coldkey, role: 'provider' });
    }
  }
  return out;
}

/**
 * Everyone serving at a URL on chain (every neuron endpoint on every subnet, every
 * issuer), with its owner, to tell who may run a relay's host.
 */
export async function chainParties(): Promise<Party[]> {
  const out: Party[] = [];
  const { subnets } = await api.get<{ subnets: api.Subnet[] }>('/v1/subnets');
  const coldkeys = new Map<string, string>();
  for (const s of subnets) {
    const mg = await api.get<api.Metagraph>(`/v1/subnets/${s.netuid}/metagraph`);
    for (const n of mg.neurons) {
      coldkeys.set(n.hotkey, n.coldkey);
      if (n.endpoint?.url) out.push({ url: n.endpoint.url, hotkey: n.hotkey, coldkey: n.coldkey, operator: n.endpoint.operator, role: s.mechanism === 'data' ? 'data neuron' : 'provider' });
    }
  }
  for (const i of (await api.get<api.Issuers>('/v1/credits/issuers')).issuers) {
    if (i.url) out.push({ url: i.url, hotkey: i.hotkey, coldkey: coldkeys.get(i.hotkey), role: 'issuer' });
  }
  return out;
}

function pick<T>(items: T[]): T | undefined {
  if (items.length === 0) return undefined;
  const r = crypto.getRandomValues(new Uint32Array(1))[0];
  return items[r % items.length];
}

export async function relayTargets(relay: string): Promise<string[]> {
  const res = await fetch(`${relay.replace(/\/+$/, '')}/v1/relay/targets`, { credentials: 'omit', cache: 'no-store' });
  if (!res.ok) throw new Error(`the relay at ${relay} answered HTTP ${res.status}`);
  const body = (await res.json()) as { targets: { hotkey: string }[] };
  return body.targets.map((t) => t.hotkey);
}

async function waitForListing(relay: string, issuer: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let targets: string[];
    try {
      targets = await relayTargets(relay);
    } catch (e) {
      throw new Error(`cannot reach the relay at ${relay}; nothing was paid (${String(e)})`);
    }
    if (targets.includes(issuer)) return;
    if (Date.now() > until) throw new Error(`the relay at ${relay} does not list issuer ${issuer}; nothing was paid, try again shortly`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export type Progress = (step: string) => void;

/** Pay for `credits` on chain and fetch the tokens through `relay`. */
export async function buy(key: Keypair, credits: number, relay: string, progress: Progress = () => {}): Promise<{ tokens: number; deposit: api.Deposit; txHash: string }> {
  if (!(CREDIT_BUNDLES as readonly number[]).includes(credits)) throw new Error('credits come in bundles of 10, 100 or 1000');
  progress('Finding an issuer');
  const list = await api.get<api.Issuers>('/v1/credits/issuers');
  // The chain sells only the current key epoch's key; the next one is published ahead.
  const onSale = (k: api.IssuerKeyInfo) => k.denomination === 1 && k.on_sale !== false;
  const chosen = pick(list.issuers.filter((i) => i.keys.some(onSale)));
  if (!chosen) throw new Error('no credit issuer with a 1-credit key on sale is on chain yet');
  const issuerKey = chosen.keys.filter(onSale).sort((a, b) => a.key_epoch - b.key_epoch)[0];
  progress('Proving the issuer and its key on chain');
  await proveIssuerKey(chosen, issuerKey, { buying: true });
  if ((await providers()).length === 0) throw new Error('no provider serves privately yet');
  progress('Checking that the relay reaches the issuer');
  await waitForListing(relay, chosen.hotkey);
  progress('Paying on chain (BuyCredits)');
  const included = await api.sendPayload(key, { type: 'buy_credits', issuer: chosen.hotkey, denomination: 1, key_epoch: issuerKey.key_epoch, credits });
  const txHash = included.hash;
  const deposits = await api.get<{ deposits: api.Deposit[] }>(`/v1/credits/deposits?buyer=${key.address}`);
  const deposit = deposits.deposits.find((d) => d.block === included.height && d.issuer === chosen.hotkey);
  if (!deposit) throw new Error('the purchase finalized but its deposit is not on chain');
  if (deposit.key_id !== issuerKey.key_id) throw new IssuerKeyNotProvenError(chosen.hotkey, `the node says deposit ${deposit.id} paid another key`);
  progress(`Fetching ${deposit.tokens} blind-signed tokens through the relay`);
  const bought = await fetchDeposit(key, deposit, relay, included.chainId);
  return { tokens: bought.length, deposit, txHash };
}

const issuedId = (address: string) => `issued:${address}`;

/** Deposit ids whose tokens this browser fetched. */
export async function fetchedDeposits(address: string): Promise<number[]> {
  return (await vault.getValue<number[]>(issuedId(address))) ?? [];
}

/** Issue a paid deposit's tokens and keep them (also `plexus credits buy --resume`). */
export async function fetchDeposit(key: Keypair, deposit: api.Deposit, relay: string, chainId?: bigint): Promise<StoredCredit[]> {
  if (deposit.buyer !== key.address) throw new Error(`deposit ${deposit.id} was paid by another wallet`);
  const id = chainId ?? BigInt((await api.get<api.Chain>('/v1/chain')).chain_id);
  const bought = await issue(key, deposit, relay, id);
  await saveStore(key.address, [...(await stored(key.address)), ...bought]);
  await vault.put(issuedId(key.address), [...new Set([...(await fetchedDeposits(key.address)), deposit.id])]);
  return bought;
}

/** Ask the deposit's issuer, through the relay, to sign its tokens (retried a while). */
export async function issue(key: Keypair, deposit: api.Deposit, relay: string, chainId: bigint): Promise<StoredCredit[]> {
  const list = await api.get<api.Issuers>('/v1/credits/issuers');
  const issuer = list.issuers.find((i) => i.hotkey === deposit.issuer);
  if (!issuer) throw new Error("the deposit's issuer is no longer on chain");
  const ik = issuer.keys.find((k) => k.key_id === deposit.key_id);
  if (!ik) throw new Error("the deposit's issuer key is not on chain");
  // Blind only with, and seal only to, keys the chain holds.
  await proveIssuerKey(issuer, ik, { buying: false });
  const configs = priv.decodeConfigList(issuer.ohttp_keys);
  const route = priv.viaRelay(relay, issuer.hotkey, configs[configs.length - 1]);
  const targets = await providers();
  if (targets.length === 0) throw new Error('no provider serves privately yet');
  const spki = fresh(unhex(ik.spki));
  // One random provider per token, inside the blinded message: the issuer never learns which.
  // Blinded once: a retry resends the same batches (the issuer answers a served batch again
  // and refuses other requests for its tokens).
  const origins = Array.from({ length: deposit.tokens }, () => pick(targets)!.hotkey);
  const clients: publicVerif.Client[] = [];
  const requests: Uint8Array[] = [];
  for (const origin of origins) {
    const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
    const challenge = new TokenChallenge(TOKEN_TYPE, issuer.hotkey, new Uint8Array(0), [origin]);
    requests.push((await client.createTokenRequest(challenge, spki)).serialize());
    clients.push(client);
  }
  // Batches of ISSUANCE_BATCH tokens, one signed request each, so every bundle fits the
  // private path's largest padded request.
  const answers: (string[] | undefined)[] = [];
  let lastError: unknown;
  for (let attempt = 1; attempt <= 10; attempt++) {
    try {
      for (let first = 0; first < requests.length; first += ISSUANCE_BATCH) {
        const index = first / ISSUANCE_BATCH;
        if (answers[index]) continue;
        const batch = requests.slice(first, first + ISSUANCE_BATCH);
        const signature = sign(key, issuanceBatchSigningBytes(chainId, BigInt(deposit.id), first, batch));
        const body = JSON.stringify({ deposit: deposit.id, first, token_requests: batch.map(hex), signature: hex(signature) });
        const answer = await priv.send(route, { method: 'POST', path: ISSUE_PATH, body: utf8(body), tokens: [] });
        const text = new TextDecoder().decode(answer.body);
        if (answer.status !== 200) {
          let message = text;
          try {
            message = (JSON.parse(text) as { error: { message: string } }).error.message;
          } catch {
            // keep the raw text
          }
          throw new Error(`the issuer refused: HTTP ${answer.status}: ${message}`);
        }
        const { token_responses } = JSON.parse(text) as { token_responses: string[] };
        if (token_responses.length !== batch.length) throw new Error('the issuer answered the wrong number of tokens');
        answers[index] = token_responses;
      }
      const responses = answers.flatMap((a) => a ?? []);
      const out: StoredCredit[] = [];
      for (let i = 0; i < clients.length; i++) {
        const response = clients[i].deserializeTokenResponse(fresh(unhex(responses[i])));
        const token = await clients[i].finalize(response);
        out.push({ issuer: issuer.hotkey, origin: origins[i], denomination: 1, token: hex(token.serialize()) });
      }
      return out;
    } catch (e) {
      lastError = e;
      if (String(e).includes('HTTP 409')) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  throw new Error(`deposit ${deposit.id} is paid but its tokens were not issued (${String(lastError)}); the funds stay in escrow`);
}

/** Request body bytes one credit pays for (a prompt of n bytes is at most n tokens). */
export const BODY_BYTES_PER_CREDIT = 16384;
/** Embedding inputs one credit pays for. */
export const EMBEDDING_INPUTS_PER_CREDIT = 256;
/** `max_tokens` a chat completion naming none is priced at (and served with). */
export const DEFAULT_CHAT_MAX_TOKENS = 512;
/** `max_tokens` of a text completion naming none. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

/**
 * Credits a request to `path` with `body` costs, the one pricing rule of the private
 * path (`plexus_types::credits::credits_for`, pinned by test/vectors.json `pricing`):
 * ceil(output limit / 512) + ceil(embedding inputs / 256) + floor(body bytes / 16384),
 * at least 1; the model list is free. The output limit of a chat is
 * `max_completion_tokens` when it is a whole number, else `max_tokens`, else 512; of a
 * text completion `max_tokens`, else 16; embeddings have none.
 */
export function creditsFor(body: string, path = '/v1/chat/completions'): number {
  const route = path.split('?')[0];
  if (route === '/v1/models') return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const field = (key: string): unknown =>
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)[key]
      : undefined;
  const limit = (key: string): number | undefined => {
    const value = field(key);
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  };
  let output = 0;
  let inputs = 0;
  // Every choice (`n`) is a whole answer.
  const choices = Math.max(1, limit('n') ?? 1);
  if (route === '/v1/completions') {
    output = (limit('max_tokens') ?? DEFAULT_COMPLETION_MAX_TOKENS) * choices;
  } else if (route === '/v1/embeddings') {
    const input = field('input');
    // An array of numbers is one input as token ids.
    inputs = Array.isArray(input) && typeof input[0] !== 'number' ? input.length : 1;
  } else {
    output = (limit('max_completion_tokens') ?? limit('max_tokens') ?? DEFAULT_CHAT_MAX_TOKENS) * choices;
  }
  const bytes = new TextEncoder().encode(body).length;
  const credits =
    Math.ceil(output / TOKENS_PER_CREDIT) +
    Math.ceil(inputs / EMBEDDING_INPUTS_PER_CREDIT) +
    Math.floor(bytes / BODY_BYTES_PER_CREDIT);
  return Math.max(1, credits);
}

/** Take tokens bound to `origin` worth at least `need`, or none. */
export async function take(address: string, origin: string, need: number): Promise<StoredCredit[] | undefined> {
  const all = await stored(address);
  const picked: StoredCredit[] = [];
  const rest: StoredCredit[] = [];
  let have = 0;
  for (const c of all) {
    if (have < need && c.origin === origin) {
      picked.push(c);
      have += c.denomination;
    } else rest.push(c);
  }
  if (have < need) return undefined;
  await saveStore(address, rest);
  return picked;
}

export async function giveBack(address: string, credits: StoredCredit[]): Promise<void> {
  await saveStore(address, [...(await stored(address)), ...credits]);
}

export interface ChatMessage {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

/** The request body exactly as `plexus chat` and validators' probes send it (keys sorted). */
export function chatBody(model: string, messages: ChatMessage[], maxTokens: number): string {
  return JSON.stringify({
    max_tokens: maxTokens,
    messages: messages.map((m) => ({ content: m.content, role: m.role })),
    model,
    stream: true,
    temperature: 0,
  });
}
