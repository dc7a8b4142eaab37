// RFM grid: recency score (rows, 5 = bought most recently) × frequency
// score (columns), each cell sized and shaded by how many buyers it holds
// and linking to the customers list of that cell. The counts are `rfmGrid`,
// which the server's jobs loop computes with the RFM cutoffs (every minute),
// so the page reads 25 numbers whatever the store's size.
import { gql, request } from './api.js';
import { customersHref } from './customers.js';
import { dateTime, h, showError, yuan } from './util.js';

const GRID = gql`
  query ConsoleRfmGrid {
    rfmGrid {
      computedAt
      buyers
      cells {
        rScore
        fScore
        customers
        averageMonetaryFen
      }
    }
  }
`;

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const R_LABEL = { 5: '最近', 4: '较近', 3: '一般', 2: '较久', 1: '最久' };
const F_LABEL = { 1: '最少', 2: '较少', 3: '一般', 4: '较多', 5: '最多' };

/** counts[r][f] and average spend avg[r][f] of the grid's cells. */
function table(cells) {
  const counts = Array.from({ length: 6 }, () => new Array(6).fill(0));
  const avg = Array.from({ length: 6 }, () => new Array(6).fill(0));
  for (const c of cells) {
    counts[c.rScore][c.fScore] = c.customers;
    avg[c.rScore][c.fScore] = c.averageMonetaryFen;
  }
  return { counts, avg };
}

function grid({ counts, avg }) {
  const cell = 86;
  const left = 70;
  const top = 10;
  const W = left + cell * 5 + 10;
  const H = top + cell * 5 + 44;
  const max = Math.max(1, ...counts.flat());
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart rfm-grid', role: 'img', 'aria-label': 'RFM 分布' });
  for (let row = 0; row < 5; row++) {
    const r = 5 - row;
    const y = top + row * cell;
    svg.append(s('text', { x: left - 8, y: y + cell / 2 + 4, class: 'label', 'text-anchor': 'end' }, `R${r} ${R_LABEL[r]}`));
    for (let f = 1; f <= 5; f++) {
      const x = left + (f - 1) * cell;
      const n = counts[r][f];
      // Area and shade both grow with the count: a glance finds the crowds.
      const side = n === 0 ? 0 : Math.max(10, (cell - 8) * Math.sqrt(n / max));
      const link = s('a', {
        href: customersHref({}, { r, f }),
        class: 'rfm-cell',
        'data-r': r,
        'data-f': f,
        'data-count': n,
        'aria-label': `R${r} F${f}: ${n} 位`,
      });
      link.append(
        s('rect', { x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, class: 'cell-bg' }),
        s('rect', {
          x: x + (cell - side) / 2,
          y: y + (cell - side) / 2,
          width: side,
          height: side,
          rx: 4,
          class: 'bar',
          'fill-opacity': (0.25 + (0.75 * n) / max).toFixed(2),
        }),
        s('text', { x: x + cell / 2, y: y + cell / 2 + 5, class: 'count', 'text-anchor': 'middle' }, n),
        s('title', {}, `R${r} F${f}: ${n} 位，人均消费 ${yuan(avg[r][f])}，点击查看`),
      );
      svg.append(link);
    }
  }
  for (let f = 1; f <= 5; f++) {
    svg.append(
      s('text', { x: left + (f - 0.5) * cell, y: top + cell * 5 + 18, class: 'label', 'text-anchor': 'middle' }, `F${f} ${F_LABEL[f]}`),
    );
  }
  svg.append(s('text', { x: left + cell * 2.5, y: H - 4, class: 'tick', 'text-anchor': 'middle' }, '购买频次 →'));
  return svg;
}

export function rfmPage(root) {
  const status = h('div', { class: 'status' });
  const area = h('figure', { class: 'card chart-card rfm' });
  async function load() {
    status.replaceChildren(h('p', { class: 'loading' }, '加载中…'));
    try {
      const g = (await request(GRID)).rfmGrid;
      area.replaceChildren(h('figcaption', {}, '最近购买 (R) × 购买频次 (F)'), grid(table(g.cells)));
      status.replaceChildren(
        h(
          'p',
          { class: 'muted rfm-read' },
          g.computedAt
            ? `共 ${g.buyers} 位购买过的客户，统计于 ${dateTime(g.computedAt)}（每分钟更新）。`
            : '尚未统计（服务启动后一分钟内完成）。',
          '分数为全店购买客户的五分位（5 最好）；点击格子查看其中的客户。',
        ),
      );
    } catch (e) {
      showError(status, e);
    }
  }
  root.replaceChildren(
    h('h2', {}, 'RFM 分布'),
    h('div', { class: 'filters' }, h('button', { type: 'button', onclick: () => load() }, '刷新')),
    status,
    area,
  );
  load();
}
