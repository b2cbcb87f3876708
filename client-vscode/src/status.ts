// The status bar's text from the server's `atoll.status` answer. Pure: unit-tested.

export interface StatusView {
  text: string;
  tooltip: string;
}

interface IndexSection {
  state?: string;
  done?: number;
  total?: number;
}

interface CompletionSection {
  ready?: boolean;
  model?: string;
}

interface CrewSection {
  running?: boolean | number;
}

function section<T>(status: Record<string, unknown>, name: string): T | undefined {
  const value = status[name];
  return typeof value === "object" && value !== null ? (value as T) : undefined;
}

/** Crew running > indexing n% > model loading > ready: the most important state wins. */
export function statusView(status: unknown): StatusView {
  if (typeof status !== "object" || status === null) {
    return { text: "$(circle-slash) atoll", tooltip: "atoll: no status from the server" };
  }
  const all = status as Record<string, unknown>;
  const index = section<IndexSection>(all, "index");
  const completion = section<CompletionSection>(all, "completion");
  const crew = section<CrewSection>(all, "crew");
  const details: string[] = [];
  if (completion) {
    details.push(completion.ready ? `model: ${completion.model ?? "ready"}` : "model: loading");
  }
  if (index?.state) {
    details.push(`index: ${index.state}${index.total ? ` (${index.done ?? 0}/${index.total} files)` : ""}`);
  }
  if (crew) {
    details.push(crew.running ? "crew: running" : "crew: idle");
  }
  const tooltip = ["atoll (click for the output channel)", ...details].join("\n");
  if (crew?.running) {
    return { text: "$(sync~spin) atoll: crew running", tooltip };
  }
  if (index?.state === "indexing") {
    const percent = index.total ? Math.floor((100 * (index.done ?? 0)) / index.total) : 0;
    return { text: `$(sync~spin) atoll: indexing ${percent}%`, tooltip };
  }
  if (completion && !completion.ready) {
    return { text: "$(loading~spin) atoll: loading model", tooltip };
  }
  if (completion?.ready) {
    return { text: `$(check) atoll: ${completion.model ?? "ready"}`, tooltip };
  }
  return { text: "$(check) atoll", tooltip };
}

export const STOPPED: StatusView = {
  text: "$(error) atoll: stopped",
  tooltip: "The atoll language server is not running (click for the output channel)",
};
