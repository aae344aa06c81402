// Drives real VS Code (code-server) in headless Chromium through playwright-core, as a user:
// wait for the selfcoder status-bar item (the extension is active), run "selfcoder: Run on a
// Typed Problem" from the command palette, wait for the diff view of the finished run, take a
// screenshot, run "selfcoder: Apply the Run's Patch", wait for the file on disk to change.
// Env: URL, CHROMIUM, PROBLEM, TARGET (the file to watch),
// SHOT_DIFF, SHOT_DONE, SHOT_FAIL (screenshot paths), RESULT (JSON written at the end;
// the shared part is vscode_page.cjs).
const fs = require('fs');
const { env, palette, drive } = require('./vscode_page.cjs');

drive(async (page, out, step) => {
  // no wait for the language server here: a command given while it starts waits for it (runs.ts)
  await palette(page, 'selfcoder: Run on a Typed Problem');
  await page.locator('.quick-input-widget', { hasText: 'what should be fixed' }).waitFor({ timeout: 60000 });
  await page.locator('.quick-input-widget input').fill(env('PROBLEM'));
  await page.keyboard.press('Enter');
  step('run started from the palette');

  // the status-bar item follows the run: wait until it leaves the running states
  const item = page.locator('.statusbar-item', { hasText: 'selfcoder' }).first();
  out.statusTexts = [];
  const until = Date.now() + 240000;
  for (;;) {
    const text = (await item.textContent()).trim();
    if (out.statusTexts[out.statusTexts.length - 1] !== text) out.statusTexts.push(text);
    if (/selfcoder: (resolved|failed|cancelled|error|applied|discarded|no_patch|budget)/.test(text)) break;
    if (Date.now() > until) throw new Error('the run did not finish');
    await page.waitForTimeout(250);
  }
  const diffTab = page.locator('.tab', { hasText: 'selfcoder run' }).first();
  await diffTab.waitFor({ timeout: 60000 });
  await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 60000 });
  await page.locator('.monaco-diff-editor .line-insert, .monaco-diff-editor .char-insert').first()
    .waitFor({ timeout: 60000 }); // the diff decorations painted
  out.diffTab = (await diffTab.textContent()).trim();
  out.diffEditors = await page.locator('.monaco-diff-editor').count();
  out.inserted = await page.locator('.monaco-diff-editor .line-insert, .monaco-diff-editor .char-insert').count();
  await page.screenshot({ path: env('SHOT_DIFF') });
  step('diff view shown');

  const target = env('TARGET');
  const before = fs.readFileSync(target, 'utf8');
  await palette(page, "selfcoder: Apply the Run's Patch");
  const deadline = Date.now() + 120000;
  while (fs.readFileSync(target, 'utf8') === before) {
    if (Date.now() > deadline) throw new Error(`${target} did not change on disk after Apply`);
    await page.waitForTimeout(250);
  }
  await page.locator('.statusbar-item', { hasText: 'selfcoder: applied' }).first().waitFor({ timeout: 60000 });
  await page.screenshot({ path: env('SHOT_DONE') });
  step('applied and saved');
});
