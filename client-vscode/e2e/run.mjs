// Real VS Code e2e: code-server 4.100 (VS Code 1.100) with the built atoll.vsix, driven
// headless by Playwright and Debian's Chromium, on a copy of the sample workspace. Checks
// what a user sees: the status bar, no settings warning, a hover with the model's
// explanation, Go to Symbol in Workspace, ghost text, one clear error for a broken
// interpreter setting, and Delegate to AI crew ending in an applied edit (scripted model).
// `make -C client-vscode e2e`; .ci/run runs it after `make test`.
//
// Env: E2E_DEPS (folder whose node_modules has code-server and playwright-core),
// E2E_PYTHON (interpreter with atoll; default the repository's .venv), CHROMIUM (default
// /usr/bin/chromium), E2E_OUT (screenshots, results.json, logs). Not ATOLL_*: the server
// would read those as settings.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { workbench } from "./workbench.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = path.resolve(here, "..");
const repo = path.resolve(clientDir, "..");
const deps = process.env.E2E_DEPS ?? path.join(here, ".deps");
const require = createRequire(path.join(deps, "package.json"));
const { chromium } = require("playwright-core");
const codeServer = path.join(deps, "node_modules", ".bin", "code-server");
const python = process.env.E2E_PYTHON ?? path.join(repo, ".venv", "bin", "python");
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

// The crew's scripted answers: the same happy path the Python tests use.
const script = path.join(tmp, "crew-script.json");
const dump = "import json, sys\nfrom tests.agents.scripts import HAPPY_PATH\njson.dump({'answers': HAPPY_PATH}, sys.stdout)";
const scripted = spawnSync(python, ["-c", dump], { cwd: repo, encoding: "utf8" });
if (scripted.status !== 0) throw new Error(`cannot write the crew script: ${scripted.stderr}`);
fs.writeFileSync(script, scripted.stdout);

const writeSettings = (scope, settings) => {
  fs.mkdirSync(path.join(userData, scope), { recursive: true });
  fs.writeFileSync(path.join(userData, scope, "settings.json"), JSON.stringify(settings));
};
writeSettings("User", {
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "editor.inlineSuggest.enabled": true,
  "editor.hover.delay": 100,
  "atoll.hover.waitMs": 30000,
  "atoll.hover.timeBudgetMs": 30000,
  // The machine running this is small and shared: no dropped suggestions.
  "atoll.completion.timeBudgetMs": 30000,
});
// Machine-scope settings live in code-server's remote (machine) settings.
writeSettings("Machine", { "atoll.python": python });

const common = ["--config", path.join(tmp, "code-server.yaml"), "--auth", "none", "--disable-telemetry", "--disable-update-check", "--user-data-dir", userData, "--extensions-dir", extensions];
const install = spawnSync(codeServer, [...common, "--install-extension", vsix], { encoding: "utf8" });
step("install .vsix", install.status === 0, (install.stdout + install.stderr).trim().split("\n").pop());
if (install.status !== 0) process.exit(1);

const port = await freePort();
// The server inherits this environment: no stray ATOLL_* variable may reach it.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ATOLL_")));
// Nor an `atoll` on PATH: the extension must find the server from its settings.
env.PATH = (env.PATH ?? "").split(path.delimiter).filter((dir) => dir && !fs.existsSync(path.join(dir, "atoll"))).join(path.delimiter);
Object.assign(env, {
  ATOLL_INDEXING_EMBEDDINGS: "0",
  ATOLL_USER_CONFIG: path.join(tmp, "none.toml"),
  // Scripted models are accepted from the environment only, never from a workspace.
  ATOLL_AGENTS_ENDPOINT_BASE_URL: `scripted:${script}`,
});
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
  const wb = workbench(page);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 120000 });
  step("workbench loaded", true);
  await wb.openFile("report.py");
  step("file opened", true);

  const status = await wb.statusText(180000);
  step("status bar: model, index and sandbox", /atoll: (?!stopped)/.test(status) && /index/.test(status) && /sandbox/.test(status), status);
  const warned = await wb.toasts(/invalid settings/);
  step("no settings warning", warned.length === 0, warned.join(" | "));

  const hover = await wb.hoverUntil("format_cents", /atoll: \S/, 6);
  step("hover with the model's explanation", hover.ok, hover.text.slice(0, 200));
  await page.screenshot({ path: path.join(out, "hover.png") });
  await page.keyboard.press("Escape");

  // Go to Symbol in Workspace (Ctrl+T): answered from atoll's index.
  await page.keyboard.press("Control+T");
  await page.waitForSelector(wb.quickInput, { state: "visible" });
  await page.keyboard.type("low_stock");
  const symbol = page.locator(".quick-input-list .monaco-list-row", { hasText: "low_stock" }).first();
  const listed = await symbol.waitFor({ timeout: 30000 }).then(() => true, () => false);
  step("workspace symbols", listed, listed ? (await symbol.innerText()).replace(/\s+/g, " ") : "no symbol row");
  await page.keyboard.press("Escape");

  // Ghost text at the end of the file.
  await page.locator(".monaco-editor .view-lines").click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\n\ndef add(a, b):\n    return a");
  const ghostSelector = ".ghost-text-decoration, .ghost-text";
  let ghost = false;
  for (let attempt = 0; attempt < 4 && !ghost; attempt++) {
    await wb.palette("Trigger Inline Suggestion");
    ghost = await page.locator(ghostSelector).first().waitFor({ timeout: 20000 }).then(() => true, () => false);
  }
  const ghostText = ghost ? (await page.locator(ghostSelector).allTextContents()).join("").trim() : "";
  step("inline suggestion", ghost, ghost ? JSON.stringify(ghostText.slice(0, 60)) : "no ghost text");
  await page.screenshot({ path: path.join(out, "inline.png") });
  await page.keyboard.press("Escape");
  // The buffer stays unsaved: the crew stages it as the user sees it, and its edit applies over it.

  // A broken interpreter, typed into the Settings UI: one error naming it, no restart loop.
  await wb.setSetting("atoll.python", "The Python interpreter", "/nonexistent/python", true);
  const reported = await wb.waitForToast(/cannot start the language server/, 60000);
  await page.waitForTimeout(5000);
  const errors = await wb.toasts(/language server/);
  step("broken interpreter: one actionable error", errors.length === 1 && errors[0].includes("/nonexistent/python"), `${errors.length} error(s): ${(reported[0] ?? "none").slice(0, 200)}`);
  await page.screenshot({ path: path.join(out, "missing-server.png") });
  await wb.clearToasts();
  // No setting, no .venv, no atoll on PATH (removed from this environment): one message again.
  await wb.setSetting("atoll.python", "The Python interpreter", "", false);
  await wb.waitForToast(/no atoll language server found/, 60000);
  await page.waitForTimeout(5000);
  const none = await wb.toasts(/language server/);
  step("no server anywhere: one actionable error", none.length === 1 && /Tried: .*`atoll` on PATH/.test(none[0]), `${none.length} error(s): ${(none[0] ?? "none").slice(0, 200)}`);
  await wb.clearToasts();
  await wb.setSetting("atoll.python", "The Python interpreter", python, false);
  const back = await page.waitForFunction(() => [...document.querySelectorAll(".statusbar-item")].some((el) => /atoll: (?!stopped)/.test(el.textContent ?? "")), null, { timeout: 120000 }).then(() => true, () => false);
  step("server back after fixing the setting", back);
  await page.keyboard.press("Control+W");

  // Delegate to AI crew: the scripted crew's edit is applied to the open file.
  await wb.palette("atoll: Delegate to AI crew");
  await page.waitForFunction(() => /Delegate to AI crew/.test(document.querySelector(".quick-input-widget")?.textContent ?? ""), null, { timeout: 15000 });
  await page.locator(wb.quickInput).fill("Support negative amounts in format_cents and add a CSV export");
  await page.keyboard.press("Enter");
  const done = await wb.waitForToast(/AI crew (done|partial|failed|stopped)/, 180000);
  await page.screenshot({ path: path.join(out, "delegate.png") });
  await wb.openFile("report.py");
  const edited = (await wb.editorText()).includes('sign = "-" if cents < 0 else ""');
  step("delegate: the crew's edit applied", done.some((t) => /done.*Applied/.test(t)) && edited, `${(done[0] ?? "no result").slice(0, 200)}; edit in report.py: ${edited}`);

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
