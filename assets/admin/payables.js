// 供应商结算: what the store owes its drop-ship suppliers, one payable per
// supplier fulfillment with its ledger sums (amount, paid, netted between
// payables, balance), the filter's total balance, the CSV of the filter,
// and recording the store's transfer of due ones (FINANCE).
import { can, gql, request } from './api.js';
import { downloadButton } from './download.js';
import { action, addDays, ask, dateTime, dayStart, h, pagedList, showError, showOk, yuan } from './util.js';

const STATUS = { PENDING: '退货期内', DUE: '待付款', PAID: '已付款' };

const PAYABLES = gql`
  query ConsolePayables($filter: SupplierPayableFilter, $first: Int, $after: String) {
    supplierPayables(filter: $filter, first: $first, after: $after) {
      totalCount
      balanceFen
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        orderId
        fulfillmentId
        status
        amountFen
        paidFen
        nettedFen
        balanceFen
        createdAt
        dueAt
        paidAt
        paidReference
        supplier {
          id
          name
        }
      }
    }
  }
`;

const SUPPLIERS = gql`
  query ConsolePayableSuppliers {
    suppliers {
      id
      name
    }
  }
`;

const MARK_PAID = gql`
  mutation ConsoleMarkSupplierPayablesPaid($ids: [ID!]!, $reference: String!) {
    markSupplierPayablesPaid(ids: $ids, reference: $reference)
  }
`;

export function payablesPage(root) {
  const payer = can(['FINANCE']);
  const message = h('div');
  const totals = h('div', { class: 'figures' });
  const supplier = h('select', {}, h('option', { value: '' }, '全部供应商'));
  request(SUPPLIERS)
    .then((d) => supplier.append(...d.suppliers.map((x) => h('option', { value: x.id }, x.name))))
    .catch(() => supplier.append(h('option', { value: '', disabled: true }, '供应商加载失败')));
  const status = h(
    'select',
    {},
    h('option', { value: '' }, '全部状态'),
    Object.entries(STATUS).map(([v, l]) => h('option', { value: v }, l)),
  );
  const from = h('input', { type: 'date' });
  const to = h('input', { type: 'date' });
  // The filter the list last loaded: the download and the totals follow it.
  let applied = {};
  const selected = new Set();
  const filterOf = () => {
    const f = {};
    if (supplier.value) f.supplierId = supplier.value;
    if (status.value) f.status = status.value;
    if (from.value) f.from = dayStart(from.value).toISOString();
    if (to.value) f.to = addDays(dayStart(to.value), 1).toISOString();
    return f;
  };
  const figure = (label, value) => h('div', { class: 'card figure' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
  const list = pagedList(
    [payer ? '选择' : '', '供应商', '订单', '状态', '货款', '已付', '抵扣', '余额', '产生', '到期', '付款', '凭证'],
    async (after) => {
      if (!after) applied = filterOf();
      selected.clear();
      const page = (await request(PAYABLES, { filter: applied, first: 20, after })).supplierPayables;
      totals.replaceChildren(figure('笔数', page.totalCount), figure('应付余额', yuan(page.balanceFen)));
      return page;
    },
    (p) =>
      h(
        'tr',
        { 'data-id': p.id },
        h(
          'td',
          {},
          payer &&
            p.status === 'DUE' &&
            h('input', {
              type: 'checkbox',
              'aria-label': `选择 ${p.id}`,
              onchange: (e) => (e.target.checked ? selected.add(p.id) : selected.delete(p.id)),
            }),
        ),
        h('td', {}, p.supplier ? p.supplier.name : '—'),
        h('td', {}, h('a', { href: `#/orders/${encodeURIComponent(p.orderId)}` }, `订单 ${p.orderId}`)),
        h('td', {}, STATUS[p.status] || p.status),
        h('td', { class: 'num' }, yuan(p.amountFen)),
        h('td', { class: 'num' }, yuan(p.paidFen)),
        h('td', { class: 'num' }, yuan(p.nettedFen)),
        h('td', { class: 'num' }, yuan(p.balanceFen)),
        h('td', {}, dateTime(p.createdAt)),
        h('td', {}, dateTime(p.dueAt)),
        h('td', {}, dateTime(p.paidAt)),
        h('td', {}, p.paidReference || ''),
      ),
  );
  const markPaid =
    payer &&
    action(
      '标记所选为已付款',
      async () => {
        if (selected.size === 0) {
          showError(message, '先勾选待付款的记录');
          return false;
        }
        const v = await ask(
          `记录已转账给供应商（${selected.size} 笔）`,
          [{ name: 'reference', label: '转账凭证 / 银行流水号', type: 'text', required: true }],
          '记录',
        );
        if (!v) return false;
        const n = (await request(MARK_PAID, { ids: [...selected], reference: v.reference })).markSupplierPayablesPaid;
        showOk(message, `${n} 笔标记为已付款`);
      },
      () => list.reload(),
    );
  const query = () => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(applied)) q.set(k, v);
    return q.toString();
  };
  root.replaceChildren(
    h('h2', {}, '供应商结算'),
    h(
      'form',
      {
        class: 'filters',
        onsubmit: (e) => {
          e.preventDefault();
          list.reload();
        },
      },
      h('label', {}, '供应商', supplier),
      h('label', {}, '状态', status),
      h('label', {}, '产生 从', from),
      h('label', {}, '到(含)', to),
      h('button', { type: 'submit' }, '筛选'),
      downloadButton('下载 CSV', 'supplier-payables.csv', { query }),
    ),
    totals,
    message,
    h('div', { class: 'actions' }, markPaid),
    list.element,
  );
  list.reload();
}
