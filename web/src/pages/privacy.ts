// PRIVACY.md's promise, shown where people type.

import { h, table } from '../dom';

export function privacyTable(): HTMLElement {
  return h(
    'div',
    { class: 'privacy' },
    table(
      ['Party', 'Learns your network address (IP)', 'Learns your wallet', 'Reads your prompt'],
      [
        ['Relay', 'yes', 'no', h('strong', {}, 'no'), ],
        ['Provider (the model’s operator)', h('strong', {}, 'no'), h('strong', {}, 'no'), 'yes, for that request only; keeps nothing'],
        ['Credit issuer', 'no (issuance goes through a relay too)', 'yes, at purchase', 'no, and cannot link tokens to purchases'],
        ['Chain and explorer', 'no', 'deposits and settlements only', 'no'],
        ['Validators', 'no', 'no', 'only their own probe requests'],
        ['This web server (the node)', 'yes (it served this page)', 'only transactions you send', 'no: chat goes to the relay, sealed to a key proven on chain, not one the node lists'],
      ],
      'Who sees what on the private path',
      { stack: true },
    ),
    h(
      'p',
      {},
      'Your conversation history stays in this browser (IndexedDB, encrypted with a key the browser will not export). Be aware: the provider answering a request sees that request’s whole context, including earlier turns you send with it; it does not know whose it is.',
    ),
    h(
      'p',
      {},
      'All of this holds only while the relay and the provider are run by different operators. You choose the relay in Settings (a link cannot); this page warns, and asks before sending, when a relay and a provider share a machine, an address, a domain or an owner on chain.',
    ),
  );
}

export function privacyPage(): HTMLElement {
  return h('section', {}, h('h1', {}, 'Privacy'), privacyTable(), h('h2', {}, 'How a private request travels'), h('ol', {},
    h('li', {}, 'Your wallet pays an issuer on chain for a fixed bundle of credits.'),
    h('li', {}, 'This page blinds one token request per credit, each naming a provider chosen at random, and the issuer signs them blind through the relay.'),
    h('li', {}, 'This page proves the provider’s OHTTP key before using it: a Merkle proof that the chain holds that key for the provider, under a block a quorum of the validators this browser pinned signed as final. A key a node merely lists is refused.'),
    h('li', {}, 'Each message is encoded as an HTTP request, padded to a size bucket, sealed to that key, and posted to the relay.'),
    h('li', {}, 'The provider opens it, checks and spends the tokens, and streams the answer back sealed, in fixed-size chunks.'),
    h('li', {}, 'The provider settles the tokens on chain; nothing links them to your purchase.'),
  ));
}
