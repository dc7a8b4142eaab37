// Customers: the list with customers(filter), read-only in this slice, and
// the CSV of the filter the list shows.
import { gql, request } from './api.js';
import { downloadButton } from './download.js';
import { dateTime, h, pagedList, yuan } from './util.js';

export const STAGES = { NEW: '新客(未购)', ACTIVE: '活跃', SILENT: '沉默', SLEEPING: '沉睡', CHURNED: '流失' };

const CUSTOMERS = gql`
  query ConsoleCustomers($filter: CustomerFilter, $first: Int, $after: String) {
    customers(filter: $filter, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
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
          code
        }
      }
    }
  }
`;

export function customersPage(root) {
  const stage = h(
    'select',
    {},
    h('option', { value: '' }, '全部阶段'),
    Object.entries(STAGES).map(([v, l]) => h('option', { value: v }, l)),
  );
  const member = h(
    'select',
    {},
    h('option', { value: '' }, '全部'),
    h('option', { value: 'true' }, '会员'),
    h('option', { value: 'false' }, '非会员'),
  );
  const keyword = h('input', { type: 'text', placeholder: '昵称', size: 12 });
  const tag = h('input', { type: 'text', placeholder: '标签', size: 10 });
  // The filter the list last loaded (not what is typed but not yet applied).
  let applied = {};
  const list = pagedList(
    ['客户', 'ID', '阶段', 'RFM', '订单数', '累计消费', '最近下单', '来源场景', '会员', '标签', '注册'],
    async (after) => {
      if (!after) {
        applied = {};
        if (stage.value) applied.lifecycleStage = stage.value;
        if (member.value) applied.member = member.value === 'true';
        if (keyword.value.trim()) applied.keyword = keyword.value.trim();
        if (tag.value.trim()) applied.tags = [tag.value.trim()];
      }
      return (await request(CUSTOMERS, { filter: applied, first: 20, after })).customers;
    },
    (c) =>
      h(
        'tr',
        {},
        h('td', {}, c.nickname || '—'),
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
    h(
      'form',
      {
        class: 'filters',
        onsubmit: (e) => {
          e.preventDefault();
          list.reload();
        },
      },
      h('label', {}, '生命周期', stage),
      h('label', {}, '会员', member),
      h('label', {}, '昵称', keyword),
      h('label', {}, '标签', tag),
      h('button', { type: 'submit' }, '筛选'),
      downloadButton('下载 CSV', 'customers.csv', { filter: () => applied }),
    ),
    list.element,
  );
  list.reload();
}
