// Customers: the list with every field of CustomerFilter, kept in the
// address (#/customers?filter=<JSON>) so segments, tags and the RFM grid can
// link to a filtered list, with how many match (`totalCount`). R and F
// scores are CustomerFilter fields (rScore, fScore); the RFM grid links to
// a cell as #/customers?rfm=R-F (* for any). 下载 CSV exports the filter
// the list last loaded.
import { gql, request } from './api.js';
import { downloadButton } from './download.js';
import { dateTime, h, isoDay, pagedList, parseYuan, yuan } from './util.js';

export const STAGES = { NEW: '新客(未购)', ACTIVE: '活跃', SILENT: '沉默', SLEEPING: '沉睡', CHURNED: '流失' };

const PAGE = 20;

const CUSTOMERS = gql`
  query ConsoleCustomers($filter: CustomerFilter, $first: Int, $after: String, $withTotal: Boolean!) {
    customers(filter: $filter, first: $first, after: $after) {
      totalCount @include(if: $withTotal)
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          nickname
          createdAt
          scene
          lifecycleStage
          tags
          membership {
            active
            expiresAt
          }
          stats {
            ordersCount
            totalSpentFen
            lastOrderAt
          }
          rfm {
            rScore
            fScore
            code
          }
        }
      }
    }
  }
`;

/** The address of the customers list showing `filter` (and an RFM cell). */
export function customersHref(filter, rfm) {
  const q = new URLSearchParams();
  if (filter && Object.keys(filter).length > 0) q.set('filter', JSON.stringify(filter));
  if (rfm) q.set('rfm', `${rfm.r || '*'}-${rfm.f || '*'}`);
  const s = q.toString();
  return s ? `#/customers?${s}` : '#/customers';
}

/** The query part of the address (#/page?a=b). */
export function hashQuery() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
}

export const customerLink = (c) =>
  h('a', { href: `#/customers/${encodeURIComponent(c.id)}` }, c.nickname || c.id);

/** Fen as yuan text for an input ("12.50"), no floats. */
function yuanText(fen) {
  if (fen === null || fen === undefined) return '';
  const s = String(fen).padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** A day ("2026-12-03") of an RFC 3339 time, in the browser's time zone. */
const dayOf = (iso) => (iso ? isoDay(new Date(iso)) : '');

function whole(text, label) {
  const t = text.trim();
  if (t === '') return null;
  if (!/^\d{1,9}$/.test(t)) throw new Error(`${label}: 请填写非负整数`);
  return Number(t);
}

/**
 * The inputs of a CustomerFilter (every field the API offers), filled from
 * `initial`. value() answers the filter (only the fields given) or throws a
 * message for what is typed wrong.
 */
export function filterFields(initial = {}) {
  const f = initial || {};
  const stage = h(
    'select',
    { name: 'lifecycleStage' },
    h('option', { value: '' }, '全部阶段'),
    Object.entries(STAGES).map(([v, l]) => h('option', { value: v }, l)),
  );
  stage.value = f.lifecycleStage || '';
  const member = h(
    'select',
    { name: 'member' },
    h('option', { value: '' }, '全部'),
    h('option', { value: 'true' }, '会员'),
    h('option', { value: 'false' }, '非会员'),
  );
  member.value = f.member === undefined || f.member === null ? '' : String(f.member);
  const text = (value, placeholder, size) => h('input', { type: 'text', value: value ?? '', placeholder, size });
  const keyword = text(f.keyword, '昵称', 10);
  const tags = text((f.tags || []).join('，'), '任一标签，逗号分隔', 14);
  const minOrders = text(f.minOrders, '≥', 4);
  const maxOrders = text(f.maxOrders, '≤', 4);
  const minSpent = text(yuanText(f.minSpentFen), '≥ 元', 7);
  const maxSpent = text(yuanText(f.maxSpentFen), '≤ 元', 7);
  const scene = text(f.scene, '完全一致', 10);
  const rScore = scoreSelect('rScore', 'R', f.rScore);
  const fScore = scoreSelect('fScore', 'F', f.fScore);
  const joinedFrom = h('input', { type: 'date', value: dayOf(f.joinedFrom) });
  // joinedTo is exclusive in the API; the form shows the last day included.
  const joinedTo = h('input', {
    type: 'date',
    value: f.joinedTo ? isoDay(new Date(Date.parse(f.joinedTo) - 1)) : '',
  });
  const elements = [
    h('label', {}, '昵称', keyword),
    h('label', {}, '生命周期', stage),
    h('label', {}, '会员', member),
    h('label', {}, '标签', tags),
    h('label', {}, '订单数 ≥', minOrders),
    h('label', {}, '订单数 ≤', maxOrders),
    h('label', {}, '消费 ≥ (元)', minSpent),
    h('label', {}, '消费 ≤ (元)', maxSpent),
    h('label', {}, '来源场景', scene),
    h('label', {}, '注册从', joinedFrom),
    h('label', {}, '注册至', joinedTo),
    h('label', {}, 'R 分(最近)', rScore),
    h('label', {}, 'F 分(频次)', fScore),
  ];
  function value() {
    const out = {};
    if (keyword.value.trim()) out.keyword = keyword.value.trim();
    if (stage.value) out.lifecycleStage = stage.value;
    if (member.value) out.member = member.value === 'true';
    const tagList = tags.value
      .split(/[,，\s]+/)
      .map((t) => t.trim())
      .filter(Boolean);
    if (tagList.length > 0) out.tags = tagList;
    const lo = whole(minOrders.value, '订单数 ≥');
    const hi = whole(maxOrders.value, '订单数 ≤');
    if (lo !== null) out.minOrders = lo;
    if (hi !== null) out.maxOrders = hi;
    const spentLo = parseYuan(minSpent.value);
    const spentHi = parseYuan(maxSpent.value);
    if (spentLo !== null) out.minSpentFen = spentLo;
    if (spentHi !== null) out.maxSpentFen = spentHi;
    if (scene.value.trim()) out.scene = scene.value.trim();
    // Local midnights: the operators' days.
    if (joinedFrom.value) out.joinedFrom = new Date(`${joinedFrom.value}T00:00:00`).toISOString();
    if (joinedTo.value) {
      const next = new Date(`${joinedTo.value}T00:00:00`);
      next.setDate(next.getDate() + 1);
      out.joinedTo = next.toISOString();
    }
    if (rScore.value) out.rScore = Number(rScore.value);
    if (fScore.value) out.fScore = Number(fScore.value);
    return out;
  }
  return { elements, value };
}

/** What a filter means, in words (for segments and headings). */
export function describeFilter(f) {
  const parts = [];
  if (f.keyword) parts.push(`昵称含「${f.keyword}」`);
  if (f.lifecycleStage) parts.push(STAGES[f.lifecycleStage] || f.lifecycleStage);
  if (f.member === true) parts.push('会员');
  if (f.member === false) parts.push('非会员');
  if (f.tags && f.tags.length) parts.push(`标签 ${f.tags.join('/')}`);
  if (f.minOrders !== undefined && f.minOrders !== null) parts.push(`订单 ≥ ${f.minOrders}`);
  if (f.maxOrders !== undefined && f.maxOrders !== null) parts.push(`订单 ≤ ${f.maxOrders}`);
  if (f.minSpentFen !== undefined && f.minSpentFen !== null) parts.push(`消费 ≥ ${yuan(f.minSpentFen)}`);
  if (f.maxSpentFen !== undefined && f.maxSpentFen !== null) parts.push(`消费 ≤ ${yuan(f.maxSpentFen)}`);
  if (f.scene) parts.push(`场景 ${f.scene}`);
  if (f.joinedFrom) parts.push(`注册从 ${dayOf(f.joinedFrom)}`);
  if (f.joinedTo) parts.push(`注册早于 ${dayOf(f.joinedTo)}`);
  if (f.rScore) parts.push(`R${f.rScore}`);
  if (f.fScore) parts.push(`F${f.fScore}`);
  if (f.mScore) parts.push(`M${f.mScore}`);
  return parts.length ? parts.join('，') : '全部客户';
}

/**
 * One console page of the customers matching `filter`; the first page also
 * with how many match (a count over every match: asked once per filter, not
 * on every page).
 */
async function fetchCustomers(filter, after) {
  const c = (await request(CUSTOMERS, { filter, first: PAGE, after, withTotal: !after })).customers;
  return { nodes: c.edges.map((e) => e.node), pageInfo: c.pageInfo, totalCount: c.totalCount };
}

/** "5-3", "5-*" or "*-3" as {r, f} (null: any); null when neither is chosen. */
function parseRfm(text) {
  const m = /^([1-5*])-([1-5*])$/.exec(text || '');
  if (!m || (m[1] === '*' && m[2] === '*')) return null;
  const score = (x) => (x === '*' ? null : Number(x));
  return { r: score(m[1]), f: score(m[2]) };
}

function scoreSelect(name, label, value) {
  const select = h(
    'select',
    { name },
    h('option', { value: '' }, '不限'),
    [5, 4, 3, 2, 1].map((n) => h('option', { value: n }, `${label}${n}`)),
  );
  select.value = value ? String(value) : '';
  return select;
}

export function customersPage(root) {
  const q = hashQuery();
  let initial = {};
  try {
    initial = JSON.parse(q.get('filter') || '{}') || {};
  } catch {
    initial = {};
  }
  // A grid cell's address (rfm=R-F) chooses the scores.
  const cell = parseRfm(q.get('rfm'));
  if (cell) {
    delete initial.rScore;
    delete initial.fScore;
    if (cell.r) initial.rScore = cell.r;
    if (cell.f) initial.fScore = cell.f;
  }
  const fields = filterFields(initial);
  const problem = h('div', { class: 'problem' });
  let filter = initial;
  const condition = h('p', { class: 'muted' });
  const total = h('p', { class: 'total' });
  const note = h('p', { class: 'rfm-note' });
  const showCondition = () => {
    condition.replaceChildren('条件：', describeFilter(filter));
    const scored = filter.rScore || filter.fScore;
    note.hidden = !scored;
    if (scored) {
      const rest = { ...filter };
      delete rest.rScore;
      delete rest.fScore;
      note.replaceChildren(
        `RFM ${filter.rScore ? `R${filter.rScore}` : ''}${filter.rScore && filter.fScore ? '·' : ''}${filter.fScore ? `F${filter.fScore}` : ''}：` +
          '分数为全店购买客户的五分位（每分钟更新）。',
        h('a', { href: customersHref(rest) }, '取消 RFM 条件'),
      );
    }
  };
  showCondition();
  const list = pagedList(
    ['客户', 'ID', '阶段', 'RFM', '订单数', '累计消费', '最近下单', '来源场景', '会员', '标签', '注册'],
    async (after) => {
      const page = await fetchCustomers(filter, after);
      if (page.totalCount !== undefined) {
        total.textContent = `共 ${page.totalCount} 位`;
        total.dataset.count = String(page.totalCount);
      }
      return page;
    },
    (c) =>
      h(
        'tr',
        { 'data-id': c.id },
        h('td', {}, customerLink(c)),
        h('td', {}, h('code', {}, c.id)),
        h('td', {}, STAGES[c.lifecycleStage] || c.lifecycleStage),
        h('td', {}, c.rfm ? c.rfm.code : '—'),
        h('td', { class: 'num' }, c.stats.ordersCount),
        h('td', { class: 'num' }, yuan(c.stats.totalSpentFen)),
        h('td', {}, dateTime(c.stats.lastOrderAt)),
        h('td', {}, c.scene || '—'),
        h('td', {}, c.membership && c.membership.active ? `至 ${dateTime(c.membership.expiresAt)}` : ''),
        h('td', {}, c.tags.join('，')),
        h('td', {}, dateTime(c.createdAt)),
      ),
  );
  root.replaceChildren(
    h('h2', {}, '客户'),
    note,
    h(
      'form',
      {
        class: 'filters',
        onsubmit: (e) => {
          e.preventDefault();
          try {
            filter = fields.value();
          } catch (err) {
            problem.textContent = err.message;
            return;
          }
          problem.textContent = '';
          showCondition();
          // Kept in the address, so the list can be linked and reloaded.
          history.replaceState(null, '', customersHref(filter));
          list.reload();
        },
      },
      fields.elements,
      h('button', { type: 'submit' }, '筛选'),
      downloadButton('下载 CSV', 'customers.csv', { filter: () => filter }),
    ),
    problem,
    condition,
    total,
    list.element,
  );
  list.reload();
}
