#!/usr/bin/env python3
"""The MSRV as far as this CI can check it without a 1.85 toolchain: every package in Cargo.lock that
declares a rust-version must declare one no newer than the workspace's own, so a 1.85 toolchain can
build the locked tree. (clippy's incompatible_msrv lint, on by default, covers our own use of std.)
Reads `cargo metadata` on stdin."""
import json
import sys


def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
if len(ours) != 1 or None in ours:
    sys.exit(f"the workspace's crates must share one rust-version, not {sorted(map(str, ours))}")
msrv = version(ours.pop())
newer = sorted(
    f'{p["name"]} {p["version"]} needs rust {p["rust_version"]}'
    for p in meta["packages"]
    if p["id"] not in members and p.get("rust_version") and version(p["rust_version"]) > msrv
)
if newer:
    sys.exit("dependencies newer than the MSRV " + ".".join(map(str, msrv)) + ":\n  " + "\n  ".join(newer))
print(f"{len(meta['packages'])} packages, none needs a rust newer than " + ".".join(map(str, msrv)))
