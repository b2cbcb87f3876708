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

  it("points main at the esbuild bundle, built by vscode:prepublish, and targets VS Code 1.100", () => {
    assert.equal(manifest.main, "./dist/extension.js");
    assert.match(manifest.scripts["vscode:prepublish"], /bundle/);
    assert.match(manifest.scripts.bundle, /^esbuild src\/extension\.ts --bundle --outfile=dist\/extension\.js --external:vscode/);
    assert.match(manifest.scripts.package, /--no-dependencies/);
    assert.equal(manifest.engines.vscode, "^1.100.0");
  });

  it("supports untrusted folders in a limited way: Delegate needs trust", () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, "limited");
    const delegate = commands.find((c) => c.command === "atoll.delegateTask") as { enablement?: string };
    assert.equal(delegate.enablement, "isWorkspaceTrusted");
    const palette: { command: string; when: string }[] = manifest.contributes.menus.commandPalette;
    assert.ok(palette.some((m) => m.command === "atoll.delegateTask" && m.when === "isWorkspaceTrusted"));
  });

  it("uses a vscode-languageclient with inline completion (proposed up to 10.0.0, built in after)", () => {
    const version: string = manifest.dependencies["vscode-languageclient"];
    assert.match(version, /^\^?10\./);
  });
});
