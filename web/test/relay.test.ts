// Finding 14 of issue 15: the relay the web app sends private requests through.
// `settings.ts` runs for real over stand-ins for the page's `localStorage`,
// `location` and `history` (Node has none).

import { beforeEach, describe, expect, it, vi } from 'vitest';

const storage = new Map<string, string>();
const page = { href: 'http://127.0.0.1:7070/' };
vi.stubGlobal('localStorage', {
  getItem: (k: string) => storage.get(k) ?? null,
  setItem: (k: string, v: string) => void storage.set(k, String(v)),
  removeItem: (k: string) => void storage.delete(k),
});
vi.stubGlobal('location', {
  get href() {
    return page.href;
  },
  get protocol() {
    return new URL(page.href).protocol;
  },
  get hostname() {
    return new URL(page.href).hostname;
  },
  get port() {
    return new URL(page.href).port;
  },
  get origin() {
    return new URL(page.href).origin;
  },
});
vi.stubGlobal('history', { replaceState: (_s: unknown, _t: string, url: string) => void (page.href = new URL(url, page.href).href) });

const settings = await import('../src/settings');

const EVIL = 'http://127.0.0.9:7080';

beforeEach(() => {
  storage.clear();
  page.href = 'http://127.0.0.1:7070/';
});

describe('relay choice', () => {
  it('a relay link does not replace the relay', () => {
    // The attack: a link to the app with `?relay=` pointing at the attacker's relay.
    page.href = `http://127.0.0.1:7070/chat?relay=${encodeURIComponent(EVIL)}`;
    settings.adoptQueryRelay();
    // The address bar no longer carries it, and nothing was stored or chosen.
    expect(page.href).toBe('http://127.0.0.1:7070/chat');
    expect(settings.savedRelay()).toBeNull();
    expect(settings.candidates()).not.toContain(EVIL);
    expect([...storage.values()].join(' ')).not.toContain('127.0.0.9');
    // A reload (a fresh page) uses nothing of it either.
    expect(settings.candidates()[0]).toBe('http://127.0.0.1:7072');
  });

  it('a relay link is only a suggestion, and a bad one is dropped', () => {
    page.href = `http://127.0.0.1:7070/?relay=${encodeURIComponent(EVIL + '/')}#x`;
    expect(settings.adoptQueryRelay()).toBe(EVIL);
    expect(settings.suggestedRelay()).toBe(EVIL);
    expect(page.href).toBe('http://127.0.0.1:7070/#x');
    expect(settings.savedRelay()).toBeNull();
    page.href = 'http://127.0.0.1:7070/?relay=javascript:alert(1)';
    expect(settings.adoptQueryRelay()).toBeNull();
    expect(page.href).toBe('http://127.0.0.1:7070/');
    expect(storage.size).toBe(0);
  });

  it('a relay an earlier version stored from a link is dropped, and offered again only in Settings', () => {
    storage.set('plexus.relay', EVIL);
    expect(settings.savedRelay()).toBeNull();
    expect(settings.candidates()).not.toContain(EVIL);
    expect(storage.has('plexus.relay')).toBe(false);
    expect(settings.droppedRelay()).toBe(EVIL);
  });

  it('only a confirmed relay is stored, as a plain http(s) base URL', () => {
    settings.confirmRelay('https://relay.example.org/base/');
    expect(settings.savedRelay()).toBe('https://relay.example.org/base');
    expect(settings.candidates()[0]).toBe('https://relay.example.org/base');
    expect(settings.relaySource('https://relay.example.org/base')).toMatch(/chosen by you/);
    expect(settings.relaySource('http://127.0.0.1:7072')).toMatch(/node’s host/);
    for (const bad of ['ftp://relay.example.org', 'https://user:pw@relay.example.org', 'https://relay.example.org/?x=1', 'relay.example.org']) {
      expect(() => settings.confirmRelay(bad), bad).toThrow();
    }
    expect(settings.savedRelay()).toBe('https://relay.example.org/base');
    // Tampered storage is not trusted either.
    storage.set('plexus.relay.confirmed', JSON.stringify({ url: 'javascript:alert(1)' }));
    expect(settings.savedRelay()).toBeNull();
    settings.confirmRelay(null);
    expect(storage.size).toBe(0);
  });
});

