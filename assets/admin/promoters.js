// 分销: the commission rule (the owner changes it; orders paid from then on
// use it), settling due commissions now (FINANCE; the jobs loop does it by
// itself too) and the promoters, with the applications to review
// (reviewPromoter, OPERATIONS).
import { can, gql, request } from './api.js';
import { action, ask, h, pagedList, showError, showOk, yuan } from './util.js';

const PROMOTER_STATUS = { PENDING: '待审核', APPROVED: '已通过', REJECTED: '已拒绝' };
const BASE = { PAID_AMOUNT: '实付金额（含余额）', GROSS_MARGIN: '毛利（实付减供货成本）' };
const MODE = { OPEN: '人人可推广', APPLY: '申请审核' };

const RULE = gql`
  query ConsoleCommissionRule {
    commissionRule {
      level1Percent
      level2Percent
      settleAfterDays
      base
      promoterMode
    }
  }
`;

const SET_RULE = gql`
  mutation ConsoleSetCommissionRule($input: CommissionRuleInput!) {
    setCommissionRule(input: $input) {
      level1Percent
    }
  }
`;

const SETTLE = gql`
  mutation ConsoleRunCommissionSettlement {
    runCommissionSettlement
  }
`;

const PROMOTERS = gql`
  query ConsolePromoters($status: PromoterStatus, $first: Int, $after: String) {
    promoters(status: $status, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        status
        pendingFen
        settledFen
        withdrawnFen
        withdrawableFen
        owedFen
        level1Count
        level2Count
        customer {
          id
          nickname
        }
      }
    }
  }
`;

const REVIEW = gql`
  mutation ConsoleReviewPromoter($customerId: ID!, $approve: Boolean!) {
    reviewPromoter(customerId: $customerId, approve: $approve) {
      status
    }
  }
`;

function ruleCard(root, message) {
  const card = h('div', { class: 'card' }, h('p', { class: 'loading' }, '加载中…'));
  const show = async () => {
    let r;
    try {
      r = (await request(RULE)).commissionRule;
    } catch (e) {
      showError(card, e);
      return;
    }
    const fact = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value));
    card.replaceChildren(
      h(
        'dl',
        { class: 'facts' },
        fact('一级佣金', `${r.level1Percent}%`),
        fact('二级佣金', `${r.level2Percent}%`),
        fact('计算基数', BASE[r.base] || r.base),
        fact('结算', `订单完成 ${r.settleAfterDays} 天后（退货期）`),
        fact('推广资格', MODE[r.promoterMode] || r.promoterMode),
      ),
      h(
        'div',
        { class: 'actions' },
        // setCommissionRule is the owner's alone.
        can([]) &&
          action(
            '修改规则',
            async () => {
              const v = await ask(
                '修改佣金规则（之后支付的订单按新规则）',
                [
                  { name: 'level1Percent', label: '一级佣金 %（0-50）', type: 'int', required: true, value: r.level1Percent },
                  { name: 'level2Percent', label: '二级佣金 %（0-50，与一级合计不超过 50）', type: 'int', required: true, value: r.level2Percent },
                  { name: 'settleAfterDays', label: '完成后几天结算（0-180）', type: 'int', required: true, value: r.settleAfterDays },
                  { name: 'base', label: '计算基数', type: 'select', options: Object.entries(BASE), value: r.base },
                  { name: 'promoterMode', label: '推广资格', type: 'select', options: Object.entries(MODE), value: r.promoterMode },
                ],
                '保存',
              );
              if (!v) return false;
              await request(SET_RULE, { input: v });
            },
            show,
          ),
        can(['FINANCE']) &&
          action(
            '立即结算到期佣金',
            async () => {
              const n = (await request(SETTLE)).runCommissionSettlement;
              showOk(message, `结算了 ${n} 笔佣金`);
            },
            () => root.dispatchEvent(new Event('promoters-changed')),
            'secondary',
          ),
      ),
    );
  };
  show();
  return card;
}

export function promotersPage(root) {
  const message = h('div');
  const reviewer = can(['OPERATIONS']);
  const status = h(
    'select',
    {},
    h('option', { value: '' }, '全部'),
    Object.entries(PROMOTER_STATUS).map(([v, l]) => h('option', { value: v }, l)),
  );
  const review = (p, approve, label, cls) =>
    action(
      label,
      () => request(REVIEW, { customerId: p.customer.id, approve }),
      () => list.reload(),
      cls,
    );
  const list = pagedList(
    ['推广员', '客户 ID', '状态', '待结算', '已结算', '已提现', '可提现', '欠回', '一级 / 二级', '操作'],
    async (after) => (await request(PROMOTERS, { status: status.value || null, first: 20, after })).promoters,
    (p) =>
      h(
        'tr',
        { 'data-id': p.customer ? p.customer.id : '' },
        h('td', {}, p.customer ? p.customer.nickname || '—' : '—'),
        h('td', {}, p.customer ? h('code', {}, p.customer.id) : '—'),
        h('td', {}, PROMOTER_STATUS[p.status] || p.status),
        h('td', { class: 'num' }, yuan(p.pendingFen)),
        h('td', { class: 'num' }, yuan(p.settledFen)),
        h('td', { class: 'num' }, yuan(p.withdrawnFen)),
        h('td', { class: 'num' }, yuan(p.withdrawableFen)),
        h('td', { class: 'num' }, yuan(p.owedFen)),
        h('td', { class: 'num' }, `${p.level1Count} / ${p.level2Count}`),
        h(
          'td',
          { class: 'actions' },
          reviewer &&
            p.customer && [
              p.status !== 'APPROVED' && review(p, true, '通过'),
              p.status === 'PENDING' && review(p, false, '拒绝', 'danger'),
              p.status === 'APPROVED' && review(p, false, '取消资格', 'danger'),
            ],
        ),
      ),
  );
  status.addEventListener('change', () => list.reload());
  root.addEventListener('promoters-changed', () => list.reload());
  root.replaceChildren(
    h('h2', {}, '分销'),
    message,
    h('h3', {}, '佣金规则'),
    ruleCard(root, message),
    h('h3', {}, '推广员'),
    h('div', { class: 'filters' }, h('label', {}, '状态', status)),
    list.element,
  );
  list.reload();
}
