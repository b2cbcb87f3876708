import * as assert from "node:assert/strict";
import { CrashPolicy, displayCommand, LaunchInputs, resolveLaunch, startFailureMessage } from "../launch";

function inputs(overrides: Partial<LaunchInputs>): LaunchInputs {
  return {
    serverCommand: [],
    python: "",
    workspaceFolders: ["/ws"],
    extensionPath: "/repo/client-vscode",
    platform: "linux",
    exists: () => false,
    ...overrides,
  };
}

describe("resolveLaunch", () => {
  it("prefers atoll.serverCommand, then atoll.python", () => {
    const custom = resolveLaunch(inputs({ serverCommand: ["/opt/atoll", "serve", "--set", "a=1"], python: "/py" }));
    assert.deepEqual([custom.command, custom.args], ["/opt/atoll", ["serve", "--set", "a=1"]]);
    const python = resolveLaunch(inputs({ python: " /usr/bin/python3 " }));
    assert.deepEqual([python.command, python.args], ["/usr/bin/python3", ["-m", "atoll.cli", "serve"]]);
    assert.match(python.origin, /atoll\.python/);
  });

  it("defaults to the workspace's .venv, then the repository's, then PATH", () => {
    const both = new Set(["/ws/.venv/bin/python", "/repo/.venv/bin/python"]);
    assert.equal(resolveLaunch(inputs({ exists: (f) => both.has(f) })).command, "/ws/.venv/bin/python");
    assert.equal(resolveLaunch(inputs({ exists: (f) => f === "/repo/.venv/bin/python" })).command, "/repo/.venv/bin/python");
    const path = resolveLaunch(inputs({}));
    assert.deepEqual([path.command, path.args], ["atoll", ["serve"]]);
    const win = resolveLaunch(inputs({ platform: "win32", exists: (f) => f.endsWith("python.exe") }));
    assert.match(win.command, /Scripts.python\.exe$/);
  });

  it("ignores a malformed serverCommand", () => {
    assert.equal(resolveLaunch(inputs({ serverCommand: [1, 2] })).command, "atoll");
    assert.equal(resolveLaunch(inputs({ serverCommand: "atoll serve" })).command, "atoll");
  });
});

describe("start failure message", () => {
  it("names the command it tried, where it came from, and what to do", () => {
    const launch = resolveLaunch(inputs({ python: "/no such/python" }));
    assert.equal(displayCommand(launch), '"/no such/python" -m atoll.cli serve');
    const message = startFailureMessage(launch, "/no such/python does not exist");
    assert.match(message, /Tried `"\/no such\/python" -m atoll\.cli serve` \(from the setting atoll\.python\)/);
    assert.match(message, /Set atoll\.python/);
  });
});

describe("CrashPolicy", () => {
  it("does not restart a server that dies right after starting", () => {
    assert.equal(new CrashPolicy().onClosed(0, 500), "stop");
  });

  it("restarts a server that crashed later, but not in a loop", () => {
    const policy = new CrashPolicy(10_000, 3, 180_000);
    const decisions = [60_000, 80_000, 100_000, 120_000].map((now) => policy.onClosed(0, now));
    assert.deepEqual(decisions, ["restart", "restart", "restart", "stop"]);
    assert.equal(policy.onClosed(0, 400_000), "restart"); // the window moved on
  });
});
