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
  serverSettings,
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
  const values: Record<string, unknown> = {
    python: "/opt/py",
    "completion.maxTokens": 32,
    "completion.endpoint.baseUrl": "http://gpu:8000/v1",
    "hover.explain": false,
  };

  it("sends what the user set, nested, in the server's snake_case, without client-only keys", () => {
    const { settings, problems } = serverSettings((key) => values[key], schemas);
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      completion: { max_tokens: 32, endpoint: { base_url: "http://gpu:8000/v1" } },
      hover: { explain: false },
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
    const { settings, problems } = serverSettings((key) => bad[key], schemas);
    assert.deepEqual(settings, { hover: { max_tokens: 64 } });
    assert.equal(problems.length, 5);
    assert.match(problems.join("\n"), /atoll\.completion\.maxTokens: expected integer, got "many"; using the default 48/);
    assert.match(problems.join("\n"), /atoll\.completion\.backend: expected one of "auto", "llama_cpp", "openai"/);
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
