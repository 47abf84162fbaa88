"""Every command the README shows runs as written, against the installed `pullkey`.

Each fenced block of README.md carries a marker comment on the line before it:

- ``<!-- readme-test: run ... -->``: a ``sh`` block runs line by line, from the repository root as the
  README says ("from the clone"), each command in ``bash -euo pipefail`` after the block's ``.`` and
  ``export`` lines; a ``python`` block runs with the installed interpreter in the "Use it"
  environment;
- ``<!-- readme-test: config ... -->``: a ``yaml`` pullkey configuration, loaded by ``pullkey check``;
- ``<!-- readme-test: skip (reason) -->``: ``make demo`` / ``make test`` (the build itself: running
  them here would rebuild the extension under the test run); the demo is checked instead to run
  the "Use it" commands with the same ``HOME``. Any other skipped block is sample ``text`` output or
  names the test that runs its commands against the real services they need (``pullkey probe``
  needs registries: ``tests/e2e/test_probe.py``).

A block without a marker fails the test, so a new example cannot escape it. The only substitutions,
each asserted to apply (a stale one fails):

- paths under ``/etc/kubernetes/`` and ``/etc/pullkey/`` move to a temporary directory (the test does
  not write to ``/etc``), where the config example's sources are created; in "Install it on a node",
  ``/var/lib/kubelet`` moves there too, holding the sample node credentials (``examples/node/``) as a
  configured node does;
- ``pullkey serve`` gets ``--listen unix://<tmp>/pullkey.sock`` (the default socket of root,
  ``/run/pullkey/pullkey.sock``, is shared by every checkout on the machine), runs in the background,
  answers a gRPC health check and is stopped with SIGTERM;
- ``. .venv/bin/activate`` activates the environment running the tests when that is not the
  repository's ``.venv``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(
    r"<!-- readme-test: (?P<kind>run|config|skip)\b(?P<note>.*?)-->\s*\n```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.S
)
FENCE = re.compile(r"^```\w+$", re.M)
DIGEST_PLACEHOLDER = re.compile(r"@sha256:\.\.\.")
SERVE_TIMEOUT_S = 30


@dataclass(frozen=True)
class Block:
    kind: str
    lang: str
    body: str
    line: int
    note: str = ""

    @property
    def commands(self) -> list[str]:
        """Shell commands: continuation lines joined, blank lines dropped, comments kept (bash ignores them)."""
        out: list[str] = []
        pending = ""
        for raw in self.body.splitlines():
            line = pending + raw.strip() if pending else raw.strip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            if line:
                out.append(line)
        assert not pending, f"README line {self.line}: dangling line continuation"
        return out


def _blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(m["kind"], m["lang"], m["body"], text.count("\n", 0, m.start()) + 1, m["note"])
        for m in MARKER.finditer(text)
    ]


def _block(kind: str, lang: str, first_command: str) -> Block:
    found = [b for b in _blocks() if b.kind == kind and b.lang == lang and first_command in b.body]
    assert len(found) == 1, f"README: expected one `{lang}` block marked {kind} with {first_command!r}"
    return found[0]


def _use_it() -> Block:
    return _block("run", "sh", "pullkey --config examples/pullkey.yaml < examples/request.json")


def _setup_lines(block: Block) -> list[str]:
    """The lines that set up the shell for the commands after them (`. activate`, `export`)."""
    return [c for c in block.commands if c.startswith((". ", "export "))]


def _activate_line(line: str) -> str:
    """The README's `. .venv/bin/activate`, or the running environment's when that is another one."""
    if line.split("#")[0].strip() == ". .venv/bin/activate" and Path(sys.prefix).resolve() != (ROOT / ".venv"):
        return f". {shlex.quote(str(Path(sys.prefix) / 'bin' / 'activate'))}"
    return line


def _env(tmp: Path) -> dict[str, str]:
    """A clean environment: a temporary HOME (the README's own `export HOME=...` replaces it) and
    runtime dir, nothing of the developer's pullkey settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLKEY_")}
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(tmp), PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    return env


def _substitute_root_paths(
    command: str, tmp: Path, prefixes: tuple[str, ...] = ("/etc/kubernetes/", "/etc/pullkey/")
) -> str:
    for prefix in prefixes:
        command = command.replace(prefix, f"{tmp}{prefix}")
    return command


def _run(setup: list[str], command: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    script = "\n".join([*(_activate_line(s) for s in setup), command])
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"README command failed ({result.returncode}): {command}\n{result.stderr}"
    return result


def test_every_block_is_marked() -> None:
    text = README.read_text()
    fences = FENCE.findall(text)
    blocks = _blocks()
    assert len(blocks) == len(fences), "every code block of README.md needs a <!-- readme-test: ... --> marker"
    skipped = [b for b in blocks if b.kind == "skip"]
    assert [c.split("#")[0].split() for c in skipped[0].commands] == [["make", "demo"], ["make", "test"]]
    for block in skipped[1:]:
        # Any other skipped block is sample output, or names the test that runs its commands for real.
        covered = re.findall(r"tests/[\w/]+\.py", block.note)
        assert block.lang == "text" or covered, f"README block at line {block.line}: say which test runs it"
        assert all((ROOT / path).is_file() for path in covered), covered


def test_no_placeholders() -> None:
    """A `...` where a value belongs would not run (the `parse` example once had `sha256:...`)."""
    for block in _blocks():
        assert not DIGEST_PLACEHOLDER.search(block.body), f"README line {block.line}: placeholder digest"


@pytest.fixture
def kubelet_config(tmp_path: Path) -> Iterator[Path]:
    """Runs the "Install it on a node" block; yields the kubelet config it wrote (under tmp_path)."""
    block = _block("run", "sh", "pullkey kubelet-config --root-dir /var/lib/kubelet")
    (tmp_path / "etc" / "kubernetes").mkdir(parents=True)
    # A node with credentials where the kubelet looks first: <root-dir>/config.json.
    root_dir = tmp_path / "var" / "lib" / "kubelet"
    root_dir.mkdir(parents=True)
    (root_dir / "config.json").write_bytes((ROOT / "examples" / "node" / "config.json").read_bytes())
    for command in block.commands:
        moved = _substitute_root_paths(command, tmp_path, ("/etc/kubernetes/", "/var/lib/kubelet"))
        assert moved != command, f"README line {block.line}: no root path left to substitute in {command!r}"
        _run(_setup_lines(_use_it())[:1], moved, tmp_path)
    written = tmp_path / "etc" / "kubernetes" / "credential-providers.yaml"
    assert "CredentialProviderConfig" in written.read_text()
    yield written


def test_install_on_a_node(kubelet_config: Path) -> None:
    assert "pullkey" in kubelet_config.read_text()


def _serve(setup: list[str], command: str, tmp: Path) -> None:
    """Start `pullkey serve` on a socket of its own, wait for a SERVING health answer, stop it."""
    sock_dir = tmp / "run"
    sock_dir.mkdir(mode=0o700)
    sock = sock_dir / "pullkey.sock"
    command = command.split("#")[0].strip() + f" --listen unix://{sock}"
    script = "\n".join([*(_activate_line(s) for s in setup), f"exec {command}"])
    log = (tmp / "serve.log").open("w+")
    proc = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=_env(tmp), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            if sock.exists():
                with grpc.insecure_channel(f"unix://{sock}") as channel:
                    try:
                        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
                        break
                    except grpc.RpcError:
                        pass
            time.sleep(0.1)
        log.seek(0)
        assert status is not None, f"`{command}` did not answer a health check:\n{log.read()}"
        assert status.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout=SERVE_TIMEOUT_S)
        log.seek(0)
        output = log.read()
        log.close()
    assert returncode == 0, f"`{command}` exited {returncode} on SIGTERM:\n{output}"


def test_use_it(kubelet_config: Path, tmp_path: Path) -> None:
    block = _use_it()
    setup = _setup_lines(block)
    assert any(s.startswith("export HOME=") for s in setup), "the README sets HOME as make demo does"
    outputs: dict[str, str] = {}
    for command in block.commands:
        if command in setup:
            continue
        if command.startswith("pullkey serve"):
            _serve(setup, command, tmp_path)
            outputs["serve"] = "ok"
            continue
        moved = _substitute_root_paths(command, tmp_path)
        outputs[command.split()[1]] = _run(setup, moved, tmp_path).stdout
    assert set(outputs) == {"--config", "explain", "parse", "check", "kubelet-config", "serve"}
    response = json.loads(outputs["--config"])
    assert response["kind"] == "CredentialProviderResponse"
    assert response["auth"], "the sample credentials match the sample request"
    parsed = [json.loads(line) for line in outputs["parse"].splitlines()]
    assert [p["valid"] for p in parsed] == [True, True, True]
    assert "check: ok" in outputs["check"]


def test_config_example(tmp_path: Path) -> None:
    """The configuration example is a valid config: with its sources created, `pullkey check` passes."""
    block = _block("config", "yaml", "kind: ProviderConfig")
    config = _substitute_root_paths(block.body, tmp_path)
    assert config.count(str(tmp_path)) == 3, "the example's three /etc/pullkey sources"
    etc = tmp_path / "etc" / "pullkey"
    (etc / "secrets.d").mkdir(parents=True)
    (etc / "secrets.yaml").write_text("apiVersion: v1\nkind: List\nitems: []\n")
    (etc / "extra.json").write_text('{"auths": {}}\n')
    (tmp_path / "pullkey.yaml").write_text(config)
    out = _run(_setup_lines(_use_it()), f"pullkey check --config {tmp_path / 'pullkey.yaml'}", tmp_path).stdout
    assert "check: ok" in out


def test_python_example(tmp_path: Path) -> None:
    block = _block("run", "python", "import pullkey")
    home = next(s for s in _setup_lines(_use_it()) if s.startswith("export HOME="))
    env = _env(tmp_path)
    env["HOME"] = home.split("#")[0].split("=", 1)[1].strip().replace("$PWD", str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", block.body], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_demo_runs_the_use_it_commands() -> None:
    """`make demo` shows (and runs) commands of the "Use it" block, with the HOME the README sets."""
    recipe = re.search(r"^demo:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe is not None
    lines = recipe[1].replace("\\\n", " ").splitlines()
    shown = [m[1].replace("$$", "$") for line in lines if (m := re.search(r"@echo '\$\$ (.*)'", line))]
    assert shown, "make demo echoes the commands it runs"
    use_it = [" ".join(c.split("#")[0].split()) for c in _use_it().commands]
    for command in shown:
        assert " ".join(command.split("#")[0].split()) in use_it, f"make demo shows {command!r}, not in the README"
    runs = [line for line in lines if "@echo" not in line]
    homes = {m[1] for line in runs if (m := re.search(r"\bHOME=(\S+)", line))}
    assert homes == {"$(CURDIR)/examples/home"}
    assert "export HOME=$PWD/examples/home" in use_it


def test_layout_names_every_module() -> None:
    """The README's layout section names every module of the core and the package (a new one cannot
    slip in unmentioned)."""
    text = README.read_text()
    layout = text[text.index("## Layout") :]
    layout = layout[: layout.find("\n## ", 5)] if "\n## " in layout[5:] else layout
    rust = ROOT / "rust"
    names = {p.stem for p in rust.glob("*.rs") if p.stem not in ("lib",)}
    names |= {p.name for p in rust.iterdir() if p.is_dir()}
    names |= {p.stem for p in (rust / "py").glob("*.rs") if p.stem != "mod"}
    pkg = ROOT / "python" / "pullkey"
    names |= {p.name for p in pkg.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    names |= {p.name for p in pkg.iterdir() if p.is_dir() and p.name != "__pycache__"}
    names |= {p.stem for p in (pkg / "server").glob("*.py") if not p.name.startswith("__")}
    missing = sorted(n for n in names if n not in layout)
    assert not missing, f"README.md '## Layout' does not name: {missing}"
