// Whether a launch candidate can start the server, checked before starting it: a missing
// command would otherwise give two error pop-ups (the language client's and ours).
// Node only (no `vscode` import), so it is unit-tested with real files and processes.

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LaunchCommand, Probe, SERVE } from "./launch";

const PROBE_TIMEOUT_MS = 20_000;
// Finds the package without importing the CLI (which imports every command module).
const HAS_ATOLL = [
  "import importlib.util, sys",
  "try:\n    found = importlib.util.find_spec('atoll.cli') is not None\nexcept ImportError:\n    found = False",
  "sys.exit(0 if found else 3)",
].join("\n");

function isExecutableFile(file: string, platform: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (platform !== "win32") {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

/** `name` looked up in `pathDirs` the way a shell would, or undefined. */
export function whichIn(name: string, pathDirs: string[], platform: string): string | undefined {
  const names = platform === "win32" && !name.toLowerCase().endsWith(".exe") ? [`${name}.exe`, name] : [name];
  for (const dir of pathDirs) {
    for (const candidate of names) {
      const full = path.join(dir, candidate);
      if (dir && isExecutableFile(full, platform)) {
        return full;
      }
    }
  }
  return undefined;
}

function runPython(python: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(python, ["-c", HAS_ATOLL], { timeout: PROBE_TIMEOUT_MS, env }, (error, _stdout, stderr) => {
      if (!error) {
        resolve(undefined);
      } else if (typeof error.code === "number" && error.code === 3) {
        resolve("has no atoll installed");
      } else {
        const detail = String(stderr).trim().split("\n").pop() || error.message;
        resolve(`could not run (${detail})`);
      }
    });
  });
}

/**
 * A probe for this machine: an interpreter must exist and have atoll installed; a command
 * must exist (an absolute path, or a name on PATH).
 */
export function makeProbe(pathDirs: string[], platform: string, env: NodeJS.ProcessEnv): Probe {
  return async (launch: LaunchCommand) => {
    const command = path.isAbsolute(launch.command) ? launch.command : whichIn(launch.command, pathDirs, platform);
    if (command === undefined) {
      return "was not found on PATH";
    }
    if (!isExecutableFile(command, platform)) {
      return fs.existsSync(command) ? "is not an executable file" : "does not exist";
    }
    const isPython = launch.args.length >= SERVE.length && SERVE.every((part, i) => launch.args[i] === part);
    return isPython ? runPython(command, env) : undefined;
  };
}

/** The directories of a PATH value. */
export function pathDirs(value: string | undefined, platform: string): string[] {
  return (value ?? "").split(platform === "win32" ? ";" : ":").filter((dir) => dir !== "");
}
