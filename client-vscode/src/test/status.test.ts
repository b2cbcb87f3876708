import * as assert from "node:assert/strict";
import { delegateArguments, delegateMessage } from "../delegate";
import { statusView } from "../status";

describe("statusView", () => {
  const ready = { completion: { ready: true, model: "SmolLM2-135M" }, index: { state: "ready", done: 9, total: 9 } };

  it("shows the model when everything is ready", () => {
    const view = statusView(ready);
    assert.equal(view.text, "$(check) atoll: SmolLM2-135M");
    assert.match(view.tooltip, /index: ready \(9\/9 files\)/);
  });

  it("shows indexing progress, then a running crew, as the more important states", () => {
    const indexing = { ...ready, index: { state: "indexing", done: 3, total: 8 } };
    assert.equal(statusView(indexing).text, "$(sync~spin) atoll: indexing 37%");
    assert.equal(statusView({ ...indexing, crew: { running: true } }).text, "$(sync~spin) atoll: crew running");
  });

  it("shows a loading model and copes with sections not there yet", () => {
    assert.equal(statusView({ completion: { ready: false } }).text, "$(loading~spin) atoll: loading model");
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
});
