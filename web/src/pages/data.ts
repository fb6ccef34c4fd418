// Data market: tasks, their submissions, validators' signed score breakdowns (checked in
// the browser), and downloads of the published datasets and training halves.

import { barChart } from '../charts';
import { append, h, kv, link, notice, short, table } from '../dom';
import * as api from '../lib/api';
import { formatPlx } from '../lib/codec';
import { attackBreakdown, canaryCell, parseReport, verifyReport, worstAttack } from '../lib/report';

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
  const incentive = (hotkey: string) => {
    const n = mg?.neurons.find((x) => x.hotkey === hotkey);
    return n ? n.incentive / 65535 : undefined;
  };
  const manifest = () => {
    const blob = new Blob([JSON.stringify(t, null, 2)], { type: 'application/json' });
    return h('a', { href: URL.createObjectURL(blob), download: `plexus-task-${t.id}.json` }, 'Download the task and its submissions (JSON)');
  };
  const reports = await reportsSection(t);
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
    downloads(t),
    h('h2', {}, 'Submissions'),
    t.contributions.length === 0
      ? h('p', {}, 'No submissions yet.')
      : table(
          ['Contributor', 'UID', 'Committed at', 'Revealed at', 'Rows', 'Content hash (dataset store address)', 'Incentive on the subnet'],
          t.contributions.map((c) => [link(`/accounts/${c.hotkey}`, short(c.hotkey, 8)), c.uid ?? '—', c.committed_at, c.revealed_at ?? '—', c.rows ?? '—', c.content_hash ? h('code', {}, c.content_hash) : 'not revealed', incentive(c.hotkey)?.toFixed(3) ?? '—']),
          `Submissions to task ${t.id}`,
          { stack: true },
        ),
    reports,
    h('p', {}, manifest()),
  );
}

/** Download buttons: the node checks each file against the chain before sending it. */
function downloads(t: api.DataTask): HTMLElement {
  const out = h('div', { 'aria-live': 'polite' });
  const button = (label: string, path: string, filename: string) =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async (e: Event) => {
          const b = e.currentTarget as HTMLButtonElement;
          b.disabled = true;
          out.replaceChildren(notice('info', `Fetching ${filename}…`));
          try {
            const blob = await api.getFile(path);
            const a = h('a', { href: URL.createObjectURL(blob), download: filename }, filename);
            a.click();
            out.replaceChildren(notice('ok', h('span', {}, `Downloaded ${filename} (${blob.size.toLocaleString()} bytes). `, a)));
          } catch (err) {
            out.replaceChildren(notice('error', err instanceof Error ? err.message : String(err)));
          } finally {
            b.disabled = false;
          }
        },
      },
      label,
    );
  const base = `/v1/data/tasks/${t.id}`;
  return h(
    'div',
    { class: 'panel' },
    h('h3', {}, 'Download'),
    h('p', { class: 'hint' }, 'The node reads files from its dataset store and sends them only if they match the chain: the published dataset’s rows must hash to the Merkle root above, the training half to the task’s reference manifest.'),
    h(
      'div',
      { class: 'actions' },
      t.published ? button('Published dataset (CSV)', `${base}/dataset`, `plexus-task-${t.id}-dataset.csv`) : null,
      t.published ? button('Published dataset (Parquet)', `${base}/dataset?format=parquet`, `plexus-task-${t.id}-dataset.parquet`) : null,
      button('Training half (CSV)', `${base}/training`, `plexus-task-${t.id}-training.csv`),
    ),
    out,
    h('p', { class: 'hint' }, 'To check a file without trusting this node, download it from the dataset store with the command line, which recomputes the root itself:'),
    h(
      'pre',
      { class: 'command', tabindex: 0, 'aria-label': 'Download commands' },
      t.published ? `plexus data download --task ${t.id} --out task-${t.id}.csv   # the published dataset\n` : '',
      `plexus data download --task ${t.id} --training-half --out task-${t.id}-train.csv   # what contributors fit on`,
    ),
  );
}

const num = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));

/** Validators' score reports, each shown only after its signature verifies here. */
async function reportsSection(t: api.DataTask): Promise<HTMLElement> {
  const section = h('section', { 'aria-labelledby': 'scores' }, h('h2', { id: 'scores' }, 'Scores'));
  let answer: api.DataReports;
  try {
    answer = await api.get<api.DataReports>(`/v1/data/tasks/${t.id}/reports`);
  } catch (err) {
    section.append(h('p', {}, err instanceof api.ApiError && err.code === 'no_dataset_store' ? 'This node serves no dataset store, so it has no score reports.' : `Score reports unavailable: ${err instanceof Error ? err.message : String(err)}`));
    return section;
  }
  if (answer.reports.length === 0) {
    section.append(h('p', { id: 'no-reports' }, t.phase === 'scoring' || t.published ? 'No validator has stored a score report yet.' : 'Validators score submissions after the reveal deadline.'));
    return section;
  }
  let charted = false;
  for (const r of answer.reports) {
    const ok = verifyReport(BigInt(t.id), r.validator, r.report, r.signature);
    const report = ok ? parseReport(r.report) : undefined;
    const heading = h('h3', {}, `Validator UID ${r.uid} `, link(`/accounts/${r.validator}`, short(r.validator, 8)));
    if (!report) {
      section.append(heading, notice('error', ok ? 'This report is signed but is not a score report: ignored.' : 'This report’s signature does not verify against the validator’s key: ignored.'));
      continue;
    }
    const rows = report.submissions.map((sub) => {
      const sc = sub.score;
      const failed = sc?.gates.filter((g) => !g.passed) ?? [];
      const gates = sub.error ? h('span', { class: 'tag' }, 'not scored') : !sc ? '—' : sc.passed ? h('span', { class: 'tag gate-pass' }, 'all pass') : h('span', { class: 'tag gate-fail', title: failed.map((g) => `${g.name}: ${g.statistic.toFixed(3)} vs limit ${g.limit.toFixed(3)}`).join('; ') }, `failed: ${failed.map((g) => g.name).join(', ')}`);
      const worst = sc?.membership ? h('span', { title: attackBreakdown(sc) }, worstAttack(sc)) : '—';
      return [link(`/accounts/${sub.hotkey}`, short(sub.hotkey, 8)), sub.uid ?? '—', gates, num(sc?.fidelity), num(sc?.utility), num(sc?.privacy), num(sc?.score), worst, canaryCell(sc), sc ? `${sc.accepted_rows}` : '—', sub.weight.toFixed(3), sub.error ?? ''];
    });
    append(section, [
      heading,
      notice('ok', `Signature verified in this browser against ${short(r.validator, 8)}. ${report.rows} rows accepted, dataset root ${short(report.merkle_root, 8)}; seed ${short(report.seed, 8)}.`),
      !charted
        ? h('div', { class: 'charts' }, barChart('Score (0.6 F + 0.4 U, times the privacy factor; 0 when a gate fails)', report.submissions.map((sub) => ({ label: sub.uid !== null ? `UID ${sub.uid}` : short(sub.hotkey, 4), value: sub.score?.score ?? 0 }))))
        : null,
      table(['Contributor', 'UID', 'Gates', 'Fidelity', 'Utility', 'Privacy', 'Score', 'Worst MIA AUC (attack)', 'Canaries', 'Accepted rows', 'Weight', 'Error'], rows, `Scores by validator UID ${r.uid}`, { stack: true }),
    ]);
    charted = true;
  }
  return section;
}
