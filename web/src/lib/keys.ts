// Keys exactly as the Rust wallet crate derives them (wallet/src/lib.rs):
// BIP-39 mnemonic → seed (PBKDF2-HMAC-SHA512, empty passphrase) → SLIP-0010 ed25519 at
// m/44'/7539'/0'/0' → ed25519 key → address = bech32m("plx", public key).

import { ed25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bech32m } from '@scure/base';
import { generateMnemonic, mnemonicToSeed, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';

import { concat, unhex, utf8 } from './bytes';

export const ADDRESS_HRP = 'plx';
export const PLEXUS_PATH = [44, 7539, 0, 0];
const HARDENED = 0x8000_0000;

export interface Keypair {
  secret: Uint8Array;
  public: Uint8Array;
  address: string;
}

/** The bech32m address of a 32-byte public key. */
export function toAddress(publicKey: Uint8Array): string {
  return bech32m.encode(ADDRESS_HRP, bech32m.toWords(publicKey), 200);
}

/** Parse a `plx1…` address or a 64-character hex key into the 32 key bytes. */
export function parseAddress(text: string): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return unhex(t);
  let decoded;
  try {
    decoded = bech32m.decode(t as `${string}1${string}`, 200);
  } catch {
    throw new Error(`not a plexus address (expected bech32m starting with plx1): ${t}`);
  }
  if (decoded.prefix !== ADDRESS_HRP) throw new Error(`not a plexus address: ${t}`);
  const bytes = bech32m.fromWords(decoded.words);
  if (bytes.length !== 32) throw new Error(`not a plexus address: ${t}`);
  return bytes;
}

export function isAddress(text: string): boolean {
  try {
    parseAddress(text);
    return true;
  } catch {
    return false;
  }
}

/** Words joined by single spaces, lower case, as the Rust `Mnemonic::parse` accepts. */
export function normalizePhrase(phrase: string): string {
  return phrase.trim().toLowerCase().split(/\s+/).join(' ');
}

export function newMnemonic(words: 12 | 24 = 12): string {
  return generateMnemonic(wordlist, words === 12 ? 128 : 256);
}

export function checkMnemonic(phrase: string): string {
  const p = normalizePhrase(phrase);
  const n = p.split(' ').length;
  if (n !== 12 && n !== 24) throw new Error(`a mnemonic has 12 or 24 words, not ${n}`);
  if (!validateMnemonic(p, wordlist)) {
    throw new Error('not a valid BIP-39 mnemonic (a word is misspelled or the checksum fails)');
  }
  return p;
}

/** SLIP-0010 ed25519 derivation along hardened steps. */
export function deriveEd25519(seed: Uint8Array, path: number[] = PLEXUS_PATH): Uint8Array {
  let I = hmac(sha512, utf8('ed25519 seed'), seed);
  let key = I.slice(0, 32);
  let chain = I.slice(32);
  for (const step of path) {
    const index = new Uint8Array(4);
    new DataView(index.buffer).setUint32(0, (step | HARDENED) >>> 0, false);
    I = hmac(sha512, chain, concat(Uint8Array.of(0), key, index));
    key = I.slice(0, 32);
    chain = I.slice(32);
  }
  return key;
}

export function keypairFromSecret(secret: Uint8Array): Keypair {
  const pub = ed25519.getPublicKey(secret);
  return { secret, public: pub, address: toAddress(pub) };
}

export async function keypairFromMnemonic(phrase: string): Promise<Keypair> {
  const seed = await mnemonicToSeed(checkMnemonic(phrase), '');
  return keypairFromSecret(deriveEd25519(seed));
}

export function sign(key: Keypair, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, key.secret);
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return ed25519.verify(signature, message, publicKey);
}

