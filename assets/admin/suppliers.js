// Suppliers (供应商): the list, adding and editing one, enabling or
// disabling it, its return address, its API key and webhook signing secret
// (each shown once, in a dialog, then never again), the SKUs linked to it
// (unlinked here too) and its webhook deliveries (a failed one retried). Changes are OPERATIONS' (and the owner's), as
// the API's guards say; other roles see the list only.
import { can, gql, request } from './api.js';
import { OPERATIONS, specsText } from './catalogue.js';
import { action, ask, dateTime, h, pagedList, showError, yuan } from './util.js';

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

const UPDATE = gql`
  mutation ConsoleUpdateSupplier($supplierId: ID!, $input: SupplierInput!) {
    updateSupplier(supplierId: $supplierId, input: $input) {
      id
      name
    }
  }
`;

const ROTATE_WEBHOOK_SECRET = gql`
  mutation ConsoleRotateSupplierWebhookSecret($supplierId: ID!) {
    rotateSupplierWebhookSecret(supplierId: $supplierId)
  }
`;

const LINKED_SKUS = gql`
  query ConsoleSupplierSkus($id: ID!, $first: Int, $after: String) {
    supplier(id: $id) {
      id
      skus(first: $first, after: $after) {
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          sku {
            id
            specs {
              name
              value
            }
            priceFen
            stock
          }
          productId
          productTitle
          supplierSkuCode
          costFen
          dropShip
        }
      }
    }
  }
`;

const UNLINK = gql`
  mutation ConsoleUnlinkSupplierSku($skuId: ID!) {
    unlinkSkuFromSupplier(skuId: $skuId) {
      id
    }
  }
`;

const DELIVERIES = gql`
  query ConsoleWebhookDeliveries($id: ID!, $status: WebhookDeliveryStatus, $first: Int, $after: String) {
    supplier(id: $id) {
      id
      webhookDeliveries(status: $status, first: $first, after: $after) {
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          id
          event
          status
          attempts
          lastError
          createdAt
          deliveredAt
          nextAttemptAt
          fulfillmentId
        }
      }
    }
  }
`;

const RETRY = gql`
  mutation ConsoleRetryWebhookDelivery($id: ID!) {
    retryWebhookDelivery(id: $id) {
      id
      status
    }
  }
`;

const PAGE = 20;

const DELIVERY_STATUS = { PENDING: '待重试', DELIVERED: '已送达', FAILED: '已放弃' };

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

/** The SKUs linked to one supplier (Supplier.skus), newest first. */
function linksPanel(supplier, ops) {
  const list = pagedList(
    ['商品', '规格', '供应商编码', '成本', '售价', '库存', '发货', '操作'],
    async (after) => {
      const found = (await request(LINKED_SKUS, { id: supplier.id, first: PAGE, after })).supplier;
      if (!found) throw new Error('没有这个供应商 (NOT_FOUND)');
      return found.skus;
    },
    (n, reload) =>
      h(
        'tr',
        { 'data-id': n.sku.id },
        h('td', {}, h('a', { href: `#/catalogue/products/${encodeURIComponent(n.productId)}` }, n.productTitle)),
        h('td', {}, specsText(n.sku.specs)),
        h('td', {}, n.supplierSkuCode),
        h('td', { class: 'num' }, yuan(n.costFen)),
        h('td', { class: 'num' }, yuan(n.sku.priceFen)),
        h('td', { class: 'num' }, n.sku.stock),
        h('td', {}, n.dropShip ? '代发' : '自发'),
        h(
          'td',
          { class: 'actions' },
          ops &&
            action(
              '解除关联',
              async () => {
                const v = await ask(
                  `解除 ${n.productTitle}（${specsText(n.sku.specs)}）与「${supplier.name}」的关联？之后下的订单由商店自己发货（库存保持当前数，请按自有库存核对）；已下的订单仍由该供应商按原成本发货。`,
                  [],
                  '解除',
                );
                if (!v) return false;
                await request(UNLINK, { skuId: n.sku.id });
              },
              reload,
              'secondary',
            ),
        ),
      ),
  );
  list.reload();
  return h(
    'section',
    { class: 'supplier-links' },
    h('h3', {}, `「${supplier.name}」关联的规格（SKU）`),
    h('p', { class: 'loading' }, '在商品详情页的规格上「关联供应商」。已下架商品的规格也在此列出；已移除的规格不列出。'),
    list.element,
  );
}

/** A supplier's webhook: its URL and deliveries (newest first), a failed one retried. */
function webhookPanel(supplier, ops) {
  const status = h(
    'select',
    { 'aria-label': '投递状态' },
    h('option', { value: '' }, '全部状态'),
    Object.entries(DELIVERY_STATUS).map(([v, l]) => h('option', { value: v }, l)),
  );
  const list = pagedList(
    ['投递', '事件', '状态', '尝试次数', '最近错误', '创建时间', '送达时间', '下次尝试', '发货单', '操作'],
    async (after) => {
      const vars = { id: supplier.id, first: PAGE, after };
      if (status.value) vars.status = status.value;
      const found = (await request(DELIVERIES, vars)).supplier;
      if (!found) throw new Error('没有这个供应商 (NOT_FOUND)');
      return found.webhookDeliveries;
    },
    (d, reload) =>
      h(
        'tr',
        { 'data-id': d.id },
        h('td', {}, d.id),
        h('td', {}, d.event),
        h('td', { class: `status ${d.status.toLowerCase()}` }, DELIVERY_STATUS[d.status] || d.status),
        h('td', { class: 'num' }, d.attempts),
        h('td', {}, d.lastError || '—'),
        h('td', {}, dateTime(d.createdAt)),
        h('td', {}, d.deliveredAt ? dateTime(d.deliveredAt) : '—'),
        h('td', {}, d.nextAttemptAt ? dateTime(d.nextAttemptAt) : '—'),
        h('td', {}, d.fulfillmentId),
        h(
          'td',
          { class: 'actions' },
          ops &&
            d.status === 'FAILED' &&
            action(
              '重新投递',
              async () => {
                await request(RETRY, { id: d.id });
              },
              reload,
              'secondary',
            ),
        ),
      ),
  );
  status.addEventListener('change', () => list.reload());
  list.reload();
  return h(
    'section',
    { class: 'supplier-webhook' },
    h('h3', {}, `「${supplier.name}」的 Webhook 推送`),
    h(
      'p',
      { class: 'loading' },
      supplier.webhookUrl
        ? `地址：${supplier.webhookUrl}。失败按 1、5、15、60 分钟…24 小时重试，共 9 次后放弃；「重新投递」立即再试一次（发往当前地址）。`
        : '未设置 Webhook 地址：供应商自行拉取发货单（supplierFulfillments）。',
    ),
    h('div', { class: 'filters' }, h('label', {}, '状态', status)),
    list.element,
  );
}

export function suppliersPage(root) {
  const body = h('tbody');
  const message = h('div');
  const panel = h('div');
  const ops = can(OPERATIONS);
  const show = (element) => {
    panel.replaceChildren(element);
    panel.scrollIntoView();
  };
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
            onclick: () => show(linksPanel(s, ops)),
          },
          'SKU 关联',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => show(webhookPanel(s, ops)),
          },
          'Webhook 推送',
        ),
        ops && [
          action(
            '编辑',
            async () => {
              const v = await ask(
                `编辑供应商「${s.name}」`,
                [
                  { name: 'name', label: '名称', type: 'text', required: true, value: s.name },
                  { name: 'contact', label: '联系人/电话', type: 'text', value: s.contact || '' },
                  { name: 'webhookUrl', label: 'Webhook 地址（https，接收新发货单；空 = 不推送）', type: 'text', value: s.webhookUrl || '' },
                  { name: 'returnAddress', label: '退货地址（空 = 商店默认）', type: 'textarea', value: s.returnAddress || '' },
                ],
                '保存',
              );
              if (!v) return false;
              // Every field is sent: the API sets each as given (empty = cleared).
              await request(UPDATE, {
                supplierId: s.id,
                input: { name: v.name, contact: v.contact, webhookUrl: v.webhookUrl, returnAddress: v.returnAddress },
              });
            },
            load,
            'secondary',
          ),
          action(
            '签名密钥',
            async () => {
              const v = await ask(`更换「${s.name}」的 Webhook 签名密钥？之后的每次推送（含待重试的）都用新密钥签名，供应商须同时换用新密钥校验。`, [], '更换');
              if (!v) return false;
              const secret = (await request(ROTATE_WEBHOOK_SECRET, { supplierId: s.id })).rotateSupplierWebhookSecret;
              await showSecretOnce(`「${s.name}」的新 Webhook 签名密钥`, [['Webhook 签名密钥（校验 X-Siyu-Signature）', secret]]);
            },
            load,
            'secondary',
          ),
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
            { name: 'webhookUrl', label: 'Webhook 地址（https，接收新发货单）', type: 'text' },
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
    h('p', { class: 'loading' }, '供应商一次列出全部（API 不分页）。'),
    message,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ['名称', '联系方式', '状态', 'Webhook', '退货地址', '创建时间', '操作'].map((c) => h('th', {}, c)))), body),
    ),
    panel,
  );
  load();
}
