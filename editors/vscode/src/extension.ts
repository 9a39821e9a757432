// Starts `uwsgi-lint lsp` and connects it to VS Code.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";
import {
  documentSelector,
  looksLikeUwsgiIni,
  serverCommand,
  serverOptions,
  Settings,
  watchedFiles,
} from "./config";

let client: LanguageClient | undefined;

function settings(): Settings {
  const c = vscode.workspace.getConfiguration("uwsgi-lint");
  return {
    path: c.get<string>("path"),
    select: c.get<string[] | null>("select"),
    extendSelect: c.get<string[]>("extendSelect"),
    ignore: c.get<string[]>("ignore"),
    uwsgiVersion: c.get<string>("uwsgiVersion"),
    config: c.get<string>("config"),
    noContext: c.get<boolean>("noContext"),
    memoryLimit: c.get<string>("memoryLimit"),
    debounceMs: c.get<number>("debounceMs"),
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const { command, args } = serverCommand(settings(), root);
  const server: ServerOptions = { command, args, options: { cwd: root } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    initializationOptions: serverOptions(settings()),
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher(watchedFiles),
    },
  };
  client = new LanguageClient("uwsgi-lint", "uwsgi-lint", server, clientOptions);
  context.subscriptions.push(client);
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(
      `uwsgi-lint: could not start \`${command} lsp\` (${e}). Install uwsgi-lint or set "uwsgi-lint.path".`,
    );
  }
}

/** Give an ini with a `[uwsgi]` section the uWSGI language, whatever its name. */
function adopt(doc: vscode.TextDocument): void {
  if (doc.languageId === "ini" && looksLikeUwsgiIni(doc.fileName, doc.getText())) {
    void vscode.languages.setTextDocumentLanguage(doc, "uwsgi-ini");
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  vscode.workspace.textDocuments.forEach(adopt);
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(adopt),
    vscode.commands.registerCommand("uwsgi-lint.showEffectiveConfig", async () => {
      const editor = vscode.window.activeTextEditor;
      if (!client || !editor) {
        return;
      }
      const text = await client.sendRequest<string>("workspace/executeCommand", {
        command: "uwsgi-lint.showEffectiveConfig",
        arguments: [editor.document.uri.toString()],
      });
      const doc = await vscode.workspace.openTextDocument({ content: text, language: "uwsgi-ini" });
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    }),
    vscode.commands.registerCommand("uwsgi-lint.restart", async () => {
      await client?.stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("uwsgi-lint")) {
        void client?.sendNotification("workspace/didChangeConfiguration", {
          settings: serverOptions(settings()),
        });
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
