#!/usr/bin/env python3
"""Functions over FUNCTION_LINES_MAX lines, in the workspace's Rust sources (rustfmt's layout), unless a
comment right above says why in the words "Long by nature" (a dispatcher with one short arm per
subcommand, a state machine's one match, a table). Issue 36: rooms of one idea."""
import pathlib
import re
import sys

# "About 120 lines": a function this long holds more than one idea, or says why it does not.
FUNCTION_LINES_MAX = 130
REASON = "Long by nature"
FN = re.compile(r"^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")


def long_functions(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        indent = len(m.group(1))
        # A declaration without a body (a trait's) ends in ';' before any '{'.
        j = i
        while j < len(lines) and "{" not in lines[j] and not lines[j].rstrip().endswith(";"):
            j += 1
        if j >= len(lines) or "{" not in lines[j]:
            continue
        if lines[j].rstrip().endswith("}") and lines[j].count("{") == lines[j].count("}"):
            continue  # a body on one line
        end = j + 1
        while end < len(lines):
            l = lines[end]
            if l.startswith(" " * indent + "}") and len(l) - len(l.lstrip()) == indent:
                break
            end += 1
        length = end - i + 1
        if length <= FUNCTION_LINES_MAX:
            continue
        above = []
        k = i - 1
        while k >= 0 and lines[k].strip().startswith(("//", "#[")):
            above.append(lines[k])
            k -= 1
        if any(REASON in a for a in above):
            continue
        yield i + 1, m.group(7), length


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    found = []
    for path in sorted(root.glob("crates/*/src/**/*.rs")) + sorted(root.glob("tests/src/**/*.rs")):
        for line, name, length in long_functions(path):
            found.append(f"{path.relative_to(root)}:{line}: fn {name} is {length} lines")
    for f in found:
        print(f, file=sys.stderr)
    if found:
        print(
            f"functions over {FUNCTION_LINES_MAX} lines: split them, or say why above them "
            f"(\"{REASON}: ...\")",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
