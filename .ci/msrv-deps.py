#!/usr/bin/env python3
"""The MSRV as far as this CI can check it without a toolchain of that version: every package the
workspace builds (on any target, for its libraries, build scripts and tests) that declares a
rust-version must declare one no newer than the workspace's own. (clippy's incompatible_msrv lint, on
by default, covers our own use of std.)

Usage: msrv-deps.py METADATA.json TREE.txt, where METADATA is `cargo metadata --format-version 1` and
TREE is `cargo tree --workspace --target all -e normal,build,dev --prefix none -f '{p}'`: the lock file
also holds packages that no enabled feature builds, and those do not count."""
import json
import sys


def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.load(open(sys.argv[1]))
built = set()
for line in open(sys.argv[2]):
    words = line.split()
    if len(words) >= 2 and words[1].startswith("v"):
        built.add((words[0], words[1][1:]))
members = set(meta["workspace_members"])
ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
if len(ours) != 1 or None in ours:
    sys.exit(f"the workspace's crates must share one rust-version, not {sorted(map(str, ours))}")
msrv = version(ours.pop())
packages = [p for p in meta["packages"] if (p["name"], p["version"]) in built]
if len(packages) < len(built):
    sys.exit(f"cargo tree names {len(built)} packages, cargo metadata only {len(packages)} of them")
newer = sorted(
    f'{p["name"]} {p["version"]} needs rust {p["rust_version"]}'
    for p in packages
    if p["id"] not in members and p.get("rust_version") and version(p["rust_version"]) > msrv
)
shown = ".".join(map(str, msrv))
if newer:
    sys.exit(f"dependencies newer than the MSRV {shown}:\n  " + "\n  ".join(newer))
print(f"{len(packages)} packages built, none needs a rust newer than {shown}")
