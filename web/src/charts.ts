// Small SVG charts drawn here (no chart library, nothing fetched from elsewhere).

import { h, s } from './dom';

export interface Bar {
  label: string;
  value: number;
}

/** A horizontal bar chart with a text alternative. */
export function barChart(title: string, bars: Bar[], format: (v: number) => string = (v) => v.toFixed(3)): HTMLElement {
  const width = 360;
  const row = 22;
  const left = 70;
  const max = Math.max(1e-12, ...bars.map((b) => b.value));
  const height = Math.max(row, bars.length * row) + 4;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}: ${bars.map((b) => `${b.label} ${format(b.value)}`).join(', ')}`, class: 'chart' });
  bars.forEach((b, i) => {
    const y = i * row + 2;
    const w = ((width - left - 60) * b.value) / max;
    svg.append(
      s('text', { x: left - 6, y: y + 15, 'text-anchor': 'end', class: 'chart-label' }, b.label),
      s('rect', { x: left, y: y + 3, width: Math.max(0, w), height: row - 8, rx: 3, class: 'chart-bar' }),
      s('text', { x: left + w + 4, y: y + 15, class: 'chart-value' }, format(b.value)),
    );
  });
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title), svg);
}

/** A line chart over evenly spaced points (e.g. per block), with a text alternative. */
export function lineChart(title: string, points: { x: number; y: number }[], unit = ''): HTMLElement {
  const width = 360;
  const height = 120;
  const pad = 24;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart', 'aria-label': `${title}: ${points.length} points, last ${points.at(-1)?.y ?? 0}${unit}` });
  if (points.length > 0) {
    const xs = points.map((p) => p.x);
    const ys = points.map((p) => p.y);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const y1 = Math.max(1e-12, ...ys);
    const X = (x: number) => pad + ((width - 2 * pad) * (x - x0)) / Math.max(1, x1 - x0);
    const Y = (y: number) => height - pad - ((height - 2 * pad) * y) / y1;
    svg.append(
      s('line', { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: 'chart-axis' }),
      s('polyline', { points: points.map((p) => `${X(p.x)},${Y(p.y)}`).join(' '), class: 'chart-line' }),
      ...points.map((p) => s('circle', { cx: X(p.x), cy: Y(p.y), r: 3, class: 'chart-dot' })),
      s('text', { x: pad, y: height - 6, class: 'chart-label' }, String(x0)),
      s('text', { x: width - pad, y: height - 6, 'text-anchor': 'end', class: 'chart-label' }, String(x1)),
      s('text', { x: pad, y: 14, class: 'chart-label' }, `max ${y1.toFixed(y1 < 10 ? 2 : 0)}${unit}`),
    );
  }
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title), svg);
}
