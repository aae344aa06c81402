// Bad input in real VS Code (code-server), as a user meets it — one workbench for all the cases:
// 1. the server setting names a path that does not exist: one error notification naming it, read
//    off the screen (the folder's own .vscode/settings.json names another server; it must not run);
// 2. the editor stays usable: the palette opens "selfcoder: Show the Transcript", which holds the
//    same message;
// 3. a file outside the workspace folder, opened by its path (Go to File), then "selfcoder: Run on
//    This File": the message saying it is outside every workspace folder.
// Env: URL, CHROMIUM, OUTSIDE (the loose file), SHOT (a screenshot at the end), SHOT_FAIL, RESULT.
const { env, palette, drive } = require('./vscode_page.cjs');

const toasts = (page) => page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();

drive(async (page, out, step) => {
  await page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'language server not found' })
    .first().waitFor({ timeout: 60000 });
  await page.waitForTimeout(2000); // an absence check (no second message from a retry or restart): only time can show it
  out.startNotifications = await toasts(page);
  step('missing server: notification');

  await palette(page, 'selfcoder: Show the Transcript');
  const transcript = page.locator('.part.panel .view-lines', { hasText: 'language server not found' }).first();
  await transcript.waitFor({ timeout: 60000 });
  out.transcript = await transcript.innerText();
  step('palette still works: transcript shown');

  const outside = env('OUTSIDE');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 60000 });
  await input.fill(outside); // no ">": Go to File, which opens an absolute path
  const name = outside.split('/').pop();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 60000 });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 60000 });
  step('outside file opened');

  await palette(page, 'selfcoder: Run on This File');
  await page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'outside every workspace folder' })
    .first().waitFor({ timeout: 60000 });
  await page.waitForTimeout(500); // an absence check (no other notification, no input box): only time can show it
  out.outsideNotifications = await toasts(page);
  out.quickInputOpen = await page.locator('.quick-input-widget').isVisible(); // no problem asked for
  await page.screenshot({ path: env('SHOT') });
  step('outside file: notification');
});
