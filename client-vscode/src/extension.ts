// The VS Code side of atoll: start `atoll serve`, pass settings, show status, delegate tasks.
// Logic lives in the pure modules next to this one; this file only wires them to VS Code.

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { delegateArguments, delegateMessage, DELEGATE_COMMAND } from "./delegate";
import { CrashPolicy, LaunchCommand, resolveLaunch, startFailureMessage } from "./launch";
import { contributedSettings, needsRestart, serverSettings, ServerSettings } from "./settings";
import { STOPPED, statusView } from "./status";

const STATUS_POLL_MS = 3000;

class AtollClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private launch: LaunchCommand | undefined;
  private startedAt = 0;
  private reported = false;
  private sentSettings: Record<string, unknown> = {};
  private readonly policy = new CrashPolicy();
  private readonly output = vscode.window.createOutputChannel("atoll", { log: true });
  private readonly statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.statusItem.command = "atoll.showOutput";
    this.show(STOPPED);
    this.statusItem.show();
    this.timer = setInterval(() => void this.pollStatus(), STATUS_POLL_MS);
  }

  private settings(): ServerSettings {
    const config = vscode.workspace.getConfiguration("atoll");
    const read = (key: string): unknown => {
      const seen = config.inspect(key);
      return seen?.workspaceFolderValue ?? seen?.workspaceValue ?? seen?.globalValue;
    };
    const result = serverSettings(read, contributedSettings(this.context.extension.packageJSON));
    for (const problem of result.problems) {
      this.output.appendLine(`[settings] ${problem}`);
    }
    if (result.problems.length > 0) {
      void vscode.window.showWarningMessage(`atoll: invalid settings, using defaults: ${result.problems.join("; ")}`);
    }
    return result;
  }

  async start(): Promise<void> {
    const config = vscode.workspace.getConfiguration("atoll");
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath);
    const launch = resolveLaunch({
      serverCommand: config.get("serverCommand"),
      python: config.get("python"),
      workspaceFolders: folders,
      extensionPath: this.context.extensionPath,
      platform: process.platform,
      exists: (file) => fs.existsSync(file),
    });
    this.launch = launch;
    this.reported = false;
    if (path.isAbsolute(launch.command) && !fs.existsSync(launch.command)) {
      this.fail(`${launch.command} does not exist`);
      return;
    }
    const { settings } = this.settings();
    this.sentSettings = settings;
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      transport: TransportKind.stdio,
      options: { cwd: folders[0], env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }],
      initializationOptions: settings,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          if (this.policy.onClosed(this.startedAt, Date.now()) === "restart") {
            this.output.appendLine("[client] the server stopped; restarting it");
            this.startedAt = Date.now();
            return { action: CloseAction.Restart, handled: true };
          }
          this.fail("it exited right after starting, or kept crashing");
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new LanguageClient("atoll", "atoll", serverOptions, clientOptions);
    // Inline completion is a proposed feature up to vscode-languageclient 10.0.0.
    client.registerProposedFeatures();
    this.client = client;
    this.startedAt = Date.now();
    this.output.appendLine(`[client] starting ${[launch.command, ...launch.args].join(" ")}`);
    try {
      await client.start();
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
      return;
    }
    await this.pollStatus();
  }

  /** One actionable error per start attempt, never a loop of pop-ups. */
  private fail(reason: string): void {
    this.show(STOPPED);
    if (this.reported || !this.launch) {
      return;
    }
    this.reported = true;
    const message = startFailureMessage(this.launch, reason);
    this.output.appendLine(`[client] ${message}`);
    void vscode.window.showErrorMessage(message, "Open Settings", "Show Output").then((choice) => {
      if (choice === "Open Settings") {
        void vscode.commands.executeCommand("workbench.action.openSettings", "atoll.");
      } else if (choice === "Show Output") {
        this.output.show();
      }
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) {
      await client.stop().catch(() => undefined);
    }
    this.show(STOPPED);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration("atoll")) {
      return;
    }
    const { settings } = this.settings();
    // The server keeps a setting it was sent until told otherwise: an emptied settings
    // tree cannot say "back to the default", so that case restarts too.
    const emptied = Object.keys(settings).length === 0 && Object.keys(this.sentSettings).length > 0;
    if (needsRestart((key) => event.affectsConfiguration(key)) || emptied || !this.running()) {
      this.output.appendLine("[client] settings changed; restarting the server");
      await this.restart();
      return;
    }
    this.sentSettings = settings;
    await this.client!.sendNotification(DidChangeConfigurationNotification.type, { settings: { atoll: settings } });
  }

  private running(): boolean {
    return this.client !== undefined && this.client.state === State.Running;
  }

  async delegate(): Promise<void> {
    const task = await vscode.window.showInputBox({
      title: "atoll: Delegate to AI crew",
      prompt: "Describe the task for the crew (Architect → Coder → Reviewer → Tester).",
      placeHolder: "e.g. Add a CSV export to inventory/report.py, with tests",
      ignoreFocusOut: true,
    });
    const args = delegateArguments(task);
    if (!args) {
      return;
    }
    if (!this.running()) {
      void vscode.window.showErrorMessage("atoll: the language server is not running; see the atoll output channel.");
      return;
    }
    try {
      const result: unknown = await this.client!.sendRequest(ExecuteCommandRequest.type, {
        command: DELEGATE_COMMAND,
        arguments: args,
      });
      void vscode.window.showInformationMessage(delegateMessage(result));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(`atoll: the crew could not take the task: ${reason}`);
    }
  }

  private async pollStatus(): Promise<void> {
    if (!this.running()) {
      this.show(STOPPED);
      return;
    }
    try {
      const status: unknown = await this.client!.sendRequest(ExecuteCommandRequest.type, {
        command: "atoll.status",
        arguments: [],
      });
      this.show(statusView(status));
    } catch {
      this.show(STOPPED);
    }
  }

  private show(view: { text: string; tooltip: string }): void {
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
  }

  showOutput(): void {
    this.output.show();
  }

  dispose(): void {
    clearInterval(this.timer);
    void this.stop();
    this.statusItem.dispose();
    this.output.dispose();
  }
}

let atoll: AtollClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  atoll = new AtollClient(context);
  context.subscriptions.push(
    atoll,
    vscode.commands.registerCommand("atoll.delegateTask", () => atoll?.delegate()),
    vscode.commands.registerCommand("atoll.showOutput", () => atoll?.showOutput()),
    vscode.commands.registerCommand("atoll.restart", () => atoll?.restart()),
    vscode.workspace.onDidChangeConfiguration((event) => atoll?.onConfigurationChanged(event)),
  );
  await atoll.start();
}

export async function deactivate(): Promise<void> {
  await atoll?.stop();
  atoll = undefined;
}
