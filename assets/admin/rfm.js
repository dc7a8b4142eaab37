// RFM grid: recency score (rows, 5 = bought most recently) × frequency
// score (columns), each cell sized and shaded by how many buyers it holds
// and linking to the customers list of that cell. The API answers scores
// per customer (Customer.rfm, quintiles over every buyer) but no counts per
// cell, so the page reads the buyers' scores a page at a time, up to a
// limit the operator picks, and says how many it read.
import { gql, request } from './api.js';
import { customersHref } from './customers.js';
import { h, showError } from './util.js';

const SCORES = gql`
  query ConsoleRfmScores($filter: CustomerFilter, $first: Int, $after: String) {
    customers(filter: $filter, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        rfm {
          rScore
          fScore
        }
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

/** counts[r][f] of the buyers read, how many, and whether there are more. */
async function countScores(limit, progress) {
  const counts = Array.from({ length: 6 }, () => new Array(6).fill(0));
  let read = 0;
  let after = null;
  let more = true;
  while (more && read < limit) {
    const c = (await request(SCORES, { filter: { minOrders: 1 }, first: Math.min(100, limit - read), after })).customers;
    for (const n of c.nodes) {
      if (n.rfm) counts[n.rfm.rScore][n.rfm.fScore] += 1;
    }
    read += c.nodes.length;
    more = c.pageInfo.hasNextPage;
    after = c.pageInfo.endCursor;
    progress(read);
  }
  return { counts, read, more };
}

function grid(counts) {
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
        s('title', {}, `R${r} F${f}: ${n} 位，点击查看`),
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
  const limit = h(
    'select',
    { name: 'limit' },
    [1000, 5000, 20000, 100000].map((n) => h('option', { value: n }, `最多 ${n} 位`)),
  );
  limit.value = '5000';
  const status = h('div', { class: 'status' });
  const area = h('figure', { class: 'card chart-card rfm' });
  async function load() {
    status.replaceChildren(h('p', { class: 'loading' }, '统计中…'));
    try {
      const { counts, read, more } = await countScores(Number(limit.value), (n) =>
        status.replaceChildren(h('p', { class: 'loading' }, `统计中… 已读 ${n} 位`)),
      );
      area.replaceChildren(h('figcaption', {}, '最近购买 (R) × 购买频次 (F)'), grid(counts));
      status.replaceChildren(
        h(
          'p',
          { class: 'muted rfm-read' },
          `已统计 ${read} 位购买过的客户${more ? `（按注册从新到旧，还有更多未统计：可提高上限）` : '（全部）'}。`,
          '分数为全店购买客户的五分位（5 最好）；点击格子查看其中的客户。',
        ),
      );
    } catch (e) {
      showError(status, e);
    }
  }
  root.replaceChildren(
    h('h2', {}, 'RFM 分布'),
    h(
      'form',
      {
        class: 'filters',
        onsubmit: (e) => {
          e.preventDefault();
          load();
        },
      },
      h('label', {}, '统计范围', limit),
      h('button', { type: 'submit' }, '重新统计'),
    ),
    status,
    area,
  );
  load();
}
