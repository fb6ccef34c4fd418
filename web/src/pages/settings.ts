// Settings: which relay carries private requests.

import { field, h, notice } from '../dom';
import { relayTargets } from '../lib/credits';
import { candidates, forgetFound, savedRelay, setRelay } from '../settings';

export function settingsPage(): HTMLElement {
  const input = h('input', { type: 'url', id: 'relay-url', value: savedRelay() ?? '', placeholder: candidates()[0] });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'panel' }, field('Relay URL', input, 'Pick a relay run by someone other than your provider. Empty: try this node’s port + 2, then 127.0.0.1:7080.'), h('button', { type: 'submit' }, 'Save and test'), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setRelay(input.value.trim() || null);
    forgetFound();
    const url = input.value.trim() || candidates()[0];
    try {
      const targets = await relayTargets(url);
      out.replaceChildren(notice('ok', `${url} answers: ${targets.length} gateways reachable.`));
    } catch (err) {
      out.replaceChildren(notice('error', `${url} does not answer: ${String(err)}`));
    }
  });
  return h('section', {}, h('h1', {}, 'Settings'), form);
}
