// 人群 (segments) and 标签 (tags). A segment is a saved CustomerFilter the
// API re-evaluates on every use, so its count is always today's. Operators
// create, edit (name and filter) and delete segments; campaigns already run
// to one keep its name in their record.
import { can, gql, request } from './api.js';
import { customersHref, describeFilter, filterFields } from './customers.js';
import { action, dateTime, h, showError, showOk } from './util.js';

const SEGMENTS = gql`
  query ConsoleSegments {
    segments {
      id
      name
      customerCount
      filter
      createdAt
    }
  }
`;

const CREATE_SEGMENT = gql`
  mutation ConsoleCreateSegment($name: String!, $filter: CustomerFilter!) {
    createSegment(name: $name, filter: $filter) {
      id
      name
      customerCount
    }
  }
`;

const UPDATE_SEGMENT = gql`
  mutation ConsoleUpdateSegment($id: ID!, $input: SegmentUpdateInput!) {
    updateSegment(id: $id, input: $input) {
      id
      name
      customerCount
    }
  }
`;

const DELETE_SEGMENT = gql`
  mutation ConsoleDeleteSegment($id: ID!) {
    deleteSegment(id: $id)
  }
`;

const TAGS = gql`
  query ConsoleCustomerTags {
    customerTags {
      tag
      customers
    }
  }
`;

const TAG = gql`
  mutation ConsoleTagMany($customerIds: [ID!]!, $tags: [String!]!) {
    tagCustomers(customerIds: $customerIds, tags: $tags)
  }
`;

const UNTAG = gql`
  mutation ConsoleUntagMany($customerIds: [ID!]!, $tags: [String!]!) {
    untagCustomers(customerIds: $customerIds, tags: $tags)
  }
`;

// The guard of createSegment, updateSegment, deleteSegment, tagCustomers
// and untagCustomers.
const OPERATORS = ['OPERATIONS'];

// Segment.filter is the server's stored JSON (snake_case, the stage as a
// Rust variant name): back to CustomerFilter's field names and values.
const STORED = {
  tags: 'tags',
  stage: 'lifecycleStage',
  min_orders: 'minOrders',
  max_orders: 'maxOrders',
  min_spent_fen: 'minSpentFen',
  max_spent_fen: 'maxSpentFen',
  scene: 'scene',
  member: 'member',
  keyword: 'keyword',
  joined_from: 'joinedFrom',
  joined_to: 'joinedTo',
  r_score: 'rScore',
  f_score: 'fScore',
  m_score: 'mScore',
};

/** A segment's filter as a CustomerFilter; {} if unreadable. */
export function segmentFilter(segment) {
  let stored;
  try {
    stored = JSON.parse(segment.filter);
  } catch {
    return {};
  }
  const out = {};
  for (const [k, v] of Object.entries(stored || {})) {
    const name = STORED[k] || k;
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[name] = name === 'lifecycleStage' ? String(v).toUpperCase() : v;
  }
  return out;
}

export function segmentsPage(root) {
  const message = h('div');
  const body = h('tbody');
  const formArea = h('div');

  /** The new-segment form, or with `editing` (a segment) its edit form. */
  function showForm(initial, name, editing) {
    if (!can(OPERATORS)) return;
    const fields = filterFields(initial);
    const nameInput = h('input', { type: 'text', name: 'segment-name', value: name || '', size: 16 });
    const problem = h('div', { class: 'problem' });
    const submit = h('button', { type: 'submit' }, '保存人群');
    formArea.replaceChildren(
      h(
        'form',
        {
          class: 'card segment-form',
          onsubmit: async (e) => {
            e.preventDefault();
            let filter;
            try {
              filter = fields.value();
            } catch (err) {
              problem.textContent = err.message;
              return;
            }
            problem.textContent = '';
            submit.disabled = true;
            try {
              const s = editing
                ? (await request(UPDATE_SEGMENT, { id: editing.id, input: { name: nameInput.value.trim(), filter } }))
                    .updateSegment
                : (await request(CREATE_SEGMENT, { name: nameInput.value.trim(), filter })).createSegment;
              showOk(message, `已保存人群「${s.name}」：${s.customerCount} 人`);
              formArea.replaceChildren();
              load();
            } catch (err) {
              showError(problem, err);
            } finally {
              submit.disabled = false;
            }
          },
        },
        h('h3', {}, editing ? `编辑人群「${editing.name}」` : '新建人群'),
        h('div', { class: 'filters' }, h('label', {}, '人群名称', nameInput), fields.elements),
        problem,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', onclick: () => formArea.replaceChildren() }, '取消'),
          submit,
        ),
      ),
    );
    nameInput.focus();
  }

  async function load() {
    try {
      const list = (await request(SEGMENTS)).segments;
      body.replaceChildren(
        ...list.map((s) => {
          const f = segmentFilter(s);
          return h(
            'tr',
            { 'data-id': s.id },
            h('td', {}, s.name),
            h('td', { class: 'num count' }, s.customerCount),
            h('td', {}, describeFilter(f)),
            h('td', {}, dateTime(s.createdAt)),
            h(
              'td',
              { class: 'actions' },
              h('a', { href: customersHref(f) }, '查看客户'),
              ' ',
              can(OPERATORS)
                ? [
                    h('button', { type: 'button', class: 'secondary', onclick: () => showForm(f, s.name, s) }, '编辑'),
                    ' ',
                    h('button', { type: 'button', class: 'secondary', onclick: () => showForm(f, `${s.name} 副本`) }, '以此为模板'),
                    ' ',
                    action(
                      '删除',
                      async () => {
                        if (!confirm(`删除人群「${s.name}」？已发放的营销活动记录保留其名称。`)) return false;
                        await request(DELETE_SEGMENT, { id: s.id });
                        showOk(message, `已删除人群「${s.name}」`);
                        return true;
                      },
                      load,
                      'secondary danger',
                    ),
                  ]
                : null,
            ),
          );
        }),
      );
      if (list.length === 0) body.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, '还没有人群')));
    } catch (e) {
      showError(message, e);
    }
  }

  root.replaceChildren(
    h('h2', {}, '人群'),
    h('p', { class: 'muted' }, '人群是保存的客户筛选条件，每次使用时重新计算人数；营销活动按人群发券。'),
    can(OPERATORS) ? h('button', { type: 'button', class: 'create-segment', onclick: () => showForm({}, '') }, '新建人群') : null,
    formArea,
    message,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ['名称', '人数', '条件', '创建时间', ''].map((c) => h('th', {}, c)))), body),
    ),
  );
  load();
}

/** Customer ids typed or pasted: one per line, or separated by commas or spaces. */
function idList(text) {
  return text
    .split(/[\s,，]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

export function tagsPage(root) {
  const message = h('div');
  const body = h('tbody');

  async function load() {
    try {
      const tags = (await request(TAGS)).customerTags;
      body.replaceChildren(
        ...tags.map((t) =>
          h(
            'tr',
            {},
            h('td', {}, h('a', { href: customersHref({ tags: [t.tag] }) }, t.tag)),
            h('td', { class: 'num' }, t.customers),
          ),
        ),
      );
      if (tags.length === 0) body.append(h('tr', {}, h('td', { colspan: 2, class: 'empty' }, '还没有标签')));
    } catch (e) {
      showError(message, e);
    }
  }

  let bulk = null;
  if (can(OPERATORS)) {
    const ids = h('textarea', { rows: 3, placeholder: '客户 ID，每行一个或用逗号分隔（最多 1000 个）' });
    const tags = h('input', { type: 'text', placeholder: '标签，逗号分隔（最多 10 个）', size: 24 });
    const run = (mutation, field, verb) => async () => {
      const customerIds = idList(ids.value);
      const tagList = idList(tags.value);
      if (customerIds.length === 0 || tagList.length === 0) {
        showError(message, '请填写客户 ID 和标签');
        return false;
      }
      const n = (await request(mutation, { customerIds, tags: tagList }))[field];
      showOk(message, `${verb} ${n}`);
    };
    bulk = h(
      'div',
      { class: 'card bulk-tags' },
      h('h3', {}, '批量打标签 / 去标签'),
      h('div', { class: 'filters' }, h('label', {}, '客户 ID', ids), h('label', {}, '标签', tags)),
      h(
        'div',
        { class: 'actions' },
        action('打标签', run(TAG, 'tagCustomers', '打上标签的客户数：'), load),
        action('去标签', run(UNTAG, 'untagCustomers', '去掉的标签数：'), load, 'danger'),
      ),
    );
  }

  root.replaceChildren(
    h('h2', {}, '客户标签'),
    message,
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, '标签'), h('th', {}, '客户数'))), body)),
    bulk,
  );
  load();
}
