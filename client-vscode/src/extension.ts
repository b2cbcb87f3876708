// The VS Code side of atoll: find and start `atoll serve`, pass settings, show status,
// delegate tasks. Logic lives in the pure modules next to this one; this file only wires
// them to VS Code.

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
import { delegateArguments, delegateMessage, DELEGATE_COMMAND, withoutDelegate } from "./delegate";
import { onInterpreterChanged, selectedInterpreter } from "./interpreter";
import {
  chooseLaunch,
  CrashPolicy,
  launchCandidates,
  LaunchCommand,
  noServerMessage,
  PYTHON_EXTENSION_ORIGIN,
  startFailureMessage,
} from "./launch";
import { makeProbe, pathDirs } from "./probe";
import { contributedSettings, needsRestart, serverSettings, settingsPayload } from "./settings";
import { STOPPED, statusView } from "./status";

const STATUS_POLL_MS = 3000;

class AtollClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private launch: LaunchCommand | undefined;
  private startedAt = 0;
  private reported = false;
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

  private firstFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  /** The settings payload for the server; invalid values are reported once, in one warning. */
  private payload(): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration("atoll", this.firstFolder()?.uri);
    const result = serverSettings((key) => config.inspect(key), contributedSettings(this.context.extension.packageJSON));
    for (const problem of result.problems) {
      this.output.appendLine(`[settings] ${problem}`);
    }
    if (result.problems.length > 0) {
      void vscode.window.showWarningMessage(`atoll: invalid settings, using defaults: ${result.problems.join("; ")}`);
    }
    return settingsPayload(result, vscode.workspace.isTrusted);
  }

  /** The first way to start the server that works, or undefined after one actionable message. */
  private async findServer(): Promise<LaunchCommand | undefined> {
    const config = vscode.workspace.getConfiguration("atoll");
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath);
    // The server command is machine scope: a cloned repository's settings never choose it.
    const dirs = pathDirs(process.env.PATH, process.platform);
    const trusted = vscode.workspace.isTrusted;
    const candidates = launchCandidates({
      serverCommand: config.inspect("serverCommand")?.globalValue,
      python: config.inspect("python")?.globalValue,
      // An untrusted folder's own interpreters are code from that folder: not run.
      selectedInterpreter: trusted ? await selectedInterpreter(this.firstFolder()?.uri) : undefined,
      workspaceFolders: trusted ? folders : [],
      pathDirs: dirs,
      platform: process.platform,
    });
    const { launch, rejected } = await chooseLaunch(candidates, makeProbe(dirs, process.platform, process.env));
    for (const { launch: tried, reason } of rejected) {
      this.output.appendLine(`[client] not using ${tried.command} (${tried.origin}): ${reason}`);
    }
    if (!launch) {
      this.report(noServerMessage(rejected));
    }
    return launch;
  }

  async start(): Promise<void> {
    this.reported = false;
    this.launch = await this.findServer();
    if (!this.launch) {
      return;
    }
    const launch = this.launch;
    const folder = this.firstFolder()?.uri.fsPath;
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      transport: TransportKind.stdio,
      options: { cwd: folder, env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }],
      initializationOptions: this.payload(),
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      middleware: {
        // Delegate is off in an untrusted folder, whatever the server offers.
        provideCodeActions: async (document, range, context, token, next) => {
          const actions = await next(document, range, context, token);
          return vscode.workspace.isTrusted ? actions : withoutDelegate(actions ?? undefined);
        },
      },
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
    this.output.appendLine(`[client] starting ${[launch.command, ...launch.args].join(" ")} (from ${launch.origin})`);
    try {
      await client.start();
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
      return;
    }
    await this.pollStatus();
  }

  private fail(reason: string): void {
    if (this.launch) {
      this.report(startFailureMessage(this.launch, reason));
    }
  }

  /** One actionable error per start attempt, never a loop of pop-ups. */
  private report(message: string): void {
    this.show(STOPPED);
    if (this.reported) {
      return;
    }
    this.reported = true;
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

  async restart(why?: string): Promise<void> {
    if (why) {
      this.output.appendLine(`[client] ${why}; restarting the server`);
    }
    await this.stop();
    await this.start();
  }

  async onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration("atoll")) {
      return;
    }
    if (needsRestart((key) => event.affectsConfiguration(key)) || !this.running()) {
      await this.restart("settings changed");
      return;
    }
    await this.client!.sendNotification(DidChangeConfigurationNotification.type, { settings: this.payload() });
  }

  /** A new interpreter selection matters only when it is what started the server (or nothing did). */
  async onInterpreterChanged(): Promise<void> {
    if (!this.launch || this.launch.origin === PYTHON_EXTENSION_ORIGIN) {
      await this.restart("the selected Python interpreter changed");
    }
  }

  private running(): boolean {
    return this.client !== undefined && this.client.state === State.Running;
  }

  async delegate(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        "atoll: Delegate to AI crew is off in an untrusted folder (the crew runs commands). Trust the folder to use it.",
      );
      return;
    }
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
      this.output.appendLine(`[crew] ${delegateMessage(result)}`);
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
  const instance = new AtollClient(context);
  atoll = instance;
  context.subscriptions.push(
    instance,
    vscode.commands.registerCommand("atoll.delegateTask", () => instance.delegate()),
    vscode.commands.registerCommand("atoll.showOutput", () => instance.showOutput()),
    vscode.commands.registerCommand("atoll.restart", () => instance.restart("restart requested")),
    vscode.workspace.onDidChangeConfiguration((event) => instance.onConfigurationChanged(event)),
    // Trusting the folder changes what the server may do (Delegate, workspace settings).
    vscode.workspace.onDidGrantWorkspaceTrust(() => instance.restart("the folder is now trusted")),
  );
  const interpreterWatch = await onInterpreterChanged(() => void instance.onInterpreterChanged());
  if (interpreterWatch) {
    context.subscriptions.push(interpreterWatch);
  }
  await instance.start();
}

export async function deactivate(): Promise<void> {
  await atoll?.stop();
  atoll = undefined;
}
