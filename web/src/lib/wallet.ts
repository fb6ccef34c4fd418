// Wallets in the browser: the mnemonic sealed with the wallet's password (PBKDF2-SHA256
// → AES-256-GCM), inside the device-key vault. Keys never leave this page; an unlocked
// key lives in memory only, until the tab closes or the wallet is locked.

import { fresh, hex, randomBytes, unhex, utf8 } from './bytes';
import { type Keypair, checkMnemonic, keypairFromMnemonic } from './keys';
import * as vault from './vault';

const PREFIX = 'wallet:';
const ITERATIONS = 310_000;

export interface StoredWallet {
  name: string;
  address: string;
  created: number;
  kdf: { name: 'pbkdf2-sha256'; iterations: number; salt: string };
  iv: string;
  ciphertext: string;
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
  if (password.length < 1) throw new Error('choose a password');
  if ((await list()).some((w) => w.name === name)) throw new Error(`a wallet named ${name} exists in this browser`);
  const normalized = checkMnemonic(phrase);
  const key = await keypairFromMnemonic(normalized);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: fresh(utf8(key.address)) },
    await passwordKey(password, salt, ITERATIONS),
    fresh(utf8(normalized)),
  );
  const w: StoredWallet = {
    name,
    address: key.address,
    created: Date.now(),
    kdf: { name: 'pbkdf2-sha256', iterations: ITERATIONS, salt: hex(salt) },
    iv: hex(iv),
    ciphertext: hex(new Uint8Array(sealed)),
  };
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

async function open(w: StoredWallet, password: string): Promise<string> {
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fresh(unhex(w.iv)), additionalData: fresh(utf8(w.address)) },
      await passwordKey(password, unhex(w.kdf.salt), w.kdf.iterations),
      fresh(unhex(w.ciphertext)),
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new Error('wrong password');
  }
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
