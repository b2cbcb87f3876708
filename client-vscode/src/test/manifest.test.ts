import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

// Commands the server advertises: vscode-languageclient registers them as VS Code
// commands itself, so the extension must not contribute the same ids.
const SERVER_COMMANDS = ["atoll.status", "atoll.delegate"];

describe("package.json", () => {
  const commands: { command: string; title: string; category?: string }[] = manifest.contributes.commands;

  it("contributes 'atoll: Delegate to AI crew…' under an id the server does not own", () => {
    const delegate = commands.find((c) => c.title === "Delegate to AI crew…");
    assert.ok(delegate);
    assert.equal(delegate.category, "atoll");
    for (const command of commands) {
      assert.ok(!SERVER_COMMANDS.includes(command.command), command.command);
    }
  });

  it("points main at the compiled extension and targets VS Code 1.100", () => {
    assert.equal(manifest.main, "./out/extension.js");
    assert.ok(fs.existsSync(path.join(ROOT, "out", "extension.js")), "run `npm run compile` first");
    assert.equal(manifest.engines.vscode, "^1.100.0");
  });

  it("uses a vscode-languageclient with inline completion (proposed up to 10.0.0, built in after)", () => {
    const version: string = manifest.dependencies["vscode-languageclient"];
    assert.match(version, /^\^?10\./);
  });
});
