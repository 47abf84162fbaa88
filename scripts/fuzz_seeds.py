#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/seeds/<target>/) from the repository's tests.

Sources: every string literal of the Rust sources (their test tables) and of the Python tests
(read with `ast`, so exactly the strings the tests use), the fixture files under tests/fixtures/
and examples/. Each literal goes to the targets whose input it looks like; pairs of literals
written side by side (`("pattern", "target", ...)`) seed the two-part targets. The seeds are
regenerated on every run (fuzz/seeds/ is not checked in); what the fuzzer finds beyond them
lives in fuzz/corpus/.

Usage: scripts/fuzz_seeds.py [--out DIR]   (stdlib only)
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import itertools
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_SEED_BYTES = 64 * 1024
MAX_SEEDS = 4000

# A Rust string literal: raw (r"..", r#".."#, also b-prefixed) or escaped ("..", b"..").
RUST_LITERAL = re.compile(r'b?r(#*)"(.*?)"\1|b?"((?:[^"\\]|\\.)*)"', re.S)
RUST_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|\n\s*|.)", re.S)
SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}
DURATION = re.compile(r"^[-+]?[0-9.]+[a-zµμ]+([0-9.]+[a-zµμ]+)*$|^[-+]?[0-9.]*$")


def unescape_rust(body: str) -> str:
    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if e.startswith("u{"):
            return chr(int(e[2:-1], 16))
        if e.startswith("x"):
            return chr(int(e[1:], 16))
        if e.startswith("\n"):  # a line continuation
            return ""
        return SIMPLE_ESCAPES.get(e, e)

    return RUST_ESCAPE.sub(one, body)


def rust_literals(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The file's string literals, and the pairs of literals separated only by a comma."""
    text = path.read_text()
    found: list[tuple[int, int, str]] = []
    for m in RUST_LITERAL.finditer(text):
        if m.group(2) is not None:
            found.append((m.start(), m.end(), m.group(2)))
        else:
            found.append((m.start(), m.end(), unescape_rust(m.group(3))))
    pairs = [(a[2], b[2]) for a, b in itertools.pairwise(found) if text[a[1] : b[0]].strip() == ","]
    return [s for _, _, s in found], pairs


def python_literals(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    tree = ast.parse(path.read_text())
    strings: list[str] = []
    pairs: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        elif isinstance(node, ast.Tuple):
            values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            pairs.extend(itertools.pairwise(values))
    return strings, pairs


def one_line(s: str) -> bool:
    return 0 < len(s) <= 512 and "\n" not in s


def classify(s: str, origin: str) -> set[str]:
    """The targets a literal (from file `origin`) may seed."""
    targets: set[str] = set()
    head = s.lstrip()[:1]
    if "CredentialProviderRequest" in s or (origin == "protocol.rs" and head == "{"):
        targets.add("exec_request")
    if "CredentialProviderConfig" in s or "providers:" in s or '"providers"' in s:
        targets.add("kubelet_config")
    elif "ProviderConfig" in s or "sources:" in s or '"sources"' in s:
        targets.add("provider_config")
    if "kind" in s and ("Secret" in s or "List" in s):
        targets.add("secret_manifest")
    if head in ("{", "[") and ("auth" in s or origin == "dockercfg.rs"):
        targets.update({"docker_config", "secret_manifest"})
    if one_line(s) and " " not in s:
        if origin in ("reference.rs", "resolve.rs", "keyring.rs", "wire.rs") or origin.startswith("test"):
            targets.add("reference")
        if origin in ("url.rs", "keyring.rs", "hostglob.rs", "dockercfg.rs", "pconfig.rs"):
            targets.add("go_url")
        if origin in ("protocol.rs", "pconfig.rs") and DURATION.match(s) and any(c.isdigit() for c in s):
            targets.add("go_duration")
    return targets


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def batch(images: list[str]) -> bytes:
    """A `BatchGetCredentialsRequest` (field 1: repeated string images), plus an unknown field."""
    out = bytearray()
    for image in images:
        data = image.encode()
        out += b"\x0a" + varint(len(data)) + data
    return bytes(out + b"\x10\x01")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "fuzz" / "seeds")
    args = parser.parse_args()

    seeds: dict[str, list[bytes]] = {}

    def add(target: str, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if 0 < len(raw) <= MAX_SEED_BYTES:
            seeds.setdefault(target, []).append(raw)

    for path in sorted((ROOT / "rust").glob("**/*.rs")) + sorted((ROOT / "tests").glob("**/*.py")):
        strings, pairs = rust_literals(path) if path.suffix == ".rs" else python_literals(path)
        for s in strings:
            for target in classify(s, path.name):
                add(target, s)
        if path.name in ("hostglob.rs", "keyring.rs", "url.rs") or path.suffix == ".py":
            for pattern, target in pairs:
                if one_line(pattern) and one_line(target):
                    add("hostglob", f"{pattern}\n{target}")

    for path in sorted((ROOT / "tests" / "fixtures").glob("**/*")) + sorted((ROOT / "examples").glob("**/*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        data = path.read_bytes()
        text = data.decode(errors="replace")
        for target in classify(text, path.name) or {"docker_config"}:
            add(target, data)
        if path.name == "config.json":
            add("docker_config", data)

    # Two-part and derived targets.
    images = sorted(set(seeds.get("reference", [])), key=len)[:400]
    for i in range(0, len(images), 8):
        add("batch_request", batch([s.decode() for s in images[i : i + 8]]))
    add("batch_request", batch([]))
    configs = seeds.get("docker_config", [])
    probe = [b"registry.example.com/team/app", b"docker.io/library/busybox", b"localhost:5000/a/b"]
    for n, config in enumerate(configs):
        add("keyring", probe[n % len(probe)] + b"\n" + config)
        for key in re.findall(rb'"([a-z0-9.*:-]+(?:/[a-z0-9._/-]*)?)"\s*:\s*\{', config)[:3]:
            image = re.sub(rb"^\*\.", b"x.", key).replace(b"*", b"y")
            add("keyring", image + b"/app\n" + config)

    if args.out.exists():
        shutil.rmtree(args.out)
    for target, items in sorted(seeds.items()):
        unique = list(dict.fromkeys(items))[:MAX_SEEDS]
        directory = args.out / target
        directory.mkdir(parents=True)
        for item in unique:
            (directory / hashlib.sha1(item).hexdigest()).write_bytes(item)  # noqa: S324 (a file name)
        sys.stdout.write(f"{target:16} {len(unique):5} seeds\n")


if __name__ == "__main__":
    main()
