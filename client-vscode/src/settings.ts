// Editor settings -> the server's settings tree. Pure: no `vscode` import, so it is unit-tested.

/** One `contributes.configuration.properties` entry of package.json (the parts we check). */
export interface SettingSchema {
  type: string | string[];
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  items?: { type: string };
  /** VS Code's scope: "machine" settings are read from the user's settings only. */
  scope?: string;
}

/** Settings the client itself uses; they never go to the server. */
export const CLIENT_ONLY = ["serverCommand", "python", "trace.server"];

/** Changing one of these restarts the server instead of forwarding the change. */
export const RESTART_KEYS = ["atoll.serverCommand", "atoll.python", "atoll.models.gguf"];

/** What `WorkspaceConfiguration.inspect` says about one `atoll.<key>` (the parts we use). */
export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** `atoll.<key>` -> where it is set (undefined: nowhere). */
export type Inspector = (key: string) => Inspected | undefined;

export interface ServerSettings {
  /** The user's own settings (user/global scope): nested, snake_case. */
  settings: Record<string, unknown>;
  /** Settings from the workspace or its folder: same shape, untrusted by the server. */
  workspaceSettings: Record<string, unknown>;
  /** Human messages for values that were rejected (their defaults are used). */
  problems: string[];
}

/** `completion.maxTokens` -> `completion.max_tokens`, the server's dotted key. */
export function serverKey(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** The `atoll.*` properties package.json contributes, keyed without the `atoll.` prefix. */
export function contributedSettings(manifest: unknown): Map<string, SettingSchema> {
  const props = (manifest as { contributes?: { configuration?: { properties?: Record<string, SettingSchema> } } })
    ?.contributes?.configuration?.properties ?? {};
  const out = new Map<string, SettingSchema>();
  for (const [name, schema] of Object.entries(props)) {
    if (name.startsWith("atoll.")) {
      out.set(name.slice("atoll.".length), schema);
    }
  }
  return out;
}

/** Why `value` does not fit `schema`, or undefined when it does. */
export function invalidReason(value: unknown, schema: SettingSchema): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const fits = types.some((type) => matchesType(value, type));
  if (!fits) {
    return `expected ${types.join(" or ")}, got ${JSON.stringify(value)}`;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    return `expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(value)}`;
  }
  if (schema.minimum !== undefined && typeof value === "number" && value < schema.minimum) {
    return `expected at least ${schema.minimum}, got ${value}`;
  }
  if (schema.items && Array.isArray(value) && !value.every((v) => matchesType(v, schema.items!.type))) {
    return `expected a list of ${schema.items.type}s`;
  }
  return undefined;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "null":
      return value === null;
    default:
      return typeof value === type;
  }
}

/**
 * The settings to send the server, split by where they were set: the user's own settings,
 * and those from the workspace (its `.vscode/settings.json` or a folder's), which anyone who
 * clones a repository can write. Only settings that are set are sent, so the server's own
 * layers (e.g. the workspace's atoll.toml) still apply. Invalid values are reported and
 * left out, so the server uses its default.
 */
export function serverSettings(inspect: Inspector, schemas: Map<string, SettingSchema>): ServerSettings {
  const out: ServerSettings = { settings: {}, workspaceSettings: {}, problems: [] };
  for (const [key, schema] of schemas) {
    if (CLIENT_ONLY.includes(key)) {
      continue;
    }
    const seen = inspect(key);
    const scopes: [Record<string, unknown>, unknown, string][] = [
      [out.settings, seen?.globalValue, "user settings"],
      [out.workspaceSettings, seen?.workspaceFolderValue ?? seen?.workspaceValue, "workspace settings"],
    ];
    for (const [tree, value, where] of scopes) {
      if (value === undefined || value === null) {
        continue;
      }
      const reason = invalidReason(value, schema);
      if (reason) {
        out.problems.push(`atoll.${key} (${where}): ${reason}; using the default ${JSON.stringify(schema.default)}`);
        continue;
      }
      setPath(tree, serverKey(key).split("."), value);
    }
  }
  return out;
}

/**
 * `initializationOptions` and the `settings` of `workspace/didChangeConfiguration`: the user's
 * settings at the top level, the workspace's under `workspaceSettings`, and whether the
 * folder is trusted (the server refuses machine-scope keys from the workspace and turns
 * Delegate off in an untrusted folder).
 */
export function settingsPayload(settings: ServerSettings, workspaceTrusted: boolean): Record<string, unknown> {
  return { ...settings.settings, workspaceSettings: settings.workspaceSettings, workspaceTrusted };
}

function setPath(tree: Record<string, unknown>, path: string[], value: unknown): void {
  let node = tree;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null) {
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** Whether a configuration change needs a server restart (`affects` answers for a section). */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(key));
}
