#!/usr/bin/env python3
"""Check that every citation of the repository's docs resolves, and that none points outside it.

A citation is ``docs/<file>.md`` (or one of the docs' bare file names, e.g. ``kubelet.md``) followed
on the same line by section identifiers: ``docs/kubelet.md §c.2``, ``docs/kubelet.md §c, §d, §e.2
(7-9)``, ``docs/reference.md §2-§3``, ``docs/kubelet.md §e.2 step 7``. Every identifier must be a
heading of that file (``### §c.2 Glob matching ...``). A quoted section name right after the file
(``docs/architecture.md "Decisions"``) must be contained in one of its headings.

The script also fails on any remaining mention of reading material that is not in the repository
(``shared/``, ``spec/kubelet.md``, ``spec/reference.md``, ``spec/peers.md``, ``peers.md``,
``STYLE.md``, ``ARCHITECTURE.md``, ``HELPERS.md``).

Usage: ``python scripts/check_citations.py [--root DIR] [-v]``; exit status 1 on any failure.
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

SCAN = ("rust", "python", "tests", "bench", "docs", "protos", "examples", "scripts", "README.md")
SKIP_DIRS = {".git", ".venv", "target", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules"}
SKIP_SUFFIXES = (".so", ".pyd", ".pyc", ".png", ".jpg", ".gz", ".whl", ".lock")
DOC_NAMES = ("kubelet", "reference", "ecosystem", "architecture", "provider-config", "README")
BARE_DOC_NAMES = ("kubelet", "reference", "ecosystem", "architecture", "provider-config")

# `docs/kubelet.md`, or a bare `kubelet.md` that is not part of another path or name.
MENTION = re.compile(
    r"(?:(?<![\w./-])docs/(?P<path>[\w.-]+\.md))"
    r"|(?:(?<![\w./-])(?P<bare>(?:" + "|".join(re.escape(n) for n in BARE_DOC_NAMES) + r")\.md))"
)
SECTION = re.compile(r"§([0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)")
QUOTED = re.compile(r"""^[`'\])]*\s*\(?"([^"\n]+)\"""")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
HEADING_ID = re.compile(r"^§([0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)")
STALE = re.compile(
    r"shared/|spec/kubelet\.md|spec/reference\.md|spec/peers\.md|(?<![\w-])peers\.md|STYLE\.md|ARCHITECTURE\.md|HELPERS\.md"
)


def iter_files(root: str, this_file: str) -> list[str]:
    """The text files to scan, relative to ``root``, sorted."""
    out = []
    for entry in SCAN:
        top = os.path.join(root, entry)
        if os.path.isfile(top):
            out.append(entry)
            continue
        for directory, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in files:
                if name.endswith(SKIP_SUFFIXES):
                    continue
                path = os.path.relpath(os.path.join(directory, name), root)
                if os.path.abspath(os.path.join(root, path)) != this_file:
                    out.append(path)
    return sorted(out)


def read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


class Doc:
    """The headings of one docs file: section identifiers and lower-cased heading texts."""

    def __init__(self, text: str) -> None:
        self.ids: set[str] = set()
        self.titles: list[str] = []
        fenced = False
        for line in text.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            m = HEADING.match(line) if not fenced else None
            if m is None:
                continue
            title = m.group(1)
            self.titles.append(title.lower())
            ident = HEADING_ID.match(title)
            if ident:
                self.ids.add(ident.group(1))


def load_docs(root: str) -> dict[str, Doc]:
    docs = {}
    directory = os.path.join(root, "docs")
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith(".md"):
                text = read_text(os.path.join(directory, name))
                if text is not None:
                    docs[name] = Doc(text)
    return docs


def check_line(line: str, docs: dict[str, Doc]) -> tuple[list[str], int]:
    """Failures for one line, and how many section citations it holds."""
    failures = []
    count = 0
    mentions = list(MENTION.finditer(line))
    for i, m in enumerate(mentions):
        name = m.group("path") or m.group("bare")
        doc = docs.get(name)
        if doc is None:
            failures.append(f"docs/{name} does not exist")
            continue
        end = mentions[i + 1].start() if i + 1 < len(mentions) else len(line)
        segment = line[m.end() : end]
        for s in SECTION.finditer(segment):
            count += 1
            if s.group(1) not in doc.ids:
                failures.append(f"docs/{name} has no heading §{s.group(1)}")
        quoted = QUOTED.match(segment)
        if quoted and not SECTION.search(quoted.group(1)):
            count += 1
            wanted = quoted.group(1).lower()
            if not any(wanted in title for title in doc.titles):
                failures.append(f'docs/{name} has no heading containing "{quoted.group(1)}"')
    return failures, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("-v", "--verbose", action="store_true", help="list every file scanned")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    this_file = os.path.abspath(__file__)
    docs = load_docs(root)
    failures: list[str] = []
    citations = 0
    files = iter_files(root, this_file)
    for path in files:
        text = read_text(os.path.join(root, path))
        if text is None:
            continue
        if args.verbose:
            sys.stdout.write(f"scan {path}\n")
        for number, line in enumerate(text.splitlines(), 1):
            problems, count = check_line(line, docs)
            citations += count
            failures.extend(f"{path}:{number}: {p}" for p in problems)
            for stale in STALE.finditer(line):
                failures.append(f"{path}:{number}: cites {stale.group(0)!r}, which is not in the repository")
    for failure in failures:
        sys.stderr.write(failure + "\n")
    sys.stderr.flush()
    sys.stdout.write(
        f"{len(files)} files, {citations} section citations, {len(failures)} problem(s); "
        f"docs: {', '.join(sorted(docs)) or 'none'}\n"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
