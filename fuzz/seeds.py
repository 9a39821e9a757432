#!/usr/bin/env python3
"""Build the fuzzers' seed directories (fuzz/corpus/<target>/) from the test
fixtures and ../shared/corpus. The seeds are generated, not kept in git:
run this before `cargo fuzz run` (see fuzz/README.md)."""

import hashlib
import os
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
SOURCES = [ROOT / "tests" / "fixtures", ROOT / "tests" / "data", ROOT.parent / "shared" / "corpus",
           ROOT / "examples"]
SEP = b"\n%%%%\n"
MAX = 64 * 1024

# containers target: selector byte → layout (same order as containers.rs)
COMPOSE, K8S, ECS, DOCKERFILE, TERRAFORM, CFN, HELM, SUPERVISORD, SCRIPT, COPILOT, CONFIGMAP = range(11)

QUANTITIES = [
    "512m", "1g", "1.5Gi", "100Mi", "250m", "1e3", "0.5", "2G", "4GB", "1024", "1k", "10M", "1h 30m",
    "30s", "1d", "500ms", "max", "9223372036854775807", "-1", "0x10", "  42  ", "1_000", "+3", ".5",
    "1.5E+2Ki", "127.0.0.1:8000", ":8000", "unix:/run/app.sock", "/run/app.sock", "http://app:8000",
    "[::1]:80", "1m30s", "2", "NaN", "inf", "A=1,B=\"x, y\"", "uwsgi --ini app.ini --processes 4",
    "{address space usage: 123 bytes/0MB} {rss usage: 456 bytes/0MB} [pid: 7|app: 0|req: 1/1]",
    "https://example.com/rules", "512MiB", "1GiB",
]


def files():
    for src in SOURCES:
        if not src.is_dir():
            continue
        for p in sorted(src.rglob("*")):
            if p.is_file() and not p.is_symlink() and p.stat().st_size <= MAX:
                yield p


def text(p):
    try:
        return p.read_bytes()
    except OSError:
        return b""


def put(target, data):
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def container_kind(p, t):
    n = p.name
    if n == "Dockerfile" or n.startswith("Dockerfile.") or n.endswith((".Dockerfile", ".dockerfile")):
        return DOCKERFILE
    if n.endswith(".tf"):
        return TERRAFORM
    if n.endswith((".sh", ".bash")) or t.startswith(b"#!/bin/sh") or t.startswith(b"#!/bin/bash"):
        return SCRIPT
    if b"[program:" in t or b"[supervisord]" in t:
        return SUPERVISORD
    if n.endswith(".json") and b"containerDefinitions" in t:
        return ECS
    if n.endswith((".yml", ".yaml", ".template", ".json")):
        if b"AWS::ECS::TaskDefinition" in t:
            return CFN
        if b"{{" in t:
            return HELM
        if b"kind: ConfigMap" in t:
            return CONFIGMAP
        if b"apiVersion:" in t:
            return K8S
        if b"services:" in t:
            return COMPOSE
        if b"type: Load Balanced Web Service" in t or b"type: Backend Service" in t:
            return COPILOT
    return None


def main():
    checks = {}
    for p in files():
        t = text(p)
        n = p.name
        if n.endswith(".ini") or b"[uwsgi]" in t:
            put("uwsgi", b"\x00" + t)
            checks.setdefault(p.parent, {})["ini"] = t
        if n.endswith((".yml", ".yaml")) and b"uwsgi:" in t and b"apiVersion" not in t:
            put("uwsgi", b"\x10" + t)
        if n.endswith(".conf") and (b"server" in t or b"location" in t or b"http" in t):
            put("nginx", t)
            checks.setdefault(p.parent, {})["nginx"] = t
        if n.endswith(".toml"):
            put("values", (b"\x01" if n == "pyproject.toml" else b"\x00") + t)
        k = container_kind(p, t)
        if k is not None:
            put("containers", bytes([k]) + t)
            if k == COMPOSE:
                checks.setdefault(p.parent, {})["compose"] = t
            if k == DOCKERFILE:
                checks.setdefault(p.parent, {})["dockerfile"] = t
    for q in QUANTITIES:
        put("values", q.encode())
    put("values", b"\x00[rules]\nselect = [\"UW1\"]\nignore = [\"UW101\"]\n[memory]\nworker-rss = \"120MiB\"\n")
    # The settings examples of the docs.
    import re
    for md in sorted(list((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]):
        for block in re.findall(r"```toml\n(.*?)```", md.read_text(errors="replace"), re.S):
            put("values", (b"\x01" if "[tool." in block else b"\x00") + block.encode())
    for parts in checks.values():
        if "ini" in parts:
            put("check", SEP.join(parts.get(k, b"") for k in ("ini", "nginx", "compose", "dockerfile")))
    for d in sorted((FUZZ / "corpus").iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
