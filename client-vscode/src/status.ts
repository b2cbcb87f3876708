// The status bar's text from the server's `atoll.status` answer. Pure: unit-tested.

export interface StatusView {
  text: string;
  tooltip: string;
}

interface IndexSection {
  state?: string;
  done?: number;
  total?: number;
  files?: number;
  error?: string;
}

interface CompletionSection {
  enabled?: boolean;
  ready?: boolean;
  model?: string;
  error?: string;
}

interface CrewSection {
  running?: boolean | number;
  role?: string | null;
}

interface SandboxSection {
  available?: boolean;
  mode?: string;
  message?: string;
}

interface TrustSection {
  trusted?: boolean;
}

function section<T>(status: Record<string, unknown>, name: string): T | undefined {
  const value = status[name];
  return typeof value === "object" && value !== null ? (value as T) : undefined;
}

function modelLine(completion: CompletionSection | undefined): string | undefined {
  if (!completion) {
    return undefined;
  }
  if (completion.enabled === false) {
    return "model: completion off";
  }
  if (completion.error) {
    return `model: unavailable (${completion.error})`;
  }
  return completion.ready ? `model: ${completion.model ?? "ready"}` : "model: loading";
}

function indexLine(index: IndexSection | undefined): string | undefined {
  if (!index?.state) {
    return undefined;
  }
  const count = index.total ? ` (${index.done ?? 0}/${index.total} files)` : index.files ? ` (${index.files} files)` : "";
  return `index: ${index.state}${count}${index.error ? `: ${index.error}` : ""}`;
}

/** The sandbox as a short status-bar part and a tooltip line. */
function sandboxParts(sandbox: SandboxSection | undefined): { part?: string; line?: string } {
  if (!sandbox?.mode) {
    return {};
  }
  const line = `sandbox: ${sandbox.mode}${sandbox.message ? ` — ${sandbox.message}` : ""}`;
  if (sandbox.mode === "unsandboxed") {
    return { part: "$(unlock) unsandboxed", line };
  }
  if (sandbox.mode === "off") {
    return { part: "$(circle-slash) commands off", line };
  }
  return sandbox.available ? { part: "$(lock) sandbox", line } : { part: "$(warning) no sandbox", line };
}

/** The state that matters most, as the status bar's main text. */
function headline(
  completion: CompletionSection | undefined,
  index: IndexSection | undefined,
  crew: CrewSection | undefined,
): string {
  if (crew?.running) {
    return `$(sync~spin) atoll: crew running${crew.role ? ` (${crew.role})` : ""}`;
  }
  if (index?.state === "indexing") {
    const percent = index.total ? Math.floor((100 * (index.done ?? 0)) / index.total) : 0;
    return `$(sync~spin) atoll: indexing ${percent}%`;
  }
  if (completion?.enabled !== false && completion?.error) {
    return "$(warning) atoll: no model";
  }
  if (completion && completion.enabled !== false && !completion.ready) {
    return "$(loading~spin) atoll: loading model";
  }
  if (completion?.ready) {
    return `$(check) atoll: ${completion.model ?? "ready"}`;
  }
  return "$(check) atoll";
}

/** Crew running > indexing n% > model loading > ready, then the sandbox and the folder's trust. */
export function statusView(status: unknown): StatusView {
  if (typeof status !== "object" || status === null) {
    return { text: "$(circle-slash) atoll", tooltip: "atoll: no status from the server" };
  }
  const all = status as Record<string, unknown>;
  const index = section<IndexSection>(all, "index");
  const completion = section<CompletionSection>(all, "completion");
  const crew = section<CrewSection>(all, "crew");
  const trust = section<TrustSection>(all, "trust");
  const sandbox = sandboxParts(section<SandboxSection>(all, "sandbox"));
  const parts = [headline(completion, index, crew)];
  if (index?.state && index.state !== "indexing") {
    parts.push(`index ${index.state}`);
  }
  if (trust?.trusted === false) {
    parts.push("$(shield) restricted");
  } else if (sandbox.part) {
    parts.push(sandbox.part);
  }
  const details = [
    modelLine(completion),
    indexLine(index),
    sandbox.line,
    trust ? (trust.trusted ? "workspace: trusted" : "workspace: not trusted (Delegate is off; grant trust to use it)") : undefined,
    crew ? (crew.running ? "crew: running" : "crew: idle") : undefined,
  ].filter((line): line is string => line !== undefined);
  const tooltip = ["atoll (click for the output channel)", ...details].join("\n");
  return { text: parts.join(" · "), tooltip };
}

export const STOPPED: StatusView = {
  text: "$(error) atoll: stopped",
  tooltip: "The atoll language server is not running (click for the output channel)",
};
