import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CLIENT_ONLY,
  contributedSettings,
  invalidReason,
  needsRestart,
  serverKey,
  Inspected,
  serverSettings,
  settingsPayload,
} from "../settings";

const ROOT = path.resolve(__dirname, "..", "..");
const manifest: unknown = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const schemas = contributedSettings(manifest);

interface ServerSetting {
  value: unknown;
  source: string;
}

/** `atoll config show --json` in an empty folder, with no user file and no ATOLL_* variables. */
function serverDefaults(): Record<string, ServerSetting> {
  const atoll = process.env.ATOLL_BIN ?? path.resolve(ROOT, "..", ".venv", "bin", "atoll");
  assert.ok(fs.existsSync(atoll), `${atoll} is missing: run \`make setup\` at the repo root or set ATOLL_BIN`);
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-defaults-"));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: empty };
  env.ATOLL_USER_CONFIG = path.join(empty, "none.toml");
  const out = execFileSync(atoll, ["config", "show", "--json", "--workspace", empty], { env, encoding: "utf8" });
  return (JSON.parse(out) as { settings: Record<string, ServerSetting> }).settings;
}

// Dotted keys the server's schema marks machine scope (a section's mark covers its leaves).
const MACHINE_KEYS = `
import dataclasses, json, typing
from atoll.config.schema import AtollConfig
def walk(cls, prefix="", machine=False):
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        here = machine or bool(f.metadata.get("machine"))
        if dataclasses.is_dataclass(hints[f.name]):
            yield from walk(hints[f.name], prefix + f.name + ".", here)
        elif here:
            yield prefix + f.name
print(json.dumps(sorted(walk(AtollConfig))))
`;

function serverMachineKeys(): string[] {
  const python = path.resolve(ROOT, "..", ".venv", "bin", "python");
  return JSON.parse(execFileSync(python, ["-c", MACHINE_KEYS], { encoding: "utf8" }));
}

describe("package.json settings", () => {
  it("has the same defaults as the server (atoll config show --json)", function () {
    this.timeout(60_000);
    const server = serverDefaults();
    const checked: string[] = [];
    for (const [key, schema] of schemas) {
      if (CLIENT_ONLY.includes(key)) {
        continue;
      }
      const dotted = serverKey(key);
      assert.ok(dotted in server, `atoll.${key} is not a server setting (${dotted})`);
      assert.equal(server[dotted].source, "default");
      assert.deepEqual(schema.default, server[dotted].value, `default of atoll.${key}`);
      checked.push(dotted);
    }
    assert.ok(checked.length >= 10, "the client should expose the main server settings");
    for (const key of ["hover.time_budget_ms", "hover.wait_ms", "completion.max_tokens"]) {
      assert.ok(checked.includes(key), `atoll.${key} should be contributed`);
    }
  });

  it("marks every setting the server reads only from your machine as machine scope", function () {
    this.timeout(60_000);
    const machine = new Set(serverMachineKeys());
    assert.ok(machine.has("agents.endpoint.base_url") && machine.has("agents.sandbox.mode"));
    const restricted: string[] = (manifest as { capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } } })
      .capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const [key, schema] of schemas) {
      const isMachine = CLIENT_ONLY.includes(key) ? key !== "trace.server" : machine.has(serverKey(key));
      if (isMachine) {
        assert.equal(schema.scope, "machine", `atoll.${key} should have "scope": "machine"`);
      }
      // Untrusted folders: VS Code itself ignores the workspace's value of these.
      assert.equal(restricted.includes(`atoll.${key}`), schema.scope === "machine", `restrictedConfigurations: atoll.${key}`);
    }
  });

  it("contributes no secrets (API keys come from the environment)", () => {
    for (const key of schemas.keys()) {
      assert.ok(!/api_?key/i.test(key), key);
    }
  });

  it("defaults fit their own schema", () => {
    for (const [key, schema] of schemas) {
      assert.equal(invalidReason(schema.default, schema), undefined, key);
    }
  });
});

describe("serverSettings", () => {
  const user: Record<string, unknown> = {
    python: "/opt/py",
    "completion.maxTokens": 32,
    "completion.endpoint.baseUrl": "http://gpu:8000/v1",
    "hover.explain": false,
  };
  const fromUser = (values: Record<string, unknown>) => (key: string) =>
    key in values ? { globalValue: values[key] } : undefined;

  it("sends what the user set, nested, in the server's snake_case, without client-only keys", () => {
    const { settings, workspaceSettings, problems } = serverSettings(fromUser(user), schemas);
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      completion: { max_tokens: 32, endpoint: { base_url: "http://gpu:8000/v1" } },
      hover: { explain: false },
    });
    assert.deepEqual(workspaceSettings, {});
  });

  it("keeps the workspace's settings apart (a folder's value wins over the workspace's)", () => {
    const seen: Record<string, Inspected> = {
      "completion.maxTokens": { globalValue: 32, workspaceValue: 16 },
      "agents.endpoint.baseUrl": { workspaceValue: "http://evil:1/v1" },
      "hover.waitMs": { workspaceValue: 5, workspaceFolderValue: 7 },
      python: { workspaceValue: "./evil" },
    };
    const result = serverSettings((key) => seen[key], schemas);
    assert.deepEqual(result.settings, { completion: { max_tokens: 32 } });
    assert.deepEqual(result.workspaceSettings, {
      completion: { max_tokens: 16 },
      agents: { endpoint: { base_url: "http://evil:1/v1" } },
      hover: { wait_ms: 7 },
    });
    assert.deepEqual(settingsPayload(result, false), {
      completion: { max_tokens: 32 },
      workspaceSettings: result.workspaceSettings,
      workspaceTrusted: false,
    });
  });

  it("reports invalid values and leaves them out so defaults apply", () => {
    const bad: Record<string, unknown> = {
      "completion.maxTokens": "many",
      "hover.timeBudgetMs": 2.5,
      "completion.backend": "cloud",
      "hover.waitMs": -1,
      "indexing.exclude": [1, 2],
      "hover.maxTokens": 64,
    };
    const { settings, problems } = serverSettings(fromUser(bad), schemas);
    assert.deepEqual(settings, { hover: { max_tokens: 64 } });
    assert.equal(problems.length, 5);
    assert.match(problems.join("\n"), /atoll\.completion\.maxTokens \(user settings\): expected integer, got "many"; using the default 48/);
    assert.match(problems.join("\n"), /atoll\.completion\.backend \(user settings\): expected one of "auto", "llama_cpp", "openai"/);
  });

  it("maps camelCase keys onto the server's", () => {
    assert.equal(serverKey("completion.endpoint.baseUrl"), "completion.endpoint.base_url");
    assert.equal(serverKey("hover.timeBudgetMs"), "hover.time_budget_ms");
    assert.equal(serverKey("server.logLevel"), "server.log_level");
  });

  it("restarts for the interpreter, the command and the model, not for the rest", () => {
    assert.ok(needsRestart((key) => key === "atoll.python"));
    assert.ok(needsRestart((key) => key === "atoll.models.gguf"));
    assert.ok(!needsRestart((key) => key === "atoll.completion.maxTokens"));
  });
});
