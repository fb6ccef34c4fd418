// Who runs what. A relay sees the user's address, a provider (gateway) sees the
// request: run by one operator, the two together link who asked to what was asked
// (RFC 9458 §10.1, RFC 9576 §4). A browser cannot resolve names or ask who owns a
// server, so this module compares what it can see, from the weakest sign to the
// strongest: the same machine, the same IP address or address block, the same
// registrable domain, and on chain the same owner (coldkey), hotkey or declared
// operator behind the relay's host. It errs on the side of a warning: two hosts under
// one registrable domain are always flagged, a few unrelated ones may be too.

/** One side of the comparison: where a party serves, and who it is on chain. */
export interface Party {
  url: string;
  /** The account that registered it (a neuron's hotkey, an issuer's hotkey). */
  hotkey?: string;
  /** The account that owns that hotkey on chain. */
  coldkey?: string;
  /** The operator id it declared with `Serve`. */
  operator?: string;
  /** What it is, for messages: "provider", "issuer", … */
  role?: string;
}

/** A host as far as a browser can tell: its name or address, and what it belongs to. */
export interface Host {
  /** Lower case, no trailing dot, IPv6 without brackets, IPv4-mapped IPv6 as IPv4. */
  name: string;
  /** Set when `name` is an IP address literal. */
  ip?: { family: 4 | 6; block: string };
  /** This very machine (localhost, 127/8, ::1, 0.0.0.0). */
  loopback: boolean;
  /** The registrable domain (public suffix plus one label); the address for an IP. */
  site: string;
}

// Public suffixes of more than one label under the common country domains: a name
// under one of these keeps three labels as its site. Every other name keeps two,
// which can only merge sites, never split one (so never hides a shared domain).
const MULTI_LABEL_SUFFIXES = new Set(
  [
    'co.uk', 'org.uk', 'me.uk', 'ltd.uk', 'plc.uk', 'net.uk', 'ac.uk', 'gov.uk', 'sch.uk',
    'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'id.au', 'asn.au',
    'co.nz', 'net.nz', 'org.nz', 'ac.nz', 'govt.nz', 'geek.nz',
    'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'go.jp', 'gr.jp', 'ad.jp', 'ed.jp', 'lg.jp',
    'co.kr', 'or.kr', 'ne.kr', 'ac.kr', 'go.kr', 're.kr',
    'com.br', 'net.br', 'org.br', 'gov.br', 'edu.br', 'art.br', 'blog.br', 'dev.br', 'eco.br', 'app.br',
    'com.cn', 'net.cn', 'org.cn', 'gov.cn', 'edu.cn', 'ac.cn',
    'com.hk', 'net.hk', 'org.hk', 'edu.hk', 'gov.hk', 'idv.hk',
    'com.tw', 'net.tw', 'org.tw', 'edu.tw', 'gov.tw', 'idv.tw',
    'co.in', 'net.in', 'org.in', 'firm.in', 'gen.in', 'ind.in', 'ac.in', 'edu.in', 'gov.in', 'res.in',
    'co.za', 'org.za', 'net.za', 'web.za', 'gov.za', 'ac.za',
    'com.mx', 'net.mx', 'org.mx', 'gob.mx', 'edu.mx',
    'com.ar', 'net.ar', 'org.ar', 'gob.ar', 'edu.ar',
    'com.tr', 'net.tr', 'org.tr', 'gen.tr', 'biz.tr', 'web.tr', 'edu.tr', 'gov.tr',
    'com.sg', 'net.sg', 'org.sg', 'edu.sg', 'gov.sg', 'per.sg',
    'com.my', 'net.my', 'org.my', 'edu.my', 'gov.my',
    'co.id', 'or.id', 'web.id', 'my.id', 'biz.id', 'ac.id', 'go.id',
    'co.th', 'in.th', 'or.th', 'ac.th', 'go.th',
    'com.vn', 'net.vn', 'org.vn', 'edu.vn', 'gov.vn',
    'com.ph', 'net.ph', 'org.ph',
    'co.il', 'org.il', 'net.il', 'ac.il', 'gov.il',
    'com.ua', 'net.ua', 'org.ua', 'in.ua', 'kiev.ua',
    'com.pl', 'net.pl', 'org.pl', 'waw.pl',
    'com.ru', 'net.ru', 'org.ru', 'msk.ru', 'spb.ru',
    'co.at', 'or.at', 'ac.at', 'gv.at',
    'com.es', 'nom.es', 'org.es', 'gob.es', 'edu.es',
    'com.pt', 'org.pt', 'gov.pt', 'edu.pt',
    'com.gr', 'net.gr', 'org.gr', 'edu.gr', 'gov.gr',
    'com.co', 'net.co', 'org.co', 'nom.co',
    'com.pe', 'net.pe', 'org.pe', 'nom.pe',
    'com.eg', 'net.eg', 'org.eg', 'edu.eg', 'gov.eg',
    'com.sa', 'net.sa', 'org.sa', 'edu.sa', 'gov.sa',
    'co.ke', 'or.ke', 'ne.ke', 'ac.ke', 'go.ke',
    'com.ng', 'net.ng', 'org.ng', 'edu.ng', 'gov.ng',
    'co.ca', 'qc.ca', 'on.ca', 'bc.ca', 'ab.ca',
  ],
);

function ipv4(name: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

/** The eight 16-bit groups of an IPv6 literal, or null. */
function ipv6(name: string): number[] | null {
  if (!name.includes(':')) return null;
  let text = name;
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = ipv4(v4[1]);
    if (!p) return null;
    text = `${text.slice(0, v4.index)}:${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string) => (s ? s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)) : []);
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...head, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : null;
}

/** `url`'s host, or null when `url` is not an http(s) URL. */
export function hostOf(url: string): Host | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  // The URL parser already lower-cases, turns IDNs into punycode and writes every
  // IPv4 form (0x7f.1, 2130706433) as a dotted quad.
  let name = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  const six = ipv6(name);
  if (six && six.slice(0, 5).every((g) => g === 0) && six[5] === 0xffff) {
    name = [six[6] >> 8, six[6] & 255, six[7] >> 8, six[7] & 255].join('.');
  }
  const four = ipv4(name);
  if (four) {
    const loopback = four[0] === 127 || four.every((p) => p === 0);
    return { name, ip: { family: 4, block: four.slice(0, 3).join('.') + '.0/24' }, loopback, site: loopback ? 'this machine' : name };
  }
  const v6 = ipv6(name);
  if (v6) {
    const loopback = v6.slice(0, 7).every((g) => g === 0) && (v6[7] === 1 || v6[7] === 0);
    const canonical = v6.map((g) => g.toString(16)).join(':');
    return { name: canonical, ip: { family: 6, block: v6.slice(0, 4).map((g) => g.toString(16)).join(':') + '::/64' }, loopback, site: loopback ? 'this machine' : canonical };
  }
  const loopback = name === 'localhost' || name.endsWith('.localhost');
  const labels = name.split('.');
  const keep = labels.length >= 3 && MULTI_LABEL_SUFFIXES.has(labels.slice(-2).join('.')) ? 3 : 2;
  return { name, loopback, site: loopback ? 'this machine' : labels.slice(-keep).join('.') };
}

/** Why two hosts look like one operator's: empty when nothing says so. */
export function sameHostReasons(a: Host, b: Host): string[] {
  if (a.loopback && b.loopback) return ['both run on this very machine (loopback)'];
  if (a.name === b.name) return [`both are served from ${a.ip ? 'the address' : 'the host'} ${a.name}`];
  if (a.ip && b.ip && a.ip.family === b.ip.family && a.ip.block === b.ip.block) return [`their addresses share the block ${a.ip.block}`];
  if (!a.ip && !b.ip && a.site === b.site) return [`both are under the domain ${a.site}`];
  return [];
}

function norm(id: string | undefined): string {
  return (id ?? '').trim().toLowerCase();
}

const shortKey = (k: string) => (k.length > 16 ? `${k.slice(0, 12)}…` : k);

/**
 * Why the relay at `relay` and `provider` look like one operator's: the hosts
 * compared, then the parties on chain (`chain`: every neuron endpoint and issuer)
 * that serve from the relay's host, compared with the provider by coldkey, hotkey and
 * declared operator. Empty: nothing visible links them (which proves nothing: an
 * operator can hide behind unrelated names; only choosing a relay you trust helps).
 */
export function operatorLinks(relay: string, provider: Party, chain: Party[] = []): string[] {
  const r = hostOf(relay);
  const p = hostOf(provider.url);
  const out: string[] = [];
  if (!r) return ['the relay address is not an http(s) URL'];
  if (p) out.push(...sameHostReasons(r, p).map((x) => `the relay and this ${provider.role ?? 'provider'}: ${x}`));
  for (const c of chain) {
    const h = hostOf(c.url);
    if (!h || sameHostReasons(r, h).length === 0) continue;
    const what = `${c.role ?? 'a party'} ${shortKey(c.hotkey ?? c.url)} (which serves from the relay's host)`;
    if (c.coldkey && provider.coldkey && c.coldkey === provider.coldkey && c.hotkey !== provider.hotkey) {
      out.push(`${what} and this ${provider.role ?? 'provider'} have the same owner on chain (coldkey ${shortKey(c.coldkey)})`);
    }
    if (c.hotkey && provider.hotkey && c.hotkey === provider.hotkey && h.name !== p?.name) out.push(`${what} is this ${provider.role ?? 'provider'}'s own hotkey`);
    if (norm(c.operator) && norm(c.operator) === norm(provider.operator) && c.hotkey !== provider.hotkey) {
      out.push(`${what} and this ${provider.role ?? 'provider'} declare the same operator “${c.operator!.trim()}”`);
    }
  }
  return [...new Set(out)];
}

/**
 * The candidates to choose among for requests through `relay`: those nothing links to
 * the relay's operator when there are any, else all of them; with each one's links.
 */
export function independentOf<T extends Party>(relay: string, candidates: T[], chain: Party[] = []): { pool: T[]; links: Map<T, string[]> } {
  const links = new Map(candidates.map((c) => [c, operatorLinks(relay, c, chain)] as const));
  const free = candidates.filter((c) => links.get(c)!.length === 0);
  return { pool: free.length > 0 ? free : candidates, links };
}
