// The admin console in a real browser: Debian's Chromium driven by
// playwright-core. Run by tests/api/admin_console.rs:
//
//   node admin_console.mjs <base URL> <username> <password> <orderNo> <screenshot dir> <orderNo to ship> <orderNo with an after-sale>
//
// Passes (exit 0) when an admin signs in at /admin, the dashboard renders
// its figures and SVG charts with a GMV above zero, the refund queue shows
// the order's pending refund and approving it takes it off the queue, the
// order's page shows the refund, a requested after-sale is approved from its
// queue, another order's self-operated part ships
// from its page, an expiring token is refreshed, the owner creates a
// customer-service account on the staff page and finds it in the audit log
// (its password redacted), logging out returns to the login form, and the
// new account's menu has its queues but not withdrawals, staff or the log;
// money pages and downloads run from console_money.mjs before logging out;
// customer service sees no ship button on an order with a part to ship;
// with nothing requested from elsewhere, no page error, no console error
// (a CSP violation is one) and a screenshot of each page.
// Catalogue (console_catalogue.mjs, before logging out): a product made, shelved, stocked, pinned and linked to a new supplier, the shop seeing it at 1234 fen; the supplier's key shown once.
// Customer operations (detail, ledger, tags, segment, campaign, RFM grid): console_customers.mjs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { catalogueSteps } from './console_catalogue.mjs';
import { customerSteps } from './console_customers.mjs';
import { moneySteps } from './console_money.mjs';

const [base, username, password, orderNo, shots, toShip, afterSale] = process.argv.slice(2);
if (!afterSale) {
  console.error('usage: node admin_console.mjs <base URL> <username> <password> <orderNo> <screenshot dir> <orderNo to ship> <orderNo with an after-sale>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const problems = [];
try {
  // A narrow laptop screen.
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) {
      problems.push(`requested from elsewhere: ${r.url()}`);
    }
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });

  const step = async (name, fn) => {
    try {
      await fn();
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    } catch (e) {
      await page.screenshot({ path: join(shots, `${name}-failed.png`), fullPage: true }).catch(() => {});
      const text = await page.locator('body').innerText().catch(() => '');
      throw new Error(`${name}: ${e.message}\npage text: ${text.slice(0, 2000)}`);
    }
  };

  await step('1-login', async () => {
    await page.goto(`${base}/admin`, { waitUntil: 'load' });
    // The yuan/fen conversion, on its edge cases, in the module the page uses.
    const wrong = await page.evaluate(async () => {
      const { parseYuan, yuan } = await import('/admin/util.js');
      const bad = [];
      const parsed = {
        '0': 0, '0.01': 1, '0.07': 7, '0.1': 10, '12': 1200, '12.': 1200, '12.5': 1250,
        '19.99': 1999, '1,234.56': 123456, ' 8.88 ': 888, '9999999999.99': 999999999999, '': null,
      };
      for (const [text, fen] of Object.entries(parsed)) {
        const got = parseYuan(text);
        if (got !== fen) bad.push(`parseYuan(${JSON.stringify(text)}) = ${got}, want ${fen}`);
      }
      for (const text of ['1.234', '-1', 'abc', '1e3', '.5', '0x10', '1.2.3', '¥1']) {
        try {
          bad.push(`parseYuan(${JSON.stringify(text)}) = ${parseYuan(text)}, want an error`);
        } catch {
          // refused, as it should be
        }
      }
      const shown = { 0: '¥0.00', 5: '¥0.05', 100: '¥1.00', 1999: '¥19.99', '-5': '-¥0.05', 123456789: '¥1,234,567.89' };
      for (const [fen, text] of Object.entries(shown)) {
        if (yuan(Number(fen)) !== text) bad.push(`yuan(${fen}) = ${yuan(Number(fen))}, want ${text}`);
      }
      if (yuan(null) !== '—') bad.push('yuan(null)');
      return bad;
    });
    if (wrong.length > 0) throw new Error(wrong.join('\n'));
    await page.getByLabel('用户名').fill(username);
    await page.getByLabel('密码').fill(password);
  });

  await step('2-dashboard', async () => {
    await page.getByRole('button', { name: '登录' }).click();
    await page.locator('.figures .figure').first().waitFor({ timeout: 30_000 });
    const charts = await page.locator('svg.chart').count();
    if (charts < 5) throw new Error(`${charts} charts, want 5`);
    const bars = await page.locator('svg.chart rect.bar').count();
    if (bars < 30) throw new Error(`${bars} bars, want a column per day and the funnel's`);
    const gmv = await page.locator('.figure', { hasText: 'GMV' }).locator('.value').innerText();
    if (!/^¥[\d,]+\.\d\d$/.test(gmv) || gmv === '¥0.00') throw new Error(`GMV shows ${gmv}`);
  });

  await step('3-refund-queue', async () => {
    await page.getByRole('link', { name: '退款队列' }).click();
    const row = page.locator('tr', { hasText: orderNo });
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: '同意' }).click();
    await row.waitFor({ state: 'detached', timeout: 30_000 });
  });

  await step('3b-after-sale-queue', async () => {
    await page.getByRole('button', { name: '售后队列' }).click();
    const row = page.locator('tr', { hasText: afterSale });
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: '同意' }).click();
    // The whole amount: the amount field left empty.
    await page.locator('dialog.ask').getByRole('button', { name: '同意' }).click();
    await row.waitFor({ state: 'detached', timeout: 30_000 });
  });

  await step('4-order', async () => {
    await page.getByRole('link', { name: '订单', exact: true }).click();
    await page.getByRole('link', { name: orderNo }).click();
    await page.getByRole('heading', { name: `订单 ${orderNo}` }).waitFor({ timeout: 30_000 });
    const refunds = page.locator('h3', { hasText: '退款申请' }).locator('xpath=following-sibling::div[1]');
    await refunds.locator('td', { hasText: /已退款|退款中/ }).first().waitFor({ timeout: 30_000 });
    // What paid it: the demo store's payment with its transaction id.
    const payments = page.locator('h3', { hasText: '支付记录' }).locator('xpath=following-sibling::div[1]');
    await payments.locator('tbody tr', { hasText: '演示支付' }).first().waitFor({ timeout: 30_000 });
  });

  await step('5-ship', async () => {
    await page.getByRole('link', { name: '← 订单列表' }).click();
    await page.getByRole('link', { name: toShip }).click();
    await page.getByRole('heading', { name: `订单 ${toShip}` }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '发货', exact: true }).click();
    const dialog = page.locator('dialog.ask');
    await dialog.getByLabel('快递公司').fill('顺丰');
    await dialog.getByLabel('运单号').fill('SF-CONSOLE-1');
    await dialog.getByRole('button', { name: '发货' }).click();
    await page.locator('td', { hasText: 'SF-CONSOLE-1' }).waitFor({ timeout: 30_000 });
    await page.locator('td', { hasText: '已发货' }).first().waitFor({ timeout: 30_000 });
  });

  await step('6-withdrawals', async () => {
    // An access token about to expire is exchanged through refreshToken
    // before the next request, which then succeeds.
    const before = await page.evaluate(() => {
      const key = 'siyu.admin.session';
      const s = JSON.parse(sessionStorage.getItem(key));
      sessionStorage.setItem(key, JSON.stringify({ ...s, expiresAt: new Date(0).toISOString() }));
      return s.refreshToken;
    });
    await page.getByRole('link', { name: '提现审核' }).click();
    await page.waitForFunction(
      (old) => JSON.parse(sessionStorage.getItem('siyu.admin.session')).refreshToken !== old,
      before,
      { timeout: 30_000 },
    );
    await page.getByRole('heading', { name: '提现审核' }).waitFor({ timeout: 30_000 });
    await page.locator('.list tbody tr').first().waitFor({ timeout: 30_000 });
    if ((await page.locator('.error').count()) > 0) throw new Error(await page.locator('.error').first().innerText());
  });

  await step('7-customers', async () => {
    await page.getByRole('link', { name: '客户' }).click();
    await page.getByRole('heading', { name: '客户' }).waitFor({ timeout: 30_000 });
    // The test's buyer, who has placed orders.
    await page.locator('tbody tr', { hasText: '¥' }).first().waitFor({ timeout: 30_000 });
    if ((await page.locator('.error').count()) > 0) throw new Error(await page.locator('.error').first().innerText());
  });

  await step('7b-staff', async () => {
    await page.getByRole('link', { name: '员工' }).click();
    await page.getByRole('heading', { name: '员工账号' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '新建员工' }).click();
    const dialog = page.locator('dialog.ask');
    await dialog.getByLabel('用户名').fill('console-service');
    await dialog.getByLabel('密码（12 位以上）').fill('console-service-pw');
    await dialog.getByLabel('角色').selectOption('CUSTOMER_SERVICE');
    await dialog.getByRole('button', { name: '创建' }).click();
    await page.locator('tr', { hasText: 'console-service' }).locator('td', { hasText: '客服' }).waitFor({ timeout: 30_000 });
  });

  await step('7c-audit', async () => {
    await page.getByRole('link', { name: '操作日志' }).click();
    await page.getByRole('heading', { name: '操作日志' }).waitFor({ timeout: 30_000 });
    const row = page.locator('tr', { hasText: 'createStaff' });
    await row.first().waitFor({ timeout: 30_000 });
    const args = await row.first().locator('code.args').innerText();
    if (!args.includes('[redacted]') || args.includes('console-service-pw')) throw new Error(`arguments shown: ${args}`);
    await page.locator('td', { hasText: 'approveRefund' }).first().waitFor({ timeout: 30_000 });
  });

  await catalogueSteps(page, step, { base });
  await customerSteps(page, step, { base });
  await moneySteps(page, step, { base });

  await step('8-logout', async () => {
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByLabel('密码').waitFor({ timeout: 30_000 });
  });

  await step('9-service-role', async () => {
    // Customer service sees its queues, not withdrawals, staff or the log.
    await page.getByLabel('用户名').fill('console-service');
    await page.getByLabel('密码').fill('console-service-pw');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('link', { name: '退款队列' }).waitFor({ timeout: 30_000 });
    for (const hidden of ['提现审核', '员工', '操作日志']) {
      if ((await page.getByRole('link', { name: hidden, exact: true }).count()) > 0) throw new Error(`${hidden} shown to customer service`);
    }
    await page.getByRole('link', { name: '售后队列' }).waitFor({ timeout: 30_000 });
    // Its dashboard reads as the owner's does.
    await page.locator('.figures .figure').first().waitFor({ timeout: 30_000 });
    // Shipping is OPERATIONS': an order with a part to ship shows no ship button.
    await page.goto(`${base}/admin#/orders/${encodeURIComponent(process.env.CONSOLE_UNSHIPPED_ORDER_ID)}`);
    await page.locator('td', { hasText: '待发货' }).first().waitFor({ timeout: 30_000 });
    if ((await page.getByRole('button', { name: '发货', exact: true }).count()) > 0) throw new Error('a ship button shown to customer service');
  });
} catch (e) {
  problems.unshift(e.message);
} finally {
  await browser.close();
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`the console worked in Chromium; screenshots in ${shots}`);
