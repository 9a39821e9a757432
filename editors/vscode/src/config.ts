// Pure functions of the extension (no `vscode` import), unit-tested with
// node's test runner: which executable to start, and the settings passed
// to the server.

import * as path from "path";

/** The settings this extension contributes, as read from the workspace. */
export interface Settings {
  path?: string;
  select?: string[] | null;
  extendSelect?: string[];
  ignore?: string[];
  uwsgiVersion?: string;
  config?: string;
  noContext?: boolean;
  memoryLimit?: string;
  debounceMs?: number;
}

/** The command that starts the server: the configured path, else `uwsgi-lint` on PATH. */
export function serverCommand(
  settings: Settings,
  workspaceRoot?: string,
): { command: string; args: string[] } {
  let command = (settings.path ?? "").trim();
  if (command === "") {
    command = "uwsgi-lint";
  } else if (command.startsWith("~/") && process.env.HOME) {
    command = path.join(process.env.HOME, command.slice(2));
  } else if (!path.isAbsolute(command) && command.includes("/") && workspaceRoot) {
    // `./bin/uwsgi-lint`: relative to the workspace, not to VS Code's cwd.
    command = path.join(workspaceRoot, command);
  }
  return { command, args: ["lsp"] };
}

/**
 * The server's `initializationOptions` (and `didChangeConfiguration`
 * settings): only what is set, so the configuration files decide the rest.
 */
export function serverOptions(settings: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const list = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.trim() !== "") : undefined;
  const select = list(settings.select);
  if (select !== undefined && settings.select !== null) {
    out.select = select;
  }
  for (const key of ["extendSelect", "ignore"] as const) {
    const v = list(settings[key]);
    if (v && v.length > 0) {
      out[key] = v;
    }
  }
  for (const key of ["uwsgiVersion", "config", "memoryLimit"] as const) {
    const v = settings[key];
    if (typeof v === "string" && v.trim() !== "") {
      out[key] = v.trim();
    }
  }
  if (settings.noContext === true) {
    out.noContext = true;
  }
  if (typeof settings.debounceMs === "number" && settings.debounceMs >= 0) {
    out.debounceMs = Math.round(settings.debounceMs);
  }
  return out;
}

/**
 * The documents the server sees: uWSGI configs, and the files around them
 * whose unsaved edits change a config's findings (Compose, Kubernetes and
 * ECS files, Dockerfiles, Nginx configs, uWSGI YAML).
 */
export function documentSelector(): { scheme: string; language?: string; pattern?: string }[] {
  return [
    { scheme: "file", language: "uwsgi-ini" },
    { scheme: "file", language: "ini" },
    { scheme: "file", language: "yaml" },
    { scheme: "file", language: "json" },
    { scheme: "file", language: "dockerfile" },
    { scheme: "file", pattern: "**/*.conf" },
    { scheme: "file", pattern: "**/nginx*" },
    { scheme: "file", pattern: "**/*.template" },
  ];
}

/** Files whose changes on disk the server is told about. */
export const watchedFiles =
  "**/{*.ini,*.yml,*.yaml,*.json,*.conf,*.toml,*.txt,*.template,Dockerfile*,Containerfile*,*.Dockerfile}";

/**
 * Is this an ini file for uWSGI, whatever its name? It has a `[uwsgi]`
 * section (the server decides the same way), so an `app.ini` of Django's is
 * left alone.
 */
export function looksLikeUwsgiIni(fileName: string, text: string): boolean {
  return fileName.endsWith(".ini") && /^[ \t]*\[[ \t]*uwsgi[ \t]*\]/im.test(text);
}
