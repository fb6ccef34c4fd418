// Finding 14 of issue 15: the app warns when the relay and the provider look run by
// one operator (same machine, address, address block or registrable domain, or the
// same owner on chain behind the relay's host), and prefers providers that do not.

import { describe, expect, it } from 'vitest';

import { hostOf, independentOf, operatorLinks, type Party } from '../src/lib/operator';

const provider = (url: string, more: Partial<Party> = {}): Party => ({ url, hotkey: 'plx1provider', coldkey: 'plx1owner', operator: 'acme', role: 'provider', ...more });

describe('same operator', () => {
  it('a relay on the provider operator host is flagged as the same operator', () => {
    // The devnet and the default: the relay at the node's host, the provider beside it.
    expect(operatorLinks('http://127.0.0.1:7072', provider('http://127.0.0.1:7073'))).not.toEqual([]);
    expect(operatorLinks('http://localhost:7072', provider('http://127.0.0.1:7073'))[0]).toMatch(/this very machine/);
    expect(operatorLinks('http://[::1]:7072', provider('http://127.0.0.2:7073'))).not.toEqual([]);
    // One host, another port or scheme.
    expect(operatorLinks('https://node.example.com:8443', provider('http://node.example.com:7073'))[0]).toMatch(/host node.example.com/);
    // One IP written another way (decimal, hex, IPv4-mapped IPv6): the URL parser and
    // this module normalise them.
    expect(operatorLinks('http://2130706689:7072', provider('http://127.0.1.1/'))).not.toEqual([]);
    expect(operatorLinks('http://0xcb007107/', provider('http://203.0.113.7/'))[0]).toMatch(/address 203.0.113.7/);
    expect(operatorLinks('http://[::ffff:cb00:7107]/', provider('http://203.0.113.7/'))[0]).toMatch(/address 203.0.113.7/);
    expect(operatorLinks('http://[2001:db8:1:2::5]/', provider('http://[2001:db8:1:2::9]/'))[0]).toMatch(/block 2001:db8:1:2::\/64/);
    expect(operatorLinks('http://203.0.113.200/', provider('http://203.0.113.7/'))[0]).toMatch(/block 203.0.113.0\/24/);
    // The same registrable domain under different names, also past a trailing dot,
    // upper case and a two-label public suffix.
    expect(operatorLinks('https://relay.acme.net', provider('https://gpu-7.inference.ACME.net./'))[0]).toMatch(/domain acme.net/);
    expect(operatorLinks('https://relay.acme.co.uk', provider('https://gw.acme.co.uk'))[0]).toMatch(/domain acme.co.uk/);
  });

  it('a relay whose host serves on chain for the provider owner is flagged as the same operator', () => {
    const chain: Party[] = [
      { url: 'https://issuer.other-name.org', hotkey: 'plx1issuer', coldkey: 'plx1owner', role: 'issuer' },
      { url: 'https://miner.third.io', hotkey: 'plx1miner', coldkey: 'plx1someone', operator: 'ACME ', role: 'provider' },
      { url: 'https://elsewhere.example', hotkey: 'plx1provider', coldkey: 'plx1owner', role: 'provider' },
    ];
    // Same coldkey: the relay's host also serves an issuer owned by the provider's owner.
    const byOwner = operatorLinks('https://relay.other-name.org', provider('https://gw.unrelated.com'), chain);
    expect(byOwner.join(' ')).toMatch(/same owner on chain \(coldkey plx1owner\)/);
    // Same declared operator.
    const byName = operatorLinks('https://relay.third.io', provider('https://gw.unrelated.com'), chain);
    expect(byName.join(' ')).toMatch(/declare the same operator “ACME”/);
    // The provider's own hotkey serves (on another subnet) from the relay's host.
    const byHotkey = operatorLinks('https://x.elsewhere.example', provider('https://gw.unrelated.com'), chain);
    expect(byHotkey.join(' ')).toMatch(/own hotkey/);
  });

  it('a relay with nothing in common with the provider is not flagged', () => {
    const chain: Party[] = [{ url: 'https://issuer.other-name.org', hotkey: 'plx1issuer', coldkey: 'plx1else', operator: 'other', role: 'issuer' }];
    expect(operatorLinks('https://relay.independent.org', provider('https://gw.acme.net'), chain)).toEqual([]);
    expect(operatorLinks('https://relay.a.co.uk', provider('https://gw.b.co.uk'), chain)).toEqual([]);
    expect(operatorLinks('http://198.51.100.1/', provider('http://203.0.113.7/'), chain)).toEqual([]);
    expect(operatorLinks('http://127.0.0.1:7080', provider('https://gw.acme.net'), chain)).toEqual([]);
  });

  it('the chat prefers providers not linked to the relay, and falls back to all', () => {
    const near = provider('http://127.0.0.1:7073', { hotkey: 'plx1near' });
    const far = provider('https://gw.far.example', { hotkey: 'plx1far', coldkey: 'plx1far', operator: 'far' });
    const both = independentOf('http://127.0.0.1:7072', [near, far]);
    expect(both.pool).toEqual([far]);
    expect(both.links.get(near)).not.toEqual([]);
    expect(independentOf('http://127.0.0.1:7072', [near]).pool).toEqual([near]);
  });

  it('hosts are normalised as a browser sees them', () => {
    expect(hostOf('http://[::ffff:127.0.0.1]:1/')?.loopback).toBe(true);
    expect(hostOf('http://LOCALHOST./')?.site).toBe('this machine');
    expect(hostOf('http://a.b.example.com/')?.site).toBe('example.com');
    expect(hostOf('file:///etc/passwd')).toBeNull();
    expect(hostOf('not a url')).toBeNull();
    expect(operatorLinks('javascript:alert(1)', provider('http://x.example'))).toEqual(['the relay address is not an http(s) URL']);
  });
});
