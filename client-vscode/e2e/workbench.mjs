// Driving VS Code's workbench in the browser: the few gestures the e2e needs, each
// waiting for what a user would wait for. Used by run.mjs.

export function workbench(page) {
  const quickInput = ".quick-input-widget input";

  async function palette(text) {
    await page.keyboard.press("F1");
    await page.waitForSelector(quickInput, { state: "visible" });
    await page.keyboard.type(text);
    await page.waitForTimeout(500);
    await page.keyboard.press("Enter");
  }

  async function openFile(name) {
    await page.keyboard.press("Control+P");
    await page.waitForSelector(quickInput, { state: "visible" });
    await page.keyboard.type(name);
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first();
    await row.waitFor({ timeout: 30000 });
    await row.click();
    await page.waitForSelector(".monaco-editor .view-lines", { timeout: 30000 });
  }

  /** The text of the visible editor, as rendered (Monaco renders spaces as nbsp). */
  async function editorText() {
    return (await page.locator(".monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
  }

  /** The atoll status bar item's text once it is past starting and loading, or the last seen. */
  async function statusText(ms) {
    const ready = () =>
      [...document.querySelectorAll(".statusbar-item")].some(
        (el) => /atoll: (?!stopped)/.test(el.textContent ?? "") && !/loading|indexing/.test(el.textContent ?? ""),
      );
    await page.waitForFunction(ready, null, { timeout: ms }).catch(() => undefined);
    const item = page.locator(".statusbar-item", { hasText: "atoll" }).first();
    return ((await item.textContent()) ?? "").trim();
  }

  /** Toasts whose text matches `pattern` (now). */
  async function toasts(pattern) {
    const all = await page.locator(".notification-toast .notification-list-item-message").allInnerTexts();
    return all.map((t) => t.replace(/\s+/g, " ")).filter((t) => pattern.test(t));
  }

  async function waitForToast(pattern, ms) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const found = await toasts(pattern);
      if (found.length > 0) return found;
      await page.waitForTimeout(500);
    }
    return [];
  }

  async function clearToasts() {
    const close = page.locator(".notification-toast .codicon-notifications-clear, .notification-toast .codicon-close");
    while ((await close.count()) > 0) {
      await close.first().click().catch(() => undefined);
      await page.waitForTimeout(300);
    }
  }

  /** Hover `symbol` until the hover widget shows text matching `pattern` (hovers again). */
  async function hoverUntil(symbol, pattern, attempts) {
    let text = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      await page.mouse.move(0, 0);
      await page.keyboard.press("Escape");
      await page.locator(".view-line span", { hasText: new RegExp(`^${symbol}$`) }).last().hover();
      const widget = page.locator(".monaco-hover-content", { hasText: symbol }).first();
      if (await widget.waitFor({ timeout: 30000 }).then(() => true, () => false)) {
        text = (await widget.innerText()).replace(/\s+/g, " ");
        if (pattern.test(text)) return { ok: true, text };
      }
      await page.waitForTimeout(2000);
    }
    return { ok: false, text };
  }

  /** Type into the Settings UI's field for the setting described by `label` (machine scope: the Remote tab). */
  async function setSetting(search, label, value, open) {
    if (open) await palette("Preferences: Open User Settings");
    const box = page.locator(".settings-editor .suggest-input-container textarea, .settings-editor .search-container input").first();
    await box.waitFor({ timeout: 30000 });
    if (open) await box.fill(search);
    await page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Remote" }).first().click();
    const field = page.locator(".setting-item-contents", { hasText: label }).locator("input").first();
    await field.waitFor({ timeout: 30000 });
    await field.fill(value);
    await field.press("Tab");
    await page.waitForTimeout(1500);
  }

  return { palette, openFile, editorText, statusText, toasts, waitForToast, clearToasts, hoverUntil, setSetting, quickInput };
}
