import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  chooseLaunch,
  CrashPolicy,
  displayCommand,
  launchCandidates,
  LaunchInputs,
  noServerMessage,
  startFailureMessage,
} from "../launch";
import { makeProbe, pathDirs, whichIn } from "../probe";

function inputs(overrides: Partial<LaunchInputs>): LaunchInputs {
  return {
    serverCommand: [],
    python: "",
    selectedInterpreter: undefined,
    workspaceFolders: ["/ws"],
    pathDirs: ["/usr/local/bin", "/usr/bin"],
    platform: "linux",
    ...overrides,
  };
}

const commands = (i: LaunchInputs): string[] => launchCandidates(i).map((c) => c.command);

describe("launchCandidates", () => {
  it("uses an explicit setting alone: atoll.serverCommand, then atoll.python", () => {
    const custom = launchCandidates(inputs({ serverCommand: ["/opt/atoll", "serve", "--set", "a=1"], python: "/py" }));
    assert.equal(custom.length, 1);
    assert.deepEqual([custom[0].command, custom[0].args, custom[0].explicit], ["/opt/atoll", ["serve", "--set", "a=1"], true]);
    const python = launchCandidates(inputs({ python: " /usr/bin/python3 ", selectedInterpreter: "/sel/python" }));
    assert.deepEqual(python.map((c) => [c.command, c.args]), [["/usr/bin/python3", ["-m", "atoll.cli", "serve"]]]);
    assert.match(python[0].origin, /atoll\.python/);
  });

  it("otherwise tries the selected interpreter, the workspace's .venv, then atoll on PATH", () => {
    assert.deepEqual(commands(inputs({ selectedInterpreter: "/sel/bin/python" })), [
      "/sel/bin/python",
      "/ws/.venv/bin/python",
      "/usr/local/bin/atoll",
      "/usr/bin/atoll",
    ]);
    const path = launchCandidates(inputs({})).at(-1)!;
    assert.deepEqual([path.args, path.origin, path.explicit], [["serve"], "PATH", false]);
    assert.match(commands(inputs({ platform: "win32", pathDirs: [] }))[0], /Scripts.python\.exe$/);
  });

  it("tries an interpreter that is both selected and the workspace's .venv once", () => {
    assert.deepEqual(commands(inputs({ selectedInterpreter: "/ws/.venv/bin/python", pathDirs: [] })), ["/ws/.venv/bin/python"]);
  });

  it("ignores a malformed serverCommand", () => {
    assert.equal(launchCandidates(inputs({ serverCommand: [1, 2] }))[0].explicit, false);
    assert.equal(launchCandidates(inputs({ serverCommand: "atoll serve" }))[0].explicit, false);
  });
});

describe("chooseLaunch", () => {
  it("takes the first candidate that passes and keeps why the others did not", async () => {
    const candidates = launchCandidates(inputs({ selectedInterpreter: "/sel/python" }));
    const { launch, rejected } = await chooseLaunch(candidates, async (c) => (c.command === "/usr/bin/atoll" ? undefined : "nope"));
    assert.equal(launch?.command, "/usr/bin/atoll");
    assert.deepEqual(rejected.map((r) => r.launch.command), ["/sel/python", "/ws/.venv/bin/python", "/usr/local/bin/atoll"]);
  });
});

describe("messages", () => {
  it("names every place it looked when nothing works, and what to do", async () => {
    const { launch, rejected } = await chooseLaunch(launchCandidates(inputs({ selectedInterpreter: "/sel/python" })), async () => "does not exist");
    assert.equal(launch, undefined);
    const message = noServerMessage(rejected);
    assert.match(message, /no atoll language server found/);
    assert.match(message, /\/sel\/python \(does not exist\); \/ws\/\.venv\/bin\/python \(does not exist\); `atoll` on PATH/);
    assert.match(message, /set atoll\.python .* or atoll\.serverCommand/);
    assert.doesNotMatch(message, /\/usr\/local\/bin\/atoll/);
  });

  it("names a broken explicit setting", async () => {
    const { rejected } = await chooseLaunch(launchCandidates(inputs({ python: "/no such/python" })), async () => "does not exist");
    assert.equal(displayCommand(rejected[0].launch), '"/no such/python" -m atoll.cli serve');
    assert.match(noServerMessage(rejected), /from the setting atoll\.python: `"\/no such\/python" -m atoll\.cli serve` does not exist/);
  });

  it("says which command died when a server that was found does not start", () => {
    const [launch] = launchCandidates(inputs({ python: "/py" }));
    assert.match(startFailureMessage(launch, "it exited"), /Tried `\/py -m atoll\.cli serve` \(from the setting atoll\.python\)/);
  });
});

describe("probe (real files and processes)", () => {
  const platform = process.platform;
  let dir: string;
  const write = (name: string, body: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, body, { mode: 0o755 });
    return file;
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-probe-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("accepts an interpreter that has atoll, and says why others do not", async function () {
    if (platform === "win32") {
      this.skip();
    }
    const probe = makeProbe([dir], platform, process.env);
    const good = write("good-python", "#!/bin/sh\nexit 0\n");
    const bare = write("bare-python", "#!/bin/sh\nexit 3\n");
    const broken = write("broken-python", "#!/bin/sh\necho 'bad interpreter' >&2\nexit 1\n");
    const serve = ["-m", "atoll.cli", "serve"];
    const at = (command: string, args = serve) => ({ command, args, origin: "test", explicit: false });
    assert.equal(await probe(at(good)), undefined);
    assert.equal(await probe(at(bare)), "has no atoll installed");
    assert.match((await probe(at(broken)))!, /could not run \(bad interpreter\)/);
    assert.equal(await probe(at(path.join(dir, "missing"))), "does not exist");
    fs.writeFileSync(path.join(dir, "plain"), "");
    assert.equal(await probe(at(path.join(dir, "plain"), ["serve"])), "is not an executable file");
    assert.equal(await probe(at("good-python", ["serve"])), undefined);
    assert.equal(await probe(at("nowhere-to-be-found", ["serve"])), "was not found on PATH");
  });

  it("runs the real interpreters: the repository's .venv has atoll, the system's does not", async function () {
    this.timeout(60_000);
    const venv = path.resolve(__dirname, "..", "..", "..", ".venv", "bin", "python");
    const system = whichIn("python3", pathDirs("/usr/bin:/bin", platform), platform);
    if (!fs.existsSync(venv) || system === undefined) {
      this.skip();
    }
    const probe = makeProbe([], platform, process.env);
    const serve = ["-m", "atoll.cli", "serve"];
    assert.equal(await probe({ command: venv, args: serve, origin: "test", explicit: false }), undefined);
    assert.equal(await probe({ command: system!, args: serve, origin: "test", explicit: false }), "has no atoll installed");
  });

  it("looks names up in PATH order", () => {
    write("atoll", "#!/bin/sh\n");
    assert.equal(whichIn("atoll", ["/nonexistent", dir], platform), path.join(dir, "atoll"));
    assert.deepEqual(pathDirs("/a::/b", "linux"), ["/a", "/b"]);
    assert.deepEqual(pathDirs("C:\\a;C:\\b", "win32"), ["C:\\a", "C:\\b"]);
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
