#!/usr/bin/env python3
"""Fails on repository-relative links to files that do not exist (run by scripts/check-links.sh).

Looked at, in tracked files:
  * Markdown and DocC (*.md): every [text](target) / ![alt](target) whose target is not a URL,
    an anchor or a doc: link, resolved against the file's folder;
  * the same files and the comments of Swift files: path-like references that are
    repository-relative: starting with ../ or ./, or with a top-level folder of this repository
    (Sources/, Tests/, docs/, scripts/ ...), or naming a Markdown file (*.md). Such a path must
    exist relative to the file's folder or one of its ancestors up to the repository root (so
    `Support/Loopback.swift` in Tests/NiceICETests/Network/ is Tests/NiceICETests/Support/...,
    and a bare `dtls-jsonl.md` must exist somewhere in the repository).
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.chdir(ROOT)
files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout.split("\n")
files = [f for f in files if f and os.path.exists(f)]
top = sorted({f.split("/")[0] for f in files if "/" in f})
basenames = {os.path.basename(f) for f in files}
dirs = set()
for f in files:
    parts = f.split("/")
    for i in range(1, len(parts)):
        dirs.add("/".join(parts[:i]))

MD_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
PATH = re.compile(r"(?<![\w/:.@-])((?:\.\.?/)+[\w./-]*[\w/]|(?:" + "|".join(map(re.escape, top)) + r")/[\w./-]*[\w/]|[\w.-]+\.md)(?![\w/(<-])")


def ignored(target):
    """Build products, virtual environments, work folders: git ignores them (they need not exist)."""
    t = target.split("#")[0]
    return any(subprocess.run(["git", "check-ignore", "-q", "--no-index", c], stderr=subprocess.DEVNULL).returncode == 0 for c in (t, t.rstrip("/") + "/"))


def exists_from(folder, target):
    target = target.split("#")[0].rstrip("/")
    if not target:
        return True
    if target.startswith("/"):
        return False
    d = folder
    while True:
        p = os.path.normpath(os.path.join(d, target))
        if os.path.exists(p) and not p.startswith(".."):
            return True
        if d in ("", "."):
            break
        d = os.path.dirname(d)
    return False


def comment_lines(path, text):
    """(line number, text) of the lines to look at."""
    lines = text.split("\n")
    if path.endswith(".md"):
        return list(enumerate(lines, 1))
    out = []
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if path.endswith(".swift"):
            i = line.find("//")
            if i >= 0:
                out.append((n, line[i + 2:]))
            elif s.startswith("*") or s.startswith("/*"):
                out.append((n, s))
        elif path.endswith(".sh"):
            i = line.find("#")
            if i >= 0 and (i == 0 or line[i - 1] in " \t"):
                out.append((n, line[i + 1:]))
    return out


problems = []
for path in files:
    if not path.endswith((".md", ".swift")):
        continue
    folder = os.path.dirname(path)
    try:
        text = open(path, encoding="utf-8").read()
    except (UnicodeDecodeError, OSError):
        continue
    for n, line in comment_lines(path, text):
        targets = []
        if path.endswith(".md"):
            for m in MD_LINK.finditer(line):
                t = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", t) or t.startswith("#") or t.startswith("<"):
                    continue
                targets.append(t)
        for m in PATH.finditer(line):
            t = m.group(1)
            if "://" in line[max(0, m.start() - 80):m.start() + 3] and re.search(r"https?://\S*$", line[:m.start()]):
                continue  # part of a URL
            if t.endswith(".md") and "/" not in t:
                if t not in basenames:
                    problems.append(f"{path}:{n}: {t}: no such file in the repository")
                continue
            targets.append(t)
        for t in targets:
            if not exists_from(folder, t) and not ignored(t):
                problems.append(f"{path}:{n}: {t}: no such file or folder")

for p in sorted(set(problems)):
    print(p)
if problems:
    print(f"check-links: {len(set(problems))} link(s) to files that are not in the repository", file=sys.stderr)
    sys.exit(1)
print("check-links: every repository-relative link resolves")
