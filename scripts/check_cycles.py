#!/usr/bin/env python3
"""Fails when a module imports itself through others, in the Rust crate or the Python package.

- Rust: the crate's top-level modules (`rust/<name>.rs`, `rust/<name>/`), an edge for every
  `crate::<name>` path outside tests; then, inside each directory module, its files, an edge for every
  `super::<item>` that names a sibling file or an item defined there.
- Python: the modules of `python/pullkey` (generated `v1/` apart), an edge for every `pullkey.*`
  import, at module level or inside a function (a lazy import is still a dependency), except imports
  under `if TYPE_CHECKING:` and imports of a module's own parent packages (always loaded first).

`make lint` runs it; `-v` prints the graphs.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
Graph = dict[str, set[str]]


def find_cycles(graph: Graph) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def _rust_code(path: Path) -> str:
    text = re.sub(r"//.*", "", path.read_text())
    return text.split("#[cfg(test)]")[0]


def rust_graphs(root: Path) -> dict[str, Graph]:
    top: Graph = {}
    for path in root.rglob("*.rs"):
        rel = path.relative_to(root).parts
        if rel[-1] == "tests.rs" or rel == ("lib.rs",) or "tests" in rel[:-1] or "target" in rel:
            continue
        module = rel[0].removesuffix(".rs")
        deps = {m for m in re.findall(r"crate::(\w+)", _rust_code(path)) if m != module}
        top.setdefault(module, set()).update("error" if d == "CoreError" else d for d in deps)
    graphs = {"rust": top}
    for directory in sorted(p for p in root.rglob("*") if p.is_dir() and p != root):
        files = [f for f in directory.glob("*.rs") if f.name not in ("mod.rs", "tests.rs")]
        if len(files) < 2:
            continue
        items = {
            f.stem: set(
                re.findall(
                    r"^(?:pub(?:\([^)]*\))? )?(?:fn|struct|enum|const|type|static|trait) (\w+)",
                    f.read_text(),
                    re.M,
                )
            )
            for f in files
        }
        graph: Graph = {}
        for f in files:
            names = set(re.findall(r"super::(\w+)", _rust_code(f)))
            for block in re.findall(r"use super::\{([^;]*)\};", _rust_code(f)):
                names |= set(re.findall(r"\w+", block))
            graph[f.stem] = {o for o, defs in items.items() if o != f.stem and (o in names or names & defs)}
        graphs[f"rust/{directory.relative_to(root)}"] = graph
    return graphs


def python_graph(package: Path) -> Graph:
    modules: dict[str, Path] = {}
    for path in package.rglob("*.py"):
        rel = path.relative_to(package.parent).with_suffix("")
        if "v1" in rel.parts:
            continue
        name = ".".join(rel.parts).removesuffix(".__init__")
        modules[name] = path
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        base_pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        skipped = {
            id(child)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for child in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = base_pkg.split(".")[: len(base_pkg.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def main() -> int:
    verbose = "-v" in sys.argv[1:]
    graphs = {**rust_graphs(ROOT / "rust"), "python": python_graph(ROOT / "python" / "pullkey")}
    failed = False
    for label, graph in graphs.items():
        if verbose:
            for node in sorted(graph):
                print(f"{label}: {node} -> {', '.join(sorted(graph[node])) or '-'}")
        for cycle in find_cycles(graph):
            print(f"{label}: import cycle: {' -> '.join(cycle)}")
            failed = True
    if not failed:
        print(f"no import cycle ({', '.join(graphs)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
