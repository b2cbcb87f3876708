// Which command starts the server, and what to do when it dies. Pure: unit-tested.

import * as path from "path";

export interface LaunchCommand {
  command: string;
  args: string[];
  /** Where the command came from, for messages ("the setting atoll.python", ...). */
  origin: string;
  /** True for a command the user chose: it is used or reported, never skipped. */
  explicit: boolean;
}

export interface LaunchInputs {
  /** `atoll.serverCommand` and `atoll.python` from the user's own settings only. */
  serverCommand: unknown;
  python: unknown;
  /** The interpreter the Python extension has selected for this workspace, if any. */
  selectedInterpreter: string | undefined;
  workspaceFolders: string[];
  /** The directories of the PATH variable, in order. */
  pathDirs: string[];
  platform: string;
}

/** A candidate and why it could not be used, for the one message shown when none works. */
export interface Rejected {
  launch: LaunchCommand;
  reason: string;
}

export const SERVE = ["-m", "atoll.cli", "serve"];
export const PYTHON_EXTENSION_ORIGIN = "the Python extension's selected interpreter";

function venvPython(root: string, platform: string): string {
  return platform === "win32"
    ? path.join(root, ".venv", "Scripts", "python.exe")
    : path.join(root, ".venv", "bin", "python");
}

function executableName(name: string, platform: string): string {
  return platform === "win32" ? `${name}.exe` : name;
}

/**
 * Every way to start the server, in the order they are tried:
 * `atoll.serverCommand`; `atoll.python -m atoll.cli serve`; the Python extension's selected
 * interpreter; each workspace folder's `.venv`; `atoll` on PATH. The first two are explicit:
 * when one is set, it is the only candidate (a broken setting is reported, not bypassed).
 */
export function launchCandidates(inputs: LaunchInputs): LaunchCommand[] {
  const custom = inputs.serverCommand;
  if (Array.isArray(custom) && custom.length > 0 && custom.every((part) => typeof part === "string" && part !== "")) {
    const [command, ...args] = custom as string[];
    return [{ command, args, origin: "the setting atoll.serverCommand", explicit: true }];
  }
  if (typeof inputs.python === "string" && inputs.python.trim() !== "") {
    return [{ command: inputs.python.trim(), args: SERVE, origin: "the setting atoll.python", explicit: true }];
  }
  const found: LaunchCommand[] = [];
  if (inputs.selectedInterpreter) {
    found.push({
      command: inputs.selectedInterpreter,
      args: SERVE,
      origin: PYTHON_EXTENSION_ORIGIN,
      explicit: false,
    });
  }
  for (const folder of inputs.workspaceFolders) {
    found.push({ command: venvPython(folder, inputs.platform), args: SERVE, origin: `the workspace's .venv`, explicit: false });
  }
  for (const dir of inputs.pathDirs) {
    if (dir) {
      found.push({ command: path.join(dir, executableName("atoll", inputs.platform)), args: ["serve"], origin: "PATH", explicit: false });
    }
  }
  // The same interpreter can be both selected and the workspace's .venv: try it once.
  const unique = new Map<string, LaunchCommand>();
  for (const launch of found) {
    if (!unique.has(launch.command)) {
      unique.set(launch.command, launch);
    }
  }
  return [...unique.values()];
}

/** Whether a candidate can start the server: undefined when it can, else why not. */
export type Probe = (launch: LaunchCommand) => Promise<string | undefined>;

/** The first candidate that passes `probe`, and every one rejected before it. */
export async function chooseLaunch(
  candidates: LaunchCommand[],
  probe: Probe,
): Promise<{ launch?: LaunchCommand; rejected: Rejected[] }> {
  const rejected: Rejected[] = [];
  for (const launch of candidates) {
    const reason = await probe(launch);
    if (reason === undefined) {
      return { launch, rejected };
    }
    rejected.push({ launch, reason });
  }
  return { rejected };
}

/** A command line as the user could paste it into a shell. */
export function displayCommand(launch: LaunchCommand): string {
  return [launch.command, ...launch.args].map((part) => (/[\s"'$]/.test(part) ? JSON.stringify(part) : part)).join(" ");
}

const FIX =
  "Install atoll (`make setup` in the atoll repository, or `pip install` it into an environment), then " +
  "set atoll.python to that environment's interpreter or atoll.serverCommand to a full command";

/** The one message shown when no candidate can start the server. */
export function noServerMessage(rejected: Rejected[]): string {
  const explicit = rejected.find((r) => r.launch.explicit);
  if (explicit) {
    return (
      `atoll: cannot start the language server from ${explicit.launch.origin}: ` +
      `\`${displayCommand(explicit.launch)}\` ${explicit.reason}. ${FIX}.`
    );
  }
  // PATH holds one candidate per directory: name the lookup, not every directory.
  const named = rejected.filter((r) => r.launch.origin !== "PATH").map((r) => `${r.launch.command} (${r.reason})`);
  const tried = [...named, "`atoll` on PATH (not found)"].join("; ");
  return `atoll: no atoll language server found. Tried: ${tried}. ${FIX}.`;
}

/** The one error shown when a server that was found cannot start or keeps dying. */
export function startFailureMessage(launch: LaunchCommand, reason: string): string {
  return (
    `atoll: the language server did not start: ${reason}. ` +
    `Tried \`${displayCommand(launch)}\` (from ${launch.origin}). ` +
    "Set atoll.python to an interpreter with atoll installed, or atoll.serverCommand to a full " +
    "command; the atoll output channel has the server's log."
  );
}

/**
 * Restart policy: a server that dies within `earlyMs` of starting is not restarted (it
 * would only die again: a crash loop); later crashes restart it at most `maxRestarts`
 * times per `windowMs`.
 */
export class CrashPolicy {
  private restarts: number[] = [];

  constructor(
    private readonly earlyMs = 10_000,
    private readonly maxRestarts = 3,
    private readonly windowMs = 180_000,
  ) {}

  /** Called when the server's connection closed; `startedAt`/`now` in ms. */
  onClosed(startedAt: number, now: number): "restart" | "stop" {
    if (now - startedAt < this.earlyMs) {
      return "stop";
    }
    this.restarts = this.restarts.filter((t) => now - t < this.windowMs);
    if (this.restarts.length >= this.maxRestarts) {
      return "stop";
    }
    this.restarts.push(now);
    return "restart";
  }
}
