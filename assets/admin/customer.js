// One customer (#/customers/<id>): purchase figures, CLV, RFM and stage,
// membership, promoter figures and team (those it invited, level 1 or 2),
// tags, the wallet ledger and orders (each paged with the API's cursors), and what staff may do to the customer:
// tags (OPERATIONS), a wallet adjustment (FINANCE), a promoter review and
// a coupon (OPERATIONS). Buttons follow the guards of those mutations;
// the API checks every call anyway.
import { can, gql, request } from './api.js';
import { customerLink, STAGES } from './customers.js';
import { ORDER_STATUS } from './orders.js';
import { action, ask, dateTime, h, newKey, pagedList, showError, showOk, yuan } from './util.js';

const CUSTOMER = gql`
  query ConsoleCustomer($id: ID!) {
    customer(id: $id) {
      id
      nickname
      referralCode
      createdAt
      scene
      lifecycleStage
      clvFen
      userValue
      tags
      referrer {
        id
        nickname
      }
      stats {
        ordersCount
        totalSpentFen
        averageOrderFen
        firstOrderAt
        lastOrderAt
        daysSinceLastOrder
      }
      rfm {
        recencyDays
        frequency
        monetaryFen
        rScore
        fScore
        mScore
        code
      }
      membership {
        active
        startedAt
        expiresAt
        plan {
          name
          discountPercent
          freeShipping
        }
      }
      promoter {
        status
        pendingFen
        settledFen
        withdrawnFen
        withdrawableFen
        owedFen
        level1Count
        level2Count
      }
      wallet {
        balanceFen
        principalFen
        bonusFen
      }
    }
  }
`;

const LEDGER = gql`
  query ConsoleCustomerLedger($id: ID!, $first: Int, $after: String) {
    customer(id: $id) {
      id
      wallet {
        transactions(first: $first, after: $after) {
          pageInfo {
            hasNextPage
            endCursor
          }
          nodes {
            id
            kind
            amountFen
            principalFen
            bonusFen
            balanceAfterFen
            reason
            createdAt
            order {
              id
              orderNo
            }
          }
        }
      }
    }
  }
`;

const CUSTOMER_ORDERS = gql`
  query ConsoleCustomerOrders($filter: OrderFilter, $first: Int, $after: String) {
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
      }
    }
  }
`;

const TEAM = gql`
  query ConsolePromoterTeam($customerId: ID!, $level: Int, $first: Int, $after: String) {
    promoterTeam(customerId: $customerId, level: $level, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        nickname
        createdAt
        stats {
          ordersCount
          totalSpentFen
        }
      }
    }
  }
`;

const TAG = gql`
  mutation ConsoleTagCustomers($customerIds: [ID!]!, $tags: [String!]!) {
    tagCustomers(customerIds: $customerIds, tags: $tags)
  }
`;

const UNTAG = gql`
  mutation ConsoleUntagCustomers($customerIds: [ID!]!, $tags: [String!]!) {
    untagCustomers(customerIds: $customerIds, tags: $tags)
  }
`;

const ADJUST = gql`
  mutation ConsoleAdjustWallet($customerId: ID!, $amountFen: Money!, $reason: String!, $idempotencyKey: String!) {
    adjustWallet(customerId: $customerId, amountFen: $amountFen, reason: $reason, idempotencyKey: $idempotencyKey) {
      balanceFen
    }
  }
`;

const REVIEW_PROMOTER = gql`
  mutation ConsoleReviewPromoter($customerId: ID!, $approve: Boolean!) {
    reviewPromoter(customerId: $customerId, approve: $approve) {
      status
    }
  }
`;

const TEMPLATES = gql`
  query ConsoleCouponTemplatesForCustomer {
    couponTemplates {
      id
      name
      active
      remaining
    }
  }
`;

const ISSUE = gql`
  mutation ConsoleIssueCouponToCustomer($templateId: ID!, $customerIds: [ID!], $idempotencyKey: String) {
    issueCoupons(templateId: $templateId, customerIds: $customerIds, idempotencyKey: $idempotencyKey)
  }
`;

export const WALLET_KIND = {
  TOP_UP: '充值',
  BONUS: '充值赠送',
  PAYMENT: '支付',
  REFUND: '退回',
  ADJUSTMENT: '人工调整',
  COMMISSION: '佣金转入',
};
const PROMOTER_STATUS = { PENDING: '待审核', APPROVED: '已通过', REJECTED: '已拒绝' };

// The roles of each mutation's guard (src: staff_id(auth::staff::…)).
const TAGGERS = ['OPERATIONS'];
const WALLET_ADJUSTERS = ['FINANCE'];
const PROMOTER_REVIEWERS = ['OPERATIONS'];
const COUPON_ISSUERS = ['OPERATIONS'];

const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
const figure = (label, value) =>
  h('div', { class: 'card figure' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));

export async function customerPage(root, id) {
  const message = h('div');
  root.replaceChildren(h('p', {}, h('a', { href: '#/customers' }, '← 客户列表')), message, h('p', { class: 'loading' }, '加载中…'));
  let c;
  try {
    c = (await request(CUSTOMER, { id })).customer;
  } catch (e) {
    showError(message, e);
    root.lastChild.remove();
    return;
  }
  if (!c) {
    root.replaceChildren(h('p', {}, h('a', { href: '#/customers' }, '← 客户列表')), h('p', { class: 'error' }, '没有这个客户'));
    return;
  }
  const reload = () => customerPage(root, id);
  const s = c.stats;

  const figures = h(
    'div',
    { class: 'figures' },
    figure('订单数', s.ordersCount),
    figure('累计消费', yuan(s.totalSpentFen)),
    figure('客单价', yuan(s.averageOrderFen)),
    figure('CLV', yuan(c.clvFen)),
    figure('用户价值', c.userValue.toFixed(2)),
    figure('RFM', c.rfm ? c.rfm.code : '—'),
    figure('生命周期', STAGES[c.lifecycleStage] || c.lifecycleStage),
    figure('钱包余额', yuan(c.wallet.balanceFen)),
  );

  const facts = h(
    'dl',
    { class: 'facts' },
    fact('ID', h('code', {}, c.id)),
    fact('邀请码', c.referralCode),
    fact('注册', dateTime(c.createdAt)),
    fact('来源场景', c.scene || '—'),
    fact('邀请人', c.referrer ? customerLink(c.referrer) : '—'),
    fact('首单', dateTime(s.firstOrderAt)),
    fact('最近下单', dateTime(s.lastOrderAt)),
    fact('距上次下单', s.daysSinceLastOrder === null ? '—' : `${s.daysSinceLastOrder} 天`),
    c.rfm
      ? [
          fact('R 最近', `${c.rfm.recencyDays} 天 · ${c.rfm.rScore} 分`),
          fact('F 频次', `${c.rfm.frequency} 单 · ${c.rfm.fScore} 分`),
          fact('M 金额', `${yuan(c.rfm.monetaryFen)} · ${c.rfm.mScore} 分`),
        ]
      : null,
    fact('本金 / 赠送', `${yuan(c.wallet.principalFen)} / ${yuan(c.wallet.bonusFen)}`),
  );

  const m = c.membership;
  const membership = m
    ? h(
        'dl',
        { class: 'facts' },
        fact('方案', m.plan.name),
        fact('状态', m.active ? '有效' : '已过期'),
        fact('开始', dateTime(m.startedAt)),
        fact('到期', dateTime(m.expiresAt)),
        fact('折扣', `${m.plan.discountPercent}%${m.plan.freeShipping ? ' · 包邮' : ''}`),
      )
    : h('p', { class: 'empty' }, '未购买会员');

  const p = c.promoter;
  const promoter = p
    ? h(
        'div',
        {},
        h(
          'dl',
          { class: 'facts' },
          fact('状态', PROMOTER_STATUS[p.status] || p.status),
          fact('待结算', yuan(p.pendingFen)),
          fact('已结算', yuan(p.settledFen)),
          fact('已提现', yuan(p.withdrawnFen)),
          fact('可提现', yuan(p.withdrawableFen)),
          fact('待抵扣', yuan(p.owedFen)),
          fact('一级团队', `${p.level1Count} 人`),
          fact('二级团队', `${p.level2Count} 人`),
        ),
        p.status === 'PENDING' && can(PROMOTER_REVIEWERS)
          ? h(
              'div',
              { class: 'actions' },
              action('通过推广员', () => request(REVIEW_PROMOTER, { customerId: c.id, approve: true }), reload),
              action('拒绝推广员', () => request(REVIEW_PROMOTER, { customerId: c.id, approve: false }), reload, 'danger'),
            )
          : null,
      )
    : h('p', { class: 'empty' }, '不是推广员');

  const tags = h(
    'div',
    { class: 'actions tags' },
    c.tags.length === 0 ? h('span', { class: 'empty' }, '没有标签') : null,
    c.tags.map((t) =>
      h(
        'span',
        { class: 'tag' },
        t,
        can(TAGGERS)
          ? action('×', () => request(UNTAG, { customerIds: [c.id], tags: [t] }), reload, 'secondary untag')
          : null,
      ),
    ),
    can(TAGGERS)
      ? action(
          '添加标签',
          async () => {
            const v = await ask('添加标签', [{ name: 'tags', label: '标签（逗号分隔，每个 1-20 字）', type: 'text', required: true }], '添加');
            if (!v) return false;
            const list = v.tags
              .split(/[,，\s]+/)
              .map((x) => x.trim())
              .filter(Boolean);
            await request(TAG, { customerIds: [c.id], tags: list });
          },
          reload,
        )
      : null,
  );

  const actions = h('div', { class: 'actions' });
  if (can(WALLET_ADJUSTERS)) {
    // One key per dialog: a double submit or a retry adjusts once.
    actions.append(
      action(
        '调整余额',
        async () => {
          const v = await ask(
            '调整钱包余额',
            [
              { name: 'direction', label: '方向', type: 'select', options: [['credit', '增加'], ['debit', '扣减']] },
              { name: 'amount', label: '金额（元）', type: 'yuan', required: true },
              { name: 'reason', label: '原因', type: 'text', required: true },
            ],
            '调整',
          );
          if (!v) return false;
          const amountFen = v.direction === 'debit' ? -v.amount : v.amount;
          await request(ADJUST, { customerId: c.id, amountFen, reason: v.reason, idempotencyKey: newKey() });
        },
        reload,
      ),
    );
  }
  if (can(COUPON_ISSUERS)) {
    actions.append(
      action(
        '发优惠券',
        async () => {
          const templates = (await request(TEMPLATES)).couponTemplates.filter((t) => t.active);
          if (templates.length === 0) {
            showError(message, '没有启用的优惠券模板');
            return false;
          }
          const v = await ask(
            `给 ${c.nickname || c.id} 发一张优惠券`,
            [
              {
                name: 'templateId',
                label: '优惠券模板',
                type: 'select',
                options: templates.map((t) => [t.id, `${t.name}${t.remaining === null ? '' : `（剩 ${t.remaining}）`}`]),
              },
            ],
            '发放',
          );
          if (!v) return false;
          const n = (await request(ISSUE, { templateId: v.templateId, customerIds: [c.id], idempotencyKey: newKey() }))
            .issueCoupons;
          showOk(message, `已发放 ${n} 张`);
        },
        () => {},
      ),
    );
  }

  const ledger = pagedList(
    ['时间', '类型', '金额', '本金', '赠送', '余额', '原因', '订单'],
    async (after) => {
      const r = (await request(LEDGER, { id: c.id, first: 20, after })).customer;
      return r.wallet.transactions;
    },
    (t) =>
      h(
        'tr',
        {},
        h('td', {}, dateTime(t.createdAt)),
        h('td', {}, WALLET_KIND[t.kind] || t.kind),
        h('td', { class: 'num' }, yuan(t.amountFen)),
        h('td', { class: 'num' }, yuan(t.principalFen)),
        h('td', { class: 'num' }, yuan(t.bonusFen)),
        h('td', { class: 'num' }, yuan(t.balanceAfterFen)),
        h('td', {}, t.reason || ''),
        h('td', {}, t.order ? h('a', { href: `#/orders/${encodeURIComponent(t.order.id)}` }, t.order.orderNo) : ''),
      ),
  );
  ledger.element.classList.add('ledger');

  const orders = pagedList(
    ['订单号', '状态', '金额', '实付', '已退', '下单时间'],
    async (after) => (await request(CUSTOMER_ORDERS, { filter: { customerId: c.id }, first: 20, after })).orders,
    (o) =>
      h(
        'tr',
        {},
        h('td', {}, h('a', { href: `#/orders/${encodeURIComponent(o.id)}` }, o.orderNo)),
        h('td', {}, ORDER_STATUS[o.status] || o.status),
        h('td', { class: 'num' }, yuan(o.totalFen)),
        h('td', { class: 'num' }, yuan(o.paidFen)),
        h('td', { class: 'num' }, yuan(o.refundedFen)),
        h('td', {}, dateTime(o.createdAt)),
      ),
  );

  // The team: who this customer invited (level 1) or they invited (level 2).
  const level = h(
    'select',
    { name: 'team-level' },
    h('option', { value: '1' }, '一级（直接邀请）'),
    h('option', { value: '2' }, '二级（被邀请人邀请）'),
  );
  const teamTotal = h('p', { class: 'muted team-total' });
  const team = pagedList(
    ['客户', '加入时间', '订单数', '累计消费'],
    async (after) => {
      const t = (await request(TEAM, { customerId: c.id, level: Number(level.value), first: 20, after })).promoterTeam;
      teamTotal.textContent = `共 ${t.totalCount} 人`;
      return t;
    },
    (m) =>
      h(
        'tr',
        { 'data-id': m.id },
        h('td', {}, customerLink(m)),
        h('td', {}, dateTime(m.createdAt)),
        h('td', { class: 'num' }, m.stats.ordersCount),
        h('td', { class: 'num' }, yuan(m.stats.totalSpentFen)),
      ),
  );
  team.element.classList.add('team');
  level.addEventListener('change', () => team.reload());

  root.replaceChildren(
    h('p', {}, h('a', { href: '#/customers' }, '← 客户列表')),
    h('h2', {}, `客户 ${c.nickname || c.id}`),
    message,
    figures,
    actions,
    facts,
    h('h3', {}, '标签'),
    tags,
    h('h3', {}, '会员'),
    membership,
    h('h3', {}, '推广员'),
    promoter,
    h('h3', {}, '团队'),
    h('div', { class: 'filters' }, h('label', {}, '层级', level)),
    teamTotal,
    team.element,
    h('h3', {}, '钱包流水'),
    ledger.element,
    h('h3', {}, '订单'),
    orders.element,
  );
  ledger.reload();
  orders.reload();
  team.reload();
}
