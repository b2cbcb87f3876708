// The "Delegate to AI crew" command's request and its answer for the user. Pure: unit-tested.

export const DELEGATE_COMMAND = "atoll.delegate";

/** `workspace/executeCommand` arguments: the task text, trimmed; undefined for an empty task. */
export function delegateArguments(task: string | undefined): unknown[] | undefined {
  const text = task?.trim();
  return text ? [text] : undefined;
}

/** One line for the user from whatever the server answered. */
export function delegateMessage(result: unknown): string {
  if (typeof result === "string" && result.trim()) {
    return `atoll: ${result.trim()}`;
  }
  if (typeof result === "object" && result !== null) {
    const fields = result as Record<string, unknown>;
    for (const key of ["message", "summary", "status"]) {
      const value = fields[key];
      if (typeof value === "string" && value.trim()) {
        return `atoll: ${value.trim()}`;
      }
    }
    if (typeof fields.run_id === "string") {
      return `atoll: the crew started run ${fields.run_id}`;
    }
  }
  return "atoll: the task was handed to the AI crew; progress appears in the atoll output channel.";
}

/** Code actions without the crew's (for an untrusted folder, where Delegate is off). */
export function withoutDelegate<T extends { command?: unknown }>(actions: T[] | undefined): T[] | undefined {
  return actions?.filter((action) => {
    const command = action.command;
    const id = typeof command === "string" ? command : (command as { command?: unknown } | undefined)?.command;
    return id !== DELEGATE_COMMAND;
  });
}
