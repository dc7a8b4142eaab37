// Suppliers (供应商): the list, adding one, enabling or disabling it, its
// return address, its API key (shown once, in a dialog, then never again)
// and the SKUs linked to it. Changes are OPERATIONS' (and the owner's), as
// the API's guards say; other roles see the list only.
import { can, gql, request } from './api.js';
import { OPERATIONS, specsText } from './catalogue.js';
import { action, ask, dateTime, h, showError, yuan } from './util.js';

const SUPPLIERS = gql`
  query ConsoleSupplierList {
    suppliers {
      id
      name
      contact
      webhookUrl
      active
      returnAddress
      createdAt
    }
  }
`;

const CREATE = gql`
  mutation ConsoleCreateSupplier($input: SupplierInput!) {
    createSupplier(input: $input) {
      supplier {
        id
        name
      }
      apiKey
      webhookSecret
    }
  }
`;

const ROTATE = gql`
  mutation ConsoleRotateSupplierKey($supplierId: ID!) {
    rotateSupplierKey(supplierId: $supplierId) {
      supplier {
        id
        name
      }
      apiKey
    }
  }
`;

const SET_ACTIVE = gql`
  mutation ConsoleSetSupplierActive($supplierId: ID!, $active: Boolean!) {
    setSupplierActive(supplierId: $supplierId, active: $active) {
      id
      active
    }
  }
`;

const SET_RETURN_ADDRESS = gql`
  mutation ConsoleSetSupplierReturnAddress($supplierId: ID!, $returnAddress: String) {
    setSupplierReturnAddress(supplierId: $supplierId, returnAddress: $returnAddress) {
      id
      returnAddress
    }
  }
`;

// The API has no "SKUs of a supplier" query: the links are found by paging
// through the products (ADMIN sees every product and every SKU's link).
const LINKED_SKUS = gql`
  query ConsoleSupplierLinks($first: Int, $after: String) {
    products(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        title
        status
        skus {
          id
          specs {
            name
            value
          }
          priceFen
          stock
          supplierLink {
            supplier {
              id
            }
            supplierSkuCode
            costFen
            dropShip
          }
        }
      }
    }
  }
`;

/** Products read per request, and requests per click, while looking for links. */
const SCAN_PAGE = 50;
const SCAN_PAGES = 4;

/**
 * Shows secrets the server returns once (an API key, a webhook secret) in a
 * dialog with a warning; resolves when the operator closes it. Nothing keeps
 * them: the dialog is removed from the page on closing.
 */
export function showSecretOnce(title, secrets) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'ask secret-once' });
    const close = () => {
      dialog.close();
      dialog.remove();
      resolve();
    };
    const rows = secrets.map(([label, value]) => {
      const field = h('input', { type: 'text', readonly: true, value, spellcheck: 'false', autocomplete: 'off' });
      const copied = h('span', { class: 'loading', role: 'status' });
      const copy = h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: async () => {
            field.select();
            try {
              await navigator.clipboard.writeText(value);
              copied.textContent = '已复制';
            } catch {
              // Plain http (no clipboard API): the text is selected for Ctrl+C.
              copied.textContent = '已选中，请按 Ctrl+C 复制';
            }
          },
        },
        '复制',
      );
      return h('label', {}, label, field, h('div', { class: 'actions' }, copy, copied));
    });
    dialog.append(
      h(
        'form',
        {
          method: 'dialog',
          onsubmit: (ev) => {
            ev.preventDefault();
            close();
          },
        },
        h('h3', {}, title),
        h('p', { class: 'problem', role: 'alert' }, '只显示这一次：服务器只保存其哈希，关闭后无法再查看。请立即复制，交给供应商妥善保存。'),
        rows,
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, '我已保存，关闭')),
      ),
    );
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      close();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** The SKUs linked to one supplier, looked for a few product pages at a time. */
function linksPanel(supplier) {
  const body = h('tbody');
  const status = h('div', { class: 'loading' });
  const more = h('button', { type: 'button', class: 'secondary' }, '继续查找');
  let after = null;
  let scanned = 0;
  let found = 0;
  async function scan() {
    more.disabled = true;
    status.textContent = '查找中…';
    try {
      let page;
      for (let i = 0; i < SCAN_PAGES; i += 1) {
        page = (await request(LINKED_SKUS, { first: SCAN_PAGE, after })).products;
        scanned += page.nodes.length;
        for (const p of page.nodes) {
          for (const s of p.skus) {
            const l = s.supplierLink;
            if (!l || l.supplier.id !== supplier.id) continue;
            found += 1;
            body.append(
              h(
                'tr',
                { 'data-id': s.id },
                h('td', {}, h('a', { href: `#/catalogue/products/${encodeURIComponent(p.id)}` }, p.title), p.status === 'OFF_SHELF' ? '（已下架）' : ''),
                h('td', {}, specsText(s.specs)),
                h('td', {}, l.supplierSkuCode),
                h('td', { class: 'num' }, yuan(l.costFen)),
                h('td', { class: 'num' }, yuan(s.priceFen)),
                h('td', { class: 'num' }, s.stock),
                h('td', {}, l.dropShip ? '代发' : '自发'),
              ),
            );
          }
        }
        after = page.pageInfo.endCursor;
        if (!page.pageInfo.hasNextPage) break;
      }
      const done = !page.pageInfo.hasNextPage;
      status.textContent = `已查找 ${scanned} / ${page.totalCount} 件商品，找到 ${found} 个关联规格${done ? '（已查完）' : ''}`;
      more.hidden = done;
      more.disabled = false;
    } catch (e) {
      showError(status, e);
      more.disabled = false;
    }
  }
  more.addEventListener('click', scan);
  scan();
  return h(
    'section',
    { class: 'supplier-links' },
    h('h3', {}, `「${supplier.name}」关联的规格（SKU）`),
    h('p', { class: 'loading' }, '在商品详情页的规格上「关联供应商」；API 没有按供应商查询的列表，这里逐页查找商品。'),
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ['商品', '规格', '供应商编码', '成本', '售价', '库存', '发货'].map((c) => h('th', {}, c)))), body),
    ),
    status,
    h('div', { class: 'pager' }, more),
  );
}

export function suppliersPage(root) {
  const body = h('tbody');
  const message = h('div');
  const links = h('div');
  const ops = can(OPERATIONS);
  async function load() {
    message.replaceChildren(h('p', { class: 'loading' }, '加载中…'));
    try {
      const list = (await request(SUPPLIERS)).suppliers;
      body.replaceChildren(...list.map((s) => row(s)));
      if (list.length === 0) body.append(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, '没有供应商')));
      message.replaceChildren();
    } catch (e) {
      showError(message, e);
    }
  }
  const row = (s) =>
    h(
      'tr',
      { 'data-id': s.id },
      h('td', {}, s.name),
      h('td', {}, s.contact || '—'),
      h('td', {}, s.active ? '启用' : '已停用'),
      h('td', {}, s.webhookUrl ? [s.webhookUrl, h('div', { class: 'loading' }, '新发货单签名推送，失败按 1、5、15、60 分钟…24 小时重试')] : '未设置（供应商自行拉取）'),
      h('td', {}, s.returnAddress || '默认（商店退货地址）'),
      h('td', {}, dateTime(s.createdAt)),
      h(
        'td',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              links.replaceChildren(linksPanel(s));
              links.scrollIntoView();
            },
          },
          'SKU 关联',
        ),
        ops && [
          action(
            '更换密钥',
            async () => {
              const v = await ask(`更换「${s.name}」的 API 密钥？旧密钥立即失效，供应商的系统须用新密钥重新登录。`, [], '更换');
              if (!v) return false;
              const key = (await request(ROTATE, { supplierId: s.id })).rotateSupplierKey;
              await showSecretOnce(`「${key.supplier.name}」的新 API 密钥`, [['API 密钥（supplierLogin 用）', key.apiKey]]);
            },
            load,
            'secondary',
          ),
          action(
            '退货地址',
            async () => {
              const v = await ask(
                `「${s.name}」的退货地址`,
                [{ name: 'address', label: '退货地址（空 = 使用商店的默认地址）', type: 'textarea', value: s.returnAddress || '' }],
                '保存',
              );
              if (!v) return false;
              await request(SET_RETURN_ADDRESS, { supplierId: s.id, returnAddress: v.address });
            },
            load,
            'secondary',
          ),
          action(
            s.active ? '停用' : '启用',
            async () => {
              if (s.active) {
                const v = await ask(`停用「${s.name}」？其系统立即无法登录（订单、关联和推送保留）。`, [], '停用');
                if (!v) return false;
              }
              await request(SET_ACTIVE, { supplierId: s.id, active: !s.active });
            },
            load,
            s.active ? 'danger' : undefined,
          ),
        ],
      ),
    );
  const create =
    ops &&
    action(
      '新建供应商',
      async () => {
        const v = await ask(
          '新建供应商',
          [
            { name: 'name', label: '名称', type: 'text', required: true },
            { name: 'contact', label: '联系人/电话', type: 'text' },
            { name: 'webhookUrl', label: 'Webhook 地址（https，接收新发货单；创建后不能修改）', type: 'text' },
            { name: 'returnAddress', label: '退货地址（空 = 商店默认）', type: 'textarea' },
          ],
          '创建',
        );
        if (!v) return false;
        const input = { name: v.name };
        for (const k of ['contact', 'webhookUrl', 'returnAddress']) if (v[k]) input[k] = v[k];
        const made = (await request(CREATE, { input })).createSupplier;
        await showSecretOnce(`供应商「${made.supplier.name}」已创建`, [
          ['API 密钥（supplierLogin 用）', made.apiKey],
          ['Webhook 签名密钥（校验 X-Siyu-Signature）', made.webhookSecret],
        ]);
      },
      load,
    );
  root.replaceChildren(
    h('h2', {}, '供应商'),
    h('div', { class: 'actions' }, create),
    h(
      'p',
      { class: 'loading' },
      '供应商一次列出全部（API 不分页）。名称、联系方式和 Webhook 地址创建后不能修改，Webhook 的投递记录 API 也未提供（API 没有对应的操作）。',
    ),
    message,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ['名称', '联系方式', '状态', 'Webhook', '退货地址', '创建时间', '操作'].map((c) => h('th', {}, c)))), body),
    ),
    links,
  );
  load();
}
