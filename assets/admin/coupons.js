// 优惠券: coupon templates (created, edited, stopped and resumed by
// OPERATIONS, with how many were given and how many an order uses) and the
// store-wide 满减 promotions. An edit reaches only coupons given after it
// (each coupon keeps its terms); once one was given, the threshold and the
// amount off are fixed, so the edit dialog leaves them out.
import { can, gql, request } from './api.js';
import { action, addDays, ask, dateTime, dayStart, h, isoDay, showError, table, yuan, yuanInput } from './util.js';

const EDITORS = ['OPERATIONS'];

const COUPONS = gql`
  query ConsoleCoupons {
    couponTemplates {
      id
      name
      thresholdFen
      offFen
      totalQuantity
      remaining
      issuedCount
      usedCount
      perCustomerLimit
      validDays
      validFrom
      validTo
      claimable
      claimStartsAt
      claimEndsAt
      active
    }
    promotions(all: true) {
      id
      name
      thresholdFen
      offFen
      startsAt
      endsAt
      active
    }
  }
`;

const CREATE_TEMPLATE = gql`
  mutation ConsoleCreateCouponTemplate($input: CouponTemplateInput!) {
    createCouponTemplate(input: $input) {
      id
    }
  }
`;

const UPDATE_TEMPLATE = gql`
  mutation ConsoleUpdateCouponTemplate($id: ID!, $input: CouponTemplateUpdateInput!) {
    updateCouponTemplate(id: $id, input: $input) {
      id
    }
  }
`;

const SET_TEMPLATE_ACTIVE = gql`
  mutation ConsoleSetCouponTemplateActive($id: ID!, $active: Boolean!) {
    setCouponTemplateActive(id: $id, active: $active) {
      id
      active
    }
  }
`;

const CREATE_PROMOTION = gql`
  mutation ConsoleCreatePromotion($input: PromotionInput!) {
    createPromotion(input: $input) {
      id
    }
  }
`;

const SET_PROMOTION_ACTIVE = gql`
  mutation ConsoleSetPromotionActive($id: ID!, $active: Boolean!) {
    setPromotionActive(id: $id, active: $active) {
      id
      active
    }
  }
`;

/** A "YYYY-MM-DD" field as the start of that local day, or of the day after (`end`). */
const day = (text, end) => (text ? (end ? addDays(dayStart(text), 1) : dayStart(text)).toISOString() : undefined);

const rule = (threshold, off) => (threshold > 0 ? `满 ${yuan(threshold)} 减 ${yuan(off)}` : `无门槛减 ${yuan(off)}`);

/** The local day of a start, or the last day an end includes (ends are exclusive). */
const startDay = (iso) => (iso ? isoDay(new Date(iso)) : null);
const endDay = (iso) => (iso ? isoDay(new Date(Date.parse(iso) - 1)) : null);

/** The template dialog's fields, filled from `t` when editing (null: new). */
function templateFields(t) {
  const terms = !t || t.issuedCount === 0;
  return [
    { name: 'name', label: '名称（如 满99减10）', type: 'text', required: true, value: t ? t.name : undefined },
    ...(terms
      ? [
          { name: 'thresholdFen', label: '满（元，0 = 无门槛）', type: 'yuan', required: true, value: t ? yuanInput(t.thresholdFen) : '0' },
          { name: 'offFen', label: '减（元）', type: 'yuan', required: true, value: t ? yuanInput(t.offFen) : undefined },
        ]
      : []),
    { name: 'totalQuantity', label: '发放总量（空 = 不限）', type: 'int', value: t ? t.totalQuantity : undefined },
    { name: 'perCustomerLimit', label: '每人限领', type: 'int', value: t ? t.perCustomerLimit : 1 },
    { name: 'validDays', label: '有效天数（领取起算；或填下面的固定日期）', type: 'int', value: t ? t.validDays : 30 },
    { name: 'validFrom', label: '固定有效期 从', type: 'date', value: t ? startDay(t.validFrom) : undefined },
    { name: 'validTo', label: '固定有效期 到(含)', type: 'date', value: t ? endDay(t.validTo) : undefined },
    { name: 'claimable', label: '顾客可领取（否则只由店铺发放）', type: 'checkbox', value: t ? t.claimable : true },
    { name: 'claimStartsAt', label: '领取开始（空 = 现在）', type: 'date', value: t ? startDay(t.claimStartsAt) : undefined },
    { name: 'claimEndsAt', label: '领取截止(含)（空 = 不限）', type: 'date', value: t ? endDay(t.claimEndsAt) : undefined },
  ];
}

/**
 * The CouponTemplateUpdateInput of the edit dialog's answer `v`: dates sent
 * only when changed, so saving a new name leaves a window set to the
 * minute (through the API) as it was.
 */
function updateInput(t, v) {
  const input = { name: v.name, claimable: v.claimable };
  if ('thresholdFen' in v) {
    input.thresholdFen = v.thresholdFen;
    input.offFen = v.offFen;
  }
  // null lifts the limit.
  if (v.totalQuantity !== t.totalQuantity) input.totalQuantity = v.totalQuantity;
  if (v.perCustomerLimit !== null) input.perCustomerLimit = v.perCustomerLimit;
  const windowChanged = v.validFrom !== startDay(t.validFrom) || v.validTo !== endDay(t.validTo);
  if (windowChanged || v.validDays !== t.validDays) {
    if (v.validFrom || v.validTo) {
      input.validFrom = day(v.validFrom);
      input.validTo = day(v.validTo, true);
    } else if (v.validDays !== null) input.validDays = v.validDays;
  }
  if (v.claimStartsAt !== startDay(t.claimStartsAt)) input.claimStartsAt = v.claimStartsAt ? day(v.claimStartsAt) : null;
  if (v.claimEndsAt !== endDay(t.claimEndsAt)) input.claimEndsAt = v.claimEndsAt ? day(v.claimEndsAt, true) : null;
  return input;
}

function validity(t) {
  if (t.validDays) return `领取后 ${t.validDays} 天`;
  return `${dateTime(t.validFrom)} 至 ${dateTime(t.validTo)}`;
}

function promotionState(p, now) {
  if (!p.active) return '已停止';
  if (Date.parse(p.startsAt) > now) return '未开始';
  if (Date.parse(p.endsAt) <= now) return '已结束';
  return '进行中';
}

export async function couponsPage(root) {
  const message = h('div');
  const editor = can(EDITORS);
  const reload = () => couponsPage(root);
  let data;
  try {
    data = await request(COUPONS);
  } catch (e) {
    root.replaceChildren(h('h2', {}, '优惠券与满减'), message);
    showError(message, e);
    return;
  }
  const create = (label, run) => editor && action(label, run, reload);
  const now = Date.now();
  root.replaceChildren(
    h('h2', {}, '优惠券与满减'),
    message,
    h('h3', {}, '优惠券模板'),
    h(
      'div',
      { class: 'filters' },
      create('新建优惠券', async () => {
        const v = await ask(
          '新建优惠券模板',
          templateFields(null),
          '创建',
        );
        if (!v) return false;
        const input = {
          name: v.name,
          thresholdFen: v.thresholdFen,
          offFen: v.offFen,
          claimable: v.claimable,
        };
        if (v.totalQuantity !== null) input.totalQuantity = v.totalQuantity;
        if (v.perCustomerLimit !== null) input.perCustomerLimit = v.perCustomerLimit;
        // A fixed window replaces the days counted from claiming.
        if (v.validFrom || v.validTo) {
          input.validFrom = day(v.validFrom);
          input.validTo = day(v.validTo, true);
        } else if (v.validDays !== null) input.validDays = v.validDays;
        if (v.claimStartsAt) input.claimStartsAt = day(v.claimStartsAt);
        if (v.claimEndsAt) input.claimEndsAt = day(v.claimEndsAt, true);
        await request(CREATE_TEMPLATE, { input });
      }),
    ),
    table(
      ['名称', '规则', '已发 / 总量', '已用', '剩余', '每人限领', '有效期', '领取', '状态', '操作'],
      data.couponTemplates.map((t) =>
        h(
          'tr',
          { 'data-id': t.id },
          h('td', {}, t.name),
          h('td', {}, rule(t.thresholdFen, t.offFen)),
          h('td', { class: 'num' }, `${t.issuedCount} / ${t.totalQuantity === null ? '不限' : t.totalQuantity}`),
          h('td', { class: 'num' }, t.usedCount),
          h('td', { class: 'num' }, t.remaining === null ? '不限' : t.remaining),
          h('td', { class: 'num' }, t.perCustomerLimit),
          h('td', {}, validity(t)),
          h(
            'td',
            {},
            t.claimable ? '顾客领取' : '店铺发放',
            t.claimStartsAt || t.claimEndsAt ? `（${dateTime(t.claimStartsAt)} 至 ${dateTime(t.claimEndsAt)}）` : '',
          ),
          h('td', {}, t.active ? '发放中' : '已停发'),
          h(
            'td',
            { class: 'actions' },
            editor && [
              action(
                '编辑',
                async () => {
                  const title =
                    t.issuedCount > 0
                      ? `编辑 ${t.name}（已发 ${t.issuedCount} 张：门槛与减额不可再改；改动只对之后发出的券生效）`
                      : `编辑 ${t.name}`;
                  const v = await ask(title, templateFields(t), '保存');
                  if (!v) return false;
                  await request(UPDATE_TEMPLATE, { id: t.id, input: updateInput(t, v) });
                },
                reload,
                'secondary',
              ),
              action(
                t.active ? '停发' : '恢复发放',
                () => request(SET_TEMPLATE_ACTIVE, { id: t.id, active: !t.active }),
                reload,
                t.active ? 'danger' : undefined,
              ),
            ],
          ),
        ),
      ),
      '还没有优惠券',
    ),
    h('h3', {}, '满减活动'),
    h(
      'div',
      { class: 'filters' },
      create('新建满减活动', async () => {
        const v = await ask(
          '新建满减活动（全店，不叠加：取最优一档）',
          [
            { name: 'name', label: '名称（如 满199减30）', type: 'text', required: true },
            { name: 'thresholdFen', label: '满（元）', type: 'yuan', required: true },
            { name: 'offFen', label: '减（元）', type: 'yuan', required: true },
            { name: 'startsAt', label: '开始（空 = 现在）', type: 'date' },
            { name: 'endsAt', label: '结束(含)', type: 'date', required: true },
          ],
          '创建',
        );
        if (!v) return false;
        const input = { name: v.name, thresholdFen: v.thresholdFen, offFen: v.offFen, endsAt: day(v.endsAt, true) };
        if (v.startsAt) input.startsAt = day(v.startsAt);
        await request(CREATE_PROMOTION, { input });
      }),
    ),
    table(
      ['名称', '规则', '开始', '结束', '状态', '操作'],
      data.promotions.map((p) =>
        h(
          'tr',
          { 'data-id': p.id },
          h('td', {}, p.name),
          h('td', {}, rule(p.thresholdFen, p.offFen)),
          h('td', {}, dateTime(p.startsAt)),
          h('td', {}, dateTime(p.endsAt)),
          h('td', {}, promotionState(p, now)),
          h(
            'td',
            { class: 'actions' },
            editor &&
              action(
                p.active ? '停止' : '恢复',
                () => request(SET_PROMOTION_ACTIVE, { id: p.id, active: !p.active }),
                reload,
                p.active ? 'danger' : undefined,
              ),
          ),
        ),
      ),
      '还没有满减活动',
    ),
  );
}
