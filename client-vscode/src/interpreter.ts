// The interpreter the Python extension (ms-python.python) has selected, when it is installed.
// Its API is read from the extension's exports, the way the Python tools extension template
// does it; only the few members used here are typed.

import * as vscode from "vscode";

const PYTHON_EXTENSION = "ms-python.python";

interface ResolvedEnvironment {
  executable?: { uri?: vscode.Uri };
}

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string }): Promise<ResolvedEnvironment | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] };
  };
}

async function pythonApi(): Promise<PythonApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION);
  if (!extension) {
    return undefined;
  }
  try {
    return extension.isActive ? extension.exports : await extension.activate();
  } catch {
    return undefined;
  }
}

/** The selected interpreter's executable for `folder`, or undefined (no extension, none selected). */
export async function selectedInterpreter(folder: vscode.Uri | undefined): Promise<string | undefined> {
  const api = await pythonApi();
  try {
    const environments = api?.environments;
    if (environments) {
      const active = environments.getActiveEnvironmentPath(folder);
      const resolved = await environments.resolveEnvironment(active);
      return resolved?.executable?.uri?.fsPath ?? active.path;
    }
    return api?.settings?.getExecutionDetails?.(folder).execCommand?.[0];
  } catch {
    return undefined;
  }
}

/** Calls `listener` when the user selects another interpreter (no-op without the extension). */
export async function onInterpreterChanged(listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = await pythonApi();
  return api?.environments?.onDidChangeActiveEnvironmentPath?.(() => listener());
}
