// Customer operations in the admin console, run by admin_console.mjs as the
// owner (right before it logs out). Data from tests/api/admin_console.rs in
// the environment: CONSOLE_BUYER_ID (the test's buyer, with paid orders),
// CONSOLE_COUPON_TEMPLATE_ID and CONSOLE_COUPON_TEMPLATE (a store-issued
// template's id and name, made through the API: this slice builds no
// template pages).
//
// Finds the buyer through the list's order filter and opens its page
// (figures, ledger), credits its wallet and sees the ledger row, tags it,
// sees an over-large debit refused with the API's message and code,
// saves a segment of customers with at least one order and sees its count
// above zero and its customers, finds the tag's customers, issues the
// template to that segment and sees how many got it and the campaign in the
// record, sees the RFM grid (the server's rfmGrid) with the buyers counted
// and a cell's customers, as many as the cell says and the list's total,
// and, signed in as a finance account in another tab, the wallet
// adjustment but no tag, coupon or segment buttons.

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

async function noErrors(page) {
  if ((await page.locator('.error').count()) > 0) throw new Error(await page.locator('.error').first().innerText());
}

export async function customerSteps(page, step, ctx) {
  const buyerId = env('CONSOLE_BUYER_ID');
  const templateId = env('CONSOLE_COUPON_TEMPLATE_ID');
  const templateName = env('CONSOLE_COUPON_TEMPLATE');
  const segmentName = 'console-下过单';
  if (!ctx.base) throw new Error('no base URL');

  await step('c1-customer', async () => {
    await page.getByRole('link', { name: '客户', exact: true }).click();
    await page.getByRole('heading', { name: '客户', exact: true }).waitFor({ timeout: 30_000 });
    await page.getByLabel('订单数 ≥', { exact: true }).fill('1');
    await page.getByRole('button', { name: '筛选' }).click();
    await page.locator(`tr[data-id="${buyerId}"] td a`).first().click();
    await page.getByRole('heading', { name: /^客户 / }).waitFor({ timeout: 30_000 });
    const orders = await page.locator('.figure', { hasText: '订单数' }).locator('.value').innerText();
    if (!(Number(orders) >= 1)) throw new Error(`订单数 shows ${orders}`);
    const clv = await page.locator('.figure', { hasText: 'CLV' }).locator('.value').innerText();
    if (!/^¥[\d,]+\.\d\d$/.test(clv) || clv === '¥0.00') throw new Error(`CLV shows ${clv}`);
    await page.locator('.ledger').waitFor({ timeout: 30_000 });
    // The ledger's rows are the API's cursor pages; a credit adds one.
    await page.getByRole('button', { name: '调整余额' }).click();
    const dialog = page.locator('dialog.ask');
    await dialog.getByLabel('方向').selectOption('credit');
    await dialog.getByLabel('金额（元）').fill('12.34');
    await dialog.getByLabel('原因').fill('console 补偿');
    await dialog.getByRole('button', { name: '调整' }).click();
    const row = page.locator('.ledger tr', { hasText: 'console 补偿' });
    await row.waitFor({ timeout: 30_000 });
    if (!(await row.innerText()).includes('¥12.34')) throw new Error(`ledger row: ${await row.innerText()}`);
    await page.locator('.figure', { hasText: '钱包余额' }).locator('.value', { hasText: '¥12.34' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '添加标签' }).click();
    await dialog.getByLabel(/^标签/).fill('高价值');
    await dialog.getByRole('button', { name: '添加' }).click();
    await page.locator('.tags .tag', { hasText: '高价值' }).waitFor({ timeout: 30_000 });
    await noErrors(page);
    // A refused action shows the API's message and code, and changes nothing.
    await page.getByRole('button', { name: '调整余额' }).click();
    await dialog.getByLabel('方向').selectOption('debit');
    await dialog.getByLabel('金额（元）').fill('100');
    await dialog.getByLabel('原因').fill('console 扣减过多');
    await dialog.getByRole('button', { name: '调整' }).click();
    const error = page.locator('.error', { hasText: '(INSUFFICIENT_BALANCE)' });
    await error.waitFor({ timeout: 30_000 });
    if (!(await error.innerText()).includes('below zero')) throw new Error(`error shown: ${await error.innerText()}`);
    await page.locator('.figure', { hasText: '钱包余额' }).locator('.value', { hasText: '¥12.34' }).waitFor({ timeout: 30_000 });
    // The refused form opens again as it was typed; cancelled, it starts empty.
    await page.getByRole('button', { name: '调整余额' }).click();
    const kept = [
      await dialog.getByLabel('方向').inputValue(),
      await dialog.getByLabel('金额（元）').inputValue(),
      await dialog.getByLabel('原因').inputValue(),
    ];
    if (kept.join('|') !== 'debit|100|console 扣减过多') throw new Error(`the refused form reopened as ${kept}`);
    await dialog.getByRole('button', { name: '取消' }).click();
    await page.getByRole('button', { name: '调整余额' }).click();
    const fresh = await dialog.getByLabel('金额（元）').inputValue();
    if (fresh !== '') throw new Error(`a cancelled form reopened with ${fresh}`);
    await dialog.getByRole('button', { name: '取消' }).click();
  });

  await step('c2-segment', async () => {
    await page.getByRole('link', { name: '人群', exact: true }).click();
    await page.getByRole('heading', { name: '人群', exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '新建人群' }).click();
    const form = page.locator('form.segment-form');
    await form.getByLabel('人群名称').fill(segmentName);
    await form.getByLabel('订单数 ≥', { exact: true }).fill('1');
    await form.getByRole('button', { name: '保存人群' }).click();
    const count = page.locator('tr', { hasText: segmentName }).locator('td.count');
    await count.waitFor({ timeout: 30_000 });
    const n = Number(await count.innerText());
    if (!(n > 0)) throw new Error(`the segment holds ${n}`);
    // Its customers: the list under the segment's filter.
    await page.locator('tr', { hasText: segmentName }).getByRole('link', { name: '查看客户' }).click();
    await page.locator(`tr[data-id="${buyerId}"]`).waitFor({ timeout: 30_000 });
    if ((await page.getByLabel('订单数 ≥', { exact: true }).inputValue()) !== '1') throw new Error('the filter is not filled');
    await noErrors(page);
  });

  await step('c2b-tags', async () => {
    await page.getByRole('link', { name: '标签', exact: true }).click();
    await page.getByRole('heading', { name: '客户标签' }).waitFor({ timeout: 30_000 });
    const row = page.locator('tr', { hasText: '高价值' });
    await row.waitFor({ timeout: 30_000 });
    if ((await row.locator('td.num').innerText()) !== '1') throw new Error(`tag row: ${await row.innerText()}`);
    await row.getByRole('link', { name: '高价值' }).click();
    await page.locator(`tr[data-id="${buyerId}"]`).waitFor({ timeout: 30_000 });
    await noErrors(page);
  });

  await step('c3-campaign', async () => {
    await page.getByRole('link', { name: '营销活动', exact: true }).click();
    const form = page.locator('form.campaign-form');
    await form.waitFor({ timeout: 30_000 });
    await form.getByLabel('优惠券模板').selectOption(templateId);
    const segment = await form.locator('select[name=segment] option', { hasText: segmentName }).getAttribute('value');
    await form.getByLabel('发给').selectOption(segment);
    await form.getByRole('button', { name: '发放' }).click();
    const ok = form.locator('.campaign-result .ok');
    await ok.waitFor({ timeout: 30_000 });
    const m = /发放「(.+)」(\d+) 张/.exec(await ok.innerText());
    if (!m || m[1] !== templateName || !(Number(m[2]) > 0)) throw new Error(`issued: ${await ok.innerText()}`);
    // The template's table follows: as many given out as the answer said.
    await page.locator(`tr[data-id="${templateId}"] td.given`, { hasText: new RegExp(`^${m[2]}$`) }).waitFor({ timeout: 30_000 });
    // The campaign record: this segment, as many as issued.
    const record = page.locator('.campaign-history tr', { hasText: segmentName }).first();
    await record.waitFor({ timeout: 30_000 });
    if ((await record.locator('td.issued').innerText()) !== m[2]) throw new Error(`campaign record: ${await record.innerText()}`);
    await noErrors(page);
  });

  await step('c4-rfm', async () => {
    // The grid is what the jobs loop last counted (tests run no loop): the
    // owner runs the jobs now, after the refund and after-sale steps
    // changed the buyer's figures, as the loop would within a minute.
    const ran = await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('siyu.admin.session'));
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.accessToken}` },
        body: JSON.stringify({ query: 'mutation { runOrderJobs }' }),
      });
      return res.json();
    });
    if (!ran.data || ran.data.runOrderJobs !== true) throw new Error(JSON.stringify(ran));
    await page.getByRole('link', { name: 'RFM', exact: true }).click();
    await page.locator('.rfm-read').waitFor({ timeout: 30_000 });
    const cells = page.locator('svg.rfm-grid a.rfm-cell');
    if ((await cells.count()) !== 25) throw new Error(`${await cells.count()} cells, want 5 × 5`);
    const counts = await cells.evaluateAll((as) => as.map((a) => Number(a.getAttribute('data-count'))));
    if (counts.reduce((a, b) => a + b, 0) < 1) throw new Error(`no buyer counted: ${counts}`);
    await noErrors(page);
  });

  await step('c5-rfm-cell', async () => {
    // A cell with buyers links to the customers list of that cell.
    const cell = page.locator('svg.rfm-grid a.rfm-cell:not([data-count="0"])').first();
    const [r, f, n] = await Promise.all(['data-r', 'data-f', 'data-count'].map((a) => cell.getAttribute(a)));
    await cell.click();
    await page.locator('.rfm-note').waitFor({ timeout: 30_000 });
    await page.locator('tbody tr[data-id]').first().waitFor({ timeout: 30_000 });
    await noErrors(page);
    const scores = [await page.locator('select[name=rScore]').inputValue(), await page.locator('select[name=fScore]').inputValue()];
    if (scores.join() !== `${r},${f}`) throw new Error(`the list's scores ${scores}, the cell's ${r},${f}`);
    // Every customer of the cell, each with the cell's scores.
    const codes = await page.locator('tbody tr[data-id] td:nth-child(4)').allInnerTexts();
    if (codes.length !== Number(n) || codes.some((c) => !c.startsWith(`${r}${f}`))) throw new Error(`cell ${r}${f} (${n}) lists ${codes}`);
    // The list's totalCount is the cell's count.
    const total = await page.locator('p.total').getAttribute('data-count');
    if (total !== n) throw new Error(`the list's total ${total}, the cell's ${n}`);
  });

  await step('c6-finance-role', async () => {
    // Another role in its own browser context: a finance account,
    // made through the API with the owner's token, may adjust a wallet but
    // not tag, issue coupons or save segments, and sees none of those buttons.
    const made = await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('siyu.admin.session'));
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.accessToken}` },
        body: JSON.stringify({
          query: 'mutation($i: StaffInput!) { createStaff(input: $i) { role } }',
          variables: { i: { username: 'console-finance', password: 'console-finance-pw', role: 'FINANCE' } },
        }),
      });
      return res.json();
    });
    if (!made.data || made.data.createStaff.role !== 'FINANCE') throw new Error(JSON.stringify(made));
    const other = await page.context().browser().newPage({ viewport: { width: 1024, height: 700 } });
    const problems = [];
    other.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    other.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    try {
      await other.goto(`${ctx.base}/admin#/customers/${encodeURIComponent(buyerId)}`, { waitUntil: 'load' });
      await other.getByLabel('用户名').fill('console-finance');
      await other.getByLabel('密码').fill('console-finance-pw');
      await other.getByRole('button', { name: '登录' }).click();
      await other.getByRole('heading', { name: /^客户 / }).waitFor({ timeout: 30_000 });
      await other.getByRole('button', { name: '调整余额' }).waitFor({ timeout: 30_000 });
      for (const hidden of ['添加标签', '发优惠券', '×']) {
        if ((await other.getByRole('button', { name: hidden, exact: true }).count()) > 0) throw new Error(`${hidden} shown to finance`);
      }
      await other.getByRole('link', { name: '人群', exact: true }).click();
      await other.locator('tr', { hasText: segmentName }).waitFor({ timeout: 30_000 });
      if ((await other.getByRole('button', { name: '新建人群' }).count()) > 0) throw new Error('新建人群 shown to finance');
      await other.getByRole('link', { name: '营销活动', exact: true }).click();
      await other.getByRole('heading', { name: '优惠券模板' }).waitFor({ timeout: 30_000 });
      if ((await other.locator('form.campaign-form').count()) > 0) throw new Error('the campaign form shown to finance');
      if (problems.length > 0) throw new Error(problems.join('\n'));
    } finally {
      await other.close();
    }
  });
}
