// Wallets in the browser: the mnemonic sealed with the wallet's password (PBKDF2-SHA256
// → AES-256-GCM), inside the device-key vault. Keys never leave this page; an unlocked
// key lives in memory only, until the tab closes or the wallet is locked.
//
// The stored record is not trusted: whoever can write this browser's storage could
// lower its iteration count (a cheaper offline guess of the password) or plant an
// absurd one (a frozen tab). So the count must lie in [MIN_ITERATIONS, MAX_ITERATIONS]
// before anything is derived, every parameter is bound into AES-GCM's associated
// data (a changed salt, count, name or address does not open), and a record below the
// current count is sealed again at ITERATIONS once the password opened it.

import { fresh, hex, randomBytes, unhex, utf8 } from './bytes';
import { type Keypair, checkMnemonic, keypairFromMnemonic } from './keys';
import * as vault from './vault';

const PREFIX = 'wallet:';
/** PBKDF2-HMAC-SHA256 iterations for new and re-sealed wallets (OWASP's 2023 figure). */
export const ITERATIONS = 600_000;
/** The fewest iterations a stored wallet may claim: what this app always used before. */
export const MIN_ITERATIONS = 310_000;
/** The most: beyond it a record is refused rather than freezing the tab. */
export const MAX_ITERATIONS = 10_000_000;
/** The record format that binds its parameters (absent: bound to the address only). */
const VERSION = 2;

export interface StoredWallet {
  /** 2: parameters in the associated data; absent: an earlier version's record. */
  v?: number;
  name: string;
  address: string;
  created: number;
  kdf: { name: 'pbkdf2-sha256'; iterations: number; salt: string };
  iv: string;
  ciphertext: string;
}

/** Shortest wallet password, in characters (NIST SP 800-63B asks 8 at least; a
 * password that guards a key open to offline guessing needs more). */
export const MIN_PASSWORD_LENGTH = 12;

// Passwords of 12 characters or more that lead every leaked-password list.
const COMMON = new Set([
  'passwordpassword', 'password1234', 'password12345', 'password123456', 'password1!password1!',
  'qwertyuiop123', 'qwerty123456', 'iloveyou1234', 'administrator', 'letmeinletmein',
  'welcomewelcome', 'changeme1234', 'passw0rd1234', 'p@ssw0rd1234', 'p@ssword1234',
  '123456789012', '1234567890123', '12345678901234', '1q2w3e4r5t6y', '1qaz2wsx3edc',
  'zaq12wsxcde3', 'qazwsxedcrfv', 'football1234', 'baseball1234', 'superman1234',
  'trustno1trustno1', 'monkey123456', 'dragon123456', 'sunshine1234', 'princess1234',
  'mywalletpassword', 'walletpassword', 'bitcoinbitcoin', 'plexusplexus', 'plexus123456',
]);
const SEQUENCES = ['abcdefghijklmnopqrstuvwxyz', '01234567890', 'qwertyuiopasdfghjklzxcvbnm', 'qwertzuiopasdfghjklyxcvbnm', 'azertyuiopqsdfghjklmwxcvbn', '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p'];

/**
 * Why `password` is too weak to seal a wallet, or null when it is acceptable: at least
 * MIN_PASSWORD_LENGTH characters, not a well-known password, not a run along the
 * alphabet, the digits or a keyboard row, and at least five different characters.
 * No composition rules (NIST SP 800-63B): a few unrelated words pass.
 */
export function passwordProblem(password: string): string | null {
  const chars = [...password];
  if (chars.length < MIN_PASSWORD_LENGTH) {
    return `a wallet password needs at least ${MIN_PASSWORD_LENGTH} characters (this one has ${chars.length}); a few unrelated words make a strong one`;
  }
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || COMMON.has(lower.replace(/[^a-z0-9@!]/g, ''))) return 'this password is too common: attackers try it first; a few unrelated words make a strong one';
  if (new Set(chars).size < 5) return 'this password uses too few different characters; a few unrelated words make a strong one';
  const alnum = lower.replace(/[^a-z0-9]/g, '');
  const reversed = [...alnum].reverse().join('');
  if (alnum.length >= chars.length - 2 && SEQUENCES.some((q) => q.repeat(2).includes(alnum) || q.repeat(2).includes(reversed))) {
    return 'this password is a sequence along the alphabet, the digits or the keyboard; a few unrelated words make a strong one';
  }
  return null;
}

/** What AES-GCM authenticates beside the mnemonic: every parameter of the record. */
function associatedData(w: Pick<StoredWallet, 'v' | 'name' | 'address' | 'kdf'>): Uint8Array {
  if (w.v === undefined) return utf8(w.address);
  return utf8(JSON.stringify(['plexus-web-wallet', w.v, w.name, w.address, w.kdf.name, w.kdf.iterations, w.kdf.salt]));
}

async function passwordKey(password: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', fresh(utf8(password)), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: fresh(salt), iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Seal `phrase` (normalized) for `name`/`address` under `password`, at ITERATIONS. */
async function seal(name: string, address: string, created: number, phrase: string, password: string): Promise<StoredWallet> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const w: StoredWallet = { v: VERSION, name, address, created, kdf: { name: 'pbkdf2-sha256', iterations: ITERATIONS, salt: hex(salt) }, iv: hex(iv), ciphertext: '' };
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: fresh(associatedData(w)) },
    await passwordKey(password, salt, ITERATIONS),
    fresh(utf8(phrase)),
  );
  w.ciphertext = hex(new Uint8Array(sealed));
  return w;
}

export async function list(): Promise<StoredWallet[]> {
  const out: StoredWallet[] = [];
  for (const id of await vault.ids(PREFIX)) {
    const w = await vault.getValue<StoredWallet>(id);
    if (w) out.push(w);
  }
  return out.sort((a, b) => a.created - b.created);
}

export async function save(name: string, phrase: string, password: string): Promise<StoredWallet> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name) || name.startsWith('.')) {
    throw new Error('a wallet name is 1 to 64 letters, digits, ".", "_" or "-"');
  }
  const weak = passwordProblem(password);
  if (weak) throw new Error(weak);
  if ((await list()).some((w) => w.name === name)) throw new Error(`a wallet named ${name} exists in this browser`);
  const normalized = checkMnemonic(phrase);
  const key = await keypairFromMnemonic(normalized);
  const w = await seal(name, key.address, Date.now(), normalized, password);
  await vault.put(PREFIX + name, w);
  unlocked.set(name, key);
  return w;
}

const unlocked = new Map<string, Keypair>();

export function unlockedKey(name: string): Keypair | undefined {
  return unlocked.get(name);
}

export function lock(name: string): void {
  unlocked.delete(name);
}

/** Open `w` with `password`; a record from an earlier version, or below the current
 * count, is sealed again at ITERATIONS in the current format once it opened. */
async function open(w: StoredWallet, password: string): Promise<string> {
  if (w.kdf?.name !== 'pbkdf2-sha256') throw new Error(`this wallet names an unknown key derivation (${String(w.kdf?.name)}): the stored record was altered; restore the wallet from its recovery phrase`);
  const n = w.kdf.iterations;
  if (!Number.isSafeInteger(n) || n < MIN_ITERATIONS || n > MAX_ITERATIONS) {
    throw new Error(`this wallet's stored key derivation asks ${String(n)} PBKDF2 iterations, outside ${MIN_ITERATIONS} to ${MAX_ITERATIONS}: the stored record was altered to weaken it; it is not opened (restore the wallet from its recovery phrase)`);
  }
  if (w.v !== undefined && w.v !== VERSION) throw new Error(`this wallet record has an unknown format (${String(w.v)})`);
  let phrase: string;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fresh(unhex(w.iv)), additionalData: fresh(associatedData(w)) },
      await passwordKey(password, unhex(w.kdf.salt), n),
      fresh(unhex(w.ciphertext)),
    );
    phrase = new TextDecoder().decode(plain);
  } catch {
    throw new Error('wrong password');
  }
  if (w.v !== VERSION || n < ITERATIONS) {
    const key = await keypairFromMnemonic(phrase);
    if (key.address === w.address) await vault.put(PREFIX + w.name, await seal(w.name, w.address, w.created, phrase, password));
  }
  return phrase;
}

export async function unlock(name: string, password: string): Promise<Keypair> {
  const w = (await list()).find((x) => x.name === name);
  if (!w) throw new Error(`no wallet named ${name}`);
  const key = await keypairFromMnemonic(await open(w, password));
  if (key.address !== w.address) throw new Error('the stored wallet does not match its address');
  unlocked.set(name, key);
  return key;
}

export async function revealMnemonic(name: string, password: string): Promise<string> {
  const w = (await list()).find((x) => x.name === name);
  if (!w) throw new Error(`no wallet named ${name}`);
  return open(w, password);
}

/** Seal the wallet again under `next` (which must pass `passwordProblem`). */
export async function changePassword(name: string, current: string, next: string): Promise<void> {
  const weak = passwordProblem(next);
  if (weak) throw new Error(weak);
  const w = (await list()).find((x) => x.name === name);
  if (!w) throw new Error(`no wallet named ${name}`);
  const phrase = await open(w, current);
  const key = await keypairFromMnemonic(phrase);
  if (key.address !== w.address) throw new Error('the stored wallet does not match its address');
  await vault.put(PREFIX + name, await seal(name, w.address, w.created, phrase, next));
}

export async function forget(name: string): Promise<void> {
  unlocked.delete(name);
  await vault.remove(PREFIX + name);
}

const ACTIVE = 'plexus.activeWallet';
export function active(): string | null {
  return localStorage.getItem(ACTIVE);
}
export function setActive(name: string | null): void {
  if (name) localStorage.setItem(ACTIVE, name);
  else localStorage.removeItem(ACTIVE);
}
