// Dashboard: storeMetrics over a chosen period, with GMV and paid orders per
// day (one storeMetrics call per bucket of the period, sent in batches).
import { gql, request, requestMany } from './api.js';
import { bars, columns } from './chart.js';
import { STAGES } from './customers.js';
import { addDays, dayStart, h, isoDay, percent, showError, yuan } from './util.js';

const METRICS = gql`
  query ConsoleMetrics($from: DateTime!, $to: DateTime!) {
    storeMetrics(from: $from, to: $to) {
      gmvFen
      paidOrders
      buyers
      averageOrderValueFen
      spendPerCustomerFen
      repurchaseRate
      secondPurchaseRate
      thirdPurchaseRate
      fifthPurchaseRate
      refundedFen
      newCustomers
      newCustomersByScene {
        scene
        customers
      }
      memberCount
      membershipRevenueFen
      storedBalanceOutstandingFen
      commissionsPendingFen
      commissionsSettledFen
      lifecycle {
        stage
        customers
      }
    }
  }
`;

const DAILY = gql`
  query ConsoleMetricsDaily($from: DateTime!, $to: DateTime!) {
    storeMetrics(from: $from, to: $to) {
      gmvFen
      paidOrders
    }
  }
`;


/** At most this many columns: longer periods are charted per several days. */
const MAX_BUCKETS = 31;

export function dashboard(root) {
  const today = new Date();
  const fromInput = h('input', { type: 'date', value: isoDay(addDays(today, -29)) });
  const toInput = h('input', { type: 'date', value: isoDay(today) });
  const out = h('div', { class: 'dashboard' });
  const quick = (days) =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          fromInput.value = isoDay(addDays(new Date(), -(days - 1)));
          toInput.value = isoDay(new Date());
          load();
        },
      },
      `近${days}天`,
    );
  const load = () => render(out, fromInput.value, toInput.value);
  root.replaceChildren(
    h('h2', {}, '数据概览'),
    h(
      'form',
      {
        class: 'filters',
        onsubmit: (e) => {
          e.preventDefault();
          load();
        },
      },
      h('label', {}, '从', fromInput),
      h('label', {}, '到(含)', toInput),
      h('button', { type: 'submit' }, '查询'),
      quick(7),
      quick(30),
      quick(90),
    ),
    out,
  );
  load();
}

async function render(out, fromDay, toDay) {
  if (!fromDay || !toDay || fromDay > toDay) {
    showError(out, '请选择有效的时间段');
    return;
  }
  out.replaceChildren(h('p', { class: 'loading' }, '加载中…'));
  const from = dayStart(fromDay);
  const to = addDays(dayStart(toDay), 1);
  const days = Math.round((to - from) / 86_400_000);
  const step = Math.ceil(days / MAX_BUCKETS);
  const buckets = [];
  for (let d = 0; d < days; d += step) {
    const a = addDays(from, d);
    const b = addDays(from, Math.min(days, d + step));
    buckets.push({ from: a, to: b, label: isoDay(a).slice(5) });
  }
  try {
    const [total, daily] = await Promise.all([
      request(METRICS, { from: from.toISOString(), to: to.toISOString() }),
      requestMany(
        DAILY,
        buckets.map((b) => ({ from: b.from.toISOString(), to: b.to.toISOString() })),
      ),
    ]);
    const m = total.storeMetrics;
    const figure = (label, value) => h('div', { class: 'card figure' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
    const unit = step === 1 ? '每天' : `每${step}天`;
    out.replaceChildren(
      h(
        'div',
        { class: 'figures' },
        figure('GMV', yuan(m.gmvFen)),
        figure('支付订单', m.paidOrders),
        figure('下单客户', m.buyers),
        figure('客单价', yuan(m.averageOrderValueFen)),
        figure('单客价', yuan(m.spendPerCustomerFen)),
        figure('退款', yuan(m.refundedFen)),
        figure('复购率', percent(m.repurchaseRate)),
        figure('新客户', m.newCustomers),
        figure('会员数', m.memberCount),
        figure('会员收入', yuan(m.membershipRevenueFen)),
        figure('储值余额(未消费)', yuan(m.storedBalanceOutstandingFen)),
        figure('待结算佣金', yuan(m.commissionsPendingFen)),
        figure('已结算佣金', yuan(m.commissionsSettledFen)),
      ),
      h(
        'div',
        { class: 'charts' },
        columns(
          `GMV（${unit}）`,
          buckets.map((b, i) => ({ label: b.label, value: daily[i].storeMetrics.gmvFen })),
          yuan,
        ),
        columns(
          `支付订单（${unit}）`,
          buckets.map((b, i) => ({ label: b.label, value: daily[i].storeMetrics.paidOrders })),
        ),
        bars(
          '复购漏斗（买家中达到第 N 次购买的比例）',
          [
            { label: '第2次', value: m.secondPurchaseRate, text: percent(m.secondPurchaseRate) },
            { label: '第3次', value: m.thirdPurchaseRate, text: percent(m.thirdPurchaseRate) },
            { label: '第5次', value: m.fifthPurchaseRate, text: percent(m.fifthPurchaseRate) },
          ],
          1,
        ),
        bars(
          '客户生命周期',
          m.lifecycle.map((l) => ({ label: STAGES[l.stage] || l.stage, value: l.customers })),
        ),
        bars(
          '新客户来源场景',
          m.newCustomersByScene.map((c) => ({ label: c.scene || '(无场景)', value: c.customers })),
        ),
      ),
    );
  } catch (e) {
    showError(out, e);
  }
}
