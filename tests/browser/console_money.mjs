// The admin console's money pages and downloads in the browser, run by
// admin_console.mjs as the owner, before it logs out. The Rust test sets up
// through the API a promoter whose commission settled and its requested
// withdrawal, and passes them in the environment:
//   CONSOLE_WITHDRAWAL_ID  the requested withdrawal's id
//   CONSOLE_PROMOTER       the promoter's nickname
// Steps: approve the withdrawal from the queue (it leaves the pending queue),
// download the queue's CSV of paid ones (header line and the row), create a
// coupon template with its 满减 amounts typed in yuan, rename it in the edit
// dialog (read back through the API), on 会员与储值 create a plan, retire
// it and put it back on sale, open 分销
// (the promoter's withdrawn amount), 供应商结算, and download the parts to
// ship from the orders page.
import { readFileSync } from 'node:fs';

const WITHDRAWALS_HEADER =
  'withdrawal_id,promoter_id,amount_fen,to_wallet,status,requested_at,reviewed_at,finished_at,out_bill_no,failure_reason,note';
const FULFILLMENTS_HEADER =
  'fulfillment_id,order_id,order_no,supplier_id,supplier,status,cost_fen,carrier,tracking_no,created_at,shipped_at,acknowledged_at,declined_at,decline_reason';

/** Clicks `button` and answers the downloaded file's name and text. */
async function downloaded(page, button) {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), button.click()]);
  const failure = await file.failure();
  if (failure) throw new Error(`download failed: ${failure}`);
  return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
}

async function noError(page) {
  if ((await page.locator('.error').count()) > 0) throw new Error(await page.locator('.error').first().innerText());
}

export async function moneySteps(page, step, ctx) {
  const withdrawal = process.env.CONSOLE_WITHDRAWAL_ID;
  const promoter = process.env.CONSOLE_PROMOTER;
  if (!withdrawal || !promoter || !ctx.base) throw new Error('CONSOLE_WITHDRAWAL_ID and CONSOLE_PROMOTER are not set');

  await step('m1-withdrawal-approve', async () => {
    await page.getByRole('link', { name: '提现审核' }).click();
    await page.getByRole('heading', { name: '提现审核' }).waitFor({ timeout: 30_000 });
    const row = page.locator(`tr[data-id="${withdrawal}"]`);
    await row.waitFor({ timeout: 30_000 });
    const text = await row.innerText();
    if (!text.includes(promoter) || !text.includes('¥1.50') || !text.includes('待审核')) throw new Error(`the row shows ${text}`);
    await row.getByRole('button', { name: '同意' }).click();
    const dialog = page.locator('dialog.ask');
    await dialog.getByLabel('备注').fill('手工打款 CONSOLE-1');
    await dialog.getByRole('button', { name: '同意' }).click();
    // Approved and paid by hand: off the queue of requested ones.
    await row.waitFor({ state: 'detached', timeout: 30_000 });
    await noError(page);
  });

  await step('m2-withdrawals-csv', async () => {
    await page.getByLabel('状态').selectOption('PAID');
    const row = page.locator(`tr[data-id="${withdrawal}"]`, { hasText: '已打款' });
    await row.waitFor({ timeout: 30_000 });
    const { name, text } = await downloaded(page, page.getByRole('button', { name: '下载 CSV' }));
    if (!/^withdrawals-\d{4}-\d\d-\d\d\.csv$/.test(name)) throw new Error(`saved as ${name}`);
    const lines = text.trim().split('\n');
    if (lines[0] !== WITHDRAWALS_HEADER) throw new Error(`header ${lines[0]}`);
    // The list's filter (PAID): this withdrawal, and no other status.
    const mine = lines.find((l) => l.startsWith(`${withdrawal},`));
    if (!mine || !mine.includes(',150,false,PAID,') || !mine.includes('手工打款 CONSOLE-1')) throw new Error(`rows:\n${text}`);
    if (lines.slice(1).some((l) => !l.includes(',PAID,'))) throw new Error(`other statuses in:\n${text}`);
  });

  await step('m3-coupons', async () => {
    await page.getByRole('link', { name: '优惠券' }).click();
    await page.getByRole('heading', { name: '优惠券与满减' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '新建优惠券' }).click();
    const dialog = page.locator('dialog.ask');
    await dialog.getByLabel('名称').fill('控制台满减券');
    await dialog.getByLabel('满（元').fill('99');
    await dialog.getByLabel('减（元）').fill('10.5');
    await dialog.getByLabel('发放总量').fill('100');
    await dialog.getByRole('button', { name: '创建' }).click();
    const row = page.locator('tr', { hasText: '控制台满减券' });
    await row.waitFor({ timeout: 30_000 });
    const text = await row.innerText();
    if (!text.includes('满 ¥99.00 减 ¥10.50') || !text.includes('0 / 100')) throw new Error(`the row shows ${text}`);
    await noError(page);
  });

  await step('m3b-coupon-edit', async () => {
    const row = page.locator('tr', { hasText: '控制台满减券' });
    const id = await row.getAttribute('data-id');
    await row.getByRole('button', { name: '编辑' }).click();
    const dialog = page.locator('dialog.ask');
    // Nothing given yet: the terms are still in the dialog, as created.
    if ((await dialog.getByLabel('减（元）').inputValue()) !== '10.50') throw new Error('the dialog lost the amount off');
    await dialog.getByLabel('名称').fill('控制台满减券二');
    await dialog.getByRole('button', { name: '保存' }).click();
    await page.locator(`tr[data-id="${id}"]`, { hasText: '控制台满减券二' }).waitFor({ timeout: 30_000 });
    await noError(page);
    // Read back through the API: renamed, terms and total as they were.
    const t = await page.evaluate(async (id) => {
      const { request } = await import('/admin/api.js');
      const d = await request('{ couponTemplates { id name thresholdFen offFen totalQuantity validDays issuedCount usedCount } }');
      return d.couponTemplates.find((x) => x.id === id);
    }, id);
    const want = { id, name: '控制台满减券二', thresholdFen: 9900, offFen: 1050, totalQuantity: 100, validDays: 30, issuedCount: 0, usedCount: 0 };
    if (JSON.stringify(t) !== JSON.stringify(want)) throw new Error(`the API shows ${JSON.stringify(t)}`);
  });

  await step('m4-plans', async () => {
    await page.getByRole('link', { name: '会员与储值' }).click();
    await page.getByRole('heading', { name: '储值方案' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '新建会员方案' }).click();
    const dialog = page.locator('dialog.ask');
    await dialog.getByLabel('名称').fill('控制台月卡');
    await dialog.getByLabel('价格').fill('19.9');
    await dialog.getByLabel('天数').fill('30');
    await dialog.getByRole('button', { name: '创建' }).click();
    const row = page.locator('tr', { hasText: '控制台月卡' });
    await row.filter({ hasText: '在售' }).waitFor({ timeout: 30_000 });
    // Retired, it stays listed; put back on sale from the same row.
    await row.getByRole('button', { name: '停售' }).click();
    await page.locator('dialog.ask').getByRole('button', { name: '停售' }).click();
    await row.filter({ hasText: '已停售' }).waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: '恢复销售' }).click();
    await row.getByRole('button', { name: '停售' }).waitFor({ timeout: 30_000 });
    if (!(await row.innerText()).includes('在售')) throw new Error(`the row shows ${await row.innerText()}`);
    await noError(page);
  });

  await step('m5-promoters', async () => {
    await page.getByRole('link', { name: '分销' }).click();
    await page.getByRole('heading', { name: '佣金规则' }).waitFor({ timeout: 30_000 });
    await page.locator('dd', { hasText: '20%' }).waitFor({ timeout: 30_000 });
    // Settled ¥2.00 (20% of ¥10.00), ¥1.50 of it withdrawn.
    const row = page.locator('tr', { hasText: promoter });
    await row.waitFor({ timeout: 30_000 });
    const text = await row.innerText();
    if (!text.includes('¥2.00') || !text.includes('¥1.50') || !text.includes('¥0.50')) throw new Error(`the row shows ${text}`);
    await noError(page);
  });

  await step('m6-payables', async () => {
    await page.getByRole('link', { name: '供应商结算' }).click();
    await page.getByRole('heading', { name: '供应商结算' }).waitFor({ timeout: 30_000 });
    await page.locator('.figure', { hasText: '应付余额' }).waitFor({ timeout: 30_000 });
    await noError(page);
  });

  await step('m7-fulfillments-csv', async () => {
    await page.getByRole('link', { name: '订单', exact: true }).click();
    await page.getByRole('heading', { name: '订单' }).waitFor({ timeout: 30_000 });
    await page.getByLabel('发货单状态').selectOption('');
    const { text } = await downloaded(page, page.getByRole('button', { name: '下载发货单 CSV' }));
    const lines = text.trim().split('\n');
    if (lines[0] !== FULFILLMENTS_HEADER) throw new Error(`header ${lines[0]}`);
    if (lines.length < 2) throw new Error(`no rows:\n${text}`);
  });
}
