// Drives real VS Code (code-server) in headless Chromium through playwright-core, as a user:
// wait for the selfcoder status-bar item (the extension is active), run "selfcoder: Run on a
// Typed Problem" from the command palette, wait for the diff view of the finished run, take a
// screenshot, run "selfcoder: Apply the Run's Patch", wait for the file on disk to change.
// Env: URL, CHROMIUM, PROBLEM, TARGET (the file to watch),
// SHOT_DIFF, SHOT_DONE, SHOT_FAIL (screenshot paths), RESULT (JSON written at the end).
const fs = require('fs');
const { chromium } = require('playwright-core');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const out = { steps: [] };
const step = (what) => { out.steps.push(what); console.log(`e2e: ${what}`); };

async function palette(page, command) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 20000 });
  await input.fill(`>${command}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor({ timeout: 20000 });
  await page.keyboard.press('Enter');
}

let page;
async function main() {
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'], // a fresh profile each launch
  });
  try {
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('console', (m) => { if (m.type() === 'error') out.consoleErrors = (out.consoleErrors || 0) + 1; });
    await page.goto(env('URL'), { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    step('workbench loaded');
    await page.locator('.statusbar-item', { hasText: 'selfcoder' }).first().waitFor({ timeout: 60000 });
    step('extension active (status-bar item)');
    await page.waitForTimeout(1000); // the language server's initialize round trip

    await palette(page, 'selfcoder: Run on a Typed Problem');
    await page.locator('.quick-input-widget', { hasText: 'what should be fixed' }).waitFor({ timeout: 20000 });
    await page.locator('.quick-input-widget input').fill(env('PROBLEM'));
    await page.keyboard.press('Enter');
    step('run started from the palette');

    // the status-bar item follows the run: wait until it leaves the running states
    const item = page.locator('.statusbar-item', { hasText: 'selfcoder' }).first();
    out.statusTexts = [];
    const until = Date.now() + 150000;
    for (;;) {
      const text = (await item.textContent()).trim();
      if (out.statusTexts[out.statusTexts.length - 1] !== text) out.statusTexts.push(text);
      if (/selfcoder: (resolved|failed|cancelled|error|applied|discarded|no_patch|budget)/.test(text)) break;
      if (Date.now() > until) throw new Error('the run did not finish');
      await page.waitForTimeout(250);
    }
    const diffTab = page.locator('.tab', { hasText: 'selfcoder run' }).first();
    await diffTab.waitFor({ timeout: 30000 });
    await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 30000 });
    await page.waitForTimeout(1500); // let the diff decorations paint
    out.diffTab = (await diffTab.textContent()).trim();
    out.diffEditors = await page.locator('.monaco-diff-editor').count();
    out.inserted = await page.locator('.monaco-diff-editor .line-insert, .monaco-diff-editor .char-insert').count();
    await page.screenshot({ path: env('SHOT_DIFF') });
    step('diff view shown');

    const target = env('TARGET');
    const before = fs.readFileSync(target, 'utf8');
    await palette(page, "selfcoder: Apply the Run's Patch");
    const deadline = Date.now() + 60000;
    while (fs.readFileSync(target, 'utf8') === before) {
      if (Date.now() > deadline) throw new Error(`${target} did not change on disk after Apply`);
      await page.waitForTimeout(250);
    }
    await page.locator('.statusbar-item', { hasText: 'selfcoder: applied' }).first().waitFor({ timeout: 30000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: env('SHOT_DONE') });
    step('applied and saved');
  } catch (e) {
    out.notifications = await page.locator('.notification-list-item-message').allInnerTexts().catch(() => []);
    await page.screenshot({ path: env('SHOT_FAIL') }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => { out.error = String(e && e.stack || e); }).finally(() => {
  fs.writeFileSync(env('RESULT'), JSON.stringify(out));
});
