// Real VS Code e2e: code-server 4.100 (VS Code 1.100) with the built atoll.vsix, driven
// headless by Playwright and Debian's Chromium. Opens a file, waits for the atoll status
// bar item, shows an inline suggestion, hovers a symbol, and runs "atoll: Delegate to AI
// crew…". Not part of `make test` (slow, needs code-server): `make -C client-vscode e2e`.
//
// Env: E2E_DEPS (folder whose node_modules has code-server and playwright-core),
// ATOLL_PYTHON (interpreter with atoll), CHROMIUM (default /usr/bin/chromium), E2E_OUT.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = path.resolve(here, "..");
const repo = path.resolve(clientDir, "..");
const deps = process.env.E2E_DEPS ?? path.join(here, ".deps");
const require = createRequire(path.join(deps, "package.json"));
const { chromium } = require("playwright-core");
const codeServer = path.join(deps, "node_modules", ".bin", "code-server");
const python = process.env.ATOLL_PYTHON ?? path.join(repo, ".venv", "bin", "python");
const vsix = path.join(clientDir, "atoll.vsix");
const out = process.env.E2E_OUT ?? path.join(here, "out");
fs.mkdirSync(out, { recursive: true });

const results = {};
function step(name, ok, detail = "") {
  results[name] = { ok, detail };
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
}

async function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok || res.status === 302) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer in ${ms} ms`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-cs-"));
const userData = path.join(tmp, "user-data");
const extensions = path.join(tmp, "extensions");
const workspace = path.join(tmp, "ws");
fs.cpSync(path.join(repo, "samples", "workspace"), workspace, { recursive: true });
fs.mkdirSync(path.join(userData, "User"), { recursive: true });
fs.writeFileSync(
  path.join(userData, "User", "settings.json"),
  JSON.stringify({
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoUpdate": false,
    "editor.inlineSuggest.enabled": true,
    "editor.hover.delay": 100,
    "atoll.python": python,
    "atoll.hover.waitMs": 20000,
    "atoll.hover.timeBudgetMs": 20000,
    // The machine running this is small and shared: no dropped suggestions.
    "atoll.completion.timeBudgetMs": 30000,
  }),
);
const common = ["--config", path.join(tmp, "code-server.yaml"), "--auth", "none", "--disable-telemetry", "--disable-update-check", "--user-data-dir", userData, "--extensions-dir", extensions];
const install = spawnSync(codeServer, [...common, "--install-extension", vsix], { encoding: "utf8" });
step("install .vsix", install.status === 0, (install.stdout + install.stderr).trim().split("\n").pop());
if (install.status !== 0) process.exit(1);

const port = await freePort();
const env = { ...process.env, ATOLL_INDEXING_EMBEDDINGS: "0", ATOLL_USER_CONFIG: path.join(tmp, "none.toml") };
const server = spawn(codeServer, [...common, "--bind-addr", `127.0.0.1:${port}`, workspace], { env, stdio: ["ignore", "pipe", "pipe"] });
const serverLog = fs.createWriteStream(path.join(out, "code-server.log"));
server.stdout.pipe(serverLog);
server.stderr.pipe(serverLog);

let browser;
let failed = false;
try {
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60000);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 120000 });
  step("workbench loaded", true);

  const palette = async (text) => {
    await page.keyboard.press("F1");
    await page.waitForSelector(".quick-input-widget input", { state: "visible" });
    await page.keyboard.type(text);
    await page.waitForTimeout(500);
    await page.keyboard.press("Enter");
  };

  // Open a file through Quick Open.
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input", { state: "visible" });
  await page.keyboard.type("report.py");
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: "report.py" }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
  await page.waitForSelector(".monaco-editor .view-lines", { timeout: 30000 });
  step("file opened", true);

  const status = page.locator(".statusbar-item", { hasText: "atoll" }).first();
  await status.waitFor({ timeout: 120000 });
  await page.waitForFunction(
    () => [...document.querySelectorAll(".statusbar-item")].some((el) => /atoll: (?!stopped)/.test(el.textContent ?? "") && !/loading/.test(el.textContent ?? "")),
    null,
    { timeout: 120000 },
  ).catch(() => undefined);
  step("status bar", true, (await status.textContent())?.trim());

  // Hover a symbol.
  const symbol = page.locator(".view-line span", { hasText: /^format_cents$/ }).last();
  await symbol.hover();
  const hover = page.locator(".monaco-hover-content", { hasText: "format_cents" });
  const hovered = await hover.first().waitFor({ timeout: 60000 }).then(() => true, () => false);
  step("hover", hovered, hovered ? (await hover.first().innerText()).split("\n").slice(0, 3).join(" | ") : "no hover widget");
  await page.screenshot({ path: path.join(out, "hover.png") });
  await page.keyboard.press("Escape");

  // Inline suggestion at the end of the file.
  await page.locator(".monaco-editor .view-lines").click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\n\ndef add(a, b):\n    return a");
  let ghost = false;
  for (let attempt = 0; attempt < 4 && !ghost; attempt++) {
    await palette("Trigger Inline Suggestion");
    ghost = await page.locator(".ghost-text-decoration, .ghost-text").first().waitFor({ timeout: 20000 }).then(() => true, () => false);
  }
  const ghostText = ghost ? (await page.locator(".ghost-text-decoration, .ghost-text").allTextContents()).join("").trim() : "";
  step("inline suggestion", ghost, ghost ? JSON.stringify(ghostText.slice(0, 60)) : "no ghost text");
  await page.screenshot({ path: path.join(out, "inline.png") });
  await page.keyboard.press("Escape");

  // A broken interpreter setting, typed into the Settings UI: the client restarts the
  // server, fails, and says so once, naming the command it tried.
  const setPython = async (value, open) => {
    if (open) await palette("Preferences: Open User Settings");
    const search = page.locator(".settings-editor .suggest-input-container textarea, .settings-editor .search-container input").first();
    await search.waitFor({ timeout: 30000 });
    if (open) await search.fill("atoll.python");
    // Machine-scoped settings live under the Remote tab in code-server.
    await page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Remote" }).first().click();
    const field = page.locator(".setting-item-contents", { hasText: "The Python interpreter" }).locator("input").first();
    await field.waitFor({ timeout: 30000 });
    await field.fill(value);
    await field.press("Tab");
    await page.waitForTimeout(1500);
  };
  await setPython("/nonexistent/python", true);
  const failure = page.locator(".notification-toast", { hasText: "did not start" });
  const reported = await failure.first().waitFor({ timeout: 60000 }).then(() => true, () => false);
  await page.waitForTimeout(5000);
  const count = await failure.count();
  const message = reported ? (await failure.first().locator(".notification-list-item-message").innerText()).replace(/\s+/g, " ") : "no error shown";
  step("missing server: one actionable error", reported && count === 1 && message.includes("/nonexistent/python"), `${count} error(s): ${message.slice(0, 160)}`);
  await page.screenshot({ path: path.join(out, "missing-server.png") });
  // Back to the good interpreter: the client restarts the server.
  await page.locator(".notification-toast .codicon-notifications-clear, .notification-toast .codicon-close").first().click().catch(() => undefined);
  await setPython(python, false);
  const back = await page.waitForFunction(() => [...document.querySelectorAll(".statusbar-item")].some((el) => /atoll: (?!stopped)/.test(el.textContent ?? "")), null, { timeout: 120000 }).then(() => true, () => false);
  step("server back after fixing the setting", back);
  await page.keyboard.press("Control+W");

  // Delegate to AI crew.
  await palette("atoll: Delegate to AI crew");
  const input = page.locator(".quick-input-widget input");
  await page.waitForFunction(() => /Delegate to AI crew/.test(document.querySelector(".quick-input-widget")?.textContent ?? ""), null, { timeout: 15000 });
  await input.fill("Add a CSV export of the inventory to inventory/report.py, with a test");
  await page.keyboard.press("Enter");
  // The server answers when the crew is done; while it works the status bar says so.
  const evidence = page.locator(".notification-toast, .statusbar-item", { hasText: /atoll: (the |crew)|AI crew/ });
  const delegated = await evidence.first().waitFor({ timeout: 60000 }).then(() => true, () => false);
  step("delegate command", delegated, delegated ? (await evidence.first().innerText()).split("\n")[0] : "no sign of the crew");
  await page.screenshot({ path: path.join(out, "delegate.png") });

  failed = Object.values(results).some((r) => !r.ok);
} catch (error) {
  failed = true;
  step("run", false, String(error));
  await browser?.contexts()[0]?.pages()[0]?.screenshot({ path: path.join(out, "failure.png") }).catch(() => undefined);
} finally {
  fs.writeFileSync(path.join(out, "results.json"), JSON.stringify(results, null, 2));
  await browser?.close();
  server.kill("SIGTERM");
}
process.exit(failed ? 1 : 0);
