// Settings: which relay carries private requests. Changing it takes two steps, both
// the user's: check a URL (does it answer, which providers look like its operator's),
// then confirm it. A suggestion from a link only fills the field.

import { field, h, notice } from '../dom';
import * as credits from '../lib/credits';
import { operatorLinks } from '../lib/operator';
import { configuredAnchor, forgetAnchor, storedAnchor } from '../lib/transparency';
import { candidates, confirmRelay, droppedRelay, normalizeRelay, relaySource, savedRelay, suggestedRelay } from '../settings';

export function settingsPage(): HTMLElement {
  const saved = savedRelay();
  const offered = suggestedRelay() ?? droppedRelay();
  const input = h('input', { type: 'url', id: 'relay-url', value: offered ?? saved ?? '', placeholder: candidates()[0], autocomplete: 'off', spellcheck: 'false' });
  const out = h('div', { 'aria-live': 'polite', id: 'relay-result' });
  const current = h('p', { id: 'relay-current' }, saved ? `In use: ${saved} (${relaySource(saved)}).` : `No relay chosen: the page uses ${candidates()[0]} (${relaySource(candidates()[0])}) or, failing it, a relay on this machine.`);
  const notes: HTMLElement[] = [];
  if (suggestedRelay()) {
    notes.push(notice('info', h('span', { id: 'relay-suggested' }, `A link suggested the relay ${suggestedRelay()}. Nothing changed: check it below and confirm only if you chose it yourself. A relay sees your address; run by your provider’s operator, it could link you to your prompts.`)));
  } else if (droppedRelay()) {
    notes.push(notice('info', `An earlier version of this app had stored the relay ${droppedRelay()}, possibly from a link. It is no longer used: check and confirm it again if it is yours.`));
  }
  const form = h(
    'form',
    { class: 'panel', id: 'relay-form' },
    field('Relay URL', input, 'Pick a relay run by someone other than your provider. Empty: this node’s port + 2, then 127.0.0.1:7080.'),
    h('button', { type: 'submit' }, 'Check this relay'),
    out,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const typed = input.value.trim();
    if (!typed) {
      const reset = h('button', { type: 'button', id: 'relay-confirm' }, 'Use the default relays');
      reset.addEventListener('click', () => {
        confirmRelay(null);
        current.textContent = `No relay chosen: the page uses ${candidates()[0]} (${relaySource(candidates()[0])}).`;
        out.replaceChildren(notice('ok', 'Back to the default relays.'));
      });
      out.replaceChildren(notice('info', `Without a relay of your own, the page uses ${candidates()[0]}, the node operator’s host.`), reset);
      return;
    }
    let url: string;
    try {
      url = normalizeRelay(typed);
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
      return;
    }
    out.replaceChildren(notice('info', `Checking ${url}…`));
    let targets: string[];
    try {
      targets = await credits.relayTargets(url);
    } catch (err) {
      out.replaceChildren(notice('error', `${url} does not answer as a Plexus relay: ${String(err)}`));
      return;
    }
    const findings: HTMLElement[] = [notice('ok', `${url} answers: ${targets.length} gateways reachable.`)];
    try {
      const [providers, chain] = await Promise.all([credits.providers(), credits.chainParties()]);
      const linked = providers.map((p) => [p, operatorLinks(url, p, chain)] as const).filter(([, l]) => l.length > 0);
      if (linked.length > 0) {
        findings.push(
          notice(
            'error',
            h(
              'span',
              { id: 'relay-operator-warning' },
              `${linked.length} of ${providers.length} providers look run by this relay’s operator, who could then link your address to your prompts: `,
              h('ul', {}, linked.map(([p, l]) => h('li', {}, `${p.hotkey.slice(0, 14)}… (${p.model}): ${l.join('; ')}`))),
              'The chat avoids them while others are payable, and asks before sending to one.',
            ),
          ),
        );
      } else {
        findings.push(notice('info', `No provider on chain shares this relay’s host, address block, domain or on-chain owner. That proves nothing about who runs it: choose a relay you have reason to trust.`));
      }
    } catch (err) {
      findings.push(notice('error', `Could not compare the relay with the providers on chain: ${String(err)}`));
    }
    const confirm = h('button', { type: 'button', id: 'relay-confirm' }, `Use ${url} for private requests`);
    confirm.addEventListener('click', () => {
      if (input.value.trim() && normalizeRelay(input.value.trim()) !== url) {
        out.replaceChildren(notice('error', 'The URL changed since the check: check it again.'));
        return;
      }
      confirmRelay(url);
      current.textContent = `In use: ${url} (${relaySource(url)}).`;
      out.replaceChildren(notice('ok', `Private requests now go through ${url}.`));
    });
    out.replaceChildren(...findings, confirm);
  });
  return h('section', {}, h('h1', {}, 'Settings'), current, ...notes, form, trustedChain());
}

/**
 * The chain whose validators this browser trusts to prove provider keys: built in,
 * pinned at first use, or none yet. Forgetting it (after a deliberate change of
 * network) pins the next chain met.
 */
function trustedChain(): HTMLElement {
  const configured = configuredAnchor();
  const pinned = storedAnchor();
  const describe = (a: { chainId: bigint; validators: string[] }) => `chain ${a.chainId}, ${a.validators.length} validator(s): ${a.validators.map((v) => `${v.slice(0, 12)}…`).join(', ')}`;
  const out = h('div', { 'aria-live': 'polite', id: 'anchor-result' });
  const panel = h(
    'div',
    { class: 'panel', id: 'trusted-chain' },
    h('h2', {}, 'Chain trusted for provider keys'),
    h(
      'p',
      { class: 'hint' },
      'A prompt is sealed only to a key proven on chain under a block these validators finalized. ',
      configured ? `Built into this app: ${describe(configured)}.` : pinned ? `Pinned by this browser the first time it met the chain: ${describe(pinned)}.` : 'None pinned yet: the first chain this browser meets is pinned.',
    ),
    out,
  );
  if (!configured && pinned) {
    const forget = h('button', { type: 'button', class: 'secondary', id: 'forget-anchor' }, 'Forget the pinned chain');
    forget.addEventListener('click', () => {
      if (!confirm('Forget the pinned chain? Do this only if you changed networks on purpose: the next node you use is then trusted as it is.')) return;
      forgetAnchor();
      out.replaceChildren(notice('ok', 'Forgotten: the next chain this browser meets is pinned.'));
      forget.remove();
    });
    panel.append(forget);
  }
  return panel;
}
