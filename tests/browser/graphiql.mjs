// GraphiQL in a real browser: Debian's Chromium driven by playwright-core
// (never a browser of Playwright's own). Run by tests/api/graphiql.rs:
//
//   node graphiql.mjs <server base URL> <text the query's answer must hold>
//
// Passes (exit 0) when the page at /graphql renders GraphiQL from the
// server's own files (nothing requested from anywhere else), the docs
// explorer lists the Query root type (introspection works), and a query
// typed into the editor runs and shows the expected data.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, expected] = process.argv.slice(2);
if (!base || !expected) {
  console.error('usage: node graphiql.mjs <base URL> <expected text>');
  process.exit(2);
}
const QUERY = '{ categories { name } }';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // This machine's network is closed: no background traffic, no sandbox
  // (tests run as root), no GPU.
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
  const page = await browser.newPage();
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(base) && !url.startsWith('data:')) {
      problems.push(`requested from elsewhere: ${url}`);
    }
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });

  const step = async (name, fn) => {
    try {
      return await fn();
    } catch (e) {
      const shot = join(tmpdir(), 'siyu-graphiql-failure.png');
      await page.screenshot({ path: shot }).catch(() => {});
      const text = await page.locator('body').innerText().catch(() => '');
      throw new Error(`${name}: ${e.message}\npage text: ${text.slice(0, 2000)}\nscreenshot: ${shot}`);
    }
  };

  await step('the page renders GraphiQL', async () => {
    await page.goto(`${base}/graphql`, { waitUntil: 'load' });
    await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });
  });

  await step('the docs explorer lists Query', async () => {
    await page.getByRole('button', { name: /documentation explorer/i }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByText('Query', { exact: true }).first().waitFor({ timeout: 30_000 });
  });

  await step('a query runs and returns data', async () => {
    await page.evaluate((q) => {
      document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q);
    }, QUERY);
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(
      (want) => {
        const cm = document.querySelector('.graphiql-response .CodeMirror');
        return cm && cm.CodeMirror.getValue().includes(want);
      },
      expected,
      { timeout: 30_000 },
    );
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
console.log('GraphiQL rendered, listed Query and ran a query');
