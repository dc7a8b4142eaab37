// The audit log (OWNER): every staff mutation that succeeded, newest first,
// filtered by who and which operation.
import { gql, request } from './api.js';
import { dateTime, h, pagedList } from './util.js';

const AUDIT = gql`
  query ConsoleAuditLog($filter: AuditFilter, $first: Int, $after: String) {
    auditLog(filter: $filter, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        actor
        action
        target
        arguments
        createdAt
      }
    }
  }
`;

export function auditPage(root) {
  const actor = h('input', { type: 'text', name: 'actor', placeholder: '用户名' });
  const act = h('input', { type: 'text', name: 'action', placeholder: '如 approveRefund' });
  const list = pagedList(
    ['时间', '员工', '操作', '对象', '参数'],
    async (after) => {
      const filter = {};
      if (actor.value.trim()) filter.actor = actor.value.trim();
      if (act.value.trim()) filter.action = act.value.trim();
      return (await request(AUDIT, { filter, first: 20, after })).auditLog;
    },
    (e) =>
      h(
        'tr',
        { 'data-id': e.id },
        h('td', {}, dateTime(e.createdAt)),
        h('td', {}, e.actor),
        h('td', {}, e.action),
        h('td', {}, e.target || '—'),
        h('td', {}, h('code', { class: 'args' }, e.arguments)),
      ),
  );
  const search = h('button', { type: 'button', onclick: () => list.reload() }, '查询');
  root.replaceChildren(
    h('h2', {}, '操作日志'),
    h('div', { class: 'filters' }, h('label', {}, '员工', actor), h('label', {}, '操作', act), search),
    list.element,
  );
  list.reload();
}
