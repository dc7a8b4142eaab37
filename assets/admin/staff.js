// Staff accounts (OWNER): the list, creating an account with a role,
// disabling or enabling it, resetting its password.
import { gql, request } from './api.js';
import { action, ask, dateTime, h, pagedList, showError } from './util.js';

export const ROLES = {
  OWNER: '店主',
  OPERATIONS: '运营',
  CUSTOMER_SERVICE: '客服',
  FINANCE: '财务',
};

const STAFF = gql`
  query ConsoleStaff($first: Int, $after: String) {
    staff(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        username
        role
        active
        createdAt
      }
    }
  }
`;

const CREATE = gql`
  mutation ConsoleCreateStaff($input: StaffInput!) {
    createStaff(input: $input) {
      id
      role
    }
  }
`;

const SET_ACTIVE = gql`
  mutation ConsoleSetStaffActive($id: ID!, $active: Boolean!) {
    setStaffActive(id: $id, active: $active) {
      id
      active
    }
  }
`;

const RESET = gql`
  mutation ConsoleResetStaffPassword($id: ID!, $password: String!) {
    resetStaffPassword(id: $id, password: $password) {
      id
    }
  }
`;

export function staffPage(root) {
  const list = pagedList(
    ['用户名', '角色', '状态', '创建时间', '操作'],
    async (after) => (await request(STAFF, { first: 20, after })).staff,
    (s, reload) =>
      h(
        'tr',
        { 'data-id': s.id },
        h('td', {}, s.username),
        h('td', {}, ROLES[s.role] || s.role),
        h('td', {}, s.active ? '启用' : '已停用'),
        h('td', {}, dateTime(s.createdAt)),
        h(
          'td',
          { class: 'actions' },
          action(
            s.active ? '停用' : '启用',
            async () => {
              await request(SET_ACTIVE, { id: s.id, active: !s.active });
            },
            reload,
            s.active ? 'danger' : undefined,
          ),
          action(
            '重置密码',
            async () => {
              const v = await ask(
                `重置 ${s.username} 的密码`,
                [{ name: 'password', label: '新密码（12 位以上）', type: 'password', required: true }],
                '重置',
              );
              if (!v) return false;
              await request(RESET, { id: s.id, password: v.password });
            },
            reload,
          ),
        ),
      ),
  );
  const create = h(
    'button',
    {
      type: 'button',
      class: 'create-staff',
      onclick: async () => {
        const v = await ask(
          '新建员工账号',
          [
            { name: 'username', label: '用户名', type: 'text', required: true },
            { name: 'password', label: '密码（12 位以上）', type: 'password', required: true },
            { name: 'role', label: '角色', type: 'select', options: Object.entries(ROLES) },
          ],
          '创建',
        );
        if (!v) return;
        try {
          await request(CREATE, { input: v });
          list.reload();
        } catch (e) {
          showError(message, e);
        }
      },
    },
    '新建员工',
  );
  const message = h('div');
  root.replaceChildren(h('h2', {}, '员工账号'), h('div', { class: 'filters' }, create), message, list.element);
  list.reload();
}
