#!/usr/bin/env python3
"""Regenerate data/uwsgi-options.tsv, the option catalogue uwsgi-lint embeds.

The catalogue is read from the option tables (`struct uwsgi_option x[] = {...}`)
of the uWSGI sdist published on PyPI, so that every name, alias, parser
function and flag comes from the same release the differential tests run.
It is also cross-checked against `uwsgi --help` of the pinned pyuwsgi wheel:
the column `in_build` says whether the option is compiled into that wheel
(core + python + gevent + the default embedded plugins).

Usage:
    python3 scripts/gen-options.py [--sdist DIR] [--uwsgi PATH] [--version 2.0.30]

Without --sdist it downloads `uwsgi==VERSION` from PyPI with pip into a
temporary directory. The script only reads C source as text; nothing is
compiled or executed except `uwsgi --help`.
"""

import argparse
import os
import re
import subprocess
import sys
import tarfile
import tempfile

TABLE_RE = re.compile(r"struct\s+uwsgi_option\s+(\w+)\s*\[\s*\]\s*=\s*\{")

# Parser functions whose value kind the linter models precisely (facts §3.1).
KINDS = {
    "uwsgi_opt_set_int": "int",
    "uwsgi_opt_set_64bit": "u64",
    "uwsgi_opt_set_16bit": "u16",
    "uwsgi_opt_set_megabytes": "megabytes",
    "uwsgi_opt_true": "flag",
    "uwsgi_opt_false": "flag-false",
    "uwsgi_opt_set_str": "string",
    "uwsgi_opt_set_null": "string",
}


def strip_comments(src):
    """Remove C comments but keep string literals and line structure."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i : j + 1])
            i = j + 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            seg = src[i : (n if j < 0 else j + 2)]
            out.append("\n" * seg.count("\n"))
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_top(body, sep=","):
    """Split at `sep` outside strings, parentheses and braces."""
    parts, depth, cur, i, n = [], 0, [], 0, len(body)
    while i < n:
        c = body[i]
        if c == '"':
            j = i + 1
            while j < n and body[j] != '"':
                j += 2 if body[j] == "\\" else 1
            cur.append(body[i : j + 1])
            i = j + 1
            continue
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def c_string(expr):
    """Concatenate adjacent C string literals; None if expr is not one."""
    lits = re.findall(r'"((?:[^"\\]|\\.)*)"', expr)
    if not lits or re.sub(r'"((?:[^"\\]|\\.)*)"', "", expr).strip():
        return None
    return "".join(lits).replace('\\"', '"').replace("\\n", " ").replace("\\t", " ")


def table_entries(src):
    """Yield (table_name, [fields]) for every option entry in the source."""
    for m in TABLE_RE.finditer(src):
        i, depth, start = m.end(), 1, m.end()
        # Find the matching close brace of the initializer.
        while i < len(src) and depth:
            c = src[i]
            if c == '"':
                i += 1
                while i < len(src) and src[i] != '"':
                    i += 2 if src[i] == "\\" else 1
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            i += 1
        body = src[start : i - 1]
        # Drop preprocessor lines: both branches of #ifdef are catalogued
        # (the option exists in some build), `in_build` tells the pinned one.
        body = "\n".join(l for l in body.split("\n") if not l.strip().startswith("#"))
        for item in split_top(body):
            item = item.strip()
            if not (item.startswith("{") and item.endswith("}")):
                continue
            fields = split_top(item[1:-1])
            if len(fields) >= 5:
                yield m.group(1), fields


def plugin_of(path):
    parts = path.split(os.sep)
    if "plugins" in parts:
        return parts[parts.index("plugins") + 1]
    return "core"


def help_names(uwsgi):
    out = subprocess.run([uwsgi, "--help"], capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        m = re.match(r"\s+(?:-\S\|)?--([A-Za-z0-9_.-]+)", line)
        if m:
            names.add(m.group(1))
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdist", help="unpacked uwsgi sdist directory")
    ap.add_argument("--uwsgi", help="uwsgi binary of the pinned pyuwsgi wheel")
    ap.add_argument("--version", default="2.0.30")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "uwsgi-options.tsv"))
    args = ap.parse_args()

    root = args.sdist
    if not root:
        tmp = tempfile.mkdtemp()
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        f"uwsgi=={args.version}", "-d", tmp], check=True)
        tgz = os.path.join(tmp, f"uwsgi-{args.version}.tar.gz")
        with tarfile.open(tgz) as t:
            t.extractall(tmp, filter="data")
        root = os.path.join(tmp, f"uwsgi-{args.version}")

    in_build = help_names(args.uwsgi) if args.uwsgi else set()
    rows, seen = [], set()
    for sub in ("core", "plugins"):
        for dirpath, _, files in sorted(os.walk(os.path.join(root, sub))):
            for f in sorted(files):
                if not f.endswith(".c"):
                    continue
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    src = strip_comments(fh.read())
                for _table, fields in table_entries(src):
                    name = c_string(fields[0])
                    if not name:
                        continue
                    plugin = plugin_of(os.path.relpath(path, root))
                    key = (name, plugin)
                    if key in seen:
                        continue
                    seen.add(key)
                    short = fields[2].strip()
                    short = short[1] if re.fullmatch(r"'.'", short) else ""
                    func = fields[4].strip()
                    flags = fields[6].strip() if len(fields) > 6 else "0"
                    flag_names = sorted(set(re.findall(r"UWSGI_OPT_([A-Z_]+)", flags)))
                    has_arg = fields[1].strip()
                    kind = KINDS.get(func)
                    if kind is None:
                        kind = "list" if re.match(r"uwsgi_opt_add_|uwsgi_opt_add\b", func) or "_add_" in func else "custom"
                    helptext = c_string(fields[3]) or ""
                    # The field an option writes: options sharing parser and
                    # target are aliases (processes/workers).
                    target = " ".join(fields[5].split()) if len(fields) > 5 else "NULL"
                    rows.append((name, short, plugin, func, kind, ",".join(flag_names) or "-", target,
                                 {"required_argument": "required", "no_argument": "none",
                                  "optional_argument": "optional"}.get(has_arg, has_arg),
                                 "1" if name in in_build else ("?" if not in_build else "0"),
                                 " ".join(helptext.split()).replace("\t", " ")))

    missing = sorted(in_build - {r[0] for r in rows})
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(f"# uWSGI {args.version} option catalogue, generated by scripts/gen-options.py from the PyPI sdist.\n")
        out.write("# Do not edit by hand: rerun the script. Columns are tab-separated.\n")
        out.write("name\tshort\tplugin\tparser\tkind\tflags\ttarget\targument\tin_build\thelp\n")
        for r in rows:
            out.write("\t".join(r) + "\n")
    print(f"{len(rows)} options written to {args.out}", file=sys.stderr)
    if missing:
        print(f"in --help but not found in tables: {missing}", file=sys.stderr)


if __name__ == "__main__":
    main()
