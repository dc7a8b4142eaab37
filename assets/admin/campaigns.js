// 营销活动 (campaigns): one coupon of a template to every customer of a
// segment, or to customers listed by id (issueCoupons, all or none). The
// answer is how many received one; a key per form makes a double click or
// a retry issue once. Past campaigns are the API's record (`campaigns`:
// who, which template, which segment by its name then, how many).
import { can, gql, request } from './api.js';
import { segmentFilter } from './segments.js';
import { describeFilter } from './customers.js';
import { dateTime, h, newKey, pagedList, showError, showOk, yuan } from './util.js';

const DATA = gql`
  query ConsoleCampaignData {
    couponTemplates {
      id
      name
      thresholdFen
      offFen
      totalQuantity
      remaining
      claimable
      active
    }
    segments {
      id
      name
      customerCount
      filter
    }
  }
`;

const ISSUE = gql`
  mutation ConsoleIssueCoupons($templateId: ID!, $segmentId: ID, $customerIds: [ID!], $idempotencyKey: String) {
    issueCoupons(templateId: $templateId, segmentId: $segmentId, customerIds: $customerIds, idempotencyKey: $idempotencyKey)
  }
`;

const HISTORY = gql`
  query ConsoleCampaignHistory($first: Int, $after: String) {
    campaigns(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        staffId
        template {
          id
          name
        }
        templateId
        segmentId
        segmentName
        issued
        createdAt
      }
    }
  }
`;

const couponText = (t) =>
  `${t.name}（${t.thresholdFen > 0 ? `满 ${yuan(t.thresholdFen)} ` : ''}减 ${yuan(t.offFen)}${
    t.remaining === null ? '' : `，剩 ${t.remaining}`
  }）`;

export async function campaignsPage(root) {
  const message = h('div');
  root.replaceChildren(h('h2', {}, '营销活动'), message, h('p', { class: 'loading' }, '加载中…'));
  let data;
  try {
    data = await request(DATA);
  } catch (e) {
    root.lastChild.remove();
    showError(message, e);
    return;
  }
  const templates = data.couponTemplates.filter((t) => t.active);
  const segments = data.segments;
  const byId = (list, id) => list.find((x) => x.id === id);

  const template = h(
    'select',
    { name: 'template' },
    templates.map((t) => h('option', { value: t.id }, couponText(t))),
  );
  const segment = h(
    'select',
    { name: 'segment' },
    h('option', { value: '' }, '按客户 ID 发放'),
    segments.map((s) => h('option', { value: s.id }, `${s.name}（${s.customerCount} 人）`)),
  );
  const ids = h('textarea', { rows: 2, placeholder: '客户 ID，每行一个或用逗号分隔' });
  const idsLabel = h('label', {}, '客户 ID', ids);
  const target = h('p', { class: 'muted' });
  const showTarget = () => {
    const s = byId(segments, segment.value);
    idsLabel.hidden = !!s;
    target.textContent = s ? `条件：${describeFilter(segmentFilter(s))}；现有 ${s.customerCount} 人` : '';
  };
  segment.addEventListener('change', showTarget);
  if (segments.length > 0) segment.value = segments[0].id;
  showTarget();

  const result = h('div', { class: 'campaign-result' });
  const submit = h('button', { type: 'submit' }, '发放');
  // One key per form: a double submit or a retry issues once; a new form
  // (after a success) gets a new key.
  let key = newKey();
  const form = h(
    'form',
    {
      class: 'card campaign-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const t = byId(templates, template.value);
        if (!t) {
          showError(result, '请先选择优惠券模板');
          return;
        }
        const s = byId(segments, segment.value);
        const variables = { templateId: t.id, idempotencyKey: key };
        if (s) variables.segmentId = s.id;
        else {
          variables.customerIds = ids.value
            .split(/[\s,，]+/)
            .map((x) => x.trim())
            .filter(Boolean);
          if (variables.customerIds.length === 0) {
            showError(result, '请选择人群或填写客户 ID');
            return;
          }
        }
        submit.disabled = true;
        try {
          const n = (await request(ISSUE, variables)).issueCoupons;
          showOk(result, `已向「${s ? s.name : `${variables.customerIds.length} 位客户`}」发放「${t.name}」${n} 张`);
          key = newKey();
          refreshStock();
          if (past) past.reload();
        } catch (err) {
          showError(result, err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h3', {}, '向人群发券'),
    h('div', { class: 'filters' }, h('label', {}, '优惠券模板', template), h('label', {}, '发给', segment), idsLabel),
    target,
    h('div', { class: 'actions' }, submit),
    result,
  );

  const stock = h('div', { class: 'table-wrap' });
  const showStock = (list) =>
    stock.replaceChildren(
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['模板', '门槛', '减', '总量', '已发出', '剩余', '领取方式'].map((c) => h('th', {}, c)))),
        h(
          'tbody',
          {},
          list.map((t) =>
            h(
              'tr',
              { 'data-id': t.id },
              h('td', {}, t.name, t.active ? '' : '（已停用）'),
              h('td', { class: 'num' }, yuan(t.thresholdFen)),
              h('td', { class: 'num' }, yuan(t.offFen)),
              h('td', { class: 'num' }, t.totalQuantity ?? '不限'),
              h('td', { class: 'num given' }, t.totalQuantity === null ? '—' : t.totalQuantity - t.remaining),
              h('td', { class: 'num' }, t.remaining ?? '不限'),
              h('td', {}, t.claimable ? '可领取' : '仅发放'),
            ),
          ),
        ),
      ),
    );
  showStock(data.couponTemplates);
  // After an issue: what is left of each template now.
  async function refreshStock() {
    try {
      showStock((await request(DATA)).couponTemplates);
    } catch (e) {
      showError(message, e);
    }
  }

  let past = null;
  // campaigns is for those who run them (ADMIN: OPERATIONS) and the owner.
  if (can(['OPERATIONS'])) {
    past = pagedList(
      ['时间', '优惠券', '发给', '张数', '操作人 ID'],
      async (after) => (await request(HISTORY, { first: 20, after })).campaigns,
      (c) =>
        h(
          'tr',
          { 'data-id': c.id },
          h('td', {}, dateTime(c.createdAt)),
          h('td', {}, c.template ? c.template.name : c.templateId),
          h('td', {}, c.segmentId ? `人群「${c.segmentName}」` : '指定客户'),
          h('td', { class: 'num issued' }, c.issued),
          h('td', {}, h('code', {}, c.staffId)),
        ),
    );
    past.reload();
  }

  root.replaceChildren(
    h('h2', {}, '营销活动'),
    message,
    // issueCoupons is for operators (ADMIN: OPERATIONS); others see the counts.
    !can(['OPERATIONS'])
      ? null
      : templates.length > 0
        ? form
        : h('p', { class: 'empty' }, '没有启用的优惠券模板：先新建一个优惠券模板。'),
    h('h3', {}, '优惠券模板'),
    stock,
    past ? h('div', { class: 'campaign-history' }, h('h3', {}, '发放记录'), past.element) : null,
  );
}
