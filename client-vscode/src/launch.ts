// Which command starts the server, and what to do when it dies. Pure: unit-tested.

import * as path from "path";

export interface LaunchCommand {
  command: string;
  args: string[];
  /** Where the command came from, for the error message. */
  origin: string;
}

export interface LaunchInputs {
  serverCommand: unknown;
  python: unknown;
  workspaceFolders: string[];
  extensionPath: string;
  platform: string;
  exists: (file: string) => boolean;
}

function venvPython(root: string, platform: string): string {
  return platform === "win32"
    ? path.join(root, ".venv", "Scripts", "python.exe")
    : path.join(root, ".venv", "bin", "python");
}

/**
 * `atoll.serverCommand` if set; else `atoll.python -m atoll.cli serve`; else the first
 * `.venv` found in a workspace folder or in the repository the extension was built in;
 * else `atoll serve` from PATH.
 */
export function resolveLaunch(inputs: LaunchInputs): LaunchCommand {
  const custom = inputs.serverCommand;
  if (Array.isArray(custom) && custom.length > 0 && custom.every((part) => typeof part === "string")) {
    const [command, ...args] = custom as string[];
    return { command, args, origin: "the setting atoll.serverCommand" };
  }
  const serve = ["-m", "atoll.cli", "serve"];
  if (typeof inputs.python === "string" && inputs.python.trim() !== "") {
    return { command: inputs.python.trim(), args: serve, origin: "the setting atoll.python" };
  }
  const candidates = [
    ...inputs.workspaceFolders.map((folder) => venvPython(folder, inputs.platform)),
    venvPython(path.dirname(inputs.extensionPath), inputs.platform),
  ];
  for (const candidate of candidates) {
    if (inputs.exists(candidate)) {
      return { command: candidate, args: serve, origin: "the default interpreter (.venv)" };
    }
  }
  return { command: "atoll", args: ["serve"], origin: "PATH (no .venv found)" };
}

/** A command line as the user could paste it into a shell. */
export function displayCommand(launch: LaunchCommand): string {
  return [launch.command, ...launch.args].map((part) => (/[\s"'$]/.test(part) ? JSON.stringify(part) : part)).join(" ");
}

/** The one error shown when the server cannot start or keeps dying. */
export function startFailureMessage(launch: LaunchCommand, reason: string): string {
  return (
    `atoll: the language server did not start: ${reason}. ` +
    `Tried \`${displayCommand(launch)}\` (from ${launch.origin}). ` +
    "Set atoll.python to an interpreter with atoll installed (run `make setup` in the atoll " +
    "repository), or atoll.serverCommand to a full command; the atoll output channel has the details."
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
