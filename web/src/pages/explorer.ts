// Explorer: status and supply, blocks, transactions, accounts (with a balance proof
// verified here), subnets with metagraph tables and charts.

import { barChart, lineChart } from '../charts';
import { onLeave } from '../leave';
import { h, kv, link, notice, short, table } from '../dom';
import * as api from '../lib/api';
import { formatPlx, headerDigest } from '../lib/codec';
import { type Certificate, verifyFinality } from '../lib/finality';
import { isAddress } from '../lib/keys';
import { verifyAccountProof } from '../lib/proof';
import { anchorOf, configuredAnchor, pinnedAnchor, validatorsFor } from '../lib/transparency';

const plx = (n: number) => `${formatPlx(BigInt(n))} PLX`;
const u16 = (v: number) => v / 65535;
const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

function searchForm(): HTMLElement {
  const input = h('input', { type: 'search', name: 'q', placeholder: 'address, block height or digest, transaction id', 'aria-label': 'Search the chain', autocomplete: 'off' });
  const form = h('form', { class: 'search', role: 'search' }, input, h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    if (isAddress(q) && !/^[0-9a-f]{64}$/i.test(q)) go(`/accounts/${q}`);
    else if (/^\d+$/.test(q)) go(`/blocks/${q}`);
    else if (/^[0-9a-f]{64}$/i.test(q)) void resolveHash(q);
    else go(`/accounts/${q}`);
  });
  return form;
}

async function resolveHash(q: string): Promise<void> {
  try {
    await api.get(`/v1/transactions/${q}`);
    go(`/tx/${q}`);
  } catch {
    go(`/blocks/${q}`);
  }
}

export function go(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export async function home(): Promise<HTMLElement> {
  const [status, supply, page, subnets] = await Promise.all([
    api.get<api.Status>('/v1/status'),
    api.get<api.Supply>('/v1/supply'),
    api.get<api.Status>('/v1/status').then((st) => api.get<api.BlockPage>(`/v1/blocks?from=${Math.max(0, (st.tip?.height ?? 0) - 29)}&limit=30`)),
    api.get<{ subnets: api.Subnet[] }>('/v1/subnets'),
  ]);
  const blocks = [...page.blocks].reverse();
  const latest = table(
    ['Height', 'Digest', 'Time', 'Transactions', 'Proposer'],
    blocks.map(blockRow),
    'Latest finalized blocks',
  );
  const height = card('Finalized height', String(status.node.finalized_height));
  follow(latest, (b) => {
    const row = blockRow({ height: b.height, digest: b.digest, header: b.header, tx_count: b.tx_hashes.length });
    latest.querySelector('tbody')?.prepend(h('tr', {}, row.map((c) => h('td', {}, c))));
    const rows = latest.querySelectorAll('tbody tr');
    if (rows.length > 30) rows[rows.length - 1].remove();
    height.querySelector('.card-value')!.textContent = String(b.height);
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Explorer'),
    searchForm(),
    h(
      'div',
      { class: 'cards' },
      height,
      card('Validators', String(status.node.validators)),
      card('Mempool', String(status.node.mempool_size)),
      card('Total issuance', plx(supply.total_issuance)),
      card('Staked', plx(supply.total_stake)),
      card('Credit escrow', plx(supply.credit_escrow)),
    ),
    h(
      'div',
      { class: 'charts' },
      lineChart('Transactions per block (last 30 blocks)', page.blocks.map((b) => ({ x: b.height, y: b.tx_count }))),
      barChart('Last epoch emission per subnet (PLX)', subnets.subnets.map((s) => ({ label: `SN${s.netuid}`, value: s.last_epoch_emission / 1e9 })), (v) => v.toFixed(3)),
    ),
    h('h2', {}, 'Latest blocks ', h('small', {}, '(live)')),
    latest,
  );
}

function blockRow(b: { height: number; digest: string; header: api.BlockSummary['header']; tx_count: number }) {
  return [link(`/blocks/${b.height}`, String(b.height)), h('code', {}, short(b.digest)), when(b.header.timestamp_ms), b.tx_count, link(`/accounts/${b.header.proposer}`, short(b.header.proposer))];
}

interface BlockEvent {
  height: number;
  digest: string;
  header: api.BlockSummary['header'];
  tx_hashes: string[];
  events: { type: string; [k: string]: unknown }[];
}

/** Call `onBlock` for each block the node finalizes (`/v1/events`) while `el` is shown. */
function follow(el: HTMLElement, onBlock: (b: BlockEvent) => void): void {
  if (typeof EventSource === 'undefined') return;
  const events = new EventSource('/v1/events');
  onLeave(() => events.close());
  let shown = false;
  const gone = () => {
    shown ||= el.isConnected;
    return shown && !el.isConnected;
  };
  events.addEventListener('block', (e) => {
    if (gone()) return events.close();
    onBlock(JSON.parse((e as MessageEvent<string>).data) as BlockEvent);
  });
  setTimeout(function stop() {
    if (gone()) events.close();
    else setTimeout(stop, 2000);
  }, 2000);
}

function card(label: string, value: string): HTMLElement {
  return h('div', { class: 'card' }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, value));
}

export async function blocks(): Promise<HTMLElement> {
  const st = await api.get<api.Status>('/v1/status');
  const tip = st.tip?.height ?? 0;
  const page = await api.get<api.BlockPage>(`/v1/blocks?from=${Math.max(0, tip - 99)}&limit=100`);
  return h(
    'section',
    {},
    h('h1', {}, 'Blocks'),
    table(
      ['Height', 'Digest', 'Time', 'Transactions'],
      [...page.blocks].reverse().map((b) => [link(`/blocks/${b.height}`, String(b.height)), h('code', {}, short(b.digest, 16)), when(b.header.timestamp_ms), b.tx_count]),
      'The last 100 finalized blocks',
    ),
  );
}

export async function block(id: string): Promise<HTMLElement> {
  const b = await api.get<api.BlockView>(`/v1/blocks/${encodeURIComponent(id)}`);
  return h(
    'section',
    {},
    h('h1', {}, `Block ${b.height}`),
    kv([
      ['Digest', h('code', {}, b.digest)],
      ['Parent', b.height > 0 ? link(`/blocks/${b.header.parent}`, h('code', {}, b.header.parent)) : h('code', {}, b.header.parent)],
      ['Time', when(b.header.timestamp_ms)],
      ['Proposer', link(`/accounts/${b.header.proposer}`, b.header.proposer)],
      ['State root', h('code', {}, b.header.state_root)],
      ['Transaction root', h('code', {}, b.header.tx_root)],
      ['Chain id', String(b.header.chain_id)],
    ]),
    h('p', {}, b.height > 0 ? link(`/blocks/${b.height - 1}`, '← previous') : null, ' ', link(`/blocks/${b.height + 1}`, 'next →')),
    h('h2', {}, 'Transactions'),
    b.transactions.length === 0
      ? h('p', {}, 'No transactions in this block.')
      : table(
          ['Id', 'Kind', 'Sender', 'Nonce', 'Fee'],
          b.transactions.map((t) => [link(`/tx/${t.hash}`, h('code', {}, short(t.hash))), h('span', { class: `tag kind-${t.kind}` }, t.kind), link(`/accounts/${t.sender}`, short(t.sender)), t.nonce, plx(t.fee)]),
          `Transactions in block ${b.height}`,
        ),
  );
}

export async function tx(hash: string): Promise<HTMLElement> {
  const v = await api.get<api.TxView>(`/v1/transactions/${encodeURIComponent(hash)}`);
  const t = v.transaction?.tx;
  const payload = t ? Object.entries(t.payload).filter(([k]) => k !== 'type') : [];
  return h(
    'section',
    {},
    h('h1', {}, 'Transaction'),
    kv([
      ['Id', h('code', {}, v.hash)],
      ['Status', v.status],
      ['Block', v.height !== null ? link(`/blocks/${v.height}`, String(v.height)) : 'pending'],
      ['Index', v.index !== null ? String(v.index) : '—'],
      ['Kind', t ? h('span', { class: `tag kind-${t.payload.type}` }, t.payload.type) : '—'],
      ['Sender', t ? link(`/accounts/${t.sender}`, t.sender) : '—'],
      ['Nonce', t ? String(t.nonce) : '—'],
      ['Fee', t ? plx(t.fee) : '—'],
    ]),
    h('h2', {}, 'Payload'),
    kv(payload.map(([k, val]) => [k, typeof val === 'string' && isAddress(val) ? link(`/accounts/${val}`, val) : h('code', {}, typeof val === 'object' ? JSON.stringify(val) : String(val))])),
  );
}

export async function account(address: string): Promise<HTMLElement> {
  const [acct, stakes, hotkeys, deposits, asHotkey] = await Promise.all([
    api.get<api.Account>(`/v1/accounts/${encodeURIComponent(address)}`),
    api.get<{ total: number; stakes: { hotkey: string; amount: number }[] }>(`/v1/accounts/${encodeURIComponent(address)}/stakes`),
    api.get<{ hotkeys: string[] }>(`/v1/accounts/${encodeURIComponent(address)}/hotkeys`),
    api.get<{ deposits: api.Deposit[] }>(`/v1/credits/deposits?buyer=${encodeURIComponent(address)}`).catch(() => ({ deposits: [] as api.Deposit[] })),
    api.get<HotkeyView>(`/v1/hotkeys/${encodeURIComponent(address)}`).catch(() => undefined),
  ]);
  const result = h('div', { 'aria-live': 'polite', id: 'proof-result' });
  const verify = h('button', { type: 'button', id: 'verify-proof' }, 'Verify balance proof in this browser');
  verify.addEventListener('click', async () => {
    result.replaceChildren(notice('info', 'Fetching the proof and the finalized header…'));
    try {
      const v = await verifyBalance(acct.address);
      result.replaceChildren(
        notice('ok', `Proof verified: balance ${formatPlx(v.balance)} PLX, nonce ${v.nonce} at height ${v.height}.`),
        kv([
          ['Finalized header', h('code', {}, v.headerDigest)],
          ['Finality certificate', `${v.finality.signed} of ${v.finality.validators} validators signed (quorum ${v.finality.quorum}), view ${v.finality.view}`],
          ['State root', h('code', {}, v.stateRoot)],
          ['Proof', `${v.inclusion ? 'inclusion' : 'exclusion'}, ${v.siblings} siblings, SHA-256 jellyfish Merkle tree`],
          ['Validator set', `${v.firstSeen ? 'pinned by this browser now' : 'the one this browser pinned first'} (genesis ${short(v.genesis, 8)})`],
        ]),
        h('p', { class: 'hint' }, 'Checked here: a quorum of the chain’s validators signed this header’s digest (ed25519, simplex finalize votes), its state root is the proof’s, and the proof leads from this account’s entry to that root. Nothing the node says is trusted but the validator set, which this browser keeps from its first visit and compares on every later one.'),
      );
    } catch (e) {
      result.replaceChildren(notice('error', `Proof rejected: ${String(e instanceof Error ? e.message : e)}`));
    }
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Account'),
    kv([
      ['Address', h('code', {}, acct.address)],
      ['Balance', plx(acct.balance)],
      ['Nonce', String(acct.nonce)],
      ['Staked', plx(stakes.total)],
      ['As of height', String(acct.height)],
    ]),
    h('div', { class: 'proof' }, verify, result),
    stakes.stakes.length ? [h('h2', {}, 'Stakes'), table(['Hotkey', 'Amount'], stakes.stakes.map((s) => [link(`/accounts/${s.hotkey}`, short(s.hotkey)), plx(s.amount)]), 'Stakes')] : null,
    hotkeys.hotkeys.length ? [h('h2', {}, 'Hotkeys'), h('ul', {}, hotkeys.hotkeys.map((k) => h('li', {}, link(`/accounts/${k}`, k))))] : null,
    asHotkey
      ? [
          h('h2', {}, 'As a hotkey'),
          kv([
            ['Owner (coldkey)', link(`/accounts/${asHotkey.owner}`, asHotkey.owner)],
            ['Take', `${((asHotkey.take / 65535) * 100).toFixed(2)} %`],
            ['Stake on it', plx(asHotkey.total_stake)],
          ]),
          asHotkey.registrations.length
            ? table(['Subnet', 'UID'], asHotkey.registrations.map((r) => [link(`/subnets/${r.netuid}`, String(r.netuid)), r.uid]), 'Registrations')
            : h('p', {}, 'Not registered on any subnet.'),
          asHotkey.stakes.length ? table(['Coldkey', 'Stake'], asHotkey.stakes.map((st) => [link(`/accounts/${st.coldkey}`, short(st.coldkey)), plx(st.amount)]), 'Stake by coldkey (owner and nominators)') : null,
        ]
      : null,
    h('h2', {}, 'Credit purchases'),
    deposits.deposits.length === 0
      ? h('p', {}, 'No credit purchases.')
      : table(
          ['Deposit', 'Block', 'Issuer', 'Credits', 'Tokens', 'Paid'],
          deposits.deposits.map((d) => [String(d.id), link(`/blocks/${d.block}`, String(d.block)), link(`/accounts/${d.issuer}`, short(d.issuer)), d.credits, d.tokens, plx(d.amount)]),
          'Credit purchases (BuyCredits deposits)',
          { stack: true },
        ),
  );
}

interface HotkeyView {
  hotkey: string;
  owner: string;
  take: number;
  total_stake: number;
  stakes: { hotkey: string; coldkey: string; amount: number }[];
  registrations: { netuid: number; uid: number }[];
}

/**
 * Fetch the account proof, the header's finality certificate and the validator set;
 * verify here that a quorum of the validators finalized the header, then the proof.
 */
export async function verifyBalance(address: string) {
  const chain = await api.get<api.Chain>('/v1/chain');
  // The chain pinned for key transparency (lib/transparency.ts): one anchor for the whole app.
  const { anchor, firstSeen } = pinnedAnchor(anchorOf(chain), localStorage, configuredAnchor());
  const proofAt = (height?: number) => api.get<api.ProofResponse>(`/v1/proofs/account/${encodeURIComponent(address)}${height === undefined ? '' : `?height=${height}`}`);
  let response = await proofAt();
  // A block the node backfilled may lack its own certificate: prove at the latest
  // block below the tip that has one.
  let certificate: Certificate | undefined;
  for (let height = response.proof.height; height > 0 && height > response.proof.height - 16; height--) {
    try {
      ({ certificate } = await api.get<{ certificate: Certificate }>(`/v1/blocks/${height}/finalization`));
    } catch (e) {
      if (e instanceof api.ApiError && e.code === 'no_certificate') continue;
      throw e;
    }
    if (height !== response.proof.height) response = await proofAt(height);
    break;
  }
  if (!certificate) throw new Error(`the node holds no finality certificate for the last 16 blocks up to ${response.proof.height}`);
  const validators = await validatorsFor(anchor, response.proof.height, certificate, api.get);
  const finality = verifyFinality(anchor.chainId, validators, headerDigest(response.header), certificate);
  return { ...verifyAccountProof(address, response, certificate.payload), finality, genesis: chain.genesis_digest, firstSeen };
}

export async function subnets(): Promise<HTMLElement> {
  const { subnets } = await api.get<{ subnets: api.Subnet[] }>('/v1/subnets');
  return h(
    'section',
    {},
    h('h1', {}, 'Subnets'),
    table(
      ['Netuid', 'Name', 'Mechanism', 'Neurons', 'Epoch', 'Last epoch emission', 'Next epoch at'],
      subnets.map((s) => [link(`/subnets/${s.netuid}`, String(s.netuid)), link(`/subnets/${s.netuid}`, s.name), s.mechanism, s.n, s.epoch_index, plx(s.last_epoch_emission), s.next_epoch_block]),
      'Subnets',
    ),
  );
}

export async function subnet(netuid: string): Promise<HTMLElement> {
  const [{ subnet: sn }, mg] = await Promise.all([
    api.get<{ subnet: api.Subnet }>(`/v1/subnets/${encodeURIComponent(netuid)}`),
    api.get<api.Metagraph>(`/v1/subnets/${encodeURIComponent(netuid)}/metagraph`),
  ]);
  const ns = mg.neurons;
  const uid = (n: api.Neuron) => `UID ${n.uid}`;
  return h(
    'section',
    {},
    h('h1', {}, `Subnet ${sn.netuid}: ${sn.name}`),
    kv([
      ['Mechanism', sn.mechanism],
      ['Owner', link(`/accounts/${sn.owner}`, sn.owner)],
      ['Neurons', String(sn.n)],
      ['Epoch', `${sn.epoch_index} (last at block ${sn.last_epoch_block}, next at ${sn.next_epoch_block})`],
      ['Last epoch emission', plx(sn.last_epoch_emission)],
      ['Registration burn', plx(sn.burn_price)],
    ]),
    h(
      'div',
      { class: 'charts' },
      ...(await overTime(sn, ns)),
      barChart('Emission per neuron (PLX, last epoch)', ns.map((n) => ({ label: uid(n), value: n.emission / 1e9 }))),
      barChart('Incentive', ns.map((n) => ({ label: uid(n), value: u16(n.incentive) }))),
      barChart('Dividends', ns.map((n) => ({ label: uid(n), value: u16(n.dividends) }))),
      barChart('Validator trust', ns.map((n) => ({ label: uid(n), value: u16(n.validator_trust) }))),
    ),
    await weightsSection(sn.netuid, ns),
    h('h2', {}, 'Metagraph'),
    table(
      ['UID', 'Hotkey', 'Stake', 'Rank', 'Trust', 'Consensus', 'Incentive', 'Dividends', 'V-trust', 'Permit', 'Emission', 'Serves'],
      ns.map((n) => [
        n.uid,
        link(`/accounts/${n.hotkey}`, short(n.hotkey, 8)),
        plx(n.stake),
        u16(n.rank).toFixed(3),
        u16(n.trust).toFixed(3),
        u16(n.consensus).toFixed(3),
        u16(n.incentive).toFixed(3),
        u16(n.dividends).toFixed(3),
        u16(n.validator_trust).toFixed(3),
        n.validator_permit ? 'yes' : 'no',
        plx(n.emission),
        n.endpoint ? `${n.endpoint.model} (${n.endpoint.operator || 'anonymous'})` : '—',
      ]),
      `Metagraph of subnet ${sn.netuid}`,
    ),
  );
}

interface Weights {
  weights: { uid: number; value: number }[];
  bonds: { uid: number; value: number }[];
  pending_commit: { hash: string; block: number; epoch: number } | null;
}

/** The weights and bonds each permitted validator holds (at most 8 validators shown). */
async function weightsSection(netuid: number, ns: api.Neuron[]): Promise<HTMLElement | null> {
  const validators = ns.filter((n) => n.validator_permit).slice(0, 8);
  const rows = await Promise.all(validators.map((v) => api.get<Weights>(`/v1/subnets/${netuid}/weights/${v.uid}`).then((w) => [v, w] as const).catch(() => undefined)));
  const shown = rows.filter((r): r is readonly [api.Neuron, Weights] => r !== undefined);
  if (shown.length === 0) return null;
  const cell = (row: { uid: number; value: number }[], uid: number) => {
    const total = row.reduce((a, e) => a + e.value, 0);
    const entry = row.find((e) => e.uid === uid);
    return entry && total > 0 ? (entry.value / total).toFixed(3) : '—';
  };
  const targets = [...new Set(shown.flatMap(([, w]) => [...w.weights, ...w.bonds].map((e) => e.uid)))].sort((a, b) => a - b);
  return h(
    'div',
    {},
    h('h2', {}, 'Weights and bonds'),
    h('p', { class: 'hint' }, 'Each row is a validator’s last revealed weights (normalized) and its bonds toward each UID; a pending commit is revealed next epoch.'),
    table(
      ['Validator', 'Pending commit', ...targets.flatMap((t) => [`W→${t}`, `B→${t}`])],
      shown.map(([v, w]) => [`UID ${v.uid}`, w.pending_commit ? `epoch ${w.pending_commit.epoch}` : '—', ...targets.flatMap((t) => [cell(w.weights, t), cell(w.bonds, t)])]),
      `Weights and bonds on subnet ${netuid}`,
    ),
  );
}

/**
 * Emission per epoch and the leading UIDs' incentive per epoch, from the node's
 * subnet history (what the chain's state says each epoch paid, not what this browser
 * happened to see), extended live from the node's block events while the page is open.
 */
async function overTime(sn: api.Subnet, ns: api.Neuron[]): Promise<HTMLElement[]> {
  const history = await api.get<api.SubnetHistory>(`/v1/subnets/${sn.netuid}/history?limit=64`).catch(() => undefined);
  const epochs = [...(history?.epochs ?? [])].reverse();
  let series = epochs.map((e) => ({ x: e.epoch, y: e.emission / 1e9 }));
  const note = history && history.oldest_height > 0 ? ` from block ${history.oldest_height}` : '';
  const title = `Emission per epoch (PLX, chain history${note}, live)`;
  const draw = () => lineChart(title, series);
  const box = h('div', { class: 'live-chart' }, draw());
  follow(box, (block) => {
    for (const ev of block.events) {
      if (ev.type === 'epoch_run' && ev.netuid === sn.netuid) {
        const paid = ['owner_cut', 'miners', 'validators'].reduce((sum, k) => sum + Number(ev[k] ?? 0), 0);
        const epoch = Number(ev.epoch ?? 0);
        series = [...series.filter((p) => p.x !== epoch), { x: epoch, y: paid / 1e9 }].sort((a, b) => a.x - b.x);
        box.replaceChildren(draw());
      }
    }
  });
  // The three UIDs with the most incentive now, each over the epochs served.
  const leaders = [...ns].sort((a, b) => b.incentive - a.incentive).slice(0, 3).filter((n) => n.incentive > 0);
  const incentive = leaders.map((n) =>
    lineChart(
      `Incentive of UID ${n.uid} per epoch`,
      epochs.map((e) => ({ x: e.epoch, y: u16(e.neurons.find((m) => m.uid === n.uid)?.incentive ?? 0) })),
    ),
  );
  return [box, ...incentive];
}
