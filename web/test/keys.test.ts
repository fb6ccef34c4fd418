// The pinned vector of wallet/tests/it/the_plexus_derivation_path_is_pinned.rs
// (`the_abandon_about_mnemonic_gives_a_pinned_key_and_address`): the browser derives
// the same key and address as the Rust wallet crate.

import { describe, expect, it } from 'vitest';

import { hex } from '../src/lib/bytes';
import { checkMnemonic, deriveEd25519, keypairFromMnemonic, parseAddress, toAddress } from '../src/lib/keys';
import { mnemonicToSeed } from '@scure/bip39';

const PHRASE = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const PINNED_SECRET = '6b11d5b0470924c37b07f53043b5759a5a3dd2df8ff53202bc1e2c6584944062';
const PINNED_ADDRESS = 'plx1umfzchf0qa3cjgadmhcsx4edpv45vmfau7c7vvdtckak6y4qe6fq7g553j';

describe('keys', () => {
  it('the abandon-about mnemonic gives the pinned key and address', async () => {
    const key = await keypairFromMnemonic(PHRASE);
    expect(hex(key.secret)).toBe(PINNED_SECRET);
    expect(key.address).toBe(PINNED_ADDRESS);
  });

  it('another passphrase or path gives another key', async () => {
    const seed = await mnemonicToSeed(PHRASE, 'TREZOR');
    expect(hex(deriveEd25519(seed))).not.toBe(PINNED_SECRET);
    const plain = await mnemonicToSeed(PHRASE, '');
    expect(hex(deriveEd25519(plain, [44, 7539, 1, 0]))).not.toBe(PINNED_SECRET);
    expect(hex(deriveEd25519(plain, [44, 7539, 0, 0]))).toBe(PINNED_SECRET);
  });

  it('addresses round trip and bad ones are refused', () => {
    const bytes = parseAddress(PINNED_ADDRESS);
    expect(toAddress(bytes)).toBe(PINNED_ADDRESS);
    expect(parseAddress(hex(bytes))).toEqual(bytes);
    expect(() => parseAddress(PINNED_ADDRESS.slice(0, -1) + 'x')).toThrow();
    expect(() => parseAddress('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4')).toThrow();
  });

  it('mnemonics are normalized and checked', () => {
    expect(checkMnemonic(`  ${PHRASE.toUpperCase()}  `)).toBe(PHRASE);
    expect(() => checkMnemonic(PHRASE.replace('about', 'abandon'))).toThrow(/checksum/);
    expect(() => checkMnemonic('abandon abandon')).toThrow(/12 or 24/);
  });
});
