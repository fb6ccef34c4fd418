// Data market: tasks, their submissions, the scores validators gave (the data subnet's
// incentive per contributor), and the published datasets.

import { barChart } from '../charts';
import { h, kv, link, short, table } from '../dom';
import * as api from '../lib/api';
import { formatPlx } from '../lib/codec';

const plx = (n: number) => `${formatPlx(BigInt(n))} PLX`;

export async function dataTasks(): Promise<HTMLElement> {
  const { tasks } = await api.get<{ tasks: api.DataTask[] }>('/v1/data/tasks?limit=100');
  return h(
    'section',
    {},
    h('h1', {}, 'Data market'),
    h('p', { class: 'hint' }, 'Requesters post tasks with a bounty; contributors commit, then reveal synthetic data sets; validators score them for fidelity, utility and privacy, and the accepted data is published openly.'),
    tasks.length === 0
      ? h('p', { id: 'no-tasks' }, 'No data tasks yet. Post one with `plexus data task create`.')
      : table(
          ['Task', 'Subnet', 'Phase', 'Bounty', 'Commits', 'Reveals', 'Rows revealed', 'Deadlines (commit / reveal)'],
          tasks.map((t) => [link(`/data/${t.id}`, `#${t.id}`), link(`/subnets/${t.netuid}`, String(t.netuid)), h('span', { class: `tag phase-${t.phase}` }, t.phase), plx(t.bounty), t.commits, t.reveals, t.revealed_rows, `${t.commit_deadline} / ${t.reveal_deadline}`]),
          'Data tasks, newest first',
          { stack: true },
        ),
  );
}

export async function dataTask(id: string): Promise<HTMLElement> {
  const { task: t } = await api.get<{ task: api.DataTask }>(`/v1/data/tasks/${encodeURIComponent(id)}`);
  const mg = await api.get<api.Metagraph>(`/v1/subnets/${t.netuid}/metagraph`).catch(() => undefined);
  const score = (hotkey: string) => {
    const n = mg?.neurons.find((x) => x.hotkey === hotkey);
    return n ? n.incentive / 65535 : undefined;
  };
  const manifest = () => {
    const blob = new Blob([JSON.stringify(t, null, 2)], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `plexus-task-${t.id}.json` }, 'Download the task and its submissions (JSON)');
    return a;
  };
  const scored = t.contributions.map((c) => ({ label: c.uid !== null ? `UID ${c.uid}` : short(c.hotkey, 4), value: score(c.hotkey) ?? 0 }));
  return h(
    'section',
    {},
    h('h1', {}, `Data task #${t.id}`),
    kv([
      ['Phase', t.phase],
      ['Subnet', link(`/subnets/${t.netuid}`, String(t.netuid))],
      ['Requester', link(`/accounts/${t.creator}`, t.creator)],
      ['Bounty', `${plx(t.bounty)} (${plx(t.escrow)} still in escrow)`],
      ['Rows per submission', `${t.min_rows} to ${t.max_rows}`],
      ['Commit deadline', `block ${t.commit_deadline}`],
      ['Reveal deadline', `block ${t.reveal_deadline}`],
      ['Schema hash', h('code', {}, t.schema_hash)],
      ['Reference commitment', h('code', {}, t.reference_commitment)],
    ]),
    h('h2', {}, 'Published dataset'),
    t.published
      ? kv([
          ['Merkle root', h('code', {}, t.published.merkle_root)],
          ['Rows', String(t.published.rows)],
          ['Published by', link(`/accounts/${t.published.validator}`, t.published.validator)],
          ['Block', link(`/blocks/${t.published.block}`, String(t.published.block))],
        ])
      : h('p', {}, 'Not published yet.'),
    h('h2', {}, 'Download'),
    h(
      'p',
      {},
      'Datasets live in the task’s dataset store (content-addressed; a folder or an S3-compatible bucket), not on the node. ',
      'Fetch one and check it against the Merkle root on chain with the command line:',
    ),
    h(
      'pre',
      { class: 'command', tabindex: 0, 'aria-label': 'Download commands' },
      t.published ? `plexus data download --task ${t.id} --out task-${t.id}.csv   # the published dataset
` : '',
      `plexus data download --task ${t.id} --training-half --out task-${t.id}-train.csv   # what contributors fit on`,
    ),
    h('h2', {}, 'Submissions and scores'),
    scored.length ? h('div', { class: 'charts' }, barChart('Score (incentive on the data subnet)', scored)) : null,
    t.contributions.length === 0
      ? h('p', {}, 'No submissions yet.')
      : table(
          ['Contributor', 'UID', 'Committed at', 'Revealed at', 'Rows', 'Content hash (dataset store address)', 'Score'],
          t.contributions.map((c) => [link(`/accounts/${c.hotkey}`, short(c.hotkey, 8)), c.uid ?? '—', c.committed_at, c.revealed_at ?? '—', c.rows ?? '—', c.content_hash ? h('code', {}, c.content_hash) : 'not revealed', score(c.hotkey)?.toFixed(3) ?? '—']),
          `Submissions to task ${t.id}`,
          { stack: true },
        ),
    h('p', {}, manifest()),
  );
}
