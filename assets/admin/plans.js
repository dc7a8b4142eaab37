// 会员与储值: membership plans and top-up (stored-value) plans (OPERATIONS
// creates, edits, retires and puts back on sale). Retired plans are listed
// too (includeRetired, for staff), after those on sale, so one can be put
// back on sale; memberships and balances bought keep theirs either way.
import { can, gql, request } from './api.js';
import { action, ask, h, showError, table, yuan, yuanInput } from './util.js';

const EDITORS = ['OPERATIONS'];

const PLANS = gql`
  query ConsolePlans {
    membershipPlans(includeRetired: true) {
      id
      name
      priceFen
      durationDays
      discountPercent
      freeShipping
      active
    }
    topUpPlans(includeRetired: true) {
      id
      name
      payFen
      bonusFen
      active
      giftCouponTemplates {
        id
        name
      }
    }
  }
`;

const GIFT_TEMPLATES = gql`
  query ConsoleGiftTemplates {
    couponTemplates {
      id
      name
      active
    }
  }
`;

const CREATE_MEMBERSHIP = gql`
  mutation ConsoleCreateMembershipPlan($input: MembershipPlanInput!) {
    createMembershipPlan(input: $input) {
      id
    }
  }
`;

const UPDATE_MEMBERSHIP = gql`
  mutation ConsoleUpdateMembershipPlan($id: ID!, $input: MembershipPlanUpdateInput!) {
    updateMembershipPlan(id: $id, input: $input) {
      id
      active
    }
  }
`;

const CREATE_TOP_UP = gql`
  mutation ConsoleCreateTopUpPlan($input: TopUpPlanInput!) {
    createTopUpPlan(input: $input) {
      id
    }
  }
`;

const UPDATE_TOP_UP = gql`
  mutation ConsoleUpdateTopUpPlan($id: ID!, $input: TopUpPlanUpdateInput!) {
    updateTopUpPlan(id: $id, input: $input) {
      id
      active
    }
  }
`;

/** On sale first, then retired; each cheapest first as the API lists them. */
const onSaleFirst = (plans) => [...plans.filter((p) => p.active), ...plans.filter((p) => !p.active)];

/** 停售 for a plan on sale, 恢复销售 for a retired one. */
function saleAction(p, update, kept, reload) {
  if (!p.active) {
    return action('恢复销售', () => request(update, { id: p.id, input: { active: true } }), reload);
  }
  return action(
    '停售',
    async () => {
      const v = await ask(`停售 ${p.name}？${kept}；顾客不再看到，可随时恢复销售。`, [], '停售');
      if (!v) return false;
      await request(update, { id: p.id, input: { active: false } });
    },
    reload,
    'danger',
  );
}

function membershipFields(p) {
  return [
    { name: 'name', label: '名称（如 年卡）', type: 'text', required: true, value: p && p.name },
    { name: 'priceFen', label: '价格（元）', type: 'yuan', required: true, value: p && yuanInput(p.priceFen) },
    { name: 'durationDays', label: '天数（1-3660）', type: 'int', required: true, value: p && p.durationDays },
    { name: 'discountPercent', label: '会员价折扣（1-100，90 = 九折）', type: 'int', required: true, value: p ? p.discountPercent : 100 },
    { name: 'freeShipping', label: '会员包邮', type: 'checkbox', value: p ? p.freeShipping : false },
  ];
}

async function topUpFields(p) {
  // Gifts: one checkbox per template that still gives out coupons (and the
  // plan's current ones, so editing keeps them unless unticked).
  const { couponTemplates } = await request(GIFT_TEMPLATES);
  const current = new Set(p ? p.giftCouponTemplates.map((t) => t.id) : []);
  const gifts = couponTemplates
    .filter((t) => t.active || current.has(t.id))
    .map((t) => ({ name: `gift:${t.id}`, label: `赠券: ${t.name}`, type: 'checkbox', value: current.has(t.id) }));
  return [
    { name: 'name', label: '名称（如 充100送20）', type: 'text', required: true, value: p && p.name },
    { name: 'payFen', label: '充值金额（元）', type: 'yuan', required: true, value: p && yuanInput(p.payFen) },
    { name: 'bonusFen', label: '赠送金额（元）', type: 'yuan', required: true, value: p ? yuanInput(p.bonusFen) : '0' },
    ...gifts,
  ];
}

function topUpInput(v) {
  const input = { name: v.name, payFen: v.payFen, bonusFen: v.bonusFen, giftCouponTemplateIds: [] };
  for (const [k, on] of Object.entries(v)) {
    if (k.startsWith('gift:') && on) input.giftCouponTemplateIds.push(k.slice(5));
  }
  return input;
}

export async function plansPage(root) {
  const message = h('div');
  const editor = can(EDITORS);
  const reload = () => plansPage(root);
  let data;
  try {
    data = await request(PLANS);
  } catch (e) {
    root.replaceChildren(h('h2', {}, '会员与储值'), message);
    showError(message, e);
    return;
  }
  const create = (label, run) => editor && action(label, run, reload);
  root.replaceChildren(
    h('h2', {}, '会员与储值'),
    message,
    h('h3', {}, '会员方案'),
    h(
      'div',
      { class: 'filters' },
      create('新建会员方案', async () => {
        const v = await ask('新建会员方案', membershipFields(null), '创建');
        if (!v) return false;
        await request(CREATE_MEMBERSHIP, { input: v });
      }),
    ),
    table(
      ['名称', '价格', '天数', '会员价', '包邮', '状态', '操作'],
      onSaleFirst(data.membershipPlans).map((p) =>
        h(
          'tr',
          { 'data-id': p.id },
          h('td', {}, p.name),
          h('td', { class: 'num' }, yuan(p.priceFen)),
          h('td', { class: 'num' }, p.durationDays),
          h('td', { class: 'num' }, p.discountPercent === 100 ? '原价' : `${p.discountPercent}%`),
          h('td', {}, p.freeShipping ? '包邮' : '—'),
          h('td', {}, p.active ? '在售' : '已停售'),
          h(
            'td',
            { class: 'actions' },
            editor && [
              action(
                '编辑',
                async () => {
                  const v = await ask(`编辑 ${p.name}`, membershipFields(p), '保存');
                  if (!v) return false;
                  await request(UPDATE_MEMBERSHIP, { id: p.id, input: v });
                },
                reload,
                'secondary',
              ),
              saleAction(p, UPDATE_MEMBERSHIP, '已购会员不受影响', reload),
            ],
          ),
        ),
      ),
      '还没有方案',
    ),
    h('h3', {}, '储值方案'),
    h(
      'div',
      { class: 'filters' },
      create('新建储值方案', async () => {
        const v = await ask('新建储值方案', await topUpFields(null), '创建');
        if (!v) return false;
        await request(CREATE_TOP_UP, { input: topUpInput(v) });
      }),
    ),
    table(
      ['名称', '充值', '赠送', '到账', '赠券', '状态', '操作'],
      onSaleFirst(data.topUpPlans).map((p) =>
        h(
          'tr',
          { 'data-id': p.id },
          h('td', {}, p.name),
          h('td', { class: 'num' }, yuan(p.payFen)),
          h('td', { class: 'num' }, yuan(p.bonusFen)),
          h('td', { class: 'num' }, yuan(p.payFen + p.bonusFen)),
          h('td', {}, p.giftCouponTemplates.map((t) => t.name).join('，') || '—'),
          h('td', {}, p.active ? '在售' : '已停售'),
          h(
            'td',
            { class: 'actions' },
            editor && [
              action(
                '编辑',
                async () => {
                  const v = await ask(`编辑 ${p.name}`, await topUpFields(p), '保存');
                  if (!v) return false;
                  await request(UPDATE_TOP_UP, { id: p.id, input: topUpInput(v) });
                },
                reload,
                'secondary',
              ),
              saleAction(p, UPDATE_TOP_UP, '已充余额不受影响', reload),
            ],
          ),
        ),
      ),
      '还没有方案',
    ),
  );
}
