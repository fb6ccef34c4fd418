// Where the relay is. Relays are not on chain: the user names one (Settings, or
// `?relay=URL` once), else the page tries the devnet layout (node port + 2) and the
// default `plexus relay` address.

import { relayTargets } from './lib/credits';

const KEY = 'plexus.relay';

export function savedRelay(): string | null {
  return localStorage.getItem(KEY);
}

export function setRelay(url: string | null): void {
  if (url) localStorage.setItem(KEY, url.replace(/\/+$/, ''));
  else localStorage.removeItem(KEY);
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

/** Take `?relay=` from the address once, then drop it from the URL. */
export function adoptQueryRelay(): void {
  const url = new URL(location.href);
  const r = url.searchParams.get('relay');
  if (r && /^https?:\/\//.test(r)) {
    setRelay(r);
    url.searchParams.delete('relay');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
}
