// Wallet: create or import a BIP-39 wallet (same keys and addresses as `plexus wallet`),
// see balances, send PLX, buy credits. Keys never leave this page.

import { field, h, kv, link, notice } from '../dom';
import * as api from '../lib/api';
import { formatPlx, parsePlx } from '../lib/codec';
import * as credits from '../lib/credits';
import { newMnemonic, parseAddress } from '../lib/keys';
import * as wallets from '../lib/wallet';
import { relay } from '../settings';

type Rerender = () => void;

/** Wallets unlocked in this tab with a password that `passwordProblem` refuses. */
const weakUnlocked = new Set<string>();

export async function walletPage(rerender: Rerender): Promise<HTMLElement> {
  const all = await wallets.list();
  let activeName = wallets.active();
  if (!all.some((w) => w.name === activeName)) activeName = all[0]?.name ?? null;
  const active = all.find((w) => w.name === activeName);
  const root = h('section', {}, h('h1', {}, 'Wallet'));
  if (all.length > 1) {
    const select = h('select', { id: 'wallet-select' }, all.map((w) => h('option', { value: w.name, selected: w.name === activeName }, `${w.name} (${w.address.slice(0, 12)}…)`)));
    select.addEventListener('change', () => {
      wallets.setActive(select.value);
      rerender();
    });
    root.append(field('Active wallet', select));
  }
  if (active) root.append(await activeWallet(active, rerender));
  root.append(h('div', { class: 'columns' }, createForm(rerender), importForm(rerender)));
  return root;
}

async function activeWallet(w: wallets.StoredWallet, rerender: Rerender): Promise<HTMLElement> {
  const acct = await api.get<api.Account>(`/v1/accounts/${w.address}`);
  const held = await credits.balance(w.address);
  const key = wallets.unlockedKey(w.name);
  const box = h(
    'div',
    { class: 'panel', id: 'active-wallet' },
    h('h2', {}, `Wallet “${w.name}”`),
    kv([
      ['Address', h('code', { id: 'wallet-address' }, w.address)],
      ['Balance', h('span', { id: 'wallet-balance' }, `${formatPlx(BigInt(acct.balance))} PLX`)],
      ['Private credits', h('span', { id: 'wallet-credits' }, String(held))],
      ['Explorer', link(`/accounts/${w.address}`, 'account page, purchases and balance proof')],
    ]),
  );
  if (!key) {
    const password = h('input', { type: 'password', autocomplete: 'current-password', required: true });
    const out = h('div', { 'aria-live': 'polite' });
    const form = h('form', { class: 'inline' }, field('Password', password), h('button', { type: 'submit' }, 'Unlock'), out);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await wallets.unlock(w.name, password.value);
        weakUnlocked.add(w.name);
        if (!wallets.passwordProblem(password.value)) weakUnlocked.delete(w.name);
        rerender();
      } catch (err) {
        out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
      }
    });
    box.append(h('p', {}, 'Locked. Unlock it to send PLX or buy credits (the key stays in this tab’s memory).'), form);
    return box;
  }
  const lockButton = h('button', { type: 'button', class: 'secondary' }, 'Lock');
  lockButton.addEventListener('click', () => {
    wallets.lock(w.name);
    rerender();
  });
  const manage = manageForm(w, rerender);
  if (weakUnlocked.has(w.name)) {
    box.append(notice('error', h('span', { id: 'weak-password' }, 'This wallet’s password is too weak to guard its key if this browser’s storage is copied: choose a new one under “Recovery phrase, password and removal”.')));
  }
  const pending = await pendingDeposits(w);
  box.append(h('div', { class: 'columns' }, sendForm(w, rerender), buyForm(w, rerender), stakeForm(w)), ...(pending ? [pending] : []), manage, lockButton);
  return box;
}

/** Stake to a validator hotkey (own or delegated), or take stake back. */
function stakeForm(w: wallets.StoredWallet): HTMLElement {
  const hotkey = h('input', { type: 'text', name: 'hotkey', required: true, placeholder: 'plx1… (a validator hotkey)', autocomplete: 'off', spellcheck: 'false' });
  const amount = h('input', { type: 'text', name: 'stake-amount', required: true, inputmode: 'decimal', placeholder: '10' });
  const action = h('select', { name: 'action' }, h('option', { value: 'add_stake' }, 'Add stake'), h('option', { value: 'remove_stake' }, 'Remove stake'));
  const out = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Sign and send');
  const form = h('form', { class: 'panel' }, h('h3', {}, 'Stake'), h('p', { class: 'hint' }, 'Nominate a validator: its dividends are shared with you after its take.'), field('Validator hotkey', hotkey), field('Amount (PLX)', amount), field('Action', action), button, out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = wallets.unlockedKey(w.name);
    if (!key) return;
    button.disabled = true;
    try {
      parseAddress(hotkey.value);
      const type = action.value === 'remove_stake' ? 'remove_stake' : 'add_stake';
      const sent = await api.sendPayload(key, { type, hotkey: hotkey.value.trim(), amount: parsePlx(amount.value) }, () => out.replaceChildren(notice('info', 'Submitted; waiting for finality…')));
      out.replaceChildren(notice('ok', h('span', {}, `Done in block ${sent.height}: `, link(`/tx/${sent.hash}`, sent.hash.slice(0, 16) + '…'))));
      await refreshBalances(w);
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** Show the recovery phrase, or forget the wallet in this browser; both ask the password. */
function manageForm(w: wallets.StoredWallet, rerender: Rerender): HTMLElement {
  const password = h('input', { type: 'password', autocomplete: 'current-password' });
  const out = h('div', { 'aria-live': 'polite' });
  const reveal = h('button', { type: 'button', class: 'secondary' }, 'Show the recovery phrase');
  const forget = h('button', { type: 'button', class: 'secondary' }, 'Forget this wallet here');
  reveal.addEventListener('click', async () => {
    try {
      out.replaceChildren(h('p', { class: 'mnemonic' }, await wallets.revealMnemonic(w.name, password.value)));
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    }
  });
  forget.addEventListener('click', async () => {
    try {
      await wallets.revealMnemonic(w.name, password.value);
      if (!confirm(`Forget wallet “${w.name}” in this browser? Only its recovery phrase can restore it.`)) return;
      await wallets.forget(w.name);
      wallets.setActive(null);
      rerender();
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    }
  });
  const next = h('input', { type: 'password', name: 'new-password', autocomplete: 'new-password' });
  const change = h('button', { type: 'button', class: 'secondary', id: 'change-password' }, 'Change the password');
  change.addEventListener('click', async () => {
    try {
      await wallets.changePassword(w.name, password.value, next.value);
      weakUnlocked.delete(w.name);
      password.value = next.value = '';
      out.replaceChildren(notice('ok', 'Password changed: the key is sealed again under the new one.'));
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    }
  });
  return h(
    'details',
    { class: 'panel', open: weakUnlocked.has(w.name) || null },
    h('summary', {}, 'Recovery phrase, password and removal'),
    field('Password', password),
    h('div', { class: 'inline' }, reveal, forget),
    field('New password', next, `At least ${wallets.MIN_PASSWORD_LENGTH} characters; a few unrelated words make a strong one.`),
    change,
    out,
  );
}

/** Update the shown balance and credits of `w` in place (if it is still shown). */
async function refreshBalances(w: wallets.StoredWallet): Promise<void> {
  const acct = await api.get<api.Account>(`/v1/accounts/${w.address}`);
  const held = await credits.balance(w.address);
  const shown = document.querySelector('#wallet-address')?.textContent === w.address;
  if (!shown) return;
  document.querySelector('#wallet-balance')!.textContent = `${formatPlx(BigInt(acct.balance))} PLX`;
  document.querySelector('#wallet-credits')!.textContent = String(held);
}

function sendForm(w: wallets.StoredWallet, rerender: Rerender): HTMLElement {
  const to = h('input', { type: 'text', name: 'to', required: true, placeholder: 'plx1…', autocomplete: 'off', spellcheck: 'false' });
  const amount = h('input', { type: 'text', name: 'amount', required: true, inputmode: 'decimal', placeholder: '1.5' });
  const out = h('div', { 'aria-live': 'polite', id: 'send-result' });
  const button = h('button', { type: 'submit' }, 'Send');
  const form = h('form', { class: 'panel' }, h('h3', {}, 'Send PLX'), field('To address', to), field('Amount (PLX)', amount), button, out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = wallets.unlockedKey(w.name);
    if (!key) return rerender();
    button.disabled = true;
    try {
      parseAddress(to.value);
      const sent = await api.sendPayload(key, { type: 'transfer', to: to.value.trim(), amount: parsePlx(amount.value) }, () => out.replaceChildren(notice('info', 'Submitted; waiting for finality…')));
      out.replaceChildren(notice('ok', h('span', {}, `Sent, finalized in block ${sent.height}: `, link(`/tx/${sent.hash}`, sent.hash.slice(0, 16) + '…'))));
      await refreshBalances(w);
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function buyForm(w: wallets.StoredWallet, rerender: Rerender): HTMLElement {
  const bundle = h('select', { name: 'bundle' }, [10, 100, 1000].map((n) => h('option', { value: n }, `${n} credits`)));
  const out = h('div', { 'aria-live': 'polite', id: 'buy-result' });
  const button = h('button', { type: 'submit', id: 'buy-credits' }, 'Buy credits');
  const form = h(
    'form',
    { class: 'panel' },
    h('h3', {}, 'Buy private credits'),
    h('p', { class: 'hint' }, 'Pays an issuer on chain, then fetches blind-signed tokens through the relay: the issuer cannot link them to this wallet, and each is bound to a provider chosen at random.'),
    field('Bundle', bundle, 'Fixed sizes, so amounts do not identify you. One credit buys up to 512 tokens of answer.'),
    button,
    out,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = wallets.unlockedKey(w.name);
    if (!key) return rerender();
    button.disabled = true;
    try {
      const r = await relay();
      const result = await credits.buy(key, Number(bundle.value), r, (step) => out.replaceChildren(notice('info', `${step}…`)));
      out.replaceChildren(notice('ok', h('span', {}, `Bought ${result.tokens} credits (deposit ${result.deposit.id}, `, link(`/tx/${result.txHash}`, 'transaction'), ').')));
      await refreshBalances(w);
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/**
 * Deposits this wallet paid whose tokens this browser does not hold: a purchase whose
 * issuance failed after paying, or one made elsewhere (then the issuer refuses: each
 * deposit is signed once).
 */
async function pendingDeposits(w: wallets.StoredWallet): Promise<HTMLElement | null> {
  const { deposits } = await api.get<{ deposits: api.Deposit[] }>(`/v1/credits/deposits?buyer=${w.address}`);
  const fetched = new Set(await credits.fetchedDeposits(w.address));
  const pending = deposits.filter((d) => !fetched.has(d.id));
  if (pending.length === 0) return null;
  const out = h('div', { 'aria-live': 'polite' });
  const rows = pending.map((d) => {
    const button = h('button', { type: 'button', class: 'secondary' }, `Fetch the ${d.tokens} tokens of deposit ${d.id}`);
    button.addEventListener('click', async () => {
      const key = wallets.unlockedKey(w.name);
      if (!key) return;
      button.disabled = true;
      try {
        out.replaceChildren(notice('info', `Fetching the tokens of deposit ${d.id} through the relay…`));
        const got = await credits.fetchDeposit(key, d, await relay());
        out.replaceChildren(notice('ok', `Fetched ${got.length} tokens.`));
        button.remove();
        await refreshBalances(w);
      } catch (err) {
        out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
        button.disabled = false;
      }
    });
    return h('li', {}, `Deposit ${d.id}: ${d.credits} credits paid in block ${d.block} `, button);
  });
  return h(
    'div',
    { class: 'panel' },
    h('h3', {}, 'Paid purchases without tokens in this browser'),
    h('p', { class: 'hint' }, 'A purchase whose issuance failed after paying keeps its funds in escrow: fetch its tokens here. A deposit already issued elsewhere (another browser, the command line) is refused by the issuer.'),
    h('ul', {}, rows),
    out,
  );
}

function createForm(rerender: Rerender): HTMLElement {
  const name = h('input', { type: 'text', name: 'name', required: true, value: 'default', autocomplete: 'off' });
  const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'new-password' });
  const words = h('select', { name: 'words' }, h('option', { value: '12' }, '12 words'), h('option', { value: '24' }, '24 words'));
  const out = h('div', { 'aria-live': 'polite', id: 'create-result' });
  const form = h('form', { class: 'panel', id: 'create-wallet' }, h('h2', {}, 'Create a wallet'), field('Name', name), field('Password', password, `At least ${wallets.MIN_PASSWORD_LENGTH} characters; a few unrelated words make a strong one. It encrypts the key in this browser.`), field('Mnemonic length', words), h('button', { type: 'submit' }, 'Create wallet'), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const phrase = newMnemonic(words.value === '24' ? 24 : 12);
      await wallets.save(name.value.trim(), phrase, password.value);
      wallets.setActive(name.value.trim());
      const done = h('button', { type: 'button' }, 'I wrote them down');
      done.addEventListener('click', rerender);
      out.replaceChildren(
        notice('ok', 'Created. Write these words down: they are the only way to restore this wallet (also with `plexus wallet regen`).'),
        h('p', { class: 'mnemonic', id: 'new-mnemonic' }, phrase),
        done,
      );
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    }
  });
  return form;
}

function importForm(rerender: Rerender): HTMLElement {
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' });
  const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'new-password' });
  const phrase = h('textarea', { name: 'mnemonic', required: true, rows: 3, spellcheck: 'false', autocomplete: 'off' });
  const out = h('div', { 'aria-live': 'polite', id: 'import-result' });
  const form = h('form', { class: 'panel', id: 'import-wallet' }, h('h2', {}, 'Import a wallet'), field('Name', name), field('Password', password, `At least ${wallets.MIN_PASSWORD_LENGTH} characters; a few unrelated words make a strong one. It encrypts the key in this browser.`), field('Mnemonic (12 or 24 words)', phrase), h('button', { type: 'submit' }, 'Import wallet'), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await wallets.save(name.value.trim(), phrase.value, password.value);
      wallets.setActive(name.value.trim());
      rerender();
    } catch (err) {
      out.replaceChildren(notice('error', String(err instanceof Error ? err.message : err)));
    }
  });
  return form;
}
