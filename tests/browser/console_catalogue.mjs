// The console's catalogue and suppliers pages (catalogue.js, suppliers.js),
// run by admin_console.mjs while the owner is signed in: a category and a
// product with one SKU (its price typed in yuan) made on 商品, taken off
// shelf and put back on, its stock set and pinned on the hot list, each
// change then checked where a shopper sees it (the public API, without a
// token); on 供应商 a supplier made, its API key shown once, the SKU linked
// to it and found in its links (Supplier.skus), its key rotated, then its
// name edited and its webhook panel (deliveries, none yet) opened.

const CATEGORY = '控制台分类';
const TITLE = '控制台新品';
const SUPPLIER = '控制台供应商';
const RENAMED = '控制台甲供应链';

/** The public API as a shopper's client calls it: no token. */
async function shop(page, query, variables) {
  const body = await page.evaluate(
    async ([query, variables]) => {
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'omit',
        body: JSON.stringify({ query, variables }),
      });
      return res.json();
    },
    [query, variables],
  );
  if (body.errors) throw new Error(`public API: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const PUBLIC_PRODUCTS = `query($k: String) { products(keyword: $k, first: 10) { nodes { id title status minPriceFen skus { priceFen stock } } } }`;

async function listed(page) {
  return (await shop(page, PUBLIC_PRODUCTS, { k: TITLE })).products.nodes.filter((p) => p.title === TITLE);
}

export async function catalogueSteps(page, step, ctx) {
  if (!ctx || !ctx.base) throw new Error('catalogueSteps needs ctx.base');
  const dialog = page.locator('dialog.ask');

  await step('catalogue-1-category', async () => {
    await page.getByRole('link', { name: '商品', exact: true }).click();
    await page.getByRole('heading', { name: '商品', exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '分类', exact: true }).click();
    await page.getByRole('button', { name: '新建分类' }).click();
    await dialog.getByLabel('名称').fill(CATEGORY);
    await dialog.getByRole('button', { name: '创建' }).click();
    await page.locator('tbody tr', { hasText: CATEGORY }).waitFor({ timeout: 30_000 });
  });

  await step('catalogue-2-product', async () => {
    await page.getByRole('button', { name: '商品列表' }).click();
    await page.getByRole('button', { name: '新建商品' }).click();
    await dialog.getByLabel('标题', { exact: true }).fill(TITLE);
    await dialog.getByLabel('分类').selectOption({ label: CATEGORY });
    await dialog.getByLabel('规格（名:值，多个用；分开）').fill('规格:500g');
    await dialog.getByLabel('售价（元）').fill('12.34');
    await dialog.getByLabel('库存').fill('7');
    await dialog.getByRole('button', { name: '创建' }).click();
    // Made: the console opens the product's page.
    await page.getByRole('heading', { name: `商品 ${TITLE}` }).waitFor({ timeout: 30_000 });
    const sku = page.locator('table.skus tbody tr').first();
    await sku.locator('td', { hasText: '¥12.34' }).waitFor({ timeout: 30_000 });
    const stock = await sku.locator('td.stock').innerText();
    if (stock.trim() !== '7') throw new Error(`stock shows ${stock}, want 7`);
  });

  await step('catalogue-3-shelf', async () => {
    // A new product is on shelf at once (the API's rule): off, then on again.
    await page.getByRole('button', { name: '下架', exact: true }).click();
    await page.locator('dd', { hasText: '已下架' }).waitFor({ timeout: 30_000 });
    const hidden = await listed(page);
    if (hidden.length !== 0) throw new Error(`off shelf but listed: ${JSON.stringify(hidden)}`);

    await page.getByRole('button', { name: '上架', exact: true }).click();
    await page.locator('dd', { hasText: '在售' }).waitFor({ timeout: 30_000 });

    const sku = page.locator('table.skus tbody tr').first();
    await sku.getByRole('button', { name: '改库存' }).click();
    await dialog.getByLabel('新的库存数').fill('9');
    await dialog.getByRole('button', { name: '保存' }).click();
    await page.locator('table.skus td.stock', { hasText: /^9$/ }).waitFor({ timeout: 30_000 });

    const shown = await listed(page);
    if (shown.length !== 1) throw new Error(`listed ${shown.length} times: ${JSON.stringify(shown)}`);
    const [p] = shown;
    if (p.status !== 'ON_SHELF' || p.minPriceFen !== 1234 || p.skus.length !== 1 || p.skus[0].priceFen !== 1234 || p.skus[0].stock !== 9) {
      throw new Error(`the shop sees ${JSON.stringify(p)}, want ON_SHELF at 1234 fen with 9 in stock`);
    }
  });

  await step('catalogue-4-hot', async () => {
    await page.getByRole('button', { name: '置顶', exact: true }).click();
    await dialog.getByRole('button', { name: '置顶' }).click();
    await page.locator('dd', { hasText: '顺位 0' }).waitFor({ timeout: 30_000 });
    const hot = (await shop(page, 'query { hotProducts(limit: 50) { title hotPin } }', {})).hotProducts;
    const mine = hot.find((p) => p.title === TITLE);
    if (!mine || mine.hotPin !== 0 || hot[0].hotPin === null) throw new Error(`hot list: ${JSON.stringify(hot)}`);
    // The 热销置顶 tab lists it.
    await page.getByRole('link', { name: '商品', exact: true }).click();
    await page.getByRole('button', { name: '热销置顶' }).click();
    await page.locator('tbody tr', { hasText: TITLE }).locator('td', { hasText: '顺位 0' }).waitFor({ timeout: 30_000 });
  });

  let firstKey;
  await step('catalogue-5-suppliers', async () => {
    await page.getByRole('link', { name: '供应商', exact: true }).click();
    await page.getByRole('heading', { name: '供应商', exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '新建供应商' }).click();
    await dialog.getByLabel('名称').fill(SUPPLIER);
    await dialog.getByLabel('联系人/电话').fill('张三 13800000000');
    await dialog.getByRole('button', { name: '创建' }).click();
    // The key, once, with its warning.
    const once = page.locator('dialog.secret-once');
    await once.waitFor({ timeout: 30_000 });
    if (!(await once.innerText()).includes('只显示这一次')) throw new Error('no warning with the key');
    firstKey = await once.getByLabel('API 密钥').inputValue();
    if (firstKey.length < 16) throw new Error(`key shown: ${firstKey}`);
    await once.getByRole('button', { name: '我已保存，关闭' }).click();
    await once.waitFor({ state: 'detached', timeout: 30_000 });
    await page.locator('tbody tr', { hasText: SUPPLIER }).waitFor({ timeout: 30_000 });
    if ((await page.content()).includes(firstKey)) throw new Error('the key is still on the page');
  });

  await step('catalogue-6-supplier-link', async () => {
    await page.getByRole('link', { name: '商品', exact: true }).click();
    await page.getByRole('link', { name: TITLE }).click();
    await page.getByRole('heading', { name: `商品 ${TITLE}` }).waitFor({ timeout: 30_000 });
    await page.locator('table.skus tbody tr').first().getByRole('button', { name: '关联供应商' }).click();
    // The dialog's one select (its name carries the option shown).
    await dialog.getByRole('combobox').selectOption({ label: SUPPLIER });
    await dialog.getByLabel('供应商的商品编码').fill('CONSOLE-SKU-1');
    await dialog.getByLabel('采购成本（元/件）').fill('8');
    await dialog.getByRole('button', { name: '保存' }).click();
    await page.locator('table.skus td.link', { hasText: SUPPLIER }).locator('text=成本 ¥8.00').waitFor({ timeout: 30_000 });

    // Found among the supplier's links; then its key rotated, shown once.
    await page.getByRole('link', { name: '供应商', exact: true }).click();
    const row = page.locator('tbody tr', { hasText: SUPPLIER });
    await row.getByRole('button', { name: 'SKU 关联' }).click();
    await page.locator('.supplier-links tr', { hasText: 'CONSOLE-SKU-1' }).locator('td', { hasText: '¥8.00' }).waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: '更换密钥' }).click();
    await dialog.getByRole('button', { name: '更换' }).click();
    const once = page.locator('dialog.secret-once');
    await once.waitFor({ timeout: 30_000 });
    const newKey = await once.getByLabel('API 密钥').inputValue();
    if (newKey.length < 16 || newKey === firstKey) throw new Error('rotation showed no new key');
    await once.getByRole('button', { name: '我已保存，关闭' }).click();
    await once.waitFor({ state: 'detached', timeout: 30_000 });
  });

  await step('catalogue-7-supplier-edit', async () => {
    const row = page.locator('tbody tr', { hasText: SUPPLIER });
    await row.getByRole('button', { name: '编辑', exact: true }).click();
    const name = dialog.getByLabel('名称');
    if ((await name.inputValue()) !== SUPPLIER) throw new Error('the edit form does not show the current name');
    if ((await dialog.getByLabel('联系人/电话').inputValue()) !== '张三 13800000000') throw new Error('the edit form lost the contact');
    await name.fill(RENAMED);
    await dialog.getByRole('button', { name: '保存' }).click();
    const renamed = page.locator('tbody tr', { hasText: RENAMED });
    await renamed.waitFor({ timeout: 30_000 });
    // The other details were sent back as they were.
    await renamed.locator('td', { hasText: '张三 13800000000' }).waitFor({ timeout: 30_000 });

    // Its webhook panel: no URL, no deliveries yet.
    await renamed.getByRole('button', { name: 'Webhook 推送' }).click();
    const panel = page.locator('section.supplier-webhook');
    await panel.getByRole('heading', { name: `「${RENAMED}」的 Webhook 推送` }).waitFor({ timeout: 30_000 });
    await panel.locator('text=未设置 Webhook 地址').waitFor({ timeout: 30_000 });
    await panel.locator('td.empty', { hasText: '没有记录' }).waitFor({ timeout: 30_000 });
    await panel.getByLabel('投递状态').selectOption('FAILED');
    await panel.locator('td.empty', { hasText: '没有记录' }).waitFor({ timeout: 30_000 });
  });
}
