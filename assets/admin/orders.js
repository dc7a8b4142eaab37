// Orders: the list with filters and its CSV downloads (orders, and the
// parts to ship), an order's detail, and the refund and after-sales queues
// with their actions. A button shows only to the roles its mutation's guard
// admits (the API refuses the others anyway).
import { can, gql, request } from './api.js';
import { downloadButton } from './download.js';
import { action, addDays, ask, dateTime, dayStart, h, newKey, pagedList, table, yuan } from './util.js';

const PAGE = 20;

// The staff roles of each mutation's guard (src/auth: the owner is always admitted).
const SERVICE = ['CUSTOMER_SERVICE'];
const SHIPPER = ['OPERATIONS'];
const REFUND_FOLLOW_UP = ['CUSTOMER_SERVICE', 'FINANCE'];

export const ORDER_STATUS = {
  PENDING_PAYMENT: '待支付',
  PAID: '已支付',
  SHIPPED: '已发货',
  COMPLETED: '已完成',
  CANCELLED: '已取消',
  REFUNDING: '退款中',
  REFUNDED: '已退款',
};
const PAYMENT_METHOD = { WECHAT: '微信支付', BALANCE: '余额', DEMO: '演示支付' };
const REFUND_STATUS = {
  PENDING: '待审核',
  PROCESSING: '退款中',
  REFUNDED: '已退款',
  REJECTED: '已拒绝',
  FAILED: '失败',
};
const AFTER_SALE_STATUS = {
  REQUESTED: '待审核',
  APPROVED: '已同意',
  RETURNING: '退货中',
  RECEIVED: '已收货',
  REFUNDING: '退款中',
  REFUNDED: '已退款',
  REJECTED: '已拒绝',
  CANCELLED: '已撤销',
  FAILED: '失败',
};
const AFTER_SALE_KIND = { REFUND_ONLY: '仅退款', RETURN_AND_REFUND: '退货退款' };
const FULFILLMENT_STATUS = { PENDING: '待发货', SHIPPED: '已发货', DELIVERED: '已签收', CANCELLED: '已取消' };

const ORDERS = gql`
  query ConsoleOrders($filter: OrderFilter, $first: Int, $after: String) {
    orders(filter: $filter, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        orderNo
        status
        totalFen
        paidFen
        refundedFen
        createdAt
        lines {
          title
          quantity
        }
      }
    }
  }
`;

const ORDER = gql`
  query ConsoleOrder($id: ID!) {
    order(id: $id) {
      id
      orderNo
      status
      itemsFen
      memberDiscountFen
      promotionDiscountFen
      couponDiscountFen
      shippingFen
      totalFen
      paidFen
      balancePaidFen
      refundedFen
      payments {
        method
        amountFen
        transactionId
        refundDue
        paidAt
      }
      remark
      createdAt
      paidAt
      shippedAt
      completedAt
      shippingAddress {
        name
        phone
        province
        city
        district
        detail
      }
      lines {
        id
        title
        specs {
          name
          value
        }
        unitPriceFen
        quantity
        lineTotalFen
        refundedQuantity
      }
      fulfillments {
        id
        status
        supplier {
          name
        }
        carrier
        trackingNo
        shippedAt
        declineReason
        lines {
          title
          quantity
        }
      }
      refunds {
        id
        status
        amountFen
        reason
        failureReason
        createdAt
      }
      afterSales {
        id
        kind
        status
        amountFen
        reason
        note
        byStore
        createdAt
        refundedAt
      }
    }
  }
`;

const REFUNDS = gql`
  query ConsoleRefunds($filter: RefundFilter, $first: Int, $after: String) {
    refunds(filter: $filter, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        status
        amountFen
        reason
        failureReason
        createdAt
        order {
          id
          orderNo
        }
      }
    }
  }
`;

const APPROVE_REFUND = gql`
  mutation ConsoleApproveRefund($refundId: ID!) {
    approveRefund(refundId: $refundId) {
      id
      status
    }
  }
`;

const REJECT_REFUND = gql`
  mutation ConsoleRejectRefund($refundId: ID!, $note: String) {
    rejectRefund(refundId: $refundId, note: $note) {
      id
      status
    }
  }
`;

const AFTER_SALES = gql`
  query ConsoleAfterSales($filter: AfterSaleFilter, $first: Int, $after: String) {
    afterSales(filter: $filter, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        kind
        status
        amountFen
        reason
        description
        returnCarrier
        returnTrackingNo
        createdAt
        order {
          id
          orderNo
        }
      }
    }
  }
`;

const APPROVE_AFTER_SALE = gql`
  mutation ConsoleApproveAfterSale($id: ID!, $input: ApproveAfterSaleInput) {
    approveAfterSale(id: $id, input: $input) {
      id
      status
    }
  }
`;

const REJECT_AFTER_SALE = gql`
  mutation ConsoleRejectAfterSale($id: ID!, $reason: String!) {
    rejectAfterSale(id: $id, reason: $reason) {
      id
      status
    }
  }
`;

const CONFIRM_RETURN = gql`
  mutation ConsoleConfirmReturn($id: ID!, $restock: Boolean!) {
    confirmReturnReceived(id: $id, restock: $restock) {
      id
      status
    }
  }
`;

const REFUND_ORDER = gql`
  mutation ConsoleRefundOrder($orderId: ID!, $input: AdminRefundInput!, $idempotencyKey: String!) {
    refundOrder(orderId: $orderId, input: $input, idempotencyKey: $idempotencyKey) {
      id
      status
      amountFen
    }
  }
`;

const SUPPLIERS = gql`
  query ConsoleSuppliers {
    suppliers {
      id
      name
    }
  }
`;

const SHIP = gql`
  mutation ConsoleShip($id: ID!, $carrier: String!, $trackingNo: String!) {
    shipFulfillment(id: $id, carrier: $carrier, trackingNo: $trackingNo) {
      id
      status
    }
  }
`;

const RETRY_REFUND = gql`
  mutation ConsoleRetryRefund($refundId: ID!) {
    retryRefund(refundId: $refundId) {
      id
      status
    }
  }
`;

const SETTLE_REFUND = gql`
  mutation ConsoleSettleRefund($refundId: ID!, $note: String!) {
    settleRefund(refundId: $refundId, note: $note) {
      id
      status
    }
  }
`;

function statusSelect(labels, selected) {
  return h(
    'select',
    {},
    h('option', { value: '' }, '全部状态'),
    Object.entries(labels).map(([v, l]) => {
      const o = h('option', { value: v }, l);
      o.selected = v === selected;
      return o;
    }),
  );
}

function tabs(root, items, active) {
  return h(
    'nav',
    { class: 'tabs' },
    // The queues' tabs only for the roles whose menu has them (app.js).
    items.filter(([, , , roles]) => can(roles)).map(([key, label, show]) =>
      h('button', { type: 'button', class: key === active ? 'active' : 'secondary', onclick: () => show(root) }, label),
    ),
  );
}

function header(root, active) {
  return tabs(
    root,
    [
      ['orders', '订单', ordersPage],
      ['refunds', '退款队列', refundsPage, REFUND_FOLLOW_UP],
      ['afterSales', '售后队列', afterSalesPage, SERVICE],
    ],
    active,
  );
}

const orderLink = (order) => h('a', { href: `#/orders/${encodeURIComponent(order.id)}` }, order.orderNo);

export function ordersPage(root) {
  const status = statusSelect(ORDER_STATUS, '');
  const from = h('input', { type: 'date' });
  const to = h('input', { type: 'date' });
  const customer = h('input', { type: 'text', placeholder: '客户 ID', size: 14 });
  const supplier = h('select', {}, h('option', { value: '' }, '全部供应商'));
  request(SUPPLIERS)
    .then((d) => supplier.append(...d.suppliers.map((x) => h('option', { value: x.id }, x.name))))
    .catch(() => supplier.append(h('option', { value: '', disabled: true }, '供应商加载失败')));
  const shipStatus = statusSelect(FULFILLMENT_STATUS, 'PENDING');
  // The filter the list last loaded: the download holds what the list shows.
  let applied = {};
  const list = pagedList(
    ['订单号', '状态', '商品', '实付', '已退', '下单时间'],
    async (after) => {
      if (!after) {
        applied = {};
        if (status.value) applied.status = status.value;
        if (from.value) applied.from = dayStart(from.value).toISOString();
        if (to.value) applied.to = addDays(dayStart(to.value), 1).toISOString();
        if (customer.value.trim()) applied.customerId = customer.value.trim();
        if (supplier.value) applied.supplierId = supplier.value;
      }
      const d = await request(ORDERS, { filter: applied, first: PAGE, after });
      return d.orders;
    },
    (o) =>
      h(
        'tr',
        {},
        h('td', {}, orderLink(o)),
        h('td', {}, ORDER_STATUS[o.status] || o.status),
        h('td', {}, o.lines.map((l) => `${l.title} ×${l.quantity}`).join('，')),
        h('td', { class: 'num' }, yuan(o.paidFen)),
        h('td', { class: 'num' }, yuan(o.refundedFen)),
        h('td', {}, dateTime(o.createdAt)),
      ),
  );
  root.replaceChildren(
    h('h2', {}, '订单'),
    header(root, 'orders'),
    h(
      'form',
      {
        class: 'filters',
        onsubmit: (e) => {
          e.preventDefault();
          list.reload();
        },
      },
      h('label', {}, '状态', status),
      h('label', {}, '从', from),
      h('label', {}, '到(含)', to),
      h('label', {}, '客户', customer),
      h('label', {}, '供应商', supplier),
      h('button', { type: 'submit' }, '筛选'),
      downloadButton('下载订单 CSV', 'orders.csv', { filter: () => applied }),
    ),
    h(
      'div',
      { class: 'filters' },
      h('label', {}, '发货单状态', shipStatus),
      downloadButton('下载发货单 CSV', 'fulfillments.csv', { filter: () => (shipStatus.value ? { status: shipStatus.value } : {}) }),
    ),
    list.element,
  );
  list.reload();
}

export async function orderPage(root, id) {
  root.replaceChildren(h('p', { class: 'loading' }, '加载中…'));
  const reload = () => orderPage(root, id);
  let o;
  try {
    o = (await request(ORDER, { id })).order;
  } catch (e) {
    root.replaceChildren(h('div', { class: 'error' }, String(e)));
    return;
  }
  if (!o) {
    root.replaceChildren(h('div', { class: 'error' }, '没有这个订单 (NOT_FOUND)'));
    return;
  }
  const a = o.shippingAddress;
  const money = (label, fen) => h('div', {}, h('dt', {}, label), h('dd', {}, yuan(fen)));
  root.replaceChildren(
    h('p', {}, h('a', { href: '#/orders' }, '← 订单列表')),
    h('h2', {}, `订单 ${o.orderNo}`),
    h(
      'div',
      { class: 'card' },
      h(
        'dl',
        { class: 'facts' },
        h('div', {}, h('dt', {}, '状态'), h('dd', {}, ORDER_STATUS[o.status] || o.status)),
        h('div', {}, h('dt', {}, '下单'), h('dd', {}, dateTime(o.createdAt))),
        h('div', {}, h('dt', {}, '支付'), h('dd', {}, dateTime(o.paidAt))),
        h('div', {}, h('dt', {}, '发货'), h('dd', {}, dateTime(o.shippedAt))),
        h('div', {}, h('dt', {}, '完成'), h('dd', {}, dateTime(o.completedAt))),
        money('商品金额', o.itemsFen),
        money('会员优惠', o.memberDiscountFen),
        money('活动优惠', o.promotionDiscountFen),
        money('优惠券', o.couponDiscountFen),
        money('运费', o.shippingFen),
        money('订单金额', o.totalFen),
        money('微信支付', o.paidFen),
        money('余额支付', o.balancePaidFen),
        money('已退', o.refundedFen),
        h('div', {}, h('dt', {}, '收货'), h('dd', {}, a ? `${a.name} ${a.phone} ${a.province}${a.city}${a.district}${a.detail}` : '—')),
        h('div', {}, h('dt', {}, '备注'), h('dd', {}, o.remark || '—')),
      ),
      h(
        'div',
        { class: 'actions' },
        can(SERVICE) &&
          action(
            '主动退款',
            async () => {
              // One key per dialog: submitting the same refund twice (a
              // double click, a retry after a network error) refunds once.
              const key = newKey();
              const v = await ask('主动退款（refundOrder）', [
                { name: 'amount', label: '金额（元，空 = 剩余全部）', type: 'yuan' },
                { name: 'reason', label: '原因（买家可见）', type: 'text', required: true },
                { name: 'restock', label: '退回库存', type: 'checkbox', value: false },
              ]);
              if (!v) return false;
              const input = { reason: v.reason, restock: v.restock };
              if (v.amount !== null) input.amountFen = v.amount;
              await request(REFUND_ORDER, { orderId: o.id, input, idempotencyKey: key });
            },
            reload,
            'danger',
          ),
      ),
    ),
    h('h3', {}, '支付记录'),
    table(
      ['时间', '方式', '金额', '微信支付单号', '备注'],
      o.payments.map((p) =>
        h(
          'tr',
          {},
          h('td', {}, dateTime(p.paidAt)),
          h('td', {}, PAYMENT_METHOD[p.method] || p.method),
          h('td', { class: 'num' }, yuan(p.amountFen)),
          h('td', {}, p.transactionId || '—'),
          // Arrived after the order was cancelled: returned in full.
          h('td', {}, p.refundDue ? '迟到，已原路退回' : ''),
        ),
      ),
    ),
    h('h3', {}, '商品'),
    table(
      ['商品', '规格', '单价', '数量', '小计', '已退数量'],
      o.lines.map((l) =>
        h(
          'tr',
          {},
          h('td', {}, l.title),
          h('td', {}, l.specs.map((s) => `${s.name}:${s.value}`).join(' ')),
          h('td', { class: 'num' }, yuan(l.unitPriceFen)),
          h('td', { class: 'num' }, l.quantity),
          h('td', { class: 'num' }, yuan(l.lineTotalFen)),
          h('td', { class: 'num' }, l.refundedQuantity),
        ),
      ),
    ),
    h('h3', {}, '发货'),
    table(
      ['状态', '供应商', '商品', '快递', '发货时间', '备注', '操作'],
      o.fulfillments.map((f) =>
        h(
          'tr',
          {},
          h('td', {}, FULFILLMENT_STATUS[f.status] || f.status),
          h('td', {}, f.supplier ? f.supplier.name : '自营'),
          h('td', {}, f.lines.map((l) => `${l.title} ×${l.quantity}`).join('，')),
          h('td', {}, f.carrier ? `${f.carrier} ${f.trackingNo || ''}` : '—'),
          h('td', {}, dateTime(f.shippedAt)),
          h('td', {}, f.declineReason ? `供应商无法发货: ${f.declineReason}` : ''),
          h(
            'td',
            { class: 'actions' },
            // Self-operated parts, and parts a supplier declined, the
            // store ships itself.
            can(SHIPPER) &&
              f.status === 'PENDING' &&
              (!f.supplier || f.declineReason) &&
              action(
                '发货',
                async () => {
                  const v = await ask(
                    '发货',
                    [
                      { name: 'carrier', label: '快递公司', type: 'text', required: true },
                      { name: 'trackingNo', label: '运单号', type: 'text', required: true },
                    ],
                    '发货',
                  );
                  if (!v) return false;
                  await request(SHIP, { id: f.id, carrier: v.carrier, trackingNo: v.trackingNo });
                },
                reload,
              ),
          ),
        ),
      ),
    ),
    h('h3', {}, '退款申请'),
    table(
      ['状态', '金额', '原因', '时间'],
      o.refunds.map((r) =>
        h(
          'tr',
          {},
          h('td', {}, REFUND_STATUS[r.status] || r.status, r.failureReason ? `（${r.failureReason}）` : ''),
          h('td', { class: 'num' }, yuan(r.amountFen)),
          h('td', {}, r.reason),
          h('td', {}, dateTime(r.createdAt)),
        ),
      ),
    ),
    h('h3', {}, '售后'),
    table(
      ['类型', '状态', '金额', '原因', '申请', '退款'],
      o.afterSales.map((s) =>
        h(
          'tr',
          {},
          h('td', {}, AFTER_SALE_KIND[s.kind] || s.kind, s.byStore ? '（商家发起）' : ''),
          h('td', {}, AFTER_SALE_STATUS[s.status] || s.status),
          h('td', { class: 'num' }, yuan(s.amountFen)),
          h('td', {}, s.reason, s.note ? `；备注: ${s.note}` : ''),
          h('td', {}, dateTime(s.createdAt)),
          h('td', {}, dateTime(s.refundedAt)),
        ),
      ),
    ),
  );
}

export function refundsPage(root) {
  const status = statusSelect(REFUND_STATUS, 'PENDING');
  const list = pagedList(
    ['订单', '状态', '金额', '原因', '申请时间', '操作'],
    async (after) => {
      const filter = status.value ? { status: status.value } : {};
      return (await request(REFUNDS, { filter, first: PAGE, after })).refunds;
    },
    (r, reload) =>
      h(
        'tr',
        { 'data-id': r.id },
        h('td', {}, orderLink(r.order)),
        h('td', {}, REFUND_STATUS[r.status] || r.status, r.failureReason ? `（${r.failureReason}）` : ''),
        h('td', { class: 'num' }, yuan(r.amountFen)),
        h('td', {}, r.reason),
        h('td', {}, dateTime(r.createdAt)),
        h(
          'td',
          { class: 'actions' },
          can(SERVICE) && r.status === 'PENDING' && [
            action('同意', () => request(APPROVE_REFUND, { refundId: r.id }), reload),
            action(
              '拒绝',
              async () => {
                const v = await ask('拒绝退款', [{ name: 'note', label: '说明', type: 'text' }], '拒绝');
                if (!v) return false;
                await request(REJECT_REFUND, { refundId: r.id, note: v.note });
              },
              reload,
              'danger',
            ),
          ],
          can(REFUND_FOLLOW_UP) && r.status === 'FAILED' && [
            action('重新退款', () => request(RETRY_REFUND, { refundId: r.id }), reload),
            action(
              '已线下退款',
              async () => {
                const v = await ask('记为已通过其他方式退款', [{ name: 'note', label: '说明（如转账流水号）', type: 'text', required: true }]);
                if (!v) return false;
                await request(SETTLE_REFUND, { refundId: r.id, note: v.note });
              },
              reload,
              'secondary',
            ),
          ],
        ),
      ),
  );
  status.addEventListener('change', () => list.reload());
  root.replaceChildren(h('h2', {}, '退款队列'), header(root, 'refunds'), h('div', { class: 'filters' }, h('label', {}, '状态', status)), list.element);
  list.reload();
}

export function afterSalesPage(root) {
  const status = statusSelect(AFTER_SALE_STATUS, 'REQUESTED');
  const list = pagedList(
    ['订单', '类型', '状态', '金额', '原因', '退货物流', '申请时间', '操作'],
    async (after) => {
      const filter = status.value ? { status: status.value } : {};
      return (await request(AFTER_SALES, { filter, first: PAGE, after })).afterSales;
    },
    (s, reload) =>
      h(
        'tr',
        { 'data-id': s.id },
        h('td', {}, orderLink(s.order)),
        h('td', {}, AFTER_SALE_KIND[s.kind] || s.kind),
        h('td', {}, AFTER_SALE_STATUS[s.status] || s.status),
        h('td', { class: 'num' }, yuan(s.amountFen)),
        h('td', {}, s.reason, s.description ? `：${s.description}` : ''),
        h('td', {}, s.returnCarrier ? `${s.returnCarrier} ${s.returnTrackingNo || ''}` : '—'),
        h('td', {}, dateTime(s.createdAt)),
        h(
          'td',
          { class: 'actions' },
          can(SERVICE) && s.status === 'REQUESTED' && [
            action(
              '同意',
              async () => {
                const fields = [{ name: 'amount', label: `退款金额（元，空 = ${yuan(s.amountFen)}，只能调低）`, type: 'yuan' }];
                if (s.kind === 'RETURN_AND_REFUND') {
                  fields.push({ name: 'returnAddress', label: '退货地址（空 = 默认）', type: 'textarea' });
                }
                const v = await ask('同意售后', fields, '同意');
                if (!v) return false;
                const input = {};
                if (v.amount !== null) input.amountFen = v.amount;
                if (v.returnAddress) input.returnAddress = v.returnAddress;
                await request(APPROVE_AFTER_SALE, { id: s.id, input });
              },
              reload,
            ),
            action(
              '拒绝',
              async () => {
                const v = await ask('拒绝售后', [{ name: 'reason', label: '原因（买家可见）', type: 'text', required: true }], '拒绝');
                if (!v) return false;
                await request(REJECT_AFTER_SALE, { id: s.id, reason: v.reason });
              },
              reload,
              'danger',
            ),
          ],
          can(SERVICE) &&
            (s.status === 'APPROVED' || s.status === 'RETURNING') &&
            s.kind === 'RETURN_AND_REFUND' &&
            action(
              '确认收到退货',
              async () => {
                const v = await ask('确认收到退货（随后退款）', [{ name: 'restock', label: '退回库存', type: 'checkbox', value: true }], '确认');
                if (!v) return false;
                await request(CONFIRM_RETURN, { id: s.id, restock: v.restock });
              },
              reload,
            ),
        ),
      ),
  );
  status.addEventListener('change', () => list.reload());
  root.replaceChildren(h('h2', {}, '售后队列'), header(root, 'afterSales'), h('div', { class: 'filters' }, h('label', {}, '状态', status)), list.element);
  list.reload();
}
