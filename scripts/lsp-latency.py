#!/usr/bin/env python3
"""Measure how long `uwsgi-lint lsp` takes to re-lint after an edit.

Opens a generated uWSGI ini of N lines (default 2,000) in a temporary project,
then repeats: send an edit (`didChange`), send a hover (which makes the server
analyse the new text before answering) and time the round trip. Prints the
median, p99 and max in milliseconds. This is a measurement, not a test: it
asserts nothing (the budget is checked by whoever reads the figures, or by a
bench harness).

Usage:
    python3 scripts/lsp-latency.py [--bin target/release/uwsgi-lint] [--lines 2000] [--runs 200]
"""

import argparse
import json
import os
import subprocess
import tempfile
import time


def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read(proc):
    length = 0
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the server exited")
        line = line.strip()
        if not line:
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))


def generate(lines):
    out = ["[uwsgi]", "master = true", "processes = 4", "socket = 127.0.0.1:3031"]
    i = 0
    while len(out) < lines:
        i += 1
        # Real configs of this size are mostly env, routes and mounts, with
        # few findings (each finding is also a diagnostic to send).
        out.append("; block %d" % i)
        out.append("env = APP_SETTING_%d=value-%d" % (i, i))
        out.append("route = ^/legacy/%d/ redirect:/v2/%d/" % (i, i))
        out.append("static-map = /static/%d=/srv/static/%d" % (i, i))
    return "\n".join(out[:lines]) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/uwsgi-lint")
    ap.add_argument("--lines", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="uwsgi-lint-latency-")
    ini = os.path.join(root, "uwsgi.ini")
    text = generate(args.lines)
    with open(ini, "w") as f:
        f.write(text)
    uri = "file://" + ini
    proc = subprocess.Popen(
        [os.path.abspath(args.bin), "lsp"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    ids = iter(range(1, 1 << 30))

    def request(method, params):
        i = next(ids)
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": i, "method": method, "params": params}))
        proc.stdin.flush()
        while True:
            m = read(proc)
            if m.get("id") == i and "method" not in m:
                return m

    def notify(method, params):
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": method, "params": params}))
        proc.stdin.flush()

    request("initialize", {"processId": None, "rootUri": "file://" + root, "capabilities": {}})
    notify("initialized", {})
    notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "uwsgi", "version": 1, "text": text}})
    hover = {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 2}}
    request("textDocument/hover", hover)
    times = []
    for n in range(args.runs):
        edit = {"range": {"start": {"line": 2, "character": 12}, "end": {"line": 2, "character": 13}},
                "text": str(2 + n % 7)}
        start = time.perf_counter()
        notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": n + 2}, "contentChanges": [edit]})
        request("textDocument/hover", hover)
        times.append((time.perf_counter() - start) * 1000)
    request("shutdown", None)
    notify("exit", None)
    proc.wait()
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print("%d-line ini, %d edits: median %.2f ms, p99 %.2f ms, max %.2f ms"
          % (args.lines, args.runs, p(0.5), p(0.99), times[-1]))


if __name__ == "__main__":
    main()
