// What the VS Code drivers (vscode_e2e.cjs, vscode_bad_input.cjs) share: headless Chromium on a
// fresh profile, the workbench loaded and the selfcoder extension active, and the command palette
// as a user works it. Env: URL (the workbench), CHROMIUM, RESULT (where the JSON result goes).
const fs = require('fs');
const { chromium } = require('playwright-core');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

/** F1, type `>command`, wait for it in the list, Enter. */
async function palette(page, command) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 60000 });
  await input.fill(`>${command}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor({ timeout: 60000 });
  await page.keyboard.press('Enter');
}

/** Run body(page, out, step) in the loaded workbench with the extension active; out goes to $RESULT
 * as JSON, with `error` (and the notifications on screen, and a screenshot at $SHOT_FAIL) on a failure. */
function drive(body) {
  const out = { steps: [] };
  const step = (what) => { out.steps.push(what); console.log(`driver: ${what}`); };
  let browser, page;
  (async () => {
    browser = await chromium.launch({
      executablePath: env('CHROMIUM'),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'], // a fresh profile each launch
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('console', (m) => { if (m.type() === 'error') out.consoleErrors = (out.consoleErrors || 0) + 1; });
    await page.goto(env('URL'), { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    step('workbench loaded');
    await page.locator('.statusbar-item', { hasText: 'selfcoder' }).first().waitFor({ timeout: 60000 });
    step('extension active (status-bar item)');
    await body(page, out, step);
  })().catch(async (e) => {
    out.error = String((e && e.stack) || e);
    if (page) {
      out.notifications = await page.locator('.notification-list-item-message').allInnerTexts().catch(() => []);
      if (process.env.SHOT_FAIL) await page.screenshot({ path: process.env.SHOT_FAIL }).catch(() => {});
    }
  }).finally(async () => {
    if (browser) await browser.close().catch(() => {});
    fs.writeFileSync(env('RESULT'), JSON.stringify(out));
  });
}

module.exports = { env, palette, drive };
