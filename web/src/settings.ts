// Where the relay is. Relays are not on chain: the user names one in Settings, and
// only there, after checking it and confirming. A link's `?relay=` is never stored
// nor used: it is taken off the address and offered in Settings as a suggestion (a
// link anyone can send must not choose who sees the user's address beside their
// requests). Without a choice the page tries the devnet layout (this node's port + 2,
// i.e. the node operator's host) and then a relay on this machine, and says so.

import { relayTargets } from './lib/credits';

/** The relay the user confirmed in Settings: `{"url": …, "confirmed": ms}`. */
const KEY = 'plexus.relay.confirmed';
/** Earlier versions stored here, also from links: dropped unread. */
const LEGACY_KEY = 'plexus.relay';

let legacy: string | null = null;
/** Drop a relay an earlier version stored (possibly from a link); keep it to show. */
function dropLegacy(): void {
  const old = localStorage.getItem(LEGACY_KEY);
  if (old === null) return;
  legacy = old;
  localStorage.removeItem(LEGACY_KEY);
}

/** The relay an earlier version had stored (now dropped), to offer in Settings. */
export function droppedRelay(): string | null {
  dropLegacy();
  return legacy;
}

/** `url` as a relay base URL: http(s), no credentials, query or fragment, no trailing `/`. */
export function normalizeRelay(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new Error(`not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('a relay URL starts with https:// (or http:// on a local network)');
  if (u.username || u.password) throw new Error('a relay URL carries no user name or password');
  if (u.search || u.hash) throw new Error('a relay URL has no ?query or #fragment');
  return (u.origin + u.pathname).replace(/\/+$/, '');
}

export function savedRelay(): string | null {
  dropLegacy();
  const raw = localStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const { url } = JSON.parse(raw) as { url: string };
    return normalizeRelay(url);
  } catch {
    localStorage.removeItem(KEY);
    return null;
  }
}

/**
 * Store the relay the user confirmed in Settings (null: back to the defaults). The
 * only writer of the relay setting; nothing reached from a link calls it.
 */
export function confirmRelay(url: string | null): void {
  dropLegacy();
  if (url) localStorage.setItem(KEY, JSON.stringify({ url: normalizeRelay(url), confirmed: Date.now() }));
  else localStorage.removeItem(KEY);
  forgetFound();
}

export function candidates(): string[] {
  const out: string[] = [];
  const saved = savedRelay();
  if (saved) out.push(saved);
  const port = Number(location.port || (location.protocol === 'https:' ? 443 : 80));
  out.push(`${location.protocol}//${location.hostname}:${port + 2}`);
  out.push('http://127.0.0.1:7080');
  return [...new Set(out)];
}

/** How `url` came to be the relay, for the user to see beside it. */
export function relaySource(url: string): string {
  if (url === savedRelay()) return 'chosen by you in Settings';
  if (url === 'http://127.0.0.1:7080') return 'the default: a relay on this machine';
  return 'the default: this node’s host, run by the node’s operator; choose your own in Settings';
}

let found: string | undefined;
/** The first candidate relay that answers like a Plexus relay. */
export async function relay(): Promise<string> {
  if (found) return found;
  for (const c of candidates()) {
    try {
      await relayTargets(c);
      found = c;
      return c;
    } catch {
      // try the next one
    }
  }
  throw new Error('no relay answers: set one in Settings');
}

/** Probe the candidates again next time (after the relay failed a request). */
export function forgetFound(): void {
  found = undefined;
}

let suggested: string | null = null;
/** A relay a link suggested this session (never stored nor used; Settings offers it). */
export function suggestedRelay(): string | null {
  return suggested;
}

/**
 * Take `?relay=` off the address: it is only a suggestion, kept in memory for the
 * Settings page to offer; nothing is stored and the relay in use does not change.
 * Returns the suggestion (null: none, or not an http(s) URL).
 */
export function adoptQueryRelay(): string | null {
  const url = new URL(location.href);
  const r = url.searchParams.get('relay');
  if (r === null) return null;
  url.searchParams.delete('relay');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
  try {
    suggested = normalizeRelay(r);
  } catch {
    suggested = null;
  }
  return suggested;
}
