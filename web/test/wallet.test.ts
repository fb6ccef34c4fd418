// Finding 18 (web half) of issue 15: the browser wallet's password and key derivation.
// The wallet module runs for real here (WebCrypto PBKDF2 and AES-GCM); only the
// IndexedDB vault under it is an in-memory map, which is also what an attacker who can
// write the browser's storage gets to edit.

import { beforeEach, describe, expect, it, vi } from 'vitest';

const records = new Map<string, unknown>();
vi.mock('../src/lib/vault', () => ({
  ids: async (prefix: string) => [...records.keys()].filter((k) => k.startsWith(prefix)),
  getValue: async (id: string) => structuredClone(records.get(id)),
  put: async (id: string, value: unknown) => void records.set(id, structuredClone(value)),
  remove: async (id: string) => void records.delete(id),
}));

import { fresh, hex, randomBytes, utf8 } from '../src/lib/bytes';
import { keypairFromMnemonic } from '../src/lib/keys';
import * as wallets from '../src/lib/wallet';

const PHRASE = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const GOOD = 'correct horse battery staple';

/**
 * A wallet record as the web app of today's main writes it (mnemonic sealed under
 * PBKDF2-SHA256 with `iterations`, AES-GCM bound to the address only), made by hand so
 * the iteration count can be any an attacker chooses.
 */
async function legacyRecord(name: string, password: string, iterations: number) {
  const key = await keypairFromMnemonic(PHRASE);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const base = await crypto.subtle.importKey('raw', fresh(utf8(password)), 'PBKDF2', false, ['deriveKey']);
  const aes = await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: fresh(utf8(key.address)) }, aes, fresh(utf8(PHRASE)));
  return {
    name,
    address: key.address,
    created: Date.now(),
    kdf: { name: 'pbkdf2-sha256' as const, iterations, salt: hex(salt) },
    iv: hex(iv),
    ciphertext: hex(new Uint8Array(ct)),
  };
}

beforeEach(() => {
  records.clear();
  for (const w of ['w', 'weak', 'legacy', 'down']) wallets.lock(w);
});

describe('wallet passwords', () => {
  it('a one-character wallet password is refused', async () => {
    await expect(wallets.save('weak', PHRASE, 'x')).rejects.toThrow(/at least 12 characters/);
    expect(records.size).toBe(0);
  });

  it('short, common and repetitive wallet passwords are refused with a reason', async () => {
    for (const [pw, reason] of [
      ['', /at least 12 characters/],
      ['hunter2', /at least 12 characters \(this one has 7\)/],
      ['passwordpassword', /too common/],
      ['123456789012', /too common|sequence/],
      ['aaaaaaaaaaaaaaaa', /too few different characters/],
      ['abababababababab', /too few different characters/],
      ['abcdefghijklmnop', /sequence/],
      ['qwertyuiopasdfgh', /sequence/],
    ] as const) {
      expect(wallets.passwordProblem(pw), pw).toMatch(reason);
      await expect(wallets.save('weak', PHRASE, pw)).rejects.toThrow(reason);
    }
    expect(records.size).toBe(0);
  });

  it('a passphrase of a few words is accepted', async () => {
    expect(wallets.passwordProblem(GOOD)).toBeNull();
    expect(wallets.passwordProblem('Tr0ub4dor&3-x!')).toBeNull();
  });
});

describe('wallet key derivation', () => {
  it('a wallet record downgraded to one PBKDF2 iteration does not unlock', async () => {
    // An attacker who can write the browser's storage replaces the record with one
    // whose key derivation costs nothing (here made with the right password, the
    // strongest form of the attack: a brute-forced or phished password re-sealed).
    records.set('wallet:down', await legacyRecord('down', GOOD, 1));
    await expect(wallets.unlock('down', GOOD)).rejects.toThrow(/iterations/);
    await expect(wallets.revealMnemonic('down', GOOD)).rejects.toThrow(/iterations/);
    expect(wallets.unlockedKey('down')).toBeUndefined();
  });

  it('a wallet record with an absurd iteration count is refused without deriving', async () => {
    const w = await legacyRecord('down', GOOD, 1);
    records.set('wallet:down', { ...w, kdf: { ...w.kdf, iterations: 2 ** 31 } });
    const started = Date.now();
    await expect(wallets.unlock('down', GOOD)).rejects.toThrow(/iterations/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a wallet record naming another key derivation is refused', async () => {
    const w = await legacyRecord('down', GOOD, 1);
    records.set('wallet:down', { ...w, kdf: { ...w.kdf, name: 'none', iterations: 600_000 } });
    await expect(wallets.unlock('down', GOOD)).rejects.toThrow(/key derivation/);
  });

  it('new wallets derive at the current count and bind their parameters', async () => {
    const w = await wallets.save('w', PHRASE, GOOD);
    expect(w.kdf.iterations).toBe(wallets.ITERATIONS);
    expect(wallets.ITERATIONS).toBeGreaterThanOrEqual(600_000);
    wallets.lock('w');
    expect((await wallets.unlock('w', GOOD)).address).toBe(w.address);
    wallets.lock('w');
    // Any stored parameter changed (here the salt's first byte, or the address) and
    // the record no longer opens: the parameters are in the AES-GCM associated data.
    const stored = records.get('wallet:w') as typeof w;
    const salt = (parseInt(stored.kdf.salt.slice(0, 2), 16) ^ 1).toString(16).padStart(2, '0') + stored.kdf.salt.slice(2);
    records.set('wallet:w', { ...stored, kdf: { ...stored.kdf, salt } });
    await expect(wallets.unlock('w', GOOD)).rejects.toThrow(/wrong password/);
    records.set('wallet:w', { ...stored, kdf: { ...stored.kdf, iterations: stored.kdf.iterations + 1 } });
    await expect(wallets.unlock('w', GOOD)).rejects.toThrow(/wrong password/);
    records.set('wallet:w', { ...stored, v: undefined });
    await expect(wallets.unlock('w', GOOD)).rejects.toThrow(/wrong password/);
    records.set('wallet:w', stored);
    expect((await wallets.unlock('w', GOOD)).address).toBe(w.address);
  });

  it('a wallet sealed by an earlier version at 310000 iterations unlocks and is re-sealed at the current count', async () => {
    records.set('wallet:legacy', await legacyRecord('legacy', 'x', 310_000));
    const key = await wallets.unlock('legacy', 'x');
    expect(key.address).toBe((await keypairFromMnemonic(PHRASE)).address);
    const now = records.get('wallet:legacy') as wallets.StoredWallet;
    expect(now.v).toBe(2);
    expect(now.kdf.iterations).toBe(wallets.ITERATIONS);
    wallets.lock('legacy');
    expect(await wallets.revealMnemonic('legacy', 'x')).toBe(PHRASE);
  });

  it('a password can be changed to a strong one, never to a weak one', async () => {
    records.set('wallet:legacy', await legacyRecord('legacy', 'x', 310_000));
    await expect(wallets.changePassword('legacy', 'x', 'y')).rejects.toThrow(/at least 12 characters/);
    await expect(wallets.changePassword('legacy', 'wrong', GOOD)).rejects.toThrow(/wrong password/);
    await wallets.changePassword('legacy', 'x', GOOD);
    await expect(wallets.revealMnemonic('legacy', 'x')).rejects.toThrow(/wrong password/);
    expect(await wallets.revealMnemonic('legacy', GOOD)).toBe(PHRASE);
  });
});
