// The withdrawals queue: promoters' commission withdrawals waiting for the
// store (reviewWithdrawal, FINANCE: approving pays, by a WeChat Pay transfer
// when configured, else it records the store's own payment), and the CSV
// of the queue's filter.
import { can, gql, request } from './api.js';
import { downloadButton } from './download.js';
import { action, ask, dateTime, h, pagedList, yuan } from './util.js';

const STATUS = {
  REQUESTED: '待审核',
  APPROVED: '已同意',
  WAITING_CONFIRMATION: '待收款确认',
  PAID: '已打款',
  REJECTED: '已拒绝',
  FAILED: '失败',
  CANCELLED: '已撤销',
};

const WITHDRAWALS = gql`
  query ConsoleWithdrawals($filter: WithdrawalFilter, $first: Int, $after: String) {
    withdrawals(filter: $filter, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        amountFen
        status
        toWallet
        note
        failureReason
        createdAt
        reviewedAt
        customer {
          id
          nickname
        }
      }
    }
  }
`;

const REVIEW = gql`
  mutation ConsoleReviewWithdrawal($id: ID!, $approve: Boolean!, $note: String) {
    reviewWithdrawal(id: $id, approve: $approve, note: $note) {
      id
      status
    }
  }
`;

export function withdrawalsPage(root) {
  const status = h(
    'select',
    {},
    h('option', { value: '' }, '全部状态'),
    Object.entries(STATUS).map(([v, l]) => {
      const o = h('option', { value: v }, l);
      o.selected = v === 'REQUESTED';
      return o;
    }),
  );
  const reviewer = can(['FINANCE']);
  const filterOf = () => (status.value ? { status: status.value } : {});
  const list = pagedList(
    ['推广员', '金额', '去向', '状态', '申请时间', '审核时间', '备注', '操作'],
    async (after) => (await request(WITHDRAWALS, { filter: filterOf(), first: 20, after })).withdrawals,
    (w, reload) =>
      h(
        'tr',
        { 'data-id': w.id },
        h('td', {}, w.customer ? w.customer.nickname || w.customer.id : '—'),
        h('td', { class: 'num' }, yuan(w.amountFen)),
        h('td', {}, w.toWallet ? '转入余额' : '提现到微信'),
        h('td', {}, STATUS[w.status] || w.status, w.failureReason ? `（${w.failureReason}）` : ''),
        h('td', {}, dateTime(w.createdAt)),
        h('td', {}, dateTime(w.reviewedAt)),
        h('td', {}, w.note || ''),
        h(
          'td',
          { class: 'actions' },
          reviewer &&
            w.status === 'REQUESTED' && [
            action(
              '同意',
              async () => {
                const v = await ask(
                  '同意提现',
                  [{ name: 'note', label: '备注（手工打款时填打款流水号）', type: 'text' }],
                  '同意',
                );
                if (!v) return false;
                await request(REVIEW, { id: w.id, approve: true, note: v.note });
              },
              reload,
            ),
            action(
              '拒绝',
              async () => {
                const v = await ask('拒绝提现', [{ name: 'note', label: '原因', type: 'text' }], '拒绝');
                if (!v) return false;
                await request(REVIEW, { id: w.id, approve: false, note: v.note });
              },
              reload,
              'danger',
            ),
          ],
        ),
      ),
  );
  status.addEventListener('change', () => list.reload());
  root.replaceChildren(
    h('h2', {}, '提现审核'),
    h('div', { class: 'filters' }, h('label', {}, '状态', status), downloadButton('下载 CSV', 'withdrawals.csv', { filter: filterOf })),
    list.element,
  );
  list.reload();
}
