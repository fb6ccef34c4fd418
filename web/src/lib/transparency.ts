// Key transparency, as plexus_client's TrustAnchor and Session::prove_key: the browser
// seals a prompt only to an OHTTP key the chain holds for the provider, never to one a
// node lists in its plain JSON. The key must be in the provider's endpoint, proven by
// a registration proof (hotkey → UID) and an endpoint proof (UID → endpoint) against
// the state root of a header that a quorum of the anchored validators finalized. The
// anchor (chain id and validator set) is a configured one (VITE_PLEXUS_TRUST_ANCHOR at
// build time) or the one this browser pinned the first time it met the chain; a node
// that later serves another is refused.
//
// Issuer keys are proven the same way before a purchase pays into them, blinds tokens
// with them or seals the issuance request to the issuer's gateway (proveIssuerKey, as
// plexus_session::issuance::prove_issuer_key): a lying node could otherwise hand this
// browser an RSA key of its own (tagging every token it buys) or an OHTTP key it holds.

import { sha256 } from '@noble/hashes/sha2.js';

import * as api from './api';
import { concat, equal, hex, unhex } from './bytes';
import { type Header, headerDigest } from './codec';
import { type Certificate, verifyFinality } from './finality';
import { parseAddress } from './keys';
import { type KeyConfig, decodeKeyList } from './ohttp';
import * as priv from './private';
import { decodeSparseProof, verifySparse } from './proof';

/**
 * The chain this browser trusts: its id, its genesis validators' keys (hex, sorted), and
 * its consensus epoch length (0n or absent: the genesis set finalizes every block; else
 * later sets are followed from it through certified hand-overs, `validatorSet`).
 */
export interface TrustAnchor {
  chainId: bigint;
  validators: string[];
  epochLength?: bigint;
}

/** Where the pinned anchor lives in localStorage. */
export const ANCHOR_KEY = 'plexus:trust-anchor';
/** How long a proven key is used before it is proven again (keys rotate, providers leave). */
export const PROVEN_TTL_MS = 10 * 60_000;
/**
 * Oldest certified header a key is proven under: a node replaying an old (still
 * certified) state could otherwise revive a key the provider has since replaced.
 */
export const MAX_HEADER_AGE_MS = 60 * 60_000;
/** Blocks below the tip searched for one with a finality certificate (backfilled blocks lack theirs). */
const CERTIFICATE_SEARCH = 16;

// types/src/subnet.rs: the bounds `Endpoint` decodes with.
const MAX_URL = 256;
const MAX_OHTTP_KEYS = 1024;
const MAX_MODEL_ID = 128;
const MAX_OPERATOR_ID = 64;
// ledger/src/credits/mod.rs and types/src/credits.rs: the bounds `Issuer` and `IssuerKey` decode with.
const MAX_KEYS_PER_ISSUER = 64;
const MAX_ISSUER_SPKI = 800;

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

/** What proving needs: the node (`api.get`), where the anchor is pinned, or a configured anchor. */
export interface Deps {
  get?: <T>(path: string) => Promise<T>;
  storage?: Storage;
  configured?: TrustAnchor;
  now?: () => number;
}

/** A key the chain does not prove for the provider: nothing may be sealed to it. */
export class KeyNotProvenError extends Error {
  constructor(
    readonly hotkey: string,
    readonly reason: string,
  ) {
    super(`The OHTTP key this node lists for provider ${hotkey.slice(0, 14)}… is not proven on chain (${reason}). The node may be lying to read your prompt: nothing was sent and no credit was spent.`);
  }
}

/** The node serves another chain than the one pinned. */
export class AnchorMismatchError extends Error {}

const sortedKeys = (validators: string[]) => [...new Set(validators.map((v) => hex(parseAddress(v))))].sort();

/** The anchor of the chain a node serves (`/v1/chain`), as it says: pin it before trusting it. */
export function anchorOf(chain: { chain_id: number | string; validators: { public_key: string }[]; params?: unknown }): TrustAnchor {
  const consensus = (chain.params as { consensus?: { epoch_length?: number | string } } | undefined)?.consensus;
  return { chainId: BigInt(chain.chain_id), validators: sortedKeys(chain.validators.map((v) => v.public_key)), epochLength: BigInt(consensus?.epoch_length ?? 0) };
}

/** The anchor built into this copy of the app, if any: `{"chain_id": …, "validators": ["plx1…", …], "epoch_length": …}`. */
export function configuredAnchor(): TrustAnchor | undefined {
  const text = (import.meta.env?.VITE_PLEXUS_TRUST_ANCHOR as string | undefined)?.trim();
  if (!text) return undefined;
  const parsed = JSON.parse(text) as { chain_id: number | string; validators: string[]; epoch_length?: number | string };
  return { chainId: BigInt(parsed.chain_id), validators: sortedKeys(parsed.validators), epochLength: BigInt(parsed.epoch_length ?? 0) };
}

const sameAnchor = (a: TrustAnchor, b: TrustAnchor) =>
  a.chainId === b.chainId && JSON.stringify(a.validators) === JSON.stringify(b.validators) && (a.epochLength ?? 0n) === (b.epochLength ?? 0n);

/**
 * The anchor to check finality against: `configured` when given; else the one pinned in
 * `storage`, or, at first use, `served` (then pinned). A node serving another chain than
 * the pinned one is refused, never re-pinned.
 */
export function pinnedAnchor(served: TrustAnchor, storage: Storage, configured?: TrustAnchor): { anchor: TrustAnchor; firstSeen: boolean } {
  if (configured) return { anchor: configured, firstSeen: false };
  const stored = storage.getItem(ANCHOR_KEY);
  if (stored === null) {
    storage.setItem(ANCHOR_KEY, JSON.stringify({ chain_id: served.chainId.toString(), validators: served.validators, epoch_length: (served.epochLength ?? 0n).toString() }));
    return { anchor: served, firstSeen: true };
  }
  let pinned: TrustAnchor;
  try {
    const p = JSON.parse(stored) as { chain_id: string; validators: string[]; epoch_length?: string };
    pinned = { chainId: BigInt(p.chain_id), validators: sortedKeys(p.validators), epochLength: BigInt(p.epoch_length ?? 0) };
  } catch {
    throw new AnchorMismatchError('the chain pinned in this browser does not read back: forget it in Settings only if you know why');
  }
  if (!sameAnchor(pinned, served)) {
    throw new AnchorMismatchError(
      `this node serves chain ${served.chainId} with ${served.validators.length} validator(s), which differs from the chain this browser pinned (chain ${pinned.chainId}, ${pinned.validators.length} validator(s)): it may be lying; forget the pinned chain in Settings only if you changed networks on purpose`,
    );
  }
  return { anchor: pinned, firstSeen: false };
}

/** The pinned anchor, if any (for Settings). */
export function storedAnchor(storage: Storage = localStorage): TrustAnchor | undefined {
  const stored = storage.getItem(ANCHOR_KEY);
  if (stored === null) return undefined;
  try {
    const p = JSON.parse(stored) as { chain_id: string; validators: string[]; epoch_length?: string };
    return { chainId: BigInt(p.chain_id), validators: p.validators, epochLength: BigInt(p.epoch_length ?? 0) };
  } catch {
    return undefined;
  }
}

/** Forget the pinned anchor: the next chain met is pinned instead. */
export function forgetAnchor(storage: Pick<globalThis.Storage, 'removeItem'> = localStorage): void {
  storage.removeItem(ANCHOR_KEY);
  clearProvenKeys();
}

/** A listed issuer key the chain does not prove: nothing may be paid into, blinded with or sealed to it. */
export class IssuerKeyNotProvenError extends Error {
  constructor(
    readonly issuer: string,
    readonly reason: string,
  ) {
    super(`The keys this node lists for credit issuer ${issuer.slice(0, 14)}… are not the keys the chain holds (${reason}). The node may be lying to tag your credits: nothing was paid into, blinded with or sealed to them.`);
  }
}

/**
 * The header of the node's finalized tip (or of the latest block below it that has a
 * certificate), checked against its finality certificate under `anchor`.
 */
export async function certifiedTip(anchor: TrustAnchor, get: NonNullable<Deps['get']>): Promise<Header> {
  const status = await get<api.Status>('/v1/status');
  const tip = status.node.finalized_height;
  for (let height = tip; height > 0 && height > tip - CERTIFICATE_SEARCH; height--) {
    let certificate: Certificate;
    try {
      ({ certificate } = await get<{ certificate: Certificate }>(`/v1/blocks/${height}/finalization`));
    } catch (e) {
      if (e instanceof api.ApiError && (e.code === 'no_certificate' || e.status === 404)) continue;
      throw e;
    }
    const { header } = await get<{ header: Header }>(`/v1/blocks/${height}`);
    if (header.height !== height) throw new Error(`asked for block ${height}, the node served block ${header.height}`);
    if (BigInt(header.chain_id) !== anchor.chainId) throw new Error(`block ${height} is of chain ${header.chain_id}, not ${anchor.chainId}`);
    const validators = await validatorsFor(anchor, height, certificate, get);
    verifyFinality(anchor.chainId, validators, headerDigest(header), certificate);
    return header;
  }
  throw new Error(`the node holds no finality certificate for the ${CERTIFICATE_SEARCH} blocks up to ${tip}`);
}

/** Sets already followed, by anchor and epoch (each was checked hand-over by hand-over). */
const followedSets = new Map<string, string[]>();

/** Forget the followed sets (tests; a pinned chain forgotten in Settings). */
export function forgetFollowedSets(): void {
  followedSets.clear();
}

/** `set_key`: [0x09, 0x03] ‖ epoch (u64 BE). */
export function validatorSetKey(epoch: bigint): Uint8Array {
  const out = new Uint8Array(10);
  out[0] = 0x09;
  out[1] = 0x03;
  new DataView(out.buffer).setBigUint64(2, epoch, false);
  return out;
}

/** Decode the ledger's `Vec<AccountId>`: a u32-LE count, then 32-byte keys (hex). */
export function decodeKeyListValue(bytes: Uint8Array): string[] {
  const r = reader(bytes, 'validator set');
  const n = r.u32('count');
  if (n > 1024) throw new Error('the proven validator set has more than 1,024 keys');
  const keys: string[] = [];
  for (let i = 0; i < n; i++) keys.push(hex(r.take(32, 'key')));
  r.end();
  return keys;
}

/**
 * The validator set of consensus epoch `epoch`, trusting only `anchor`'s genesis set:
 * the set of epoch e is proven (`/v1/proofs/validator-set/{e}`) under the state root
 * of the last block of epoch e − 1, whose header a quorum of epoch e − 1's set
 * finalized; walked from the genesis set, one hand-over per epoch.
 */
export async function validatorSet(anchor: TrustAnchor, epoch: bigint, get: NonNullable<Deps['get']>): Promise<string[]> {
  const length = anchor.epochLength ?? 0n;
  if (length === 0n || epoch === 0n) return anchor.validators;
  const id = (e: bigint) => `${anchor.chainId}:${length}:${anchor.validators.join(',')}:${e}`;
  let e = epoch;
  while (e > 0n && !followedSets.has(id(e))) e--;
  let set = e === 0n ? anchor.validators : (followedSets.get(id(e)) as string[]);
  for (e += 1n; e <= epoch; e++) {
    const boundary = e * length - 1n;
    const response = await get<api.ProofResponse>(`/v1/proofs/validator-set/${e}`);
    const header = response.header;
    if (BigInt(header.height) !== boundary) throw new Error(`the validator set of epoch ${e} was proven at height ${header.height}, not at its boundary ${boundary}`);
    if (BigInt(header.chain_id) !== anchor.chainId) throw new Error(`block ${boundary} is of chain ${header.chain_id}, not ${anchor.chainId}`);
    const { certificate } = await get<{ certificate: Certificate }>(`/v1/blocks/${boundary}/finalization`);
    if (BigInt(certificate.epoch) !== e - 1n) throw new Error(`the certificate of boundary block ${boundary} names epoch ${certificate.epoch}, not ${e - 1n}`);
    verifyFinality(anchor.chainId, set, headerDigest(header), certificate);
    const value = checkProof(response, validatorSetKey(e), header);
    if (value === null) throw new Error(`the boundary state holds no validator set for epoch ${e}`);
    set = decodeKeyListValue(value);
    followedSets.set(id(e), set);
  }
  return set;
}

/**
 * The set a certificate of the block at `height` must be signed by: its epoch's, and
 * the certificate must name that epoch (the genesis keys, long unbonded, could
 * otherwise vouch for a late block as if in epoch 0).
 */
export async function validatorsFor(anchor: TrustAnchor, height: number, certificate: Certificate, get: NonNullable<Deps['get']>): Promise<string[]> {
  const length = anchor.epochLength ?? 0n;
  const epoch = length === 0n ? 0n : BigInt(height) / length;
  if (BigInt(certificate.epoch) !== epoch) throw new Error(`block ${height} belongs to consensus epoch ${epoch}, but its certificate names epoch ${certificate.epoch}`);
  return validatorSet(anchor, epoch, get);
}

const u16be = (n: number) => Uint8Array.of((n >> 8) & 0xff, n & 0xff);

/** `registration_key`: [0x04, 0x01] ‖ netuid (BE) ‖ hotkey. */
export function registrationKey(netuid: number, hotkey: string): Uint8Array {
  return concat(Uint8Array.of(0x04, 0x01), u16be(netuid), parseAddress(hotkey));
}

/** `issuer_key`: [0x07, 0x03] ‖ hotkey. */
export function issuerRecordKey(hotkey: string): Uint8Array {
  return concat(Uint8Array.of(0x07, 0x03), parseAddress(hotkey));
}

/** `issuer_key_record_key`: [0x07, 0x04] ‖ key id. */
export function issuerKeyRecordKey(keyId: string): Uint8Array {
  const id = unhex(keyId);
  if (id.length !== 32) throw new Error('an issuer key id is 32 bytes');
  return concat(Uint8Array.of(0x07, 0x04), id);
}

/** `endpoint_key`: [0x04, 0x03] ‖ netuid (BE) ‖ uid (BE). */
export function endpointKey(netuid: number, uid: number): Uint8Array {
  return concat(Uint8Array.of(0x04, 0x03), u16be(netuid), u16be(uid));
}

/**
 * Check a served proof for `key` against the `trusted` (certified) header: same header,
 * same height, its state root, and the Merkle path. The proven value, or null when the
 * proof shows the key absent.
 */
export function checkProof(response: api.ProofResponse, key: Uint8Array, trusted: Header): Uint8Array | null {
  const { proof, header } = response;
  if (!equal(unhex(proof.key), key)) throw new Error('the proof is for another state key');
  if (proof.height !== header.height) throw new Error(`the proof is at height ${proof.height} but its header at ${header.height}`);
  if (headerDigest(header) !== headerDigest(trusted)) throw new Error(`the proof comes with a header at height ${header.height} that is not the certified header`);
  if (!equal(unhex(proof.root), unhex(trusted.state_root))) throw new Error('the proof root is not the certified state root');
  const value = proof.value === null ? null : unhex(proof.value);
  verifySparse(unhex(trusted.state_root), key, value, decodeSparseProof(unhex(proof.proof)));
  return value;
}

/** What a provider serves, as the chain stores it (`plexus_types::Endpoint`). */
export interface ProvenEndpoint {
  url: string;
  ohttpKeys: Uint8Array;
  model: string;
  weightsHash: string;
  operator: string;
}

/** Decode the ledger's encoding of an `Endpoint`: u32-LE-length-prefixed fields, a 32-byte hash. */
export function decodeEndpoint(bytes: Uint8Array): ProvenEndpoint {
  let at = 0;
  const take = (n: number, field: string) => {
    if (at + n > bytes.length) throw new Error(`the proven endpoint is truncated at ${field}`);
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const field = (max: number, name: string) => {
    const b = take(4, name);
    const len = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] * 2 ** 24);
    if (len > max) throw new Error(`the proven endpoint's ${name} is longer than ${max} bytes`);
    return take(len, name).slice();
  };
  const text = (max: number, name: string) => new TextDecoder('utf-8', { fatal: true }).decode(field(max, name));
  const url = text(MAX_URL, 'url');
  const ohttpKeys = field(MAX_OHTTP_KEYS, 'ohttp_keys');
  const model = text(MAX_MODEL_ID, 'model');
  const weightsHash = hex(take(32, 'weights_hash'));
  const operator = text(MAX_OPERATOR_ID, 'operator');
  if (at !== bytes.length) throw new Error('the proven endpoint has trailing bytes');
  return { url, ohttpKeys, model, weightsHash, operator };
}

/** Reads the ledger's little-endian encoding, refusing truncation and oversize fields. */
function reader(bytes: Uint8Array, what: string) {
  let at = 0;
  const take = (n: number, field: string) => {
    if (at + n > bytes.length) throw new Error(`the proven ${what} is truncated at ${field}`);
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const u32 = (field: string) => {
    const b = take(4, field);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] * 2 ** 24);
  };
  const u64 = (field: string) => {
    const b = take(8, field);
    let n = 0n;
    for (let i = 7; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
    return n;
  };
  const bool = (field: string) => {
    const b = take(1, field)[0];
    if (b > 1) throw new Error(`the proven ${what}'s ${field} is not a boolean`);
    return b === 1;
  };
  const bytesField = (max: number, field: string) => {
    const len = u32(field);
    if (len > max) throw new Error(`the proven ${what}'s ${field} is longer than ${max} bytes`);
    return take(len, field).slice();
  };
  const end = () => {
    if (at !== bytes.length) throw new Error(`the proven ${what} has trailing bytes`);
  };
  return { take, u32, u64, bool, bytesField, end };
}

/** A credit issuer as the chain stores it (`plexus_ledger::credits::Issuer`). */
export interface ProvenIssuer {
  hotkey: Uint8Array;
  netuid: number;
  url: string;
  ohttpKeys: Uint8Array;
  keyIds: string[];
  updatedAt: bigint;
  retired: boolean;
}

/** Decode the ledger's encoding of an `Issuer`. */
export function decodeIssuer(bytes: Uint8Array): ProvenIssuer {
  const r = reader(bytes, 'issuer');
  const hotkey = r.take(32, 'hotkey').slice();
  const n = r.take(2, 'netuid');
  const netuid = n[0] | (n[1] << 8);
  const url = new TextDecoder('utf-8', { fatal: true }).decode(r.bytesField(MAX_URL, 'url'));
  const ohttpKeys = r.bytesField(MAX_OHTTP_KEYS, 'ohttp_keys');
  const count = r.u32('key_ids');
  if (count > MAX_KEYS_PER_ISSUER) throw new Error(`the proven issuer lists more than ${MAX_KEYS_PER_ISSUER} keys`);
  const keyIds = Array.from({ length: count }, () => hex(r.take(32, 'key_ids')));
  const updatedAt = r.u64('updated_at');
  const retired = r.bool('retired');
  r.end();
  return { hotkey, netuid, url, ohttpKeys, keyIds, updatedAt, retired };
}

/** One credit issuer key as the chain stores it (`plexus_ledger::credits::IssuerKey`). */
export interface ProvenIssuerKey {
  keyId: string;
  issuer: Uint8Array;
  denomination: number;
  keyEpoch: number;
  spki: Uint8Array;
  registeredAt: bigint;
  buyers: bigint;
  overIssued: boolean;
}

/** Decode the ledger's encoding of an `IssuerKey`. */
export function decodeIssuerKey(bytes: Uint8Array): ProvenIssuerKey {
  const r = reader(bytes, 'issuer key');
  const keyId = hex(r.take(32, 'key_id'));
  const issuer = r.take(32, 'issuer').slice();
  const denomination = r.u32('denomination');
  const keyEpoch = r.u32('key_epoch');
  const spki = r.bytesField(MAX_ISSUER_SPKI, 'spki');
  const registeredAt = r.u64('registered_at');
  for (const field of ['deposited', 'settled', 'slashed', 'tokens_settled']) r.u64(field);
  const buyers = r.u64('buyers');
  r.u64('unpaid_tokens');
  const overIssued = r.bool('over_issued');
  r.u64('refunded');
  if (r.bool('refund_base')) r.u64('refund_base');
  r.end();
  return { keyId, issuer, denomination, keyEpoch, spki, registeredAt, buyers, overIssued };
}

/** An issuer and one of its keys as a node lists them (`/v1/credits/issuers`). */
export type ListedIssuer = Pick<api.IssuerInfo, 'hotkey' | 'url' | 'ohttp_keys'>;
export type ListedIssuerKey = Pick<api.IssuerKeyInfo, 'key_id' | 'spki' | 'denomination' | 'key_epoch'>;

/** The certified header proofs are checked against: the pinned anchor's, not too old. */
async function trustedTip(get: NonNullable<Deps['get']>, deps: Deps, now: () => number): Promise<Header> {
  const served = anchorOf(await get<api.Chain>('/v1/chain'));
  const { anchor } = pinnedAnchor(served, deps.storage ?? localStorage, deps.configured ?? configuredAnchor());
  const header = await certifiedTip(anchor, get);
  const age = now() - header.timestamp_ms;
  if (age > MAX_HEADER_AGE_MS) throw new Error(`the newest certified block the node serves (${header.height}) is ${Math.round(age / 60_000)} minutes old: the node may be replaying an old state`);
  return header;
}

/**
 * Prove that what a node lists for an issuer and one of its keys is what the chain holds
 * at the certified tip: the gateway URL and OHTTP keys, the key's RSA SPKI (which must
 * hash to its id), denomination and key epoch; when `buying`, also that the issuer is not
 * retired, the key not over-issued and among the issuer's open keys (the one a
 * BuyCredits pays into). Throws `IssuerKeyNotProvenError` otherwise. Never cached: a
 * purchase is rare and its keys must be current.
 */
export async function proveIssuerKey(
  issuer: ListedIssuer,
  key: ListedIssuerKey,
  options: { buying: boolean },
  deps: Deps = {},
): Promise<{ issuer: ProvenIssuer; key: ProvenIssuerKey; header: Header }> {
  const get = deps.get ?? api.get;
  const now = deps.now ?? Date.now;
  const refused = (reason: string) => new IssuerKeyNotProvenError(issuer.hotkey, reason);
  let header: Header;
  let record: ProvenIssuer | null;
  let proven: ProvenIssuerKey | null;
  try {
    header = await trustedTip(get, deps, now);
    const at = `?height=${header.height}`;
    const recordProof = await get<api.ProofResponse>(`/v1/proofs/issuer/${encodeURIComponent(issuer.hotkey)}${at}`);
    const recordValue = checkProof(recordProof, issuerRecordKey(issuer.hotkey), header);
    record = recordValue === null ? null : decodeIssuer(recordValue);
    const keyProof = await get<api.ProofResponse>(`/v1/proofs/issuer-key/${encodeURIComponent(key.key_id)}${at}`);
    const keyValue = checkProof(keyProof, issuerKeyRecordKey(key.key_id), header);
    proven = keyValue === null ? null : decodeIssuerKey(keyValue);
  } catch (e) {
    throw refused(e instanceof Error ? e.message : String(e));
  }
  const block = header.height;
  if (record === null) throw refused(`it is no issuer at block ${block}`);
  if (proven === null) throw refused(`block ${block} holds no key ${key.key_id.slice(0, 12)}…`);
  const other = (what: string) => refused(`block ${block} proves another ${what}`);
  if (!equal(proven.issuer, parseAddress(issuer.hotkey)) || !equal(record.hotkey, parseAddress(issuer.hotkey))) throw other('issuer for the key');
  if (hex(sha256(proven.spki)) !== proven.keyId || proven.keyId !== key.key_id.toLowerCase()) throw other('key id');
  if (!equal(record.ohttpKeys, unhex(issuer.ohttp_keys))) throw other('OHTTP key list for its gateway');
  if (record.url !== issuer.url) throw other('gateway URL');
  if (!equal(proven.spki, unhex(key.spki))) throw other('RSA key');
  if (proven.denomination !== key.denomination || proven.keyEpoch !== key.key_epoch) throw other('denomination or key epoch');
  if (options.buying) {
    if (record.retired || proven.overIssued) throw other('standing: it was caught over-issuing');
    if (!record.keyIds.includes(proven.keyId)) throw other('key list: the key is not among its open keys');
  }
  return { issuer: record, key: proven, header };
}

/** A provider as the node lists it: the key to prove is `config`. */
export interface Listed {
  hotkey: string;
  netuid: number;
  config: KeyConfig;
}

const proven = new Map<string, { endpoint: ProvenEndpoint & { uid: number }; at: number }>();
const cacheKey = (t: Listed) => `${t.netuid}/${t.hotkey}/${hex(t.config.encoded)}`;

/** Forget every proven key (tests; a changed anchor). */
export function clearProvenKeys(): void {
  proven.clear();
}

/**
 * Prove that `target.config` is among the OHTTP keys the chain holds for its hotkey on
 * its subnet, at the certified tip; throws `KeyNotProvenError` otherwise. Proven keys
 * are remembered per (subnet, hotkey, key bytes) for `PROVEN_TTL_MS`.
 */
export async function proveProviderKey(target: Listed, deps: Deps = {}): Promise<ProvenEndpoint & { uid: number }> {
  const get = deps.get ?? api.get;
  const now = deps.now ?? Date.now;
  const id = cacheKey(target);
  const hit = proven.get(id);
  if (hit && now() - hit.at < PROVEN_TTL_MS) return hit.endpoint;
  const refused = (reason: string) => new KeyNotProvenError(target.hotkey, reason);
  let header: Header;
  let uid: number;
  let endpoint: ProvenEndpoint | null;
  try {
    header = await trustedTip(get, deps, now);
    const at = `?height=${header.height}`;
    const registration = await get<api.ProofResponse>(`/v1/proofs/registration/${target.netuid}/${encodeURIComponent(target.hotkey)}${at}`);
    const uidBytes = checkProof(registration, registrationKey(target.netuid, target.hotkey), header);
    if (uidBytes === null) throw refused(`the hotkey is not registered on subnet ${target.netuid} at block ${header.height}`);
    if (uidBytes.length !== 2) throw new Error('the proven UID does not decode');
    uid = uidBytes[0] | (uidBytes[1] << 8);
    const response = await get<api.ProofResponse>(`/v1/proofs/endpoint/${target.netuid}/${uid}${at}`);
    const value = checkProof(response, endpointKey(target.netuid, uid), header);
    endpoint = value === null ? null : decodeEndpoint(value);
  } catch (e) {
    if (e instanceof KeyNotProvenError) throw e;
    throw refused(e instanceof Error ? e.message : String(e));
  }
  if (endpoint === null) throw refused(`it serves nothing on subnet ${target.netuid} at block ${header.height}`);
  let keys: KeyConfig[];
  try {
    keys = decodeKeyList(endpoint.ohttpKeys);
  } catch (e) {
    throw refused(`its proven keys do not decode: ${String(e)}`);
  }
  if (!keys.some((k) => equal(k.encoded, target.config.encoded))) throw refused(`block ${header.height} proves other keys for it`);
  const out = { ...endpoint, uid };
  proven.set(id, { endpoint: out, at: now() });
  return out;
}

/** The route to `target` through `relay`, once its key is proven (else `KeyNotProvenError`). */
export async function provenRoute(relay: string, target: Listed, deps: Deps = {}): Promise<priv.Route> {
  await proveProviderKey(target, deps);
  return priv.viaRelay(relay, target.hotkey, target.config);
}
