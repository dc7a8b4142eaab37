// Hand-drawn SVG charts: a column chart and horizontal bars. Built with DOM
// calls and sized through attributes, so the strict CSP (no inline styles)
// holds and no chart library needs vendoring.
import { h } from './util.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/**
 * Columns, one per point: points [{label, value}], format(value) -> text.
 * Scales to its container's width (viewBox); labels thin out when crowded.
 */
export function columns(title, points, format = String) {
  const W = 600;
  const H = 220;
  const top = 16;
  const bottom = 36;
  const left = 8;
  const max = Math.max(1, ...points.map((p) => Number(p.value)));
  const slot = (W - left * 2) / Math.max(1, points.length);
  const every = Math.ceil(points.length / 10);
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': title,
  });
  svg.append(s('line', { x1: left, x2: W - left, y1: H - bottom, y2: H - bottom, class: 'axis' }));
  points.forEach((p, i) => {
    const height = ((H - top - bottom) * Number(p.value)) / max;
    const x = left + i * slot + slot * 0.15;
    const bar = s('rect', {
      x,
      y: H - bottom - height,
      width: Math.max(1, slot * 0.7),
      height: Math.max(0, height),
      class: 'bar',
    });
    bar.append(s('title', {}, `${p.label}: ${format(p.value)}`));
    svg.append(bar);
    if (i % every === 0) {
      svg.append(
        s('text', { x: x + slot * 0.35, y: H - bottom + 16, class: 'tick', 'text-anchor': 'middle' }, p.label),
      );
    }
  });
  svg.append(s('text', { x: W - left, y: 12, class: 'tick', 'text-anchor': 'end' }, `最高 ${format(max)}`));
  return h('figure', { class: 'card chart-card' }, h('figcaption', {}, title), svg);
}

/** Horizontal bars: rows [{label, value, text}], lengths relative to max (or the largest). */
export function bars(title, rows, max) {
  const top = max || Math.max(1, ...rows.map((r) => Number(r.value)));
  const W = 600;
  const rowH = 26;
  const labelW = 150;
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${Math.max(1, rows.length) * rowH + 4}`,
    class: 'chart',
    role: 'img',
    'aria-label': title,
  });
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    const width = ((W - labelW - 90) * Number(r.value)) / top;
    svg.append(s('text', { x: 0, y: y + 15, class: 'label' }, r.label));
    svg.append(s('rect', { x: labelW, y, width: Math.max(0, width), height: rowH - 8, class: 'bar' }));
    svg.append(s('text', { x: labelW + Math.max(0, width) + 6, y: y + 15, class: 'tick' }, r.text ?? r.value));
  });
  if (rows.length === 0) svg.append(s('text', { x: 0, y: 18, class: 'tick' }, '暂无数据'));
  return h('figure', { class: 'card chart-card' }, h('figcaption', {}, title), svg);
}
