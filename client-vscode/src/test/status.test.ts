import * as assert from "node:assert/strict";
import { delegateArguments, delegateMessage, withoutDelegate } from "../delegate";
import { statusView } from "../status";

describe("statusView", () => {
  const ready = {
    completion: { enabled: true, ready: true, model: "SmolLM2-135M" },
    index: { state: "ready", done: 9, total: 9 },
    sandbox: { available: true, mode: "bwrap", message: "bubblewrap 0.8.0" },
    trust: { trusted: true },
  };

  it("shows the model, the index and the sandbox when everything is ready", () => {
    const view = statusView(ready);
    assert.equal(view.text, "$(check) atoll: SmolLM2-135M · index ready · $(lock) sandbox");
    assert.match(view.tooltip, /model: SmolLM2-135M/);
    assert.match(view.tooltip, /index: ready \(9\/9 files\)/);
    assert.match(view.tooltip, /sandbox: bwrap — bubblewrap 0\.8\.0/);
    assert.match(view.tooltip, /workspace: trusted/);
  });

  it("says when commands are not contained, or off", () => {
    const missing = { ...ready, sandbox: { available: false, mode: "bwrap", message: "bwrap not found: apt-get install bubblewrap" } };
    assert.match(statusView(missing).text, /\$\(warning\) no sandbox$/);
    assert.match(statusView(missing).tooltip, /apt-get install bubblewrap/);
    assert.match(statusView({ ...ready, sandbox: { available: false, mode: "off" } }).text, /commands off$/);
    assert.match(statusView({ ...ready, sandbox: { available: true, mode: "unsandboxed" } }).text, /\$\(unlock\) unsandboxed$/);
  });

  it("shows an untrusted folder as restricted, with Delegate off", () => {
    const view = statusView({ ...ready, trust: { trusted: false } });
    assert.match(view.text, /\$\(shield\) restricted$/);
    assert.match(view.tooltip, /not trusted \(Delegate is off/);
  });

  it("shows indexing progress, then a running crew, as the more important states", () => {
    const indexing = { ...ready, index: { state: "indexing", done: 3, total: 8 } };
    assert.equal(statusView(indexing).text, "$(sync~spin) atoll: indexing 37% · $(lock) sandbox");
    const crew = { ...indexing, crew: { running: true, role: "coder" } };
    assert.match(statusView(crew).text, /^\$\(sync~spin\) atoll: crew running \(coder\)/);
  });

  it("shows a loading or missing model and copes with sections not there yet", () => {
    assert.equal(statusView({ completion: { ready: false } }).text, "$(loading~spin) atoll: loading model");
    assert.equal(statusView({ completion: { ready: false, error: "no GGUF" } }).text, "$(warning) atoll: no model");
    assert.equal(statusView({ completion: { enabled: false, ready: false } }).text, "$(check) atoll");
    assert.equal(statusView({ version: "0.1.0" }).text, "$(check) atoll");
    assert.equal(statusView(null).text, "$(circle-slash) atoll");
    assert.equal(statusView({ index: { state: "indexing" } }).text, "$(sync~spin) atoll: indexing 0%");
  });
});

describe("delegate", () => {
  it("sends the trimmed task text, nothing for an empty one", () => {
    assert.deepEqual(delegateArguments("  add a CSV export \n"), ["add a CSV export"]);
    assert.equal(delegateArguments("   "), undefined);
    assert.equal(delegateArguments(undefined), undefined);
  });

  it("turns the server's answer into one line", () => {
    assert.equal(delegateMessage({ message: "crew started (run 7)" }), "atoll: crew started (run 7)");
    assert.equal(delegateMessage("queued"), "atoll: queued");
    assert.match(delegateMessage(null), /handed to the AI crew/);
  });

  it("drops the crew's code actions (untrusted folders), keeps the others", () => {
    const actions = [
      { title: "Delegate", command: { command: "atoll.delegate", title: "Delegate" } },
      { title: "Fix", command: { command: "other.fix", title: "Fix" } },
      { title: "plain command", command: "atoll.delegate" },
      { title: "no command" },
    ];
    assert.deepEqual(withoutDelegate(actions)?.map((a) => a.title), ["Fix", "no command"]);
    assert.equal(withoutDelegate(undefined), undefined);
  });
});
