import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "path";

import { documentSelector, looksLikeUwsgiIni, serverCommand, serverOptions } from "../src/config";

test("the server is uwsgi-lint on PATH unless a path is set", () => {
  assert.deepEqual(serverCommand({}), { command: "uwsgi-lint", args: ["lsp"] });
  assert.deepEqual(serverCommand({ path: "  " }), { command: "uwsgi-lint", args: ["lsp"] });
  assert.equal(serverCommand({ path: "/opt/bin/uwsgi-lint" }).command, "/opt/bin/uwsgi-lint");
  assert.equal(
    serverCommand({ path: "./bin/uwsgi-lint" }, "/work/project").command,
    path.join("/work/project", "bin/uwsgi-lint"),
  );
  // A bare name is looked up on PATH, not in the workspace.
  assert.equal(serverCommand({ path: "uwsgi-lint-dev" }, "/work/project").command, "uwsgi-lint-dev");
});

test("only the settings that are set reach the server", () => {
  assert.deepEqual(serverOptions({}), {});
  assert.deepEqual(
    serverOptions({
      select: null,
      extendSelect: [],
      ignore: ["UW601", ""],
      uwsgiVersion: " 2.0.21 ",
      config: "",
      noContext: false,
      memoryLimit: "512MiB",
      debounceMs: 20.4,
    }),
    { ignore: ["UW601"], uwsgiVersion: "2.0.21", memoryLimit: "512MiB", debounceMs: 20 },
  );
  // An explicit empty selection is kept: it means "no rules".
  assert.deepEqual(serverOptions({ select: [] }), { select: [] });
  assert.deepEqual(serverOptions({ noContext: true }), { noContext: true });
});

test("configs and the files around them are synchronised", () => {
  const selector = documentSelector();
  assert.ok(selector.some((s) => s.language === "uwsgi-ini"));
  for (const lang of ["yaml", "json", "dockerfile"]) {
    assert.ok(selector.some((s) => s.language === lang), lang);
  }
  assert.ok(selector.every((s) => s.scheme === "file"));
});

test("an ini with a [uwsgi] section is a uWSGI config, whatever its name", () => {
  assert.ok(looksLikeUwsgiIni("/srv/app.ini", "; app\n[uwsgi]\nmaster = true\n"));
  assert.ok(looksLikeUwsgiIni("/srv/app.ini", "[ uWSGI ]\n"));
  assert.ok(!looksLikeUwsgiIni("/srv/setup.ini", "[app]\ndebug = true\n"));
  assert.ok(!looksLikeUwsgiIni("/srv/notes.txt", "[uwsgi]\n"));
  // Only a section header counts, not the word in a value.
  assert.ok(!looksLikeUwsgiIni("/srv/tox.ini", "[tox]\ndeps = uwsgi\n"));
});
