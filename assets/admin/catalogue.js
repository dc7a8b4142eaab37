// The catalogue (商品): products with their SKUs, stock and supplier links,
// categories and the hot list's pins. Reads are open to every staff role;
// every change is OPERATIONS' (and the owner's), as the API's guards say,
// so the buttons for them show only to those roles.
import { can, gql, request } from './api.js';
import { action, ask, dateTime, h, pagedList, showError, yuan } from './util.js';

/** Who may change the catalogue: `auth::staff::OPERATIONS` (the owner always). */
export const OPERATIONS = ['OPERATIONS'];

const PAGE = 20;

export const PRODUCT_STATUS = { ON_SHELF: '在售', OFF_SHELF: '已下架' };
const SORTS = { NEWEST: '最新', HOT: '销量', PRICE_ASC: '价格从低到高', PRICE_DESC: '价格从高到低' };

const CATEGORIES = gql`
  query ConsoleCategories {
    categories {
      id
      name
      parentId
      sort
      iconUrl
    }
  }
`;

const CREATE_CATEGORY = gql`
  mutation ConsoleCreateCategory($input: CategoryInput!) {
    createCategory(input: $input) {
      id
      name
    }
  }
`;

const UPDATE_CATEGORY = gql`
  mutation ConsoleUpdateCategory($id: ID!, $input: CategoryInput!) {
    updateCategory(id: $id, input: $input) {
      id
      name
    }
  }
`;

const DELETE_CATEGORY = gql`
  mutation ConsoleDeleteCategory($id: ID!) {
    deleteCategory(id: $id)
  }
`;

const PRODUCTS = gql`
  query ConsoleProducts($first: Int, $after: String, $categoryId: ID, $keyword: String, $sort: ProductSort) {
    products(first: $first, after: $after, categoryId: $categoryId, keyword: $keyword, sort: $sort) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        title
        brand
        status
        salesCount
        minPriceFen
        maxPriceFen
        hotPin
        updatedAt
        category {
          name
        }
        skus {
          id
          stock
        }
      }
    }
  }
`;

const PRODUCT = gql`
  query ConsoleProduct($id: ID!) {
    product(id: $id) {
      id
      title
      subtitle
      description
      images
      brand
      status
      salesCount
      hotPin
      createdAt
      updatedAt
      category {
        id
        name
      }
      skus {
        id
        specs {
          name
          value
        }
        priceFen
        originalPriceFen
        memberPriceFen
        stock
        weightGrams
        imageUrl
        code
        available
        supplierLink {
          supplier {
            id
            name
          }
          supplierSkuCode
          costFen
          dropShip
        }
      }
    }
  }
`;

const CREATE_PRODUCT = gql`
  mutation ConsoleCreateProduct($input: ProductInput!) {
    createProduct(input: $input) {
      id
    }
  }
`;

const UPDATE_PRODUCT = gql`
  mutation ConsoleUpdateProduct($id: ID!, $input: ProductUpdateInput!) {
    updateProduct(id: $id, input: $input) {
      id
    }
  }
`;

const SET_STATUS = gql`
  mutation ConsoleSetProductStatus($id: ID!, $status: ProductStatus!) {
    setProductStatus(id: $id, status: $status) {
      id
      status
    }
  }
`;

const SET_STOCK = gql`
  mutation ConsoleSetSkuStock($skuId: ID!, $stock: Int!) {
    setSkuStock(skuId: $skuId, stock: $stock) {
      id
      stock
    }
  }
`;

const PIN = gql`
  mutation ConsolePinHotProduct($productId: ID!, $rank: Int!) {
    pinHotProduct(productId: $productId, rank: $rank) {
      id
      hotPin
    }
  }
`;

const UNPIN = gql`
  mutation ConsoleUnpinHotProduct($productId: ID!) {
    unpinHotProduct(productId: $productId) {
      id
      hotPin
    }
  }
`;

const HOT = gql`
  query ConsoleHotProducts {
    hotProducts(limit: 50) {
      id
      title
      status
      hotPin
      salesCount
      minPriceFen
    }
  }
`;

const SUPPLIER_OPTIONS = gql`
  query ConsoleSupplierOptions {
    suppliers {
      id
      name
      active
    }
  }
`;

const LINK = gql`
  mutation ConsoleLinkSkuToSupplier($skuId: ID!, $input: SupplierLinkInput!) {
    linkSkuToSupplier(skuId: $skuId, input: $input) {
      id
    }
  }
`;

const UNLINK = gql`
  mutation ConsoleUnlinkSkuFromSupplier($skuId: ID!) {
    unlinkSkuFromSupplier(skuId: $skuId) {
      id
    }
  }
`;

/** Fen as the text an operator edits ("1,234.56"), which parseYuan reads back. */
const yuanText = (fen) => (fen === null || fen === undefined ? '' : yuan(fen).replace('¥', ''));

/** "规格:500g；颜色:红" (as typed and as shown) from spec pairs. */
export const specsText = (specs) => specs.map((s) => `${s.name}:${s.value}`).join('；');

/** Spec pairs typed as "名:值", separated by ; or ；. */
function parseSpecs(text) {
  const pairs = String(text || '')
    .split(/[;；\n]/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const m = /^([^:：]+)[:：](.+)$/.exec(p);
      if (!m) throw new Error(`规格格式不对: "${p}"（写成 名:值，多个用；分开）`);
      return { name: m[1].trim(), value: m[2].trim() };
    });
  if (pairs.length === 0) throw new Error('请填写规格（如 规格:500g）');
  return pairs;
}

/** A whole number typed in a form; null for an empty field. */
function parseCount(text, label) {
  if (text === null || text === undefined || text === '') return null;
  const t = String(text).trim();
  if (!/^\d{1,9}$/.test(t)) throw new Error(`${label}: 请输入非负整数`);
  return Number(t);
}

const lines = (text) =>
  String(text || '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** Categories with their path ("食品 / 零食"), in the API's display order. */
async function categoryOptions() {
  const all = (await request(CATEGORIES)).categories;
  const byId = new Map(all.map((c) => [c.id, c]));
  const path = (c) => {
    const names = [];
    for (let x = c, guard = 0; x && guard < 10; x = byId.get(x.parentId), guard += 1) names.unshift(x.name);
    return names.join(' / ');
  };
  return all.map((c) => ({ ...c, path: path(c) }));
}

/** Options for ask()'s select with `selected` first (it shows the first). */
function optionsFirst(options, selected) {
  const first = options.filter(([v]) => v === selected);
  return [...first, ...options.filter(([v]) => v !== selected)];
}

function tabs(root, active) {
  const items = [
    ['products', '商品列表', productsPage],
    ['categories', '分类', categoriesPage],
    ['hot', '热销置顶', hotPage],
  ];
  return h(
    'nav',
    { class: 'tabs' },
    items.map(([key, label, show]) =>
      h('button', { type: 'button', class: key === active ? 'active' : 'secondary', onclick: () => show(root) }, label),
    ),
  );
}

const productLink = (p) => h('a', { href: `#/catalogue/products/${encodeURIComponent(p.id)}` }, p.title);

function priceRange(p) {
  if (p.minPriceFen === null || p.minPriceFen === undefined) return '—';
  return p.minPriceFen === p.maxPriceFen ? yuan(p.minPriceFen) : `${yuan(p.minPriceFen)} – ${yuan(p.maxPriceFen)}`;
}

function shelfAction(p, after) {
  const on = p.status === 'ON_SHELF';
  return action(
    on ? '下架' : '上架',
    () => request(SET_STATUS, { id: p.id, status: on ? 'OFF_SHELF' : 'ON_SHELF' }),
    after,
    on ? 'danger' : undefined,
  );
}

function pinActions(p, after) {
  return [
    action(
      p.hotPin === null || p.hotPin === undefined ? '置顶' : '改顺位',
      async () => {
        const v = await ask(
          `热销置顶：${p.title}`,
          [{ name: 'rank', label: '顺位（数字小的在前，默认 0）', type: 'text', value: p.hotPin === null || p.hotPin === undefined ? '0' : String(p.hotPin) }],
          '置顶',
        );
        if (!v) return false;
        await request(PIN, { productId: p.id, rank: parseCount(v.rank, '顺位') ?? 0 });
      },
      after,
      'secondary',
    ),
    p.hotPin !== null && p.hotPin !== undefined && action('取消置顶', () => request(UNPIN, { productId: p.id }), after, 'secondary'),
  ];
}

/** 商品: the product list (the menu's entry), with its tabs. */
export function cataloguePage(root) {
  productsPage(root);
}

function productsPage(root) {
  const keyword = h('input', { type: 'search', placeholder: '标题、副标题或品牌', size: 16 });
  const category = h('select', {}, h('option', { value: '' }, '全部分类'));
  const sort = h(
    'select',
    {},
    Object.entries(SORTS).map(([v, l]) => h('option', { value: v }, l)),
  );
  const total = h('span', { class: 'loading' });
  const message = h('div');
  let categories = [];
  const categoriesLoaded = categoryOptions()
    .then((all) => {
      categories = all;
      category.append(...all.map((c) => h('option', { value: c.id }, c.path)));
    })
    .catch((e) => showError(message, e));
  const list = pagedList(
    ['商品', '分类', '状态', '售价', '库存', '销量', '置顶', '更新时间', '操作'],
    async (after) => {
      const vars = { first: PAGE, after, sort: sort.value };
      if (category.value) vars.categoryId = category.value;
      if (keyword.value.trim()) vars.keyword = keyword.value.trim();
      const page = (await request(PRODUCTS, vars)).products;
      total.textContent = `共 ${page.totalCount} 件`;
      return page;
    },
    (p, reload) =>
      h(
        'tr',
        { 'data-id': p.id },
        h('td', {}, productLink(p), p.brand ? h('div', { class: 'loading' }, p.brand) : null),
        h('td', {}, p.category ? p.category.name : '—'),
        h('td', {}, PRODUCT_STATUS[p.status] || p.status),
        h('td', { class: 'num' }, priceRange(p)),
        h('td', { class: 'num' }, p.skus.reduce((n, s) => n + s.stock, 0)),
        h('td', { class: 'num' }, p.salesCount),
        h('td', { class: 'num' }, p.hotPin === null || p.hotPin === undefined ? '—' : p.hotPin),
        h('td', {}, dateTime(p.updatedAt)),
        h('td', { class: 'actions' }, can(OPERATIONS) && [shelfAction(p, reload), pinActions(p, reload)]),
      ),
  );
  const create =
    can(OPERATIONS) &&
    h(
      'div',
      { class: 'actions' },
      action(
        '新建商品',
        async () => {
          await categoriesLoaded;
          const id = await createProduct(categories);
          if (!id) return false;
          location.hash = `#/catalogue/products/${encodeURIComponent(id)}`;
        },
        () => {},
      ),
    );
  const filters = h(
    'form',
    {
      class: 'filters',
      onsubmit: (e) => {
        e.preventDefault();
        list.reload();
      },
    },
    h('label', {}, '关键词', keyword),
    h('label', {}, '分类', category),
    h('label', {}, '排序', sort),
    h('button', { type: 'submit' }, '筛选'),
    total,
  );
  sort.addEventListener('change', () => list.reload());
  category.addEventListener('change', () => list.reload());
  root.replaceChildren(h('h2', {}, '商品'), tabs(root, 'products'), create, message, filters, list.element);
  list.reload();
}

/** The new-product dialog; resolves to the new product's id, or null. */
async function createProduct(categories) {
  if (categories.length === 0) throw new Error('请先在「分类」中新建一个分类');
  const v = await ask(
    '新建商品（创建后即上架，可随时下架）',
    [
      { name: 'title', label: '标题', type: 'text', required: true },
      { name: 'subtitle', label: '副标题', type: 'text' },
      { name: 'categoryId', label: '分类', type: 'select', options: categories.map((c) => [c.id, c.path]) },
      { name: 'brand', label: '品牌', type: 'text' },
      { name: 'images', label: '图片 URL（每行一个，第一张为封面）', type: 'textarea' },
      { name: 'description', label: '详情', type: 'textarea' },
      { name: 'specs', label: '规格（名:值，多个用；分开）', type: 'text', required: true, value: '规格:默认' },
      { name: 'price', label: '售价（元）', type: 'yuan', required: true },
      { name: 'originalPrice', label: '划线价（元）', type: 'yuan' },
      { name: 'memberPrice', label: '会员价（元）', type: 'yuan' },
      { name: 'stock', label: '库存', type: 'text', required: true, value: '0' },
      { name: 'code', label: '编码/条码', type: 'text' },
    ],
    '创建',
  );
  if (!v) return null;
  const sku = {
    specs: parseSpecs(v.specs),
    priceFen: v.price,
    stock: parseCount(v.stock, '库存'),
  };
  if (v.originalPrice !== null) sku.originalPriceFen = v.originalPrice;
  if (v.memberPrice !== null) sku.memberPriceFen = v.memberPrice;
  if (v.code) sku.code = v.code;
  const input = { title: v.title, categoryId: v.categoryId, images: lines(v.images), skus: [sku] };
  if (v.subtitle) input.subtitle = v.subtitle;
  if (v.brand) input.brand = v.brand;
  if (v.description) input.description = v.description;
  return (await request(CREATE_PRODUCT, { input })).createProduct.id;
}

/**
 * A SKU as updateProduct takes it back: every field it has, stock left out
 * (kept as it is: orders keep taking stock meanwhile), so changing one SKU
 * leaves the others exactly as they were.
 */
function skuUpdate(s) {
  return {
    id: s.id,
    specs: s.specs.map(({ name, value }) => ({ name, value })),
    priceFen: s.priceFen,
    originalPriceFen: s.originalPriceFen,
    memberPriceFen: s.memberPriceFen,
    weightGrams: s.weightGrams,
    imageUrl: s.imageUrl,
    code: s.code,
  };
}

/**
 * Replaces the product's SKU list (updateProduct takes the whole list) with
 * `change` applied to the SKUs as they are now: read again just before, so
 * an edit made elsewhere since the page loaded is not undone.
 */
async function updateSkus(productId, change) {
  const fresh = (await request(PRODUCT, { id: productId })).product;
  if (!fresh) throw new Error('商品不存在 (NOT_FOUND)');
  const skus = change(fresh.skus.map(skuUpdate));
  await request(UPDATE_PRODUCT, { id: productId, input: { skus } });
}

/** The SKU dialog (new when `s` is null); resolves to a SkuUpdateInput or null. */
async function askSku(s) {
  const fields = [
    { name: 'specs', label: '规格（名:值，多个用；分开）', type: 'text', required: true, value: s ? specsText(s.specs) : '' },
    { name: 'price', label: '售价（元）', type: 'yuan', required: true, value: s ? yuanText(s.priceFen) : '' },
    { name: 'originalPrice', label: '划线价（元）', type: 'yuan', value: s ? yuanText(s.originalPriceFen) : '' },
    { name: 'memberPrice', label: '会员价（元）', type: 'yuan', value: s ? yuanText(s.memberPriceFen) : '' },
  ];
  // An existing SKU's stock is changed on its own (改库存), never here.
  if (!s) fields.push({ name: 'stock', label: '库存', type: 'text', required: true, value: '0' });
  fields.push(
    { name: 'weight', label: '重量（克）', type: 'text', value: s && s.weightGrams !== null ? String(s.weightGrams) : '' },
    { name: 'imageUrl', label: '规格图片 URL', type: 'text', value: s ? s.imageUrl : '' },
    { name: 'code', label: '编码/条码', type: 'text', value: s ? s.code : '' },
  );
  const v = await ask(s ? `编辑规格 ${specsText(s.specs)}` : '新增规格', fields, '保存');
  if (!v) return null;
  const out = {
    specs: parseSpecs(v.specs),
    priceFen: v.price,
    originalPriceFen: v.originalPrice,
    memberPriceFen: v.memberPrice,
    weightGrams: parseCount(v.weight, '重量'),
    imageUrl: v.imageUrl,
    code: v.code,
  };
  if (s) out.id = s.id;
  else out.stock = parseCount(v.stock, '库存');
  return out;
}

async function linkSupplier(s) {
  const suppliers = (await request(SUPPLIER_OPTIONS)).suppliers;
  if (suppliers.length === 0) throw new Error('还没有供应商：请先在「供应商」页新建');
  const link = s.supplierLink;
  const options = suppliers.map((x) => [x.id, x.active === false ? `${x.name}（已停用）` : x.name]);
  const v = await ask(
    `关联供应商：${specsText(s.specs)}`,
    [
      { name: 'supplierId', label: '供应商', type: 'select', options: optionsFirst(options, link && link.supplier.id) },
      { name: 'code', label: '供应商的商品编码', type: 'text', required: true, value: link ? link.supplierSkuCode : '' },
      { name: 'cost', label: '采购成本（元/件）', type: 'yuan', required: true, value: link ? yuanText(link.costFen) : '' },
      { name: 'dropShip', label: '由供应商直接发货（代发）', type: 'checkbox', value: link ? link.dropShip : true },
    ],
    '保存',
  );
  if (!v) return false;
  await request(LINK, {
    skuId: s.id,
    input: { supplierId: v.supplierId, supplierSkuCode: v.code, costFen: v.cost, dropShip: v.dropShip },
  });
}

/** One product with its SKUs (#/catalogue/products/<id>). */
export async function productPage(root, id) {
  root.replaceChildren(h('p', { class: 'loading' }, '加载中…'));
  const reload = () => productPage(root, id);
  let p;
  try {
    p = (await request(PRODUCT, { id })).product;
  } catch (e) {
    root.replaceChildren(h('p', {}, h('a', { href: '#/catalogue' }, '← 商品列表')), h('div', { class: 'error' }, String(e)));
    return;
  }
  if (!p) {
    root.replaceChildren(h('p', {}, h('a', { href: '#/catalogue' }, '← 商品列表')), h('div', { class: 'error' }, '没有这个商品 (NOT_FOUND)'));
    return;
  }
  const ops = can(OPERATIONS);
  const fact = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value === null || value === undefined || value === '' ? '—' : value));
  const edit = action(
    '编辑',
    async () => {
      const categories = await categoryOptions();
      const v = await ask(
        `编辑商品`,
        [
          { name: 'title', label: '标题', type: 'text', required: true, value: p.title },
          { name: 'subtitle', label: '副标题', type: 'text', value: p.subtitle },
          {
            name: 'categoryId',
            label: '分类',
            type: 'select',
            options: optionsFirst(
              categories.map((c) => [c.id, c.path]),
              p.category && p.category.id,
            ),
          },
          { name: 'brand', label: '品牌', type: 'text', value: p.brand },
          { name: 'images', label: '图片 URL（每行一个，第一张为封面）', type: 'textarea', value: p.images.join('\n') },
          { name: 'description', label: '详情', type: 'textarea', value: p.description },
        ],
        '保存',
      );
      if (!v) return false;
      // Empty text clears a field (the API's rule for these three).
      await request(UPDATE_PRODUCT, {
        id: p.id,
        input: {
          title: v.title,
          subtitle: v.subtitle || '',
          brand: v.brand || '',
          description: v.description || '',
          categoryId: v.categoryId,
          images: lines(v.images),
        },
      });
    },
    reload,
  );
  const skuRows = p.skus.map((s) =>
    h(
      'tr',
      { 'data-id': s.id },
      h('td', {}, specsText(s.specs), s.code ? h('div', { class: 'loading' }, s.code) : null),
      h('td', { class: 'num' }, yuan(s.priceFen)),
      h('td', { class: 'num' }, yuan(s.originalPriceFen)),
      h('td', { class: 'num' }, yuan(s.memberPriceFen)),
      h('td', { class: 'num stock' }, s.stock),
      h('td', { class: 'num' }, s.weightGrams === null ? '—' : `${s.weightGrams} g`),
      h(
        'td',
        { class: 'link' },
        s.supplierLink
          ? [
              s.supplierLink.supplier.name,
              h('div', { class: 'loading' }, `编码 ${s.supplierLink.supplierSkuCode} · 成本 ${yuan(s.supplierLink.costFen)} · ${s.supplierLink.dropShip ? '代发' : '自发'}`),
            ]
          : '自营',
      ),
      h(
        'td',
        { class: 'actions' },
        ops && [
          action(
            '编辑',
            async () => {
              const changed = await askSku(s);
              if (!changed) return false;
              await updateSkus(p.id, (skus) => skus.map((x) => (x.id === s.id ? changed : x)));
            },
            reload,
            'secondary',
          ),
          action(
            '改库存',
            async () => {
              const v = await ask(
                `库存：${specsText(s.specs)}（现有 ${s.stock}）`,
                [{ name: 'stock', label: '新的库存数（0 至 10,000,000）', type: 'text', required: true, value: String(s.stock) }],
                '保存',
              );
              if (!v) return false;
              await request(SET_STOCK, { skuId: s.id, stock: parseCount(v.stock, '库存') });
            },
            reload,
            'secondary',
          ),
          action('关联供应商', () => linkSupplier(s), reload, 'secondary'),
          s.supplierLink &&
            action(
              '解除关联',
              async () => {
                const v = await ask(
                  `解除 ${specsText(s.specs)} 与「${s.supplierLink.supplier.name}」的关联？之后下的订单由商店自己发货（库存保持当前数，请按自有库存核对）；已下的订单仍由该供应商按原成本发货。`,
                  [],
                  '解除',
                );
                if (!v) return false;
                await request(UNLINK, { skuId: s.id });
              },
              reload,
              'secondary',
            ),
          p.skus.length > 1 &&
            action(
              '移除',
              async () => {
                const v = await ask(`移除规格 ${specsText(s.specs)}？已下的订单不受影响。`, [], '移除');
                if (!v) return false;
                await updateSkus(p.id, (skus) => skus.filter((x) => x.id !== s.id));
              },
              reload,
              'danger',
            ),
        ],
      ),
    ),
  );
  root.replaceChildren(
    h('p', {}, h('a', { href: '#/catalogue' }, '← 商品列表')),
    h('h2', {}, `商品 ${p.title}`),
    h(
      'div',
      { class: 'card' },
      h(
        'dl',
        { class: 'facts' },
        fact('状态', PRODUCT_STATUS[p.status] || p.status),
        fact('分类', p.category && p.category.name),
        fact('品牌', p.brand),
        fact('副标题', p.subtitle),
        fact('销量', p.salesCount),
        fact('热销置顶', p.hotPin === null ? '未置顶' : `顺位 ${p.hotPin}`),
        fact('创建', dateTime(p.createdAt)),
        fact('更新', dateTime(p.updatedAt)),
        fact('商品 ID', p.id),
      ),
      // Image URLs as text: the console's policy loads no image from elsewhere.
      h('h3', {}, '图片'),
      p.images.length ? h('ol', {}, p.images.map((u) => h('li', {}, u))) : h('p', { class: 'empty' }, '无'),
      h('h3', {}, '详情'),
      h('p', { class: 'description' }, p.description || '—'),
      ops && h('div', { class: 'actions' }, edit, shelfAction(p, reload), pinActions(p, reload)),
    ),
    h('h3', {}, '规格（SKU）'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'skus' },
        h('thead', {}, h('tr', {}, ['规格', '售价', '划线价', '会员价', '库存', '重量', '供应商', '操作'].map((c) => h('th', {}, c)))),
        h('tbody', {}, skuRows),
      ),
    ),
    ops &&
      h(
        'div',
        { class: 'actions pager' },
        action(
          '新增规格',
          async () => {
            const added = await askSku(null);
            if (!added) return false;
            await updateSkus(p.id, (skus) => [...skus, added]);
          },
          reload,
        ),
      ),
  );
}

function categoriesPage(root) {
  const body = h('tbody');
  const message = h('div');
  const ops = can(OPERATIONS);
  // Every field is sent: the API sets each as given (no parent = top level).
  const editCategory = (c, all) => {
    // Not itself or one below it (the API refuses a loop too).
    const below = new Set([c.id]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const x of all) {
        if (x.parentId && below.has(x.parentId) && !below.has(x.id)) {
          below.add(x.id);
          grew = true;
        }
      }
    }
    const parents = [['', '（顶级）'], ...all.filter((x) => !below.has(x.id)).map((x) => [x.id, x.path])];
    return action(
      '编辑',
      async () => {
        const v = await ask(
          `编辑分类「${c.name}」`,
          [
            { name: 'name', label: '名称', type: 'text', required: true, value: c.name },
            { name: 'parentId', label: '上级分类', type: 'select', options: optionsFirst(parents, c.parentId || '') },
            { name: 'sort', label: '排序（小的在前）', type: 'text', value: String(c.sort) },
            { name: 'iconUrl', label: '图标 URL', type: 'text', value: c.iconUrl || '' },
          ],
          '保存',
        );
        if (!v) return false;
        const input = { name: v.name, parentId: v.parentId || null, sort: parseCount(v.sort, '排序') ?? 0, iconUrl: v.iconUrl || null };
        await request(UPDATE_CATEGORY, { id: c.id, input });
      },
      load,
      'secondary',
    );
  };
  const removeCategory = (c) =>
    action(
      '删除',
      async () => {
        const v = await ask(`删除分类「${c.name}」？分类下还有商品（含已下架）或子分类时不能删除。`, [], '删除');
        if (!v) return false;
        await request(DELETE_CATEGORY, { id: c.id });
      },
      load,
      'danger',
    );
  async function load() {
    message.replaceChildren(h('p', { class: 'loading' }, '加载中…'));
    try {
      const all = await categoryOptions();
      const byId = new Map(all.map((c) => [c.id, c]));
      body.replaceChildren(
        ...all.map((c) =>
          h(
            'tr',
            { 'data-id': c.id },
            h('td', {}, c.path),
            h('td', {}, c.parentId && byId.get(c.parentId) ? byId.get(c.parentId).name : '（顶级）'),
            h('td', { class: 'num' }, c.sort),
            h('td', {}, c.iconUrl || '—'),
            h('td', {}, c.id),
            h('td', { class: 'actions' }, ops && [editCategory(c, all), removeCategory(c)]),
          ),
        ),
      );
      if (all.length === 0) body.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, '没有分类')));
      message.replaceChildren();
      return all;
    } catch (e) {
      showError(message, e);
      return [];
    }
  }
  const create =
    can(OPERATIONS) &&
    action(
      '新建分类',
      async () => {
        const all = await categoryOptions();
        const v = await ask(
          '新建分类',
          [
            { name: 'name', label: '名称', type: 'text', required: true },
            { name: 'parentId', label: '上级分类', type: 'select', options: [['', '（顶级）'], ...all.map((c) => [c.id, c.path])] },
            { name: 'sort', label: '排序（小的在前）', type: 'text', value: '0' },
            { name: 'iconUrl', label: '图标 URL', type: 'text' },
          ],
          '创建',
        );
        if (!v) return false;
        const input = { name: v.name, sort: parseCount(v.sort, '排序') ?? 0 };
        if (v.parentId) input.parentId = v.parentId;
        if (v.iconUrl) input.iconUrl = v.iconUrl;
        await request(CREATE_CATEGORY, { input });
      },
      load,
    );
  root.replaceChildren(
    h('h2', {}, '商品'),
    tabs(root, 'categories'),
    h('div', { class: 'actions' }, create),
    h('p', { class: 'loading' }, '分类一次列出全部（API 不分页）。改名后顾客立即看到新名称；分类下还有商品或子分类时不能删除。'),
    message,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ['分类', '上级', '排序', '图标', 'ID', '操作'].map((c) => h('th', {}, c)))), body),
    ),
  );
  load();
}

function hotPage(root) {
  const body = h('tbody');
  const message = h('div');
  async function load() {
    message.replaceChildren(h('p', { class: 'loading' }, '加载中…'));
    try {
      const list = (await request(HOT)).hotProducts;
      body.replaceChildren(
        ...list.map((p, i) =>
          h(
            'tr',
            { 'data-id': p.id },
            h('td', { class: 'num' }, i + 1),
            h('td', {}, productLink(p)),
            h('td', {}, p.hotPin === null ? '按销量' : `置顶 · 顺位 ${p.hotPin}`),
            h('td', { class: 'num' }, p.salesCount),
            h('td', { class: 'num' }, yuan(p.minPriceFen)),
            h('td', { class: 'actions' }, can(OPERATIONS) && pinActions(p, load)),
          ),
        ),
      );
      if (list.length === 0) body.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, '热销榜为空')));
      message.replaceChildren();
    } catch (e) {
      showError(message, e);
    }
  }
  root.replaceChildren(
    h('h2', {}, '商品'),
    tabs(root, 'hot'),
    h(
      'p',
      { class: 'loading' },
      '小程序首页的热销榜（前 50）：置顶的商品在前（顺位小的在前），其后按近期销量。只含在售商品；下架的置顶商品在商品列表的「置顶」列中。',
    ),
    message,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ['名次', '商品', '来源', '销量', '起售价', '操作'].map((c) => h('th', {}, c)))), body),
    ),
  );
  load();
}
