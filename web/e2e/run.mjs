// End-to-end test of the web app against a whole local network (`plexus devnet`),
// driven through Debian's Chromium by playwright-core: follow a link naming another
// relay (shown, never stored nor used), choose the relay in Settings (checked, flagged
// as sharing the providers' machine, confirmed), see a one-character wallet password
// refused, create a wallet, fund it by a transfer from the imported faucet wallet, buy
// credits, see a provider key forged by the node refused (nothing reaches the relay),
// chat privately with a streamed answer (after agreeing to a relay on the
// provider's machine), reload and find the history (kept only in this browser,
// encrypted), see the purchase in the explorer, verify a balance proof against the
// header's finality certificate (and reject a forged certificate); meanwhile run a
// data task through the command line (task, submission, validator duty) and then find
// its signed score breakdown verified in the page and download its published dataset
// from the browser; then visit every page at desktop and phone width, checking labels,
// keyboard use, horizontal overflow and that no request leaves for another origin.
//
//   node e2e/run.mjs [--plexus target/debug/plexus] [--screenshots DIR] [--port-base N]

import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const root = resolve(new URL('../..', import.meta.url).pathname);
const plexus = resolve(args.plexus ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'plexus'));
const shots = args.screenshots ? resolve(args.screenshots) : undefined;
const portBase = Number(args['port-base'] ?? 17400 + Math.floor(Math.random() * 400) * 6);
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const PROMPT = 'What is the capital of France?';

const t0 = Date.now();
const log = (...m) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...m);
const failures = [];
function check(ok, what) {
  if (ok) log(`ok: ${what}`);
  else {
    failures.push(what);
    log(`FAIL: ${what}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'plexus-web-e2e-'));
// --ready FILE: use a devnet that is already running (its ready file) instead.
const readyFile = args.ready ? resolve(args.ready) : join(dir, 'ready.json');
let devnetOut = '';
let devnetExited = false;
let devnet;
if (!args.ready) {
  if (!existsSync(plexus)) throw new Error(`no plexus binary at ${plexus}: build it with cargo build -p plexus-cli`);
  // The devnet's provider loads the default model from DIR/models: the installed ones.
  const models = join(process.env.PLEXUS_HOME ?? join(homedir(), '.plexus'), 'models');
  mkdirSync(join(dir, 'net'), { recursive: true });
  symlinkSync(models, join(dir, 'net', 'models'));
  log(`devnet in ${dir}, ports from ${portBase}`);
  devnet = spawn(plexus, ['devnet', '--dir', join(dir, 'net'), '--ready-file', readyFile, '--port-base', String(portBase)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  devnet.stdout.on('data', (d) => (devnetOut += d));
  devnet.stderr.on('data', (d) => (devnetOut += d));
  devnet.on('exit', () => (devnetExited = true));
}

/** `plexus ARGS --json` with the devnet's environment; resolves to the parsed output. */
function cli(netDir, node, ...argv) {
  const env = { ...process.env, PLEXUS_HOME: netDir, PLEXUS_WALLETS: join(netDir, 'wallets'), PLEXUS_NODE: node, PLEXUS_PASSWORD: 'devnet', RUST_LOG: 'warn' };
  return new Promise((res, rej) =>
    execFile(plexus, ['--json', ...argv], { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`plexus ${argv.join(' ')} failed: ${stderr || err.message}`));
      else res(stdout.trim() ? JSON.parse(stdout) : {});
    }),
  );
}

/**
 * A data task from the command line on the devnet: a data subnet, a task on the
 * penguins fixture (public reference), one Gaussian copula submission, and the
 * validator duty (score, weights, publish, signed report). Resolves to the task id.
 */
async function dataFlow(netDir, node) {
  const run = (...a) => cli(netDir, node, ...a);
  const fixtures = join(root, 'synth/tests/fixtures');
  const work = join(dir, 'data');
  mkdirSync(work, { recursive: true });
  for (const f of ['penguins.csv', 'penguins.json']) copyFileSync(join(fixtures, f), join(work, f));
  const meta = join(work, 'penguins.json');
  const reference = join(work, 'penguins.csv');
  await run('wallet', 'create', '--name', 'requester', '--hotkey', 'validator');
  await run('wallet', 'create', '--name', 'requester', '--hotkey', 'contributor');
  await run('wallet', 'faucet', '--name', 'requester', '--amount', '1000');
  const { netuid } = await run('subnet', 'create', '--name', 'requester', '--subnet-name', 'penguins', '--mechanism', 'data');
  for (const hotkey of ['validator', 'contributor']) await run('subnet', 'register', '--name', 'requester', '--hotkey', hotkey, '--netuid', String(netuid));
  await run('stake', 'add', '--name', 'requester', '--hotkey', 'validator', '--amount', '100');
  const created = await run('data', 'task', 'create', '--name', 'requester', '--netuid', String(netuid), '--metadata', meta, '--reference', reference, '--bounty', '20', '--commit-blocks', '20', '--reveal-blocks', '6');
  const task = String(created.task.id);
  const synthetic = join(work, 'synthetic.csv');
  await run('data', 'generate', '--task', task, '--metadata', meta, '--stratify', 'species', '--seed', '7', '--out', synthetic);
  await run('data', 'submit', '--name', 'requester', '--hotkey', 'contributor', '--task', task, '--file', synthetic);
  for (let i = 0; ; i++) {
    const status = await (await fetch(`${node}/v1/status`)).json();
    if (status.node.finalized_height > created.task.reveal_deadline) break;
    if (i > 600) throw new Error('the devnet did not pass the reveal deadline');
    await new Promise((r) => setTimeout(r, 300));
  }
  await run('data', 'validate', '--name', 'requester', '--hotkey', 'validator', '--task', task, '--metadata', meta, '--reference', reference);
  return task;
}

async function stopDevnet() {
  if (!devnet || devnetExited) return;
  devnet.kill('SIGINT');
  for (let i = 0; i < 100 && !devnetExited; i++) await new Promise((r) => setTimeout(r, 100));
  if (!devnetExited) devnet.kill('SIGKILL');
}

let browser;
try {
  const until = Date.now() + 240_000;
  while (!existsSync(readyFile)) {
    if (devnetExited) throw new Error(`plexus devnet exited:\n${devnetOut.slice(-3000)}`);
    if (Date.now() > until) throw new Error(`plexus devnet was not ready in time:\n${devnetOut.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const ready = JSON.parse(readFileSync(readyFile, 'utf8'));
  log('devnet ready', ready.web);
  // The data task runs beside the browser flow (it waits on block deadlines).
  const dataTask = args.ready
    ? Promise.resolve(undefined)
    : dataFlow(join(dir, 'net'), ready.node).then(
        (task) => (log(`data task ${task} scored and published`), task),
        (e) => (failures.push(String(e)), log('FAIL: data flow', String(e)), undefined),
      );
  // --web URL, --relay URL: the app or the relay elsewhere (e.g. behind a dev proxy).
  const web = (args.web ?? ready.web).replace(/\/$/, '');
  ready.relay = args.relay ?? ready.relay;
  const relayOrigin = new URL(ready.relay).origin;

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    // launch() gives each run a fresh temporary profile (its own --user-data-dir).
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postDataBuffer() }));
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  if (shots) mkdirSync(shots, { recursive: true });
  const taken = new Set();
  const shot = async (name, p = page) => {
    taken.add(name);
    if (shots) await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };
  // --- A link naming another relay (issue 15, finding 14): shown, never stored nor used. ---
  const ATTACK_RELAY = 'http://127.0.0.9:9';
  await page.goto(`${web}/?relay=${encodeURIComponent(ATTACK_RELAY)}`);
  await page.waitForSelector('main h1');
  const suggested = await page.waitForSelector('#relay-suggestion', { timeout: 5_000 }).then(() => true, () => false);
  const afterLink = await page.evaluate(() => ({ url: location.href, stored: Object.values(localStorage).join(' ') }));
  await page.goto(`${web}/`);
  await page.waitForSelector('.cards');
  const afterReload = await page.evaluate(() => ({ banner: Boolean(document.querySelector('#relay-suggestion')), stored: Object.values(localStorage).join(' ') }));
  check(
    suggested && !afterLink.url.includes('relay=') && !afterLink.stored.includes('127.0.0.9') && !afterReload.banner && !afterReload.stored.includes('127.0.0.9'),
    `a relay link does not replace the relay (suggestion shown: ${suggested}; stored: ${JSON.stringify(afterLink.stored)}; address: ${afterLink.url})`,
  );
  await shot('explorer');

  // The relay is chosen in Settings only: check it, see who it may share an operator
  // with (on a devnet everything runs on this machine), then confirm.
  await page.click('#nav a[href="/settings"]');
  await page.waitForSelector('#relay-url');
  await page.fill('#relay-url', ready.relay);
  await page.click('form:has(#relay-url) button[type=submit]');
  const confirmable = await page.waitForSelector('#relay-confirm', { timeout: 30_000 }).then(() => true, () => false);
  const relayWarning = (await page.textContent('#relay-form').catch(() => '')) ?? '';
  check(confirmable && /look run by this relay.s operator/.test(relayWarning) && /this very machine/.test(relayWarning), `Settings flags a relay on the providers' machine before it is confirmed: ${relayWarning.trim().slice(0, 160)}`);
  if (confirmable) await page.click('#relay-confirm');
  const storedRelay = await page.evaluate(() => localStorage.getItem('plexus.relay.confirmed') ?? localStorage.getItem('plexus.relay'));
  check(Boolean(storedRelay?.includes(ready.relay.replace(/\/$/, ''))), `the relay confirmed in Settings is stored (${storedRelay})`);

  // --- Wallets: create alice, import the faucet, send alice PLX. ---
  await page.click('#nav a[href="/wallet"]');
  await page.waitForSelector('#create-wallet');
  // A one-character password is refused with a reason (issue 15, finding 18).
  await page.fill('#create-wallet input[name=name]', 'weak');
  await page.fill('#create-wallet input[name=password]', 'x');
  await page.click('#create-wallet button[type=submit]');
  await page.waitForSelector('#create-result .notice', { timeout: 60_000 });
  const weak = (await page.textContent('#create-result')).trim();
  check(/at least 12 characters/.test(weak) && !(await page.$('#new-mnemonic')), `a one-character wallet password is refused: ${weak.slice(0, 100)}`);
  await page.fill('#create-wallet input[name=name]', 'alice');
  await page.fill('#create-wallet input[name=password]', 'alice-password');
  await page.click('#create-wallet button[type=submit]');
  const mnemonic = (await page.textContent('#new-mnemonic', { timeout: 60_000 })).trim();
  check(mnemonic.split(' ').length === 12, 'a new wallet shows a 12-word mnemonic');
  await page.click('#create-result button');
  await page.waitForSelector('#wallet-address');
  const alice = (await page.textContent('#wallet-address')).trim();
  check(/^plx1[02-9ac-hj-np-z]{58}$/.test(alice), `alice has a plx1 address (${alice})`);

  await page.fill('#import-wallet input[name=name]', 'faucet');
  await page.fill('#import-wallet input[name=password]', 'faucet-password');
  await page.fill('#import-wallet textarea[name=mnemonic]', ready.faucet_mnemonic);
  await page.click('#import-wallet button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#active-wallet h2')?.textContent?.includes('faucet'), null, { timeout: 60_000 });
  await page.fill('#active-wallet input[name=to]', alice);
  await page.fill('#active-wallet input[name=amount]', '5');
  await page.click('#active-wallet form:has(input[name=to]) button[type=submit]');
  await page.waitForSelector('#send-result .notice.ok', { timeout: 90_000 });
  check(true, 'the faucet wallet sent alice 5 PLX, signed in the browser and finalized');
  // Nominate the devnet's validator: AddStake, signed here too.
  const validatorHotkey = await page.evaluate(async () => {
    const mg = await (await fetch('/v1/subnets/1/metagraph')).json();
    return mg.neurons.find((n) => n.validator_permit && n.dividends > 0)?.hotkey ?? mg.neurons.find((n) => n.validator_permit)?.hotkey;
  });
  await page.fill('#active-wallet input[name=hotkey]', validatorHotkey);
  await page.fill('#active-wallet input[name=stake-amount]', '1');
  await page.click('#active-wallet form:has(input[name=hotkey]) button[type=submit]');
  await page.waitForSelector('#active-wallet form:has(input[name=hotkey]) .notice.ok, #active-wallet form:has(input[name=hotkey]) .notice.error', { timeout: 90_000 });
  const staked = await page.textContent('#active-wallet form:has(input[name=hotkey]) [aria-live]');
  check(/Done in block/.test(staked), `the faucet wallet staked 1 PLX to the validator: ${staked.trim().slice(0, 80)}`);

  await page.selectOption('#wallet-select', 'alice');
  await page.waitForFunction(() => document.querySelector('#active-wallet h2')?.textContent?.includes('alice'));
  await page.waitForFunction(() => document.querySelector('#wallet-balance')?.textContent?.startsWith('5 '), null, { timeout: 30_000 });
  check(true, 'alice holds 5 PLX');
  await shot('wallet');

  // --- Buy credits: BuyCredits on chain, then blind issuance through the relay. ---
  await page.click('#buy-credits');
  await page.waitForSelector('#buy-result .notice.ok, #buy-result .notice.error', { timeout: 180_000 });
  const bought = await page.textContent('#buy-result');
  check(/Bought 10 credits/.test(bought), `credits bought: ${bought.trim()}`);
  await page.waitForFunction(() => document.querySelector('#wallet-credits')?.textContent === '10', null, { timeout: 30_000 });

  // --- Chat privately, streamed. ---
  await page.click('#nav a[href="/chat"]');
  await page.waitForSelector('#chat-input');
  await page.evaluate(() => {
    window.__deltas = 0;
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target.nodeType === 3 ? r.target.parentElement : r.target;
        if (el?.id === 'streaming-answer') window.__deltas++;
      }
    }).observe(document.querySelector('#chat-log'), { subtree: true, childList: true, characterData: true });
  });
  // A node (or anyone on its http:// link) that lists the attacker's OHTTP key for
  // every provider (issue 15, finding 7): the page proves keys on chain, so it refuses,
  // sends nothing to the relay and spends no credit.
  const FORGED_PUBLIC_KEY = 'ab'.repeat(32);

// Swap the X25519 public key of every config in an `application/ohttp-keys` list (each
// config: a 2-byte length, key id, KEM id, then the 32-byte key): a provider publishes
// its current and next keys, and the page may seal to either.
function forgeEveryKey(list) {
  let out = '';
  for (let at = 0; at + 4 <= list.length; ) {
    const len = parseInt(list.slice(at, at + 4), 16);
    const config = list.slice(at + 4, at + 4 + 2 * len);
    out += list.slice(at, at + 4) + config.slice(0, 6) + FORGED_PUBLIC_KEY + config.slice(70);
    at += 4 + 2 * len;
  }
  return out;
}
  await page.route('**/v1/subnets/*/metagraph', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    for (const n of body.neurons) {
      // A key list is u16 length ‖ key id ‖ KEM id (2) ‖ public key (32) ‖ …: swap the public key.
      if (n.endpoint?.ohttp_keys) n.endpoint.ohttp_keys = forgeEveryKey(n.endpoint.ohttp_keys);
    }
    await route.fulfill({ response: res, json: body });
  });
  await page.fill('#chat-input', `${PROMPT} (sealed to a forged key?)`);
  const postsBeforeForged = requests.filter((r) => r.url.startsWith(relayOrigin) && r.method === 'POST').length;
  await page.keyboard.press('Enter');
  await page.waitForSelector('#chat-status .notice', { timeout: 60_000 });
  // Were the key not checked, the relay-and-provider warning would come next: agree, as a user might.
  if (await page.$('#operator-warning')) {
    await page.click('#send-anyway');
    await page.waitForFunction(() => !document.querySelector('#operator-warning') && document.querySelector('#chat-status .notice.ok, #chat-status .notice.error'), null, { timeout: 120_000 });
  }
  const keyRefused = (await page.$('#key-refused')) ? ((await page.textContent('#key-refused')) ?? '').trim() : `no refusal; the page said: ${((await page.textContent('#chat-status')) ?? '').trim()}`;
  const postsForged = requests.filter((r) => r.url.startsWith(relayOrigin) && r.method === 'POST').length;
  check(
    /not proven on chain \(block \d+ proves other keys for it\)/.test(keyRefused) && postsForged === postsBeforeForged,
    `a provider key forged by the node is refused and nothing reaches the relay (${postsForged - postsBeforeForged} sealed requests sent): ${keyRefused.slice(0, 200)}`,
  );
  await page.unroute('**/v1/subnets/*/metagraph');
  await page.fill('#chat-input', PROMPT);
  const postsBefore = requests.filter((r) => r.url.startsWith(relayOrigin) && r.method === 'POST').length;
  await page.keyboard.press('Enter');
  // The devnet's relay and provider share this machine: the page says so and sends
  // nothing until the user agrees (issue 15, finding 14).
  await page.waitForSelector('#chat-status .notice', { timeout: 60_000 });
  const warned = await page.$('#operator-warning');
  const postsWarned = requests.filter((r) => r.url.startsWith(relayOrigin) && r.method === 'POST').length;
  check(Boolean(warned) && postsWarned === postsBefore, `a relay on the provider operator's host is flagged before the prompt is sent: ${((await page.textContent('#chat-status')) ?? '').trim().slice(0, 160)}`);
  if (warned) await page.click('#send-anyway');
  await page.waitForFunction(() => !document.querySelector('#operator-warning') && document.querySelector('#chat-status .notice.ok, #chat-status .notice.error'), null, { timeout: 240_000 });
  const status = await page.textContent('#chat-status');
  const answer = (await page.textContent('#chat-log .msg.assistant:last-child p')).trim();
  const deltas = await page.evaluate(() => window.__deltas);
  check(/Answered/.test(status), `the private chat answered: ${status.trim()}`);
  check(/; 9 credits left/.test(status), 'the refused forged key cost no credit (9 of 10 left after one paid answer)');
  check(answer.length > 0, `the answer is not empty: ${JSON.stringify(answer.slice(0, 120))}`);
  check(deltas >= 2, `the answer streamed in ${deltas} pieces`);
  await shot('chat');
  const conversation = new URL(page.url()).searchParams.get('c');
  check(Boolean(conversation), 'the conversation has its own address');

  // Nothing the page sent carried the prompt in clear, and the relay only got OHTTP.
  const prompt = Buffer.from(PROMPT);
  const leaked = requests.filter((r) => r.body && r.body.includes(prompt));
  check(leaked.length === 0, 'no request carried the prompt in clear');
  const secrets = [mnemonic, ready.faucet_mnemonic].map((m) => Buffer.from(m.split(' ').slice(0, 4).join(' ')));
  const keysLeaked = requests.filter((r) => r.body && secrets.some((m) => r.body.includes(m)) || secrets.some((m) => r.url.includes(m.toString())));
  check(keysLeaked.length === 0, 'no request carried a mnemonic');
  const toRelay = requests.filter((r) => r.url.startsWith(relayOrigin) && r.method === 'POST');
  check(toRelay.length >= 2, `${toRelay.length} sealed requests went to the relay (issuance and chat)`);
  const foreign = requests.filter((r) => ![new URL(web).origin, relayOrigin].includes(new URL(r.url).origin) && !r.url.startsWith('data:') && !r.url.startsWith('blob:'));
  check(foreign.length === 0, `no request left for another origin ${foreign.map((r) => r.url).join(' ')}`);
  check(!requests.some((r) => r.url.startsWith(ATTACK_RELAY)), 'the page never contacted the relay a link named');

  // --- Reload: the history is still here, sealed in IndexedDB. ---
  await page.reload();
  await page.waitForSelector('#conversation-list li a');
  const listed = await page.textContent('#conversation-list');
  check(listed.includes(PROMPT.slice(0, 20)), 'after a reload the conversation is in the history');
  const logText = await page.textContent('#chat-log');
  check(logText.includes(answer.slice(0, 20)), 'after a reload the answer is shown again');
  const sealed = await page.evaluate(async (promptText) => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open('plexus');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const store = db.transaction('sealed').objectStore('sealed');
    const keys = await new Promise((res) => (store.getAllKeys().onsuccess = (e) => res(e.target.result)));
    const chat = keys.find((k) => String(k).startsWith('chat:'));
    const rec = await new Promise((res) => (db.transaction('sealed').objectStore('sealed').get(chat).onsuccess = (e) => res(e.target.result)));
    const text = new TextDecoder('latin1').decode(new Uint8Array(rec.ct));
    const key = await new Promise((res) => (db.transaction('keys').objectStore('keys').get('device').onsuccess = (e) => res(e.target.result)));
    return { found: Boolean(chat), plaintext: text.includes(promptText), extractable: key.extractable };
  }, PROMPT);
  check(sealed.found && !sealed.plaintext, 'the stored conversation is ciphertext');
  check(sealed.extractable === false, 'the history key is non-extractable');

  // --- Explorer: the purchase and a verified balance proof. ---
  await page.goto(`${web}/accounts/${alice}`);
  await page.waitForSelector('table');
  const purchases = await page.textContent('main');
  check(/Credit purchases/.test(purchases) && (await page.locator('table:has(caption:text("Credit purchases")) tbody tr').count()) === 1, 'the credit purchase shows in the explorer');
  await page.click('#verify-proof');
  await page.waitForSelector('#proof-result .notice.ok, #proof-result .notice.error', { timeout: 30_000 });
  const proof = await page.textContent('#proof-result');
  check(/Proof verified/.test(proof) && /validators signed \(quorum/.test(proof), `balance proof against a finality certificate: ${proof.trim().slice(0, 200)}`);
  await shot('account');
  // A node that forges the certificate (one signature bit flipped) is caught here.
  await page.route('**/v1/blocks/*/finalization', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    const sig = body.certificate.signatures[0];
    body.certificate.signatures[0] = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
    await route.fulfill({ response: res, json: body });
  });
  await page.click('#verify-proof');
  await page.waitForSelector('#proof-result .notice.error', { timeout: 30_000 });
  const forged = await page.textContent('#proof-result');
  check(/Proof rejected: the signature of validator \d+ does not verify/.test(forged), `a forged finality certificate is rejected (${forged.trim().slice(0, 120)})`);
  await page.unroute('**/v1/blocks/*/finalization');
  // A node without the tip's certificate (it backfilled that block): the page proves
  // the balance at the latest block below that has one.
  let withheld = 0;
  await page.route('**/v1/blocks/*/finalization', async (route) => {
    if (withheld++ === 0) await route.fulfill({ status: 404, json: { error: { code: 'no_certificate', message: 'withheld by the test' } } });
    else await route.continue();
  });
  const provedAt = page.waitForRequest((r) => /\/v1\/proofs\/account\/[^?]+\?height=\d+$/.test(r.url()));
  await page.click('#verify-proof');
  await provedAt;
  await page.waitForSelector('#proof-result .notice.ok, #proof-result .notice.error', { timeout: 30_000 });
  const earlier = await page.textContent('#proof-result');
  check(/Proof verified/.test(earlier) && withheld === 2, `without the tip's certificate the proof is checked one block earlier (${earlier.trim().slice(0, 80)})`);
  await page.unroute('**/v1/blocks/*/finalization');
  const buyTx = await page.evaluate(async (addr) => {
    const d = await (await fetch(`/v1/credits/deposits?buyer=${addr}`)).json();
    return d.deposits[0]?.block;
  }, alice);
  await page.goto(`${web}/blocks/${buyTx}`);
  await page.waitForSelector('.kind-buy_credits');
  check(true, 'the block of the purchase lists a buy_credits transaction');
  await shot('block');
  await page.click('.kind-buy_credits >> xpath=ancestor::tr//a[contains(@href,"/tx/")]');
  await page.waitForSelector('main h1:text("Transaction")');
  await page.waitForSelector('.kv');
  await shot('transaction');

  // --- Data market: the signed breakdown verified here, the dataset downloaded here. ---
  const task = await dataTask;
  if (task !== undefined) {
    await page.goto(`${web}/data/${task}`);
    await page.waitForSelector('#scores ~ .notice.ok');
    const scores = await page.textContent('main');
    check(/Signature verified in this browser/.test(scores), 'the validator score report is verified in the browser');
    const cells = await page.locator('table:has(caption:text("Scores by validator")) tbody tr').first().locator('td').allTextContents();
    // Contributor, UID, Gates, Fidelity, Utility, Privacy, Score, Worst MIA AUC (attack), …
    check(cells[2] === 'all pass' && cells.slice(3, 7).every((c) => /^\d\.\d{3}$/.test(c)) && Number(cells[6]) > 0.5, `the breakdown shows gates, F, U, P and score (${cells.slice(2, 7).join(' ')})`);
    check(/^0\.\d{3} \((distance|density ratio|classifier)\)$/.test(cells[7]), `the breakdown shows the worst membership-inference AUC and its attack (${cells[7]})`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:text("Published dataset (CSV)")')]);
    const csv = readFileSync(await download.path(), 'utf8');
    const rows = csv.trim().split('\n');
    const published = (await page.evaluate(async (id) => (await (await fetch(`/v1/data/tasks/${id}`)).json()).task.published, task));
    check(rows[0].startsWith('species,island') && rows.length - 1 === published.rows, `the published dataset downloads in the browser (${rows.length - 1} rows, ${published.rows} on chain)`);
    await page.waitForSelector('.notice.ok:has-text("Downloaded")');
    await shot('data-task');
  }

  // --- Every page: labels, keyboard, phone width, screenshots. ---
  const pages = [
    ['explorer', '/'],
    ['blocks', '/blocks'],
    ['subnets', '/subnets'],
    ['subnet', '/subnets/1'],
    ['wallet', '/wallet'],
    ['chat', `/chat?c=${conversation}`],
    ['data', '/data'],
    ['privacy', '/privacy'],
    ['settings', '/settings'],
    ['account', `/accounts/${alice}`],
    ...(task !== undefined ? [['data-task', `/data/${task}`]] : []),
  ];
  // Phone width: the same browser profile (wallets, history), a 390 px wide window.
  for (const [width, height, suffix] of [[1280, 900, ''], [390, 844, '-phone']]) {
    await page.setViewportSize({ width, height });
    const p = page;
    for (const [name, path] of pages) {
      await p.goto(`${web}${path}`);
      await p.waitForSelector('main h1');
      await p.waitForFunction(() => !document.querySelector('main')?.hasAttribute('aria-busy'));
      const unlabeled = await p.evaluate(() =>
        [...document.querySelectorAll('input, select, textarea, button')]
          .filter((el) => {
            if (el.getAttribute('aria-label') || el.closest('label')) return false;
            if (el.tagName === 'BUTTON') return !el.textContent.trim();
            return !(el.id && document.querySelector(`label[for="${el.id}"]`));
          })
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      check(unlabeled.length === 0, `${name}${suffix}: every control has a label ${unlabeled.join(' ')}`);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 1, `${name}${suffix}: no horizontal overflow (${overflow}px)`);
      // The pages shown earlier in the flow keep their pictures (wallet unlocked, chat answered).
      if (!taken.has(`${name}${suffix}`) && (suffix === '' || ['explorer', 'wallet', 'chat', 'subnet', 'data-task'].includes(name))) await shot(`${name}${suffix}`, p);
    }
  }
  // Keyboard: the skip link is the first stop and lands in the content; the nav works by keys.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${web}/`);
  await page.waitForSelector('.cards');
  await page.keyboard.press('Tab');
  check((await page.evaluate(() => document.activeElement?.className)) === 'skip', 'Tab first reaches the skip link');
  await page.keyboard.press('Enter');
  check((await page.evaluate(() => document.activeElement?.id)) === 'main', 'the skip link moves focus to the content');
  await page.focus('#nav a[href="/subnets"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('main h1:text("Subnets")');
  check(true, 'the navigation works from the keyboard');
  // The phone menu opens from the keyboard.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${web}/`);
  await page.focus('.menu');
  check(!(await page.isVisible('#nav a[href="/chat"]')), 'at phone width the navigation hides behind the menu button');
  await page.keyboard.press('Enter');
  check(await page.isVisible('#nav a[href="/chat"]'), 'the phone menu opens from the keyboard and shows the navigation');

  const csp = consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e));
  check(csp.length === 0, `no content security policy violations ${csp.join(' | ')}`);
} catch (e) {
  failures.push(String(e?.stack ?? e));
  log('ERROR', e?.stack ?? e);
  log('devnet output (tail):\n' + devnetOut.slice(-2000));
} finally {
  await browser?.close().catch(() => {});
  await stopDevnet();
  if (failures.length === 0) rmSync(dir, { recursive: true, force: true });
  else log(`state kept in ${dir}`);
}
if (failures.length > 0) {
  console.error(`web e2e: ${failures.length} failure(s)`);
  process.exit(1);
}
log('web e2e: all checks passed');
