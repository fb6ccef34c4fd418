// Private chat: the whole protocol runs here. One provider chosen at random per
// conversation among those this wallet holds tokens for; each turn is sealed to its
// OHTTP key, once that key is proven on chain (lib/transparency.ts), and posted
// through the relay; the answer streams back through chunked OHTTP. History is kept only in this browser, sealed with a non-extractable key.

import { field, h, link, notice } from '../dom';
import { randomBytes, hex, unhex } from '../lib/bytes';
import * as credits from '../lib/credits';
import * as priv from '../lib/private';
import * as transparency from '../lib/transparency';
import * as vault from '../lib/vault';
import * as wallets from '../lib/wallet';
import { independentOf, operatorLinks } from '../lib/operator';
import { forgetFound, relay, relaySource } from '../settings';
import { privacyTable } from './privacy';

interface Conversation {
  id: string;
  model: string;
  provider: string;
  created: number;
  messages: credits.ChatMessage[];
}

const PREFIX = 'chat:';

/** `relay provider` pairs the user agreed to use despite a shared operator (this tab). */
const acceptedPairs = new Set<string>();

async function conversations(): Promise<Conversation[]> {
  const out: Conversation[] = [];
  for (const id of await vault.ids(PREFIX)) {
    const c = await vault.getValue<Conversation>(id);
    if (c) out.push(c);
  }
  return out.sort((a, b) => b.created - a.created);
}

export async function chatPage(params: URLSearchParams): Promise<HTMLElement> {
  const all = await wallets.list();
  const walletName = wallets.active() ?? all[0]?.name;
  const w = all.find((x) => x.name === walletName);
  const list = await conversations();
  const current = list.find((c) => c.id === params.get('c'));
  const held = w ? await credits.balance(w.address) : 0;

  const historyNav = h(
    'nav',
    { class: 'history', 'aria-label': 'Conversations' },
    h('h2', {}, 'History'),
    h('p', { class: 'hint' }, 'Only in this browser, encrypted.'),
    link('/chat', '+ New conversation', { class: 'button', id: 'new-chat' }),
    h('ul', { id: 'conversation-list' }, list.map((c) => h('li', {}, link(`/chat?c=${c.id}`, c.messages[0]?.content.slice(0, 40) || 'untitled', { 'aria-current': c.id === current?.id ? 'page' : null })))),
  );

  const log = h('div', { class: 'log', id: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const render = (c?: Conversation) => {
    log.replaceChildren(
      ...(c?.messages ?? []).map((m) => h('div', { class: `msg ${m.role}` }, h('span', { class: 'who' }, m.role === 'user' ? 'You' : 'Model'), h('p', {}, m.content))),
    );
  };
  render(current);

  const input = h('textarea', { id: 'chat-input', rows: 2, required: true, placeholder: 'Ask anything. Nobody sees both who you are and what you ask.' });
  const maxTokens = h('input', { type: 'number', id: 'max-tokens', min: 1, max: 4096, value: credits.DEFAULT_MAX_TOKENS });
  const send = h('button', { type: 'submit', id: 'chat-send' }, 'Send privately');
  const status = h('div', { 'aria-live': 'polite', id: 'chat-status' });
  const form = h('form', { class: 'composer' }, field('Message', input), h('div', { class: 'row' }, field('Most tokens per answer', maxTokens, `${credits.TOKENS_PER_CREDIT} tokens per credit`), send), status);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  let convo = current;
  /** The provider a warning was shown for, kept if the user sends anyway. */
  let pending: string | undefined;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!w) {
      status.replaceChildren(notice('error', h('span', {}, 'Create a wallet and buy credits first: ', link('/wallet', 'Wallet'))));
      return;
    }
    send.disabled = true;
    // A notice from an earlier attempt (a refusal, a warning) is not this attempt's.
    status.replaceChildren();
    const max = Math.max(1, Math.min(4096, Number(maxTokens.value) || credits.DEFAULT_MAX_TOKENS));
    const need = credits.creditsFor(credits.chatBody('', [], max));
    try {
      const r = await relay();
      const [targets, chain] = await Promise.all([credits.providers(), credits.chainParties()]);
      let target = convo ? targets.find((t) => t.hotkey === convo!.provider) : undefined;
      if (!target) {
        const held = await credits.perOrigin(w.address);
        const payable = targets.filter((t) => (held.get(t.hotkey) ?? 0) >= need);
        if (payable.length === 0) throw new Error(`no provider is payable with the ${await credits.balance(w.address)} credits of this wallet: buy credits on the Wallet page`);
        // Providers that look run by the relay's operator only when no other is payable.
        const { pool } = independentOf(r, payable, chain);
        target = payable.find((t) => t.hotkey === pending) ?? pool[crypto.getRandomValues(new Uint32Array(1))[0] % pool.length];
      }
      // Seal only to a key the chain holds for this provider (a node can list any key):
      // refuse, send nothing and spend nothing otherwise. The proven URL, operator and
      // model replace what the node listed.
      let route: priv.Route;
      try {
        const proven = await transparency.proveProviderKey(target);
        target = { ...target, url: proven.url, operator: proven.operator, model: proven.model };
        route = await transparency.provenRoute(r, target);
      } catch (err) {
        status.replaceChildren(notice('error', h('span', { id: 'key-refused' }, String(err instanceof Error ? err.message : err))));
        return;
      }
      // A relay and a provider of one operator link the user's address to the prompt:
      // say why, and send only once the user agreed, for this relay and provider.
      const links = operatorLinks(r, target, chain);
      const pair = `${r} ${target.hotkey}`;
      if (links.length > 0 && !acceptedPairs.has(pair)) {
        const anyway = h('button', { type: 'button', id: 'send-anyway', class: 'secondary' }, 'Send through this relay anyway');
        anyway.addEventListener('click', () => {
          acceptedPairs.add(pair);
          form.requestSubmit();
        });
        status.replaceChildren(
          notice(
            'error',
            h(
              'span',
              { id: 'operator-warning' },
              `The relay ${r} (${relaySource(r)}) and provider ${target.hotkey.slice(0, 12)}… look run by the same operator, who could then see both your address and your prompt: ${links.join('; ')}. `,
              link('/settings', 'Choose another relay'),
              ', or send anyway.',
            ),
          ),
          anyway,
        );
        pending = target.hotkey;
        return;
      }
      convo ??= { id: hex(randomBytes(8)), model: target.model, provider: target.hotkey, created: Date.now(), messages: [] };
      const turn: credits.ChatMessage[] = [...convo.messages, { role: 'user', content: text }];
      render({ ...convo, messages: turn });
      const answerP = h('p', { id: 'streaming-answer' });
      log.append(h('div', { class: 'msg assistant' }, h('span', { class: 'who' }, 'Model'), answerP));
      input.value = '';
      // A 409 means a token was spent already (e.g. sent once before a lost answer):
      // pay again with other tokens, up to three times, as `plexus chat` does.
      let streamed: priv.StreamedResponse | undefined;
      for (let attempt = 1; attempt <= 3; attempt++) {
        // The price of the body actually sent (the history counts), never less than `need`.
        const cost = Math.max(need, credits.creditsFor(credits.chatBody(target.model, turn, max)));
        const taken = await credits.take(w.address, target.hotkey, cost);
        if (!taken) throw new Error('not enough credits for this conversation’s provider: buy more on the Wallet page');
        status.replaceChildren(notice('info', `Sealed to provider ${target.hotkey.slice(0, 12)}… and sent through the relay ${r} (${relaySource(r)}); streaming…`));
        try {
          streamed = await priv.sendStreamed(route, {
            method: 'POST',
            path: '/v1/chat/completions',
            body: new TextEncoder().encode(credits.chatBody(target.model, turn, max)),
            tokens: taken.map((t) => unhex(t.token)),
          });
        } catch (err) {
          await credits.giveBack(w.address, taken);
          throw err;
        }
        if (streamed.head.status === 200) break;
        // A provider spends tokens only for an answer it serves: keep them on any other
        // answer but a 409 (a token was spent before).
        if (streamed.head.status !== 409) await credits.giveBack(w.address, taken);
        let body = '';
        for await (const piece of streamed.body) body += new TextDecoder().decode(piece);
        if (streamed.head.status !== 409 || attempt === 3) throw new Error(`the provider answered HTTP ${streamed.head.status}: ${body.slice(0, 300)}`);
      }
      if (!streamed) throw new Error('no answer');
      const result = await priv.readChatStream(streamed.body, (delta) => {
        answerP.textContent += delta;
      });
      answerP.removeAttribute('id');
      convo.messages = [...turn, { role: 'assistant', content: result.text }];
      await vault.put(PREFIX + convo.id, convo);
      if (new URLSearchParams(location.search).get('c') !== convo.id) history.replaceState(null, '', `/chat?c=${convo.id}`);
      status.replaceChildren(notice('ok', `Answered${result.usage ? ` (${result.usage.completion_tokens ?? '?'} tokens)` : ''}; ${await credits.balance(w.address)} credits left. Saved only in this browser.`));
    } catch (err) {
      if (String(err).includes('cannot reach')) forgetFound();
      status.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    } finally {
      send.disabled = false;
    }
  });

  return h(
    'section',
    { class: 'chat-page' },
    h('h1', {}, 'Private chat'),
    h('p', { class: 'hint' }, w ? `Wallet “${w.name}”: ${held} credits.` : 'No wallet yet.', ' ', link('/wallet', 'Buy credits')),
    h('div', { class: 'chat-layout' }, historyNav, h('div', { class: 'chat-main' }, convo ? conversationHead(convo) : null, log, form)),
    h('details', { class: 'panel', open: true }, h('summary', {}, 'Who can see what'), privacyTable()),
  );
}

function conversationHead(c: Conversation): HTMLElement {
  const remove = h('button', { type: 'button', class: 'secondary', id: 'delete-chat' }, 'Delete this conversation');
  remove.addEventListener('click', async () => {
    if (!confirm('Delete this conversation from this browser? Nothing else holds a copy.')) return;
    await vault.remove(PREFIX + c.id);
    history.pushState(null, '', '/chat');
    dispatchEvent(new PopStateEvent('popstate'));
  });
  return h('div', { class: 'inline' }, h('p', { class: 'hint' }, `Provider ${c.provider.slice(0, 14)}… serving ${c.model}. `), remove);
}
